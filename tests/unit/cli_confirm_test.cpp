// Confirmation before migrate, drill and backup prune: the rule (--yes, terminal) and the
// question itself; and migrate refusing without a terminal before it touches anything.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <sstream>

#include "cli/cli.hpp"
#include "cli/confirm.hpp"
#include "test_util.hpp"

using namespace decamp;
using namespace decamp::cli;

namespace {

Args with(std::vector<std::string> switches) {
    Args a;
    a.switches = std::move(switches);
    return a;
}

// fd 0 on /dev/null for the scope: no terminal, whatever runs the tests.
struct NoTerminal {
    int saved = dup(STDIN_FILENO);
    NoTerminal() {
        int fd = open("/dev/null", O_RDONLY);
        dup2(fd, STDIN_FILENO);
        close(fd);
    }
    ~NoTerminal() {
        dup2(saved, STDIN_FILENO);
        close(saved);
    }
};

}  // namespace

TEST_CASE("confirmation rule: --yes goes on, a terminal is asked, anything else is refused") {
    CHECK(consent_rule(true, true) == Consent::Given);
    CHECK(consent_rule(true, false) == Consent::Given);
    CHECK(consent_rule(false, true) == Consent::Ask);
    CHECK(consent_rule(false, false) == Consent::Refused);
}

TEST_CASE("confirmation: shows what will happen and accepts only yes") {
    const std::string what = "decamp migrate: move forum from provider old to provider new\n";
    SUBCASE("yes") {
        std::istringstream in("yes\n");
        std::ostringstream err;
        CHECK(confirm(with({}), "migrate", what, true, in, err));
        CHECK(err.str().find(what) == 0);
        CHECK(err.str().find("Only 'yes' is accepted") != std::string::npos);
    }
    for (const char* answer : {"y\n", "no\n", "\n", "", "YES please\n"}) {
        CAPTURE(answer);
        std::istringstream in(answer);
        std::ostringstream err;
        CHECK_FALSE(confirm(with({}), "migrate", what, true, in, err));
        CHECK(err.str().find("cancelled; nothing was changed") != std::string::npos);
    }
    SUBCASE("--yes does not ask") {
        std::istringstream in("");
        std::ostringstream err;
        CHECK(confirm(with({"yes"}), "drill", what, false, in, err));
        CHECK(err.str().empty());
    }
    SUBCASE("no terminal, no --yes: usage error naming --yes") {
        std::istringstream in("yes\n");
        std::ostringstream err;
        CHECK_THROWS_WITH_AS(confirm(with({}), "backup prune", what, false, in, err), doctest::Contains("pass --yes"),
                             UsageError);
    }
}

TEST_CASE("confirmation: a command that only sometimes asks is refused up front without a terminal") {
    CHECK_THROWS_AS(require_consent_possible(with({}), "backup prune", false), UsageError);
    CHECK_NOTHROW(require_consent_possible(with({}), "backup prune", true));
    CHECK_NOTHROW(require_consent_possible(with({"yes"}), "backup prune", false));
}

TEST_CASE("migrate without a terminal and without --yes exits 2 before it writes a journal") {
    test::TempDir dir;
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    auto inv = dir.write("inv.yml", R"(project: forum
ssh: { user: root, key: id_ed25519, known_hosts: known_hosts }
providers:
  old: { kind: static, hosts: { old-web1: { address: 192.0.2.1, roles: [web] } } }
  new: { kind: static, hosts: { new-web1: { address: 192.0.2.2, roles: [web] } } }
active: old
roles:
  web: { playbooks: [web.yml] }
)");
    std::string inv_s = inv.string(), state = (dir.path() / "state.db").string();
    std::vector<std::string> words = {"decamp", "migrate", "-i", inv_s, "--state", state, "--to", "new"};
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    std::ostringstream out, err;
    int code;
    {
        NoTerminal nt;
        auto* o = std::cout.rdbuf(out.rdbuf());
        auto* e = std::cerr.rdbuf(err.rdbuf());
        code = cli::main(static_cast<int>(argv.size()), argv.data());
        std::cout.rdbuf(o);
        std::cerr.rdbuf(e);
    }
    CHECK(code == 2);
    CHECK(err.str().find("pass --yes") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(state));
}
