// kind: rfc2136 against real BIND 9 and real Knot, each started by the test on loopback
// (dns_servers.hpp): replace, TTL change, a failed prerequisite, a wrong key, clock skew,
// AXFR, and verification at two nameservers (a BIND primary and a Knot secondary).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/cli.hpp"
#include "dns/dns.hpp"
#include "dns/verify.hpp"
#include "dns_servers.hpp"
#include "inventory/inventory.hpp"
#include "migrate/migration.hpp"
#include "util/secret.hpp"

using namespace decamp;
using namespace decamp::dns;
using decamp::test::ZoneServer;
using Clock = std::chrono::steady_clock;

namespace {

BackendConfig config_for(const ZoneServer& s) {
    BackendConfig c;
    c.kind = "rfc2136";
    c.server = s.server();
    c.zone = "example.test.";
    c.tsig = TsigKey{"decamp-key.", "hmac-sha256", s.secret()};
    c.timeout_ms = 3000;
    c.retry_delay_ms = 100;
    return c;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no Error)";
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

RRset rrset(const std::string& name, const std::string& type, int ttl, std::vector<std::string> records) {
    return RRset{name, type, ttl, std::move(records)};
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

std::string kind_name(ZoneServer::Kind k) {
    return k == ZoneServer::Bind ? "BIND" : "Knot";
}

// A TCP "server" on loopback that answers every message with `rcode`, unsigned, and counts
// (or something in between that forges answers).
class ScriptedServer {
public:
    explicit ScriptedServer(int rcode) : rcode_(rcode) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd_, 8) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~ScriptedServer() {
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
    int messages() const { return count_; }

private:
    void loop() {
        for (;;) {
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            unsigned char len[2];
            std::string q;
            if (::recv(c, len, 2, MSG_WAITALL) == 2) {
                q.resize(size_t(len[0] << 8 | len[1]));
                if (::recv(c, q.data(), q.size(), MSG_WAITALL) == ssize_t(q.size()) && q.size() >= 12) {
                    ++count_;
                    std::string r = q.substr(0, 12);
                    r[2] = char(0x80 | (q[2] & 0x78));  // QR, same opcode
                    r[3] = char(rcode_);
                    for (int i = 4; i < 12; ++i) r[size_t(i)] = 0;
                    std::string framed = {char(0), char(12)};
                    framed += r;
                    (void)!::send(c, framed.data(), framed.size(), MSG_NOSIGNAL);
                }
            }
            ::close(c);
        }
    }
    int rcode_, fd_ = -1, port_ = 0;
    std::atomic<int> count_{0};
    std::thread thread_;
};

}  // namespace

TEST_CASE("dns rfc2136: SERVFAIL is asked again (retries + 1 times), then a clear error") {
    ScriptedServer srv(kServFail);
    BackendConfig c;
    c.kind = "rfc2136";
    c.server = srv.server();
    c.zone = "example.test.";
    c.tsig = TsigKey{"decamp-key.", "hmac-sha256", test::random_tsig_secret()};
    c.timeout_ms = 2000;
    c.retries = 2;
    c.retry_delay_ms = 10;
    auto b = make_backend(c);
    std::string e =
        error_of([&] { b->replace_if(rrset("www.example.test.", "A", 60, {"198.18.2.11"}), std::nullopt); });
    CHECK(has(e, "SERVFAIL"));
    CHECK(has(e, "gave up after 3 attempts"));
    CHECK(srv.messages() == 3);
    CHECK_FALSE(has(e, c.tsig.secret));
}

TEST_CASE("dns rfc2136: an unsigned NOERROR is not trusted, and not retried") {
    ScriptedServer srv(kNoError);
    BackendConfig c;
    c.kind = "rfc2136";
    c.server = srv.server();
    c.zone = "example.test.";
    c.tsig = TsigKey{"decamp-key.", "hmac-sha256", test::random_tsig_secret()};
    auto b = make_backend(c);
    std::string e =
        error_of([&] { b->replace_if(rrset("www.example.test.", "A", 60, {"198.18.2.11"}), std::nullopt); });
    CHECK(has(e, "is not signed; not trusting it"));
    CHECK(srv.messages() == 1);
    CHECK(has(error_of([&] { b->get("www.example.test.", "A"); }), "not trusting it"));
}

TEST_CASE("dns rfc2136: replace A and AAAA, change a TTL, create an rrset; CNAMEs untouched") {
    for (auto kind : {ZoneServer::Bind, ZoneServer::Knot}) {
        CAPTURE(kind_name(kind));
        ZoneServer srv(kind);
        if (srv.skipped()) continue;
        auto b = make_backend(config_for(srv));
        CHECK_NOTHROW(b->ping());
        CHECK(has(b->describe(), srv.server()));

        auto before = b->get("www.example.test.", "A");
        REQUIRE(before);
        CHECK(before->ttl == 300);
        CHECK(before->records == std::vector<std::string>{"198.18.1.11"});

        b->replace(rrset("www.example.test.", "A", 60, {"198.18.2.11", "198.18.2.12"}));
        auto after = b->get("www.example.test.", "A");
        REQUIRE(after);
        CHECK(after->ttl == 60);
        CHECK(sorted(after->records) == std::vector<std::string>{"198.18.2.11", "198.18.2.12"});
        // What the server answers anyone, not only what the back-end reads:
        CHECK(sorted(query(srv.server(), "www.example.test.", "A")) ==
              std::vector<std::string>{"198.18.2.11", "198.18.2.12"});

        b->replace(rrset("www.example.test.", "AAAA", 60, {"2001:db8::21"}));
        CHECK(query(srv.server(), "www.example.test.", "AAAA") == std::vector<std::string>{"2001:db8::21"});

        // A TTL change alone: same records, delete + add in one message.
        b->replace(rrset("www.example.test.", "A", 120, {"198.18.2.11", "198.18.2.12"}));
        CHECK(b->get("www.example.test.", "A")->ttl == 120);

        // An rrset that did not exist ("RRset does not exist" as the prerequisite).
        CHECK_FALSE(b->get("new.example.test.", "A"));
        b->replace(rrset("new.example.test.", "A", 300, {"198.18.3.1"}));
        CHECK(b->get("new.example.test.", "A")->records == std::vector<std::string>{"198.18.3.1"});

        // The CNAME is neither switched nor harmed.
        CHECK(has(error_of([&] { b->replace(rrset("alias.example.test.", "A", 60, {"198.18.2.11"})); }),
                  "is a CNAME"));
        auto cname = ask(srv.server(), "alias.example.test.", kTypeCNAME, Via::Tcp, 2000);
        REQUIRE(cname.answers.size() == 1);
        CHECK(cname.answers[0].text == "www.example.test.");

        CHECK(has(error_of([&] { b->replace(rrset("www.other.test.", "A", 60, {"198.18.2.11"})); }),
                  "outside zone"));
        CHECK(has(error_of([&] { b->replace(rrset("www.example.test.", "A", 60, {"2001:db8::1"})); }),
                  "not an IPv4 address"));
    }
}

TEST_CASE("dns rfc2136: a change between read and write fails the prerequisite and writes nothing") {
    for (auto kind : {ZoneServer::Bind, ZoneServer::Knot}) {
        CAPTURE(kind_name(kind));
        ZoneServer srv(kind);
        if (srv.skipped()) continue;
        auto decamp = make_backend(config_for(srv));
        auto someone_else = make_backend(config_for(srv));

        auto read = decamp->get("www.example.test.", "A");
        REQUIRE(read);
        someone_else->replace(rrset("www.example.test.", "A", 300, {"198.18.9.9"}));
        std::string e =
            error_of([&] { decamp->replace_if(rrset("www.example.test.", "A", 60, {"198.18.2.11"}), read); });
        CHECK(has(e, "changed since it was read"));
        CHECK(has(e, "NXRRSET"));
        CHECK(has(e, "nothing written"));
        CHECK(query(srv.server(), "www.example.test.", "A") == std::vector<std::string>{"198.18.9.9"});

        // Read as absent, created meanwhile: YXRRSET.
        auto absent = decamp->get("late.example.test.", "A");
        REQUIRE_FALSE(absent);
        someone_else->replace(rrset("late.example.test.", "A", 300, {"198.18.9.10"}));
        e = error_of(
            [&] { decamp->replace_if(rrset("late.example.test.", "A", 60, {"198.18.2.11"}), absent); });
        CHECK(has(e, "YXRRSET"));
        CHECK(query(srv.server(), "late.example.test.", "A") == std::vector<std::string>{"198.18.9.10"});
    }
}

TEST_CASE("dns rfc2136: a name only a wildcard covers is refused with the reason, nothing written") {
    ZoneServer::Options wild;
    wild.extra_zone = "*.wild IN A 198.18.7.7\n";
    for (auto kind : {ZoneServer::Bind, ZoneServer::Knot}) {
        CAPTURE(kind_name(kind));
        ZoneServer srv(kind, wild);
        if (srv.skipped()) continue;
        auto b = make_backend(config_for(srv));
        std::string e =
            error_of([&] { b->replace(rrset("www.wild.example.test.", "A", 60, {"198.18.2.11"})); });
        CHECK(has(e, "a wildcard?"));
        CHECK(query(srv.server(), "www.wild.example.test.", "A") == std::vector<std::string>{"198.18.7.7"});
        CHECK(query(srv.server(), "other.wild.example.test.", "A") == std::vector<std::string>{"198.18.7.7"});
    }
}

TEST_CASE("dns rfc2136: a wrong key is BADSIG or BADKEY, said clearly, never retried, never printed") {
    for (auto kind : {ZoneServer::Bind, ZoneServer::Knot}) {
        CAPTURE(kind_name(kind));
        ZoneServer srv(kind);
        if (srv.skipped()) continue;

        auto wrong_secret = config_for(srv);
        wrong_secret.tsig.secret = test::random_tsig_secret();
        wrong_secret.retry_delay_ms = 3000;  // a retry would show in the time taken
        auto t0 = Clock::now();
        std::string e = error_of([&] {
            make_backend(wrong_secret)->replace(rrset("www.example.test.", "A", 60, {"198.18.2.11"}));
        });
        CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() < 2500);
        CHECK(has(e,
                  "the TSIG key is wrong (BADSIG): the server knows key decamp-key. (hmac-sha256) with "
                  "another secret"));
        CHECK_FALSE(has(e, wrong_secret.tsig.secret));
        CHECK_FALSE(has(e, srv.secret()));

        auto wrong_algorithm = config_for(srv);
        wrong_algorithm.tsig.algorithm = "hmac-sha512";
        e = error_of([&] { make_backend(wrong_algorithm)->ping(); });
        CHECK(has(e, "the TSIG key is wrong ("));

        auto wrong_name = config_for(srv);
        wrong_name.tsig.name = "nobody-key.";
        e = error_of([&] { make_backend(wrong_name)->ping(); });
        CHECK(has(e, "the TSIG key is wrong (BADKEY)"));
        CHECK(has(e, "nobody-key."));

        CHECK(query(srv.server(), "www.example.test.", "A") == std::vector<std::string>{"198.18.1.11"});
    }
}

