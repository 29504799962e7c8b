// The PostgreSQL mover's logical path (across major versions, or `method: logical`): each
// phase as journaled steps over MoveContext, so kill -9 anywhere then --resume continues and
// --abort (or a rollback after the fence) removes exactly what was added. postgres.cpp picks
// the method at preflight and hands the plan here; the tests drive it with their own clusters.
#pragma once

#include <cstdint>
#include <string>

#include "data/mover.hpp"
#include "data/pg_replica.hpp"

namespace decamp::data::pglogical {

class LogicalMove {
public:
    // `p`: the physical plan's fields with both clusters known (target's after replicate's
    // first step; the source's until then). `identity_full`: the inventory allows REPLICA
    // IDENTITY FULL for tables without a key.
    LogicalMove(MoveContext& ctx, const inventory::Host& source, const inventory::Host& target,
                pg::ReplicaPlan p, bool identity_full);

    std::string preflight();  // refuses what would be lost; a line for the step
    uint64_t replicate();     // roles, schema, publication, subscription, initial copy
    std::string verify();     // DDL since the copy began fails; sets lag()
    int64_t lag() const { return lag_; }
    void fence();       // every login role NOLOGIN, sessions ended, then DDL checked again
    void final_sync();  // the final position confirmed, every sequence set on the target
    void promote();     // subscription dropped (data kept), the source's objects removed
    std::string rollback();  // unfence and undo; the target's copy is kept
    std::string abort();     // undo, and the target's copy of the database dropped

private:
    std::string key(const std::string& what) const;
    std::string step_name(const std::string& what) const;
    std::string fingerprint();
    void check_schema_unchanged(const std::string& when);
    std::vector<std::string> fenced_roles();
    void unfence();
    std::string cleanup();
    std::string undo(bool drop_target_copy);

    MoveContext& ctx_;
    transport::Transport& src_;
    transport::Transport& dst_;
    pg::ReplicaPlan p_;
    bool identity_full_;
    int64_t lag_ = -1;
};

}  // namespace decamp::data::pglogical
