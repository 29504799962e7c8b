// The cutover's front (migrate/front.hpp): `app: front:` checked offline, HAProxy's answers
// read as data, and — against a real HAProxy on loopback (Debian's haproxy and socat, as on a
// host) — requests held while the app is down and released over the bridge to a second
// HAProxy that accepts bridged requests only from the listed peers.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "fake_http.hpp"
#include "inventory/inventory.hpp"
#include "migrate/front.hpp"
#include "test_util.hpp"
#include "util/http.hpp"

using namespace decamp;
using namespace decamp::migrate;

namespace {

std::string inventory_with_front(const std::string& front) {
    return R"(project: forum
ssh: { user: root, key: id_ed25519, known_hosts: known_hosts }
providers:
  old: { kind: static, hosts: { old-web1: { address: 192.0.2.1, roles: [web] } } }
active: old
roles: { web: { playbooks: [web.yml] } }
app:
  role: web
  services: [forum-app]
  front: )" +
           front + "\n";
}

std::vector<Diagnostic> load_errors(const std::string& text) {
    test::TempDir dir;
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    try {
        inventory::load(dir.write("inv.yml", text));
    } catch (const ConfigError& e) {
        return e.diagnostics();
    }
    return {};
}

const char* kState = R"(1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 forum 1 app 127.0.0.1 0 1 1 1 12 1 0 0 0 0 0 0 - 8080 - 0 0 - - 0
3 forum 2 decamp-bridge 198.18.2.11 2 0 1 1 3 1 0 0 0 0 0 0 - 8443 - 1 0 - - 0
4 stats 1 s1 10.0.0.1 2 0 1 1 3 1 0 0 0 0 0 0 - 80 - 0 0 - - 0
)";

}  // namespace

TEST_CASE("inventory: app: front: is checked offline, with positions") {
    test::TempDir dir;
    dir.write("web.yml", "- hosts: web\n  tasks: []\n");
    auto inv = inventory::load(
        dir.write("inv.yml", inventory_with_front("{ kind: haproxy, backend: forum, bridge_port: 9443 }")));
    REQUIRE(inv.app);
    REQUIRE(inv.app->front);
    CHECK(inv.app->front->backend == "forum");
    CHECK(inv.app->front->bridge_port == 9443);
    CHECK(inv.app->front->server == "app");
    CHECK(inv.app->front->socket == "/run/haproxy/admin.sock");

    auto errs = load_errors(
        inventory_with_front("{ kind: nginx, backend: \"forum; rm -rf /\", bridge_port: 0, sockett: x }"));
    std::string all;
    for (const auto& d : errs) all += d.str() + "\n";
    CAPTURE(all);
    CHECK(all.find("app/front/kind: unknown front kind \"nginx\"") != std::string::npos);
    CHECK(all.find("app/front/backend") != std::string::npos);
    CHECK(all.find("app/front/bridge_port") != std::string::npos);
    CHECK(all.find("sockett") != std::string::npos);
    CHECK(all.find("inv.yml:10:") != std::string::npos);  // the front's line
    auto same =
        load_errors(inventory_with_front("{ kind: haproxy, backend: forum, server: x, bridge_server: x }"));
    REQUIRE(same.size() == 1);
    CHECK(same[0].message.find("two different servers") != std::string::npos);
}

TEST_CASE("HAProxy: `show servers state` is read by column name, for one backend") {
    auto s = parse_servers_state(kState, "forum");
    REQUIRE(s.size() == 2);
    CHECK(s["app"].addr == "127.0.0.1");
    CHECK(s["app"].port == 8080);
    CHECK(s["app"].in_maintenance());
    CHECK(s["decamp-bridge"].addr == "198.18.2.11");
    CHECK(s["decamp-bridge"].port == 8443);
    CHECK_FALSE(s["decamp-bridge"].in_maintenance());
    CHECK_THROWS_WITH_AS(parse_servers_state(kState, "nope"), doctest::Contains("no backend \"nope\""),
                         Error);
    CHECK_THROWS_WITH_AS(parse_servers_state("Unknown command.\n", "forum"),
                         doctest::Contains("not an answer"), Error);
    std::string bad = std::string(kState) + "3 forum 3 x 1.2.3.4 2 zz 1 1 3 1 0 0 0 0 0 0 - 80 - 0 0 - - 0\n";
    CHECK_THROWS_WITH_AS(parse_servers_state(bad, "forum"), doctest::Contains("unreadable line"), Error);
}

