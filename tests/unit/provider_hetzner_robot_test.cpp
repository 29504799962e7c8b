// kind: hetzner-robot: its validator, and its provider against a fake Robot webservice on
// 127.0.0.1 (tests/unit/fake_hetzner_robot.hpp).
#include <doctest/doctest.h>

#include <cstdlib>

#include "fake_hetzner_robot.hpp"
#include "inventory/inventory.hpp"
#include "provider/provider.hpp"
#include "test_util.hpp"
#include "util/api_client.hpp"
#include "util/secret.hpp"

using namespace decamp;

namespace {

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

struct FastTiming {
    http::ApiTiming saved = http::api_timing();
    std::vector<int> waits;
    FastTiming() {
        http::api_timing().poll_ms = 1;
        http::api_timing().sleep = [this](int ms) { waits.push_back(ms); };
    }
    ~FastTiming() { http::api_timing() = saved; }
};

std::string block(const std::string& api, const std::string& db2_server = "322") {
    return "project: p\nproviders:\n  metal:\n    kind: hetzner-robot\n"
           "    user: ${env:DECAMP_TEST_ROBOT_USER}\n"
           "    password: ${env:DECAMP_TEST_ROBOT_PW}\n" +
           (api.empty() ? "" : "    api: " + api + "\n") +
           "    hosts:\n"
           "      db1: { server: 321, image: Debian 12 base, roles: [db] }\n"
           "      db2: { server: " +
           db2_server +
           ", image: Debian 12 base, roles: [db] }\n"
           "roles: { db: { playbooks: [a.yml] } }\n";
}

struct Opened {
    test::TempDir dir;
    inventory::Inventory inv;
    std::unique_ptr<provider::Provider> p;
};

std::unique_ptr<Opened> open_against(test::FakeHetznerRobot& fake, const std::string& password) {
    setenv("DECAMP_TEST_ROBOT_USER", fake.user.c_str(), 1);
    setenv("DECAMP_TEST_ROBOT_PW", password.c_str(), 1);
    auto o = std::make_unique<Opened>();
    o->dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    o->inv = inventory::load(o->dir.write("inv.yml", block(fake.url())));
    o->p = inventory::open_provider(o->inv, "metal");
    return o;
}

const std::string kOurKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBv1uQ3vHh0pXG7cN8yXx0o1t4c5yq7oZb6m2kq3wJ9E me@laptop";

}  // namespace

TEST_CASE("hetzner-robot: the block and its capabilities; a bad server number at its position") {
    test::TempDir dir;
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    auto inv = inventory::load(dir.write("inv.yml", block("")));
    auto p = inventory::open_provider(inv, "metal");
    CHECK(provider::describe(p->capabilities()) == "order hosts, reinstall, rescue, host keys from the API");
    REQUIRE(p->orders().size() == 2);
    CHECK(p->orders()[0].plan == "321");
    CHECK(p->orders()[0].image == "Debian 12 base");
    try {
        inventory::load(dir.write("bad.yml", block("", "srv-two")));
        FAIL("loaded");
    } catch (const ConfigError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        CHECK(has(
            e.diagnostics()[0].str(),
            "bad.yml:9:22: providers/metal/hosts/db2/server: \"srv-two\": expected a Robot server number"));
    }
}

TEST_CASE("hetzner-robot: servers by number, Basic auth; a wrong password is tried once") {
    FastTiming timing;
    test::FakeHetznerRobot fake;
    auto o = open_against(fake, fake.password);
    auto servers = o->p->servers();
    REQUIRE(servers.size() == 2);
    CHECK(servers[0].name == "db1");
    CHECK(servers[0].id == "321");
    CHECK(servers[0].ipv4 == "198.18.8.21");
    CHECK(servers[1].name == "db2");

    auto bad = open_against(fake, "wrong-password-123");
    std::string msg;
    try {
        bad->p->servers();
    } catch (const Error& e) {
        msg = redactor().mask(e.what());
    }
    CHECK(has(msg, "HTTP 401: UNAUTHORIZED"));
    CHECK(has(msg, "not retried"));
    CHECK_FALSE(has(msg, "wrong-password"));
    std::lock_guard lock(fake.mu());
    CHECK(fake.failed_logins == 1);  // far from the lockout at three
}

TEST_CASE("hetzner-robot: 403 RATE_LIMIT_EXCEEDED is waited out") {
    FastTiming timing;
    test::FakeHetznerRobot fake;
    {
        std::lock_guard lock(fake.mu());
        fake.rate_limit_next = 1;
    }
    auto o = open_against(fake, fake.password);
    CHECK(o->p->servers().size() == 2);
    REQUIRE(timing.waits.size() == 1);
    CHECK(timing.waits[0] == 18000);  // 3600 s / 200 requests
}

