// kind: hetzner-cloud: its validator through the inventory loader, and its provider against a
// fake Hetzner Cloud API on 127.0.0.1 (tests/unit/fake_hetzner_cloud.hpp).
#include <doctest/doctest.h>

#include <cstdlib>

#include "fake_hetzner_cloud.hpp"
#include "inventory/inventory.hpp"
#include "provider/host_key.hpp"
#include "provider/provider.hpp"
#include "test_util.hpp"
#include "util/api_client.hpp"
#include "util/secret.hpp"

using namespace decamp;

namespace {

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::vector<Diagnostic> errors_of(const std::string& text, const test::TempDir& dir) {
    auto file = dir.write("inv.yml", text);
    try {
        inventory::load(file);
    } catch (const ConfigError& e) {
        return e.diagnostics();
    }
    return {};
}

std::string inventory_with(const std::string& block) {
    return "project: p\nproviders:\n  cloud:\n    kind: hetzner-cloud\n" + block +
           "roles: { web: { playbooks: [a.yml] } }\n";
}

// Fast polls, and waits recorded instead of slept.
struct FastTiming {
    http::ApiTiming saved = http::api_timing();
    std::vector<int> waits;
    FastTiming() {
        http::api_timing().poll_ms = 1;
        http::api_timing().action_timeout_s = 1;
        http::api_timing().sleep = [this](int ms) { waits.push_back(ms); };
    }
    ~FastTiming() { http::api_timing() = saved; }
};

struct Opened {
    test::TempDir dir;
    inventory::Inventory inv;
    std::unique_ptr<provider::Provider> p;
};

std::unique_ptr<Opened> open_against(test::FakeHetznerCloud& fake,
                                     const std::string& token_env = "DECAMP_TEST_HCLOUD") {
    auto o = std::make_unique<Opened>();
    o->dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    auto file = o->dir.write(
        "inv.yml",
        inventory_with(
            "    token: ${env:" + token_env + "}\n    api: " + fake.url() +
            "\n    hosts:\n"
            "      web1: { server_type: cx22, image: debian-12, location: fsn1, roles: [web] }\n"
            "      web2: { server_type: cx22, image: debian-12, location: hel1, roles: [web] }\n"));
    o->inv = inventory::load(file);
    o->p = inventory::open_provider(o->inv, "cloud");
    return o;
}

const std::string kOurKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBv1uQ3vHh0pXG7cN8yXx0o1t4c5yq7oZb6m2kq3wJ9E me@laptop";

}  // namespace

TEST_CASE("hetzner-cloud: a valid block gives hosts without addresses, orders and capabilities") {
    test::TempDir dir;
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    auto file =
        dir.write("inv.yml",
                  inventory_with(
                      "    token: ${env:HCLOUD_TOKEN}\n    hosts:\n"
                      "      web1: { server_type: cx22, image: debian-12, location: fsn1, roles: [web] }\n"));
    auto inv = inventory::load(file);
    REQUIRE(inv.hosts.size() == 1);
    CHECK(inv.hosts[0].address == "");
    CHECK(inv.providers[0].kind == "hetzner-cloud");
    auto p = inventory::open_provider(inv, "cloud");
    auto orders = p->orders();
    REQUIRE(orders.size() == 1);
    CHECK(orders[0].name == "web1");
    CHECK(orders[0].plan == "cx22");
    CHECK(orders[0].image == "debian-12");
    CHECK(orders[0].location == "fsn1");
    auto caps = p->capabilities();
    CHECK(caps.order_hosts);
    CHECK(caps.reinstall);
    CHECK(caps.rescue);
    CHECK(caps.user_data);
    CHECK_FALSE(caps.api_host_keys);
    CHECK(provider::describe(caps) == "order hosts, reinstall, rescue, user data");
}

