// The migration driven through every phase with recording fakes of every plug-in (movers,
// DNS, health, provisioning, the hosts behind the pool): no SSH, a few seconds. For every
// operation N of a whole run: a crash there (as kill -9: the step stays "started"), then
// --resume, ends in exactly the state of an uninterrupted run; --abort there (before
// cutover) leaves the source as it was; a failing DNS switch or final health check rolls
// back to the source.
#include <doctest/doctest.h>

#include <map>
#include <sstream>

#include "dns/dns.hpp"
#include "engine/engine.hpp"
#include "migrate/journal.hpp"
#include "migrate/migration.hpp"
#include "migrate/report.hpp"
#include "test_util.hpp"
#include "transport/recording.hpp"
#include "util/json.hpp"

using namespace decamp;
using namespace decamp::migrate;

namespace {

// Not a std::exception: nothing in the migration catches it, so it leaves the journal as a
// killed process would (the step it hit stays "started").
struct Crash {
    std::string at;
};

struct MoverWorld {
    bool grant = false, copy = false, fenced = false, synced = false, primary = false;
    bool operator==(const MoverWorld&) const = default;
};

struct World {
    int ops = 0;
    int crash_at = 0;  // 0: never
    bool fail_dns_switch = false;
    bool fail_health_after_switch = false;
    bool stale_nameserver = false;  // a second nameserver keeps the old records
    bool fail_target_app = false;   // the target's app never becomes healthy at cutover
    std::map<std::string, std::string> front;  // host → what its front does (FakeFront)
    std::map<std::string, dns::RRset> dns;
    std::map<std::string, bool> app;  // host → app running
    std::map<std::string, MoverWorld> data;
    std::vector<std::string> provisioned;

    void tick(const std::string& what) {
        ++ops;
        if (crash_at && ops == crash_at) throw Crash{what};
    }
    std::string dns_text() const {
        std::ostringstream o;
        for (const auto& [n, s] : dns) {
            o << "dns " << n << " ttl=" << s.ttl;
            for (const auto& r : s.records) o << " " << r;
            o << "\n";
        }
        return o.str();
    }
    // The end state that matters (operation counts and logs do not).
    std::string snapshot() const {
        std::ostringstream o;
        o << dns_text();
        for (const auto& [h, up] : app) o << "app " << h << "=" << up << "\n";
        for (const auto& [h, f] : front) o << "front " << h << ": " << f << "\n";
        for (const auto& [n, d] : data)
            o << "data " << n << " grant=" << d.grant << " copy=" << d.copy << " fenced=" << d.fenced
              << " synced=" << d.synced << " primary=" << d.primary << "\n";
        return o.str();
    }
};

class FakeMover : public data::DataMover {
public:
    FakeMover(const inventory::DataSet& ds, World& w) : DataMover(ds), w_(w) {}
    std::string kind() const override { return ds_.kind; }
    std::string name() const override { return ds_.name; }
    std::string target_dir() const override { return "/var/lib"; }

