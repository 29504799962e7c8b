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
    Clock::time_point t0 = Clock::now();
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

bool Engine::ensure_connected(HostCtx& c) {
    if (c.connected) return true;
    if (c.dead) return false;
    try {
        c.conn = connector_.connect(*c.host);
        auto r = c.conn->run(facts_command());
        if (r.exit_status != 0) throw transport::TransportError(transport::TransportError::Kind::Channel, "fact gathering failed: " + tail(r.err, 300));
        c.vars->set_facts(parse_facts(r.out));
        c.connected = true;
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
        c.report.seconds = since(c.t0);
        if (opts_.interrupted && *opts_.interrupted && c.report.state == HostState::Ok) c.report.state = HostState::Interrupted;
        rep.hosts.push_back(c.report);
        if (progress_) progress_->host_done(c.report);
    }
    rep.interrupted = opts_.interrupted && *opts_.interrupted;
    rep.seconds = since(t0);
    return rep;
}

void Engine::run_play_on_host(const plan::Assignment& a, HostCtx& c, std::atomic<bool>& abort_all) {
    if (!ensure_connected(c)) {
        if (a.play->any_errors_fatal) abort_all = true;
        return;
    }
    if (progress_) progress_->host_started(c.host->name, a.play->tasks.size());
    c.vars->set_play_vars(a.play->vars);
    c.notified.clear();
    for (const auto& t : a.play->tasks) {
        if (abort_all || (opts_.interrupted && *opts_.interrupted)) return;
        if (!run_step(*a.play, t, c, false)) {
            if (a.play->any_errors_fatal) abort_all = true;
            return;
        }
    }
    // Handlers run once, at the end of the play, in the order they are defined.
    for (const auto& h : a.play->handlers) {
        bool hit = c.notified.count(h.name) > 0;
        for (const auto& l : h.listen) hit = hit || c.notified.count(l) > 0;
        if (!hit) continue;
        if (opts_.interrupted && *opts_.interrupted) return;
        if (!run_step(*a.play, h, c, true)) {
            if (a.play->any_errors_fatal) abort_all = true;
            return;
        }
    }
}

