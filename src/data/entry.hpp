// What a backup's manifest records for one data set: where it came from, where its stream
// is, and the evidence a restore is checked against (the stream's sha256 for every kind;
// each kind's own evidence below, filled and checked by its mover). backup/manifest
// stores a list of these as JSON.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace decamp::data {

struct DataEntry {
    std::string kind;      // the mover's kind: postgres | files
    std::string name;      // the mover's name: database name or files path
    std::string role;
    std::string host;      // the host it was read from
    std::string stream;    // file name of the stream inside its snapshot (no slash)
    std::string snapshot;  // restic snapshot id holding the stream
    uint64_t bytes = 0;    // stream size
    std::string sha256;    // of the stream
    double seconds = 0;    // time to read and store it
    // postgres
    std::string owner, encoding, collate, ctype;
    std::map<std::string, uint64_t> tables;       // "schema.table" → rows
    // files
    std::map<std::string, std::string> files;     // relative path → sha256
};

}  // namespace decamp::data
