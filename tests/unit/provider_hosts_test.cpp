// decamp hosts against the fake Hetzner Cloud API: plan, consent, idempotent create, the
// state and known_hosts it writes, adoption after an interrupted order, reinstall, power.
#include <doctest/doctest.h>

#include <cstdlib>
#include <sstream>

#include "cli/cli.hpp"
#include "fake_hetzner_cloud.hpp"
#include "fake_hetzner_robot.hpp"
#include "hosts/hosts.hpp"
#include "hosts/trust.hpp"
#include "inventory/inventory.hpp"
#include "migrate/journal.hpp"
#include "provider/host_key.hpp"
#include "test_util.hpp"
#include "transport/known_hosts.hpp"
#include "transport/transport.hpp"
#include "util/api_client.hpp"
#include "util/secret.hpp"

namespace decamp::cli {
int run_hosts(const Args& args, std::istream& in, std::ostream& out, std::ostream& err, bool terminal);
}

using namespace decamp;

namespace {

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

const std::string kOurKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBv1uQ3vHh0pXG7cN8yXx0o1t4c5yq7oZb6m2kq3wJ9E me@laptop";

struct Bench {
    http::ApiTiming saved = http::api_timing();
    test::FakeHetznerCloud fake;
    test::TempDir dir;
    std::string inv, state, known;

    explicit Bench(const std::string& provider_extra = "") {
        http::api_timing().poll_ms = 1;
        http::api_timing().action_timeout_s = 1;
        http::api_timing().sleep = [](int) {};
        setenv("DECAMP_TEST_HCLOUD", fake.token.c_str(), 1);
        dir.write("a.yml", "- hosts: all\n  tasks: []\n");
        dir.write("id_test.pub", kOurKey + "\n");
        dir.write("id_test", "not read\n");
        inv = dir.write(
                     "inv.yml",
                     "project: p\n"
                     "ssh: { key: id_test, known_hosts: known_hosts }\n"
                     "providers:\n"
                     "  old: { kind: static, hosts: { o1: { address: 10.9.0.1, roles: [web] } } }\n"
                     "  cloud:\n"
                     "    kind: hetzner-cloud\n"
                     "    token: ${env:DECAMP_TEST_HCLOUD}\n"
                     "    api: " +
                         fake.url() + "\n" + provider_extra +
                         "    hosts:\n"
                         "      web1: { server_type: cx22, image: debian-12, location: fsn1, roles: [web] }\n"
                         "      web2: { server_type: cx22, image: debian-12, location: hel1, roles: [web] }\n"
                         "active: old\n"
                         "roles: { web: { playbooks: [a.yml] } }\n")
                  .string();
        state = (dir.path() / "state.db").string();
        known = (dir.path() / "known_hosts").string();
    }
    ~Bench() { http::api_timing() = saved; }

    struct Run {
        int code;
        std::string out, err;
    };
    Run run(std::vector<std::string> argv, bool terminal = false, const std::string& answer = "") {
        const cli::Command* cmd = nullptr;
        for (const auto& c : cli::commands())
            if (c.name == "hosts") cmd = &c;
        REQUIRE(cmd);
        argv.insert(argv.end(), {"-i", inv, "--state", state});
        cli::Args args = cli::parse_args(*cmd, argv);
        std::istringstream in(answer);
        std::ostringstream out, err;
        int code = cli::run_guarded([&] { return cli::run_hosts(args, in, out, err, terminal); }, err);
        return {code, out.str(), err.str()};
    }
    std::optional<hosts::Record> record(const std::string& name) {
        migrate::Journal j(state);
        return hosts::Store(j).get("cloud", name);
    }
};

}  // namespace

