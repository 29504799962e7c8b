// The logical path's steps (pg_logical_mover.hpp). Every step is idempotent: what a rerun
// must not recompute (the roles fenced, the final position, the schema fingerprint) is kept
// in the migration's state before it is acted on.
#include "data/pg_logical_mover.hpp"

#include <ostream>

#include "data/pg_logical.hpp"
#include "data/pg_sh.hpp"
#include "util/error.hpp"

namespace decamp::data::pglogical {

LogicalMove::LogicalMove(MoveContext& ctx, const inventory::Host& source, const inventory::Host& target,
                         pg::ReplicaPlan p, bool identity_full)
    : ctx_(ctx),
      src_(ctx.conn(source)),
      dst_(ctx.conn(target)),
      p_(logical_plan(std::move(p))),
      identity_full_(identity_full) {}

std::string LogicalMove::key(const std::string& what) const {
    return "pgl_" + what + "/" + p_.database;
}
std::string LogicalMove::step_name(const std::string& what) const {
    return "pg-logical-" + what + "/" + p_.database;
}

std::string LogicalMove::preflight() {
    return ctx_.step("preflight", step_name("check"), [&] {
        SourceCheck s = check_source(src_, p_.source, p_.database, identity_full_);
        ctx_.set(key("identity_full"), encode_tables(s.no_key));
        return s.no_key.empty()
                   ? std::string("nothing logical replication would lose")
                   : std::to_string(s.no_key.size()) + " table(s) without a key get REPLICA IDENTITY FULL";
    });
}

std::string LogicalMove::fingerprint() {
    return pg::trim(
        pg::run_checked(src_, "taking the schema's fingerprint", fingerprint_cmd(p_.source, p_.database), &p_)
            .out);
}

void LogicalMove::check_schema_unchanged(const std::string& when) {
    const std::string was = ctx_.get(key("fingerprint")).value_or("");
    const std::string now = fingerprint();
    if (was.empty() || now == was) return;
    throw Error("the schema of " + p_.database + " on the source changed " + when +
                " (DDL ran during the move; logical replication does not carry it): schema fingerprint " +
                was.substr(0, 12) + " at the copy, " + now.substr(0, 12) + " now");
}

uint64_t LogicalMove::replicate() {
    const std::string ph = "replicate";
    const std::string& db = p_.database;
    ctx_.step(ph, step_name("target"), [&] {
        const std::string out = pg::trim(
            pg::run_checked(dst_, "looking at the target database", target_state_cmd(p_.target, db), &p_)
                .out);
        if (out != "absent" && out != "empty") {
            std::vector<Table> full;
            for (const auto& l : lines(out)) {
                auto f = split(l, '\t');
                if (f.size() != 3 || f[0] != "rows")
                    throw Error(dst_.describe() + ": unexpected answer '" + l.substr(0, 80) + "'");
                full.push_back({hex_decode(f[1]), hex_decode(f[2])});
            }
            std::string names;
            for (size_t i = 0; i < full.size() && i < 10; ++i)
                names += (i ? ", " : "") + display_name(full[i].schema, full[i].name);
            throw Error("the target's database " + db + " already holds rows (" + names +
                        "); decamp replaces only a database that is absent or holds no rows");
        }
        return "target database " + out;
    });
    const auto identity = decode_tables(ctx_.get(key("identity_full")).value_or(""));
    if (!identity.empty())
        ctx_.step(ph, step_name("identity"), [&] {
            run_sql(src_, p_.source, db, identity_full_sql(identity), "setting REPLICA IDENTITY FULL", &p_);
            return std::to_string(identity.size()) + " table(s) REPLICA IDENTITY FULL";
        });
    ctx_.step(ph, step_name("roles"), [&] {
        uint64_t n = copy_stream(src_, dump_roles_cmd(p_.source), dst_, load_roles_cmd(p_.target),
                                 "copying the roles");
        return "roles copied (" + human_bytes(n) + ")";
    });
    ctx_.step(ph, step_name("schema"), [&] {
        // Taken before the dump: DDL between the two shows up as a change, never as a miss.
        ctx_.set(key("fingerprint"), fingerprint());
        pg::run_checked(dst_, "dropping the target's empty database", drop_target_db_cmd(p_.target, db), &p_);
        uint64_t n = copy_stream(src_, dump_schema_cmd(p_.source, db), dst_, load_schema_cmd(p_.target),
                                 "copying the schema of " + db);
        return "schema copied (" + human_bytes(n) + ")";
    });
    ctx_.step(ph, step_name("grant"), [&] {
        pg::grant(src_, p_);
        return "replication user, read-only on every table, pg_hba line for " + p_.target_address + " only";
    });
    ctx_.step(ph, step_name("publication"), [&] {
        run_sql(src_, p_.source, db, publication_sql(p_.migration_id), "creating the publication", &p_);
        return "publication " + object_name(p_.migration_id) + " for all tables";
    });
    ctx_.step(ph, step_name("subscription"), [&] {
        const std::string has =
            pg::trim(run_sql(dst_, p_.target, db,
                             "SELECT count(*) FROM pg_catalog.pg_subscription WHERE subname = " +
                                 pg::quote_literal(object_name(p_.migration_id)) + ";\n",
                             "looking for the subscription", &p_));
        // A CREATE SUBSCRIPTION killed after it made the slot leaves that slot behind.
        if (has == "0")
            run_sql(src_, p_.source, db, drop_idle_slot_sql(p_.migration_id), "dropping an idle slot", &p_);
        run_sql(dst_, p_.target, db, subscription_sql(p_), "creating the subscription", &p_);
        return "subscription " + object_name(p_.migration_id) + " copying from " + p_.source_address;
    });
    ctx_.step(ph, step_name("initial-copy"), [&] {
        wait_initial_copy(dst_, p_, 600);
        return std::string("every table copied; changes streaming");
    });
    ctx_.step(ph, step_name("matviews"), [&] {
        // As fresh as a refresh on the source would make them; outside the write freeze.
        const std::string out =
            pg::run_checked(src_, "listing the materialized views", matviews_cmd(p_.source, db), &p_).out;
        run_sql(dst_, p_.target, db, refresh_matviews_sql(out), "refreshing the materialized views", &p_);
        return std::to_string(lines(out).size()) + " materialized view(s) refreshed on the target";
    });
    return 0;
}

std::string LogicalMove::verify() {
    check_schema_unchanged("since the copy began");
    const std::string out = pg::trim(
        pg::run_checked(src_, "reading the subscription's lag", slot_lag_cmd(p_.source, p_.migration_id), &p_)
            .out);
    lag_ = is_integer(out) ? std::stoll(out) : -1;
    if (lag_ < 0)
        throw Error(src_.describe() + ": the replication slot " + object_name(p_.migration_id) + " is gone");
    return "logical replication lag for " + p_.database + ": " + std::to_string(lag_) +
           " bytes; schema unchanged";
}

std::vector<std::string> LogicalMove::fenced_roles() {
    std::vector<std::string> out;
    for (const auto& hex : lines(ctx_.get(key("fenced_roles")).value_or(""))) out.push_back(hex_decode(hex));
    return out;
}

void LogicalMove::fence() {
    ctx_.step("cutover", step_name("fence"), [&] {
        // The roles are kept before any is fenced: a rerun, a rollback or an abort restores
        // exactly these, whatever the kill interrupted.
        if (!ctx_.get(key("fenced_roles"))) {
            const std::string out = pg::run_checked(src_, "listing the login roles",
                                                    login_roles_cmd(p_.source, p_.repl_user), &p_)
                                        .out;
            for (const auto& hex : lines(out)) hex_decode(hex);  // data: checked before it is kept
            ctx_.set(key("fenced_roles"), out);
        }
        const auto roles = fenced_roles();
        transport::RunOptions o;
        o.stdin_data = fence_sql(roles);
        pg::run_checked(src_, "fencing every role of the source", fence_cmd(p_.source), &p_, o);
        try {
            check_schema_unchanged("during the move");
        } catch (const Error&) {
            unfence();
            throw;
        }
        return std::to_string(roles.size()) +
               " login role(s) NOLOGIN, new sessions read-only, sessions ended";
    });
}

void LogicalMove::final_sync() {
    ctx_.step("cutover", step_name("catch-up"), [&] {
        if (!ctx_.get(key("final_lsn")))
            ctx_.set(key("final_lsn"), std::to_string(pg::current_lsn(src_, p_)));
        const uint64_t want = ctx_.get_u64(key("final_lsn"));
        const uint64_t got = wait_confirmed(src_, p_, want, ctx_.catchup_timeout_s());
        return "the subscription confirmed the source's final position (" + std::to_string(got) + ")";
    });
    ctx_.step("cutover", step_name("sequences"), [&] {
        const std::string out =
            pg::run_checked(src_, "reading the sequences", sequences_cmd(p_.source, p_.database), &p_).out;
        run_sql(dst_, p_.target, p_.database, set_sequences_sql(out), "setting the sequences", &p_);
        return std::to_string(lines(out).size()) + " sequence(s) set to the source's values";
    });
}

void LogicalMove::promote() {
    ctx_.step("cutover", step_name("drop-subscription"), [&] {
        cleanup();
        return std::string(
            "subscription dropped (its data kept), slot and publication removed; target writable");
    });
}

void LogicalMove::unfence() {
    run_sql(src_, p_.source, "postgres", unfence_sql(fenced_roles()), "unfencing the source", &p_);
}

// The subscription (normally dropped with its slot; detached when the source does not
// answer), our slot and publication on the source, the replication user and its pg_hba line.
std::string LogicalMove::cleanup() {
    const std::string& db = p_.database;
    try {
        run_sql(dst_, p_.target, db, drop_subscription_sql(p_.migration_id, false),
                "dropping the subscription", &p_);
    } catch (const Error&) {
        run_sql(dst_, p_.target, db, drop_subscription_sql(p_.migration_id, true),
                "detaching the subscription", &p_);
    }
    run_sql(src_, p_.source, db, drop_source_objects_sql(p_.migration_id),
            "dropping the slot and the publication", &p_);
    pg::revoke(src_, p_);
    return "subscription, slot, publication and replication user removed";
}

std::string LogicalMove::rollback() {
    std::string done;
    if (ctx_.step_begun(step_name("fence"))) {
        unfence();
        done = "every fenced role of " + p_.database + "'s source may log in again; ";
    }
    // The target's copy stays: it may hold writes made after promote, for whoever looks.
    return done + undo(false);
}

std::string LogicalMove::abort() {
    return undo(true);
}

std::string LogicalMove::undo(bool drop_target_copy) {
    if (!ctx_.step_begun(step_name("target"))) return "";
    std::string done;
    if (ctx_.step_begun(step_name("grant"))) done += cleanup() + "; ";
    if (ctx_.step_begun(step_name("identity"))) {
        run_sql(src_, p_.source, p_.database,
                identity_restore_sql(decode_tables(ctx_.get(key("identity_full")).value_or(""))),
                "restoring the replica identities", &p_);
        done += "replica identities restored; ";
    }
    if (drop_target_copy && ctx_.step_begun(step_name("schema"))) {
        pg::run_checked(dst_, "dropping the target's copy", drop_target_db_cmd(p_.target, p_.database), &p_);
        done += "the target's copy of " + p_.database + " dropped; ";
    }
    ctx_.log() << "  " << done << "\n";
    return done.empty() ? "" : done.substr(0, done.size() - 2);
}

}  // namespace decamp::data::pglogical