TEST_CASE("dns rfc2136: a key the server knows but does not let update the zone") {
    for (auto kind : {ZoneServer::Bind, ZoneServer::Knot}) {
        CAPTURE(kind_name(kind));
        ZoneServer srv(kind);
        if (srv.skipped()) continue;
        auto reader = config_for(srv);
        reader.tsig.name = "reader-key.";
        auto b = make_backend(reader);
        std::string e = error_of([&] { b->replace(rrset("www.example.test.", "A", 60, {"198.18.2.11"})); });
        CAPTURE(e);
        if (kind == ZoneServer::Bind) {  // BIND reads with any key it knows, then refuses the UPDATE
            CHECK(has(e, "answered REFUSED to replacing www.example.test. A"));
            CHECK(has(e, "is not allowed to do that in zone example.test."));
        } else {  // Knot refuses a key no acl names, even for reads
            CHECK(has(e, "BADKEY"));
            CHECK(has(e, "no acl of the zone lets that key do this"));
        }
        CHECK(query(srv.server(), "www.example.test.", "A") == std::vector<std::string>{"198.18.1.11"});
    }
}

TEST_CASE("dns rfc2136: clocks two hours apart are BADTIME (Knot with a shifted clock)") {
    // named does not run under libfaketime (clock_gettime recursion); knotd does.
    ZoneServer::Options skewed;
    skewed.faketime = "+2h";
    ZoneServer srv(ZoneServer::Knot, skewed);
    if (srv.skipped()) return;
    std::string e = error_of([&] {
        make_backend(config_for(srv))->replace(rrset("www.example.test.", "A", 60, {"198.18.2.11"}));
    });
    CHECK(has(e, "BADTIME"));
    CHECK(has(e, "clocks"));
    CHECK(query(srv.server(), "www.example.test.", "A") == std::vector<std::string>{"198.18.1.11"});
}

