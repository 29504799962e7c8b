// Turns a module's Action into the one shell script sent to a host per step (probe and
// change in a single round trip) and reads the outcome back from the exit status. Pure.
#pragma once

#include <string>

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

Outcome apply_outcome(const modules::Action& a, int exit_status);
Outcome check_outcome(const modules::Action& a, int exit_status);

// The read-only fact gathering command and its parser.
std::string facts_command();
Value parse_facts(const std::string& out);

}  // namespace decamp::engine
