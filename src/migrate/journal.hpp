// The migration journal and decamp's state (SQLite, default .decamp/state.db beside the
// inventory). Every step is written before and after it runs, so a crash, kill -9 or Ctrl-C
// at any point resumes where it stopped. Also holds the active provider (decamp never
// rewrites the user's inventory) and the lock that refuses a second concurrent migration.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/error.hpp"

struct sqlite3;

namespace decamp::migrate {

// Another decamp holds the state's lock (exit 6).
class LockedError : public Error {
public:
    explicit LockedError(const std::string& message) : Error(message, kExitLocked) {}
};

struct MigrationRow {
    std::string id;
    std::string kind;      // migrate | drill
    std::string source;
    std::string target;
    std::string state;     // running | done | aborted | rolled-back | failed
    double started = 0;    // unix seconds
    double finished = 0;
};

struct StepRow {
    std::string migration_id;
    std::string phase;
    std::string name;
    std::string state;     // started | done | failed
    double started = 0;
    double finished = 0;
    std::string detail;    // JSON or text written by the step
};

class Journal {
public:
    explicit Journal(const std::filesystem::path& db_path);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    const std::filesystem::path& path() const { return path_; }

    // Exclusive lock for the whole run (flock on <db>.lock, released by the kernel when the
    // process dies, so a kill -9 never leaves a stale lock). Throws LockedError.
    void lock();

    // Key/value state (active provider, …).
    std::optional<std::string> get(const std::string& key);
    void set(const std::string& key, const std::string& value);
    void erase(const std::string& key);
    // Every key/value whose key starts with `prefix`, sorted by key.
    std::vector<std::pair<std::string, std::string>> entries(const std::string& prefix);

    MigrationRow start(const std::string& kind, const std::string& source, const std::string& target);
    std::optional<MigrationRow> unfinished();              // the running one, if any
    std::optional<MigrationRow> latest();
    std::optional<MigrationRow> migration(const std::string& id);
    void finish(const std::string& id, const std::string& state);
    // Ids of completed migrations that moved away from `provider`.
    std::vector<std::string> migrations_from(const std::string& provider);
    // Every migration and drill recorded, oldest first.
    std::vector<MigrationRow> history();

    std::optional<StepRow> step(const std::string& migration_id, const std::string& name);
    void step_started(const std::string& migration_id, const std::string& phase, const std::string& name);
    void step_done(const std::string& migration_id, const std::string& name, const std::string& detail = "");
    void step_failed(const std::string& migration_id, const std::string& name, const std::string& error);
    std::vector<StepRow> steps(const std::string& migration_id);

    static double now();

private:
    void exec(const std::string& sql);
    std::filesystem::path path_;
    sqlite3* db_ = nullptr;
    int lock_fd_ = -1;
};

// Default journal location for an inventory: <inventory dir>/.decamp/state.db, or
// $DECAMP_STATE when set.
std::filesystem::path default_state_path(const std::filesystem::path& inventory_file);

}  // namespace decamp::migrate
