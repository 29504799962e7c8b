#include "cli/confirm.hpp"

#include <unistd.h>

#include <iostream>

#include "cli/cli.hpp"

namespace decamp::cli {

Consent consent_rule(bool yes, bool terminal) {
    if (yes) return Consent::Given;
    return terminal ? Consent::Ask : Consent::Refused;
}

bool on_terminal() { return isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1; }

namespace {

UsageError refusal(const std::string& command) {
    return UsageError("decamp " + command + " changes hosts and asks for confirmation first, but there is no " +
                      "terminal to ask on; pass --yes to go ahead without asking (as CI does)");
}

}  // namespace

void require_consent_possible(const Args& args, const std::string& command, bool terminal) {
    if (consent_rule(args.has("yes"), terminal) == Consent::Refused) throw refusal(command);
}

void require_consent_possible(const Args& args, const std::string& command) {
    require_consent_possible(args, command, on_terminal());
}

bool confirm(const Args& args, const std::string& command, const std::string& what, bool terminal, std::istream& in,
             std::ostream& err) {
    switch (consent_rule(args.has("yes"), terminal)) {
    case Consent::Given:
        return true;
    case Consent::Refused:
        throw refusal(command);
    case Consent::Ask:
        break;
    }
    err << what;
    if (!what.empty() && what.back() != '\n') err << "\n";
    err << "\nDo you want decamp " << command << " to do this? Only 'yes' is accepted: " << std::flush;
    std::string answer;
    if (!std::getline(in, answer)) answer.clear();
    while (!answer.empty() && (answer.back() == ' ' || answer.back() == '\r')) answer.pop_back();
    while (!answer.empty() && answer.front() == ' ') answer.erase(answer.begin());
    if (answer == "yes") return true;
    err << "decamp: " << command << " cancelled; nothing was changed\n";
    return false;
}

bool confirm(const Args& args, const std::string& command, const std::string& what) {
    return confirm(args, command, what, on_terminal(), std::cin, std::cerr);
}

}  // namespace decamp::cli