    uint64_t preflight(data::MoveContext& ctx) override {
        ctx.step("preflight", "fake-size/" + name(), [&] {
            op("size");
            return std::string("1000 bytes");
        });
        return 1000;
    }
    std::string plan(data::MoveContext&) override { return label() + ": 1000 bytes"; }
    uint64_t replicate(data::MoveContext& ctx) override {
        ctx.step("replicate", "fake-grant/" + name(), [&] { return op("grant", [&] { me().grant = true; }); });
        ctx.step("replicate", "fake-copy/" + name(), [&] { return op("copy", [&] { me().copy = true; }); });
        return 100;
    }
    std::optional<std::string> verify(data::MoveContext&) override {
        op("lag");
        if (!me().copy || !me().grant) throw Error(label() + " is not replicating");
        return std::nullopt;
    }
    void fence(data::MoveContext& ctx) override {
        ctx.step("cutover", "fake-fence/" + name(), [&] { return op("fence", [&] { me().fenced = true; }); });
    }
    uint64_t final_sync(data::MoveContext& ctx) override {
        ctx.step("cutover", "fake-sync/" + name(), [&] {
            if (!me().fenced) throw Error("final sync of an unfenced source");
            return op("sync", [&] { me().synced = true; });
        });
        return 10;
    }
    void promote(data::MoveContext& ctx) override {
        ctx.step("cutover", "fake-promote/" + name(), [&] {
            if (!me().synced) throw Error("promoting a copy that is not level");
            return op("promote", [&] { me().primary = true; });
        });
    }
    std::string rollback(data::MoveContext&) override {
        op("unfence", [&] { me().fenced = false; });
        return label() + " unfenced";
    }
    std::string abort(data::MoveContext& ctx) override {
        if (!ctx.step_begun("fake-grant/" + name())) return "";
        op("revoke", [&] { me().grant = false; });
        return "revoked";
    }
    std::string describe_move(const inventory::Inventory&, const std::string&, const std::string&) const override {
        return "fake";
    }

private:
    MoverWorld& me() { return w_.data[label()]; }
    // A crash may come before the effect or after it (done on the host, not yet journaled).
    std::string op(const std::string& what, const std::function<void()>& effect = {}) {
        w_.tick(label() + " " + what);
        if (effect) effect();
        w_.tick(label() + " " + what + " (after)");
        return what;
    }
    World& w_;
};

class FakeDns : public dns::DnsBackend {
public:
    FakeDns(World& w, std::vector<std::string> source_addrs) : w_(w), source_(std::move(source_addrs)) {}
    void ping() override { w_.tick("dns ping"); }
    std::optional<dns::RRset> get(const std::string& name, const std::string&) override {
        w_.tick("dns get " + name);
        auto it = w_.dns.find(name);
        if (it == w_.dns.end()) return std::nullopt;
        return it->second;
    }
    void replace(const dns::RRset& s) override {
        w_.tick("dns replace " + s.name);
        if (w_.fail_dns_switch && s.records != source_) throw Error("API says no (503)");
        w_.dns[s.name] = s;
        w_.tick("dns replace " + s.name + " (after)");
    }
    std::string describe() const override { return "fake"; }

private:
    World& w_;
    std::vector<std::string> source_;
};

class FakeHealth : public HealthChecker {
public:
    FakeHealth(World& w, const inventory::Inventory& inv) : w_(w), inv_(inv) {}
    std::vector<HealthResult> check(const std::string& provider, int) override {
        w_.tick("health " + provider);
        HealthResult r;
        r.host = provider;
        r.url = "http://fake/healthz";
        r.ok = true;
        for (const auto* h : inv_.hosts_of(provider, "web")) r.ok = r.ok && w_.app[h->name];
        if (w_.fail_target_app && provider == "new" && !w_.app["old-web1"]) r.ok = false;
        if (w_.fail_health_after_switch && provider == "new" && w_.dns["www.example.test."].records == std::vector<std::string>{"192.0.2.3"})
            r.ok = false;
        r.status = r.ok ? 200 : 503;
        return {r};
    }

private:
    World& w_;
    const inventory::Inventory& inv_;
};

class FakeProvisioner : public Provisioner {
public:
    FakeProvisioner(World& w, const inventory::Inventory& inv) : w_(w), inv_(inv) {}
    std::string apply(const std::string& provider) override {
        w_.tick("provision " + provider);
        for (const auto* h : inv_.hosts_of(provider, "web")) w_.app[h->name] = true;  // the playbooks start the app
        w_.provisioned.push_back(provider);
        w_.tick("provision " + provider + " (after)");
        return "fake";
    }

private:
    World& w_;
    const inventory::Inventory& inv_;
};

// Hosts that answer `true`, df and systemctl, keeping the app's state in the world.
class FakeHosts : public engine::Connector {
public:
    explicit FakeHosts(World& w) : w_(w) {}
    std::unique_ptr<transport::Transport> connect(const inventory::Host& host) override {
        ++connects;
        auto t = std::make_unique<transport::RecordingTransport>(host.name);
        std::string name = host.name;
        t->set_responder([this, name](const std::string& cmd) {
            w_.tick(name + " $ " + cmd.substr(0, 20));
            transport::RunResult r;
            r.exit_status = 0;
            if (cmd.find("df -B1") != std::string::npos) r.out = "999999999999\n";
            if (cmd.rfind("systemctl stop", 0) == 0) w_.app[name] = false;
            if (cmd.rfind("systemctl start", 0) == 0 || cmd.rfind("systemctl restart", 0) == 0) w_.app[name] = true;
            w_.tick(name + " $ (after)");
            return r;
        });
        return t;
    }
    int connects = 0;

private:
    World& w_;
};

const char* kInventory = R"(project: forum
ssh: { user: root, key: id_ed25519, known_hosts: known_hosts }
providers:
  old: { kind: static, hosts: { old-web1: { address: 192.0.2.1, roles: [web] }, old-db1: { address: 192.0.2.2, roles: [db] } } }
  new: { kind: static, hosts: { new-web1: { address: 192.0.2.3, roles: [web] }, new-db1: { address: 192.0.2.4, roles: [db] } } }
active: old
roles:
  web: { playbooks: [web.yml] }
  db: { playbooks: [web.yml] }
data:
  - { kind: postgres, role: db, database: forum }
  - { kind: files, role: web, path: /srv/forum/uploads }
dns:
  kind: powerdns
  api: http://127.0.0.1:1
  api_key: "${env:DECAMP_TEST_NO_SUCH_KEY}"
  zone: example.test.
  records: [ { name: www.example.test., role: web, ttl: 300 } ]
app: { role: web, services: [forum-app], front: { kind: haproxy, backend: forum } }
health: [ { role: web, url: "http://{{ host.address }}/healthz" } ]
)";

