// The engine against recording transports, one step per round trip: ordering, check mode, handlers, failures,
// unreachable hosts and secret masking, with no SSH.
#include <doctest/doctest.h>

#include <mutex>

#include <cstdlib>
#include <map>
#include <set>

#include "engine/engine.hpp"
#include "engine/script.hpp"
#include "test_util.hpp"
#include "transport/recording.hpp"

using namespace decamp;
using transport::RecordingTransport;

namespace {

struct Lab {
    test::TempDir dir;
    inventory::Inventory inv;
    std::vector<playbook::Playbook> books;

    Lab(const std::string& playbook_text, int hosts = 2) {
        dir.write("site.yml", playbook_text);
        std::string inv_text = "project: t\nproviders:\n  p:\n    kind: static\n    hosts:\n";
        for (int i = 1; i <= hosts; ++i)
            inv_text += "      h" + std::to_string(i) + ": { address: 10.0.0." + std::to_string(i) + ", roles: [web] }\n";
        inv_text += "roles: { web: { playbooks: [site.yml] } }\nsecrets: { pw: \"${env:DECAMP_ENGINE_TEST_PW}\" }\n";
        inv = inventory::load(dir.write("inv.yml", inv_text));
        books.push_back(playbook::load(dir.path() / "site.yml"));
    }
};

// Forwards to a recording transport the test keeps after the engine is gone.
struct Forward : transport::Transport {
    std::shared_ptr<RecordingTransport> t;
    explicit Forward(std::shared_ptr<RecordingTransport> r) : t(std::move(r)) {}
    // Scripts travel on stdin behind a fixed launcher; record the script itself.
    transport::RunResult run(const std::string& c, const transport::RunOptions& o) override {
        launchers.push_back(c);
        return t->run(o.stdin_data.empty() ? c : o.stdin_data, o);
    }
    std::vector<std::string> launchers;
    void upload(std::string_view c, const std::string& p, const transport::FileOptions& o) override { t->upload(c, p, o); }
    void upload_file(const std::filesystem::path& l, const std::string& p, const transport::FileOptions& o) override {
        t->upload_file(l, p, o);
    }
    std::string download(const std::string& p) override { return t->download(p); }
    void close() override { t->close(); }
    std::string describe() const override { return t->describe(); }
};

// Hands out one recording transport per host; a responder decides what each command does.
struct FakeConnector : engine::Connector {
    std::map<std::string, std::shared_ptr<RecordingTransport>> made;
    std::function<transport::RunResult(const std::string& host, const std::string& cmd)> respond;
    std::set<std::string> unreachable;
    std::mutex mu;
    std::unique_ptr<transport::Transport> connect(const inventory::Host& h) override {
        if (unreachable.count(h.name))
            throw transport::TransportError(transport::TransportError::Kind::Unreachable, h.name + ": connection refused");
        auto t = std::make_shared<RecordingTransport>(h.name);
        std::string name = h.name;
        t->set_responder([this, name](const std::string& cmd) {
            if (cmd.find("os-release") != std::string::npos) {
                transport::RunResult r;
                r.exit_status = 0;
                r.out = "os_id=debian\nuser=root\n";
                return r;
            }
            return respond(name, cmd);
        });
        std::lock_guard lock(mu);  // hosts connect in parallel
        made[h.name] = t;
        return std::make_unique<Forward>(t);
    }
};

transport::RunResult rc(int code, std::string out = "", std::string err = "") {
    transport::RunResult r;
    r.exit_status = code;
    r.out = std::move(out);
    r.err = std::move(err);
    return r;
}

engine::Report run(Lab& lab, FakeConnector& conn, bool check = false) {
    engine::Options o;
    o.check = check;
    o.forks = 4;
    o.batch = 1;  // these responders answer one step per command (batches: engine_batch_test)
    engine::Engine eng(lab.inv, conn, o);
    return eng.run(plan::assign_roles(lab.inv, lab.books, "p", ""));
}

}  // namespace

