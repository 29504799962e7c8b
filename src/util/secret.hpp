// Secrets: referenced in the inventory as ${env:NAME} or ${file:path}, resolved only when a
// command really needs them, and masked in every log, plan and report. The Redactor knows
// every value resolved so far (and every text the templates derived from one) and replaces
// it with *** in any text that leaves the process, including the encodings of it we produce
// ourselves and a host could echo back (shell-quoted, base64, JSON- and URL-escaped, each
// line of a multi-line secret).
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
    // Registers `secret` and the forms it takes on the way out (see forms()).
    void add(const std::string& secret);
    std::string mask(std::string text) const;
    bool empty() const;

    // The texts that are masked for `secret`: itself, its shell-quoted, JSON-escaped and
    // URL-encoded forms, its base64 (alone and as it reads inside any longer base64 text),
    // and each line of a multi-line secret. Forms shorter than 6 characters are left out.
    static std::vector<std::string> forms(const std::string& secret);

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
