// A module turns (arguments, gathered facts) into an Action: a read-only probe that decides
// whether anything must change, the change itself, and what a diff shows. Pure code: no SSH,
// no files, no clock. The engine runs probe and change in one round trip:
//   probe exit 0 -> converged (ok), exit 1 -> run change (changed), other -> failed.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/value.hpp"

namespace decamp::modules {

// Exit status a probe uses to say "a change is needed". Anything other than 0 or this is
// a failure of the probe itself.
constexpr int kProbeNeedsChange = 1;

struct Action {
    std::string summary;    // human, e.g. "package nginx present"
    std::string probe;      // read-only POSIX sh; empty = always change (command/shell)
    std::string change;     // POSIX sh that converges; empty = nothing to do ever
    std::string ok_reason;  // why no change when probe says ok, e.g. "nginx is installed"
    // Diff support (check mode / --diff): a read-only command printing the current content
    // of diff_path, and a pure function giving the desired content from the current one.
    std::string diff_path;
    std::string current_cmd;
    std::function<std::string(const std::string& current)> desired;
    // A static description of the change when no content diff applies, e.g. "+ nginx".
    std::string change_text;
    // Checks (wait_for, http_check): the change is itself a read-only check; it runs in
    // check mode too and is never reported as "changed".
    bool check_only = false;
    // Paths the probe reads with `stat -L` / `sha256sum` (through ${__dcs:-stat} and
    // ${__dch:-sha256sum}): a batch of steps may read them all with one call each up front.
    std::vector<std::string> stat_paths;
    std::vector<std::string> hash_paths;
};

// What the engine and the loader need to know of a module, as columns of the module table
// (instead of lists of names scattered where they are used).
struct Traits {
    // Runs in decamp itself, never on the host (debug, set_fact).
    bool local = false;
    // Its result can change what later tasks see (set_fact): nothing after it may be planned
    // before it ran.
    bool defines_vars = false;
    // Slow (package installs, waits): it ends a batch, so a Ctrl-C, which lets the running
    // batch finish, waits for at most one slow step.
    bool slow = false;
    // Reads its `src` from the controller: the files/ (copy) or templates/ (template) dir.
    enum class Src { None, File, Template } src = Src::None;
};

// Bad argument value or combination, named by argument key ("" = the module as a whole).
class ArgError : public Error {
public:
    ArgError(std::string key, const std::string& message) : Error(message), key_(std::move(key)) {}
    const std::string& key() const { return key_; }

private:
    std::string key_;
};

class Module {
public:
    virtual ~Module() = default;
    virtual std::string name() const = 0;
    // Every argument key the module accepts; anything else is a load-time error.
    virtual std::vector<std::string> allowed_args() const = 0;
    // Arguments that must be present.
    virtual std::vector<std::string> required_args() const { return {}; }
    // command/shell take a plain string ("free form"): it arrives as args["cmd"].
    virtual bool free_form() const { return false; }
    virtual Traits traits() const { return {}; }
    // args is a Map of rendered values (templating already done; secrets revealed in
    // apply, masked as *** in offline plans).
    virtual Action plan(const Value& args) const = 0;
};

// Registry by name; accepts Ansible's fully qualified names (ansible.builtin.copy).
// nullptr for an unknown module.
const Module* find(const std::string& name);
// The traits of any task module, the ones decamp runs itself (debug, set_fact) included;
// an unknown name has none.
Traits traits(const std::string& name);
std::vector<std::string> names();

}  // namespace decamp::modules
