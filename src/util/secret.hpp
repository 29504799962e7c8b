// Secrets: referenced in the inventory as ${env:NAME} or ${file:path}, resolved only when a
// command really needs them, and masked in every log, plan and report. The Redactor knows
// every value resolved so far and replaces it with *** in any text that leaves the process.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace decamp {

// Holds a resolved secret; prints as ***.
class SecretString {
public:
    SecretString() = default;
    explicit SecretString(std::string v) : value_(std::move(v)) {}
    const std::string& reveal() const { return value_; }
    std::string str() const { return "***"; }

private:
    std::string value_;
};

class Redactor {
public:
    void add(const std::string& secret);
    std::string mask(std::string text) const;
    bool empty() const;

private:
    mutable std::mutex mu_;
    std::vector<std::string> secrets_;
};

// The process-wide redactor used by logging and reports.
Redactor& redactor();

// True when `text` is exactly one ${kind:arg} reference.
bool is_secret_reference(const std::string& text);

// Resolves ${env:NAME} / ${file:path} (relative to base_dir). Throws decamp::Error naming the
// reference when it cannot be resolved. Registers the value with redactor().
SecretString resolve_secret(const std::string& reference, const std::filesystem::path& base_dir);

}  // namespace decamp
