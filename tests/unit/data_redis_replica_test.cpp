// The Redis mover's commands as text and the parsers of redis-cli's answers: the password
// only ever on stdin, the TLS port and firewall for the target's address only, what a
// resumed step finds already done, and INFO replication read as a host's data.
#include <doctest/doctest.h>

#include "data/redis_replica.hpp"
#include "util/error.hpp"

using namespace decamp;
namespace rd = decamp::data::redis;

namespace {

rd::Plan plan() {
    rd::Plan p;
    p.migration_id = "20260101T000000Z-ab12";
    p.source_address = "198.18.1.13";
    p.target_address = "198.18.2.13";
    p.password = SecretString("s3cret pass\"word");
    return p;
}

}  // namespace

TEST_CASE("redis: the password is read from stdin, never part of a command") {
    auto p = plan();
    const std::string cmd = rd::cli_cmd(p);
    CHECK(cmd ==
          "IFS= read -r REDISCLI_AUTH || true; if [ -n \"$REDISCLI_AUTH\" ]; then export REDISCLI_AUTH; "
          "else unset REDISCLI_AUTH; fi; exec redis-cli -h 127.0.0.1 -p 6379");
    CHECK(cmd.find("s3cret") == std::string::npos);
    // masterauth travels on stdin too, quoted for redis-cli's own parser.
    auto in = rd::cli_stdin(p, rd::replica_commands(p));
    CHECK(in.rfind("s3cret pass\"word\n", 0) == 0);
    CHECK(in.find("\"CONFIG\" \"SET\" \"masterauth\" \"s3cret pass\\\"word\"\n") != std::string::npos);
    CHECK(in.find("\"REPLICAOF\" \"198.18.1.13\" \"6380\"\n") != std::string::npos);
    for (const auto& shell : {rd::make_certs_cmd(p), rd::firewall_cmd(p), rd::cleanup_cmd(p, true)})
        CHECK(shell.find("s3cret") == std::string::npos);
    p.password = SecretString("");
    CHECK(rd::cli_stdin(p, {{"PING"}}) == "\n\"PING\"\n");
}

TEST_CASE("redis: words for redis-cli keep quotes, backslashes and control bytes inert") {
    CHECK(rd::quote_arg("a b") == "\"a b\"");
    CHECK(rd::quote_arg("x\"y\\z") == "\"x\\\"y\\\\z\"");
    CHECK(rd::quote_arg("l1\nSHUTDOWN") == "\"l1\\x0aSHUTDOWN\"");
    CHECK(rd::quote_arg("") == "\"\"");
}

TEST_CASE("redis: the source opens a TLS port with a client certificate, for the target's address only") {
    auto p = plan();
    CHECK(rd::tls_port(p) == 6380);
    CHECK(rd::cert_dir(p) == "/etc/redis/decamp-20260101T000000Z-ab12");
    auto listen = rd::listen_commands(p);
    REQUIRE(listen.size() == 5);
    CHECK(listen[3] == std::vector<std::string>{"CONFIG", "SET", "tls-auth-clients", "yes"});
    CHECK(listen.back() ==
          std::vector<std::string>{"CONFIG", "SET", "tls-port", "6380"});  // last: files first
    const std::string fw = rd::firewall_cmd(p);
    CHECK(fw.find("tcp dport 6380 ip saddr != 198.18.2.13 drop") != std::string::npos);
    CHECK(fw.find("tcp dport 6380 meta nfproto != ipv4 drop") != std::string::npos);
    CHECK(fw.find("flush table inet decamp_redis_6380") != std::string::npos);  // a second run replaces it
    p.target_address = "2001:db8::2";
    CHECK(rd::firewall_cmd(p).find("ip6 saddr != 2001:db8::2 drop") != std::string::npos);
    // The certificates are made once; a resumed step finds them.
    const std::string certs = rd::make_certs_cmd(plan());
    CHECK(certs.find("if [ -d \"$d\" ]; then echo kept; exit 0; fi") != std::string::npos);
    CHECK(certs.find("subjectAltName=IP:198.18.1.13") != std::string::npos);
    CHECK(certs.find("rm -f ca.key") != std::string::npos);  // the CA signs nothing more
    CHECK(rd::cleanup_cmd(plan(), true).find("nft delete table inet decamp_redis_6380") != std::string::npos);
    CHECK(rd::cleanup_cmd(plan(), false).find("nft") == std::string::npos);
}

