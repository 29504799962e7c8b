// Command-line entry: a table of subcommands (name, summary, function), help generated from
// it, one file per subcommand.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace decamp::cli {

int main(int argc, char** argv);

// Parsed arguments of one subcommand: flags with values, switches, positionals, and the
// words after "--".
struct Args {
    std::map<std::string, std::string> values;   // --limit web → {"limit","web"}
    std::vector<std::string> switches;           // --json, --offline
    std::vector<std::string> positional;
    std::vector<std::string> rest;               // after --
    int verbosity = 0;

    bool has(const std::string& sw) const;
    std::string get(const std::string& key, const std::string& fallback = "") const;
};

// A flag a subcommand accepts: "limit" takes a value, "json" is a switch.
struct Flag {
    std::string name;
    char short_name;          // 0 = none
    bool takes_value;
    std::string help;
};

struct Command {
    std::string name;
    std::string summary;
    std::string usage;        // "decamp plan [options] [PLAYBOOK...]"
    std::string details;      // extra help text
    std::vector<Flag> flags;
    int (*run)(const Args&);
};

const std::vector<Command>& commands();

// Throws UsageError on unknown flags or missing values.
Args parse_args(const Command& cmd, const std::vector<std::string>& argv);
std::string help_text(const Command& cmd);

// A wrong command line: exit 2 (kExitUsage).
struct UsageError : Fatal {
    explicit UsageError(const std::string& message) : Fatal(kExitUsage, message) {}
};

// The one catch (STYLE.md): runs `body`, and for whatever escapes it prints
// "decamp: error: …" once to `err` (secrets masked) and returns that error's exit code:
// ConfigError (its diagnostics first) and UsageError 2, any other Fatal or Error its own
// exit_code() (TransportError 3 or 4, LockedError 6, plain Error 7), std::bad_alloc 8, any
// other exception 7 (a runtime failure, never 2). An Error's detail, and the type of an
// exception from outside the two tiers, are shown only at `verbosity` ≥ 1 (-v); without it
// the line says that -v shows more.
int run_guarded(const std::function<int()>& body, std::ostream& err, int verbosity = 0);

// Shared by subcommands.
std::string default_inventory();  // $DECAMP_INVENTORY, else inventory/example.yml … 
extern const char* kExitCodesHelp;

}  // namespace decamp::cli