TEST_CASE("dns rfc2136: AXFR with TSIG exports the zone as RFC 1035 text") {
    for (auto kind : {ZoneServer::Bind, ZoneServer::Knot}) {
        CAPTURE(kind_name(kind));
        ZoneServer srv(kind);
        if (srv.skipped()) continue;
        auto b = make_backend(config_for(srv));
        b->replace(rrset("www.example.test.", "A", 60, {"198.18.2.11"}));
        std::string zone = b->export_zone();
        CAPTURE(zone);
        CHECK(zone.rfind("$ORIGIN example.test.\nexample.test.\t", 0) == 0);
        CHECK(has(zone, "\tIN\tSOA\tns1.example.test. hostmaster.example.test. "));
        CHECK(std::count(zone.begin(), zone.end(), '\n') == 7);  // $ORIGIN, the SOA once, 5 records
        CHECK(has(zone, "www.example.test.\t60\tIN\tA\t198.18.2.11\n"));
        CHECK(has(zone, "www.example.test.\t300\tIN\tAAAA\t2001:db8::11\n"));
        CHECK(has(zone, "alias.example.test.\t300\tIN\tCNAME\twww.example.test.\n"));

        auto wrong = config_for(srv);
        wrong.tsig.secret = test::random_tsig_secret();
        CHECK(has(error_of([&] { make_backend(wrong)->export_zone(); }), "TSIG key is wrong"));
    }
}

