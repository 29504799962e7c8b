#include "cli/interrupt.hpp"

#include <csignal>

namespace decamp::cli {

namespace {

// Touched from the signal handler: lock-free atomics only.
std::atomic<bool> g_stop{false};
std::atomic<bool> g_kill_steps{false};
std::atomic<bool> g_second_kills{true};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_signal(int sig) {
    bool kill = g_second_kills && (sig == SIGTERM || g_stop);
    if (kill) g_kill_steps = true;
    if (kill || !g_second_kills) {
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
    }
    g_stop = true;
}

}  // namespace

Interrupt install_interrupt_handler(SecondSignal second) {
    g_second_kills = second == SecondSignal::KillSteps;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    return {&g_stop, &g_kill_steps};
}

}  // namespace decamp::cli
