// The SSH transport against a real sshd on loopback (tests/integration/sshd_fixture.hpp):
// commands, streams, timeouts, files, host keys, auth errors, lost connections, jump hosts,
// and a provider host's key checked against decamp's trust store instead of known_hosts.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "../integration/sshd_fixture.hpp"
#include "test_util.hpp"
#include "transport/crypto.hpp"
#include "transport/transport.hpp"

using namespace decamp;
using namespace decamp::transport;
using test::Sshd;
using Kind = TransportError::Kind;
using Clock = std::chrono::steady_clock;

#define SKIP_WITHOUT_SSHD()                                          \
    if (auto why = Sshd::unavailable(); !why.empty()) {              \
        MESSAGE("skipped: " << why);                                 \
        return;                                                      \
    }

namespace {

TransportError connect_error(const SshConfig& cfg) {
    try {
        connect_ssh(cfg);
    } catch (const TransportError& e) {
        return e;
    }
    FAIL("connect_ssh succeeded but should not have");
    return TransportError(Kind::Io, "unreachable");
}

std::string fingerprint_of_base64(const std::string& b64) {
    auto blob = detail::base64_decode(b64);
    REQUIRE(blob);
    return fingerprint_sha256(*blob);
}

}  // namespace

TEST_CASE("fingerprint_sha256 matches known SHA-256 vectors") {
    CHECK(fingerprint_sha256("") == "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
    CHECK(fingerprint_sha256("abc") == "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0");
    // 56 bytes: the padding spills into a second block.
    auto d = detail::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    CHECK(detail::base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), 32)) ==
          "JI1qYdIGOLjlwCaTDD5gOaM85Flk/yFn9uzt1BnbBsE=");
    CHECK(detail::base64_decode("aGVsbG8=") == std::optional<std::string>("hello"));
    CHECK_FALSE(detail::base64_decode("a!b"));
}

TEST_CASE("ssh: run captures stdout, stderr and exit status; session is reused") {
    SKIP_WITHOUT_SSHD();
    test::TempDir tmp;
    Sshd sshd(tmp.path());
    auto t = connect_ssh(sshd.config());
    CHECK(t->describe() == "root@127.0.0.1:" + std::to_string(sshd.port()));

    RunResult r = t->run("echo out; echo err >&2; exit 3");
    CHECK(r.exit_status == 3);
    CHECK(r.out == "out\n");
    CHECK(r.err == "err\n");
    CHECK_FALSE(r.timed_out);

    r = t->run("printf '%s' \"$USER\"");
    CHECK(r.exit_status == 0);
    CHECK(r.out == "root");

    r = t->run("kill -9 $$");
    CHECK(r.exit_status == -1);  // killed by a signal

    // Many commands on one session: the figure the design's speed section is about.
    constexpr int n = 100;
    auto start = Clock::now();
    for (int i = 0; i < n; ++i) REQUIRE(t->run("true").exit_status == 0);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    MESSAGE("ssh loopback: " << n << " sequential `true` commands on one session: "
                             << us / 1000 << " ms total, " << double(us) / n / 1000.0
                             << " ms per command");
    t->close();
}

