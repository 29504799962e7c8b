// The PostgreSQL mover: the target becomes a streaming replica of the source (a replication
// user and one pg_hba line on the source for the target's address only, pg_basebackup over
// TLS), the source is fenced at cutover, the replica catches up to the source's last WAL
// position and is promoted. The commands themselves are built in data/pg_replica.
// Across major versions (the Debian releases differ), or with `method: logical`, the set
// moves by logical replication instead (data/pg_logical_mover); preflight picks the method
// and keeps it in the state, so a resumed run goes on the same way.
// Backups are logical dumps restored through a scratch database: postgres_backup.cpp.
#include "data/postgres.hpp"

#include <ostream>
#include <utility>

#include "data/mover.hpp"
#include "data/pg_logical.hpp"
#include "data/pg_logical_mover.hpp"
#include "data/pg_replica.hpp"
#include "engine/script.hpp"
#include "util/names.hpp"
#include "util/schema.hpp"
#include "util/secret.hpp"
#include "util/text.hpp"

namespace decamp::data {

using util::trim;

namespace {

class PostgresMover : public DataMover {
public:
    using DataMover::DataMover;
    std::string kind() const override { return "postgres"; }
    std::string name() const override { return ds_.name; }
    std::string target_dir() const override { return "/var/lib"; }

    uint64_t preflight(MoveContext& ctx) override {
        ctx.step("preflight", "postgres-version/" + ds_.name, [&] {
            const auto& src = ctx.first(ctx.source(), ds_.role);
            const auto [c, t] = versions(ctx);
            auto method = choose(c, t);
            ctx.set(key("method"), pglogical::method_name(method));
            uint64_t size = std::stoull(
                "0" + trim(ctx.sh(src, pg::data_size_cmd(c, ds_.name), "measuring the database")));
            ctx.set(key("cluster"), c.version + " " + c.name + " " + std::to_string(c.port));
            ctx.set(key("bytes"), std::to_string(size));
            return "PostgreSQL " + c.version + " (" + c.name + "), " + human_bytes(size) + "; " +
                   target_line(t) + "; " + pglogical::method_name(method) + " replication";
        });
        if (logical(ctx)) move(ctx).preflight();
        return ctx.get_u64(key("bytes"));
    }

    std::string plan(MoveContext& ctx) override {
        const auto& src = ctx.first(ctx.source(), ds_.role);
        const auto& dst = ctx.first(ctx.target(), ds_.role);
        const auto [c, t] = versions(ctx);
        uint64_t size = std::stoull("0" + trim(ctx.sh(src, pg::data_size_cmd(c, ds_.name), "measuring")));
        auto method = choose(c, t);
        if (method == pglogical::Method::Logical)
            pglogical::check_source(ctx.conn(src), c, ds_.name, identity_full());
        return "postgres " + ds_.name + " on " + src.name + ": " + human_bytes(size) + " (PostgreSQL " +
               c.version + ") → " +
               (method == pglogical::Method::Logical
                    ? "logical replica (schema, then publication and subscription)"
                    : "streaming replica") +
               " on " + dst.name + " (" + target_line(t) + "), promoted at cutover";
    }

    uint64_t replicate(MoveContext& ctx) override {
        if (logical(ctx)) {
            ctx.step("replicate", "pg-logical-versions/" + ds_.name, [&] {
                pg::Cluster t = pg::discover(ctx.conn(ctx.first(ctx.target(), ds_.role)));
                pg::Cluster s = replica_plan(ctx).source;
                pglogical::check_majors(pglogical::Method::Logical, s.version, t.version);
                ctx.set(key("target_cluster"), t.version + " " + t.name + " " + std::to_string(t.port));
                return "PostgreSQL " + s.version + " → " + t.version;
            });
            return move(ctx).replicate();
        }
        auto p = replica_plan(ctx);
        const auto& src = ctx.first(ctx.source(), ds_.role);
        const auto& dst = ctx.first(ctx.target(), ds_.role);
        ctx.step("replicate", "pg-grant/" + ds_.name, [&] {
            pg::Cluster t = pg::discover(ctx.conn(dst));
            if (auto why = pg::physical_refusal(src.name, p.source.version, dst.name, {t.version, "cluster"});
                !why.empty())
                throw Error(why);
            pg::grant(ctx.conn(src), p);
            return std::string("replication user and pg_hba line for ") + p.target_address + " only";
        });
        ctx.step("replicate", "pg-clear-old-fences/" + ds_.name, [&] {
            // A target that was the source of an earlier migration still carries that
            // migration's fence in its configuration; the replica must not inherit it.
            std::string cleared;
            for (const auto& prev : ctx.migrations_from(ctx.target())) {
                auto q = p;
                q.migration_id = prev;
                pg::unfence(ctx.conn(dst), q);
                cleared += prev + " ";
            }
            return cleared.empty() ? std::string("none") : cleared;
        });
        ctx.step("replicate", "pg-replica/" + ds_.name, [&] {
            pg::build_replica(ctx.conn(dst), p);
            return std::string("streaming from ") + p.source_address;
        });
        return 0;
    }

