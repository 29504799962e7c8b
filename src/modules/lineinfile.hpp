// lineinfile: Ansible's algorithm, twice. lineinfile_apply() is the pure C++ version used to
// show diffs; the probe and change run the same algorithm on the host as a small Perl
// program (perl-base is Essential on Debian, and Perl regexes are close to Python's), with
// every value passed through the environment so hostile text stays data. Both sides use
// the same regex dialect (PCRE2 here, see util/regex.hpp), so the diff shown is the change
// made. The C++ side stays because the diff is computed from content already fetched, with
// no second round trip; the Perl side stays because the host edits its own file atomically.
#pragma once

#include <optional>
#include <string>

namespace decamp::modules {

struct LineinfileSpec {
    bool present = true;
    std::optional<std::string> line, regexp, search_string, insertafter, insertbefore;
    bool backrefs = false;
    bool firstmatch = false;
    bool create = false;
};

struct LineinfileResult {
    std::string content;
    bool changed = false;
};

// Regexes are PCRE2 with a step budget: Error when a pattern is too expensive.
LineinfileResult lineinfile_apply(const std::string& content, const LineinfileSpec& spec);

// The Perl program run on the host: `perl -e PROGRAM check|apply PATH` with DC_* variables.
const std::string& lineinfile_perl();

}  // namespace decamp::modules