// A backup repository as --from-backup sees it: what it was asked, and the restore
// reaching the target's hosts through the migration's pool.
struct FakeBackups : BackupSource {
    std::vector<std::string> calls;
    Info backup() {
        Info i;
        i.found = true;
        i.id = "20250101T000000Z-ab12";
        i.time = 1735689600;
        i.bytes = 4096;
        i.when = "2025-01-01T00:00:00Z";
        i.ago = "1 h";
        return i;
    }
    Info latest() override {
        calls.push_back("latest");
        return backup();
    }
    Info find(const std::string& id) override {
        calls.push_back("find " + id);
        return backup();
    }
    Info restore(const std::string& target, const std::function<transport::Transport&(const inventory::Host&)>&,
                 const std::string& id, std::ostream&) override {
        calls.push_back("restore " + id + " onto " + target);
        return backup();
    }
};

// The fronts of the app's hosts, as HAProxy would be after each call.
struct FakeFront : Front {
    explicit FakeFront(World& w) : w_(w) {}
    std::string set(transport::Transport& t, const std::string& state) {
        w_.tick("front " + t.describe());
        w_.front[t.describe()] = state;
        w_.tick("front " + t.describe() + " (after)");
        return state;
    }
    std::string accept_bridge_from(transport::Transport& t, const std::vector<std::string>& peers) override {
        std::string list;
        for (const auto& p : peers) list += " " + p;
        return set(t, "accepts" + list);
    }
    std::string refuse_bridge(transport::Transport& t) override { return set(t, "refuses"); }
    std::string bridge_to(transport::Transport& t, const std::string& address, int port) override {
        return set(t, "bridged to " + address + ":" + std::to_string(port));
    }
    std::string serve_locally(transport::Transport& t) override { return set(t, "local"); }

private:
    World& w_;
};

