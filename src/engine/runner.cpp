// The host loop: connect once, then each play's tasks in order (consecutive independent
// steps grouped into batches, run by steps.cpp), then the notified handlers. Hosts run in
// parallel threads bounded by forks; facts are gathered on first use.
#include <algorithm>
#include <set>
#include <thread>

#include "engine/batching.hpp"
#include "engine/runner_internal.hpp"
#include "engine/script.hpp"
#include "modules/module.hpp"
#include "util/secret.hpp"

namespace decamp::engine {

using detail::since;
using detail::tail;

const char* status_name(Status s) {
    switch (s) {
        case Status::Ok: return "ok";
        case Status::Changed: return "changed";
        case Status::Failed: return "failed";
        case Status::Skipped: return "skipped";
        case Status::Unreachable: return "unreachable";
    }
    return "?";
}


Engine::Engine(const inventory::Inventory& inv, Pool& pool, Options opts, Progress* progress)
    : inv_(inv), pool_(pool), opts_(std::move(opts)), progress_(progress) {}

Engine::Engine(const inventory::Inventory& inv, Connector& connector, Options opts, Progress* progress)
    : inv_(inv),
      owned_pool_(std::make_unique<Pool>(connector)),
      pool_(*owned_pool_),
      opts_(std::move(opts)),
      progress_(progress) {}

// The pool closes the connections: a shared one outlives this engine.
Engine::~Engine() = default;

Engine::HostCtx& Engine::ctx(const inventory::Host& h) {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(h.name);
    if (it != hosts_.end()) return *it->second;
    auto c = std::make_unique<HostCtx>();
    c->host = &h;
    c->vars = std::make_unique<plan::HostVars>(inv_, h);
    c->report.host = h.name;
    c->report.address = h.address;
    order_.push_back(h.name);
    return *(hosts_[h.name] = std::move(c));
}

void Engine::gather_facts(HostCtx& c) {
    auto r = c.conn->run(facts_command());
    if (r.exit_status != 0)
        throw transport::TransportError(transport::TransportError::Kind::Channel, "fact gathering failed: " + tail(r.err, 300));
    c.vars->set_facts(parse_facts(r.out));
}

void Engine::with_facts(HostCtx& c, const std::function<void()>& eval) {
    c.vars->reset_wanted();
    eval();
    if (c.vars->facts_wanted() && !c.vars->has_facts()) {
        gather_facts(c);
        eval();
    }
}

bool Engine::ensure_connected(HostCtx& c, bool facts_now) {
    if (c.dead) return false;
    try {
        if (!c.connected) {
            c.t0 = Clock::now();
            c.conn = &pool_.get(*c.host);
            c.connected = true;
            // Facts are gathered on first use (one read-only round trip: the planner says
            // when a task needs them), unless a play asks for them up front.
            c.vars->gather_on_use(true);
        }
        if (facts_now && !c.vars->has_facts()) gather_facts(c);
        return true;
    } catch (const transport::TransportError& e) {
        c.dead = true;
        c.report.state = e.kind() == transport::TransportError::Kind::HostKey ? HostState::HostKeyRefused : HostState::Unreachable;
        c.report.error = redactor().mask(e.what());
        StepResult sr;
        sr.task = "connect";
        sr.status = Status::Unreachable;
        sr.message = c.report.error;
        c.report.steps.push_back(sr);
        c.last = Clock::now();
        if (progress_) progress_->step_done(c.host->name, sr);
        return false;
    }
}

template <class F>
void Engine::parallel(const std::vector<const inventory::Host*>& hosts, F&& fn) {
    size_t n = std::min<size_t>(hosts.size(), static_cast<size_t>(std::max(1, opts_.forks)));
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (size_t i = next++; i < hosts.size(); i = next++) fn(*hosts[i]);
    };
    if (n <= 1) {
        worker();
        return;
    }
    std::vector<std::thread> threads;
    for (size_t i = 0; i < n; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
}

Report Engine::run(const std::vector<plan::Assignment>& plays) {
    auto t0 = Clock::now();
    Report rep;
    rep.check_mode = opts_.check;
    for (const auto& a : plays) {
        for (const auto* h : a.hosts) ctx(*h);
    }
    for (const auto& a : plays) {
        std::vector<const inventory::Host*> live;
        for (const auto* h : a.hosts)
            if (!ctx(*h).dead) live.push_back(h);
        if (live.empty()) continue;
        // serial: rolling batches; max_fail_percentage is checked after each batch.
        size_t batch = live.size();
        const std::string& serial = a.play->serial;
        if (!serial.empty()) {
            if (serial.back() == '%')
                batch = std::max<size_t>(1, live.size() * std::stoul(serial.substr(0, serial.size() - 1)) / 100);
            else
                batch = std::max<size_t>(1, std::stoul(serial));
        }
        std::atomic<bool> abort_all{false};
        size_t failed_in_play = 0;
        for (size_t start = 0; start < live.size(); start += batch) {
            if (abort_all || (opts_.interrupted && *opts_.interrupted)) break;
            std::vector<const inventory::Host*> group(live.begin() + static_cast<long>(start),
                                                      live.begin() + static_cast<long>(std::min(live.size(), start + batch)));
            parallel(group, [&](const inventory::Host& h) { run_play_on_host(a, ctx(h), abort_all); });
            for (const auto* h : group)
                if (ctx(*h).dead) ++failed_in_play;
            if (a.play->max_fail_percentage >= 0 &&
                failed_in_play * 100 > static_cast<size_t>(a.play->max_fail_percentage) * live.size()) {
                abort_all = true;
            }
        }
        if (abort_all) {
            // Hosts that did not get to run this play are stopped too (Ansible does the same).
            for (const auto* h : live) {
                auto& c = ctx(*h);
                if (!c.dead) {
                    c.dead = true;
                    c.report.state = HostState::Failed;
                    c.report.error = "stopped: another host failed and the play has any_errors_fatal or max_fail_percentage";
                }
            }
        }
        if (opts_.interrupted && *opts_.interrupted) break;
    }
    for (const auto& name : order_) {
        auto& c = *hosts_[name];
        c.report.seconds = std::chrono::duration<double>(c.last - c.t0).count();
        if (opts_.interrupted && *opts_.interrupted && c.report.state == HostState::Ok) c.report.state = HostState::Interrupted;
        rep.hosts.push_back(c.report);
        if (progress_) progress_->host_done(c.report);
    }
    rep.interrupted = opts_.interrupted && *opts_.interrupted;
    rep.seconds = since(t0);
    return rep;
}

void Engine::run_play_on_host(const plan::Assignment& a, HostCtx& c, std::atomic<bool>& abort_all) {
    if (!ensure_connected(c, a.play->gather_facts)) {
        if (a.play->any_errors_fatal) abort_all = true;
        return;
    }
    if (progress_) progress_->host_started(c.host->name, a.play->tasks.size());
    c.vars->set_play(*a.play);
    c.notified.clear();
    std::vector<const playbook::Task*> tasks;
    for (const auto& t : a.play->tasks) tasks.push_back(&t);
    if (!run_tasks(*a.play, tasks, c, false, abort_all)) {
        if (c.dead && a.play->any_errors_fatal) abort_all = true;
        return;
    }
    // Handlers run once, at the end of the play, in the order they are defined.
    std::vector<const playbook::Task*> handlers;
    for (const auto& h : a.play->handlers) {
        bool hit = c.notified.count(h.name) > 0;
        for (const auto& l : h.listen) hit = hit || c.notified.count(l) > 0;
        if (hit) handlers.push_back(&h);
    }
    if (!run_tasks(*a.play, handlers, c, true, abort_all) && c.dead && a.play->any_errors_fatal) abort_all = true;
}

namespace {

bool literal_bool(const std::string& e) {
    std::string t = e;
    while (!t.empty() && (t.back() == ' ')) t.pop_back();
    while (!t.empty() && t.front() == ' ') t.erase(0, 1);
    for (auto& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return t == "true" || t == "false" || t == "yes" || t == "no";
}

}  // namespace


tmpl::Options Engine::template_options() const {
    tmpl::Options topts;
    topts.reveal_secrets = true;  // probes may need them too (a password check); output is redacted
    topts.secret_base_dir = inv_.base_dir;
    return topts;
}

bool Engine::is_remote(const playbook::Task& t, const plan::Step& st) const {
    if (st.skipped || modules::traits(t.module).local) return false;
    return !(opts_.check && st.action.check_only);
}

// A task whose success or change is decided here by an expression goes alone (each step
// its own round trip): the host cannot know whether to stop after it.
bool Engine::is_solo(const playbook::Task& t) {
    return !t.failed_when.empty() || (!t.changed_when.empty() && !literal_bool(t.changed_when));
}

bool Engine::run_tasks(const playbook::Play& play, const std::vector<const playbook::Task*>& tasks, HostCtx& c,
                       bool handler, std::atomic<bool>& abort_all) {
    const tmpl::Options topts = template_options();
    size_t i = 0;
    while (i < tasks.size()) {
        if (abort_all || (opts_.interrupted && *opts_.interrupted)) return false;
        // The batch: consecutive tasks, planned now, up to one whose result a later task may
        // read (register, set_fact) or that must go alone; all with the same become.
        std::vector<TaskRun> batch;
        std::string launcher;
        size_t j = i;
        bool planning_failed = false;
        Batch so_far;
        while (j < tasks.size()) {
            const auto& t = *tasks[j];
            const modules::Traits traits = modules::traits(t.module);
            BatchTask bt;
            bt.solo = is_solo(t);
            bt.registers = !t.register_as.empty();
            bt.defines_vars = traits.defines_vars;
            bt.slow = traits.slow;
            // Whether it joins is known before planning it, except for a change of become.
            if (fit_task(so_far, bt, opts_.batch, play.any_errors_fatal).fit == Fit::Close) break;
            TaskRun tr;
            tr.task = &t;
            try {
                plan::Planned planned = plan::plan_task(t, *c.vars, topts);
                if (planned.needs_facts) {
                    try {
                        gather_facts(c);
                    } catch (const transport::TransportError& e) {
                        if (!batch.empty()) break;  // the batch so far runs first
                        std::string why = e.what();
                        if (why.rfind("fact gathering failed", 0) != 0) why = "fact gathering failed: " + why;
                        lost(play, c, t.display_name(), t, why, Clock::now());
                        return false;
                    }
                    planned = plan::plan_task(t, *c.vars, topts);
                }
                tr.steps = std::move(planned.steps);
            } catch (const std::exception& e) {
                if (!batch.empty()) break;  // reported when its turn comes
                StepResult sr;
                sr.task = t.display_name();
                sr.status = Status::Failed;
                sr.message = e.what();
                finish(play, t, c, sr);
                c.report.state = HostState::Failed;
                if (!t.ignore_errors) {
                    c.dead = true;
                    if (c.report.error.empty())
                        c.report.error = "task \"" + t.display_name() + "\" failed (" + t.mark.str() + ")";
                    return false;
                }
                planning_failed = true;
                ++j;
                break;
            }
            for (const auto& st : tr.steps) bt.remote = bt.remote || is_remote(t, st);
            if (bt.remote) {
                bool become = t.become.value_or(play.become.value_or(false));
                std::string buser = !t.become_user.empty() ? t.become_user : play.become_user;
                bt.launcher = stdin_launcher(become, buser, c.host->user);
            }
            const Decision d = fit_task(so_far, bt, opts_.batch, play.any_errors_fatal);
            if (d.fit == Fit::Close) break;  // planned again next round
            if (bt.remote) launcher = so_far.launcher = bt.launcher;
            ++so_far.tasks;
            batch.push_back(std::move(tr));
            ++j;
            if (d.fit == Fit::JoinAndClose) break;
        }
        i = j;
        if (planning_failed) continue;
        if (!execute(play, batch, launcher, c, handler, &abort_all)) return false;
    }
    return true;
}

Report Engine::run_command(const std::vector<const inventory::Host*>& hosts, const std::string& command, bool become) {
    auto t0 = Clock::now();
    for (const auto* h : hosts) ctx(*h);
    parallel(hosts, [&](const inventory::Host& h) {
        auto& c = ctx(h);
        if (!ensure_connected(c, false)) return;
        if (progress_) progress_->host_started(h.name, 1);
        auto s0 = Clock::now();
        StepResult sr;
        sr.task = redactor().mask(command);
        sr.module = "command";
        std::string script = with_become(command, become, "root", h.user);
        if (opts_.verbosity > 0 && opts_.log) opts_.log(redactor().mask(h.name + " $ " + script));
        try {
            // Streamed: only a bounded tail of each stream is kept (capture.hpp).
            Capture out, err;
            transport::RunOptions ro;
            ro.on_output = [&](std::string_view chunk, bool is_err) { (is_err ? err : out).append(chunk); };
            if (inv_.ssh.command_timeout > 0) ro.timeout = std::chrono::seconds(inv_.ssh.command_timeout);
            ro.expired = [&] { return opts_.kill_steps && *opts_.kill_steps; };
            auto r = c.conn->run(script, ro);
            const bool killed = r.timed_out && opts_.kill_steps && *opts_.kill_steps;
            sr.rc = r.exit_status;
            sr.stdout_tail = redactor().mask(tail(out.str(), kCaptureTail));
            sr.stderr_tail = redactor().mask(tail(err.str(), kCaptureTail));
            sr.status = r.exit_status == 0 ? Status::Changed : Status::Failed;
            sr.message = killed       ? "interrupted: its processes on the host were killed"
                         : r.timed_out ? "timed out after " + std::to_string(inv_.ssh.command_timeout) +
                                             " s (ssh.command_timeout): its processes on the host were killed"
                                       : "exit " + std::to_string(r.exit_status);
            if (out.overflow())
                sr.stdout_tail = "…(" + std::to_string(out.total() - out.str().size()) + " earlier bytes not kept)\n" +
                                 sr.stdout_tail;
            if (r.exit_status != 0) {
                c.report.state = HostState::Failed;
                c.report.error = sr.message;
                ++c.report.failed;
            } else {
                ++c.report.changed;
            }
        } catch (const transport::TransportError& e) {
            sr.status = Status::Unreachable;
            sr.message = redactor().mask(e.what());
            c.report.state = HostState::Unreachable;
            c.report.error = sr.message;
        }
        sr.seconds = since(s0);
        if (progress_) progress_->step_done(h.name, sr);
        c.report.steps.push_back(sr);
        c.last = Clock::now();
    });
    Report rep;
    for (const auto& name : order_) {
        auto& c = *hosts_[name];
        c.report.seconds = std::chrono::duration<double>(c.last - c.t0).count();
        rep.hosts.push_back(c.report);
        if (progress_) progress_->host_done(c.report);
    }
    rep.seconds = since(t0);
    return rep;
}

}  // namespace decamp::engine
