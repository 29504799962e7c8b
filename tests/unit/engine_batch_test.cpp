// Batches: consecutive steps sent to a host in one round trip, run for real by /bin/sh
// through the local transport. What must hold: the same results, outputs and registered
// values as one step per round trip, a failing step stops the host there (nothing after
// it runs), command_timeout holds per step, and facts are gathered only when used.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "engine/engine.hpp"
#include "engine/script.hpp"
#include "test_util.hpp"
#include "transport/transport.hpp"

using namespace decamp;

namespace {

// The local transport, counting round trips and remembering what was sent.
struct Counting : transport::Transport {
    std::unique_ptr<transport::Transport> t = transport::make_local();
    std::vector<std::string>* sent;
    explicit Counting(std::vector<std::string>* s) : sent(s) {}
    transport::RunResult run(const std::string& c, const transport::RunOptions& o) override {
        sent->push_back(o.stdin_data.empty() ? c : o.stdin_data);
        return t->run(c, o);
    }
    void upload(std::string_view c, const std::string& p, const transport::FileOptions& o) override { t->upload(c, p, o); }
    void upload_file(const std::filesystem::path& l, const std::string& p, const transport::FileOptions& o) override {
        t->upload_file(l, p, o);
    }
    std::string download(const std::string& p) override { return t->download(p); }
    void close() override { t->close(); }
    std::string describe() const override { return "local"; }
};

struct LocalConnector : engine::Connector {
    std::vector<std::string> sent;
    std::unique_ptr<transport::Transport> connect(const inventory::Host&) override {
        return std::make_unique<Counting>(&sent);
    }
};

struct Run {
    test::TempDir dir;
    LocalConnector conn;
    engine::Report rep;
    inventory::Inventory inv;
    std::vector<playbook::Playbook> books;

    // `@` in the playbook stands for the temp dir.
    Run(std::string playbook, bool check = false, int batch = 64, const std::string& ssh = "") {
        for (size_t p; (p = playbook.find('@')) != std::string::npos;) playbook.replace(p, 1, dir.path().string());
        dir.write("site.yml", playbook);
        inv = inventory::load(dir.write(
            "inv.yml", "project: t\n" + ssh +
                           "providers:\n  p:\n    kind: local\n    hosts:\n      h1: { address: local, roles: [web] }\n"
                           "roles: { web: { playbooks: [site.yml] } }\n"));
        books.push_back(playbook::load(dir.path() / "site.yml"));
        engine::Options o;
        o.check = check;
        o.batch = batch;
        engine::Engine eng(inv, conn, o);
        rep = eng.run(plan::assign_roles(inv, books, "p", ""));
    }
    const engine::HostReport& host() const { return rep.hosts.at(0); }
    std::vector<std::string> statuses() const {
        std::vector<std::string> s;
        for (const auto& st : host().steps) s.push_back(st.task + "=" + engine::status_name(st.status));
        return s;
    }
    size_t scripts() const { return conn.sent.size(); }
    bool exists(const std::string& name) const { return std::filesystem::exists(dir.path() / name); }
};

std::vector<std::string> v(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

}  // namespace

TEST_CASE("batch: independent steps go in one round trip; register ends a batch; outputs are exact") {
    Run r(R"(- hosts: web
  tasks:
    - name: a
      file: { path: "@/d", state: directory, mode: "0750" }
    - name: b
      copy: { dest: "@/d/f", content: "one\n", mode: "0600" }
    - name: c
      command: "printf 'no newline'"
    - name: d
      shell: "echo out; echo err >&2; printf '\n\n'"
      register: d
    - name: e
      debug: { msg: "d said {{ d.stdout }}|{{ d.stderr }}" }
    - name: f
      command: "touch @/d/g"
      args: { creates: "@/d/g" }
      when: d.stdout_lines | length == 1
)");
    CHECK(r.statuses() == v({"a=changed", "b=changed", "c=changed", "d=changed", "e=ok", "f=changed"}));
    CHECK(r.host().steps[2].stdout_tail == "no newline");
    CHECK(r.host().steps[4].message == "d said out|err");
    CHECK(r.exists("d/g"));
    // a..d in one script, f in a second: e needs d's result, and is answered here.
    CHECK(r.scripts() == 2);
    CHECK(r.rep.exit_code() == 0);

    // Second run, same files: nothing changes, still two round trips.
    // A step that converges because an earlier one in the same batch changed the host.
    Run again(R"(- hosts: web
  tasks:
    - file: { path: "@/x", state: directory }
    - copy: { dest: "@/x/f", content: "z" }
    - copy: { dest: "@/x/f", content: "z" }
)");
    CHECK(again.host().changed == 2);
    CHECK(again.host().ok == 1);
    CHECK(again.scripts() == 1);
}

TEST_CASE("batch: a failing step stops the host there; nothing after it runs") {
    Run r(R"(- hosts: web
  tasks:
    - name: first
      command: "touch @/first"
    - name: boom
      shell: "echo broken >&2; exit 3"
    - name: never
      command: "touch @/never"
  handlers: []
)");
    CHECK(r.statuses() == v({"first=changed", "boom=failed"}));
    CHECK(r.host().steps[1].rc == 3);
    CHECK(r.host().steps[1].message.find("broken") != std::string::npos);
    CHECK(r.exists("first"));
    CHECK_FALSE(r.exists("never"));
    CHECK(r.rep.exit_code() == 1);
    CHECK(r.scripts() == 1);
}

TEST_CASE("batch: ignore_errors goes on; a loop stops at its failing item; handlers run batched") {
    Run r(R"(- hosts: web
  tasks:
    - name: tolerated
      command: "false"
      ignore_errors: true
    - name: "item {{ item }}"
      shell: "touch @/{{ item }}"
      loop: [a, b]
      notify: h
    - name: "loop {{ item }}"
      shell: "test {{ item }} != y && touch @/l{{ item }}"
      loop: [x, y, z]
  handlers:
    - name: h
      command: "touch @/handled"
)");
    CHECK(r.statuses() == v({"tolerated=failed", "item a=changed", "item b=changed", "loop x=changed", "loop y=failed"}));
    CHECK(r.exists("a"));
    CHECK(r.exists("lx"));
    CHECK_FALSE(r.exists("lz"));
    // The play failed before its end: handlers do not run (as in Ansible).
    CHECK_FALSE(r.exists("handled"));

    Run h(R"(- hosts: web
  tasks:
    - command: "touch @/t1"
      notify: [h1, h2]
  handlers:
    - name: h1
      command: "touch @/h1"
    - name: h2
      command: "touch @/h2"
)");
    CHECK(h.exists("h1"));
    CHECK(h.exists("h2"));
    CHECK(h.scripts() == 2);  // the task, then both handlers together
}

TEST_CASE("batch: check mode sends probes only and answers every step") {
    Run r(R"(- hosts: web
  tasks:
    - file: { path: "@/d", state: directory }
    - copy: { dest: "@/d/f", content: "x" }
    - command: "touch @/c"
      args: { creates: "@/c" }
)",
          true);
    CHECK(r.host().changed == 3);
    CHECK(r.host().failed == 0);
    CHECK_FALSE(r.exists("d"));
    CHECK_FALSE(r.exists("c"));
    CHECK(r.scripts() == 1);
}

