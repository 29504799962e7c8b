// lineinfile: Ansible's algorithm, twice. lineinfile_apply() is the pure C++ version used to
// show diffs; the probe and change run the same algorithm on the host as a small Perl
// program (perl-base is Essential on Debian, and Perl regexes are close to Python's), with
// every value passed through the environment so hostile text stays data.
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

// `exists` = the file exists (content is its bytes). Regexes use std::regex (ECMAScript),
// close to but not exactly Python's; the host-side Perl run is the authority.
LineinfileResult lineinfile_apply(const std::string& content, const LineinfileSpec& spec);

// The Perl program run on the host: `perl -e PROGRAM check|apply PATH` with DC_* variables.
const std::string& lineinfile_perl();

}  // namespace decamp::modules
