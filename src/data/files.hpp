// The files mover's backup side (files_backup.cpp), declared for files.cpp and for the
// tests of its pure pieces: a tar stream of the tree whose every file is hashed on the way
// (data/tar_hash), a restore into a sibling directory checked file by file and then moved
// into place, and a drill's teardown.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "data/mover.hpp"

namespace decamp::data::files {

// The tree as a tar stream on stdout (numeric owners; tar exits 1 when a file changed
// while it was read, and the stream is still whole).
std::string archive_cmd(const std::string& path);
// "/srv/x.decamp-restore": where a restore stages the tree `path`.
std::string staging_path(const std::string& path);
// Empties `dir` and unpacks the tar stream on stdin into it.
std::string unpack_cmd(const std::string& dir);
// Puts the staged tree in the place of `path` (the old one removed only once replaced).
std::string swap_cmd(const std::string& path);
// Removes the tree and what a restore may have staged beside it.
std::string remove_cmd(const std::string& path);
// What differs between the manifest's file checksums and those found ("" = nothing), as a
// restore reports it: each difference named, at most five, then how many there are.
std::string files_diff(const std::map<std::string, std::string>& want, const std::map<std::string, std::string>& got);
// The same grouped, as `backup verify` reports it: "missing: a, b; content differs: c".
std::string compare_files(const std::map<std::string, std::string>& want, const std::map<std::string, std::string>& got);

// The manifest's evidence for the kind (owner, encoding, …, tables / files), and back.
void encode_evidence(const DataEntry& e, json::Value& v);
void decode_evidence(const json::Ref& v, DataEntry& e);

std::unique_ptr<BackupRead> backup_read(transport::Transport& t, const inventory::Host& host, const std::string& path);
std::unique_ptr<StagedRestore> stage(transport::Transport& t, const inventory::Host& host, const DataEntry& e);
std::unique_ptr<ScratchRestore> scratch(transport::Transport& local, const std::string& dir, const DataEntry& e);
std::string live_diff(transport::Transport& t, const DataEntry& e);
std::string teardown(transport::Transport& t, const inventory::Host& host, const std::string& path);

}  // namespace decamp::data::files