TEST_CASE("redis: the settings found before are put back, ports first, empty files left alone") {
    auto original = rd::parse_config(
        "tls-port\n0\ntls-replication\nno\ntls-auth-clients\nyes\ntls-cert-file\n\ntls-key-file\n\n"
        "tls-ca-cert-file\n/etc/ca.pem\n");
    CHECK(original.size() == 6);
    auto cmds = rd::restore_commands(original);
    REQUIRE(cmds.size() == 4);
    CHECK(cmds[0] == std::vector<std::string>{"CONFIG", "SET", "tls-port", "0"});
    CHECK(cmds[3] == std::vector<std::string>{"CONFIG", "SET", "tls-ca-cert-file", "/etc/ca.pem"});
    auto other = rd::restore_commands(rd::parse_config("min-replicas-to-write\n0\n"));
    CHECK(other == std::vector<std::vector<std::string>>{{"CONFIG", "SET", "min-replicas-to-write", "0"}});
    CHECK(rd::pause_command(30000) == std::vector<std::string>{"CLIENT", "PAUSE", "30000", "WRITE"});
    CHECK(rd::promote_commands().front() == std::vector<std::string>{"REPLICAOF", "NO", "ONE"});
}

TEST_CASE("redis: OK answers are counted, anything else is an error naming it") {
    CHECK_NOTHROW(rd::expect_ok("OK\nOK\n", 2, "x"));
    CHECK_NOTHROW(rd::expect_ok("OK Already connected to specified master\r\n", 1, "x"));
    CHECK_THROWS_WITH_AS(
        rd::expect_ok("OK\nERR Unsupported CONFIG parameter: tls-port\n", 2, "opening"),
        "opening: Redis answered \"ERR Unsupported CONFIG parameter: tls-port\" where 2 OK were expected",
        Error);
    CHECK_THROWS_AS(rd::expect_ok("", 1, "x"), Error);
}

TEST_CASE("redis: INFO replication decides whether the replica is level") {
    auto p = plan();
    const std::string replica =
        "# "
        "Replication\r\nrole:slave\r\nmaster_host:198.18.1.13\r\nmaster_port:6380\r\nmaster_link_status:"
        "up\r\n"
        "master_sync_in_progress:0\r\nslave_repl_offset:1234\r\nmaster_repl_offset:1234\r\n";
    auto link = rd::parse_link(rd::parse_info(replica));
    CHECK(link.up);
    CHECK_FALSE(link.syncing);
    CHECK(link.offset == 1234);
    CHECK(rd::link_problem(p, link) == "");
    CHECK(rd::parse_offset(rd::parse_info("OK\n# Replication\r\nrole:master\r\nmaster_repl_offset:99\r\n")) ==
          99);
    CHECK(rd::parse_offset(rd::parse_info("role:master\r\nmaster_repl_offset:9x\r\n")) == -1);

    CHECK(rd::link_problem(p, rd::parse_link(rd::parse_info("role:master\r\n"))) ==
          "the target is not a replica");
    auto other = rd::parse_link(rd::parse_info("role:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\n"));
    CHECK(rd::link_problem(p, other) == "the target follows 10.0.0.1:6379, not 198.18.1.13:6380");
    auto down = rd::parse_link(rd::parse_info(
        "role:slave\r\nmaster_host:198.18.1.13\r\nmaster_port:6380\r\nmaster_link_status:down\r\n"));
    CHECK(rd::link_problem(p, down) == "the target's link to 198.18.1.13:6380 is down");
    auto syncing =
        rd::parse_link(rd::parse_info("role:slave\r\nmaster_host:198.18.1.13\r\nmaster_port:6380\r\nmaster_"
                                      "link_status:up\r\nmaster_sync_in_progress:1\r\n"));
    CHECK(rd::link_problem(p, syncing) == "the initial transfer from 198.18.1.13:6380 is still running");
}

TEST_CASE("redis: a target older than the source is refused, naming both") {
    CHECK(rd::parse_server_major("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64") == 7);
    CHECK(rd::parse_server_major("") == 0);
    CHECK(rd::version_refusal("old-cache1", 7, "new-cache1", 8) == "");
    CHECK(rd::version_refusal("old-cache1", 7, "new-cache1", 0) == "");  // not installed yet
    CHECK(rd::version_refusal("old-cache1", 8, "new-cache1", 7) ==
          "new-cache1 runs Redis 7, older than Redis 8 on old-cache1: a replica cannot load a newer server's "
          "data; "
          "install Redis 8 or newer on the target");
}