TEST_CASE("hetzner-cloud: bad blocks are errors at file:line:column, a token is never echoed") {
    test::TempDir dir;
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    const std::string host =
        "    hosts:\n      web1: { server_type: cx22, image: debian-12, location: fsn1, roles: [web] }\n";
    SUBCASE("an inline token") {
        auto errs = errors_of(inventory_with("    token: hc-SECRETVALUE-123\n" + host), dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "providers/cloud/token");
        CHECK(errs[0].mark.line == 5);
        CHECK(errs[0].mark.column == 12);
        CHECK_FALSE(has(errs[0].str(), "SECRETVALUE"));
    }
    SUBCASE("no token") {
        auto errs = errors_of(inventory_with(host), dir);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0].path == "providers/cloud/token");
        CHECK(has(errs[0].message, "required key is missing"));
    }
    SUBCASE("an address, a missing server_type, a misspelt key, a bad api URL") {
        auto errs = errors_of(
            inventory_with(
                "    token: ${env:T}\n    api: ftp://x\n    hosts:\n"
                "      web1: { address: 10.0.0.1, image: debian-12, location: fsn1, roles: [web] }\n"
                "      web2: { server_typ: cx22, server_type: cx22, image: debian-12, location: fsn1 }\n"),
            dir);
        std::string all;
        for (const auto& e : errs) all += e.str() + "\n";
        CAPTURE(all);
        CHECK(
            has(all, "inv.yml:6:10: providers/cloud/api: \"ftp://x\": expected an http:// or https:// URL"));
        CHECK(has(all,
                  "providers/cloud/hosts/web1/address: a hetzner-cloud provider assigns addresses itself"));
        CHECK(has(all, "providers/cloud/hosts/web1/server_type: required key is missing"));
        CHECK(has(all, "providers/cloud/hosts/web2/server_typ: unknown key \"server_typ\""));
    }
    SUBCASE("a misspelt block key") {
        auto errs = errors_of(inventory_with("    token: ${env:T}\n    ssh_key_nam: x\n" + host), dir);
        REQUIRE(errs.size() == 1);
        CHECK(has(errs[0].str(),
                  "inv.yml:6:5: providers/cloud/ssh_key_nam: unknown key \"ssh_key_nam\" for a "
                  "hetzner-cloud provider; did you mean \"ssh_key_name\"?"));
    }
}

TEST_CASE("hetzner-cloud: servers are listed over every page") {
    FastTiming timing;
    test::FakeHetznerCloud fake;
    setenv("DECAMP_TEST_HCLOUD", fake.token.c_str(), 1);
    for (const char* n : {"a", "b", "c"}) fake.add_server(n);
    auto o = open_against(fake);
    auto servers = o->p->servers();
    REQUIRE(servers.size() == 3);
    CHECK(servers[2].name == "c");
    CHECK(servers[0].ipv4.rfind("198.18.7.", 0) == 0);
    CHECK(servers[0].plan == "cx22");
    CHECK(servers[0].location == "fsn1");
    CHECK(fake.count("GET", "/v1/servers") == 2);
}

TEST_CASE("hetzner-cloud: create orders with our key and a host key in user data, polls the actions") {
    FastTiming timing;
    test::FakeHetznerCloud fake;
    setenv("DECAMP_TEST_HCLOUD", fake.token.c_str(), 1);
    auto o = open_against(fake);
    auto orders = o->p->orders();
    provider::Install in;
    in.image = orders[0].image;
    in.authorized_key = kOurKey;
    in.host_key = provider::generate_host_key("web1");
    auto done = o->p->create(orders[0], in);
    CHECK(done.server.name == "web1");
    CHECK(done.server.status == "running");
    CHECK(!done.server.ipv4.empty());
    CHECK(done.key_source == provider::KeySource::Injected);
    CHECK(done.host_key == provider::key_of(in.host_key->public_line));

    auto servers = fake.servers();
    REQUIRE(servers.size() == 1);
    CHECK(servers[0].server_type == "cx22");
    CHECK(servers[0].location == "fsn1");
    REQUIRE(servers[0].ssh_keys.size() == 1);
    CHECK(has(servers[0].user_data, "#cloud-config\n"));
    CHECK(has(servers[0].user_data, "ed25519_private: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n"));
    CHECK(has(servers[0].user_data, "ed25519_public: " + done.host_key + "\n"));
    CHECK(has(servers[0].user_data, "ssh_genkeytypes: []"));
    CHECK(has(servers[0].user_data, kOurKey));
    // Both actions (create_server, start_server) were polled until success.
    CHECK(fake.count("GET", "/v1/actions") >= 2);
    for (const auto& r : fake.seen())
        if (r.path == "/v1/actions") CHECK(r.params("id").size() >= 1);

    // A second server reuses the uploaded SSH key.
    in.host_key = provider::generate_host_key("web2");
    o->p->create(orders[1], in);
    CHECK(fake.count("POST", "/v1/ssh_keys") == 1);
    CHECK(fake.servers()[1].ssh_keys == fake.servers()[0].ssh_keys);
}

