// The Redis mover: the target becomes a replica of the source over mutual TLS (a port the
// source opens for this migration, reachable from the target's address only), writes are
// paused on the source at cutover until both offsets are equal, the target is promoted with
// REPLICAOF NO ONE, and the source then refuses writes for good. A set declared
// `cache_only: true` holds nothing worth moving: every phase, and backups, skip it. The
// commands are built in data/redis_replica.
#include <chrono>
#include <thread>

#include "data/mover.hpp"
#include "data/redis_replica.hpp"
#include "util/schema.hpp"
#include "util/secret.hpp"
#include "util/shell.hpp"
#include "util/text.hpp"

namespace decamp::data {

namespace {

using Commands = std::vector<std::vector<std::string>>;
using Clock = std::chrono::steady_clock;

class RedisMover : public DataMover {
public:
    using DataMover::DataMover;
    std::string kind() const override { return "redis"; }
    std::string name() const override { return ds_.name; }
    std::string target_dir() const override { return "/var/lib"; }
    bool holds_data() const override { return !cache_only(); }

    uint64_t preflight(MoveContext& ctx) override {
        if (cache_only()) return 0;
        ctx.step("preflight", "redis-version/" + ds_.name, [&] {
            auto [line, bytes] = measure(ctx);
            ctx.set(key("bytes"), std::to_string(bytes));
            return line;
        });
        return ctx.get_u64(key("bytes"));
    }

    std::string plan(MoveContext& ctx) override {
        if (cache_only())
            return "redis " + ds_.name + ": cache only, nothing to move (the target starts empty)";
        const auto p = plan_for(ctx);
        return "redis " + ds_.name + " on " + src(ctx).name + ": " + measure(ctx).first + " → replica on " +
               dst(ctx).name + " over TLS (port " + std::to_string(redis::tls_port(p)) +
               " of the source, open to " + p.target_address + " only), promoted at cutover";
    }

    uint64_t replicate(MoveContext& ctx) override {
        if (cache_only()) return 0;
        const auto p = plan_for(ctx);
        ctx.step("replicate", "redis-tls/" + ds_.name, [&] {
            ctx.sh(src(ctx), redis::make_certs_cmd(p), "making the replica's TLS certificates");
            auto& t = ctx.conn(dst(ctx));
            const std::string dir = redis::cert_dir(p);
            ctx.sh(dst(ctx), "install -d -o redis -g redis -m 700 " + shell::quote(dir), "preparing " + dir);
            for (const char* f : {"ca.crt", "client.crt", "client.key"})
                t.upload(ctx.conn(src(ctx)).download(dir + "/" + f), dir + "/" + f,
                         {"0600", "redis", "redis"});
            return "a CA of this migration, a server certificate on " + src(ctx).name + ", a client one on " +
                   dst(ctx).name;
        });
        ctx.step("replicate", "redis-listen/" + ds_.name, [&] {
            remember_tls(ctx, src(ctx), "source_tls");
            const std::string fw =
                util::trim(ctx.sh(src(ctx), redis::firewall_cmd(p), "guarding the TLS port"));
            ctx.set(key("firewall"), fw);
            cli_ok(ctx, src(ctx), redis::listen_commands(p), "opening the TLS port for the replica");
            return "TLS port " + std::to_string(redis::tls_port(p)) + " open, client certificate required" +
                   (fw == "nft" ? ", to " + p.target_address + " only"
                                : std::string(" (no nft on the host)"));
        });
        ctx.step("replicate", "redis-replica/" + ds_.name, [&] {
            remember_tls(ctx, dst(ctx), "target_tls");
            // A target that was the source of an earlier migration still refuses writes
            // (that migration's close-source step); once promoted it must take them.
            Commands cmds = redis::replica_commands(p);
            if (!ctx.migrations_from(ctx.target()).empty())
                cmds.insert(cmds.begin(), {"CONFIG", "SET", "min-replicas-to-write", "0"});
            cli_ok(ctx, dst(ctx), cmds, "making the target a replica");
            wait_synced(ctx, p);
            return "replica of " + p.source_address + ":" + std::to_string(redis::tls_port(p)) +
                   ", initial sync done";
        });
        return 0;
    }

