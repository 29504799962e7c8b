// The host loop: connect once, gather facts once, then each play's tasks in order, then the
// notified handlers. Hosts run in parallel threads bounded by forks.
#include <algorithm>
#include <set>
#include <thread>

#include "engine/engine.hpp"
#include "engine/script.hpp"
#include "util/diff.hpp"
#include "util/secret.hpp"

namespace decamp::engine {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string tail(const std::string& s, size_t n = 2000) {
    return s.size() <= n ? s : "…" + s.substr(s.size() - n);
}

Value result_value(int rc, const std::string& out, const std::string& err, bool changed, bool failed,
                   bool skipped) {
    Value r = Value::map();
    r.set("rc", Value::integer(rc));
    std::string o = out;
    while (!o.empty() && o.back() == '\n') o.pop_back();
    std::string e = err;
    while (!e.empty() && e.back() == '\n') e.pop_back();
    r.set("stdout", Value::string(o));
    r.set("stderr", Value::string(e));
    Value lines = Value::list();
    size_t start = 0;
    while (start < o.size()) {
        size_t nl = o.find('\n', start);
        if (nl == std::string::npos) nl = o.size();
        lines.push(Value::string(o.substr(start, nl - start)));
        start = nl + 1;
    }
    r.set("stdout_lines", lines);
    r.set("changed", Value::boolean(changed));
    r.set("failed", Value::boolean(failed));
    r.set("skipped", Value::boolean(skipped));
    return r;
}

}  // namespace

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

struct Engine::HostCtx {
    const inventory::Host* host = nullptr;
    std::unique_ptr<transport::Transport> conn;
    std::unique_ptr<plan::HostVars> vars;
    HostReport report;
    bool connected = false;
    bool dead = false;  // failed or unreachable: sits out the rest of the run
    std::set<std::string> notified;
    Clock::time_point t0 = Clock::now();    // connecting started
    Clock::time_point last = Clock::now();  // its last step ended
};

Engine::Engine(const inventory::Inventory& inv, Connector& connector, Options opts, Progress* progress)
    : inv_(inv), connector_(connector), opts_(std::move(opts)), progress_(progress) {}

Engine::~Engine() {
    for (auto& [name, c] : hosts_)
        if (c->conn) {
            try {
                c->conn->close();
            } catch (...) {
            }
        }
}

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