TEST_CASE("apply: ok / changed per probe verdict, handlers once at the end, registered results") {
    Lab lab(R"(- hosts: web
  tasks:
    - name: conf
      copy: { dest: /etc/x.conf, content: "a=1\n" }
      notify: restart x
    - name: conf2
      copy: { dest: /etc/y.conf, content: "b=1\n" }
      notify: restart x
    - name: probe it
      command: cat /etc/x.conf
      register: out
      changed_when: false
    - name: use it
      debug: { msg: "got {{ out.stdout }}" }
  handlers:
    - name: restart x
      service: { name: x, state: restarted }
)");
    FakeConnector conn;
    conn.respond = [](const std::string& host, const std::string& cmd) {
        if (cmd.find("/etc/x.conf") != std::string::npos && cmd.find("cat") == 0) return rc(0, "a=1\n");
        if (cmd.find("/etc/y.conf") != std::string::npos) return host == "h1" ? rc(0) : rc(engine::kScriptConverged);
        if (cmd.find("/etc/x.conf") != std::string::npos) return rc(engine::kScriptConverged);
        return rc(0);
    };
    auto rep = run(lab, conn);
    REQUIRE(rep.hosts.size() == 2);
    CHECK(rep.exit_code() == 0);
    auto& h1 = rep.hosts[0];
    auto& h2 = rep.hosts[1];
    CHECK(h1.changed == 2);  // conf2 + handler
    CHECK(h2.changed == 0);
    CHECK(h2.steps.size() == 4);  // 4 tasks, no handler (connecting is not a step)
    CHECK(h1.steps.size() == 5);
    CHECK(h1.steps.back().task == "restart x");
    CHECK(h1.steps[3].message == "got a=1");
    // The handler ran exactly once on h1 and never on h2.
    auto count = [](const std::shared_ptr<RecordingTransport>& t, const std::string& needle) {
        int n = 0;
        for (const auto& c : t->commands()) n += c.find(needle) != std::string::npos;
        return n;
    };
    CHECK(count(conn.made["h1"], "systemctl restart") == 1);
    CHECK(count(conn.made["h2"], "systemctl restart") == 0);
    CHECK(rep.to_json().find("\"changed\":2") != std::string::npos);
}

TEST_CASE("check mode sends only read-only scripts and reports diffs") {
    Lab lab(R"(- hosts: web
  tasks:
    - name: conf
      copy: { dest: /etc/x.conf, content: "a=2\n" }
)", 1);
    FakeConnector conn;
    std::vector<std::string> seen;
    conn.respond = [&](const std::string&, const std::string& cmd) {
        seen.push_back(cmd);
        return rc(engine::kScriptWouldChange, "a=1\n");
    };
    auto rep = run(lab, conn, true);
    REQUIRE(rep.hosts.size() == 1);
    CHECK(rep.check_mode);
    CHECK(rep.hosts[0].changed == 1);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].find("base64 -d") == std::string::npos);  // the write is not in a check script
    CHECK(seen[0].find("mv -f") == std::string::npos);
    CHECK(rep.hosts[0].steps[0].diff.find("-a=1") != std::string::npos);
    CHECK(rep.hosts[0].steps[0].diff.find("+a=2") != std::string::npos);
}

TEST_CASE("a failed step stops that host only; unreachable hosts are reported") {
    Lab lab(R"(- hosts: web
  tasks:
    - command: step-one
    - command: step-two
)", 3);
    FakeConnector conn;
    conn.unreachable = {"h3"};
    conn.respond = [](const std::string& host, const std::string& cmd) {
        if (host == "h1" && cmd.find("step-one") != std::string::npos) return rc(2, "", "boom");
        return rc(0);
    };
    auto rep = run(lab, conn);
    REQUIRE(rep.hosts.size() == 3);
    CHECK(rep.hosts[0].state == engine::HostState::Failed);
    CHECK(rep.hosts[0].steps.size() == 1);
    CHECK(rep.hosts[0].steps[0].stderr_tail == "boom");
    CHECK(rep.hosts[1].state == engine::HostState::Ok);
    CHECK(rep.hosts[1].changed == 2);
    CHECK(rep.hosts[2].state == engine::HostState::Unreachable);
    CHECK(rep.exit_code() == 3);
}

