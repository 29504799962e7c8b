#include "cli/cli.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <typeinfo>

#include "util/error.hpp"
#include "util/secret.hpp"
#include "util/text.hpp"

namespace decamp::cli {

const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0  success (nothing failed)\n"
    "  1  a host failed a step\n"
    "  2  usage error, invalid inventory/playbook, or a confirmation not given (--yes); never a runtime failure\n"
    "  3  a host was unreachable\n"
    "  4  a host key was refused (unknown or changed)\n"
    "  5  a migration/drill failed (rolled back where possible)\n"
    "  6  another migration holds the lock\n"
    "  7  runtime error: decamp could not go on (a file, the state, an API, ...)\n"
    "  8  out of memory\n"
    "  130 interrupted (Ctrl-C); the journal allows --resume\n";

bool Args::has(const std::string& sw) const {
    return std::find(switches.begin(), switches.end(), sw) != switches.end();
}

std::string Args::get(const std::string& key, const std::string& fallback) const {
    auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
}

std::string default_inventory() {
    if (const char* env = std::getenv("DECAMP_INVENTORY"); env && *env) return env;
    return "";
}

Args parse_args(const Command& cmd, const std::vector<std::string>& argv) {
    Args a;
    auto find_flag = [&](const std::string& name, char sh) -> const Flag* {
        for (const auto& f : cmd.flags)
            if ((!name.empty() && f.name == name) || (sh && f.short_name == sh)) return &f;
        return nullptr;
    };
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& w = argv[i];
        if (w == "--") {
            a.rest.assign(argv.begin() + static_cast<long>(i) + 1, argv.end());
            break;
        }
        if (w == "-v" || w == "--verbose") { ++a.verbosity; continue; }
        if (w == "--help" || w == "-h") { a.switches.push_back("help"); continue; }
        if (w == "-vv") { a.verbosity += 2; continue; }
        if (w.size() > 2 && w.rfind("--", 0) == 0) {
            std::string name = w.substr(2), value;
            bool inline_value = false;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
                inline_value = true;
            }
            const Flag* f = find_flag(name, 0);
            if (!f) {
                std::string msg = "unknown option --" + name + " for decamp " + cmd.name;
                std::vector<std::string> names;
                for (const auto& fl : cmd.flags) names.push_back(fl.name);
                size_t best = 4;
                std::string pick;
                for (const auto& n : names) {
                    // small inline edit distance, to avoid a dependency on util/schema here
                    std::vector<size_t> prev(n.size() + 1), cur(n.size() + 1);
                    for (size_t j = 0; j <= n.size(); ++j) prev[j] = j;
                    for (size_t x = 1; x <= name.size(); ++x) {
                        cur[0] = x;
                        for (size_t j = 1; j <= n.size(); ++j)
                            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (name[x - 1] == n[j - 1] ? 0 : 1)});
                        std::swap(prev, cur);
                    }
                    if (prev[n.size()] < best) { best = prev[n.size()]; pick = n; }
                }
                if (!pick.empty()) msg += " (did you mean --" + pick + "?)";
                throw UsageError(msg);
            }
            if (f->takes_value) {
                if (!inline_value) {
                    if (i + 1 >= argv.size()) throw UsageError("option --" + name + " needs a value");
                    value = argv[++i];
                }
                a.values[f->name] = value;
            } else {
                if (inline_value) throw UsageError("option --" + name + " takes no value");
                a.switches.push_back(f->name);
            }
            continue;
        }
        if (w.size() == 2 && w[0] == '-' && w[1] != '-') {
            const Flag* f = find_flag("", w[1]);
            if (w == "-h") { a.switches.push_back("help"); continue; }
            if (!f) throw UsageError("unknown option " + w + " for decamp " + cmd.name);
            if (f->takes_value) {
                if (i + 1 >= argv.size()) throw UsageError("option " + w + " needs a value");
                a.values[f->name] = argv[++i];
            } else {
                a.switches.push_back(f->name);
            }
            continue;
        }
        a.positional.push_back(w);
    }
    return a;
}

