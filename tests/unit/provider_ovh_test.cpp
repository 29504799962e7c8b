// kind: ovh: its validator, and its provider against a fake OVH API on 127.0.0.1 that checks
// every signature and timestamp itself (tests/unit/fake_ovh.hpp).
#include <doctest/doctest.h>

#include <cstdlib>

#include "fake_ovh.hpp"
#include "inventory/inventory.hpp"
#include "provider/host_key.hpp"
#include "provider/provider.hpp"
#include "test_util.hpp"
#include "util/api_client.hpp"
#include "util/secret.hpp"
#include "util/shell.hpp"

using namespace decamp;

namespace {

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

struct FastTiming {
    http::ApiTiming saved = http::api_timing();
    FastTiming() {
        http::api_timing().poll_ms = 1;
        http::api_timing().action_timeout_s = 1;
        http::api_timing().sleep = [](int) {};
    }
    ~FastTiming() { http::api_timing() = saved; }
};

std::string block(const std::string& api) {
    return "project: p\nproviders:\n  rented:\n    kind: ovh\n"
           "    application_key: ${env:DECAMP_TEST_OVH_AK}\n"
           "    application_secret: ${env:DECAMP_TEST_OVH_AS}\n"
           "    consumer_key: ${env:DECAMP_TEST_OVH_CK}\n" +
           (api.empty() ? "" : "    api: " + api + "\n") +
           "    hosts:\n"
           "      db1: { server: ns1.ip-198-18-9-1.eu, image: debian12_64, roles: [db] }\n"
           "      db2: { server: ns2.ip-198-18-9-2.eu, image: debian12_64, roles: [db] }\n"
           "roles: { db: { playbooks: [a.yml] } }\n";
}

struct Opened {
    test::TempDir dir;
    inventory::Inventory inv;
    std::unique_ptr<provider::Provider> p;
};

std::unique_ptr<Opened> open_against(test::FakeOvh& fake) {
    setenv("DECAMP_TEST_OVH_AK", fake.app_key.c_str(), 1);
    setenv("DECAMP_TEST_OVH_AS", fake.app_secret.c_str(), 1);
    setenv("DECAMP_TEST_OVH_CK", fake.consumer_key.c_str(), 1);
    auto o = std::make_unique<Opened>();
    o->dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    o->inv = inventory::load(o->dir.write("inv.yml", block(fake.url())));
    o->p = inventory::open_provider(o->inv, "rented");
    return o;
}

const std::string kOurKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBv1uQ3vHh0pXG7cN8yXx0o1t4c5yq7oZb6m2kq3wJ9E me@laptop";

}  // namespace

TEST_CASE("ovh: the block: three secrets, hosts naming their server; capabilities") {
    test::TempDir dir;
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    auto inv = inventory::load(dir.write("inv.yml", block("")));
    auto p = inventory::open_provider(inv, "rented");
    CHECK(provider::describe(p->capabilities()) == "reinstall, rescue, user data");
    auto orders = p->orders();
    REQUIRE(orders.size() == 2);
    CHECK(orders[0].plan == "ns1.ip-198-18-9-1.eu");
    CHECK(orders[0].image == "debian12_64");

    std::string bad = block("");
    bad.replace(bad.find("${env:DECAMP_TEST_OVH_AS}"), 25, "inline-secret-value");
    bad.replace(bad.find("server: ns2.ip-198-18-9-2.eu, "), 30, "");
    try {
        inventory::load(dir.write("bad.yml", bad));
        FAIL("loaded");
    } catch (const ConfigError& e) {
        std::string all;
        for (const auto& d : e.diagnostics()) all += d.str() + "\n";
        CAPTURE(all);
        CHECK(has(all, "bad.yml:6:25: providers/rented/application_secret: expected a secret reference"));
        CHECK(has(all, "providers/rented/hosts/db2/server: required key is missing"));
        CHECK_FALSE(has(all, "inline-secret-value"));
    }
}

TEST_CASE("ovh: signed requests in the API's time; servers are the inventory's by service name") {
    FastTiming timing;
    test::FakeOvh fake;
    auto o = open_against(fake);
    auto servers = o->p->servers();
    REQUIRE(servers.size() == 3);
    CHECK(servers[0].name == "db1");
    CHECK(servers[0].id == "ns1.ip-198-18-9-1.eu");
    CHECK(servers[0].ipv4 == "198.18.9.1");
    CHECK(servers[2].name == "ns9.ip-198-18-9-9.eu");  // not in the inventory
    CHECK(fake.count("GET", "/1.0/auth/time") == 1);
    // Every authenticated request carried the signature the fake recomputed (it refuses others).
    for (const auto& r : fake.seen())
        if (r.path != "/1.0/auth/time") CHECK(r.header("x-ovh-signature").rfind("$1$", 0) == 0);
}

