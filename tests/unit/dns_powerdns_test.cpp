// The PowerDNS back-end against a real pdns_server that each test starts for itself on free
// loopback ports (never the lab's 5300/8081), with a throwaway sqlite3 database.
#include "dns/dns.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "dns_servers.hpp"
#include "test_util.hpp"
#include "util/http.hpp"

extern char** environ;

using namespace decamp;
using namespace decamp::dns;
using Clock = std::chrono::steady_clock;

namespace {

std::string find_schema() {
    for (const char* p : {"/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql",
                          "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"}) {
        if (access(p, R_OK) == 0) return p;
    }
    return "";
}

// Runs argv with output appended to `log`; returns the pid (wait == false) or exit status.
int spawn(const std::vector<std::string>& argv, const std::string& log, bool wait) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
    if (!wait) return pid;
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class PdnsServer {
public:
    PdnsServer() {
        std::string server = test::find_dns_binary("pdns_server"), util = test::find_dns_binary("pdnsutil");
        std::string schema = find_schema();
        if (geteuid() != 0) skip_ = "not root";
        else if (server.empty() || util.empty()) skip_ = "pdns_server/pdnsutil not installed";
        else if (schema.empty()) skip_ = "pdns-backend-sqlite3 schema not found";
        if (!skip_.empty()) return;

        std::mt19937_64 rng{std::random_device{}()};
        key_ = "k" + std::to_string(rng()) + std::to_string(rng());
        dns_port_ = test::free_dns_port();
        do api_port_ = test::free_dns_port();
        while (api_port_ == dns_port_);
        auto dir = tmp_.path();
        log_ = (dir / "pdns.log").string();
        std::string db = (dir / "pdns.sqlite3").string();

        sqlite3* h = nullptr;
        REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
        REQUIRE(sqlite3_exec(h, read_file(schema).c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(h);

        std::ofstream(dir / "pdns.conf") << "launch=gsqlite3\n"
                                         << "gsqlite3-database=" << db << "\n"
                                         << "local-address=127.0.0.1\n"
                                         << "local-port=" << dns_port_ << "\n"
                                         << "api=yes\napi-key=" << key_ << "\n"
                                         << "webserver=yes\nwebserver-address=127.0.0.1\n"
                                         << "webserver-port=" << api_port_ << "\n"
                                         << "webserver-allow-from=127.0.0.1\n"
                                         << "daemon=no\nguardian=no\ndisable-syslog=yes\n"
                                         << "socket-dir=" << dir.string() << "\nwrite-pid=no\n"
                                         << "loglevel=4\n";
        std::string cfg = "--config-dir=" + dir.string();
        REQUIRE(spawn({util, cfg, "create-zone", "example.test.", "ns1.example.test."}, log_, true) == 0);
        REQUIRE(spawn({util, cfg, "add-record", "example.test.", "www", "A", "300", "198.18.1.11"}, log_,
                      true) == 0);
        REQUIRE(spawn({util, cfg, "add-record", "example.test.", "alias", "CNAME", "300", "www.example.test."},
                      log_, true) == 0);
        pid_ = spawn({server, cfg}, log_, false);

        http::Request probe;
        probe.url = api() + "/api/v1/servers/localhost";
        probe.headers = {{"X-API-Key", key_}};
        probe.timeout_ms = 500;
        auto deadline = Clock::now() + std::chrono::seconds(15);
        while (Clock::now() < deadline) {
            if (http::perform(probe).status == 200) return;
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                FAIL("pdns_server exited: " << read_file(log_));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        stop();  // the destructor does not run when the constructor fails
        FAIL("pdns_server API did not come up: " << read_file(log_));
    }
    ~PdnsServer() { stop(); }

    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGKILL);  // a throwaway instance: no need for a clean shutdown
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    bool skipped() const {
        if (!skip_.empty()) MESSAGE("skipping PowerDNS test: " << skip_);
        return !skip_.empty();
    }
    std::string api() const { return "http://127.0.0.1:" + std::to_string(api_port_); }
    std::string dns() const { return "127.0.0.1:" + std::to_string(dns_port_); }
    BackendConfig config() const {
        BackendConfig c;
        c.kind = "powerdns";
        c.api = api();
        c.api_key = key_;
        c.zone = "example.test.";
        c.timeout_ms = 3000;
        return c;
    }

private:
    test::TempDir tmp_;
    std::string skip_, key_, log_;
    int dns_port_ = 0, api_port_ = 0;
    pid_t pid_ = -1;
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no Error)";
}

}  // namespace

TEST_CASE("dns powerdns: ping, get, replace and the authoritative answer follows") {
    PdnsServer pdns;
    if (pdns.skipped()) return;
    auto b = make_backend(pdns.config());
    CHECK(b->describe().find("example.test.") != std::string::npos);
    CHECK(b->describe().find(pdns.config().api_key) == std::string::npos);
    b->ping();

    auto www = b->get("www.example.test.", "A");
    REQUIRE(www.has_value());
    CHECK(www->name == "www.example.test.");
    CHECK(www->ttl == 300);
    CHECK(www->records == std::vector<std::string>{"198.18.1.11"});
    CHECK(b->get("www.example.test", "A").has_value());  // trailing dot added
    CHECK_FALSE(b->get("www.example.test.", "AAAA").has_value());
    CHECK_FALSE(b->get("nothing.example.test.", "A").has_value());

    // Ask first, so a packet cache would hold the old answer if the API did not purge it.
    CHECK(query(pdns.dns(), "www.example.test.", "A", 2000) == std::vector<std::string>{"198.18.1.11"});

    b->replace({"www.example.test.", "A", 60, {"198.18.2.11", "198.18.2.12"}});
    auto after = b->get("WWW.example.test.", "A");
    REQUIRE(after.has_value());
    CHECK(after->ttl == 60);
    std::vector<std::string> got = after->records;
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<std::string>{"198.18.2.11", "198.18.2.12"});