std::string help_text(const Command& cmd) {
    std::string out = "Usage: " + cmd.usage + "\n\n" + cmd.summary + "\n";
    if (!cmd.details.empty()) out += "\n" + cmd.details + "\n";
    out += "\nOptions:\n";
    for (const auto& f : cmd.flags) {
        std::string left = "  ";
        left += f.short_name ? std::string("-") + f.short_name + ", " : "    ";
        left += "--" + f.name + (f.takes_value ? " VALUE" : "");
        if (left.size() < 28) left.resize(28, ' ');
        else left += "  ";
        out += left + f.help + "\n";
    }
    out += "  -v, --verbose             show commands (secrets masked); twice for more\n";
    out += "  -h, --help                this help\n\n";
    out += kExitCodesHelp;
    return out;
}

static std::string main_help() {
    std::string out =
        "decamp " DECAMP_VERSION " — provider-agnostic bare-metal deployment and migration\n\n"
        "Usage: decamp COMMAND [options]\n\nCommands:\n";
    for (const auto& c : commands()) {
        std::string left = "  " + c.name;
        left.resize(18, ' ');
        out += left + c.summary + "\n";
    }
    out += "\nRun 'decamp COMMAND --help' for a command's options.\n"
           "The inventory comes from -i FILE or $DECAMP_INVENTORY.\n\n";
    out += kExitCodesHelp;
    return out;
}

int main(int argc, char** argv) {
    std::vector<std::string> words(argv + 1, argv + argc);
    if (words.empty() || words[0] == "-h" || words[0] == "--help" || words[0] == "help") {
        if (words.size() >= 2 && words[0] == "help") words = {words[1], "--help"};
        else {
            std::cout << main_help();
            return words.empty() ? kExitUsage : kExitOk;
        }
    }
    if (words[0] == "--version" || words[0] == "version") {
        std::cout << "decamp " DECAMP_VERSION "\n";
        return kExitOk;
    }
    const Command* cmd = nullptr;
    for (const auto& c : commands())
        if (c.name == words[0]) cmd = &c;
    if (!cmd) {
        std::cerr << "decamp: error: unknown command \"" << words[0] << "\"; run 'decamp --help' for the list\n";
        return kExitUsage;
    }
    std::vector<std::string> rest(words.begin() + 1, words.end());
    Args args;
    try {
        args = parse_args(*cmd, rest);
    } catch (const UsageError& e) {
        std::cerr << "decamp: error: " << e.what() << "\nRun 'decamp " << cmd->name << " --help'.\n";
        return kExitUsage;
    }
    if (args.has("help")) {
        std::cout << help_text(*cmd);
        return kExitOk;
    }
    return run_guarded([&] { return cmd->run(args); }, std::cerr, args.verbosity);
}

namespace {
std::string demangled(const char* name) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
    return status == 0 && d ? d.get() : name;
}
}  // namespace

int run_guarded(const std::function<int()>& body, std::ostream& err, int verbosity) {
    // The detail goes under the line, each of its lines marked, masked like the message.
    auto say = [&](const std::string& what, const std::string& detail = {}) {
        err << "decamp: error: " << redactor().mask(what);
        if (detail.empty()) {
            err << "\n";
        } else if (verbosity < 1) {
            err << " (-v shows the detail)\n";
        } else {
            err << "\n";
            std::string text = redactor().mask(detail);
            size_t start = 0;
            while (start < text.size()) {
                size_t nl = text.find('\n', start);
                if (nl == std::string::npos) nl = text.size();
                err << "  | " << util::printable(std::string_view(text).substr(start, nl - start)) << "\n";
                start = nl + 1;
            }
        }
    };
    try {
        return body();
    } catch (const ConfigError& e) {
        for (const auto& d : e.diagnostics()) err << redactor().mask(d.str()) << "\n";
        err << "decamp: error: " << e.diagnostics().size() << " error(s) in the inventory or playbooks\n";
        return kExitUsage;
    } catch (const Fatal& e) {
        say(e.what());
        return e.exit_code();
    } catch (const Error& e) {  // a host unreachable (3) or its key refused (4), locked (6), ...
        say(e.what(), e.detail());
        return e.exit_code();
    } catch (const std::bad_alloc&) {
        // Not the user's typing: an input (or a host's output) too large for this machine.
        err << "decamp: error: out of memory\n";
        return kExitOutOfMemory;
    } catch (const std::exception& e) {  // from a library, or a type outside the two tiers
        say(e.what(), std::string("exception type ") + demangled(typeid(e).name()));
        return kExitRuntime;
    }
}

}  // namespace decamp::cli