// The client probe: which addresses it was started on, and figures as if every source
// address failed twice while the target's answered.
struct FakeProbe : ClientProbe {
    std::vector<std::string> labels;
    int starts = 0, stops = 0;
    void start(const std::vector<std::pair<std::string, HealthTarget>>& targets) override {
        ++starts;
        labels.clear();
        for (const auto& [label, t] : targets) labels.push_back(label);
    }
    std::vector<ProbeStats> stop() override {
        ++stops;
        std::vector<ProbeStats> out;
        for (const auto& l : labels) {
            ProbeStats s;
            s.label = l;
            s.sent = s.answered = 10;
            if (l.find("(source") != std::string::npos) {
                s.answered = 8;
                s.failed = 2;
                s.first_failure_at = 1000;
                s.last_failure_at = 1001.5;
                s.first_failure = "HTTP 502";
            }
            out.push_back(s);
        }
        return out;
    }
};

// A provider that orders hosts: each order is an operation (a crash may hit it after the
// provider took it); a server it already has is adopted, as hosts::ensure_hosts does.
struct FakeOrderer : HostOrderer {
    World& w;
    inventory::Inventory& inv;
    std::vector<std::string> orders, calls;
    std::map<std::string, std::string> servers;  // name → address at the provider
    FakeOrderer(World& world, inventory::Inventory& i) : w(world), inv(i) {}
    std::vector<std::string> missing(const std::string& provider) override {
        std::vector<std::string> out;
        for (const auto* h : inv.provider_hosts(provider))
            if (h->address.empty()) out.push_back(h->name);
        return out;
    }
    std::string order(const std::string&, const std::string& host) override {
        calls.push_back(host);
        if (!servers.count(host)) {
            orders.push_back(host);
            servers[host] = "198.51.100." + std::to_string(servers.size() + 10);
            w.tick("order " + host);
        }
        for (auto& h : inv.hosts)
            if (h.name == host) h.address = servers[host];
        return "ordered";
    }
};

struct Rig {
    test::TempDir dir;
    inventory::Inventory inv;
    std::filesystem::path state_path;
    World w;
    BackupSource* backups = nullptr;
    ClientProbe* probe = nullptr;
    HostOrderer* orderer = nullptr;

    Rig() {
        dir.write("web.yml", "- hosts: web\n  tasks: []\n");
        inv = inventory::load(dir.write("inv.yml", kInventory));
        state_path = dir.path() / ".decamp" / "state.db";
        reset_world();
    }
    void reset_world() {
        w = World{};
        w.dns["www.example.test."] = dns::RRset{"www.example.test.", "A", 300, {"192.0.2.1"}};
        w.app = {{"old-web1", true}, {"new-web1", false}};
    }

    struct Run {
        int code = -1;
        bool crashed = false;
        std::string crash_at, out, log;
        int connects = 0;
    };
    Run run(MigrateOptions o) {
        Run r;
        if (o.target.empty()) o.target = "new";
        o.state_path = state_path;
        Journal state(state_path);
        FakeHosts hosts(w);
        engine::Pool pool(hosts);
        FakeDns dns(w, {"192.0.2.1"});
        FakeHealth health(w, inv);
        FakeProvisioner prov(w, inv);
        Plugins p;
        p.state = &state;
        p.pool = &pool;
        p.dns = &dns;
        p.dns_verify = [&](const std::vector<dns::RRset>& sets) {
            dns::Verification v;
            v.servers.push_back({"ns1.fake:53", true, 0.0, ""});
            for (const auto& s : sets)
                if (w.dns[s.name].records != s.records)
                    v.servers[0] = {"ns1.fake:53", false, -1, "old records"};
            if (w.stale_nameserver) v.servers.push_back({"ns2.fake:53", false, -1, "UDP: www A 192.0.2.1"});
            return v;
        };
        p.health = &health;
        p.provisioner = &prov;
        for (const auto& ds : inv.data) p.movers.push_back(std::make_unique<FakeMover>(ds, w));
        p.backups = backups;
        p.probe = probe;
        FakeFront front(w);
        p.front = &front;
        p.orderer = orderer;
        std::ostringstream out, log;
        try {
            r.code = run_migration(inv, o, p, out, log, state_path);
        } catch (const Crash& c) {
            r.crashed = true;
            r.crash_at = c.at;
        }
        r.out = out.str();
        r.log = log.str();
        r.connects = hosts.connects;
        return r;
    }
    std::string active() { return Journal(state_path).get("active").value_or("(none)"); }
};

