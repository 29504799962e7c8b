// Turns a module's Action into the one shell script sent to a host per step (probe and
// change in a single round trip) and reads the outcome back from the exit status. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/capture.hpp"
#include "modules/module.hpp"

namespace decamp::engine {

// Exit statuses the wrapper uses to report the probe's verdict.
constexpr int kScriptConverged = 97;   // probe said: nothing to do
constexpr int kScriptProbeFailed = 98; // probe itself failed (stderr has why)
// Check mode: the probe said a change is needed (current content, if any, is on stdout).
constexpr int kScriptWouldChange = 96;

enum class Outcome { Ok, Changed, Failed, WouldChange };

// Apply: probe, then change only when the probe says so.
std::string apply_script(const modules::Action& a);
// Check mode: probe only (plus the current content for a diff when a change is needed).
std::string check_script(const modules::Action& a);
// Wraps with sudo -n when the connection's user is not the one to run as.
std::string with_become(const std::string& script, bool become, const std::string& become_user,
                        const std::string& login_user);

// The fixed command that runs a script sent on stdin: the script never appears on a
// command line (no secrets in `ps`, no argument-length limit), and the script itself runs
// with stdin from /dev/null so nothing in it can eat the rest of the script.
std::string stdin_launcher(bool become, const std::string& become_user, const std::string& login_user);

// The same, for a step inside a batch: no `exit`; the verdict is left in $__s (same codes).
std::string apply_inline(const modules::Action& a);
std::string check_inline(const modules::Action& a);

// Several steps in one round trip, each given as an *_inline script; after each the batch
// writes a marker line "\n<nonce>:<index>:<status>\n" to stdout and to stderr, so each
// step's output and status can be cut out of the streams as they arrive. The batch stops
// after a step whose status is not in its `go_on` list (empty list = always go on).
struct BatchPart {
    std::string script;
    std::vector<int> go_on;
    bool probed = true;  // false: a command run as is (whatever it exits, it may have changed things)
};
// stat_paths / hash_paths: what the parts' probes will stat (-L) and hash (Action's lists).
// With two or more, the batch first reads them all with one stat and one sha256sum, and
// the probes' ${__dcs:-stat} / ${__dch:-sha256sum} answer from that - until a step does
// anything but converge (in apply mode), from when on every probe asks the host again.
std::string batch_script(const std::vector<BatchPart>& parts, const std::string& nonce,
                         const std::vector<std::string>& stat_paths = {},
                         const std::vector<std::string>& hash_paths = {}, bool check = false);
// 128 random bits as hex: no step's output can forge a marker.
std::string make_nonce();

// Cuts a batch's two output streams into steps, chunk by chunk. What it holds per stream is
// bounded (a Capture of the step at hand plus a marker's length), whatever a step prints.
class BatchSplitter {
public:
    explicit BatchSplitter(const std::string& nonce);
    void feed(std::string_view chunk, bool is_stderr);
    struct Part {
        int status = -1;
        Capture out, err;
    };
    // True when the next step's markers have arrived on both streams.
    bool ready() const;
    Part take();
    // Output after the last marker (what a step that never finished printed).
    Capture rest_out() const { return rest(0); }
    Capture rest_err() const { return rest(1); }
    // Bytes held for steps not yet taken (for tests of the memory bound).
    size_t retained() const;

private:
    Capture rest(int stream) const;
    struct Stream {
        std::string window;  // not yet known not to be a marker
        Capture cur;         // the current step's output
        std::vector<std::pair<int, Capture>> done;  // status, output
        size_t taken = 0;
    };
    std::string marker_;  // "\n<nonce>:"
    Stream streams_[2];
};

Outcome apply_outcome(const modules::Action& a, int exit_status);
Outcome check_outcome(const modules::Action& a, int exit_status);

// The read-only fact gathering command and its parser, and the names of the facts it gives.
std::string facts_command();
Value parse_facts(const std::string& out);
std::vector<std::string> fact_names();

}  // namespace decamp::engine