TEST_CASE("a lost connection mid-play fails that host cleanly") {
    Lab lab("- hosts: web\n  tasks:\n    - command: a\n    - command: b\n", 2);
    FakeConnector conn;
    conn.respond = [](const std::string& host, const std::string& cmd) -> transport::RunResult {
        if (host == "h2" && cmd.find("b") == 0) throw transport::TransportError(transport::TransportError::Kind::Channel, "sshd went away");
        return rc(0);
    };
    auto rep = run(lab, conn);
    CHECK(rep.hosts[0].state == engine::HostState::Ok);
    CHECK(rep.hosts[1].state == engine::HostState::Unreachable);
    CHECK(rep.hosts[1].error.find("sshd went away") != std::string::npos);
}

TEST_CASE("when / loop / failed_when / ignore_errors") {
    Lab lab(R"(- hosts: web
  vars: { pkgs: [a, b, c] }
  tasks:
    - command: "echo {{ item }}"
      loop: "{{ pkgs }}"
      register: loopd
    - command: skipped
      when: loopd.results | length == 99
    - command: false-fail
      failed_when: false
    - command: hard-fail
      ignore_errors: true
    - debug: { msg: "after {{ loopd.results | length }}" }
)", 1);
    FakeConnector conn;
    conn.respond = [](const std::string&, const std::string& cmd) {
        if (cmd.find("false-fail") != std::string::npos || cmd.find("hard-fail") != std::string::npos) return rc(1);
        return rc(0);
    };
    auto rep = run(lab, conn);
    auto& h = rep.hosts[0];
    REQUIRE(h.steps.size() == 7);
    CHECK(h.steps[3].status == engine::Status::Skipped);
    CHECK(h.steps[4].status != engine::Status::Failed);
    CHECK(h.steps[5].status == engine::Status::Failed);
    CHECK(h.steps[6].message == "after 3");
    CHECK(h.state == engine::HostState::Ok);
}

TEST_CASE("serial batches and max_fail_percentage stop the rest") {
    Lab lab("- hosts: web\n  serial: 1\n  max_fail_percentage: 0\n  tasks:\n    - command: x\n", 3);
    FakeConnector conn;
    conn.respond = [](const std::string& host, const std::string&) { return host == "h1" ? rc(1) : rc(0); };
    auto rep = run(lab, conn);
    CHECK(rep.hosts[0].state == engine::HostState::Failed);
    CHECK(rep.hosts[1].changed == 0);  // never ran: the first batch already broke the limit
    CHECK(rep.hosts[2].changed == 0);
    CHECK(rep.exit_code() == 1);
}

TEST_CASE("secrets reach the host but never the report") {
    setenv("DECAMP_ENGINE_TEST_PW", "Zq9-very-secret-pw", 1);
    Lab lab(R"(- hosts: web
  tasks:
    - command: "set-password {{ secrets.pw }}"
)", 1);
    FakeConnector conn;
    std::string sent;
    conn.respond = [&](const std::string&, const std::string& cmd) {
        sent = cmd;
        return rc(3, "echo Zq9-very-secret-pw", "failed for Zq9-very-secret-pw");
    };
    engine::Options o;
    o.batch = 1;
    o.verbosity = 1;
    std::string log;
    o.log = [&](const std::string& l) { log += l; };
    engine::Engine eng(lab.inv, conn, o);
    auto rep = eng.run(plan::assign_roles(lab.inv, lab.books, "p", ""));
    CHECK(sent.find("Zq9-very-secret-pw") != std::string::npos);
    std::string json = rep.to_json() + rep.recap() + log;
    CHECK(json.find("Zq9-very-secret-pw") == std::string::npos);
    CHECK(json.find("***") != std::string::npos);
    unsetenv("DECAMP_ENGINE_TEST_PW");
}