TEST_CASE("hosts create: the plan with prices, consent required, then ordered, pinned and in the state") {
    Bench b;
    auto refused = b.run({"create", "--provider", "cloud"});
    CHECK(refused.code == kExitUsage);
    CHECK(has(refused.err, "web1: order cx22 debian-12 in fsn1 — €4.51/month"));
    CHECK(has(refused.err, "pass --yes"));
    CHECK(b.fake.count("POST", "/v1/servers") == 0);

    auto declined = b.run({"create", "--provider", "cloud"}, true, "no\n");
    CHECK(declined.code == kExitUsage);
    CHECK(has(declined.err, "cancelled; nothing was changed"));
    CHECK(b.fake.count("POST", "/v1/servers") == 0);

    auto r = b.run({"create", "--provider", "cloud", "--yes"});
    CAPTURE(r.err);
    CHECK(r.code == kExitOk);
    CHECK(has(r.err, "web2: order cx22 debian-12 in hel1 — €4.60/month"));
    CHECK(has(r.err, "web1: ordered: id "));
    CHECK(has(r.err, "host key ssh-ed25519 pinned (injected)"));
    CHECK(has(r.err, "2 of 2 done"));
    CHECK(b.fake.count("POST", "/v1/servers") == 2);

    auto web1 = b.record("web1");
    REQUIRE(web1);
    CHECK(!web1->id.empty());
    CHECK(web1->ipv4.rfind("198.18.7.", 0) == 0);
    CHECK(web1->key_source == "injected");
    CHECK(web1->host_key.rfind("ssh-ed25519 ", 0) == 0);
    // The pinned key is the one the server got in its user data.
    auto servers = b.fake.servers();
    CHECK(has(servers[0].user_data, web1->host_key));
    auto file = transport::known_hosts::read_file(b.known);
    REQUIRE(file.entries.size() == 2);
    auto probe = transport::known_hosts::parse("x " + web1->host_key, "k");
    auto c =
        transport::known_hosts::check(file, web1->ipv4, 22, probe.entries[0].key_type, probe.entries[0].key);
    CHECK(c.verdict == transport::known_hosts::Verdict::Match);

    SUBCASE("a second create orders nothing and says so") {
        auto again = b.run({"create", "--provider", "cloud"});  // no --yes needed: nothing to do
        CHECK(again.code == kExitOk);
        CHECK(has(again.err, "web1: exists (id " + web1->id));
        CHECK(has(again.err, "nothing to order"));
        CHECK(b.fake.count("POST", "/v1/servers") == 2);
        CHECK(b.record("web1")->host_key == web1->host_key);
    }
    SUBCASE("list shows what exists, as JSON too") {
        auto l = b.run({"list", "--provider", "cloud", "--json"});
        CHECK(l.code == kExitOk);
        CHECK(has(l.out, "\"host\":\"web1\""));
        CHECK(has(l.out, "\"id\":\"" + web1->id + "\""));
        CHECK(has(l.out, "\"not_in_inventory\":[]"));
        b.fake.add_server("stray");
        auto text = b.run({"list", "--provider", "cloud"});
        CHECK(has(text.out,
                  "provider cloud (hetzner-cloud; can: order hosts, reinstall, rescue, user data):\n"));
        CHECK(has(text.out, "  web1: id " + web1->id + ", " + web1->ipv4 + ", running; host key injected\n"));
        CHECK(has(text.out, "  (stray: id "));
    }
    SUBCASE("reinstall gives a new host key and replaces the pin for that address") {
        auto re = b.run({"reinstall", "--provider", "cloud", "--limit", "web1", "--yes"});
        CAPTURE(re.err);
        CHECK(re.code == kExitOk);
        CHECK(has(re.err, "reinstall debian-12 on id " + web1->id));
        auto after = b.record("web1");
        CHECK(after->host_key != web1->host_key);
        CHECK(after->key_source == "injected");
        auto f2 = transport::known_hosts::read_file(b.known);
        CHECK(f2.entries.size() == 2);
        auto p2 = transport::known_hosts::parse("x " + after->host_key, "k");
        CHECK(transport::known_hosts::check(f2, after->ipv4, 22, p2.entries[0].key_type, p2.entries[0].key)
                  .verdict == transport::known_hosts::Verdict::Match);
        // The trust store holds the new key for the server id; the old key is now a mismatch.
        migrate::Journal j(b.state);
        auto t = hosts::host_trust(j, "cloud", "web1", false);
        REQUIRE(t);
        CHECK(t->server_id == web1->id);
        CHECK(t->provenance == "injected-user-data");
        CHECK(transport::judge(*t, p2.entries[0].key_type, p2.entries[0].key) ==
              transport::TrustVerdict::Match);
        auto p1 = transport::known_hosts::parse("x " + web1->host_key, "k");
        CHECK(transport::judge(*t, p1.entries[0].key_type, p1.entries[0].key) ==
              transport::TrustVerdict::Mismatch);
    }
    SUBCASE("power off, then rescue") {
        auto pw = b.run({"power", "off", "--provider", "cloud", "--limit", "web2", "--yes"});
        CHECK(pw.code == kExitOk);
        CHECK(has(pw.err, "web2: power off: done"));
        auto rs = b.run({"rescue", "--provider", "cloud", "--limit", "web2", "--yes"});
        CAPTURE(rs.err);
        CHECK(rs.code == kExitOk);
        CHECK(has(rs.err, "its host key is not told by the API (not pinned)"));
        CHECK_FALSE(has(rs.err + rs.out, "rescue-root-pw"));
        CHECK(!b.record("web2")->host_key.empty());  // the installed system's key stays known
    }
}

