// Confirmation before commands that change a whole stack (migrate, drill, backup prune):
// on a terminal they show what will happen and wait for "yes"; --yes skips the question;
// without a terminal and without --yes they refuse (exit 2), as CI must say --yes
// explicitly (Terraform's -auto-approve).
#pragma once

#include <iosfwd>
#include <string>

namespace decamp::cli {

struct Args;

enum class Consent { Given, Ask, Refused };

// The rule, pure: --yes gives consent; otherwise ask when there is a terminal to ask on.
Consent consent_rule(bool yes, bool terminal);

// True when stdin and stderr are both terminals (the question is visible and answerable).
bool on_terminal();

// Applies the rule for `command` (e.g. "migrate"): prints `what` and asks on `err`, reads
// the answer from `in`. Returns true to go on, false when the user said anything but yes.
// Throws UsageError when there is no terminal and no --yes.
bool confirm(const Args& args, const std::string& command, const std::string& what, bool terminal, std::istream& in,
             std::ostream& err);

// Throws that UsageError now when the rule would refuse (no terminal, no --yes), for a
// command that only sometimes has something to confirm.
void require_consent_possible(const Args& args, const std::string& command, bool terminal);
void require_consent_possible(const Args& args, const std::string& command);

// The same on the process's own terminal (std::cin, std::cerr).
bool confirm(const Args& args, const std::string& command, const std::string& what);

}  // namespace decamp::cli