MigrateOptions resume() {
    MigrateOptions o;
    o.resume = true;
    return o;
}

}  // namespace

TEST_CASE("migration: phases over fakes of every plug-in; one connection per host") {
    Rig rig;
    auto r = rig.run({});
    INFO(r.log);
    REQUIRE(r.code == kExitOk);
    CHECK(r.log.find("DNS at the authoritative nameservers: ns1.fake:53 agreed after 0.0 s") !=
          std::string::npos);
    CHECK(r.out.find("- DNS at the authoritative nameservers: ns1.fake:53 agreed after 0.0 s\n") !=
          std::string::npos);
    CHECK(r.connects == 4);  // each host connected once for the whole run
    CHECK(rig.active() == "new");
    CHECK(rig.w.provisioned == std::vector<std::string>{"new"});
    CHECK(rig.w.dns["www.example.test."].records == std::vector<std::string>{"192.0.2.3"});
    CHECK(rig.w.dns["www.example.test."].ttl == 300);  // back to the inventory's TTL
    CHECK_FALSE(rig.w.app["old-web1"]);
    CHECK(rig.w.app["new-web1"]);
    for (const auto& [n, d] : rig.w.data) CHECK(d == MoverWorld{true, true, true, true, true});
    CHECK(r.out.find("# decamp migration") != std::string::npos);
    CHECK(r.out.find("- state: done") != std::string::npos);
    // A second run has nothing to do: the stack already runs on new.
    CHECK_THROWS_WITH_AS(rig.run({}), doctest::Contains("already runs on"), Error);
}

TEST_CASE("migration: a crash after any operation, then --resume, ends as an uninterrupted run") {
    Rig golden;
    REQUIRE(golden.run({}).code == kExitOk);
    const std::string want = golden.w.snapshot();
    const int total = golden.w.ops;
    REQUIRE(total > 40);
    for (int n = 1; n <= total; ++n) {
        Rig rig;
        rig.w.crash_at = n;
        auto crashed = rig.run({});
        CAPTURE(n);
        CAPTURE(crashed.crash_at);
        REQUIRE(crashed.crashed);
        rig.w.crash_at = 0;
        auto r = rig.run(resume());
        INFO(r.log);
        CHECK(r.code == kExitOk);
        CHECK(rig.w.snapshot() == want);
        CHECK(rig.active() == "new");
    }
}

TEST_CASE("migration: --abort after a crash anywhere before cutover leaves the source as it was") {
    Rig probe;
    REQUIRE(probe.run({}).code == kExitOk);
    // The operations before cutover: those of a run that stops at the freeze.
    Rig counter;
    int before_cutover = 0;
    for (int n = 1;; ++n) {
        counter.reset_world();
        std::filesystem::remove_all(counter.state_path.parent_path());
        counter.w.crash_at = n;
        auto r = counter.run({});
        REQUIRE(r.crashed);
        // Cutover starts with the target's front accepting the bridge, then the freeze.
        if (r.crash_at.rfind("front ", 0) == 0 || r.crash_at.rfind("old-web1 $ systemctl s", 0) == 0 ||
            r.crash_at.find("$ systemctl stop") != std::string::npos)
            break;
        before_cutover = n;
    }
    REQUIRE(before_cutover > 20);
    Rig fresh;
    for (int n = 1; n <= before_cutover; ++n) {
        Rig rig;
        rig.w.crash_at = n;
        REQUIRE(rig.run({}).crashed);
        rig.w.crash_at = 0;
        MigrateOptions o;
        o.abort = true;
        auto r = rig.run(o);
        CAPTURE(n);
        INFO(r.log);
        CHECK(r.code == kExitOk);
        // The source as before: DNS (TTL included), no grant, not fenced, its app up. The
        // target keeps what provision and the copy put there.
        CHECK(rig.w.dns_text() == fresh.w.dns_text());
        CHECK(rig.w.app["old-web1"]);
        for (const auto& [name, d] : rig.w.data) {
            CHECK_FALSE(d.grant);
            CHECK_FALSE(d.fenced);
        }
        CHECK(rig.active() == "(none)");
        CHECK_FALSE(Journal(rig.state_path).unfinished());
    }
}