TEST_CASE("hetzner-robot: rescue with our key (uploaded once) returns the attested host key, then resets") {
    FastTiming timing;
    test::FakeHetznerRobot fake;
    auto o = open_against(fake, fake.password);
    auto s = o->p->servers().at(0);
    auto r = o->p->rescue(s, kOurKey);
    REQUIRE(r.fingerprints.size() == 1);
    CHECK(r.fingerprints[0] == "ED25519 SHA256:fakeRescueEd25519KeyFingerprint0123456789abc");
    CHECK_FALSE(r.password_set);  // with a key, no password
    {
        std::lock_guard lock(fake.mu());
        REQUIRE(fake.keys.size() == 1);
        CHECK(fake.keys[0].data == kOurKey);
        CHECK(fake.find(321)->rescue);
        CHECK(fake.find(321)->resets == std::vector<std::string>{"hw"});
    }
    // Again: the key is found, the active rescue is switched off and on again.
    o->p->rescue(s, kOurKey);
    CHECK(fake.count("POST", "/key") == 1);
    CHECK(fake.count("DELETE", "/boot/321/rescue") == 1);
    for (const auto& req : fake.seen())
        if (req.method == "POST" && req.path == "/boot/321/rescue")
            CHECK(has(req.body, "authorized_key[]=d7%3A2e%3A00%3Aaa%3A0"));
}

TEST_CASE("hetzner-robot: reinstall by the automated Linux install keeps the API's fingerprints; power") {
    FastTiming timing;
    test::FakeHetznerRobot fake;
    auto o = open_against(fake, fake.password);
    auto s = o->p->servers().at(1);
    provider::Install in;
    in.image = "Debian 12 base";
    in.authorized_key = kOurKey;
    auto done = o->p->reinstall(s, in);
    CHECK(done.key_source == provider::KeySource::Api);
    REQUIRE(done.fingerprints.size() == 1);
    {
        std::lock_guard lock(fake.mu());
        CHECK(fake.find(322)->linux_dist == "Debian 12 base");
        CHECK(fake.find(322)->resets == std::vector<std::string>{"hw"});
    }
    o->p->power(s, provider::PowerAction::Off);
    o->p->power(s, provider::PowerAction::Reboot);
    std::lock_guard lock(fake.mu());
    CHECK(fake.find(322)->resets == std::vector<std::string>{"hw", "power_long", "sw"});
}

namespace {

std::unique_ptr<Opened> open_ordering(test::FakeHetznerRobot& fake, const std::string& password) {
    setenv("DECAMP_TEST_ROBOT_USER", fake.user.c_str(), 1);
    setenv("DECAMP_TEST_ROBOT_PW", password.c_str(), 1);
    auto o = std::make_unique<Opened>();
    o->dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    o->inv = inventory::load(
        o->dir.write("inv.yml",
                     "project: p\nproviders:\n  metal:\n    kind: hetzner-robot\n"
                     "    user: ${env:DECAMP_TEST_ROBOT_USER}\n    password: ${env:DECAMP_TEST_ROBOT_PW}\n"
                     "    api: " +
                         fake.url() +
                         "\n    hosts:\n"
                         "      db3: { product: EX44, image: Debian 12 base, location: FSN1, roles: [db] }\n"
                         "roles: { db: { playbooks: [a.yml] } }\n"));
    o->p = inventory::open_provider(o->inv, "metal");
    return o;
}

}  // namespace

TEST_CASE("hetzner-robot: a product is ordered as a transaction, polled until ready, named after the host") {
    FastTiming timing;
    test::FakeHetznerRobot fake;
    auto o = open_ordering(fake, fake.password);
    REQUIRE(o->p->orders().size() == 1);
    provider::Order order = o->p->orders()[0];
    CHECK(order.plan == "EX44");
    CHECK(order.location == "FSN1");
    provider::Install in;
    in.authorized_key = kOurKey;
    std::string ref;
    in.on_ordered = [&](const std::string& r) { ref = r; };
    provider::Provisioned done = o->p->create(order, in);
    CHECK(fake.count("POST", "/order/server/transaction") == 1);
    CHECK(fake.count("GET", "/order/server/transaction/") == 2);  // "in process", then "ready"
    CHECK(ref.rfind("B20261203-", 0) == 0);
    CHECK(done.server.id == "402");
    CHECK(done.server.ipv4 == "198.18.8.52");
    CHECK(done.key_source == provider::KeySource::Api);
    CHECK(done.fingerprints ==
          std::vector<std::string>{"ED25519 SHA256:fakeRescueEd25519KeyFingerprint0123456789abc"});
    {
        std::lock_guard lock(fake.mu());
        CHECK(fake.transactions[0].product == "EX44");
        CHECK(fake.transactions[0].location == "FSN1");
        CHECK(fake.transactions[0].authorized_key.size() == 1);  // our key, uploaded once
        CHECK(fake.find(402)->name == "db3");
    }
    // A later run finds it by the name decamp gave it: nothing to order again.
    bool found = false;
    for (const auto& s : o->p->servers()) found = found || (s.name == "db3" && s.id == "402");
    CHECK(found);
}

