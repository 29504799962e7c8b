// What Ctrl-C and SIGTERM do while a command works on hosts: the one handler for apply,
// plan, run, migrate and drill. The flags are polled by the engine, the migration and the
// drill between steps.
#pragma once

#include <atomic>

namespace decamp::cli {

enum class SecondSignal {
    // apply, plan, run: the first Ctrl-C stops after the running steps; a second Ctrl-C, or
    // SIGTERM at any time, also kills the running steps on the hosts. One more signal then
    // ends decamp (the default action is back).
    KillSteps,
    // migrate, drill (journaled, --resume continues): the first Ctrl-C or SIGTERM stops
    // after the running step; a second one ends decamp at once.
    Exit,
};

struct Interrupt {
    const std::atomic<bool>* stop;        // stop after the running steps
    const std::atomic<bool>* kill_steps;  // kill the running steps too (KillSteps only)
};

// Installs the handler for SIGINT and SIGTERM; the flags live as long as the process.
Interrupt install_interrupt_handler(SecondSignal second);

}  // namespace decamp::cli
