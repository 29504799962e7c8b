// One byte stream from a command on one transport into a command on another, through this
// process (the hosts never hold keys for each other or for the backup target). A tap sees
// every chunk on the way (hashing, tar parsing). If the source command fails, the sink's
// stdin raises instead of ending, so the sink is killed rather than told "end of data":
// restic then saves no snapshot of a truncated dump. Used by backups (host → restic),
// restores (restic → host) and the files mover (tar on one host → tar on the other).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "transport/transport.hpp"

namespace decamp::transport {

struct PumpResult {
    uint64_t bytes = 0;
    double seconds = 0;
    RunResult source, sink;  // out/err hold the tails
    std::string source_err;  // the source's whole stderr (bounded to 1 MiB)
};

// Throws decamp::Error naming both ends when either command fails (source: an exit status
// above `source_ok_max`, e.g. 1 for GNU tar's "a file changed as we read it"; sink: not 0).
// `complete`, when given, says the stream seen so far is whole (tar's end-of-archive): a
// sink that stops reading after that has not cut the source short.
PumpResult pump(Transport& source, const std::string& source_cmd, Transport& sink,
                const std::string& sink_cmd, const std::function<void(std::string_view)>& tap,
                const std::string& what, int source_ok_max = 0,
                const std::function<bool()>& complete = nullptr);

}  // namespace decamp::transport