bool Engine::ensure_connected(HostCtx& c, bool facts_now) {
    if (c.dead) return false;
    try {
        if (!c.connected) {
            c.t0 = Clock::now();
            c.conn = connector_.connect(*c.host);
            c.connected = true;
            // Facts are gathered on first use (one read-only round trip), unless a play asks
            // for them up front with gather_facts: true.
            c.vars->set_facts_loader([&c] {
                try {
                    auto r = c.conn->run(facts_command());
                    if (r.exit_status != 0) throw plan::FactsUnavailable("fact gathering failed: " + tail(r.err, 300));
                    return parse_facts(r.out);
                } catch (const transport::TransportError& e) {
                    throw plan::FactsUnavailable(std::string("fact gathering failed: ") + e.what());
                }
            });
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
    c.vars->set_play_vars(a.play->vars);
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

bool is_local_module(const std::string& m) { return m == "debug" || m == "set_fact"; }

bool is_slow_module(const std::string& m) { return m == "apt" || m == "package" || m == "wait_for"; }

bool literal_bool(const std::string& e) {
    std::string t = e;
    while (!t.empty() && (t.back() == ' ')) t.pop_back();
    while (!t.empty() && t.front() == ' ') t.erase(0, 1);
    for (auto& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return t == "true" || t == "false" || t == "yes" || t == "no";
}

}  // namespace

// One task of a batch: its planned steps and what they added up to so far.
struct Engine::TaskRun {
    const playbook::Task* task = nullptr;
    std::vector<plan::Step> steps;
    bool any_changed = false, any_failed = false;
    Value loop_results = Value::list();
};

// What one remote step came back with.
struct Engine::Exec {
    int rc = -1;
    std::string out, err;
    bool timed_out = false;
    bool missing = false;  // no result came back for this step
    double seconds = 0;
};

tmpl::Options Engine::template_options() const {
    tmpl::Options topts;
    topts.reveal_secrets = true;  // probes may need them too (a password check); output is redacted
    topts.secret_base_dir = inv_.base_dir;
    return topts;
}

bool Engine::is_remote(const playbook::Task& t, const plan::Step& st) const {
    if (st.skipped || is_local_module(t.module)) return false;
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
        while (j < tasks.size()) {
            const auto& t = *tasks[j];
            const bool solo = is_solo(t);
            if (!batch.empty() && (solo || opts_.batch <= 1 || play.any_errors_fatal)) break;
            TaskRun tr;
            tr.task = &t;
            try {
                tr.steps = plan::plan_task(t, *c.vars, topts);
            } catch (const plan::FactsUnavailable& e) {  // facts are gathered on first use
                if (!batch.empty()) break;
                lost(play, c, t.display_name(), t, e.what(), Clock::now());
                return false;
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
            bool remote = false;
            for (const auto& st : tr.steps) remote = remote || is_remote(t, st);
            if (remote) {
                bool become = t.become.value_or(play.become.value_or(false));
                std::string buser = !t.become_user.empty() ? t.become_user : play.become_user;
                std::string l = stdin_launcher(become, buser, c.host->user);
                if (!launcher.empty() && l != launcher) break;  // planned again next round
                launcher = l;
            }
            batch.push_back(std::move(tr));
            ++j;
            // Slow steps (package installs, waits) end a batch: Ctrl-C lets the running
            // batch finish, and this keeps that to at most one slow step.
            if (solo || !t.register_as.empty() || t.module == "set_fact" || is_slow_module(t.module)) break;
        }
        i = j;
        if (planning_failed) continue;
        if (!execute(play, batch, launcher, c, handler, &abort_all)) return false;
    }
    return true;
}

// Reports the step at hand as unreachable and retires the host.
void Engine::lost(const playbook::Play& play, HostCtx& c, const std::string& name, const playbook::Task& t,
                  const std::string& why, Clock::time_point t0) {
    StepResult sr;
    sr.task = name;
    sr.status = Status::Unreachable;
    sr.message = std::string("connection lost: ") + why;
    sr.seconds = since(t0);
    finish(play, t, c, sr);
    c.report.state = HostState::Unreachable;
    c.report.error = redactor().mask(sr.message);
    c.dead = true;
}

void Engine::finish(const playbook::Play& play, const playbook::Task& task, HostCtx& c, StepResult sr) {
    auto& rep = c.report;
    sr.play = play.name.empty() ? play.hosts : play.name;
    sr.source = task.mark.str();
    sr.module = task.module;
    sr.message = redactor().mask(sr.message);
    sr.stdout_tail = task.no_log ? "(no_log)" : redactor().mask(sr.stdout_tail);
    sr.stderr_tail = task.no_log ? "(no_log)" : redactor().mask(sr.stderr_tail);
    sr.diff = task.no_log ? "" : redactor().mask(sr.diff);
    switch (sr.status) {
        case Status::Ok: ++rep.ok; break;
        case Status::Changed: ++rep.changed; break;
        case Status::Failed: ++rep.failed; break;
        case Status::Skipped: ++rep.skipped; break;
        case Status::Unreachable: break;
    }
    if (progress_) progress_->step_done(c.host->name, sr);
    rep.steps.push_back(std::move(sr));
    c.last = Clock::now();
}

// A step that needs no round trip: skipped, debug, set_fact, or check mode's "not run".
void Engine::local_step(const playbook::Task& task, const plan::Step& st, HostCtx& c, StepResult& sr,
                        Value& result) {
    const tmpl::Options topts = template_options();
    if (st.skipped) {
        sr.status = Status::Skipped;
        sr.message = "skipped: when " + task.when + " is false";
        result = result_value(0, "", "", false, false, true);
    } else if (task.module == "debug") {
        const Value* msg = st.args.get("msg");
        const Value* var = st.args.get("var");
        if (var) {
            auto scope = c.vars->scope(&task.vars);
            try {
                sr.message = var->to_text() + " = " + tmpl::evaluate(var->to_text(), scope, topts).to_text();
            } catch (const std::exception& e) {
                sr.message = e.what();
            }
        } else {
            sr.message = msg ? msg->to_text() : "Hello world!";
        }
        sr.status = Status::Ok;
        result = result_value(0, sr.message, "", false, false, false);
    } else if (task.module == "set_fact") {
        for (const auto& [k, v] : st.args.entries()) c.vars->set_registered(k, v);
        sr.status = Status::Ok;
        sr.message = "set " + std::to_string(st.args.entries().size()) + " fact(s)";
        result = result_value(0, "", "", false, false, false);
    } else {  // check mode, a step that only reads (it would run for real)
        sr.status = Status::Ok;
        sr.message = "check mode: " + st.action.summary + " (not run)";
        result = result_value(0, "", "", false, false, true);
    }
}

// What a remote step's exit status and output mean, after changed_when / failed_when.
void Engine::remote_step(const playbook::Task& task, const plan::Step& st, HostCtx& c, const Exec& r,
                         StepResult& sr, Value& result) {
    const auto& act = st.action;
    auto& rep = c.report;
    sr.rc = r.rc;
    Outcome out = opts_.check ? check_outcome(act, r.rc) : apply_outcome(act, r.rc);
    // Check mode on a fresh host: a probe may fail only because an earlier step that would
    // change (a package install) has not run, e.g. a config file of that package. That is
    // "would change, unknown how", not a failure.
    if (opts_.check && out == Outcome::Failed && r.rc == kScriptProbeFailed && rep.changed > 0) {
        out = Outcome::WouldChange;
        sr.diff = "(cannot be checked before the earlier changes are applied: " + tail(r.err, 300) + ")";
    }
    bool changed = out == Outcome::Changed || out == Outcome::WouldChange;
    bool failed = out == Outcome::Failed;
    std::string stdout_text = opts_.check ? "" : r.out;
    if (r.timed_out) sr.message = "timed out after " + std::to_string(inv_.ssh.command_timeout) + " s";
    else if (failed && r.rc == kScriptProbeFailed) sr.message = "probe failed: " + tail(r.err, 500);
    else if (failed) sr.message = "exit " + std::to_string(r.rc) + (r.err.empty() ? "" : ": " + tail(r.err, 500));
    else if (out == Outcome::Ok) sr.message = act.ok_reason.empty() ? act.summary : act.ok_reason;
    else sr.message = act.summary;
    if (out == Outcome::WouldChange && sr.diff.empty()) {
        if (act.desired && !act.diff_path.empty()) {
            sr.diff = util::unified_diff(r.out, act.desired(r.out), act.diff_path + " (current)", act.diff_path + " (planned)");
        } else if (!act.change_text.empty()) {
            sr.diff = act.change_text;
        }
    }
    sr.stdout_tail = tail(r.out);
    sr.stderr_tail = tail(r.err);
    result = result_value(r.rc == kScriptConverged ? 0 : r.rc, stdout_text, r.err, changed, failed, false);
    // changed_when / failed_when see the result under its registered name.
    if (!task.changed_when.empty() || !task.failed_when.empty()) {
        std::string name = task.register_as.empty() ? "result" : task.register_as;
        Value layer = Value::map();
        layer.set(name, result);
        auto scope = c.vars->scope(&task.vars, &layer);
        try {
            const tmpl::Options topts = template_options();
            if (!task.changed_when.empty()) changed = tmpl::evaluate_condition(task.changed_when, scope, topts);
            if (!task.failed_when.empty()) failed = tmpl::evaluate_condition(task.failed_when, scope, topts);
        } catch (const std::exception& e) {
            failed = true;
            sr.message = std::string("changed_when/failed_when: ") + e.what();
        }
        result.set("changed", Value::boolean(changed));
        result.set("failed", Value::boolean(failed));
    }
    if (r.missing) {  // it may not have run: never ok, whatever failed_when says
        failed = true;
        changed = false;
        result.set("failed", Value::boolean(true));
        result.set("changed", Value::boolean(false));
    }
    sr.status = failed ? Status::Failed : changed ? Status::Changed : Status::Ok;
}

// Records one step's result; false when the host stops here.
bool Engine::record(const playbook::Play& play, TaskRun& tr, const plan::Step& st, HostCtx& c, StepResult sr,
                    Value result) {
    const auto& task = *tr.task;
    tr.any_changed = tr.any_changed || sr.status == Status::Changed;
    bool failed_now = sr.status == Status::Failed;
    tr.any_failed = tr.any_failed || failed_now;
    tr.loop_results.push(result);
    if (!task.register_as.empty() && !st.item) c.vars->set_registered(task.register_as, result);
    finish(play, task, c, std::move(sr));
    if (failed_now && !task.ignore_errors) return end_task(tr, c, false);
    return true;
}

// After a task's last step (or its failure): loop register, notify, the host's state.
bool Engine::end_task(TaskRun& tr, HostCtx& c, bool handler) {
    const auto& task = *tr.task;
    if (!task.register_as.empty() && task.loop) {
        Value agg = Value::map();
        agg.set("results", tr.loop_results);
        agg.set("changed", Value::boolean(tr.any_changed));
        agg.set("failed", Value::boolean(tr.any_failed));
        c.vars->set_registered(task.register_as, agg);
    }
    if (tr.any_changed && !handler)
        for (const auto& n : task.notify) c.notified.insert(n);
    if (tr.any_failed && !task.ignore_errors) {
        c.report.state = HostState::Failed;
        if (c.report.error.empty())
            c.report.error = "task \"" + task.display_name() + "\" failed (" + task.mark.str() + ")";
        c.dead = true;
        return false;
    }
    return true;
}

// Runs one batch: its remote steps go to the host in as few round trips as allowed (one
// framed script per chunk of opts_.batch steps), results are recorded in order as they
// arrive. False when the host stops.
bool Engine::execute(const playbook::Play& play, std::vector<TaskRun>& batch, const std::string& launcher,
                     HostCtx& c, bool handler, const std::atomic<bool>* abort_all) {
    struct Ref {
        size_t task;
        size_t step;  // npos: the end of the task
        bool remote;
    };
    constexpr size_t kEnd = static_cast<size_t>(-1);
    std::vector<Ref> refs;
    std::vector<size_t> remote;  // indices into refs
    for (size_t t = 0; t < batch.size(); ++t) {
        for (size_t k = 0; k < batch[t].steps.size(); ++k) {
            bool r = is_remote(*batch[t].task, batch[t].steps[k]);
            if (r) remote.push_back(refs.size());
            refs.push_back({t, k, r});
        }
        refs.push_back({t, kEnd, false});
    }
    size_t cursor = 0;
    bool halted = false;
    auto started = [&] {
        if (!progress_ || cursor >= refs.size() || refs[cursor].step == kEnd) return;
        const auto& st = batch[refs[cursor].task].steps[refs[cursor].step];
        progress_->step_started(c.host->name, st.name, c.report.steps.size());
    };
    // Records everything up to the next remote step without a result.
    auto advance = [&] {
        while (!halted && cursor < refs.size() && !refs[cursor].remote) {
            const Ref& ref = refs[cursor];
            TaskRun& tr = batch[ref.task];
            if (ref.step == kEnd) {
                if (!end_task(tr, c, handler)) halted = true;
            } else {
                started();
                auto t0 = Clock::now();
                StepResult sr;
                const auto& st = tr.steps[ref.step];
                sr.task = st.name;
                Value result;
                local_step(*tr.task, st, c, sr, result);
                sr.seconds = since(t0);
                if (!record(play, tr, st, c, std::move(sr), std::move(result))) halted = true;
            }
            ++cursor;
        }
        if (!halted) started();
    };
    auto deliver = [&](const Exec& e) {
        if (halted || cursor >= refs.size() || !refs[cursor].remote) return;
        const Ref& ref = refs[cursor];
        TaskRun& tr = batch[ref.task];
        const auto& st = tr.steps[ref.step];
        StepResult sr;
        sr.task = st.name;
        Value result;
        remote_step(*tr.task, st, c, e, sr, result);
        sr.seconds = e.seconds;
        ++cursor;
        if (!record(play, tr, st, c, std::move(sr), std::move(result))) halted = true;
        advance();
    };

    advance();
    // A task that goes alone (failed_when, a changed_when expression) sends its loop items
    // one per round trip too: only here is it known whether the next one may run. So does
    // a play with any_errors_fatal, so that another host's failure stops this one soon.
    const bool solo = batch.size() == 1 && is_solo(*batch[0].task);
    const size_t chunk_max = solo || play.any_errors_fatal ? 1 : static_cast<size_t>(std::max(1, opts_.batch));
    bool first = true;
    // The cursor always rests on the next remote step without a result: each chunk starts
    // there, so steps a chunk did not get to (it ended early) go out again in the next.
    while (!halted && cursor < refs.size()) {
        if (!first && ((opts_.interrupted && *opts_.interrupted) || (abort_all && *abort_all))) return false;
        first = false;
        const size_t r = static_cast<size_t>(std::find(remote.begin(), remote.end(), cursor) - remote.begin());
        if (r >= remote.size()) break;  // cannot happen: advance() stops only at remote steps
        const size_t n = std::min(chunk_max, remote.size() - r);
        std::vector<BatchPart> parts;
        std::vector<std::string> stat_paths, hash_paths;
        for (size_t k = r; k < r + n; ++k) {
            const Ref& ref = refs[remote[k]];
            const auto& task = *batch[ref.task].task;
            const auto& act = batch[ref.task].steps[ref.step].action;
            BatchPart p;
            p.script = n == 1 ? (opts_.check ? check_script(act) : apply_script(act))
                              : (opts_.check ? check_inline(act) : apply_inline(act));
            p.probed = !act.probe.empty();
            // The host goes on after a step only when this engine would (check mode only reads).
            if (!opts_.check && !task.ignore_errors) p.go_on = act.probe.empty() ? std::vector<int>{0} : std::vector<int>{0, kScriptConverged};
            parts.push_back(std::move(p));
            stat_paths.insert(stat_paths.end(), act.stat_paths.begin(), act.stat_paths.end());
            hash_paths.insert(hash_paths.end(), act.hash_paths.begin(), act.hash_paths.end());
        }
        std::string nonce = n > 1 ? make_nonce() : "";
        std::string script = n > 1 ? batch_script(parts, nonce, stat_paths, hash_paths, opts_.check) : parts[0].script;
        if (opts_.verbosity > 0 && opts_.log)
            opts_.log(redactor().mask(c.host->name + " $ " + launcher + " <<'SCRIPT'\n" + script + "\nSCRIPT"));
        transport::RunOptions ro;
        ro.stdin_data = std::move(script);
        const auto limit = std::chrono::seconds(inv_.ssh.command_timeout);
        auto step_t0 = Clock::now();
        BatchSplitter split(nonce);
        if (n > 1) {
            ro.on_output = [&](std::string_view chunk, bool is_err) {
                split.feed(chunk, is_err);
                while (split.ready()) {
                    auto part = split.take();
                    Exec e;
                    e.rc = part.status;
                    e.out = std::move(part.out);
                    e.err = std::move(part.err);
                    e.seconds = since(step_t0);
                    step_t0 = Clock::now();
                    deliver(e);
                }
            };
            // command_timeout holds per step: the clock restarts at every step's marker.
            if (limit.count() > 0) ro.expired = [&] { return Clock::now() - step_t0 > limit; };
        } else if (limit.count() > 0) {
            ro.timeout = limit;
        }
        const size_t before = cursor;
        transport::RunResult res;
        try {
            res = c.conn->run(launcher, ro);
        } catch (const transport::TransportError& e) {
            if (halted) return false;
            if (cursor < refs.size() && refs[cursor].remote) {
                const Ref& ref = refs[cursor];
                lost(play, c, batch[ref.task].steps[ref.step].name, *batch[ref.task].task, e.what(), step_t0);
                return false;
            }
            // Every step had reported: the next round trip finds out whether the session lives.
            break;
        }
        if (halted) break;
        if (n == 1) {
            Exec e;
            e.rc = res.exit_status;
            e.out = std::move(res.out);
            e.err = std::move(res.err);
            e.timed_out = res.timed_out;
            e.seconds = since(step_t0);
            deliver(e);
        } else if (cursor < refs.size() && refs[cursor].remote &&
                   std::find(remote.begin() + static_cast<long>(r), remote.begin() + static_cast<long>(r + n), cursor) !=
                       remote.begin() + static_cast<long>(r + n)) {
            // The batch ended before this step reported: timed out, or the shell died. It
            // counts as failed whatever failed_when says (it may not have run at all); with
            // ignore_errors the steps after it go out again in the next round trip.
            Exec e;
            e.rc = -1;
            e.missing = true;
            e.out = split.rest_out();
            e.err = split.rest_err();
            if (!res.timed_out)
                e.err = (e.err.empty() ? "" : e.err + "\n") + "the host's shell ended (exit " +
                        std::to_string(res.exit_status) + ") before this step reported";
            e.timed_out = res.timed_out;
            e.seconds = since(step_t0);
            deliver(e);
        }
        if (!halted && cursor == before) break;  // no progress: never loop forever
    }
    return !halted;
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
        sr.task = command;
        sr.module = "command";
        std::string script = with_become(command, become, "root", h.user);
        if (opts_.verbosity > 0 && opts_.log) opts_.log(redactor().mask(h.name + " $ " + script));
        try {
            auto r = c.conn->run(script);
            sr.rc = r.exit_status;
            sr.stdout_tail = redactor().mask(tail(r.out, 64 * 1024));
            sr.stderr_tail = redactor().mask(tail(r.err, 64 * 1024));
            sr.status = r.exit_status == 0 ? Status::Changed : Status::Failed;
            sr.message = "exit " + std::to_string(r.exit_status);
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
