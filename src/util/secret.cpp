#include "util/secret.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "util/error.hpp"
#include "util/json.hpp"
#include "util/shell.hpp"
#include "util/text.hpp"
#include "util/value.hpp"

namespace decamp {

namespace {

// A derived form shorter than this would mask innocent text (a base64 fragment, a line "}").
constexpr size_t kMinForm = 6;

// The base64 characters that depend on `s`'s bytes alone when `s` starts `shift` bytes into
// a longer base64-encoded text (a file that contains the secret, sent as base64).
std::string base64_core(const std::string& s, size_t shift) {
    std::string enc = shell::base64(std::string(shift, '\0') + s);
    size_t first = (8 * shift + 5) / 6;
    size_t last = 8 * (shift + s.size()) / 6;
    return last > first ? enc.substr(first, last - first) : "";
}

}  // namespace

std::vector<std::string> Redactor::forms(const std::string& secret) {
    std::vector<std::string> out{secret};
    auto keep = [&](std::string f) {
        if (f.size() >= kMinForm && std::find(out.begin(), out.end(), f) == out.end()) out.push_back(std::move(f));
    };
    keep(shell::quote(secret));
    std::string js = json::quote(secret);  // the escaping every JSON writer uses
    keep(js.substr(1, js.size() - 2));
    keep(util::percent_encode(secret));
    keep(shell::base64(secret));
    for (size_t shift = 0; shift < 3; ++shift) keep(base64_core(secret, shift));
    if (secret.find('\n') != std::string::npos) {
        size_t start = 0;
        while (start <= secret.size()) {
            size_t nl = secret.find('\n', start);
            if (nl == std::string::npos) nl = secret.size();
            std::string line = util::trim(std::string_view(secret).substr(start, nl - start));
            if (!line.empty()) keep(std::move(line));
            start = nl + 1;
        }
    }
    return out;
}

void Redactor::add(const std::string& secret) {
    // Very short values would mask innocent text everywhere; they are still never printed by
    // us directly (SecretString), this is the second line of defence.
    if (secret.size() < 3) return;
    auto fs = forms(secret);
    std::lock_guard lock(mu_);
    bool added = false;
    for (auto& f : fs) {
        if (std::find(secrets_.begin(), secrets_.end(), f) != secrets_.end()) continue;
        secrets_.push_back(std::move(f));
        added = true;
    }
    // Longest first so a secret containing another is masked whole.
    if (added)
        std::sort(secrets_.begin(), secrets_.end(),
                  [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::mask(std::string text) const {
    std::lock_guard lock(mu_);
    for (const auto& s : secrets_) {
        size_t pos = 0;
        while ((pos = text.find(s, pos)) != std::string::npos) {
            text.replace(pos, s.size(), "***");
            pos += 3;
        }
    }
    return text;
}

bool Redactor::empty() const {
    std::lock_guard lock(mu_);
    return secrets_.empty();
}

Redactor& redactor() {
    static Redactor r;
    return r;
}

bool is_secret_reference(const std::string& text) {
    if (text.size() < 6 || text.compare(0, 2, "${") != 0 || text.back() != '}') return false;
    auto colon = text.find(':');
    if (colon == std::string::npos) return false;
    std::string kind = text.substr(2, colon - 2);
    return (kind == "env" || kind == "file") && colon + 1 < text.size() - 1 &&
           text.find('}') == text.size() - 1;
}

SecretString resolve_secret(const std::string& reference, const std::filesystem::path& base_dir) {
    if (!is_secret_reference(reference))
        throw Error("secret reference " + reference + " is not of the form ${env:NAME} or ${file:path}");
    auto colon = reference.find(':');
    std::string kind = reference.substr(2, colon - 2);
    std::string arg = reference.substr(colon + 1, reference.size() - colon - 2);
    std::string value;
    if (kind == "env") {
        const char* v = std::getenv(arg.c_str());
        if (!v) throw Error("secret " + reference + ": environment variable " + arg + " is not set");
        value = v;
    } else {
        std::filesystem::path p = arg;
        if (!arg.empty() && arg[0] == '~') {
            const char* home = std::getenv("HOME");
            p = std::string(home ? home : "") + arg.substr(1);
        } else if (p.is_relative()) {
            p = base_dir / p;
        }
        std::ifstream in(p, std::ios::binary);
        if (!in) throw Error("secret " + reference + ": cannot read " + p.string());
        std::stringstream ss;
        ss << in.rdbuf();
        value = ss.str();
        // A trailing newline in a secret file is an editor artefact, not part of the secret.
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    }
    if (value.empty()) throw Error("secret " + reference + " resolved to an empty value");
    redactor().add(value);
    return SecretString(value);
}

}  // namespace decamp
