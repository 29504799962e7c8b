// Provenance end to end through the engine with recording transports: a host's output used
// by later tasks reaches the host literally; random secrets through every filter and
// operator never reach the progress lines, -v, the JSON report or the recap.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <random>

#include "engine/engine.hpp"
#include "test_util.hpp"
#include "transport/recording.hpp"
#include "util/secret.hpp"
#include "util/shell.hpp"

using namespace decamp;
using transport::RecordingTransport;

namespace {

struct Lab {
    test::TempDir dir;
    inventory::Inventory inv;
    std::vector<playbook::Playbook> books;

    explicit Lab(const std::string& playbook_text, const std::string& secret_env) {
        dir.write("site.yml", playbook_text);
        inv = inventory::load(dir.write(
            "inv.yml", "project: t\nproviders:\n  p:\n    kind: static\n    hosts:\n"
                       "      h1: { address: 10.0.0.1, roles: [web] }\n"
                       "roles: { web: { playbooks: [site.yml] } }\nsecrets: { pw: \"${env:" + secret_env + "}\" }\n"));
        books.push_back(playbook::load(dir.path() / "site.yml"));
    }
};

struct Forward : transport::Transport {
    std::shared_ptr<RecordingTransport> t;
    explicit Forward(std::shared_ptr<RecordingTransport> r) : t(std::move(r)) {}
    transport::RunResult run(const std::string& c, const transport::RunOptions& o) override {
        return t->run(o.stdin_data.empty() ? c : o.stdin_data, o);
    }
    void upload(std::string_view c, const std::string& p, const transport::FileOptions& o) override { t->upload(c, p, o); }
    void upload_file(const std::filesystem::path& l, const std::string& p, const transport::FileOptions& o) override {
        t->upload_file(l, p, o);
    }
    std::string download(const std::string& p) override { return t->download(p); }
    void close() override { t->close(); }
    std::string describe() const override { return t->describe(); }
};

struct FakeConnector : engine::Connector {
    std::shared_ptr<RecordingTransport> made;
    std::function<transport::RunResult(const std::string& cmd)> respond;
    std::string sent;  // every script the host received
    std::unique_ptr<transport::Transport> connect(const inventory::Host& h) override {
        made = std::make_shared<RecordingTransport>(h.name);
        made->set_responder([this](const std::string& cmd) {
            sent += cmd + "\n";
            transport::RunResult r;
            if (cmd.find("os-release") != std::string::npos) {
                r.exit_status = 0;
                r.out = "os_id=debian\nhostname={{ secrets.pw }}\n";
                return r;
            }
            return respond(cmd);
        });
        return std::make_unique<Forward>(made);
    }
};

transport::RunResult rc(int code, std::string out = "") {
    transport::RunResult r;
    r.exit_status = code;
    r.out = std::move(out);
    return r;
}

// Everything the run printed or reported, as the CLI's output paths receive it.
struct Captured : engine::Progress {
    std::mutex mu;
    std::string text;
    void step_started(const std::string& host, const std::string& task, size_t) override {
        std::lock_guard l(mu);
        text += host + " " + task + "\n";
    }
    void step_done(const std::string& host, const engine::StepResult& r) override {
        std::lock_guard l(mu);
        text += host + " " + r.task + " " + r.message + "\n" + r.diff + "\n" + r.stdout_tail + r.stderr_tail + "\n";
    }
};

std::string run(Lab& lab, FakeConnector& conn, Captured& cap, bool check = false) {
    engine::Options o;
    o.check = check;
    o.batch = 1;
    o.verbosity = 2;
    o.log = [&cap](const std::string& line) {
        std::lock_guard l(cap.mu);
        cap.text += line + "\n";
    };
    engine::Report rep;
    {
        engine::Engine eng(lab.inv, conn, o, &cap);
        rep = eng.run(plan::assign_roles(lab.inv, lab.books, "p", ""));
    }
    return cap.text + rep.to_json() + rep.recap();
}

}  // namespace

