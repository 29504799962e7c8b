// Output floods: what the engine keeps of a step's output is bounded (capture.hpp), through
// the batch splitter, a step run alone, `decamp run`, and `register`.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "engine/capture.hpp"
#include "engine/engine.hpp"
#include "engine/script.hpp"
#include "util/secret.hpp"
#include "test_util.hpp"

using namespace decamp;
using engine::Capture;
using engine::kCaptureFull;
using engine::kCaptureTail;

namespace {

// Short numbered lines, as `seq` prints them, handed out in uneven chunks.
struct Flood {
    uint64_t next = 1, bytes = 0;
    std::string last;  // the last kCaptureTail bytes produced
    std::string chunk(size_t lines) {
        std::string s;
        for (size_t i = 0; i < lines; ++i) s += std::to_string(next++) + "\n";
        bytes += s.size();
        last += s;
        if (last.size() > 4 * kCaptureTail) last.erase(0, last.size() - kCaptureTail);
        return s;
    }
    std::string tail() const { return last.substr(last.size() - kCaptureTail); }
};

}  // namespace

TEST_CASE("capture: whole up to the limit, then a bounded tail and a byte count") {
    Capture small;
    small.append("abc");
    small.append("def");
    CHECK(small.str() == "abcdef");
    CHECK_FALSE(small.overflow());

    Capture big;
    Flood f;
    size_t max_retained = 0;
    while (f.bytes < 50u * 1024 * 1024) {
        big.append(f.chunk(1 + f.next % 700));
        max_retained = std::max(max_retained, big.retained());
    }
    CHECK(big.overflow());
    CHECK(big.total() == f.bytes);
    CHECK(big.str() == f.tail());
    CHECK(max_retained <= kCaptureFull + 2 * kCaptureTail + 65536);
}

TEST_CASE("batch splitter: 50 MB from one step is cut and kept bounded, the next step exact") {
    std::string nonce = engine::make_nonce();
    engine::BatchSplitter s(nonce);
    Flood f;
    size_t max_retained = 0;
    while (f.bytes < 50u * 1024 * 1024) {
        s.feed(f.chunk(1 + f.next % 977), false);
        max_retained = std::max(max_retained, s.retained());
    }
    s.feed("\n" + nonce + ":0:0\nsmall\n\n" + nonce + ":1:0\n", false);
    s.feed("\n" + nonce + ":0:0\n\n" + nonce + ":1:0\n", true);
    CHECK(max_retained <= 2 * kCaptureFull);
    REQUIRE(s.ready());
    auto p0 = s.take();
    CHECK(p0.out.overflow());
    CHECK(p0.out.total() == f.bytes);
    CHECK(p0.out.str() == f.tail());
    REQUIRE(s.ready());
    auto p1 = s.take();
    CHECK(p1.out.str() == "small\n");
}