    got = query(pdns.dns(), "www.example.test", "A", 2000);
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<std::string>{"198.18.2.11", "198.18.2.12"});

    // A new name and an AAAA set; NXDOMAIN for a name that does not exist.
    b->replace({"api.example.test.", "AAAA", 120, {"2001:db8::1"}});
    CHECK(query(pdns.dns(), "api.example.test.", "AAAA", 2000) == std::vector<std::string>{"2001:db8::1"});
    CHECK(query(pdns.dns(), "api.example.test.", "A", 2000).empty());  // NODATA
    CHECK(query(pdns.dns(), "missing.example.test.", "A", 2000).empty());  // NXDOMAIN
    // Outside every zone the server has: REFUSED is an error, not an empty answer.
    CHECK(error_of([&] { query(pdns.dns(), "www.other.test.", "A", 2000); }).find("REFUSED") !=
          std::string::npos);
}

TEST_CASE("dns powerdns: errors name the cause") {
    PdnsServer pdns;
    if (pdns.skipped()) return;

    auto wrong = pdns.config();
    wrong.api_key = "not-the-key";
    std::string e = error_of([&] { make_backend(wrong)->ping(); });
    CHECK_MESSAGE(has(e, "API key"), e);
    CHECK_MESSAGE(!has(e, "not-the-key"), e);

    auto missing = pdns.config();
    missing.zone = "nowhere.test";
    e = error_of([&] { make_backend(missing)->ping(); });
    CHECK_MESSAGE(has(e, "zone nowhere.test. not found"), e);

    auto b = make_backend(pdns.config());
    e = error_of([&] { b->replace({"www.other.test.", "A", 60, {"198.18.2.11"}}); });
    CHECK_MESSAGE(has(e, "www.other.test. is outside zone example.test."), e);
    e = error_of([&] { b->replace({"www.example.test.", "A", 60, {"not-an-ip"}}); });
    CHECK_MESSAGE(has(e, "not an IPv4 address"), e);
    CHECK(b->get("www.example.test.", "A")->records == std::vector<std::string>{"198.18.1.11"});

    // A zone the server does not have, found out when writing.
    auto other = pdns.config();
    other.zone = "other.test.";
    e = error_of([&] { make_backend(other)->replace({"www.other.test.", "A", 60, {"198.18.2.11"}}); });
    CHECK_MESSAGE(has(e, "zone other.test. not found"), e);

    // PowerDNS's own refusal carries its "error" text: A beside an existing CNAME.
    e = error_of([&] { b->replace({"alias.example.test.", "A", 60, {"198.18.2.11"}}); });
    CHECK_MESSAGE(has(e, "replacing alias.example.test. A failed: HTTP 422"), e);
    CHECK_MESSAGE(has(e, "onflicts"), e);

    pdns.stop();
    e = error_of([&] { b->ping(); });
    CHECK_MESSAGE(has(e, "unreachable at " + pdns.api()), e);
    e = error_of([&] { b->replace({"www.example.test.", "A", 60, {"198.18.2.11"}}); });
    CHECK_MESSAGE(has(e, "unreachable"), e);
}

TEST_CASE("dns backend: unknown kind lists the known ones") {
    BackendConfig c;
    c.kind = "route53";
    std::string e = error_of([&] { make_backend(c); });
    CHECK_MESSAGE(has(e, "unknown DNS back-end kind 'route53'"), e);
    CHECK_MESSAGE(has(e, "powerdns"), e);
    c.kind = "powerdns";
    c.zone = "example.test.";
    CHECK(error_of([&] { make_backend(c); }).find("'api'") != std::string::npos);
}
