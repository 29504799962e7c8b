// Regular expressions on the orchestrator: PCRE2 (the dialect of the Perl that runs on the
// hosts), behind this small interface so no header includes pcre2.h. The matcher works on
// the heap, not the C stack (std::regex recursed per character and crashed on a 1 MB line),
// and every match has a step budget: a pathological pattern fails with an Error instead of
// hanging the run.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/error.hpp"

namespace decamp::util {

class Regex {
public:
    // Perl syntax, bytes (no UTF mode, as Perl without `use utf8`). Throws Error.
    explicit Regex(std::string_view pattern);
    ~Regex();
    Regex(Regex&&) noexcept;
    Regex& operator=(Regex&&) noexcept;

    // Finds the first match anywhere in `subject` (`$` also matches before a final newline,
    // as in Perl). When `groups` is given it receives group 0 (the match) and every capture
    // group, "" for one that did not take part. Throws Error past the step budget.
    bool search(std::string_view subject, std::vector<std::string>* groups = nullptr) const;

    // The first match at or after `start` (lookbehind and \b still see what precedes it):
    // `spans` receives the [begin, end) of group 0 and of every capture group, npos for one
    // that did not take part. Throws Error past the step budget.
    bool search_at(std::string_view subject, size_t start,
                   std::vector<std::pair<size_t, size_t>>& spans) const;

    const std::string& pattern() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace decamp::util
