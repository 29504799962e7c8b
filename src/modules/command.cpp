// command / shell. command runs an argument vector: the free-form string is split like
// Ansible's shlex and every word is quoted again, so $(...), ;, | stay literal text. shell
// runs the string as a script with sh -c (the user asked for shell semantics). creates /
// removes make the task idempotent; without them the probe is empty (always runs).
#include "modules/command.hpp"

#include <stdexcept>

#include "modules/args.hpp"
#include "modules/builtin.hpp"
#include "util/shell.hpp"

namespace decamp::modules {

std::vector<std::string> shlex_split(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    bool in_word = false;
    size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word) out.push_back(cur);
            cur.clear();
            in_word = false;
            ++i;
        } else if (c == '\'') {
            size_t end = text.find('\'', i + 1);
            if (end == std::string::npos) throw std::invalid_argument("no closing quotation");
            cur.append(text, i + 1, end - i - 1);
            in_word = true;
            i = end + 1;
        } else if (c == '"') {
            in_word = true;
            ++i;
            while (true) {
                if (i >= text.size()) throw std::invalid_argument("no closing quotation");
                char d = text[i];
                if (d == '"') { ++i; break; }
                if (d == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
                    cur += text[i + 1];
                    i += 2;
                    continue;
                }
                cur += d;
                ++i;
            }
        } else if (c == '\\') {
            if (i + 1 >= text.size()) throw std::invalid_argument("no escaped character");
            cur += text[i + 1];
            in_word = true;
            i += 2;
        } else {
            cur += c;
            in_word = true;
            ++i;
        }
    }
    if (in_word) out.push_back(cur);
    return out;
}

Action plan_command(const std::string& module, const Value& args) {
    Args a(args);
    const bool is_shell = module == "shell";
    std::string cmd = a.str("cmd", "");
    shell::Argv argv;
    if (a.has("argv")) {
        if (!cmd.empty()) throw ArgError("argv", "give either a command string or argv, not both");
        auto list = a.list("argv");
        const Value* v = args.get("argv");
        if (!v->is_list()) throw ArgError("argv", "expected a list of words");
        argv = *list;
        if (argv.empty()) throw ArgError("argv", "expected at least one word");
    }
    if (cmd.empty() && argv.empty()) throw ArgError("cmd", "expected a command");
    if (!is_shell && argv.empty()) {
        try {
            argv = shlex_split(cmd);
        } catch (const std::invalid_argument& e) {
            throw ArgError("cmd", std::string("cannot split the command into words: ") + e.what());
        }
        if (argv.empty()) throw ArgError("cmd", "expected a command");
    }
    // Ansible reads `creates=/x` inside the free-form string as an option; we do not, so
    // say so instead of passing it to the program as an argument.
    {
        std::vector<std::string> words;
        try { words = is_shell ? shlex_split(cmd) : argv; } catch (const std::invalid_argument&) {}
        for (const auto& w : words)
            for (const char* k : {"creates=", "removes=", "chdir=", "executable=", "warn=", "stdin="})
                if (w.rfind(k, 0) == 0)
                    throw ArgError("cmd", "inline option '" + w + "' is not supported; put " +
                                              std::string(k, std::string(k).size() - 1) +
                                              " under args: instead");
    }
    const std::string creates = a.str("creates", "");
    const std::string removes = a.str("removes", "");
    const std::string chdir = a.str("chdir", "");
    const std::string executable = a.str("executable", "");
    if (!executable.empty()) require_absolute_path("executable", executable);
    if (!chdir.empty()) require_absolute_path("chdir", chdir);

    std::string cd = chdir.empty() ? "" : "cd -- " + shell::quote(chdir);
    Action act;
    if (!creates.empty() || !removes.empty()) {
        // creates: done when the path exists; removes: done when it does not.
        std::vector<std::string> probe;
        if (!cd.empty()) probe.push_back(cd + " || exit 2");
        if (!creates.empty()) probe.push_back("[ ! -e " + shell::quote(creates) + " ] || exit 0");
        if (!removes.empty()) probe.push_back("[ -e " + shell::quote(removes) + " ] || exit 0");
        probe.push_back("exit 1");
        act.probe = subshell(probe);
        act.ok_reason = !creates.empty() ? creates + " exists" : removes + " does not exist";
        if (!creates.empty() && !removes.empty())
            act.ok_reason = creates + " exists or " + removes + " does not exist";
    }
    std::string run;
    if (is_shell)
        run = shell::join({executable.empty() ? "/bin/sh" : executable, "-c", cmd});
    else {
        // A first word like FOO=1 would be an assignment to sh; quoted it is a program name.
        run = shell::join(argv);
        if (argv[0].find('=') != std::string::npos && shell::quote(argv[0]) == argv[0])
            run = "'" + argv[0] + "'" + run.substr(argv[0].size());
    }
    act.change = cd.empty() ? run : cd + " && " + run;
    std::string shown = is_shell ? cmd : shell::join(argv);
    act.summary = module + ": " + shown;
    act.change_text = "$ " + shown;
    return act;
}

}  // namespace decamp::modules
