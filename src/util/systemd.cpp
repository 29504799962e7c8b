#include "util/systemd.hpp"

#include "util/shell.hpp"

namespace decamp::systemd {

std::string units_cmd(Verb verb, const std::vector<std::string>& units, Missing missing) {
    shell::Argv argv{"systemctl"};
    const char* name = "stop";
    switch (verb) {
    case Verb::Stop: argv.push_back("stop"); break;
    case Verb::Start: argv.push_back("start"); name = "start"; break;
    case Verb::Restart: argv.push_back("restart"); name = "restart"; break;
    case Verb::DisableNow: argv.insert(argv.end(), {"disable", "--now"}); name = "disable --now"; break;
    }
    const bool want_active = verb == Verb::Start || verb == Verb::Restart;
    argv.push_back("--");
    argv.insert(argv.end(), units.begin(), units.end());
    shell::Argv words(units.begin(), units.end());
    std::string s = shell::join(argv) + (missing == Missing::Fail ? " || exit 1\n" : " || :\n");
    s += "for u in " + shell::join(words) + "; do\n";
    s += "  s=$(systemctl is-active -- \"$u\")\n";
    s += want_active ? "  case $s in active|reloading) ;; *)\n" : "  case $s in inactive|failed) ;; *)\n";
    s += "    printf 'decamp: unit %s is %s after systemctl " + std::string(name) + "\\n' \"$u\" \"${s:-unknown}\" >&2; exit 1 ;;\n";
    s += "  esac\ndone";
    return s;
}

}  // namespace decamp::systemd