TEST_CASE(
    "hetzner-robot: an order that never becomes ready times out with Robot's status; the rerun follows it") {
    FastTiming timing;
    http::api_timing().action_timeout_s = 0;
    test::FakeHetznerRobot fake;
    {
        std::lock_guard lock(fake.mu());
        fake.never_ready = true;
    }
    auto o = open_ordering(fake, fake.password);
    provider::Install in;
    in.authorized_key = kOurKey;
    std::string ref;
    in.on_ordered = [&](const std::string& r) { ref = r; };
    CHECK_THROWS_WITH_AS(o->p->create(o->p->orders()[0], in),
                         doctest::Contains("is still \"in process\" after 0 s"), Error);
    REQUIRE(!ref.empty());
    {
        std::lock_guard lock(fake.mu());
        fake.never_ready = false;
    }
    http::api_timing().action_timeout_s = 60;
    in.resume_ref = ref;
    provider::Provisioned done = o->p->create(o->p->orders()[0], in);
    CHECK(done.server.name == "db3");
    CHECK(fake.count("POST", "/order/server/transaction") == 1);  // never ordered twice
}

TEST_CASE("hetzner-robot: wrong credentials while ordering: exactly one request, no retry") {
    FastTiming timing;
    test::FakeHetznerRobot fake;
    auto o = open_ordering(fake, "wrong-password-456");
    provider::Install in;
    in.authorized_key = kOurKey;
    std::string msg;
    try {
        o->p->create(o->p->orders()[0], in);
    } catch (const Error& e) {
        msg = redactor().mask(e.what());
    }
    CHECK(has(msg, "HTTP 401"));
    CHECK(has(msg, "Robot blocks an address for 10 minutes after 3 failed logins"));
    CHECK(fake.seen().size() == 1);
    CHECK(fake.count("POST", "/order/server/transaction") == 0);
}

TEST_CASE("hetzner-robot: a host is a server: or a product:, exactly one") {
    test::TempDir dir;
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    auto load = [&](const std::string& spec) {
        try {
            inventory::load(dir.write("inv.yml",
                                      "project: p\nproviders:\n  metal:\n    kind: hetzner-robot\n"
                                      "    user: ${env:DECAMP_TEST_ROBOT_USER}\n"
                                      "    password: ${env:DECAMP_TEST_ROBOT_PW}\n    hosts:\n"
                                      "      db3: " +
                                          spec +
                                          "\n"
                                          "roles: { db: { playbooks: [a.yml] } }\n"));
        } catch (const ConfigError& e) {
            return e.diagnostics().at(0).str();
        }
        return std::string("loaded");
    };
    CHECK(load("{ product: EX44, image: Debian 12 base, roles: [db] }") == "loaded");
    std::string neither = load("{ image: Debian 12 base, roles: [db] }");
    CHECK(has(neither, "inv.yml:8:"));
    CHECK(has(neither, "providers/metal/hosts/db3: expected server: (a Robot server number"));
    CHECK(has(load("{ server: 321, product: EX44, image: Debian 12 base, roles: [db] }"), "not both"));
}

TEST_CASE("hetzner-robot: a rate limit while ordering is waited out as Robot says; still one order") {
    FastTiming timing;
    test::FakeHetznerRobot fake;
    auto o = open_ordering(fake, fake.password);
    {
        std::lock_guard lock(fake.mu());
        fake.keys.push_back({"decamp", "d7:2e:00:aa:9", kOurKey});  // our key is there: GET /key is next
        fake.rate_limit_next = 2;                                   // twice in a row, mid-order
    }
    provider::Install in;
    in.authorized_key = kOurKey;
    provider::Provisioned done = o->p->create(o->p->orders()[0], in);
    CHECK(done.server.name == "db3");
    CHECK(timing.waits.size() >= 2);
    CHECK(timing.waits[0] == 18000);  // 3600 s / 200 requests, as the 403 RATE_LIMIT_EXCEEDED says
    CHECK(timing.waits[1] == 18000);
    CHECK(fake.count("GET", "/key") == 3);  // refused twice, then answered
    CHECK(fake.count("POST", "/order/server/transaction") == 1);
    std::lock_guard lock(fake.mu());
    CHECK(fake.transactions.size() == 1);  // Robot took exactly one order
}
