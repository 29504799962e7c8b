// The Redis mover driven through a whole migration without a host: a small simulated Redis
// behind each recording transport answers what redis-cli would, so the tests see the exact
// sequence (TLS port and firewall on the source, replica, pause, equal offsets, promotion,
// the source closed), the password only on stdin, abort and rollback putting every setting
// back, a cache-only set doing nothing, and the inventory entry checked with its position.
#include <doctest/doctest.h>

#include <cstdlib>
#include <sstream>

#include "data/mover.hpp"
#include "fake_move_context.hpp"
#include "inventory/inventory.hpp"
#include "test_util.hpp"
#include "util/error.hpp"

using namespace decamp;

namespace {

const char* const kPassword = "redis-pass-0123456789";

// What one Redis answers to redis-cli's stdin (password line, then commands).
struct FakeRedis {
    std::map<std::string, std::string> config = {
        {"tls-port", "0"},    {"tls-replication", "no"}, {"tls-auth-clients", "yes"},   {"tls-cert-file", ""},
        {"tls-key-file", ""}, {"tls-ca-cert-file", ""},  {"min-replicas-to-write", "0"}};
    std::string master;  // "host port" when a replica
    bool link_up = true;
    int64_t offset = 5000;
    bool paused = false;
    std::vector<std::string> seen;  // every command line, unquoted
    std::vector<std::string> passwords;

    static std::vector<std::string> words(const std::string& line) {
        std::vector<std::string> out;
        std::string w;
        bool in = false;
        for (size_t i = 0; i < line.size(); ++i) {
            if (line[i] == '"') {
                if (in) out.push_back(w);
                w.clear();
                in = !in;
            } else if (in && line[i] == '\\' && i + 1 < line.size()) {
                w += line[++i];
            } else if (in) {
                w += line[i];
            }
        }
        return out;
    }

    std::string answer(const std::string& stdin_data) {
        std::istringstream in(stdin_data);
        std::string line, out;
        std::getline(in, line);
        passwords.push_back(line);
        while (std::getline(in, line)) {
            auto w = words(line);
            std::string joined;
            for (const auto& x : w) joined += (joined.empty() ? "" : " ") + x;
            seen.push_back(joined);
            if (w.size() == 4 && w[0] == "CONFIG" && w[1] == "SET") {
                config[w[2]] = w[3];
                out += "OK\n";
            } else if (w.size() == 3 && w[0] == "CONFIG" && w[1] == "GET") {
                out += w[2] + "\n" + config[w[2]] + "\n";
            } else if (w.size() == 3 && w[0] == "REPLICAOF") {
                master = w[1] == "NO" ? "" : w[1] + " " + w[2];
                out += "OK\n";
            } else if (w.size() >= 2 && w[0] == "CLIENT") {
                paused = w[1] == "PAUSE";
                out += "OK\n";
            } else if (joined == "INFO server") {
                out += "# Server\r\nredis_version:7.0.15\r\n";
            } else if (joined == "INFO memory") {
                out += "# Memory\r\nused_memory_dataset:2048\r\n";
            } else if (joined == "INFO replication") {
                if (master.empty()) {
                    out += "role:master\r\nmaster_repl_offset:" + std::to_string(offset) + "\r\n";
                } else {
                    auto sp = master.find(' ');
                    out += "role:slave\r\nmaster_host:" + master.substr(0, sp) +
                           "\r\nmaster_port:" + master.substr(sp + 1) +
                           "\r\nmaster_link_status:" + (link_up ? "up" : "down") +
                           "\r\nmaster_sync_in_progress:0\r\nslave_repl_offset:" + std::to_string(offset) +
                           "\r\n";
                }
            }
        }
        return out;
    }

    void serve(transport::RecordingTransport& t) {
        t.set_responder([this, &t](const std::string& command) {
            transport::RunResult r;
            r.exit_status = 0;
            if (command.find("redis-cli") != std::string::npos)
                r.out = answer(t.calls().back().stdin_data);
            else if (command.find("nft -f") != std::string::npos)
                r.out = "nft\n";
            else if (command.find("redis-server --version") != std::string::npos)
                r.out = "Redis server v=7.0.15 sha=0\n";
            return r;
        });
    }
};

struct Rig {
    test::FakeMoveContext ctx{"cache"};
    FakeRedis source, target;
    std::unique_ptr<data::DataMover> mover;