TEST_CASE("hosts create: an order interrupted after the provider took it is adopted, not ordered again") {
    Bench b;
    std::string pending = provider::key_of(provider::generate_host_key("web1").public_line);
    {
        migrate::Journal j(b.state);
        hosts::Store(j).op_started("cloud", "web1", "create", pending);  // then kill -9
    }
    b.fake.add_server("web1");  // the provider had taken the order
    auto r = b.run({"create", "--provider", "cloud", "--limit", "web1"});
    CAPTURE(r.err);
    CHECK(r.code == kExitOk);
    CHECK(has(r.err, "nothing to order"));
    CHECK(b.fake.count("POST", "/v1/servers") == 0);
    auto rec = b.record("web1");
    REQUIRE(rec);
    CHECK(rec->host_key == pending);
    CHECK(rec->key_source == "injected");
    auto file = transport::known_hosts::read_file(b.known);
    auto probe = transport::known_hosts::parse("x " + pending, "k");
    CHECK(transport::known_hosts::check(file, rec->ipv4, 22, probe.entries[0].key_type, probe.entries[0].key)
              .verdict == transport::known_hosts::Verdict::Match);
    migrate::Journal j(b.state);
    CHECK(hosts::Store(j).op("cloud", "web1")->state == "done");
}

TEST_CASE("hosts: one host failing does not stop the others; exit 1; a rerun redoes nothing done") {
    Bench b;
    {
        std::lock_guard lock(b.fake.mu());
        b.fake.fail_next_action = "resource_unavailable";
    }
    auto r = b.run({"create", "--provider", "cloud", "--yes"});
    CAPTURE(r.err);
    CHECK(r.code == kExitHostFailed);
    CHECK(has(r.err, "web1: FAILED: provider cloud: action"));
    CHECK(has(r.err, "resource_unavailable"));
    CHECK(has(r.err, "1 of 2 done, 1 failed"));
    CHECK(b.record("web2"));
    migrate::Journal j(b.state);
    CHECK(hosts::Store(j).op("cloud", "web1")->state == "failed");
}

TEST_CASE("hosts: bad input ends cleanly before anything is ordered") {
    Bench b;
    SUBCASE("no --provider") {
        auto r = b.run({"create", "--yes"});
        CHECK(r.code == kExitUsage);
        CHECK(has(r.err, "--provider"));
    }
    SUBCASE("a provider that cannot order") {
        auto r = b.run({"create", "--provider", "old", "--yes"});
        CHECK(r.code == kExitRuntime);
        CHECK(has(r.err, "provider old (kind static) cannot order hosts; it can: none"));
    }
    SUBCASE("a --limit that selects nothing") {
        auto r = b.run({"create", "--provider", "cloud", "--limit", "db*", "--yes"});
        CHECK(r.code == kExitUsage);
    }
    SUBCASE("an unknown power word") {
        auto r = b.run({"power", "sideways", "--provider", "cloud", "--yes"});
        CHECK(r.code == kExitUsage);
    }
    SUBCASE("a token the API refuses: once, never shown") {
        setenv("DECAMP_TEST_HCLOUD", "refused-token-987654", 1);
        auto r = b.run({"create", "--provider", "cloud", "--yes"});
        CHECK(r.code == kExitRuntime);
        CHECK(has(r.err, "HTTP 401"));
        CHECK_FALSE(has(r.err, "refused-token"));
        CHECK(b.fake.seen().size() == 1);
    }
    CHECK(b.fake.count("POST", "/v1/servers") == 0);
}

TEST_CASE("hosts: the addresses in the state reach an inventory that has none for those hosts") {
    Bench b;
    auto before = inventory::load(b.inv);
    CHECK(hosts::fill_addresses(before, b.state) == std::vector<std::string>{"web1", "web2"});
    CHECK_FALSE(std::filesystem::exists(b.state));  // reading never creates the state
    CHECK(b.run({"list", "--provider", "cloud"}).code == kExitOk);
    CHECK_FALSE(std::filesystem::exists(b.state));
    REQUIRE(b.run({"create", "--provider", "cloud", "--limit", "web2", "--yes"}).code == kExitOk);
    auto inv = inventory::load(b.inv);
    CHECK(hosts::fill_addresses(inv, b.state) == std::vector<std::string>{"web1"});
    CHECK(inv.find_host("web2")->address == b.record("web2")->ipv4);
    CHECK(inv.find_host("o1")->address == "10.9.0.1");
}

