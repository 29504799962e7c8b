// Helpers for module tests: run a probe or change with /bin/sh for real and look at the
// exit code and output, so tests check effects rather than command spelling.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "modules/module.hpp"
#include "util/value.hpp"

namespace decamp::test {

struct ShResult {
    int code = -1;
    std::string out;  // stdout and stderr together
};

// Runs `script` with /bin/sh (dash on Debian) in directory `cwd`.
inline ShResult run_sh(const std::string& script, const std::filesystem::path& cwd = "/tmp") {
    static int counter = 0;
    auto file = std::filesystem::temp_directory_path() /
                ("decamp-sh-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + ".sh");
    std::ofstream(file, std::ios::binary) << script << "\n";
    std::string cmd = "cd '" + cwd.string() + "' && /bin/sh '" + file.string() + "' 2>&1";
    ShResult r;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int st = pclose(p);
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    std::filesystem::remove(file);
    return r;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Builds an argument map: args({{"path", Value::string("/x")}, ...}).
inline Value args(std::initializer_list<std::pair<std::string, Value>> kv) {
    Value m = Value::map();
    for (const auto& [k, v] : kv) m.set(k, v);
    return m;
}
inline Value S(const std::string& s) { return Value::string(s); }
inline Value I(int64_t i) { return Value::integer(i); }
inline Value B(bool b) { return Value::boolean(b); }

inline modules::Action plan(const std::string& module, const Value& a) {
    const modules::Module* m = modules::find(module);
    REQUIRE_MESSAGE(m != nullptr, module);
    return m->plan(a);
}

// The key named by the ArgError that planning throws, or "<no error>".
inline std::string arg_error_key(const std::string& module, const Value& a) {
    try {
        plan(module, a);
    } catch (const modules::ArgError& e) {
        return e.key();
    }
    return "<no error>";
}

// Probe exit code, or 0 for an empty probe's "always change" (returned as 1).
inline int probe(const modules::Action& act) {
    if (act.probe.empty()) return modules::kProbeNeedsChange;
    return run_sh(act.probe).code;
}

// Hostile strings that must stay inert data wherever they go.
inline const char* const kHostile[] = {
    "'; touch pwned #", "$(touch pwned)", "`touch pwned`", "a\nb; touch pwned", "-rf",
    "\"$HOME\" ${IFS} * ?", "back\\slash \\' \\\" end"};

}  // namespace decamp::test