TEST_CASE("batch: the same results as one step per round trip") {
    const char* book = R"(- hosts: web
  tasks:
    - file: { path: "@/d", state: directory, mode: "0700" }
    - copy: { dest: "@/d/f", content: "x" }
    - command: "printf '%s' 'abc'"
    - shell: "echo e >&2"
    - lineinfile: { path: "@/d/f", line: "y" }
    - command: "false"
      ignore_errors: true
    - command: "true"
)";
    Run batched(book, false, 64), single(book, false, 1);
    REQUIRE(batched.host().steps.size() == single.host().steps.size());
    for (size_t i = 0; i < single.host().steps.size(); ++i) {
        const auto &a = batched.host().steps[i], &b = single.host().steps[i];
        CHECK(a.status == b.status);
        CHECK(a.rc == b.rc);
        CHECK(a.stdout_tail == b.stdout_tail);
        CHECK(a.stderr_tail == b.stderr_tail);
    }
    CHECK(batched.scripts() == 1);
    CHECK(single.scripts() == 7);
}

TEST_CASE("batch: command_timeout holds per step, not for the whole batch") {
    Run r(R"(- hosts: web
  tasks:
    - shell: "sleep 0.6"
    - shell: "sleep 0.6"
    - name: hangs
      shell: "sleep 30"
    - name: never
      command: "touch @/never"
)",
          false, 64, "ssh: { command_timeout: 1 }\n");
    REQUIRE(r.host().steps.size() == 3);
    CHECK(r.host().steps[0].status == engine::Status::Changed);
    CHECK(r.host().steps[1].status == engine::Status::Changed);
    CHECK(r.host().steps[2].status == engine::Status::Failed);
    CHECK(r.host().steps[2].message.find("timed out") != std::string::npos);
    CHECK(r.host().steps[2].seconds < 10);
    CHECK_FALSE(r.exists("never"));
}

