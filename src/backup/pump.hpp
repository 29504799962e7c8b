// One byte stream from a command on one transport into a command on another, through this
// process (the hosts never hold keys for each other or for the backup target). A tap sees
// every chunk on the way (hashing, tar parsing). If the source command fails, the sink's
// stdin raises instead of ending, so the sink is killed rather than told "end of data":
// restic then saves no snapshot of a truncated dump.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "transport/transport.hpp"

namespace decamp::backup {

struct PumpResult {
    uint64_t bytes = 0;
    double seconds = 0;
    transport::RunResult source, sink;  // out/err hold the tails
    std::string source_err;             // the source's whole stderr (bounded to 1 MiB)
};

// Throws decamp::Error naming both ends when either command fails (exit status other than
// `source_ok_max` or 0 respectively).
PumpResult pump(transport::Transport& source, const std::string& source_cmd,
                transport::Transport& sink, const std::string& sink_cmd,
                const std::function<void(std::string_view)>& tap, const std::string& what,
                int source_ok_max = 0);

}  // namespace decamp::backup
