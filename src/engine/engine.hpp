// The engine: runs plays over many hosts at once (bounded by forks), each host through its
// steps in order over one reused connection; check mode runs probes only. A failing host is
// a value in the report, never an exception; the other hosts go on.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/pool.hpp"
#include "inventory/inventory.hpp"
#include "plan/planner.hpp"
#include "transport/transport.hpp"

namespace decamp::engine {

enum class Status { Ok, Changed, Failed, Skipped, Unreachable };
const char* status_name(Status s);

struct StepResult {
    std::string play;
    std::string task;
    std::string module;
    std::string source;       // file:line:col of the task
    Status status = Status::Ok;
    std::string message;      // why ok / what changed / why it failed
    std::string diff;         // check mode (and --diff)
    int rc = 0;
    std::string stdout_tail;
    std::string stderr_tail;
    double seconds = 0;
};

enum class HostState { Ok, Failed, Unreachable, HostKeyRefused, Interrupted };

struct HostReport {
    std::string host;
    std::string address;
    HostState state = HostState::Ok;
    std::string error;
    int ok = 0, changed = 0, failed = 0, skipped = 0;
    std::vector<StepResult> steps;
    double seconds = 0;
};

struct Report {
    bool check_mode = false;
    std::vector<HostReport> hosts;
    double seconds = 0;
    bool interrupted = false;
    int exit_code() const;  // 0 ok, 1 failed, 3 unreachable, 4 host key, 130 interrupted
    int total(Status s) const;
    std::string to_json() const;
    std::string recap() const;  // human summary
};

// Opens a connection to a host; tests inject recording transports.
class Connector {
public:
    virtual ~Connector() = default;
    virtual std::unique_ptr<transport::Transport> connect(const inventory::Host& host) = 0;
};

// Real connections from the inventory: SSH (libssh2) or local for `address: local`.
std::unique_ptr<Connector> make_connector(const inventory::Inventory& inv);
transport::SshConfig ssh_config(const inventory::Inventory& inv, const inventory::Host& host);

// Live progress: the engine reports per-host events; the CLI draws them.
class Progress {
public:
    virtual ~Progress() = default;
    virtual void host_started(const std::string& /*host*/, size_t /*steps*/) {}
    virtual void step_started(const std::string& /*host*/, const std::string& /*task*/, size_t /*index*/) {}
    virtual void step_done(const std::string& /*host*/, const StepResult& /*r*/) {}
    virtual void host_done(const HostReport& /*r*/) {}
};

struct Options {
    int forks = 50;
    bool check = false;        // probes only
    bool diff = false;         // show content diffs
    int verbosity = 0;         // -v: log commands (masked)
    // Most steps sent to a host in one round trip (consecutive steps nothing in between
    // depends on); 1 = one round trip per step.
    int batch = 64;
    std::function<void(const std::string&)> log;  // verbose command log sink
    const std::atomic<bool>* interrupted = nullptr;  // stop after the running steps
    // Kill the running steps now (their process groups on the host) and stop.
    const std::atomic<bool>* kill_steps = nullptr;
};

class Engine {
public:
    // Connections come from the run's shared pool (one per host for the whole run) …
    Engine(const inventory::Inventory& inv, Pool& pool, Options opts, Progress* progress = nullptr);
    // … or from a pool of the engine's own over `connector`.
    Engine(const inventory::Inventory& inv, Connector& connector, Options opts, Progress* progress = nullptr);
    ~Engine();
    // Runs the plays in order; hosts that failed or were unreachable sit out later plays.
    Report run(const std::vector<plan::Assignment>& plays);

    // Ad-hoc: one command on many hosts (decamp run).
    Report run_command(const std::vector<const inventory::Host*>& hosts, const std::string& command,
                       bool become);

private:
    struct HostCtx;
    struct TaskRun;
    struct Exec;
    using Clock = std::chrono::steady_clock;
    HostCtx& ctx(const inventory::Host& h);
    bool ensure_connected(HostCtx& c, bool facts_now);
    void gather_facts(HostCtx& c);
    // Runs an evaluation; when it named facts not gathered yet, gathers them and runs it again.
    void with_facts(HostCtx& c, const std::function<void()>& eval);
    void run_play_on_host(const plan::Assignment& a, HostCtx& c, std::atomic<bool>& abort_all);
    bool run_tasks(const playbook::Play& play, const std::vector<const playbook::Task*>& tasks, HostCtx& c,
                   bool handler, std::atomic<bool>& abort_all);
    bool execute(const playbook::Play& play, std::vector<TaskRun>& batch, const std::string& launcher, HostCtx& c,
                 bool handler, const std::atomic<bool>* abort_all);
    void local_step(const playbook::Task& task, const plan::Step& st, HostCtx& c, StepResult& sr, Value& result);
    void remote_step(const playbook::Task& task, const plan::Step& st, HostCtx& c, const Exec& r, StepResult& sr,
                     Value& result);
    bool record(const playbook::Play& play, TaskRun& tr, const plan::Step& st, HostCtx& c, StepResult sr,
                Value result);
    bool end_task(TaskRun& tr, HostCtx& c, bool handler);
    void finish(const playbook::Play& play, const playbook::Task& task, HostCtx& c, StepResult sr);
    void lost(const playbook::Play& play, HostCtx& c, const std::string& name, const playbook::Task& t,
              const std::string& why, Clock::time_point t0);
    tmpl::Options template_options() const;
    bool is_remote(const playbook::Task& t, const plan::Step& st) const;
    static bool is_solo(const playbook::Task& t);
    template <class F>
    void parallel(const std::vector<const inventory::Host*>& hosts, F&& fn);

    const inventory::Inventory& inv_;
    std::unique_ptr<Pool> owned_pool_;
    Pool& pool_;
    Options opts_;
    Progress* progress_;
    std::mutex mu_;
    std::map<std::string, std::unique_ptr<HostCtx>> hosts_;
    std::vector<std::string> order_;
};

}  // namespace decamp::engine