TEST_CASE("migration: --abort is refused once cutover began") {
    Rig rig;
    // Crash at the freeze: the freeze step has started.
    for (int n = 1;; ++n) {
        rig.reset_world();
        std::filesystem::remove_all(rig.state_path.parent_path());
        rig.w.crash_at = n;
        auto r = rig.run({});
        REQUIRE(r.crashed);
        if (r.crash_at.find("$ systemctl stop") != std::string::npos) break;
    }
    rig.w.crash_at = 0;
    MigrateOptions o;
    o.abort = true;
    CHECK_THROWS_WITH_AS(rig.run(o), doctest::Contains("can no longer be aborted"), Error);
    CHECK(rig.run(resume()).code == kExitOk);
}

TEST_CASE("migration: a nameserver that keeps the old records fails the switch, which rolls back") {
    Rig rig;
    Rig fresh;
    rig.w.stale_nameserver = true;
    auto r = rig.run({});
    INFO(r.log);
    CHECK(r.code == kExitMigrationFailed);
    CHECK(r.log.find("ns2.fake:53 did not agree (UDP: www A 192.0.2.1)") != std::string::npos);
    CHECK(rig.w.dns_text() == fresh.w.dns_text());
    CHECK(rig.w.app["old-web1"]);
}

TEST_CASE("migration: a failed DNS switch or final health check rolls back to the source") {
    for (bool dns_fails : {true, false}) {
        CAPTURE(dns_fails);
        Rig rig;
        Rig fresh;
        rig.w.fail_dns_switch = dns_fails;
        rig.w.fail_health_after_switch = !dns_fails;
        auto r = rig.run({});
        INFO(r.log);
        CHECK(r.code == kExitMigrationFailed);
        CHECK(rig.w.dns_text() == fresh.w.dns_text());  // the source's records and TTL
        CHECK(rig.w.app["old-web1"]);
        CHECK_FALSE(rig.w.app["new-web1"]);
        for (const auto& [name, d] : rig.w.data) CHECK_FALSE(d.fenced);
        CHECK(rig.active() == "(none)");
        CHECK(r.log.find("ROLLBACK") != std::string::npos);
        CHECK(r.out.find("rolled") != std::string::npos);
    }
}

TEST_CASE("migration: --dry-run --json is one JSON document and changes nothing") {
    Rig rig;
    MigrateOptions o;
    o.dry_run = true;
    o.json = true;
    auto r = rig.run(o);
    CHECK(r.code == kExitOk);
    auto doc = json::parse(r.out);
    CHECK(doc["dry_run"].bool_or(false));
    CHECK(doc["source"].str() == "old");
    CHECK(doc["data"].size() == 2);
    CHECK(doc["dns"]["records"][0]["target"][0].str() == "192.0.2.3");
    CHECK(doc["problems"].size() == 0);
    CHECK(rig.w.dns["www.example.test."].ttl == 300);
    CHECK(rig.w.app["old-web1"]);
    CHECK(rig.active() == "(none)");
}