TEST_CASE("dns rfc2136: an AXFR of many messages checks the chained signature of each") {
    ZoneServer::Options big;
    for (int i = 0; i < 6000; ++i)
        big.extra_zone += "host" + std::to_string(i) + " IN A 198.18." + std::to_string(i / 250) + "." +
                          std::to_string(i % 250) + "\n";
    for (auto kind : {ZoneServer::Bind, ZoneServer::Knot}) {
        CAPTURE(kind_name(kind));
        ZoneServer srv(kind, big);
        if (srv.skipped()) continue;
        std::string zone = make_backend(config_for(srv))->export_zone();
        CHECK(std::count(zone.begin(), zone.end(), '\n') == 7 + 6000);
        CHECK(has(zone, "host5999.example.test.\t300\tIN\tA\t198.18.23.249\n"));
        // More than one message (both servers log how many), or this proves nothing about the chaining.
        std::string log = srv.log();
        for (int i = 0; i < 40 && log.find(" messages") == std::string::npos; ++i) {  // logged just after
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            log = srv.log();
        }
        auto at = log.find(" messages");
        REQUIRE(at != std::string::npos);
        auto from = log.find_last_of(' ', at - 1);
        INFO(kind_name(kind) << " sent the zone in" << log.substr(from, at - from) << " messages");
        CHECK(std::stoi(log.substr(from + 1, at - from - 1)) > 1);
    }
}

TEST_CASE("dns verify: a BIND primary and its Knot secondary both agree, and the result says when") {
    int secondary_port = test::free_dns_port();
    ZoneServer::Options p;
    p.notify_port = secondary_port;
    ZoneServer primary(ZoneServer::Bind, p);
    if (primary.skipped()) return;
    ZoneServer::Options s;
    s.secret = primary.secret();
    s.primary_port = primary.port();
    s.port = secondary_port;
    ZoneServer secondary(ZoneServer::Knot, s);
    if (secondary.skipped()) return;

    // From the zone's NS records (ns1.example.test. A 127.0.0.1, on the primary's port).
    CHECK(zone_nameservers(primary.server(), "example.test.") == std::vector<std::string>{primary.server()});

    RRset want = rrset("www.example.test.", "A", 60, {"198.18.2.11"});
    make_backend(config_for(primary))->replace(want);
    VerifyOptions opts;
    opts.deadline_ms = 10000;
    opts.interval_ms = 100;
    Verification v = verify_rrsets({primary.server(), secondary.server()}, {want}, opts);
    CAPTURE(v.summary());
    CAPTURE(secondary.log());
    REQUIRE(v.servers.size() == 2);
    CHECK(v.all_agreed());
    CHECK(v.servers[1].seconds >= v.servers[0].seconds);
    CHECK(has(v.summary(), primary.server() + " agreed after "));
    CHECK(has(v.summary(), secondary.server() + " agreed after "));
}

