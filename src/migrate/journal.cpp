#include "migrate/journal.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>

namespace decamp::migrate {

namespace {

// A prepared statement with RAII and typed binding.
class Stmt {
public:
    Stmt(sqlite3* db, const std::string& sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr) != SQLITE_OK)
            throw Error(std::string("journal: ") + sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(st_); }
    Stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(st_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, double v) {
        sqlite3_bind_double(st_, i, v);
        return *this;
    }
    bool step() {
        int rc = sqlite3_step(st_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw Error(std::string("journal: ") + sqlite3_errmsg(db_));
    }
    std::string text(int col) {
        auto* p = sqlite3_column_text(st_, col);
        return p ? reinterpret_cast<const char*>(p) : "";
    }
    double real(int col) { return sqlite3_column_double(st_, col); }

private:
    sqlite3* db_;
    sqlite3_stmt* st_ = nullptr;
};

MigrationRow migration_row(Stmt& s) {
    return MigrationRow{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.real(5), s.real(6)};
}

StepRow step_row(Stmt& s) {
    return StepRow{s.text(0), s.text(1), s.text(2), s.text(3), s.real(4), s.real(5), s.text(6)};
}

const char* kMigrationCols = "id, kind, source, target, state, started, finished";
const char* kStepCols = "migration_id, phase, name, state, started, finished, detail";

}  // namespace

double Journal::now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Journal::Journal(const std::filesystem::path& db_path) : path_(db_path) {
    std::filesystem::create_directories(path_.parent_path());
    chmod(path_.parent_path().c_str(), 0700);
    if (sqlite3_open(path_.c_str(), &db_) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw Error("cannot open journal " + path_.string() + ": " + msg);
    }
    chmod(path_.c_str(), 0600);  // it holds the migration's generated replication password
    sqlite3_busy_timeout(db_, 5000);
    // WAL + FULL sync: a row written before a step survives kill -9 and power loss.
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    exec("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
         "CREATE TABLE IF NOT EXISTS migrations (id TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL,"
         " target TEXT NOT NULL, state TEXT NOT NULL, started REAL NOT NULL, finished REAL NOT NULL DEFAULT 0);"
         "CREATE TABLE IF NOT EXISTS steps (migration_id TEXT NOT NULL, phase TEXT NOT NULL, name TEXT NOT NULL,"
         " state TEXT NOT NULL, started REAL NOT NULL, finished REAL NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '',"
         " seq INTEGER PRIMARY KEY AUTOINCREMENT, UNIQUE (migration_id, name));");
}

Journal::~Journal() {
    if (db_) sqlite3_close(db_);
    if (lock_fd_ >= 0) close(lock_fd_);
}

void Journal::exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "?";
        sqlite3_free(err);
        throw Error("journal " + path_.string() + ": " + msg);
    }
}

void Journal::lock() {
    if (lock_fd_ >= 0) return;
    std::string lp = path_.string() + ".lock";
    int fd = open(lp.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw Error("cannot open lock file " + lp);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char buf[64] = {0};
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        close(fd);
        throw LockedError("another decamp migration is running on this state (" + lp +
                          (n > 0 ? ", pid " + std::string(buf, static_cast<size_t>(n)) : std::string()) + ")");
    }
    std::string pid = std::to_string(getpid());
    if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, pid.data(), pid.size(), 0);
    lock_fd_ = fd;
}

std::optional<std::string> Journal::get(const std::string& key) {
    Stmt s(db_, "SELECT value FROM state WHERE key = ?");
    s.bind(1, key);
    if (!s.step()) return std::nullopt;
    return s.text(0);
}

