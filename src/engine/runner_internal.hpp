// What the engine's two halves share: runner.cpp (hosts, plays, what goes in a batch) and
// steps.cpp (running a batch and recording each step's result). Internal to src/engine.
#pragma once

#include <chrono>
#include <set>
#include <string>

#include "engine/capture.hpp"
#include "engine/engine.hpp"

namespace decamp::engine {

namespace detail {

using Clock = std::chrono::steady_clock;

inline double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline std::string tail(const std::string& s, size_t n = 2000) {
    return s.size() <= n ? s : "…" + s.substr(s.size() - n);
}

// Splits output into lines, as stdout_lines / stderr_lines.
inline Value output_lines(const std::string& o) {
    Value lines = Value::list();
    size_t start = 0;
    while (start < o.size()) {
        size_t nl = o.find('\n', start);
        if (nl == std::string::npos) nl = o.size();
        lines.push(Value::string(o.substr(start, nl - start)));
        start = nl + 1;
    }
    return lines;
}

// A step's result as `register:` and changed_when/failed_when see it. What a host sent is
// data: the whole result is unsafe, so no later template renders what is inside it.
inline Value result_value(int rc, const std::string& out, const std::string& err, bool changed, bool failed,
                          bool skipped) {
    Value r = Value::map();
    r.set("rc", Value::integer(rc));
    std::string o = out;
    while (!o.empty() && o.back() == '\n') o.pop_back();
    std::string e = err;
    while (!e.empty() && e.back() == '\n') e.pop_back();
    r.set("stdout", Value::string(o));
    r.set("stderr", Value::string(e));
    r.set("stdout_lines", output_lines(o));
    r.set("stderr_lines", output_lines(e));
    r.set("changed", Value::boolean(changed));
    r.set("failed", Value::boolean(failed));
    r.set("skipped", Value::boolean(skipped));
    return r.add_taint(Value::kUnsafe);
}

}  // namespace detail

struct Engine::HostCtx {
    const inventory::Host* host = nullptr;
    transport::Transport* conn = nullptr;  // from the pool
    std::unique_ptr<plan::HostVars> vars;
    HostReport report;
    bool connected = false;
    bool dead = false;  // failed or unreachable: sits out the rest of the run
    std::set<std::string> notified;
    Clock::time_point t0 = Clock::now();    // connecting started
    Clock::time_point last = Clock::now();  // its last step ended
};

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
    std::string out, err;  // all of it, or the last kCaptureTail bytes (see capture.hpp)
    uint64_t out_bytes = 0, err_bytes = 0;
    bool out_cut = false, err_cut = false;  // more than kCaptureFull bytes came
    void set_output(const Capture& o, const Capture& e) {
        out = o.str();
        err = e.str();
        out_bytes = o.total();
        err_bytes = e.total();
        out_cut = o.overflow();
        err_cut = e.overflow();
    }
    bool timed_out = false;
    bool missing = false;  // no result came back for this step
    bool interrupted = false;  // killed by a second Ctrl-C
    double seconds = 0;
};

}  // namespace decamp::engine
