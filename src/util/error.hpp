// Error types shared by every layer: a configuration error carries file:line:column and the
// key path; a fatal error stops the command. `main` catches both once (see STYLE.md).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace decamp {

// Where a value came from in a YAML file. line/column are 1-based; 0 means unknown.
struct Mark {
    std::string file;
    int line = 0;
    int column = 0;

    std::string str() const;  // "file:line:column" (or just file when unknown)
};

// One problem in user input: where, which key, what was expected.
struct Diagnostic {
    Mark mark;
    std::string path;     // key path, e.g. providers/new/hosts/web1/address
    std::string message;  // what is wrong and what was expected

    std::string str() const;  // "file:line:col: path: message"
};

// A configuration error: one or more diagnostics, all reported together.
class ConfigError : public std::runtime_error {
public:
    explicit ConfigError(std::vector<Diagnostic> diags);
    explicit ConfigError(Diagnostic d);
    const std::vector<Diagnostic>& diagnostics() const { return diags_; }

private:
    std::vector<Diagnostic> diags_;
};

// Process exit codes, documented in README and --help.
enum ExitCode : int {
    kExitOk = 0,
    kExitHostFailed = 1,
    kExitUsage = 2,
    kExitUnreachable = 3,
    kExitHostKey = 4,
    kExitMigrationFailed = 5,
    kExitLocked = 6,
    kExitRuntime = 7,      // decamp itself could not go on: a file, the state, an API, ...
    kExitOutOfMemory = 8,  // std::bad_alloc: an input too large for this machine
    kExitInterrupted = 130,
};

// Two tiers, as ccache's core/exceptions.hpp. Error: a failure a caller may catch and handle
// (missing secret, an API that said no, ...); uncaught, `main` exits with kExitRuntime.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Fatal: ends the command with its own exit code; only `main` catches it, prints
// "decamp: error: <what>" once and returns exit_code().
class Fatal : public std::runtime_error {
public:
    Fatal(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ExitCode exit_code() const { return code_; }

private:
    ExitCode code_;
};

}  // namespace decamp
