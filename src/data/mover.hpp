// A DataMover carries one `data:` set of the inventory (a PostgreSQL database, a files tree,
// …) through a migration: measure and check it, copy it while the source serves, freeze it,
// bring the copy level, make the copy the primary, and undo its own traces on abort or
// rollback. The migration only loops over movers; what a data kind needs lives in its
// mover's file, and a new data kind is one new file (plus its registration and tests).
//
// Every change a mover makes on a host happens inside MoveContext::step, which journals it:
// a step done earlier is skipped on --resume, so each step must be idempotent.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "transport/transport.hpp"

namespace decamp::data {

// What a migration offers its movers.
class MoveContext {
public:
    virtual ~MoveContext() = default;
    virtual const std::string& migration_id() const = 0;
    virtual const std::string& source() const = 0;  // provider names
    virtual const std::string& target() const = 0;
    // Hosts of a provider with a role, in inventory order; the first one throws when none.
    virtual std::vector<const inventory::Host*> hosts(const std::string& provider, const std::string& role) const = 0;
    const inventory::Host& first(const std::string& provider, const std::string& role) const;
    virtual transport::Transport& conn(const inventory::Host& host) = 0;
    // Runs `fn` as the journaled step `phase`/`name` and returns its summary; a step done
    // in an earlier run is skipped and its recorded summary returned.
    virtual std::string step(const std::string& phase, const std::string& name,
                             const std::function<std::string()>& fn) = 0;
    // Whether the step `name` was ever started (it may have done part of its work).
    virtual bool step_begun(const std::string& name) = 0;
    // The migration's own key/values (kept in the state, so a resumed run sees them).
    virtual std::optional<std::string> get(const std::string& key) = 0;
    virtual void set(const std::string& key, const std::string& value) = 0;
    uint64_t get_u64(const std::string& key, uint64_t fallback = 0);
    // Ids of finished migrations that moved the stack away from `provider`.
    virtual std::vector<std::string> migrations_from(const std::string& provider) = 0;
    virtual std::ostream& log() = 0;
    virtual int catchup_timeout_s() const = 0;
    // Runs `cmd` on `host` and returns stdout; throws Error naming `what` on failure.
    std::string sh(const inventory::Host& host, const std::string& cmd, const std::string& what);
};

class DataMover {
public:
    explicit DataMover(const inventory::DataSet& ds) : ds_(ds) {}
    virtual ~DataMover() = default;
    DataMover(const DataMover&) = delete;
    DataMover& operator=(const DataMover&) = delete;

    const inventory::DataSet& data_set() const { return ds_; }
    virtual std::string kind() const = 0;
    virtual std::string name() const = 0;  // the database, the path, …
    std::string label() const { return kind() + " " + name(); }
    // A directory on the target whose file system must hold the data (free-disk check).
    virtual std::string target_dir() const = 0;

    // preflight: what both sides must satisfy; returns the data's size in bytes.
    virtual uint64_t preflight(MoveContext& ctx) = 0;
    // --dry-run: one line saying how this set would move (size, version, where to).
    // Reads only, journals nothing; throws Error on a problem.
    virtual std::string plan(MoveContext& ctx) = 0;
    // replicate: a full copy on the target while the source serves; bytes moved.
    virtual uint64_t replicate(MoveContext& ctx) = 0;
    // verify: is the copy following? A line for the log (nullopt: nothing to say).
    virtual std::optional<std::string> verify(MoveContext&) { return std::nullopt; }
    // Replication lag in bytes as verify saw it (-1: not applicable).
    virtual int64_t lag_bytes() const { return -1; }
    // cutover, in this order over all movers: fence every source (the app is already
    // stopped), then bring every copy level, then promote every copy.
    virtual void fence(MoveContext&) {}
    virtual uint64_t final_sync(MoveContext&) { return 0; }  // bytes moved
    virtual void promote(MoveContext&) {}
    // Rollback after fence: the source takes writes again. Returns what it did ("" = nothing).
    virtual std::string rollback(MoveContext&) { return ""; }
    // --abort before cutover: removes what replicate added to the source.
    virtual std::string abort(MoveContext&) { return ""; }

    // For the confirmation question (no host contacted): "postgres forum (old-db1 →
    // streaming replica on new-db1)".
    virtual std::string describe_move(const inventory::Inventory& inv, const std::string& source,
                                      const std::string& target) const = 0;
    // What fencing will do at cutover, for the same question; "" when nothing.
    virtual std::string describe_fence(const std::string&) const { return ""; }

protected:
    const inventory::DataSet& ds_;
};

// Movers by `kind:`; Error naming the known kinds for an unknown one.
std::unique_ptr<DataMover> make_mover(const inventory::DataSet& ds);
std::vector<std::string> mover_kinds();

// Human sizes ("1.5 MiB") for movers' lines.
std::string human_bytes(uint64_t bytes);

}  // namespace decamp::data