TEST_CASE("migration: --from-backup restores through the BackupSource it is handed, never touching the source") {
    Rig rig;
    FakeBackups b;
    rig.backups = &b;
    MigrateOptions o;
    o.from_backup = true;
    auto r = rig.run(o);
    INFO(r.log);
    REQUIRE(r.code == kExitOk);
    CHECK(b.calls == std::vector<std::string>{"find latest", "restore 20250101T000000Z-ab12 onto new"});
    CHECK(r.log.find("restoring backup 20250101T000000Z-ab12 (4.0 KiB)") != std::string::npos);
    CHECK(rig.active() == "new");
    for (const auto& [n, d] : rig.w.data) CHECK_FALSE(d.grant);  // no mover replicated from the source

    Rig none;
    auto n = none.run(o);
    CHECK(n.code != kExitOk);
    CHECK(n.log.find("no backup source was given") != std::string::npos);
}

TEST_CASE(
    "migration: the client probe covers the cutover and its figures reach the report, summed over a resume") {
    Rig golden;
    REQUIRE(golden.run({}).code == kExitOk);
    const int total = golden.w.ops;

    Rig rig;
    FakeProbe probe;
    rig.probe = &probe;
    rig.w.crash_at = total;  // the last operation: inside cutover, after the probe started
    REQUIRE(rig.run({}).crashed);
    CHECK(probe.starts == 1);
    CHECK(probe.stops == 1);
    CHECK(probe.labels == std::vector<std::string>{"old-web1 (source old) http://192.0.2.1/healthz",
                                                   "new-web1 (target new) http://192.0.2.3/healthz"});
    rig.w.crash_at = 0;
    MigrateOptions o = resume();
    o.json = true;
    auto r = rig.run(o);
    REQUIRE(r.code == kExitOk);
    CHECK(probe.starts == 2);
    CHECK(probe.stops == 2);
    auto doc = json::parse(r.out);
    auto clients = doc["clients"];
    REQUIRE(clients.size() == 2);
    CHECK(clients[0]["label"].str() == "old-web1 (source old) http://192.0.2.1/healthz");
    CHECK(clients[0]["sent"].int_or(0) == 20);  // both runs
    CHECK(clients[0]["failed"].int_or(0) == 4);
    CHECK(clients[0]["first_failure"].str() == "HTTP 502");
    CHECK(clients[1]["failed"].int_or(-1) == 0);
    // The DNS switch happened: the old-address window is reported, at least the switch TTL.
    CHECK(doc["old_answers_after_switch_seconds"].number_or(-1) >= 30);
}

TEST_CASE("migration report: the old-address window is the later of the old TTL and the switch TTL") {
    CHECK(old_answers_until(1000, 300, 1100, 30) == 1300);  // cached before lowering: 300 s from 1000
    CHECK(old_answers_until(1000, 300, 1400, 30) == 1430);  // the lowered TTL from the switch
    CHECK(old_answers_until(0, 0, 1400, 30) == 1430);       // never lowered
    CHECK(old_answers_until(1000, 300, 0, 30) == 0);        // never switched
}

