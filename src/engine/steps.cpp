// Running one batch on a host and recording each step's result as it arrives: the
// framed script, the stop rule, per-step timeouts, and what a step's status, output,
// changed_when and failed_when mean.
#include <algorithm>

#include "engine/runner_internal.hpp"
#include "engine/script.hpp"
#include "util/diff.hpp"
#include "util/secret.hpp"

namespace decamp::engine {

using detail::Clock;
using detail::result_value;
using detail::since;
using detail::tail;

namespace {

// Every text in `v` derived from a secret, whole.
void add_sensitive(Redactor& r, const Value& v) {
    if (!v.is_sensitive()) return;
    if (v.is_string() && (v.own_taint() & Value::kSensitive)) r.add(v.as_string());
    for (const auto& i : v.items()) add_sensitive(r, i);
    for (const auto& [k, i] : v.entries()) add_sensitive(r, i);
}

}  // namespace

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
    sr.task = redactor().mask(sr.task);
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
        if (var && var->is_unsafe()) {  // a name that came from a host is not evaluated
            sr.message = var->to_text();
        } else if (var) {
            with_facts(c, [&] {
                auto scope = c.vars->scope(&task.vars, nullptr, task.defaults.get());
                try {
                    sr.message =
                        var->to_text() + " = " + tmpl::evaluate(var->to_text(), scope, topts).to_text();
                } catch (const std::exception& e) {
                    sr.message = e.what();
                }
            });
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
    // A registered value is bounded (capture.hpp): past it the task fails rather than
    // register a silently cut stdout.
    const bool cut = r.out_cut || r.err_cut;
    const std::string too_big =
        cut && !task.register_as.empty() && !opts_.check
            ? "output too large to register: stdout " + std::to_string(r.out_bytes) + " bytes, stderr " +
                  std::to_string(r.err_bytes) + " bytes; `register` keeps at most " +
                  std::to_string(kCaptureFull / 1024 / 1024) + " MiB of each (filter on the host, e.g. `| tail -n 1000`)"
            : "";
    std::string stdout_text = opts_.check ? "" : r.out;
    if (r.interrupted) sr.message = "interrupted: the step's processes on the host were killed";
    else if (r.timed_out) sr.message = "timed out after " + std::to_string(inv_.ssh.command_timeout) + " s";
    else if (!too_big.empty()) sr.message = too_big;
    else if (failed && r.rc == kScriptProbeFailed) sr.message = "probe failed: " + tail(r.err, 500);
    else if (failed) sr.message = "exit " + std::to_string(r.rc) + (r.err.empty() ? "" : ": " + tail(r.err, 500));
    else if (out == Outcome::Ok) sr.message = act.ok_reason.empty() ? act.summary : act.ok_reason;
    else sr.message = act.summary;
    if (out == Outcome::WouldChange && sr.diff.empty()) {
        if (r.out_cut) {
            sr.diff = "(the current content is larger than " + std::to_string(kCaptureFull / 1024 / 1024) +
                      " MiB: no diff shown)";
        } else if (act.desired && !act.diff_path.empty()) {
            try {
                sr.diff = util::unified_diff(r.out, act.desired(r.out), act.diff_path + " (current)",
                                             act.diff_path + " (planned)");
            } catch (const std::exception& e) {  // a regex past its budget, say: no diff, and why
                sr.diff = std::string("(no diff: ") + e.what() + ")";
            }
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
        const bool changed0 = changed;
        const bool failed0 = failed;
        const std::string message0 = sr.message;
        with_facts(c, [&] {
            changed = changed0;
            failed = failed0;
            sr.message = message0;
            auto scope = c.vars->scope(&task.vars, &layer, task.defaults.get());
            try {
                const tmpl::Options topts = template_options();
                if (!task.changed_when.empty())
                    changed = tmpl::evaluate_condition(task.changed_when, scope, topts);
                if (!task.failed_when.empty())
                    failed = tmpl::evaluate_condition(task.failed_when, scope, topts);
            } catch (const std::exception& e) {
                failed = true;
                sr.message = std::string("changed_when/failed_when: ") + e.what();
            }
        });
        result.set("changed", Value::boolean(changed));
        result.set("failed", Value::boolean(failed));
    }
    if (r.missing || r.interrupted || !too_big.empty()) {  // never ok, whatever failed_when says
        failed = true;
        changed = false;
        result.set("failed", Value::boolean(true));
        result.set("changed", Value::boolean(false));
    }
    sr.status = failed ? Status::Failed : changed ? Status::Changed : Status::Ok;
}

// Records one step's result; false when the host stops here.
// (clang-tidy sees this file because two scope() calls here gained the task's role defaults.)
bool Engine::record(const playbook::Play& play, TaskRun& tr, const plan::Step& st, HostCtx& c, StepResult sr,
                    Value result) {  // NOLINT(performance-unnecessary-value-param)
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
        progress_->step_started(c.host->name, redactor().mask(st.name), c.report.steps.size());
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
        if (opts_.verbosity > 0 && opts_.log) {
            // Arguments derived from a secret (a template's whole content) are masked whole,
            // in every encoding the script carries them (base64), before the secrets' own forms.
            Redactor derived;
            for (size_t k = r; k < r + n; ++k) {
                const Ref& ref = refs[remote[k]];
                add_sensitive(derived, batch[ref.task].steps[ref.step].args);
            }
            opts_.log(redactor().mask(derived.mask(c.host->name + " $ " + launcher + " <<'SCRIPT'\n" + script + "\nSCRIPT")));
        }
        transport::RunOptions ro;
        ro.stdin_data = std::move(script);
        const auto limit = std::chrono::seconds(inv_.ssh.command_timeout);
        auto step_t0 = Clock::now();
        BatchSplitter split(nonce);
        Capture out_cap, err_cap;  // one step alone: its output, bounded
        // A second Ctrl-C (or SIGTERM) ends the running step now: the transport kills its
        // process group on the host, as for a timeout.
        auto killed = [&] { return opts_.kill_steps && *opts_.kill_steps; };
        if (n > 1) {
            ro.on_output = [&](std::string_view chunk, bool is_err) {
                split.feed(chunk, is_err);
                while (split.ready()) {
                    auto part = split.take();
                    Exec e;
                    e.rc = part.status;
                    e.set_output(part.out, part.err);
                    e.seconds = since(step_t0);
                    step_t0 = Clock::now();
                    deliver(e);
                }
            };
            // command_timeout holds per step: the clock restarts at every step's marker.
            ro.expired = [&] { return killed() || (limit.count() > 0 && Clock::now() - step_t0 > limit); };
        } else {
            ro.on_output = [&](std::string_view chunk, bool is_err) { (is_err ? err_cap : out_cap).append(chunk); };
            if (limit.count() > 0) ro.timeout = limit;
            ro.expired = killed;
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
            e.set_output(out_cap, err_cap);
            e.timed_out = res.timed_out;
            e.interrupted = res.timed_out && killed();
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
            e.set_output(split.rest_out(), split.rest_err());
            e.interrupted = res.timed_out && killed();
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

}  // namespace decamp::engine