TEST_CASE(
    "hosts on a Robot provider: a server it has is not ordered, reinstall keeps the attested fingerprints") {
    http::ApiTiming saved = http::api_timing();
    http::api_timing().sleep = [](int) {};
    test::FakeHetznerRobot fake;
    test::TempDir dir;
    setenv("DECAMP_TEST_ROBOT_USER", fake.user.c_str(), 1);
    setenv("DECAMP_TEST_ROBOT_PW", fake.password.c_str(), 1);
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    dir.write("id_test.pub", kOurKey + "\n");
    std::string inv =
        dir.write("inv.yml",
                  "project: p\nssh: { key: id_test, known_hosts: known_hosts }\nproviders:\n"
                  "  metal:\n    kind: hetzner-robot\n    user: ${env:DECAMP_TEST_ROBOT_USER}\n"
                  "    password: ${env:DECAMP_TEST_ROBOT_PW}\n    api: " +
                      fake.url() +
                      "\n"
                      "    hosts:\n      db1: { server: 321, image: Debian 12 base, roles: [db] }\n"
                      "      db3: { product: EX44, image: Debian 12 base, location: FSN1, roles: [db] }\n"
                      "roles: { db: { playbooks: [a.yml] } }\n")
            .string();
    std::string state = (dir.path() / "state.db").string();
    const cli::Command* cmd = nullptr;
    for (const auto& c : cli::commands())
        if (c.name == "hosts") cmd = &c;
    auto run = [&](std::vector<std::string> argv) {
        argv.insert(argv.end(), {"-i", inv, "--state", state, "--yes"});
        std::istringstream in;
        std::ostringstream out, err;
        int code = cli::run_guarded(
            [&] { return cli::run_hosts(cli::parse_args(*cmd, argv), in, out, err, false); }, err);
        return std::make_pair(code, err.str());
    };
    // db1 is a server the account has; db3 is ordered, and Robot takes its time.
    {
        std::lock_guard lock(fake.mu());
        fake.never_ready = true;
    }
    http::api_timing().action_timeout_s = 0;
    auto slow = run({"create", "--provider", "metal"});
    CAPTURE(slow.second);
    CHECK(slow.first == kExitHostFailed);
    CHECK(has(slow.second, "db1: exists (id 321, 198.18.8.21, ready): nothing to order"));
    CHECK(has(slow.second, "db3: FAILED: provider metal: the order B20261203-"));
    CHECK(has(slow.second, "is still \"in process\" after 0 s"));
    {
        std::lock_guard lock(fake.mu());
        fake.never_ready = false;
    }
    http::api_timing().action_timeout_s = 60;
    auto create = run({"create", "--provider", "metal"});
    CAPTURE(create.second);
    CHECK(create.first == kExitOk);
    CHECK(has(create.second, "db3: ordered: id 402, 198.18.8.52, ready; host key fingerprints from the API"));
    CHECK(fake.count("POST", "/order/server/transaction") == 1);  // the rerun followed the same order
    {
        migrate::Journal j(state);
        auto t = hosts::TrustStore(j).get("metal", "402");
        REQUIRE(t);
        CHECK(t->provenance == hosts::Provenance::ApiAttested);
    }

    auto re = run({"reinstall", "--provider", "metal"});
    CAPTURE(re.second);
    CHECK(re.first == kExitOk);
    CHECK(has(re.second,
              "db1: reinstalled: id 321, 198.18.8.21, ready; host key fingerprints from the API: ED25519 "
              "SHA256:fake"));
    migrate::Journal j(state);
    auto rec = hosts::Store(j).get("metal", "db1");
    REQUIRE(rec);
    CHECK(rec->key_source == "api");
    CHECK(rec->ipv4 == "198.18.8.21");
    auto trusted = hosts::TrustStore(j).get("metal", "321");
    REQUIRE(trusted);
    CHECK(trusted->provenance == hosts::Provenance::ApiAttested);
    CHECK(trusted->fingerprints.size() == 1);
    CHECK_FALSE(std::filesystem::exists(dir.path() / "known_hosts"));  // fingerprints are not pinned as keys
    http::api_timing() = saved;
}

namespace decamp::cli {
int cmd_hostkeys_list(const Args& args, std::ostream& out);
}