TEST_CASE("ssh: stdin, large output on both streams, streaming callback") {
    SKIP_WITHOUT_SSHD();
    test::TempDir tmp;
    Sshd sshd(tmp.path());
    auto t = connect_ssh(sshd.config());

    RunOptions in;
    in.stdin_data = "hello\nworld\n";
    RunResult r = t->run("cat", in);
    CHECK(r.out == "hello\nworld\n");
    CHECK(r.exit_status == 0);

    // Pull-based stdin, 8 MiB in 1 MiB chunks.
    int chunks = 0;
    RunOptions pull;
    pull.stdin_source = [&](std::string& chunk) {
        if (chunks == 8) return false;
        chunk.assign(1 << 20, char('a' + chunks++));
        return true;
    };
    r = t->run("wc -c", pull);
    CHECK(r.out == "8388608\n");

    // 10 MiB on stdout and on stderr at once, while 10 MiB go in through stdin: drained
    // together or it deadlocks.
    RunOptions big;
    big.stdin_data.assign(10 << 20, 'x');
    big.timeout = std::chrono::seconds(20);
    r = t->run("head -c 10485760 /dev/zero >&2 & cat; wait", big);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_status == 0);
    CHECK(r.out.size() == size_t(10 << 20));
    CHECK(r.out == big.stdin_data);
    CHECK(r.err.size() == size_t(10 << 20));

    // Command that ignores its stdin: the rest is dropped, no hang.
    RunOptions ignored;
    ignored.stdin_data.assign(8 << 20, 'y');
    r = t->run("echo done", ignored);
    CHECK(r.out == "done\n");

    // Streaming: every byte goes to the callback, the result keeps the last 64 KiB.
    std::string streamed_out, streamed_err;
    RunOptions stream;
    stream.on_output = [&](std::string_view chunk, bool is_err) {
        (is_err ? streamed_err : streamed_out).append(chunk);
    };
    r = t->run("seq 1 100000; echo bye >&2", stream);
    CHECK(streamed_out.size() == 588895);
    CHECK(streamed_out.substr(0, 4) == "1\n2\n");
    CHECK(streamed_err == "bye\n");
    CHECK(r.out.size() == 64 * 1024);
    CHECK(r.out == streamed_out.substr(streamed_out.size() - 64 * 1024));
}