TEST_CASE("facts are gathered only when a template uses them, once") {
    Run none(R"(- hosts: web
  tasks:
    - command: "true"
)");
    for (const auto& s : none.conn.sent) CHECK(s.find("os-release") == std::string::npos);
    Run used(R"(- hosts: web
  tasks:
    - command: "echo {{ facts.os_id }}"
    - command: "echo {{ ansible_facts.user }}"
)");
    int gathers = 0;
    for (const auto& s : used.conn.sent) gathers += s.find("os-release") != std::string::npos;
    CHECK(gathers == 1);
    CHECK_FALSE(used.host().steps.at(0).stdout_tail.empty());
    Run eager(R"(- hosts: web
  gather_facts: true
  tasks: []
)");
    REQUIRE(eager.conn.sent.size() == 1);
    CHECK(eager.conn.sent[0].find("os-release") != std::string::npos);
}

TEST_CASE("batch splitter: markers cut at any byte boundary, forged markers are just output") {
    std::string nonce = engine::make_nonce();
    CHECK(nonce.size() >= 32);
    CHECK(nonce != engine::make_nonce());
    std::string out = "hello\ndecamp0000:0:0\n\n" + nonce + ":0:0\n" + "\n" + nonce + ":1:97\n" + "tail";
    std::string err = "e1\n\n" + nonce + ":0:0\n\n" + nonce + ":1:97\n";
    for (size_t cut = 0; cut <= out.size(); cut += 3) {
        engine::BatchSplitter s(nonce);
        std::vector<engine::BatchSplitter::Part> parts;
        auto drain = [&] {
            while (s.ready()) parts.push_back(s.take());
        };
        s.feed(std::string_view(out).substr(0, cut), false);
        drain();
        s.feed(std::string_view(out).substr(cut), false);
        drain();
        for (char ch : err) {
            s.feed(std::string_view(&ch, 1), true);
            drain();
        }
        REQUIRE(parts.size() == 2);
        CHECK(parts[0].out.str() == "hello\ndecamp0000:0:0\n");
        CHECK(parts[0].status == 0);
        CHECK(parts[0].err.str() == "e1\n");
        CHECK(parts[1].err.str() == "");
        CHECK(parts[1].out.str() == "");
        CHECK(parts[1].status == 97);
        CHECK(s.rest_out().str() == "tail");
    }
}

namespace {

// Puts logging wrappers for stat and sha256sum first on PATH for the test's lifetime.
struct CountingTools {
    test::TempDir bin;
    std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
    CountingTools() {
        for (const char* tool : {"stat", "sha256sum"}) {
            auto p = bin.write(tool, "#!/bin/sh\necho " + std::string(tool) + " >> " + (bin.path() / "calls").string() +
                                         "\nPATH=" + old_path + " exec " + tool + " \"$@\"\n");
            std::filesystem::permissions(p, std::filesystem::perms::owner_all);
        }
        setenv("PATH", (bin.path().string() + ":" + old_path).c_str(), 1);
    }
    ~CountingTools() { setenv("PATH", old_path.c_str(), 1); }
    int calls(const std::string& tool) const {
        std::ifstream in(bin.path() / "calls");
        int n = 0;
        for (std::string l; std::getline(in, l);) n += l == tool;
        return n;
    }
    void reset() const { std::filesystem::remove(bin.path() / "calls"); }
};

}  // namespace