TEST_CASE("check mode: a probe that fails after an earlier would-change is reported as unknown change") {
    Lab lab(R"(- hosts: web
  tasks:
    - apt: { name: nginx }
    - lineinfile: { path: /etc/nginx/nginx.conf, line: "x" }
)", 2);
    FakeConnector conn;
    conn.respond = [](const std::string& host, const std::string& cmd) {
        if (cmd.find("dpkg-query") != std::string::npos)
            return host == "h1" ? rc(engine::kScriptWouldChange) : rc(engine::kScriptConverged);
        return rc(engine::kScriptProbeFailed, "", "/etc/nginx/nginx.conf does not exist");
    };
    auto rep = run(lab, conn, true);
    // h1: nginx would be installed, so the missing file is expected.
    CHECK(rep.hosts[0].state == engine::HostState::Ok);
    CHECK(rep.hosts[0].changed == 2);
    CHECK(rep.hosts[0].steps[1].diff.find("cannot be checked") != std::string::npos);
    // h2: nothing would change before it, so the failing probe is a real failure.
    CHECK(rep.hosts[1].state == engine::HostState::Failed);
    CHECK(rep.exit_code() == 1);
}

TEST_CASE("facts are gathered once, when the planner says a task needs them") {
    auto count = [](const std::shared_ptr<RecordingTransport>& t, const std::string& needle) {
        int n = 0;
        for (const auto& c : t->commands()) n += c.find(needle) != std::string::npos;
        return n;
    };
    SUBCASE("no task names facts: none are gathered") {
        Lab lab("- hosts: web\n  tasks:\n    - command: a\n    - command: b\n", 1);
        FakeConnector conn;
        conn.respond = [](const std::string&, const std::string&) { return rc(0); };
        auto rep = run(lab, conn);
        CHECK(rep.exit_code() == 0);
        CHECK(count(conn.made["h1"], "os-release") == 0);
    }
    SUBCASE("default() does not stand in for facts that can be gathered; changed_when sees them too") {
        Lab lab(R"(- hosts: web
  tasks:
    - command: a
    - command: "echo {{ ansible_facts.os_id | default('none') }}"
    - command: b
      changed_when: "facts.user == 'root'"
)",
                1);
        FakeConnector conn;
        conn.respond = [](const std::string&, const std::string&) { return rc(0); };
        auto rep = run(lab, conn);
        CHECK(rep.exit_code() == 0);
        auto& t = conn.made["h1"];
        CHECK(count(t, "os-release") == 1);
        CHECK(count(t, "echo debian") == 1);
        CHECK(count(t, "echo none") == 0);
        REQUIRE(rep.hosts[0].steps.size() == 3);
        CHECK(rep.hosts[0].steps[2].status == engine::Status::Changed);
    }
    SUBCASE("facts named only in changed_when are gathered after the step") {
        Lab lab(
            "- hosts: web\n  tasks:\n    - command: b\n      changed_when: \"ansible_facts.os_id == "
            "'debian'\"\n",
            1);
        FakeConnector conn;
        conn.respond = [](const std::string&, const std::string&) { return rc(0); };
        auto rep = run(lab, conn);
        REQUIRE(rep.hosts[0].steps.size() == 1);
        CHECK(rep.hosts[0].steps[0].status == engine::Status::Changed);
        CHECK(count(conn.made["h1"], "os-release") == 1);
    }
    SUBCASE("facts that cannot be gathered lose the host, naming why") {
        Lab lab("- hosts: web\n  tasks:\n    - command: \"echo {{ facts.os_id }}\"\n    - command: after\n",
                1);
        auto rep = [&] {
            engine::Options o;
            o.forks = 1;
            o.batch = 1;
            // The fact command fails on this host.
            struct Broken : engine::Connector {
                std::unique_ptr<transport::Transport> connect(const inventory::Host& h) override {
                    auto t = std::make_shared<RecordingTransport>(h.name);
                    t->set_responder([](const std::string& cmd) {
                        return cmd.find("os-release") != std::string::npos ? rc(1, "", "no /etc/os-release")
                                                                           : rc(0);
                    });
                    made = t;
                    return std::make_unique<Forward>(t);
                }
                std::shared_ptr<RecordingTransport> made;
            } broken;
            engine::Engine eng(lab.inv, broken, o);
            auto r = eng.run(plan::assign_roles(lab.inv, lab.books, "p", ""));
            CHECK(count(broken.made, "after") == 0);
            return r;
        }();
        CHECK(rep.exit_code() != 0);
        CHECK(rep.hosts[0].error.find("fact gathering failed") != std::string::npos);
    }
}
