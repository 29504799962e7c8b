// The one SIGINT/SIGTERM handler: which flag each signal sets, and when decamp itself ends.
// Each case runs in a forked child: the handler and its flags are per process.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <functional>

#include "cli/interrupt.hpp"

using namespace decamp::cli;

namespace {

// Runs `body` in a child; returns its exit status, or 1000 + the signal that ended it.
int in_child(const std::function<int()>& body) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(body());
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) ? 1000 + WTERMSIG(st) : WEXITSTATUS(st);
}

// 0 when stop/kill_steps are as expected, else a code saying which differs.
int flags(const Interrupt& in, bool stop, bool kill) {
    return (*in.stop != stop ? 10 : 0) + (*in.kill_steps != kill ? 20 : 0);
}

}  // namespace

TEST_CASE("interrupt: apply/run — Ctrl-C stops, a second kills the steps, a third ends decamp") {
    CHECK(in_child([] {
              Interrupt in = install_interrupt_handler(SecondSignal::KillSteps);
              if (int e = flags(in, false, false)) return e;
              raise(SIGINT);
              if (int e = flags(in, true, false)) return e + 1;
              raise(SIGINT);
              if (int e = flags(in, true, true)) return e + 2;
              raise(SIGINT);  // default action
              return 99;
          }) == 1000 + SIGINT);
}

TEST_CASE("interrupt: apply/run — SIGTERM kills the steps at once") {
    CHECK(in_child([] {
              Interrupt in = install_interrupt_handler(SecondSignal::KillSteps);
              raise(SIGTERM);
              if (int e = flags(in, true, true)) return e;
              raise(SIGTERM);
              return 99;
          }) == 1000 + SIGTERM);
}

TEST_CASE("interrupt: migrate/drill — the first signal stops, the second ends decamp") {
    for (int first : {SIGINT, SIGTERM}) {
        CAPTURE(first);
        CHECK(in_child([first] {
                  Interrupt in = install_interrupt_handler(SecondSignal::Exit);
                  raise(first);
                  if (int e = flags(in, true, false)) return e;
                  raise(SIGINT);
                  return 99;
              }) == 1000 + SIGINT);
    }
}