namespace {

struct LocalConnector : engine::Connector {
    std::unique_ptr<transport::Transport> connect(const inventory::Host&) override { return transport::make_local(); }
};

struct LocalLab {
    test::TempDir dir;
    inventory::Inventory inv;
    std::vector<playbook::Playbook> books;
    LocalLab(const std::string& tasks, int command_timeout = 0) {
        dir.write("site.yml", "- hosts: web\n  tasks:\n" + tasks);
        inv = inventory::load(dir.write(
            "inv.yml", "project: t\nssh: { command_timeout: " + std::to_string(command_timeout) +
                           " }\nproviders:\n  p:\n    kind: static\n    hosts:\n"
                           "      h1: { address: local, roles: [web] }\nroles: { web: { playbooks: [site.yml] } }\n"));
        books.push_back(playbook::load(dir.path() / "site.yml"));
    }
    engine::Report run(engine::Options o = {}) {
        LocalConnector conn;
        engine::Engine eng(inv, conn, o);
        return eng.run(plan::assign_roles(inv, books, "p", ""));
    }
};

bool process_gone(pid_t pid) {
    if (::kill(pid, 0) != 0) return true;
    // A zombie waiting for its reaper runs nothing either.
    std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(st, line);
    auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

pid_t read_pid(const std::filesystem::path& p) {
    std::ifstream in(p);
    pid_t pid = 0;
    in >> pid;
    return pid;
}

}  // namespace

TEST_CASE("engine + local transport: a 50 MB step keeps a bounded tail; register past the limit fails clearly") {
    LocalLab lab("    - name: flood\n      command: seq 1 7000000\n"
                 "    - name: flood registered\n      command: seq 1 300000\n      register: r\n");
    auto rep = lab.run();
    REQUIRE(rep.hosts.size() == 1);
    const auto& steps = rep.hosts[0].steps;
    REQUIRE(steps.size() == 2);
    CHECK(steps[0].status == engine::Status::Changed);
    CHECK(steps[0].stdout_tail.size() < kCaptureTail);
    CHECK(steps[0].stdout_tail.find("6999999\n7000000") != std::string::npos);
    CHECK(steps[1].status == engine::Status::Failed);
    CHECK(steps[1].message.find("too large to register") != std::string::npos);
    CHECK(steps[1].message.find("1 MiB") != std::string::npos);
}

TEST_CASE("engine + local transport: a timed-out step leaves no process behind") {
    test::TempDir d;
    auto pidfile = d.path() / "pid";
    LocalLab lab2("    - name: hang\n      shell: \"sleep 1000 & echo $! > " + pidfile.string() + "; wait\"\n", 1);
    auto rep = lab2.run();
    REQUIRE(rep.hosts[0].steps.size() == 1);
    CHECK(rep.hosts[0].steps[0].status == engine::Status::Failed);
    CHECK(rep.hosts[0].steps[0].message.find("timed out") != std::string::npos);
    pid_t pid = read_pid(pidfile);
    REQUIRE(pid > 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(process_gone(pid));
}

TEST_CASE("engine + local transport: kill_steps (second Ctrl-C) kills the running step's processes") {
    test::TempDir d;
    auto pidfile = d.path() / "pid";
    LocalLab lab("    - name: hang\n      shell: \"sleep 1000 & echo $! > " + pidfile.string() + "; wait\"\n");
    std::atomic<bool> stop{false}, kill{false};
    engine::Options o;
    o.interrupted = &stop;
    o.kill_steps = &kill;
    std::thread ctrl_c([&] {
        for (int i = 0; i < 100 && read_pid(pidfile) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        stop = true;
        kill = true;
    });
    auto rep = lab.run(o);
    ctrl_c.join();
    REQUIRE(rep.hosts[0].steps.size() == 1);
    CHECK(rep.hosts[0].steps[0].message.find("interrupted") != std::string::npos);
    pid_t pid = read_pid(pidfile);
    REQUIRE(pid > 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(process_gone(pid));
}

TEST_CASE("decamp run: honours command_timeout and streams a bounded tail") {
    test::TempDir d;
    auto pidfile = d.path() / "pid";
    LocalLab lab("    - debug: { msg: hi }\n", 1);
    LocalConnector conn;
    engine::Engine eng(lab.inv, conn, {});
    std::vector<const inventory::Host*> hosts{&lab.inv.hosts[0]};
    auto rep = eng.run_command(hosts, "sleep 1000 & echo $! > " + pidfile.string() + "; wait", false);
    REQUIRE(rep.hosts[0].steps.size() == 1);
    CHECK(rep.hosts[0].steps[0].message.find("timed out") != std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(process_gone(read_pid(pidfile)));

    LocalLab lab2("    - debug: { msg: hi }\n");
    engine::Engine eng2(lab2.inv, conn, {});
    std::vector<const inventory::Host*> hosts2{&lab2.inv.hosts[0]};
    rep = eng2.run_command(hosts2, "seq 1 7000000", false);
    const auto& s = rep.hosts[0].steps[0];
    CHECK(s.rc == 0);
    CHECK(s.stdout_tail.size() < kCaptureTail + 100);
    CHECK(s.stdout_tail.find("earlier bytes not kept") != std::string::npos);
    CHECK(s.stdout_tail.find("7000000\n") != std::string::npos);

    // `decamp run --json` reports what the command printed (its bounded tail), masked.
    redactor().add("s3cr3t-in-output");
    rep = eng2.run_command(hosts2, "echo run-json-out; echo s3cr3t-in-output; echo run-json-err >&2", false);
    std::string json = rep.to_json();
    CHECK(json.find("\"stdout_tail\":\"run-json-out\\n***\\n\"") != std::string::npos);
    CHECK(json.find("\"stderr_tail\":\"run-json-err\\n\"") != std::string::npos);
    CHECK(json.find("s3cr3t-in-output") == std::string::npos);
}