TEST_CASE("batch: probes answer from one stat and one sha256sum up front, until a step changes something") {
    const char* book = R"(- hosts: web
  tasks:
    - file: { path: "@/d", state: directory, mode: "0750" }
    - file: { path: "@/d/e", state: directory, mode: "0700" }
    - copy: { dest: "@/d/a", content: "a\n", mode: "0640" }
    - copy: { dest: "@/d/b", content: "b\n" }
    - template: { dest: "@/d/c", content: "c\n", mode: "0600" }
    - lineinfile: { path: "@/d/l", line: "x=1", create: true, mode: "0644" }
    - copy: { dest: "@/d/o", content: "o", owner: "OWNER", group: GID, mode: "0604" }
    - file: { path: "@/d/o", owner: "OWNER", group: "GROUP" }
)";
    CountingTools tools;
    test::TempDir shared;
    std::string b = book;
    for (size_t p; (p = b.find('@')) != std::string::npos;) b.replace(p, 1, shared.path().string());
    // Owner by name, group by id and by name: the cached answers must read like stat's.
    auto me = shared.write("me", "");
    auto field = [&](const char* fmt) {
        std::string cmd = "stat -c " + std::string(fmt) + " " + me.string(), out;
        FILE* f = popen(cmd.c_str(), "r");
        char buf[256];
        while (fgets(buf, sizeof buf, f)) out += buf;
        pclose(f);
        while (!out.empty() && out.back() == '\n') out.pop_back();
        return out;
    };
    for (auto [k, v] : {std::pair<std::string, std::string>{"OWNER", field("%U")}, {"GID", field("%g")}, {"GROUP", field("%G")}})
        for (size_t p; (p = b.find(k)) != std::string::npos;) b.replace(p, k.size(), v);
    Run cold(b);
    CHECK(cold.host().changed == 7);
    tools.reset();
    Run warm(b);
    CHECK(warm.host().changed == 0);
    CHECK(warm.host().ok == 8);
    CHECK(warm.scripts() == 1);
    CHECK(tools.calls("stat") == 1);
    CHECK(tools.calls("sha256sum") == 1);

    // Drift on the host: found by the cached answers, and a later probe of the same path
    // (after the change) asks the host again instead of trusting the stale answer.
    std::filesystem::permissions(shared.path() / "d", std::filesystem::perms(0755));
    std::ofstream(shared.path() / "d/b") << "drift";
    std::string more = R"(    - file: { path: "@/d", state: directory, mode: "0750" }
    - copy: { dest: "@/d/b", content: "b\n" }
)";
    for (size_t p; (p = more.find('@')) != std::string::npos;) more.replace(p, 1, shared.path().string());
    Run fix(b + more);
    REQUIRE(fix.statuses().size() == 10);
    CHECK(fix.host().steps[0].status == engine::Status::Changed);
    CHECK(fix.host().steps[3].status == engine::Status::Changed);
    CHECK(fix.host().changed == 2);
    CHECK(fix.host().steps[8].status == engine::Status::Ok);
    CHECK(fix.host().steps[9].status == engine::Status::Ok);
}

TEST_CASE("batch: a slow step (package, wait_for) ends its batch") {
    Run r(R"(- hosts: web
  tasks:
    - command: "true"
    - wait_for: { path: "@/inv.yml", timeout: 5 }
    - command: "true"
    - command: "true"
)");
    CHECK(r.host().failed == 0);
    CHECK(r.scripts() == 2);
}

TEST_CASE("batch: a failed_when loop goes one item per round trip, every item recorded and registered") {
    Run r(R"(- hosts: web
  tasks:
    - name: "probe {{ item }}"
      shell: "touch @/i{{ item }}; exit {{ item }}"
      loop: [3, 0, 4]
      register: st
      failed_when: false
    - name: count
      debug: { msg: "{{ st.results | length }} {{ st.results[0].rc }} {{ st.results[2].rc }}" }
    - name: "fails on output"
      shell: "echo {{ item }}; touch @/o{{ item }}"
      loop: [ok, ERR, later]
      failed_when: "'ERR' in result.stdout"
)");
    REQUIRE(r.host().steps.size() == 6);
    CHECK(r.host().steps[3].message == "3 3 4");
    CHECK(r.exists("i3"));
    CHECK(r.exists("i4"));
    CHECK(r.host().steps[5].status == engine::Status::Failed);
    CHECK(r.exists("oERR"));
    CHECK_FALSE(r.exists("olater"));  // the host did not run past the item failed_when failed
}

TEST_CASE("batch: a step that times out under ignore_errors does not swallow the steps after it") {
    Run r(R"(- hosts: web
  tasks:
    - name: hangs
      shell: "sleep 30"
      ignore_errors: true
    - name: a
      command: "touch @/a"
    - name: b
      command: "touch @/b"
      notify: h
  handlers:
    - name: h
      command: "touch @/h"
)",
          false, 64, "ssh: { command_timeout: 1 }\n");
    CHECK(r.statuses() == v({"hangs=failed", "a=changed", "b=changed", "h=changed"}));
    CHECK(r.host().steps[0].message.find("timed out") != std::string::npos);
    CHECK(r.exists("a"));
    CHECK(r.exists("b"));
    CHECK(r.exists("h"));
}

TEST_CASE("batch: a command exiting 97 (what a converged probe says) still drops the cached reads") {
    test::TempDir shared;
    std::string b = R"(- hosts: web
  tasks:
    - copy: { dest: "@/f", content: "orig" }
    - copy: { dest: "@/g", content: "g" }
    - shell: "echo drift > @/f; exit 97"
      ignore_errors: true
    - copy: { dest: "@/f", content: "orig" }
)";
    for (size_t p; (p = b.find('@')) != std::string::npos;) b.replace(p, 1, shared.path().string());
    Run first(b);
    Run second(b);
    REQUIRE(second.host().steps.size() == 4);
    CHECK(second.host().steps[0].status == engine::Status::Ok);
    CHECK(second.host().steps[3].status == engine::Status::Changed);
    std::ifstream in(shared.path() / "f");
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content == "orig");
}