    explicit Rig(bool cache_only = false) {
        setenv("DECAMP_TEST_REDIS_PASSWORD", kPassword, 1);
        inventory::DataSet ds;
        ds.kind = "redis";
        ds.role = "cache";
        ds.name = "cache:6379";
        ds.settings.set("password", Value::secret("${env:DECAMP_TEST_REDIS_PASSWORD}"));
        if (cache_only) ds.settings.set("cache_only", Value::boolean(true));
        mover = data::make_mover(ds);
        source.serve(ctx.on_source);
        target.serve(ctx.on_target);
        for (const char* f : {"ca.crt", "client.crt", "client.key"})
            ctx.on_source.set_file("/etc/redis/decamp-20260101T000000Z-test/" + std::string(f),
                                   std::string("pem ") + f);
    }
    std::vector<std::string> step_names() const {
        std::vector<std::string> out;
        for (const auto& s : ctx.steps) out.push_back(s.first);
        return out;
    }
    void no_password_in_commands() {
        for (auto* t : {&ctx.on_source, &ctx.on_target})
            for (const auto& c : t->commands()) CHECK(c.find(kPassword) == std::string::npos);
    }
};

}  // namespace

TEST_CASE("redis mover: replica over TLS, paused, level, promoted, the source closed") {
    Rig rig;
    auto& m = *rig.mover;
    CHECK(m.label() == "redis cache:6379");
    CHECK(m.holds_data());
    CHECK(m.preflight(rig.ctx) == 2048);
    CHECK(m.plan(rig.ctx).find(
              "→ replica on new-cache1 over TLS (port 6380 of the source, open to 198.18.2.12 only)") !=
          std::string::npos);
    m.replicate(rig.ctx);
    CHECK(rig.target.master == "198.18.1.12 6380");
    CHECK(rig.target.config["masterauth"] == kPassword);
    CHECK(rig.target.config["tls-replication"] == "yes");
    CHECK(rig.source.config["tls-port"] == "6380");
    CHECK(rig.source.config["tls-auth-clients"] == "yes");
    auto ups = rig.ctx.on_target.uploads();
    REQUIRE(ups.size() == 3);
    CHECK(ups[2].path == "/etc/redis/decamp-20260101T000000Z-test/client.key");
    CHECK(ups[2].content == "pem client.key");
    CHECK(ups[2].opts.mode == "0600");
    CHECK(ups[2].opts.owner == "redis");
    CHECK(rig.ctx.kv["redis_firewall/cache:6379"] == "nft");

    CHECK(*m.verify(rig.ctx) == "replication lag for redis cache:6379: 0 bytes");
    m.fence(rig.ctx);
    CHECK(rig.source.paused);
    CHECK(m.final_sync(rig.ctx) == 0);
    m.promote(rig.ctx);
    CHECK(rig.target.master.empty());
    CHECK(rig.target.config["masterauth"].empty());
    CHECK(rig.target.config["tls-replication"] == "no");
    // The source: writes refused for good, no longer paused, its TLS port closed again.
    CHECK(rig.source.config["min-replicas-to-write"] == "1000");
    CHECK_FALSE(rig.source.paused);
    CHECK(rig.source.config["tls-port"] == "0");
    CHECK(rig.ctx.on_source.commands().back().find("nft delete table inet decamp_redis_6380") !=
          std::string::npos);
    CHECK(rig.step_names() ==
          std::vector<std::string>{"preflight/redis-version/cache:6379", "replicate/redis-tls/cache:6379",
                                   "replicate/redis-listen/cache:6379", "replicate/redis-replica/cache:6379",
                                   "cutover/redis-fence/cache:6379", "cutover/redis-catch-up/cache:6379",
                                   "cutover/redis-promote/cache:6379",
                                   "cutover/redis-close-source/cache:6379"});
    CHECK(rig.ctx.steps[5].second == "offsets equal at 5000");
    // The pause was renewed while waiting and before promoting.
    size_t pauses = 0;
    for (const auto& s : rig.source.seen) pauses += s == "CLIENT PAUSE 30000 WRITE";
    CHECK(pauses == 3);
    for (const auto& pw : rig.source.passwords) CHECK(pw == kPassword);
    rig.no_password_in_commands();
}

TEST_CASE("redis mover: a resumed step keeps the settings found before the first run") {
    Rig rig;
    rig.mover->replicate(rig.ctx);
    rig.mover->replicate(rig.ctx);  // as --resume after a kill inside the steps would
    CHECK(rig.ctx.kv["redis_source_tls/cache:6379"].find("tls-port\n0\n") != std::string::npos);
    CHECK(rig.ctx.kv["redis_target_tls/cache:6379"].find("tls-replication\nno\n") != std::string::npos);
    CHECK(rig.target.master == "198.18.1.12 6380");
}

TEST_CASE("redis mover: a target the stack once left takes writes again once promoted") {
    Rig rig;
    rig.target.config["min-replicas-to-write"] = "1000";  // an earlier migration's close-source
    rig.mover->replicate(rig.ctx);
    CHECK(rig.target.config["min-replicas-to-write"] == "1000");  // nothing earlier in the state
    rig.ctx.earlier = {"20250101T000000Z-prev"};
    rig.mover->replicate(rig.ctx);
    CHECK(rig.target.config["min-replicas-to-write"] == "0");
}