    std::optional<std::string> verify(MoveContext& ctx) override {
        if (logical(ctx)) {
            auto m = move(ctx);
            std::string line = m.verify();
            lag_ = m.lag();
            return line;
        }
        auto p = replica_plan(ctx);
        lag_ = pg::lag_bytes(ctx.conn(ctx.first(ctx.source(), ds_.role)), p);
        if (lag_ < 0)
            throw Error("the target is not streaming from the source (pg_stat_replication has no row for " + p.repl_user + ")");
        return "replication lag for " + ds_.name + ": " + std::to_string(lag_) + " bytes";
    }
    int64_t lag_bytes() const override { return lag_; }

    void fence(MoveContext& ctx) override {
        if (logical(ctx)) return move(ctx).fence();
        auto p = replica_plan(ctx);
        ctx.step("cutover", "pg-fence/" + ds_.name, [&] {
            pg::fence(ctx.conn(ctx.first(ctx.source(), ds_.role)), p);
            return std::string("source read-only, clients rejected");
        });
    }

    uint64_t final_sync(MoveContext& ctx) override {
        if (logical(ctx)) {
            move(ctx).final_sync();
            return 0;
        }
        auto p = replica_plan(ctx);
        ctx.step("cutover", "pg-catch-up/" + ds_.name, [&] {
            uint64_t lsn = pg::wait_caught_up(ctx.conn(ctx.first(ctx.source(), ds_.role)),
                                              ctx.conn(ctx.first(ctx.target(), ds_.role)), p, ctx.catchup_timeout_s());
            char buf[40];
            snprintf(buf, sizeof buf, "%X/%X", unsigned(lsn >> 32), unsigned(lsn & 0xffffffffu));
            return std::string("replayed up to ") + buf;
        });
        return 0;
    }

    void promote(MoveContext& ctx) override {
        if (logical(ctx)) return move(ctx).promote();
        auto p = replica_plan(ctx);
        const auto& dst = ctx.first(ctx.target(), ds_.role);
        ctx.step("cutover", "pg-promote/" + ds_.name, [&] {
            pg::promote(ctx.conn(dst), p);
            return std::string("target is primary");
        });
        ctx.step("cutover", "pg-drop-repl-user/" + ds_.name, [&] {
            // The replica copied the source's roles, ours included; the new primary keeps none.
            pg::revoke(ctx.conn(dst), p);
            return std::string("replication user dropped on the new primary");
        });
    }

    std::string rollback(MoveContext& ctx) override {
        if (logical(ctx)) return move(ctx).rollback();
        pg::unfence(ctx.conn(ctx.first(ctx.source(), ds_.role)), replica_plan(ctx));
        return "source database " + ds_.name + " writable again";
    }

    std::string abort(MoveContext& ctx) override {
        if (logical(ctx)) return move(ctx).abort();
        if (!ctx.step_begun("pg-grant/" + ds_.name)) return "";  // nothing was added
        ctx.log() << "  removing the replication user and pg_hba line from the source …" << std::flush;
        auto p = replica_plan(ctx);
        pg::revoke(ctx.conn(ctx.first(ctx.source(), ds_.role)), p);
        ctx.log() << " done\n";
        std::string done = "replication user and pg_hba line removed from " + ds_.name + "'s source";
        if (ctx.step_begun("pg-replica/" + ds_.name)) {
            // The target's own data was moved aside for the replica: put it back.
            ctx.log() << "  putting the target's own PostgreSQL data back …" << std::flush;
            pg::restore_target(ctx.conn(ctx.first(ctx.target(), ds_.role)), p);
            ctx.log() << " done\n";
            done += "; the target's own data back in place";
        }
        return done;
    }

    std::string describe_move(const inventory::Inventory& inv, const std::string& source,
                              const std::string& target) const override {
        auto first = [&](const std::string& provider) {
            auto v = inv.hosts_of(provider, ds_.role);
            return v.empty() ? std::string("-") : v.front()->name;
        };
        const std::string how = setting("method") == "logical" ? " → logical replica on "
                                : setting("method") == "physical"
                                    ? " → streaming replica on "
                                    : " → replica (streaming, or logical across majors) on ";
        return first(source) + how + first(target);
    }
    std::string describe_fence(const std::string& source) const override {
        return "fence " + source + "'s database " + ds_.name + " (read-only for good)";
    }