TEST_CASE("hostkeys list: each host's key with its provenance") {
    Bench b;
    REQUIRE(b.run({"create", "--provider", "cloud", "--limit", "web1", "--yes"}).code == kExitOk);
    const cli::Command* cmd = nullptr;
    for (const auto& c : cli::commands())
        if (c.name == "hostkeys") cmd = &c;
    REQUIRE(cmd);
    std::ostringstream out;
    cli::cmd_hostkeys_list(cli::parse_args(*cmd, {"list", "-i", b.inv, "--state", b.state}), out);
    auto rec = b.record("web1");
    auto k = transport::known_hosts::parse("x " + rec->host_key, "k");
    std::string fp = transport::fingerprint_sha256(k.entries[0].key);
    CAPTURE(out.str());
    CHECK(has(out.str(),
              "web1 (cloud, " + rec->ipv4 + ", server " + rec->id + "): ssh-ed25519 " + fp +
                  " — injected-user-data: generated by decamp, given to the server in its user data\n"));
    CHECK(has(out.str(), "web2 (cloud): none: no address yet (decamp hosts create)\n"));
    CHECK(has(out.str(), "o1 (old, 10.9.0.1): none: unknown"));
    std::ostringstream js;
    cli::cmd_hostkeys_list(cli::parse_args(*cmd, {"list", "-i", b.inv, "--state", b.state, "--json"}), js);
    CHECK(has(js.str(), "\"host\":\"web1\",\"provider\":\"cloud\",\"address\":\"" + rec->ipv4 +
                            "\",\"server_id\":\"" + rec->id + "\""));
    CHECK(has(js.str(), "\"provenance\":\"injected-user-data\""));
    std::ostringstream one;
    cli::cmd_hostkeys_list(cli::parse_args(*cmd, {"list", "-i", b.inv, "--state", b.state, "--limit", "o1"}),
                           one);
    CHECK_FALSE(has(one.str(), "web1"));
    CHECK(has(one.str(), "o1 (old"));
}

TEST_CASE("ensure_hosts (migrate/drill provision): one order per host across a kill -9 and a resume") {
    Bench b;
    auto inv = inventory::load(b.inv);
    CHECK(hosts::unordered(inv, "cloud") == std::vector<std::string>{"web1", "web2"});
    CHECK(hosts::unordered(inv, "old").empty());
    // The first run was killed while ordering web1: the journal says started, the provider took it.
    std::string pending = provider::key_of(provider::generate_host_key("web1").public_line);
    {
        migrate::Journal j(b.state);
        hosts::Store(j).op_started("cloud", "web1", "create", pending);
    }
    b.fake.add_server("web1");
    {
        migrate::Journal j(b.state);
        std::vector<std::string> lines;
        hosts::Ensure e;
        e.progress = [&](const std::string& l) { lines.push_back(l); };
        std::string summary = hosts::ensure_hosts(inv, "cloud", hosts::unordered(inv, "cloud"), j, e);
        CAPTURE(summary);
        CHECK(b.fake.count("POST", "/v1/servers") == 1);  // web2 only: web1 adopted
        CHECK(has(summary, "web1: exists"));
        CHECK(has(summary, "web2: ordered"));
    }
    // The run goes on with the addresses and the trust the provider channel gave.
    const auto* web1 = inv.find_host("web1");
    REQUIRE(web1);
    CHECK(web1->address == b.record("web1")->ipv4);
    REQUIRE(web1->trust);
    CHECK(web1->trust->keys == std::vector<std::string>{pending});
    CHECK(web1->trust->provenance == "injected-user-data");
    REQUIRE(inv.find_host("web2")->trust);
    CHECK(inv.find_host("web2")->trust->keys.size() == 1);
    CHECK(hosts::unordered(inv, "cloud").empty());

    // Killed again before the migration journaled its step as done: the resumed run, with a
    // fresh inventory, orders nothing.
    auto again = inventory::load(b.inv);
    migrate::Journal j(b.state);
    hosts::ensure_hosts(again, "cloud", {"web1", "web2"}, j, {});
    CHECK(b.fake.count("POST", "/v1/servers") == 1);
    CHECK(again.find_host("web2")->address == b.record("web2")->ipv4);

    // A provider that cannot order is refused by name, before any request.
    auto stat = inventory::load(b.inv);
    CHECK_THROWS_WITH_AS(hosts::ensure_hosts(stat, "old", {"o1"}, j, {}),
                         doctest::Contains("provider old (kind static) cannot order hosts"), Error);
}