TEST_CASE("migration with a front: the bridge opens once the target is healthy and --finish closes it") {
    Rig rig;
    auto r = rig.run({});
    INFO(r.log);
    REQUIRE(r.code == kExitOk);
    CHECK(rig.w.front["new-web1"] == "accepts 192.0.2.1");
    CHECK(rig.w.front["old-web1"] == "bridged to 192.0.2.3:8443");
    CHECK(r.log.find("the bridge from old to new stays until ") != std::string::npos);
    // Opened after the target's app was healthy (start-app), before DNS moved.
    CHECK(r.log.find("start-app") < r.log.find("bridge-open/old-web1"));
    CHECK(r.log.find("bridge-open/old-web1") < r.log.find("dns-switch"));
    std::ostringstream status, status_json;
    run_status(rig.inv, rig.state_path, false, status);
    CHECK(status.str().find("bridge open: old's fronts forward to new (migration ") != std::string::npos);
    run_status(rig.inv, rig.state_path, true, status_json);
    CHECK(json::parse(status_json.str())["bridge"]["to"].str() == "new");
    // Its time has not come: a new migration (back) is refused and says how to finish it.
    MigrateOptions back;
    back.target = "old";
    CHECK_THROWS_WITH_AS(rig.run(back), doctest::Contains("--finish"), Error);
    MigrateOptions fin;
    fin.finish = true;
    fin.finish_now = true;
    auto f = rig.run(fin);
    INFO(f.log);
    CHECK(f.code == kExitOk);
    CHECK(f.log.find("s early (--now)") != std::string::npos);
    CHECK(rig.w.front["old-web1"] == "local");
    CHECK(rig.w.front["new-web1"] == "refuses");
    CHECK(f.out.find("is closed") != std::string::npos);
    auto again = rig.run(fin);
    CHECK(again.code == kExitOk);
    CHECK(again.out.find("no bridge is open") != std::string::npos);
    std::ostringstream after;
    run_status(rig.inv, rig.state_path, true, after);
    CHECK(json::parse(after.str())["bridge"].is_null());
}

TEST_CASE("migration with a front: a target that never becomes healthy rolls back; the bridge never opened") {
    Rig rig;
    rig.w.fail_target_app = true;
    auto r = rig.run({});
    INFO(r.log);
    CHECK(r.code == kExitMigrationFailed);
    CHECK(rig.w.app["old-web1"]);  // the source serves again
    CHECK_FALSE(rig.w.app["new-web1"]);
    CHECK(rig.w.front.count("old-web1") == 0);  // never bridged
    CHECK(rig.w.front["new-web1"] == "refuses");
    CHECK(r.out.find("the bridge was never opened") != std::string::npos);
    CHECK(rig.active() == "(none)");
}

TEST_CASE(
    "migration: the hosts the target lacks are ordered first, one journaled step each; --resume never orders "
    "twice") {
    Rig rig;
    for (auto& h : rig.inv.hosts)
        if (h.provider == "new") h.address.clear();
    FakeOrderer orderer(rig.w, rig.inv);
    rig.orderer = &orderer;

    MigrateOptions dry;
    dry.dry_run = true;
    auto planned = rig.run(dry);
    CHECK(planned.out.find("provision (first, ordering is slow): order new-web1, new-db1 on new") !=
          std::string::npos);
    CHECK(orderer.calls.empty());
    MigrateOptions o;
    o.target = "new";
    o.state_path = rig.state_path;
    CHECK(migrate_summary(rig.inv, o).find("ORDER new-web1, new-db1 on new") != std::string::npos);

    rig.w.crash_at =
        rig.w.ops + 2;  // the provider took the second order, then kill -9 (the dry run counted too)
    auto crashed = rig.run({});
    REQUIRE(crashed.crashed);
    CHECK(crashed.crash_at == "order new-db1");
    CHECK(crashed.connects == 0);  // the orders start before anything else
    rig.w.crash_at = 0;
    auto r = rig.run(resume());
    INFO(r.log);
    CHECK(r.code == kExitOk);
    CHECK(orderer.orders == std::vector<std::string>{"new-web1", "new-db1"});  // one order per host
    // The host already ordered is not asked again; the step the crash hit runs again and adopts.
    CHECK(orderer.calls == std::vector<std::string>{"new-web1", "new-db1", "new-db1"});
    CHECK(r.log.find("[provision] order-host/new/new-db1 … done") != std::string::npos);
    CHECK(r.log.find("order-host/new/new-web1") == std::string::npos);
    // The rest of the migration used the addresses the provider gave.
    CHECK(rig.w.dns["www.example.test."].records == std::vector<std::string>{"198.51.100.10"});
}