    std::string stream_ext() const override { return ".dump"; }
    std::unique_ptr<BackupRead> backup(transport::Transport& t, const inventory::Host&,
                                       const std::string& backup_id) override {
        return postgres::backup_read(t, ds_.name, backup_id);
    }
    std::string evidence(const DataEntry& e) const override { return std::to_string(e.tables.size()) + " tables"; }
    void encode_evidence(const DataEntry& e, json::Value& v) const override { postgres::encode_evidence(e, v); }
    void decode_evidence(const json::Ref& v, DataEntry& e) const override { postgres::decode_evidence(v, e); }
    bool restore_on_every_host() const override { return false; }  // one primary per role
    std::unique_ptr<StagedRestore> stage(transport::Transport& t, const inventory::Host& host,
                                         const DataEntry& e) override {
        return postgres::stage(t, host, e);
    }
    std::unique_ptr<ScratchRestore> scratch(transport::Transport& local, const std::string& dir,
                                            const DataEntry& e) override {
        return postgres::scratch(local, dir, e);
    }
    std::string live_diff(transport::Transport& t, const DataEntry& e) override { return postgres::live_diff(t, e); }
    std::string teardown(transport::Transport& t, const inventory::Host& host) override {
        return postgres::teardown(t, host, ds_.name);
    }

private:
    std::string key(const std::string& what) const { return "pg_" + what + "/" + ds_.name; }
    std::string setting(const std::string& name) const {
        const Value* v = ds_.settings.get(name);
        return v && v->is_string() ? v->as_string() : "";
    }
    // The same Debian release on both sides means the same PostgreSQL major from apt (the
    // target may have no PostgreSQL yet at preflight: provision installs it).
    // Streaming within a major, logical across (or what the inventory's `method:` forces); a
    // target without PostgreSQL yet counts as the same major until pg-grant sees its cluster.
    pglogical::Method choose(const pg::Cluster& c, const pg::TargetMajor& t) const {
        return pglogical::choose_method(setting("method"), c.version, t.version);
    }
    bool logical(MoveContext& ctx) { return ctx.get(key("method")).value_or("") == "logical"; }
    pglogical::LogicalMove move(MoveContext& ctx) {
        auto p = replica_plan(ctx);
        if (auto t = ctx.get(key("target_cluster"))) p.target = pg::parse_discovered(*t);
        return {ctx, ctx.first(ctx.source(), ds_.role), ctx.first(ctx.target(), ds_.role), p,
                identity_full()};
    }
    bool identity_full() const {
        const Value* full = ds_.settings.get("replica_identity_full");
        return full && full->kind() == Value::Kind::Bool && full->as_bool();
    }

    // The source's cluster and the target's major (the hosts' Debian releases may differ;
    // choose() decides what carries the set between the majors).
    std::pair<pg::Cluster, pg::TargetMajor> versions(MoveContext& ctx) {
        const auto& src = ctx.first(ctx.source(), ds_.role);
        const auto& dst = ctx.first(ctx.target(), ds_.role);
        pg::Cluster c = pg::discover(ctx.conn(src));
        auto t = pg::parse_target_major(
            ctx.sh(dst, pg::target_major_cmd(), "reading the target's PostgreSQL version"));
        return {c, t};
    }
    static std::string target_line(const pg::TargetMajor& t) {
        if (t.version.empty()) return "the target's version is checked once it is provisioned";
        return "target " + t.version + (t.from == "apt" ? " (from its apt)" : "");
    }

    std::string repl_password(MoveContext& ctx) {
        auto pw = ctx.get("repl_password");
        if (!pw) {
            pw = engine::make_nonce() + engine::make_nonce();
            ctx.set("repl_password", *pw);
        }
        redactor().add(*pw);
        return *pw;
    }

    pg::ReplicaPlan replica_plan(MoveContext& ctx) {
        pg::ReplicaPlan p;
        p.migration_id = ctx.migration_id();
        p.source_address = ctx.first(ctx.source(), ds_.role).address;
        p.target_address = ctx.first(ctx.target(), ds_.role).address;
        p.database = ds_.name;
        p.repl_password = SecretString(repl_password(ctx));
        auto cluster = ctx.get(key("cluster"));
        if (!cluster)
            throw Error("the state has no PostgreSQL cluster for " + ds_.name + " (preflight did not run)");
        p.source = pg::parse_discovered(*cluster);
        p.target = p.source;  // the same major on both sides (preflight and pg-grant check it)
        return p;
    }

    int64_t lag_ = -1;
};

}  // namespace

// An inventory entry {kind: postgres, role, database}: the database names the set.
std::string validate_postgres_set(const Value& entry, const std::string& path, schema::Checker& check) {
    if (auto m = check.str(entry, "method", path); m && *m != "auto" && *m != "physical" && *m != "logical")
        check.error(*entry.get("method"), schema::Checker::join(path, "method"),
                    "expected auto (streaming within a major, logical across), physical or logical");
    check.boolean(entry, "replica_identity_full", path);
    return check.shaped(entry, "database", path, names::check_pg_name, true).value_or("");
}

std::unique_ptr<DataMover> make_postgres_mover(const inventory::DataSet& ds) {
    return std::make_unique<PostgresMover>(ds);
}

}  // namespace decamp::data
