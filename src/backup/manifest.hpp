// A backup's manifest: what was backed up, when, from where, and the evidence a restore is
// checked against (sha256 of every stream, row counts per table, sha256 of every file,
// software versions). Stored as JSON in the repository beside the data it describes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/entry.hpp"

namespace decamp::backup {

using data::DataEntry;  // one entry per data set, filled by its mover

struct Manifest {
    int format = 1;
    std::string id;        // decamp backup id, e.g. 20250101T120000Z-1a2b
    std::string project;
    std::string provider;  // where the data was read from
    double time = 0;       // unix seconds: when the data was read (the recovery point)
    double seconds = 0;    // how long the backup took
    std::map<std::string, std::string> software;  // decamp, restic, pg_dump, tar, …
    std::vector<DataEntry> data;

    uint64_t total_bytes() const;
    const DataEntry* find(const std::string& kind, const std::string& name) const;
};

std::string encode(const Manifest& m);
// Throws decamp::Error on malformed text or a missing field.
Manifest decode(const std::string& json);

// "20250101T120000Z-1a2b" for a time and 4 random hex digits; valid_id checks the shape
// (ids travel into restic tags and host paths, so they stay to [0-9A-Za-z-]).
std::string make_id(double unix_time, const std::string& suffix);
bool valid_id(const std::string& id);
std::string iso_time(double unix_time);  // 2025-01-01T12:00:00Z

}  // namespace decamp::backup
