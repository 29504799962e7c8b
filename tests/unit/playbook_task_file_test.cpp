// copy/template src: what is not a regular readable file is a load-time error with
// file:line:column (never a truncated destination, never a hang on a FIFO); a NUL byte in
// any argument is refused at load time and, when a rendered value brings one, at plan time.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "inventory/inventory.hpp"
#include "plan/planner.hpp"
#include "playbook/playbook.hpp"
#include "playbook/task_file.hpp"
#include "test_util.hpp"
#include "util/error.hpp"

using namespace decamp;
namespace fs = std::filesystem;

namespace {

std::vector<Diagnostic> errors_of(const fs::path& pb) {
    try {
        playbook::load(pb);
    } catch (const ConfigError& e) {
        return e.diagnostics();
    }
    return {};
}

}  // namespace

TEST_CASE("task_file: directories, FIFOs, devices and missing files are refused without blocking") {
    test::TempDir dir;
    auto ok = dir.write("files/motd", "hi\n");
    CHECK(playbook::task_file_problem(ok) == "");
    CHECK(playbook::read_task_file(ok) == "hi\n");
    CHECK(playbook::resolve_task_file(dir.path(), "copy", "motd") == ok);
    CHECK(playbook::resolve_task_file(dir.path(), "template", "motd") == dir.path() / "motd");
    fs::create_directory(dir.path() / "files/adir");
    REQUIRE(::mkfifo((dir.path() / "files/fifo").c_str(), 0600) == 0);
    fs::create_symlink(dir.path() / "files/fifo", dir.path() / "files/to-fifo");
    CHECK(playbook::task_file_problem(dir.path() / "files/adir") == "is a directory");
    CHECK(playbook::task_file_problem("/dev/null") == "is a device");
    CHECK(playbook::task_file_problem(dir.path() / "nope") == "does not exist");
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(playbook::task_file_problem(dir.path() / "files/fifo") == "is a FIFO");
    CHECK(playbook::task_file_problem(dir.path() / "files/to-fifo") == "is a FIFO");
    CHECK_THROWS_WITH(playbook::read_task_file(dir.path() / "files/fifo"), "is a FIFO");
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
}

TEST_CASE("load: copy/template src that cannot be read is an error with file:line:column") {
    test::TempDir dir;
    dir.write("files/good", "x");
    fs::create_directory(dir.path() / "files/adir");
    REQUIRE(::mkfifo((dir.path() / "files/fifo").c_str(), 0600) == 0);
    auto pb = dir.write("site.yml", R"(- hosts: all
  tasks:
    - copy: { src: good, dest: /etc/good }
    - copy: { src: adir, dest: /etc/a }
    - template: { src: files/fifo, dest: /etc/b }
    - copy: { src: /dev/zero, dest: /etc/c }
    - copy: { src: missing, dest: /etc/d }
    - copy: { src: "{{ later }}", dest: /etc/e }
)");
    auto d = errors_of(pb);
    REQUIRE(d.size() == 4);
    CHECK(d[0].mark.line == 4);
    CHECK(d[0].mark.column > 0);
    CHECK(d[0].path.find("/src") != std::string::npos);
    CHECK(d[0].message.find("cannot read adir") != std::string::npos);
    CHECK(d[0].message.find("is a directory") != std::string::npos);
    CHECK(d[1].mark.line == 5);
    CHECK(d[1].message.find("is a FIFO") != std::string::npos);
    CHECK(d[2].mark.line == 6);
    CHECK(d[2].message.find("is a device") != std::string::npos);
    CHECK(d[3].mark.line == 7);
    CHECK(d[3].message.find("does not exist") != std::string::npos);
}

TEST_CASE("load: errors in key=value arguments say file:line:column") {
    test::TempDir dir;
    dir.write("files/good", "x");
    fs::create_directory(dir.path() / "files/adir");
    auto pb = dir.write("site.yml", R"(- hosts: all
  tasks:
    - copy: "src=good dest=/etc/a"
    - name: kv
      copy: src=adir dest=/etc/b
)");
    auto d = errors_of(pb);
    REQUIRE(d.size() == 1);
    CHECK(d[0].mark.file == pb.string());
    CHECK(d[0].mark.line == 5);
    CHECK(d[0].mark.column == 13);
    CHECK(d[0].message.find("cannot read adir") != std::string::npos);
}

TEST_CASE("load: a NUL byte in any module argument is refused") {
    test::TempDir dir;
    auto pb = dir.write("site.yml", R"(- hosts: all
  tasks:
    - file: { path: "/srv/a\0/../etc", state: directory }
    - command: "echo a\0b"
    - lineinfile: { path: /etc/x, line: ok, regexp: "^a\0" }
    - debug: { msg: "x\0" }
    - apt: { name: [curl, "vim\0"] }
)");
    auto d = errors_of(pb);
    REQUIRE(d.size() == 5);
    for (size_t i = 0; i < d.size(); ++i) {
        CAPTURE(i);
        CHECK(d[i].mark.line == int(i) + 3);
        CHECK(d[i].message.find("NUL byte") != std::string::npos);
    }
    CHECK(d[0].path.find("/path") != std::string::npos);
}

TEST_CASE("plan: a NUL brought by a rendered value, and an unreadable templated src, fail the task") {
    test::TempDir dir;
    REQUIRE(::mkfifo((dir.path() / "fifo").c_str(), 0600) == 0);
    auto pb = dir.write("site.yml", R"(- hosts: all
  tasks:
    - copy: { src: "{{ where }}", dest: /etc/x }
    - file: { path: "/srv/{{ bad }}", state: directory }
)");
    auto inv = inventory::load(dir.write("inv.yml", "project: t\nproviders:\n  p:\n    kind: static\n    hosts:\n"
                                                    "      h1: { address: 10.0.0.1, roles: [web] }\n"
                                                    "roles: { web: { playbooks: [site.yml] } }\n"
                                                    "vars: { where: fifo, bad: \"x\\0y\" }\n"));
    auto book = playbook::load(pb);
    plan::HostVars vars(inv, inv.hosts.at(0));
    tmpl::Options opts;
    const auto& tasks = book.plays.at(0).tasks;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(plan::plan_task(tasks.at(0), vars, opts), doctest::Contains("is a FIFO"));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    CHECK_THROWS_WITH(plan::plan_task(tasks.at(1), vars, opts), doctest::Contains("path: contains a NUL byte"));
}