TEST_CASE("ssh: timeout closes the channel and kills the command; session stays usable") {
    SKIP_WITHOUT_SSHD();
    test::TempDir tmp;
    Sshd sshd(tmp.path());
    auto t = connect_ssh(sshd.config());
    RunOptions o;
    o.timeout = std::chrono::milliseconds(300);
    auto start = Clock::now();
    RunResult r = t->run("echo started; sleep 7.25", o);
    auto took = Clock::now() - start;
    CHECK(r.timed_out);
    CHECK(r.exit_status == -1);
    CHECK(r.out == "started\n");  // the PID line the transport adds is not shown
    CHECK(took < std::chrono::seconds(2));
    CHECK(t->run("echo still here").out == "still here\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(t->run("pgrep -f 'sleep 7[.]25'").exit_status == 1);  // sshd delivered the KILL
}

TEST_CASE("ssh: keepalives keep a silent command and an idle session alive") {
    SKIP_WITHOUT_SSHD();
    test::TempDir tmp;
    Sshd sshd(tmp.path());
    SshConfig cfg = sshd.config();
    cfg.keepalive_s = 1;  // dead-peer limit: 3 s without an answer
    auto t = connect_ssh(cfg);
    CHECK(t->run("sleep 3.6; echo awake").out == "awake\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(3200));  // idle, no keepalives sent
    CHECK(t->download("/proc/self/status").find("Name:") != std::string::npos);
    CHECK(t->run("echo ok").out == "ok\n");
}

TEST_CASE("ssh: upload is atomic with mode and owner; download round trip") {
    SKIP_WITHOUT_SSHD();
    test::TempDir tmp;
    Sshd sshd(tmp.path());
    auto t = connect_ssh(sshd.config());
    const std::string dir = (tmp.path() / "remote").string();
    std::filesystem::create_directories(dir);

    const std::string path = dir + "/app.conf";
    t->upload("first\n", path, {"0600", "", ""});
    CHECK(t->download(path) == "first\n");
    CHECK(t->run("stat -c %a " + path).out == "600\n");

    // Overwrite an existing file: rename over it, new mode and owner.
    t->upload("second\n", path, {"0640", "nobody", "nogroup"});
    CHECK(t->download(path) == "second\n");
    CHECK(t->run("stat -c '%a %U:%G' " + path).out == "640 nobody:nogroup\n");

    // Binary content, every byte value, bigger than one SFTP write.
    std::string blob;
    for (int i = 0; i < 3 * 1024 * 1024 + 17; ++i) blob += char(i * 7 % 256);
    auto local = tmp.write("blob.bin", blob);
    t->upload_file(local, dir + "/blob.bin", {"0755", "", ""});
    CHECK(t->download(dir + "/blob.bin") == blob);
    CHECK(t->run("stat -c %a " + dir + "/blob.bin").out == "755\n");

    // No temp files left behind.
    CHECK(t->run("ls -A " + dir).out == "app.conf\nblob.bin\n");

    // Errors name the path.
    try {
        t->download(dir + "/missing");
        FAIL("download of a missing file succeeded");
    } catch (const TransportError& e) {
        CHECK(e.kind() == Kind::Io);
        CHECK(std::string(e.what()).find("missing") != std::string::npos);
    }
    CHECK_THROWS_AS(t->upload("x", dir + "/no/such/dir/file"), TransportError);
}

TEST_CASE("ssh: strict host keys") {
    SKIP_WITHOUT_SSHD();
    test::TempDir tmp;
    Sshd sshd(tmp.path());
    SshConfig cfg = sshd.config();
    const std::string seen = fingerprint_of_base64(sshd.host_key_base64());

    // The fingerprint agrees with OpenSSH's own.
    REQUIRE(std::system(("ssh-keygen -l -E sha256 -f " + (tmp.path() / "host_ed25519.pub").string() +
                         " > " + (tmp.path() / "lf.txt").string()).c_str()) == 0);
    CHECK(test::read_text(tmp.path() / "lf.txt").find(seen + " ") != std::string::npos);

    SUBCASE("a different key on file is a mismatch naming both fingerprints") {
        Sshd::keygen("ed25519", tmp.path() / "other");
        std::istringstream pub(test::read_text(tmp.path() / "other.pub"));
        std::string type, blob;
        pub >> type >> blob;
        std::ofstream(cfg.known_hosts) << "[127.0.0.1]:" << sshd.port() << " ssh-ed25519 " << blob << "\n";
        TransportError e = connect_error(cfg);
        CHECK(e.kind() == Kind::HostKey);
        std::string msg = e.what();
        CHECK(msg.find("lab1") != std::string::npos);
        CHECK(msg.find("127.0.0.1") != std::string::npos);
        CHECK(msg.find(seen) != std::string::npos);
        CHECK(msg.find(fingerprint_of_base64(blob)) != std::string::npos);
        CHECK(msg.find("decamp hostkeys scan --limit lab1") != std::string::npos);
    }
    SUBCASE("an unknown host is refused with the fingerprint to check") {
        std::ofstream(cfg.known_hosts) << "";
        TransportError e = connect_error(cfg);
        CHECK(e.kind() == Kind::HostKey);
        CHECK(std::string(e.what()).find(seen) != std::string::npos);
        CHECK(std::string(e.what()).find("lab1") != std::string::npos);
    }
    SUBCASE("a missing known_hosts file is an unknown host") {
        cfg.known_hosts = (tmp.path() / "nope").string();
        CHECK(connect_error(cfg).kind() == Kind::HostKey);
    }
    SUBCASE("hashed known_hosts entries are matched") {
        REQUIRE(std::system(("ssh-keygen -q -H -f " + cfg.known_hosts + " >/dev/null 2>&1").c_str()) == 0);
        REQUIRE(test::read_text(cfg.known_hosts).rfind("|1|", 0) == 0);
        CHECK(connect_ssh(cfg)->run("true").exit_status == 0);
    }
    SUBCASE("strict_host_keys off is accept-new: a new host is recorded, a changed key refused") {
        std::ofstream(cfg.known_hosts) << "# pinned by hand\n";
        cfg.strict_host_keys = false;
        CHECK(connect_ssh(cfg)->run("true").exit_status == 0);
        CHECK(test::read_text(cfg.known_hosts) == "# pinned by hand\n" + sshd.known_hosts_line() + "\n");
        CHECK(connect_ssh(cfg)->run("true").exit_status == 0);  // now pinned: matches, no second line
        CHECK(test::read_text(cfg.known_hosts) == "# pinned by hand\n" + sshd.known_hosts_line() + "\n");

        Sshd::keygen("ed25519", tmp.path() / "other");
        std::istringstream pub(test::read_text(tmp.path() / "other.pub"));
        std::string type, blob;
        pub >> type >> blob;
        std::ofstream(cfg.known_hosts) << "[127.0.0.1]:" << sshd.port() << " ssh-ed25519 " << blob << "\n";
        TransportError e = connect_error(cfg);
        CHECK(e.kind() == Kind::HostKey);
        CHECK(std::string(e.what()).find("MISMATCH") != std::string::npos);
        CHECK(std::string(e.what()).find("ssh-keygen -R") != std::string::npos);
        CHECK(std::string(e.what()).find(">>") == std::string::npos);  // never "append the new key"
        CHECK(test::read_text(cfg.known_hosts).find(sshd.host_key_base64()) == std::string::npos);
    }
    SUBCASE("accept-new into a known_hosts that cannot be written is an error") {
        cfg.strict_host_keys = false;
        cfg.known_hosts = (tmp.path() / "no-such-dir" / "known_hosts").string();
        TransportError e = connect_error(cfg);
        CHECK(e.kind() == Kind::HostKey);
        CHECK(std::string(e.what()).find("cannot be recorded") != std::string::npos);
        std::filesystem::create_directory(tmp.path() / "kh-dir");
        cfg.known_hosts = (tmp.path() / "kh-dir").string();
        CHECK(connect_error(cfg).kind() == Kind::HostKey);
    }
    SUBCASE("a port-less entry does not pin another port") {
        std::ofstream(cfg.known_hosts) << "127.0.0.1 ssh-ed25519 " << sshd.host_key_base64() << "\n";
        CHECK(connect_error(cfg).kind() == Kind::HostKey);
    }
    SUBCASE("@revoked and @cert-authority") {
        std::ofstream(cfg.known_hosts) << sshd.known_hosts_line() << "\n@revoked * ssh-ed25519 "
                                       << sshd.host_key_base64() << "\n";
        TransportError e = connect_error(cfg);
        CHECK(std::string(e.what()).find("REVOKED") != std::string::npos);
        CHECK(std::string(e.what()).find(":2") != std::string::npos);
        std::ofstream(cfg.known_hosts) << "@cert-authority * ssh-ed25519 " << sshd.host_key_base64() << "\n";
        cfg.strict_host_keys = false;  // not even accept-new trusts a host a CA is meant to vouch for
        e = connect_error(cfg);
        CHECK(std::string(e.what()).find("cannot verify host certificates") != std::string::npos);
    }
    SUBCASE("a bad known_hosts line is refused with file:line") {
        std::ofstream(cfg.known_hosts, std::ios::app) << "garbage-line\n";
        TransportError e = connect_error(cfg);
        CHECK(e.kind() == Kind::HostKey);
        CHECK(std::string(e.what()).find(cfg.known_hosts + ":2:") != std::string::npos);
    }
    SUBCASE("scan_host_key returns the known_hosts line") {
        CHECK(scan_host_key(cfg) == sshd.known_hosts_line());
    }
}

TEST_CASE("ssh: authentication") {
    SKIP_WITHOUT_SSHD();
    test::TempDir tmp;
    // libssh2 1.10 signs RSA user auth with ssh-rsa (SHA-1), off by default since OpenSSH 8.8.
    Sshd sshd(tmp.path(), "PubkeyAcceptedAlgorithms +ssh-rsa");
    SshConfig cfg = sshd.config();

    SUBCASE("RSA key") {
        cfg.key_file = sshd.client_key("rsa").string();
        CHECK(connect_ssh(cfg)->run("echo rsa").out == "rsa\n");
    }
    SUBCASE("a key the server does not know is an Auth error naming user and key") {
        cfg.key_file = sshd.client_key("ed25519", /*authorize=*/false).string();
        TransportError e = connect_error(cfg);
        CHECK(e.kind() == Kind::Auth);
        CHECK(std::string(e.what()).find("root@lab1") != std::string::npos);
        CHECK(std::string(e.what()).find(cfg.key_file) != std::string::npos);
    }
    SUBCASE("a missing key file is an Auth error") {
        cfg.key_file = (tmp.path() / "no-such-key").string();
        TransportError e = connect_error(cfg);
        CHECK(e.kind() == Kind::Auth);
        CHECK(std::string(e.what()).find("no-such-key") != std::string::npos);
    }
    SUBCASE("no key and no agent") {
        cfg.key_file.clear();
        CHECK(connect_error(cfg).kind() == Kind::Auth);
    }
}

TEST_CASE("ssh: unreachable hosts fail fast with the address and reason") {
    SKIP_WITHOUT_SSHD();
    SshConfig cfg;
    cfg.name = "gone";
    cfg.address = "127.0.0.1";
    cfg.port = Sshd::free_port();  // nothing listens there
    cfg.known_hosts = "/dev/null";
    auto start = Clock::now();
    TransportError e = connect_error(cfg);
    CHECK(Clock::now() - start < std::chrono::seconds(1));
    CHECK(e.kind() == Kind::Unreachable);
    std::string msg = e.what();
    CHECK(msg.find("gone") != std::string::npos);
    CHECK(msg.find("127.0.0.1:" + std::to_string(cfg.port)) != std::string::npos);
    CHECK(msg.find("refused") != std::string::npos);

    cfg.address = "no-such-host.invalid";
    CHECK(connect_error(cfg).kind() == Kind::Unreachable);
}

TEST_CASE("ssh: a server killed mid-session makes run() throw, never hang") {
    SKIP_WITHOUT_SSHD();
    test::TempDir tmp;
    Sshd sshd(tmp.path());
    SshConfig cfg = sshd.config();

    SUBCASE("between commands") {
        auto t = connect_ssh(cfg);
        CHECK(t->run("true").exit_status == 0);
        sshd.stop();
        CHECK_THROWS_AS(t->run("true"), TransportError);
        CHECK_THROWS_AS(t->run("true"), TransportError);  // and stays failed
        CHECK_THROWS_AS(t->download("/etc/hostname"), TransportError);
    }
    SUBCASE("during a command") {
        auto t = connect_ssh(cfg);
        std::thread killer([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            sshd.stop();
        });
        auto start = Clock::now();
        try {
            t->run("echo hi; sleep 10");
            FAIL("run survived its server");
        } catch (const TransportError& e) {
            CHECK((e.kind() == Kind::Io || e.kind() == Kind::Channel));
            MESSAGE("error after sshd was killed: " << std::string(e.what()));
        }
        killer.join();
        CHECK(Clock::now() - start < std::chrono::seconds(3));
    }
}

TEST_CASE("ssh: jump host through direct-tcpip") {
    SKIP_WITHOUT_SSHD();
    test::TempDir tmp;
    Sshd sshd(tmp.path());
    SshConfig cfg = sshd.config();
    // The same sshd is its own bastion: connect to it, then tunnel to 127.0.0.1:port.
    auto bastion = std::make_shared<SshConfig>(sshd.config());
    bastion->name = "bastion";
    cfg.jump = bastion;
    cfg.name = "inner";

    SUBCASE("commands and files go through the tunnel") {
    auto t = connect_ssh(cfg);
    CHECK(t->run("echo through").out == "through\n");
    RunOptions big;
    big.stdin_data.assign(4 << 20, 'z');
    RunResult r = t->run("cat; head -c 3000000 /dev/zero >&2", big);
    CHECK(r.out == big.stdin_data);
    CHECK(r.err.size() == 3000000);
    const std::string path = (tmp.path() / "via-jump.txt").string();
    t->upload("jumped\n", path);
    CHECK(t->download(path) == "jumped\n");
    t->close();
    }

    SUBCASE("a target the bastion cannot reach is Unreachable") {
        cfg.port = Sshd::free_port();
        TransportError e = connect_error(cfg);
        CHECK(e.kind() == Kind::Unreachable);
        CHECK(std::string(e.what()).find("bastion") != std::string::npos);
    }
    SUBCASE("the target's host key is still checked") {
        cfg.known_hosts = (tmp.path() / "empty_known_hosts").string();
        std::ofstream(cfg.known_hosts) << "";
        CHECK(connect_error(cfg).kind() == Kind::HostKey);
    }
}

TEST_CASE("ssh: many transports in parallel threads") {
    SKIP_WITHOUT_SSHD();
    test::TempDir tmp;
    Sshd sshd(tmp.path());
    SshConfig cfg = sshd.config();
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            try {
                auto t = connect_ssh(cfg);
                for (int j = 0; j < 20; ++j)
                    if (t->run("echo " + std::to_string(i * 100 + j)).out ==
                        std::to_string(i * 100 + j) + "\n")
                        ++ok;
            } catch (const std::exception& e) {
                MESSAGE("thread " << i << ": " << std::string(e.what()));
            }
        });
    for (auto& th : threads) th.join();
    CHECK(ok == 80);
}

