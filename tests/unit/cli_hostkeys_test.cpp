// decamp hostkeys scan on a server a provider made: trusted by server id in the trust store
// (tofu on this explicit request when the provider gave no key), never pinned by address in
// known_hosts; a different trusted key is refused (exit 4). Against a real sshd on loopback.
#include <doctest/doctest.h>

#include <cstdlib>

#include "../integration/sshd_fixture.hpp"
#include "cli/cli.hpp"
#include "hosts/hosts.hpp"
#include "hosts/trust.hpp"
#include "migrate/journal.hpp"
#include "test_util.hpp"

namespace decamp::cli {
int cmd_hostkeys(const Args& args);
}

using namespace decamp;

TEST_CASE("hostkeys scan: a provider's server goes to the trust store by its id, never to known_hosts") {
    if (auto why = test::Sshd::unavailable(); !why.empty()) {
        MESSAGE("skipped: " << why);
        return;
    }
    test::TempDir dir;
    test::Sshd sshd(dir.path());
    auto key = sshd.client_key();
    setenv("DECAMP_TEST_HCLOUD", "token-for-an-api-never-asked", 1);
    dir.write("a.yml", "- hosts: all\n  tasks: []\n");
    std::string inv =
        dir.write(
               "inv.yml",
               "project: p\nssh: { key: " + key.string() +
                   ", known_hosts: known_hosts }\nproviders:\n  cloud:\n"
                   "    kind: hetzner-cloud\n    token: ${env:DECAMP_TEST_HCLOUD}\n"
                   "    hosts:\n      web1: { server_type: cx22, image: debian-12, location: fsn1, port: " +
                   std::to_string(sshd.port()) +
                   ", roles: [web] }\n"
                   "roles: { web: { playbooks: [a.yml] } }\n")
            .string();
    std::string state = (dir.path() / "state.db").string();
    {
        migrate::Journal j(state);
        hosts::Record r;
        r.provider = "cloud";
        r.name = "web1";
        r.id = "9";
        r.ipv4 = "127.0.0.1";
        hosts::Store(j).put(r);
    }
    const cli::Command* cmd = nullptr;
    for (const auto& c : cli::commands())
        if (c.name == "hostkeys") cmd = &c;
    REQUIRE(cmd);
    auto scan = [&] {
        return cli::cmd_hostkeys(cli::parse_args(*cmd, {"scan", "-i", inv, "--state", state}));
    };
    const std::string real = "ssh-ed25519 " + sshd.host_key_base64();

    CHECK(scan() == kExitOk);
    {
        migrate::Journal j(state);
        auto e = hosts::TrustStore(j).get("cloud", "9");
        REQUIRE(e);
        CHECK(e->provenance == hosts::Provenance::Tofu);
        CHECK(e->keys == std::vector<std::string>{real});
    }
    CHECK_FALSE(std::filesystem::exists(dir.path() / "known_hosts"));
    CHECK(scan() == kExitOk);  // already trusted: nothing changes

    // decamp reinstalled server 9 and holds another key for it: the host's key is refused.
    {
        migrate::Journal j(state);
        hosts::TrustEntry e;
        e.provider = "cloud";
        e.id = "9";
        e.name = "web1";
        e.provenance = hosts::Provenance::InjectedUserData;
        e.keys = {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBv1uQ3vHh0pXG7cN8yXx0o1t4c5yq7oZb6m2kq3wJ9E"};
        hosts::TrustStore(j).pin(e, hosts::Reason::Reinstall);
    }
    CHECK(scan() == kExitHostKey);
    migrate::Journal j(state);
    CHECK(hosts::TrustStore(j).get("cloud", "9")->provenance == hosts::Provenance::InjectedUserData);
}
