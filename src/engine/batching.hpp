// Which consecutive tasks go to a host together as one framed script (a batch), decided
// here, purely, from each task's traits — not on the host and not inside the runner.
// A batch holds tasks in order until one of them must go alone or ends it:
//   - a task decided here by an expression (failed_when, a changed_when that is not a
//     literal) goes alone: the host cannot know whether to stop after it;
//   - `register` and modules that define variables (set_fact) end a batch: a later task may
//     read what they produced;
//   - a slow module (package installs, waits) ends a batch, so a Ctrl-C (which lets the
//     running batch finish) waits for at most one slow step;
//   - a change of become (the launcher the script runs under) starts a new batch;
//   - `--batch 1` and `any_errors_fatal` plays send one task per batch.
#pragma once

#include <string>

namespace decamp::engine {

// What batching needs to know of one task (the runner fills it from the task, its planned
// steps and its module's traits).
struct BatchTask {
    bool solo = false;          // failed_when / changed_when expression
    bool registers = false;     // register:
    bool defines_vars = false;  // set_fact
    bool slow = false;          // apt, package, wait_for
    bool remote = false;        // any of its steps runs on the host
    std::string launcher;       // how its remote steps run (become, user); "" when local
};

// The batch so far.
struct Batch {
    size_t tasks = 0;
    std::string launcher;  // "" until a remote task joined
};

enum class Fit {
    Join,          // add it, and the batch may go on
    JoinAndClose,  // add it; the batch ends after it
    Close,         // the batch ends before it (it starts the next one)
};

struct Decision {
    Fit fit;
    const char* why;  // for -v and tests: "register", "slow module", "become changes", …
};

// `max_tasks_per_batch` is the engine's --batch (1 = one task per round trip).
Decision fit_task(const Batch& batch, const BatchTask& task, int max_tasks_per_batch, bool any_errors_fatal);

}  // namespace decamp::engine