TEST_CASE("HAProxy: commands take IP addresses only and quote every name") {
    inventory::FrontConfig f;
    f.backend = "forum";
    std::string cmd = haproxy_bridge_cmd(f, "198.18.2.11", 8443);
    CHECK(cmd.find("'set server forum/decamp-bridge addr 198.18.2.11 port 8443'") != std::string::npos);
    // The bridge is enabled before the app's server leaves: never a backend without a server.
    CHECK(cmd.find("enable server forum/decamp-bridge") < cmd.find("disable server forum/app"));
    CHECK_THROWS_WITH_AS(haproxy_bridge_cmd(f, "198.18.2.11; reload", 8443),
                         doctest::Contains("IP addresses"), Error);
    CHECK_THROWS_AS(haproxy_bridge_cmd(f, "web1.example.net", 8443), Error);
    CHECK_THROWS_AS(haproxy_peers_cmd(f, {"198.18.1.11", "$(id)"}), Error);
    CHECK(haproxy_peers_cmd(f, {"2001:db8::1"}).find("P=' 2001:db8::1 '") != std::string::npos);
}

// ---- against a real HAProxy ----
namespace {

bool have(const char* tool) {
    return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

struct Haproxy {
    pid_t pid = -1;
    Haproxy(const std::filesystem::path& cfg) {
        pid = fork();
        if (pid == 0) {
            execlp("haproxy", "haproxy", "-db", "-q", "-f", cfg.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
    }
    ~Haproxy() {
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
    }
    Haproxy(const Haproxy&) = delete;
    Haproxy& operator=(const Haproxy&) = delete;
};

void wait_for_socket(const std::filesystem::path& p) {
    for (int i = 0; i < 300 && !std::filesystem::exists(p); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(std::filesystem::exists(p));
}

std::string run_cmd(const std::string& cmd) {
    std::string out;
    FILE* f = popen(cmd.c_str(), "r");
    REQUIRE(f);
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
    pclose(f);
    return out;
}

}  // namespace

TEST_CASE("HAProxy for real: held while the app is down, released over the bridge; peers only") {
    if (!have("haproxy") || !have("socat") || !have("openssl")) {
        MESSAGE("skipped: haproxy, socat or openssl missing (scripts/setup installs them)");
        return;
    }
    test::TempDir dir;
    const auto d = dir.path();
    // A CA of our own and a certificate for the site name, as the lab makes them.
    REQUIRE(std::system(
                ("cd " + d.string() +
                 " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
                 "-out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null"
                 " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout site.key -out "
                 "site.csr -subj /CN=www.example.test 2>/dev/null"
                 " && printf 'subjectAltName=DNS:www.example.test\\n' > ext"
                 " && openssl x509 -req -in site.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out site.crt "
                 "-days 2 -extfile ext 2>/dev/null && cat site.crt site.key > site.pem")
                    .c_str()) == 0);
    const int src_port = test::free_tcp_port(), bridge_port = test::free_tcp_port();
    const int dead_app = test::free_tcp_port();  // the source's app: stopped for the whole test
    std::atomic<int> target_hits{0};
    test::FakeHttpServer target_app([&](const test::HttpRequest&) {
        ++target_hits;
        return test::HttpReply{200, "from the target", {}};
    });
    const std::string target_app_port = target_app.url().substr(target_app.url().rfind(':') + 1);
    std::ofstream(d / "peers.lst") << "";
    // The source front: the contract README states (a backend with the app's server and a
    // disabled bridge server, retries that hold, redispatch, the admin socket, the state file).
    std::ofstream(d / "source.cfg") << "global\n  stats socket " << (d / "src.sock").string()
                                    << " mode 600 level admin\n  server-state-file "
                                    << (d / "src.state").string()
                                    << "\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n"
                                       "  timeout server 30s\n  retries 20\n  option redispatch 1\n"
                                       "  load-server-state-from-file global\n"
                                       "frontend site\n  bind 127.0.0.1:"
                                    << src_port
                                    << "\n  default_backend forum\nbackend forum\n  server app 127.0.0.1:"
                                    << dead_app
                                    << "\n  server decamp-bridge 127.0.0.1:9 ssl verify required ca-file "
                                    << (d / "ca.pem").string() << " sni str(www.example.test) disabled\n";
    // The target front: the bridge listener, for the peers in the file only.
    std::ofstream(d / "target.cfg") << "global\n  stats socket " << (d / "dst.sock").string()
                                    << " mode 600 level admin\ndefaults\n  mode http\n  timeout connect 1s\n"
                                       "  timeout client 30s\n  timeout server 30s\n"
                                       "frontend decamp-bridge-in\n  bind 127.0.0.2:"
                                    << bridge_port << " ssl crt " << (d / "site.pem").string()
                                    << "\n  tcp-request connection reject unless { src -f "
                                    << (d / "peers.lst").string() << " }\n  default_backend forum\n"
                                    << "backend forum\n  server app 127.0.0.1:" << target_app_port << "\n";
    Haproxy src(d / "source.cfg"), dst(d / "target.cfg");
    wait_for_socket(d / "src.sock");
    wait_for_socket(d / "dst.sock");

    inventory::FrontConfig sf;
    sf.backend = "forum";
    sf.socket = (d / "src.sock").string();
    sf.state_file = (d / "src.state").string();
    inventory::FrontConfig tf = sf;
    tf.socket = (d / "dst.sock").string();
    tf.peers_file = (d / "peers.lst").string();
    auto local = transport::make_local();
    auto source_front = make_front(sf), target_front = make_front(tf);

    // The target accepts bridged requests from the source (127.0.0.1) only.
    CHECK(target_front->accept_bridge_from(*local, {"127.0.0.1"}) ==
          "bridged requests accepted from 1 address(es)");
    CHECK(run_cmd("cat " + tf.peers_file) == "127.0.0.1\n");
    CHECK(target_front->accept_bridge_from(*local, {"127.0.0.1"}).find("1 address") !=
          std::string::npos);  // again: same

    // A client's request during the freeze: the source's app is down, so HAProxy holds it.
    http::Request req;
    req.url = "http://127.0.0.1:" + std::to_string(src_port) + "/healthz";
    req.timeout_ms = 25000;
    http::Response held;
    std::thread client([&] { held = http::perform(req); });
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    CHECK(target_hits == 0);
    // The target is healthy: the source's front bridges, and the held request goes over.
    CHECK(source_front->bridge_to(*local, "127.0.0.2", bridge_port) ==
          "bridged to 127.0.0.2:" + std::to_string(bridge_port));
    client.join();
    CHECK(held.status == 200);
    CHECK(held.body == "from the target");
    CHECK(held.seconds >= 2.0);
    CHECK(target_hits == 1);
    // The state file holds the bridge for a reload or a reboot.
    CHECK(run_cmd("cat " + sf.state_file).find("decamp-bridge 127.0.0.2") != std::string::npos);
    // Idempotent: the same bridge again changes nothing and says the same.
    CHECK(source_front->bridge_to(*local, "127.0.0.2", bridge_port).find("bridged to") == 0);
    auto direct = http::perform(req);
    CHECK(direct.status == 200);
    CHECK(target_hits == 2);

    // Peers only: with the list emptied, the target refuses the source's bridged requests.
    CHECK(target_front->refuse_bridge(*local) == "bridged requests refused");
    CHECK(run_cmd("cat " + tf.peers_file).empty());
    req.timeout_ms = 3000;
    auto refused = http::perform(req);
    CHECK(refused.status != 200);
    CHECK(target_hits == 2);

    // Back to the local app (rollback, --finish): the bridge server leaves the backend.
    CHECK(source_front->serve_locally(*local) == "serving from the local app");
    CHECK(run_cmd("cat " + sf.state_file).find("decamp-bridge") != std::string::npos);
    // A backend or server the host's HAProxy does not have is an error naming it.
    inventory::FrontConfig wrong = sf;
    wrong.backend = "shop";
    CHECK_THROWS_WITH_AS(make_front(wrong)->bridge_to(*local, "127.0.0.2", bridge_port),
                         doctest::Contains("shop"), Error);
}
