// A DataMover carries one `data:` set of the inventory (a PostgreSQL database, a files tree,
// …) through a migration: measure and check it, copy it while the source serves, freeze it,
// bring the copy level, make the copy the primary, and undo its own traces on abort or
// rollback. It also carries the set through a backup: the stream read from a host, the
// evidence the manifest keeps, a staged restore checked against that evidence and swapped
// in, a live check, and a drill's teardown. Migration, backup, restore and drill only loop
// over movers; what a data kind needs lives in its mover's files, and a new data kind is
// one new file (plus its registration and tests).
//
// Every change a mover makes on a host happens inside MoveContext::step, which journals it:
// a step done earlier is skipped on --resume, so each step must be idempotent.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/entry.hpp"
#include "inventory/inventory.hpp"
#include "transport/transport.hpp"
#include "util/text.hpp"

namespace decamp::json {
class Value;
class Ref;
}

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

// One data set read for a backup from one host. The backup pipes command()'s stdout into
// the repository through decamp, hashing it on the way; tap() sees every chunk too.
class BackupRead {
public:
    virtual ~BackupRead() = default;
    virtual std::string command() const = 0;
    // The highest exit status of command() that still means a whole stream (tar: 1).
    virtual int ok_status() const { return 0; }
    virtual std::string what() const = 0;  // "dumping database forum", for errors
    virtual void tap(std::string_view) {}
    // After the stream is stored: the kind's evidence into `e`, its tools' versions into
    // `software`. Throws Error when the stream cannot be trusted.
    virtual void finish(DataEntry& e, std::map<std::string, std::string>& software) = 0;
};

// One data set restored onto one host: into a staging place beside the live data (a
// scratch database, a sibling directory), checked there against the manifest, and swapped
// in only once every set of the backup checked out.
class StagedRestore {
public:
    virtual ~StagedRestore() = default;
    // Prepares the staging place (it counts as staged from here: unstage removes it) and
    // returns the command that reads the stream on stdin.
    virtual std::string sink() = 0;
    // After the stream: Error naming what differs from the manifest, else a line for the
    // report ("3 tables, row counts match").
    virtual std::string check() = 0;
    virtual void swap() = 0;             // the staged copy replaces the live data
    virtual void unstage() noexcept = 0;  // best effort, after a failure anywhere
};

// One stream restored into a scratch directory on this machine (`backup verify`).
class ScratchRestore {
public:
    virtual ~ScratchRestore() = default;
    virtual std::string sink() const = 0;
    virtual void tap(std::string_view) {}
    // After the stream: "" when it checks out, else what is wrong.
    virtual std::string problems() = 0;
    virtual std::string detail() const = 0;  // "12 files match"
};

class DataMover {
public:
    explicit DataMover(inventory::DataSet ds) : ds_(std::move(ds)) {}
    virtual ~DataMover() = default;
    DataMover(const DataMover&) = delete;
    DataMover& operator=(const DataMover&) = delete;

    const inventory::DataSet& data_set() const { return ds_; }
    virtual std::string kind() const = 0;
    virtual std::string name() const = 0;  // the database, the path, …
    std::string label() const { return kind() + " " + name(); }
    // A directory on the target whose file system must hold the data (free-disk check).
    virtual std::string target_dir() const = 0;
    // False for a set declared to hold nothing worth keeping (a cache): backups skip it
    // and its migration phases do nothing.
    virtual bool holds_data() const { return true; }

    // preflight: what both sides must satisfy; returns the data's size in bytes. A mover
    // refuses here only a difference between the sides that it cannot carry, naming both
    // (the physical PostgreSQL replica: another major version; files: none); a different
    // Debian release is no reason by itself, and migrate/ compares no versions of its own.
    // plan() refuses the same way, so --dry-run lists it as a problem.
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

    // ---- backup side (the defaults say the kind cannot be backed up) ----
    // The stream's file name ends with this (".dump").
    virtual std::string stream_ext() const { return ".data"; }
    // Reads the set from `host` for backup `backup_id`.
    virtual std::unique_ptr<BackupRead> backup(transport::Transport& t, const inventory::Host& host,
                                               const std::string& backup_id);
    // The entry's own evidence in a few words ("3 tables", "12 files").
    virtual std::string evidence(const DataEntry&) const { return ""; }
    // The entry's own evidence in the manifest's JSON object, and back.
    virtual void encode_evidence(const DataEntry&, json::Value&) const {}
    virtual void decode_evidence(const json::Ref&, DataEntry&) const {}
    // Whether a restore goes onto every host of the role (else the first one only).
    virtual bool restore_on_every_host() const { return false; }
    virtual std::unique_ptr<StagedRestore> stage(transport::Transport& t, const inventory::Host& host,
                                                 const DataEntry& e);
    virtual std::unique_ptr<ScratchRestore> scratch(transport::Transport& local, const std::string& dir,
                                                    const DataEntry& e);
    // The live data on a host against the manifest: "" when it matches, else what differs.
    virtual std::string live_diff(transport::Transport& t, const DataEntry& e);
    // A drill's teardown on one host: stop what serves the set and remove the data; a note
    // for the report ("db1: database forum dropped, PostgreSQL stopped"). Never throws for
    // a command that fails: the note says so.
    virtual std::string teardown(transport::Transport& t, const inventory::Host& host);

protected:
    inventory::DataSet ds_;
};

// Movers by `kind:`; Error naming the known kinds for an unknown one.
std::unique_ptr<DataMover> make_mover(const inventory::DataSet& ds);
std::vector<std::string> mover_kinds();

// The mover of a manifest entry: its kind and role, and its name as the kind's own
// field (database, path).
std::unique_ptr<DataMover> make_mover(const DataEntry& e);

// Human sizes ("1.5 MiB") for movers' lines.
using util::human_bytes;

// Runs `cmd` and returns stdout; Error "<host>: <what> failed (exit N): <stderr>" (masked).
std::string run_checked(transport::Transport& t, const std::string& cmd, const std::string& what);

}  // namespace decamp::data