TEST_CASE("hetzner-cloud: our key already in the project under another name is used, not uploaded again") {
    FastTiming timing;
    test::FakeHetznerCloud fake;
    fake.add_key("laptop", kOurKey);
    setenv("DECAMP_TEST_HCLOUD", fake.token.c_str(), 1);
    auto o = open_against(fake);
    provider::Install in;
    in.image = "debian-12";
    in.authorized_key = kOurKey;
    o->p->create(o->p->orders()[0], in);
    CHECK(fake.count("POST", "/v1/ssh_keys") == 0);
    REQUIRE(fake.servers().size() == 1);
    CHECK(fake.servers()[0].ssh_keys.size() == 1);

    // A different key under our name is an error, not a silent swap.
    test::FakeHetznerCloud other;
    other.add_key("decamp",
                  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKeyOtherKey12 x");
    setenv("DECAMP_TEST_HCLOUD", other.token.c_str(), 1);
    auto o2 = open_against(other);
    CHECK_THROWS_WITH_AS(o2->p->create(o2->p->orders()[0], in),
                         doctest::Contains("the project's SSH key \"decamp\" is a different key than ours"),
                         Error);
    CHECK(other.servers().empty());
}

TEST_CASE("hetzner-cloud: a 429 waits for RateLimit-Reset and retries; Remaining 0 paces the next call") {
    FastTiming timing;
    test::FakeHetznerCloud fake;
    setenv("DECAMP_TEST_HCLOUD", fake.token.c_str(), 1);
    fake.add_server("a");
    {
        std::lock_guard lock(fake.mu());
        fake.throttle_next = 2;
    }
    auto o = open_against(fake);
    CHECK(o->p->servers().size() == 1);
    CHECK(fake.count("GET", "/v1/servers") == 3);
    REQUIRE(timing.waits.size() == 2);
    CHECK(timing.waits[0] >= 1000);  // until the reset the fake announced (≥ 1 s away)
    CHECK(timing.waits[0] <= 2000);

    timing.waits.clear();
    {
        std::lock_guard lock(fake.mu());
        fake.remaining_zero_once = 1;
    }
    o->p->servers();
    o->p->servers();
    REQUIRE(timing.waits.size() == 1);  // before the second call, not after it
    CHECK(timing.waits[0] >= 1000);
}

TEST_CASE("hetzner-cloud: a refused token is never retried and never shown") {
    FastTiming timing;
    test::FakeHetznerCloud fake;
    setenv("DECAMP_TEST_HCLOUD_BAD", "wrong-token-abcdef123", 1);
    auto o = open_against(fake, "DECAMP_TEST_HCLOUD_BAD");
    std::string msg;
    try {
        o->p->servers();
    } catch (const Error& e) {
        msg = redactor().mask(e.what());
        CHECK(e.exit_code() == kExitRuntime);
    }
    CHECK(has(msg, "HTTP 401: unauthorized: unable to authenticate"));
    CHECK(has(msg, "not retried"));
    CHECK_FALSE(has(msg, "wrong-token"));
    CHECK(fake.seen().size() == 1);
    CHECK(timing.waits.empty());
}

TEST_CASE("hetzner-cloud: an action that fails or never finishes is an error with the provider's status") {
    FastTiming timing;
    test::FakeHetznerCloud fake;
    setenv("DECAMP_TEST_HCLOUD", fake.token.c_str(), 1);
    auto o = open_against(fake);
    provider::Install in;
    in.image = "debian-12";
    in.authorized_key = kOurKey;
    SUBCASE("error") {
        {
            std::lock_guard lock(fake.mu());
            fake.fail_next_action = "placement_error";
        }
        CHECK_THROWS_WITH_AS(o->p->create(o->p->orders()[0], in),
                             doctest::Contains("action 1000 (create_server) failed: placement_error"), Error);
    }
    SUBCASE("timeout") {
        {
            std::lock_guard lock(fake.mu());
            fake.actions_never_finish = true;
        }
        CHECK_THROWS_WITH_AS(o->p->create(o->p->orders()[0], in),
                             doctest::Contains("is still running at 50% after 1 s"), Error);
    }
    SUBCASE("a name already used") {
        fake.add_server("web1");
        CHECK_THROWS_WITH_AS(o->p->create(o->p->orders()[0], in),
                             doctest::Contains("HTTP 409: uniqueness_error: server name is already used"),
                             Error);
    }
}

TEST_CASE("hetzner-cloud: price, reinstall, rescue and power through the API") {
    FastTiming timing;
    test::FakeHetznerCloud fake;
    setenv("DECAMP_TEST_HCLOUD", fake.token.c_str(), 1);
    fake.add_server("web1");
    auto o = open_against(fake);
    auto orders = o->p->orders();
    CHECK(o->p->monthly_price(orders[0]) == "€4.51/month");
    CHECK(o->p->monthly_price(orders[1]) == "€4.60/month");
    auto s = o->p->servers().at(0);

    provider::Install in;
    in.image = "debian-13";
    in.authorized_key = kOurKey;
    in.host_key = provider::generate_host_key("web1");
    auto done = o->p->reinstall(s, in);
    CHECK(done.key_source == provider::KeySource::Injected);
    CHECK(fake.servers()[0].image == "debian-13");
    CHECK(has(fake.servers()[0].user_data, provider::key_of(in.host_key->public_line)));

    auto r = o->p->rescue(s, kOurKey);
    CHECK(r.password_set);
    CHECK(r.fingerprints.empty());  // Hetzner Cloud does not attest it
    CHECK(fake.servers()[0].rescue);
    CHECK(redactor().mask("pw rescue-root-pw-123456") == "pw ***");
    CHECK(fake.count("POST", "/v1/servers/" + s.id + "/actions/reset") == 1);

    o->p->power(s, provider::PowerAction::Off);
    CHECK(o->p->servers().at(0).status == "off");
    o->p->power(s, provider::PowerAction::On);
    CHECK(o->p->servers().at(0).status == "running");
}

TEST_CASE("host keys: a generated pair is one OpenSSH key; the private half is masked") {
    test::TempDir dir;
    auto pair = provider::generate_host_key("web1");
    CHECK(pair.type == "ssh-ed25519");
    CHECK(pair.public_line.rfind("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 0) == 0);
    CHECK(has(pair.public_line, " web1"));
    CHECK(redactor().mask(pair.private_pem).find("BEGIN OPENSSH") == std::string::npos);
    auto other = provider::generate_host_key("web1");
    CHECK(other.public_line != pair.public_line);
    if (std::system("command -v ssh-keygen >/dev/null 2>&1") != 0) return;
    auto file = dir.write("key", pair.private_pem);
    std::filesystem::permissions(file,
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto out = dir.path() / "pub";
    std::string cmd = "ssh-keygen -y -f '" + file.string() + "' > '" + out.string() + "' 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::ifstream in(out);
    std::string line;
    std::getline(in, line);
    CHECK(provider::key_of(line) == provider::key_of(pair.public_line));
}

TEST_CASE("host keys: cloud-config carries our authorized key and the pair") {
    auto pair = provider::generate_host_key("");
    std::string doc = provider::cloud_config("web1", kOurKey, pair);
    CHECK(doc.rfind("#cloud-config\nhostname: web1\nssh_deletekeys: true\nssh_genkeytypes: []\n", 0) == 0);
    CHECK(has(doc, "ssh_authorized_keys:\n  - " + kOurKey + "\n"));
    CHECK(has(doc, "  ed25519_public: " + pair.public_line + "\n"));
    CHECK(has(doc, "    -----END OPENSSH PRIVATE KEY-----\n"));
}