TEST_CASE("redis mover: abort and rollback put the source back and detach the target") {
    SUBCASE("abort before anything ran changes nothing") {
        Rig rig;
        CHECK(rig.mover->abort(rig.ctx) == "");
        CHECK(rig.ctx.on_source.commands().empty());
    }
    SUBCASE("abort after replicate") {
        Rig rig;
        rig.mover->replicate(rig.ctx);
        CHECK(rig.mover->abort(rig.ctx).find("TLS port, firewall table and certificates removed") == 0);
        CHECK(rig.source.config["tls-port"] == "0");
        CHECK(rig.target.master.empty());
        CHECK(rig.target.config["tls-replication"] == "no");
        CHECK(rig.ctx.on_target.commands().back().find("rm -rf /etc/redis/decamp-20260101T000000Z-test") ==
              0);
        rig.no_password_in_commands();
    }
    SUBCASE("rollback after the fence unpauses the source") {
        Rig rig;
        rig.mover->replicate(rig.ctx);
        rig.mover->fence(rig.ctx);
        CHECK(rig.source.paused);
        CHECK(rig.mover->rollback(rig.ctx).find("takes writes again") != std::string::npos);
        CHECK_FALSE(rig.source.paused);
        CHECK(rig.source.config["tls-port"] == "0");
        CHECK(rig.target.master.empty());
    }
}

TEST_CASE("redis mover: a broken link stops verify and the final sync with a clear message") {
    Rig rig;
    rig.mover->replicate(rig.ctx);
    rig.target.link_up = false;
    CHECK_THROWS_WITH_AS(rig.mover->verify(rig.ctx),
                         "redis cache:6379: the target's link to 198.18.1.12:6380 is down", Error);
    rig.mover->fence(rig.ctx);
    CHECK_THROWS_WITH_AS(rig.mover->final_sync(rig.ctx),
                         "redis cache:6379: the target's link to 198.18.1.12:6380 is down", Error);
}

TEST_CASE("redis mover: a cache-only set moves nothing and says so") {
    Rig rig(true);
    auto& m = *rig.mover;
    CHECK_FALSE(m.holds_data());
    CHECK(m.plan(rig.ctx) == "redis cache:6379: cache only, nothing to move (the target starts empty)");
    CHECK(m.preflight(rig.ctx) == 0);
    CHECK(m.replicate(rig.ctx) == 0);
    CHECK_FALSE(m.verify(rig.ctx));
    m.fence(rig.ctx);
    m.final_sync(rig.ctx);
    m.promote(rig.ctx);
    CHECK(m.abort(rig.ctx) == "");
    CHECK(m.rollback(rig.ctx) == "");
    CHECK(m.describe_fence("old") == "");
    CHECK(rig.ctx.steps.empty());
    CHECK(rig.ctx.on_source.commands().empty());
    CHECK(rig.ctx.on_target.commands().empty());
}

TEST_CASE("redis data entries: port, a password by reference only, cache_only, with file:line:column") {
    test::TempDir dir;
    dir.write("cache.yml", "- hosts: cache\n  tasks: []\n");
    std::string head = R"(project: forum
providers:
  old:
    kind: static
    hosts:
      cache1: { address: 198.18.1.13, roles: [cache] }
active: old
roles:
  cache: { playbooks: [cache.yml] }
data:
)";
    auto file = dir.write("inv.yml",
                          head +
                              "  - { kind: redis, role: cache, password: \"${env:RP}\", cache_only: false }\n"
                              "  - { kind: redis, role: cache, port: 6390 }\n");
    auto inv = inventory::load(file);
    REQUIRE(inv.data.size() == 2);
    CHECK(inv.data[0].name == "cache:6379");
    CHECK(inv.data[0].settings.get("password")->kind() == Value::Kind::Secret);
    CHECK(inv.data[1].name == "cache:6390");

    file =
        dir.write("inv.yml", head +
                                 "  - { kind: redis, role: cache, password: hunter2hunter2 }\n"
                                 "  - { kind: redis, role: cache, port: 70000, cache_only: maybe, db: 1 }\n");
    std::string all;
    try {
        inventory::load(file);
    } catch (const ConfigError& e) {
        for (const auto& d : e.diagnostics()) all += d.str() + "\n";
    }
    INFO(all);
    CHECK(all.find("inv.yml:11:43: data/0/password: expected a secret reference") != std::string::npos);
    CHECK(all.find("hunter2") == std::string::npos);  // never echoed
    CHECK(all.find("data/1/port") != std::string::npos);
    CHECK(all.find("data/1/cache_only") != std::string::npos);
    CHECK(all.find("data/1/db") != std::string::npos);
}
