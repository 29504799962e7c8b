// Per-host progress for long runs: a live line per host on a terminal, plain log lines
// otherwise (CI logs). Both go to stderr so --json stdout stays clean.
#pragma once

#include <memory>

#include "engine/engine.hpp"

namespace decamp::cli {

std::unique_ptr<engine::Progress> make_progress(bool quiet);

}  // namespace decamp::cli
