#include "util/error.hpp"

namespace decamp {

std::string Mark::str() const {
    if (line <= 0) return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Diagnostic::str() const {
    std::string out = mark.str();
    if (!out.empty()) out += ": ";
    if (!path.empty()) out += path + ": ";
    out += message;
    return out;
}

static std::string join_diags(const std::vector<Diagnostic>& diags) {
    std::string out;
    for (const auto& d : diags) {
        if (!out.empty()) out += "\n";
        out += d.str();
    }
    return out;
}

ConfigError::ConfigError(std::vector<Diagnostic> diags)
    : Error(join_diags(diags), kExitUsage), diags_(std::move(diags)) {}

ConfigError::ConfigError(Diagnostic d) : ConfigError(std::vector<Diagnostic>{std::move(d)}) {}

}  // namespace decamp