bool Engine::run_step(const playbook::Play& play, const playbook::Task& task, HostCtx& c, bool handler) {
    auto& rep = c.report;
    std::string play_name = play.name.empty() ? play.hosts : play.name;
    tmpl::Options topts;
    topts.reveal_secrets = true;  // probes may need them too (a password check); output is redacted
    topts.secret_base_dir = inv_.base_dir;

    auto finish = [&](StepResult sr) {
        sr.play = play_name;
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
    };

    std::vector<plan::Step> steps;
    try {
        steps = plan::plan_task(task, *c.vars, topts);
    } catch (const std::exception& e) {
        StepResult sr;
        sr.task = task.display_name();
        sr.status = Status::Failed;
        sr.message = e.what();
        finish(sr);
        rep.state = HostState::Failed;
        c.dead = !task.ignore_errors;
        return task.ignore_errors;
    }

    bool any_changed = false, any_failed = false;
    Value loop_results = Value::list();
    for (size_t i = 0; i < steps.size(); ++i) {
        const auto& st = steps[i];
        auto t0 = Clock::now();
        StepResult sr;
        sr.task = st.name;
        if (progress_) progress_->step_started(c.host->name, st.name, rep.steps.size());
        if (st.skipped) {
            sr.status = Status::Skipped;
            sr.message = "skipped: when " + task.when + " is false";
            loop_results.push(result_value(0, "", "", false, false, true));
            finish(sr);
            continue;
        }
        Value result;
        if (task.module == "debug") {
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
        } else {
            const auto& act = st.action;
            if (opts_.check && act.check_only) {
                sr.status = Status::Ok;
                sr.message = "check mode: " + act.summary + " (not run)";
                result = result_value(0, "", "", false, false, true);
            } else {
                std::string script = opts_.check ? check_script(act) : apply_script(act);
                bool become = task.become.value_or(play.become.value_or(false));
                std::string buser = !task.become_user.empty() ? task.become_user : play.become_user;
                std::string launcher = stdin_launcher(become, buser, c.host->user);
                if (opts_.verbosity > 0 && opts_.log)
                    opts_.log(redactor().mask(c.host->name + " $ " + launcher + " <<'SCRIPT'\n" + script + "\nSCRIPT"));
                transport::RunResult r;
                try {
                    transport::RunOptions ro;
                    ro.stdin_data = script;
                    if (inv_.ssh.command_timeout > 0) ro.timeout = std::chrono::seconds(inv_.ssh.command_timeout);
                    r = c.conn->run(launcher, ro);
                } catch (const transport::TransportError& e) {
                    sr.status = Status::Unreachable;
                    sr.message = std::string("connection lost: ") + e.what();
                    sr.seconds = since(t0);
                    finish(sr);
                    rep.state = HostState::Unreachable;
                    rep.error = redactor().mask(sr.message);
                    c.dead = true;
                    return false;
                }
                sr.rc = r.exit_status;
                Outcome out = opts_.check ? check_outcome(act, r.exit_status) : apply_outcome(act, r.exit_status);
                // Check mode on a fresh host: a probe may fail only because an earlier step
                // that would change (a package install) has not run, e.g. a config file of
                // that package. That is "would change, unknown how", not a failure.
                if (opts_.check && out == Outcome::Failed && r.exit_status == kScriptProbeFailed && rep.changed > 0) {
                    out = Outcome::WouldChange;
                    sr.diff = "(cannot be checked before the earlier changes are applied: " + tail(r.err, 300) + ")";
                }
                bool changed = out == Outcome::Changed || out == Outcome::WouldChange;
                bool failed = out == Outcome::Failed;
                std::string stdout_text = opts_.check ? "" : r.out;
                if (r.timed_out) sr.message = "timed out after " + std::to_string(inv_.ssh.command_timeout) + " s";
                else if (failed && r.exit_status == kScriptProbeFailed) sr.message = "probe failed: " + tail(r.err, 500);
                else if (failed) sr.message = "exit " + std::to_string(r.exit_status) + (r.err.empty() ? "" : ": " + tail(r.err, 500));
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
                result = result_value(r.exit_status == kScriptConverged ? 0 : r.exit_status, stdout_text, r.err, changed, failed, false);
                // changed_when / failed_when see the result under its registered name.
                if (!task.changed_when.empty() || !task.failed_when.empty()) {
                    std::string name = task.register_as.empty() ? "result" : task.register_as;
                    Value layer = Value::map();
                    layer.set(name, result);
                    auto scope = c.vars->scope(&task.vars, &layer);
                    try {
                        if (!task.changed_when.empty()) changed = tmpl::evaluate_condition(task.changed_when, scope, topts);
                        if (!task.failed_when.empty()) failed = tmpl::evaluate_condition(task.failed_when, scope, topts);
                    } catch (const std::exception& e) {
                        failed = true;
                        sr.message = std::string("changed_when/failed_when: ") + e.what();
                    }
                    result.set("changed", Value::boolean(changed));
                    result.set("failed", Value::boolean(failed));
                }
                sr.status = failed ? Status::Failed : changed ? Status::Changed : Status::Ok;
            }
        }
        sr.seconds = since(t0);
        any_changed = any_changed || sr.status == Status::Changed;
        bool failed_now = sr.status == Status::Failed;
        any_failed = any_failed || failed_now;
        loop_results.push(result);
        if (!task.register_as.empty() && !st.item) c.vars->set_registered(task.register_as, result);
        finish(sr);
        if (failed_now && !task.ignore_errors) break;
    }
    if (!task.register_as.empty() && task.loop) {
        Value agg = Value::map();
        agg.set("results", loop_results);
        agg.set("changed", Value::boolean(any_changed));
        agg.set("failed", Value::boolean(any_failed));
        c.vars->set_registered(task.register_as, agg);
    }
    if (any_changed && !handler)
        for (const auto& n : task.notify) c.notified.insert(n);
    if (any_failed && !task.ignore_errors) {
        rep.state = HostState::Failed;
        if (rep.error.empty()) rep.error = "task \"" + task.display_name() + "\" failed (" + task.mark.str() + ")";
        c.dead = true;
        return false;
    }
    return true;
}

Report Engine::run_command(const std::vector<const inventory::Host*>& hosts, const std::string& command, bool become) {
    auto t0 = Clock::now();
    for (const auto* h : hosts) ctx(*h);
    parallel(hosts, [&](const inventory::Host& h) {
        auto& c = ctx(h);
        if (!ensure_connected(c)) return;
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
    });
    Report rep;
    for (const auto& name : order_) {
        auto& c = *hosts_[name];
        c.report.seconds = since(c.t0);
        rep.hosts.push_back(c.report);
        if (progress_) progress_->host_done(c.report);
    }
    rep.seconds = since(t0);
    return rep;
}

}  // namespace decamp::engine