    std::optional<std::string> verify(MoveContext& ctx) override {
        if (cache_only()) return std::nullopt;
        const auto p = plan_for(ctx);
        int64_t source_offset = redis::parse_offset(info(ctx, src(ctx), {}));
        auto link = redis::parse_link(info(ctx, dst(ctx), {}));
        if (auto why = redis::link_problem(p, link); !why.empty())
            throw Error("redis " + ds_.name + ": " + why);
        lag_ = source_offset < 0 || link.offset < 0 ? -1 : std::max<int64_t>(0, source_offset - link.offset);
        return "replication lag for redis " + ds_.name + ": " + std::to_string(lag_) + " bytes";
    }
    int64_t lag_bytes() const override { return lag_; }

    void fence(MoveContext& ctx) override {
        if (cache_only()) return;
        ctx.step("cutover", "redis-fence/" + ds_.name, [&] {
            cli_ok(ctx, src(ctx), {redis::pause_command(redis::kPauseMs)}, "pausing writes on the source");
            return "writes paused on " + src(ctx).name + " (" + std::to_string(redis::kPauseMs / 1000) +
                   " s at a time, renewed until promoted)";
        });
    }

    uint64_t final_sync(MoveContext& ctx) override {
        if (cache_only()) return 0;
        const auto p = plan_for(ctx);
        ctx.step("cutover", "redis-catch-up/" + ds_.name, [&] {
            const auto deadline = Clock::now() + std::chrono::seconds(ctx.catchup_timeout_s());
            for (;;) {
                // The pause is renewed with every look, so a long wait never lets writes in.
                int64_t want =
                    redis::parse_offset(info(ctx, src(ctx), redis::pause_command(redis::kPauseMs)));
                auto link = redis::parse_link(info(ctx, dst(ctx), {}));
                if (auto why = redis::link_problem(p, link); !why.empty())
                    throw Error("redis " + ds_.name + ": " + why);
                if (want >= 0 && link.offset == want) return "offsets equal at " + std::to_string(want);
                if (Clock::now() > deadline)
                    throw Error("redis " + ds_.name + ": the target reached offset " +
                                std::to_string(link.offset) + " of " + std::to_string(want) + " within " +
                                std::to_string(ctx.catchup_timeout_s()) +
                                " s; the source stays paused until --resume or --abort");
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        });
        return 0;
    }

    void promote(MoveContext& ctx) override {
        if (cache_only()) return;
        const auto p = plan_for(ctx);
        ctx.step("cutover", "redis-promote/" + ds_.name, [&] {
            cli_ok(ctx, src(ctx), {redis::pause_command(redis::kPauseMs)},
                   "renewing the pause on the source");
            cli_ok(ctx, dst(ctx), redis::promote_commands(), "promoting the target");
            reset_tls(ctx, dst(ctx), "target_tls", false);
            return "target is primary";
        });
        ctx.step("cutover", "redis-close-source/" + ds_.name, [&] {
            remember(ctx, src(ctx), "min-replicas-to-write");
            // With no replica left, the source refuses every write (NOREPLICAS) from now on;
            // the writes the pause held get that error too, never a silent success.
            cli_ok(ctx, src(ctx), {{"CONFIG", "SET", "min-replicas-to-write", "1000"}, {"CLIENT", "UNPAUSE"}},
                   "refusing writes on the source");
            reset_tls(ctx, src(ctx), "source_tls", true);
            return "source refuses writes for good; its TLS port, firewall table and certificates removed";
        });
    }

    std::string rollback(MoveContext& ctx) override {
        if (cache_only()) return "";
        undo(ctx);
        return "redis " + ds_.name + " on " + src(ctx).name + " takes writes again; the target is no replica";
    }

    std::string abort(MoveContext& ctx) override {
        if (cache_only() || !ctx.step_begun("redis-tls/" + ds_.name)) return "";
        ctx.log() << "  removing the replica's TLS port, firewall and certificates …" << std::flush;
        undo(ctx);
        ctx.log() << " done\n";
        return "TLS port, firewall table and certificates removed from redis " + ds_.name +
               "'s source; the target no replica (it keeps the keys it copied)";
    }

    std::string describe_move(const inventory::Inventory& inv, const std::string& source,
                              const std::string& target) const override {
        if (cache_only()) return "cache only: nothing moved, the target starts empty";
        auto first = [&](const std::string& provider) {
            auto v = inv.hosts_of(provider, ds_.role);
            return v.empty() ? std::string("-") : v.front()->name;
        };
        return first(source) + " → replica over TLS on " + first(target);
    }
    std::string describe_fence(const std::string& source) const override {
        if (cache_only()) return "";
        return "pause writes on " + source + "'s Redis " + ds_.name + " (then refused for good)";
    }

private:
    std::string key(const std::string& what) const { return "redis_" + what + "/" + ds_.name; }
    bool cache_only() const {
        const Value* v = ds_.settings.get("cache_only");
        return v && v->kind() == Value::Kind::Bool && v->as_bool();
    }
    const inventory::Host& src(MoveContext& ctx) const { return ctx.first(ctx.source(), ds_.role); }
    const inventory::Host& dst(MoveContext& ctx) const { return ctx.first(ctx.target(), ds_.role); }

    redis::Plan plan_for(MoveContext& ctx) const {
        redis::Plan p;
        p.migration_id = ctx.migration_id();
        p.source_address = src(ctx).address;
        p.target_address = dst(ctx).address;
        if (const Value* v = ds_.settings.get("port"); v && v->kind() == Value::Kind::Int)
            p.port = int(v->as_int());
        if (const Value* v = ds_.settings.get("password"); v && v->kind() == Value::Kind::Secret)
            p.password = resolve_secret(v->as_string(), ds_.base_dir);
        return p;
    }

    std::string cli(MoveContext& ctx, const inventory::Host& h, const Commands& cmds,
                    const std::string& what) {
        const auto p = plan_for(ctx);
        transport::RunOptions o;
        o.stdin_data = redis::cli_stdin(p, cmds);
        auto r = ctx.conn(h).run(redis::cli_cmd(p), o);
        if (r.exit_status != 0)
            throw Error(what + " on " + h.name + " failed (exit " + std::to_string(r.exit_status) +
                        "): " + redactor().mask(util::output_tail(r.err.empty() ? r.out : r.err)));
        return r.out;
    }
    void cli_ok(MoveContext& ctx, const inventory::Host& h, const Commands& cmds, const std::string& what) {
        redis::expect_ok(cli(ctx, h, cmds, what), cmds.size(), what + " on " + h.name);
    }
    // INFO replication, after `first` when given (the pause renewed in the same round trip).
    std::map<std::string, std::string> info(MoveContext& ctx, const inventory::Host& h,
                                            const std::vector<std::string>& first) {
        Commands cmds;
        if (!first.empty()) cmds.push_back(first);
        cmds.push_back({"INFO", "replication"});
        return redis::parse_info(cli(ctx, h, cmds, "reading INFO replication"));
    }

    // The host's settings before we changed any, kept once: a resumed step must not take
    // our own values for the originals.
    void remember(MoveContext& ctx, const inventory::Host& h, const std::string& setting) {
        remember_settings(ctx, h, setting, {setting});
    }
    void remember_tls(MoveContext& ctx, const inventory::Host& h, const std::string& as) {
        remember_settings(ctx, h, as, redis::tls_settings());
    }
    void remember_settings(MoveContext& ctx, const inventory::Host& h, const std::string& as,
                           const std::vector<std::string>& names) {
        if (ctx.get(key(as))) return;
        Commands cmds;
        for (const auto& n : names) cmds.push_back({"CONFIG", "GET", n});
        ctx.set(key(as), cli(ctx, h, cmds, "reading the Redis settings"));
    }
    void restore(MoveContext& ctx, const inventory::Host& h, const std::string& as) {
        auto kept = ctx.get(key(as));
        if (!kept) return;
        auto cmds = redis::restore_commands(redis::parse_config(*kept));
        if (!cmds.empty()) cli_ok(ctx, h, cmds, "restoring the Redis settings");
    }
    // The host's TLS settings back as they were, and our files (and on the source the
    // firewall table) gone.
    void reset_tls(MoveContext& ctx, const inventory::Host& h, const std::string& as, bool source) {
        restore(ctx, h, as);
        ctx.sh(h, redis::cleanup_cmd(plan_for(ctx), source), "removing the replica's certificates");
    }

    // Rollback and abort: the source unpaused and writable as before, the target no
    // replica; each part idempotent, so a second undo (or one after a crash) is harmless.
    void undo(MoveContext& ctx) {
        cli_ok(ctx, src(ctx), {{"CLIENT", "UNPAUSE"}}, "unpausing the source");
        restore(ctx, src(ctx), "min-replicas-to-write");
        reset_tls(ctx, src(ctx), "source_tls", true);
        if (ctx.step_begun("redis-replica/" + ds_.name))
            cli_ok(ctx, dst(ctx), redis::promote_commands(), "detaching the target");
        reset_tls(ctx, dst(ctx), "target_tls", false);
    }

    void wait_synced(MoveContext& ctx, const redis::Plan& p) {
        const auto deadline = Clock::now() + std::chrono::seconds(redis::kSyncTimeoutS);
        for (;;) {
            auto link = redis::parse_link(info(ctx, dst(ctx), {}));
            auto why = redis::link_problem(p, link);
            if (why.empty()) return;
            if (link.master.empty() || Clock::now() > deadline)
                throw Error("redis " + ds_.name + ": " + why + " (waited for the initial sync)");
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    }

    // "Redis 7.0.15, 1.2 MiB; target Redis 7" and the data set's bytes; Error when the
    // target's server is older than the source's.
    std::pair<std::string, uint64_t> measure(MoveContext& ctx) {
        auto i =
            redis::parse_info(cli(ctx, src(ctx), {{"INFO", "server"}, {"INFO", "memory"}}, "reading INFO"));
        const std::string version = i.count("redis_version") ? i["redis_version"] : "?";
        uint64_t bytes = 0;
        try {
            bytes = std::stoull("0" + i["used_memory_dataset"]);
        } catch (const std::exception&) {
        }
        int target = redis::parse_server_major(ctx.sh(dst(ctx), "redis-server --version 2>/dev/null || true",
                                                      "reading the target's Redis version"));
        int source = redis::parse_server_major("v=" + version);
        if (auto why = redis::version_refusal(src(ctx).name, source, dst(ctx).name, target); !why.empty())
            throw Error(why);
        return {"Redis " + version + ", " + human_bytes(bytes) + "; " +
                    (target ? "target Redis " + std::to_string(target)
                            : std::string("target's Redis checked once provisioned")),
                bytes};
    }

    int64_t lag_ = -1;
};

}  // namespace

// An inventory entry {kind: redis, role, port?, password?, cache_only?}: the role and the
// port name the set ("cache:6379"); the password is a secret reference, never inline.
std::string validate_redis_set(const Value& entry, const std::string& path, schema::Checker& check) {
    int64_t port = check.integer(entry, "port", path, false, 1, 65534).value_or(6379);
    check.boolean(entry, "cache_only", path);
    if (const Value* pw = entry.get("password");
        pw && !(pw->is_string() && is_secret_reference(pw->as_string())))
        check.error(
            *pw, schema::Checker::join(path, "password"),
            "expected a secret reference such as ${env:REDIS_PASSWORD} or ${file:path}; passwords are never "
            "written inline");
    const Value* role = entry.get("role");
    if (!role || !role->is_string()) return "";
    return role->as_string() + ":" + std::to_string(port);
}

std::unique_ptr<DataMover> make_redis_mover(const inventory::DataSet& ds) {
    return std::make_unique<RedisMover>(ds);
}

}  // namespace decamp::data
