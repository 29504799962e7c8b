// Error types shared by every layer, in two tiers (ccache's core/exceptions.hpp): an Error
// a caller may catch and handle, and a Fatal that ends the command. Both carry the exit code
// decamp returns when nobody handles them; `cli::run_guarded` is the one place that prints
// "decamp: error: …" and returns it. A ConfigError is an Error with diagnostics
// (file:line:column and the key path).
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

// A failure a caller may catch and handle (missing secret, an API that said no, a host that
// cannot be reached, ...); uncaught, `main` exits with its exit_code(), kExitRuntime unless
// the error says otherwise.
// `detail` (an API's answer body, a command's whole stderr, …) is printed only with -v;
// the message alone must say what failed and what to do.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, ExitCode code = kExitRuntime, std::string detail = {})
        : std::runtime_error(message), code_(code), detail_(std::move(detail)) {}
    ExitCode exit_code() const { return code_; }
    const std::string& detail() const { return detail_; }

private:
    ExitCode code_;
    std::string detail_;
};

// A configuration error: one or more diagnostics, all reported together (exit 2).
class ConfigError : public Error {
public:
    explicit ConfigError(std::vector<Diagnostic> diags);
    explicit ConfigError(Diagnostic d);
    const std::vector<Diagnostic>& diagnostics() const { return diags_; }

private:
    std::vector<Diagnostic> diags_;
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