TEST_CASE("dns verify: a nameserver that keeps the old records is reported, within the deadline") {
    ZoneServer a(ZoneServer::Bind);
    if (a.skipped()) return;
    ZoneServer stale(ZoneServer::Knot);  // same zone, but nobody updates it
    if (stale.skipped()) return;
    RRset want = rrset("www.example.test.", "A", 60, {"198.18.2.11"});
    make_backend(config_for(a))->replace(want);
    VerifyOptions opts;
    opts.deadline_ms = 600;
    opts.interval_ms = 100;
    auto t0 = Clock::now();
    Verification v = verify_rrsets(
        {a.server(), stale.server(), "127.0.0.1:" + std::to_string(test::free_dns_port())}, {want}, opts);
    CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() < 3000);
    REQUIRE(v.servers.size() == 3);
    CHECK(v.servers[0].agreed);
    CHECK_FALSE(v.servers[1].agreed);
    CHECK(has(v.servers[1].last, "UDP: www.example.test. A 198.18.1.11"));
    CHECK_FALSE(v.servers[2].agreed);  // nothing listening there
    CHECK_FALSE(v.all_agreed());
    CHECK(has(v.summary(), stale.server() + " did not agree"));

    // TTL alone differs: not agreed either.
    RRset other_ttl = want;
    other_ttl.ttl = 61;
    Verification t = verify_rrsets({a.server()}, {other_ttl}, opts);
    CHECK_FALSE(t.all_agreed());
    CHECK(has(t.servers[0].last, "TTL 60, not 61"));
}

TEST_CASE("dns rfc2136: an inventory's dns: block drives a real BIND, its secret masked") {
    ZoneServer srv(ZoneServer::Bind);
    if (srv.skipped()) return;
    test::TempDir dir;
    dir.write("tsig.secret", srv.secret() + "\n");
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    auto file = dir.write(
        "inv.yml",
        "project: forum\n"
        "providers:\n  old:\n    kind: static\n    hosts:\n"
        "      old-web1: { address: 198.18.1.11, roles: [web] }\n"
        "roles:\n  web: { playbooks: [web.yml] }\n"
        "dns:\n  kind: rfc2136\n  server: " +
            srv.server() +
            "\n"
            "  zone: example.test.\n"
            "  tsig: { name: decamp-key., algorithm: hmac-sha256, secret: \"${file:tsig.secret}\" }\n"
            "  records: [ { name: www.example.test., role: web, ttl: 300 } ]\n");
    auto inv = inventory::load(file);
    auto b = migrate::make_dns_backend(inv);
    b->replace(rrset("www.example.test.", "A", 60, {"198.18.2.11"}));
    CHECK(query(srv.server(), "www.example.test.", "A") == std::vector<std::string>{"198.18.2.11"});
    CHECK(has(b->export_zone(), "www.example.test.\t60\tIN\tA\t198.18.2.11"));
    // Loading told the masker: the key never leaves the process in clear.
    CHECK(redactor().mask("key " + srv.secret()) == "key ***");

    // `decamp dns export -i inv.yml`: the same zone on stdout.
    const cli::Command* dns_cmd = nullptr;
    for (const auto& c : cli::commands())
        if (c.name == "dns") dns_cmd = &c;
    REQUIRE(dns_cmd);
    cli::Args args = cli::parse_args(*dns_cmd, {"export", "-i", file.string()});
    std::ostringstream captured;
    auto* old = std::cout.rdbuf(captured.rdbuf());
    int code = -1;
    try {
        code = dns_cmd->run(args);
    } catch (...) {
        std::cout.rdbuf(old);
        throw;
    }
    std::cout.rdbuf(old);
    CHECK(code == 0);
    CHECK(captured.str().rfind("$ORIGIN example.test.\n", 0) == 0);
    CHECK(has(captured.str(), "www.example.test.\t60\tIN\tA\t198.18.2.11\n"));
    CHECK_THROWS_AS(dns_cmd->run(cli::parse_args(*dns_cmd, {"import", "-i", file.string()})),
                    cli::UsageError);
}