TEST_CASE("ovh: a wrong secret is refused once, not retried, and not shown") {
    FastTiming timing;
    test::FakeOvh fake;
    auto o = open_against(fake);
    {
        std::lock_guard lock(fake.mu());
        fake.app_secret = "the-fake-expects-another";
    }
    std::string msg;
    try {
        o->p->servers();
    } catch (const Error& e) {
        msg = redactor().mask(e.what());
    }
    CHECK(has(msg, "HTTP 400: Client::BadRequest: Invalid signature [query EU.ext-1.fake.4242]"));
    CHECK_FALSE(has(msg, "ovh-app-secret"));
    CHECK(fake.count("GET", "/1.0/dedicated/server") == 1);
}

TEST_CASE("ovh: reinstall installs our host key by post-install script; task polling survives 404 and 500") {
    FastTiming timing;
    test::FakeOvh fake;
    auto o = open_against(fake);
    auto s = o->p->servers().at(0);
    provider::Install in;
    in.image = "debian12_64";
    in.authorized_key = kOurKey;
    in.host_key = provider::generate_host_key("db1");
    auto done = o->p->reinstall(s, in);
    CHECK(done.key_source == provider::KeySource::Injected);
    CHECK(done.host_key == provider::key_of(in.host_key->public_line));
    auto* srv = fake.find("ns1.ip-198-18-9-1.eu");
    CHECK(srv->os == "debian12_64");
    CHECK(srv->ssh_key == kOurKey);
    CHECK(srv->post_install == shell::base64(provider::host_key_script(*in.host_key)));
    CHECK(has(provider::host_key_script(*in.host_key),
              "printf '%s\\n' '" + done.host_key + "' > /etc/ssh/ssh_host_ed25519_key.pub"));
    CHECK(fake.count("GET", "/1.0/dedicated/server/ns1.ip-198-18-9-1.eu/task/") ==
          4);  // 404, 500, doing, done
}

TEST_CASE("ovh: a task that fails or never ends is an error with its status") {
    FastTiming timing;
    test::FakeOvh fake;
    auto o = open_against(fake);
    auto s = o->p->servers().at(0);
    provider::Install in;
    in.image = "debian12_64";
    SUBCASE("failed") {
        fake.task_script = {"doing", "ovhError"};
        CHECK_THROWS_WITH_AS(
            o->p->reinstall(s, in),
            doctest::Contains("(reinstallServer) on ns1.ip-198-18-9-1.eu ended ovhError: disk failure"),
            Error);
    }
    SUBCASE("never ends") {
        fake.task_script = std::deque<std::string>(5000, "doing");
        CHECK_THROWS_WITH_AS(o->p->reinstall(s, in), doctest::Contains("is still doing after 1 s"), Error);
    }
    SUBCASE("only 500s") {
        fake.task_script = std::deque<std::string>(5000, "500");
        CHECK_THROWS_WITH_AS(o->p->reinstall(s, in), doctest::Contains("is still init after 1 s"), Error);
    }
}

TEST_CASE("ovh: rescue sets the rescue boot with our key and reboots; power is reboot only") {
    FastTiming timing;
    test::FakeOvh fake;
    auto o = open_against(fake);
    auto s = o->p->servers().at(1);
    auto r = o->p->rescue(s, kOurKey);
    CHECK(r.fingerprints.empty());
    CHECK(fake.find(s.id)->boot == "rescue");
    CHECK(fake.find(s.id)->ssh_key == kOurKey);
    CHECK(fake.count("POST", "/1.0/dedicated/server/" + s.id + "/reboot") == 1);
    o->p->power(s, provider::PowerAction::Reboot);
    CHECK(fake.count("POST", "/1.0/dedicated/server/" + s.id + "/reboot") == 2);
    CHECK_THROWS_WITH_AS(o->p->power(s, provider::PowerAction::Off),
                         doctest::Contains("(kind ovh) cannot power off"), Error);
    CHECK_THROWS_WITH_AS(o->p->create(o->p->orders()[0], {}),
                         doctest::Contains("(kind ovh) cannot order servers"), Error);
}