void Journal::set(const std::string& key, const std::string& value) {
    Stmt s(db_, "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    s.bind(1, key).bind(2, value);
    s.step();
}

void Journal::erase(const std::string& key) {
    Stmt s(db_, "DELETE FROM state WHERE key = ?");
    s.bind(1, key);
    s.step();
}

std::vector<std::pair<std::string, std::string>> Journal::entries(const std::string& prefix) {
    // substr, not LIKE: a prefix may hold % or _.
    Stmt s(db_, "SELECT key, value FROM state WHERE substr(key, 1, ?) = ? ORDER BY key");
    s.bind(1, static_cast<double>(prefix.size())).bind(2, prefix);  // substr casts it to an integer
    std::vector<std::pair<std::string, std::string>> out;
    while (s.step()) out.emplace_back(s.text(0), s.text(1));
    return out;
}

MigrationRow Journal::start(const std::string& kind, const std::string& source, const std::string& target) {
    // Sortable, unique id: UTC time plus a few random hex digits.
    auto t = std::time(nullptr);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", std::gmtime(&t));
    std::random_device rd;
    char rnd[8];
    snprintf(rnd, sizeof rnd, "%04x", rd() & 0xffff);
    MigrationRow m{std::string(ts) + "-" + rnd, kind, source, target, "running", now(), 0};
    Stmt s(db_, "INSERT INTO migrations (id, kind, source, target, state, started) VALUES (?, ?, ?, ?, ?, ?)");
    s.bind(1, m.id).bind(2, kind).bind(3, source).bind(4, target).bind(5, m.state).bind(6, m.started);
    s.step();
    return m;
}

std::optional<MigrationRow> Journal::unfinished() {
    Stmt s(db_, std::string("SELECT ") + kMigrationCols + " FROM migrations WHERE state = 'running' ORDER BY started DESC LIMIT 1");
    if (!s.step()) return std::nullopt;
    return migration_row(s);
}

std::optional<MigrationRow> Journal::latest() {
    Stmt s(db_, std::string("SELECT ") + kMigrationCols + " FROM migrations ORDER BY started DESC LIMIT 1");
    if (!s.step()) return std::nullopt;
    return migration_row(s);
}

std::optional<MigrationRow> Journal::migration(const std::string& id) {
    Stmt s(db_, std::string("SELECT ") + kMigrationCols + " FROM migrations WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return migration_row(s);
}

void Journal::finish(const std::string& id, const std::string& state) {
    Stmt s(db_, "UPDATE migrations SET state = ?, finished = ? WHERE id = ?");
    s.bind(1, state).bind(2, now()).bind(3, id);
    s.step();
}

std::vector<std::string> Journal::migrations_from(const std::string& provider) {
    Stmt s(db_, "SELECT id FROM migrations WHERE source = ? AND state = 'done' ORDER BY started");
    s.bind(1, provider);
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
}

std::vector<MigrationRow> Journal::history() {
    Stmt s(db_, std::string("SELECT ") + kMigrationCols + " FROM migrations ORDER BY started");
    std::vector<MigrationRow> out;
    while (s.step()) out.push_back(migration_row(s));
    return out;
}

std::optional<StepRow> Journal::step(const std::string& migration_id, const std::string& name) {
    Stmt s(db_, std::string("SELECT ") + kStepCols + " FROM steps WHERE migration_id = ? AND name = ?");
    s.bind(1, migration_id).bind(2, name);
    if (!s.step()) return std::nullopt;
    return step_row(s);
}

void Journal::step_started(const std::string& migration_id, const std::string& phase, const std::string& name) {
    Stmt s(db_,
           "INSERT INTO steps (migration_id, phase, name, state, started) VALUES (?, ?, ?, 'started', ?) "
           "ON CONFLICT(migration_id, name) DO UPDATE SET state = 'started', started = excluded.started, finished = 0");
    s.bind(1, migration_id).bind(2, phase).bind(3, name).bind(4, now());
    s.step();
}

void Journal::step_done(const std::string& migration_id, const std::string& name, const std::string& detail) {
    Stmt s(db_, "UPDATE steps SET state = 'done', finished = ?, detail = ? WHERE migration_id = ? AND name = ?");
    s.bind(1, now()).bind(2, detail).bind(3, migration_id).bind(4, name);
    s.step();
}

void Journal::step_failed(const std::string& migration_id, const std::string& name, const std::string& error) {
    Stmt s(db_, "UPDATE steps SET state = 'failed', finished = ?, detail = ? WHERE migration_id = ? AND name = ?");
    s.bind(1, now()).bind(2, error).bind(3, migration_id).bind(4, name);
    s.step();
}

std::vector<StepRow> Journal::steps(const std::string& migration_id) {
    Stmt s(db_, std::string("SELECT ") + kStepCols + " FROM steps WHERE migration_id = ? ORDER BY seq");
    s.bind(1, migration_id);
    std::vector<StepRow> out;
    while (s.step()) out.push_back(step_row(s));
    return out;
}

std::filesystem::path default_state_path(const std::filesystem::path& inventory_file) {
    if (const char* env = std::getenv("DECAMP_STATE"); env && *env) return env;
    return std::filesystem::absolute(inventory_file).parent_path() / ".decamp" / "state.db";
}

}  // namespace decamp::migrate
