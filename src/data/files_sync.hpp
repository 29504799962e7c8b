// Files data mover: a directory tree streamed source → orchestrator → target over the two
// SSH sessions (tar through our own process: the hosts never hold keys for each other).
// A full pass first, then at cutover a pass of only what changed (and deletions).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "transport/transport.hpp"

namespace decamp::data::files {

struct SyncStats {
    uint64_t files = 0;
    uint64_t bytes = 0;     // bytes streamed
    uint64_t deleted = 0;
    double seconds = 0;
};

// Size in bytes of the tree (du -sb), 0 when absent.
uint64_t tree_size(transport::Transport& t, const std::string& path);

// Full pass: target ends up with every file of the source tree (owner, mode, mtime kept).
// `marker` is a file on the source recording when this pass started (for the delta pass).
SyncStats full_pass(transport::Transport& source, transport::Transport& target,
                    const std::string& path, const std::string& marker);

// Delta pass: only files newer than the marker, plus deleting on the target what the
// source no longer has.
SyncStats delta_pass(transport::Transport& source, transport::Transport& target,
                     const std::string& path, const std::string& marker);

// The same with a different path on the target (tests move between two dirs of one host).
SyncStats full_pass(transport::Transport& source, transport::Transport& target,
                    const std::string& path, const std::string& target_path,
                    const std::string& marker);
SyncStats delta_pass(transport::Transport& source, transport::Transport& target,
                     const std::string& path, const std::string& target_path,
                     const std::string& marker);

// path → sha256 of every regular file (relative paths), for verification.
std::map<std::string, std::string> checksums(transport::Transport& t, const std::string& path);

}  // namespace decamp::data::files