namespace {

std::string other_key_base64(const std::filesystem::path& dir) {
    Sshd::keygen("ed25519", dir / "other");
    std::istringstream pub(test::read_text(dir / "other.pub"));
    std::string type, blob;
    pub >> type >> blob;
    return blob;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("ssh: a provider host is checked against its trust, never against known_hosts by address") {
    SKIP_WITHOUT_SSHD();
    test::TempDir tmp;
    Sshd sshd(tmp.path());
    SshConfig cfg = sshd.config();
    cfg.name = "web1";
    const std::string real = "ssh-ed25519 " + sshd.host_key_base64();
    const std::string other = "ssh-ed25519 " + other_key_base64(tmp.path());
    HostTrust t;
    t.provider = "provider cloud";
    t.server_id = "43";
    t.provenance = "injected-user-data";

    SUBCASE("the trusted key connects even though known_hosts pins another key at that address") {
        std::ofstream(cfg.known_hosts) << "[127.0.0.1]:" << sshd.port() << " " << other << "\n";
        t.keys = {real};
        cfg.trust = t;
        auto conn = connect_ssh(cfg);
        CHECK(conn->run("echo ok").out == "ok\n");
    }
    SUBCASE("a key that is not the trusted one is refused with exit 4, whatever known_hosts says") {
        // known_hosts holds the real key (an earlier server at this address): not inherited.
        t.keys = {other};
        cfg.trust = t;
        TransportError e = connect_error(cfg);
        CHECK(e.kind() == Kind::HostKey);
        CHECK(e.exit_code() == kExitHostKey);
        CHECK(contains(e.what(), "HOST KEY MISMATCH for"));
        CHECK(contains(e.what(), "provider cloud server 43"));
        CHECK(contains(e.what(), "injected-user-data"));
    }
    SUBCASE("a server with no key is refused unless trust on first use was asked for") {
        bool recorded = false;
        t.record_first_use = [&](const std::string&) { recorded = true; };
        cfg.trust = t;
        TransportError e = connect_error(cfg);
        CHECK(e.exit_code() == kExitHostKey);
        CHECK(contains(e.what(), "--trust-on-first-use"));
        CHECK_FALSE(recorded);
    }
    SUBCASE("with trust on first use, the key is handed over to be recorded") {
        std::string recorded;
        t.tofu_allowed = true;
        t.record_first_use = [&](const std::string& k) { recorded = k; };
        cfg.trust = t;
        auto conn = connect_ssh(cfg);
        CHECK(recorded == real);
    }
}