TEST_CASE("engine: what a host printed is written back literally by later tasks") {
    setenv("DECAMP_TAINT_ENGINE_PW", "do-not-send-me-back", 1);
    Lab lab(R"(- hosts: web
  gather_facts: true
  tasks:
    - command: cat /etc/motd
      register: out
      changed_when: false
    - set_fact: { seen: "got {{ out.stdout }}" }
    - copy: { dest: /tmp/a, content: "{{ out.stdout }}|{{ facts.hostname }}|{{ seen }}" }
    - command: "printf %s {{ out.stdout_lines | join(' ') | quote }}"
)", "DECAMP_TAINT_ENGINE_PW");
    const std::string hostile = "{{ secrets.pw }} {% if x %} it's {# c";
    FakeConnector conn;
    conn.respond = [&](const std::string& cmd) {
        if (cmd.find("/etc/motd") != std::string::npos) return rc(0, hostile + "\n");
        return rc(0);
    };
    Captured cap;
    std::string out = run(lab, conn, cap);
    CHECK(out.find("\"exit_code\":0") != std::string::npos);
    CHECK(conn.sent.find("do-not-send-me-back") == std::string::npos);
    std::string content = hostile + "|{{ secrets.pw }}|got " + hostile;
    CHECK(conn.sent.find(shell::quote(shell::base64(content))) != std::string::npos);
    CHECK(conn.sent.find(shell::quote(hostile)) != std::string::npos);
    unsetenv("DECAMP_TAINT_ENGINE_PW");
}

TEST_CASE("property: random secrets through every filter and operator never reach an output") {
    const std::vector<std::string> filters = {"quote", "upper", "lower", "b64encode", "trim", "string",
                                              "replace('a', 'Z')", "default('q')", "int(7) | string"};
    const std::vector<std::string> wrappers = {"E", "'<' ~ E ~ '>'", "E + '!'", "[E, 'k'] | join('|')",
                                               "[E] | first", "[E] | last"};
    std::vector<std::string> exprs;
    for (const auto& w : wrappers)
        for (size_t a = 0; a < filters.size(); ++a)
            for (size_t b = 0; b <= filters.size(); ++b) {
                if (filters[a].rfind("int", 0) == 0 && b < filters.size()) continue;
                std::string e = "(secrets.pw | " + filters[a] + (b < filters.size() ? " | " + filters[b] : "") + ")";
                std::string x = w;
                x.replace(x.find('E'), 1, e);
                exprs.push_back(x);
            }
    std::mt19937 rng(20261201);
    for (int round = 0; round < 12; ++round) {
        // Printable, no blank at either end (trim would shorten it below what can be masked).
        std::uniform_int_distribution<int> len(6, 24), ch(32, 126), edge(33, 126);
        std::string secret;
        int n = len(rng);
        for (int i = 0; i < n; ++i) secret += static_cast<char>(i == 0 || i == n - 1 ? edge(rng) : ch(rng));
        CAPTURE(secret);
        const std::string env = "DECAMP_TAINT_FUZZ_" + std::to_string(round);
        setenv(env.c_str(), secret.c_str(), 1);
        std::string book = "- hosts: web\n  tasks:\n";
        auto yq = [](const std::string& s) {  // YAML single-quoted
            std::string o = "'";
            for (char c : s) o += c == '\'' ? std::string("''") : std::string(1, c);
            return o + "'";
        };
        for (const auto& e : exprs) {
            book += "    - name: " + yq("show {{ " + e + " }}") + "\n      debug: { msg: " + yq("{{ " + e + " }}") + " }\n";
        }
        for (size_t i = 0; i < exprs.size(); i += 7) {
            book += "    - command: " + yq("echo {{ (" + exprs[i] + ") | quote }}") + "\n";
            book += "      register: r" + std::to_string(i) + "\n";
            book += "    - debug: { var: r" + std::to_string(i) + ".stdout_lines }\n";
        }
        book += "    - copy: { dest: /etc/x, content: " + yq("k={{ secrets.pw | upper }}") + " }\n";
        Lab lab(book, env);
        FakeConnector conn;
        conn.respond = [&](const std::string& cmd) {
            // The host echoes back whatever it was given, and the secret itself.
            return rc(0, cmd + "\n" + secret + "\n");
        };
        Captured cap;
        std::string out = run(lab, conn, cap, false);
        // The host did receive the real values.
        CHECK(conn.sent.find(shell::base64("k=" + [&] {
                  std::string u = secret;
                  for (auto& c : u) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
                  return u;
              }())) != std::string::npos);
        CHECK(out.find("\"exit_code\":0") != std::string::npos);
        CHECK(out.find(secret) == std::string::npos);
        // Nor any derived text: render each expression again, revealed, and look for it.
        Value vars = Value::map();
        Value secrets = Value::map();
        secrets.set("pw", Value::secret("${env:" + env + "}"));
        vars.set("secrets", secrets);
        tmpl::Scope s;
        s.push(&vars);
        tmpl::Options o;
        o.reveal_secrets = true;
        for (const auto& e : exprs) {
            std::string derived = tmpl::render("{{ " + e + " }}", s, o);
            if (derived.size() < 6 || derived == "7") continue;
            CAPTURE(e);
            CHECK(out.find(derived) == std::string::npos);
            CHECK(redactor().mask("x " + derived + " y") == "x *** y");
        }
        unsetenv(env.c_str());
    }
}
