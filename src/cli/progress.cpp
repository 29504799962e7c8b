#include "cli/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace decamp::cli {

namespace {

using Clock = std::chrono::steady_clock;

class PlainProgress : public engine::Progress {
public:
    void step_done(const std::string& host, const engine::StepResult& r) override {
        std::lock_guard lock(mu_);
        fprintf(stderr, "%-20s %-11s %s%s%s (%.2fs)\n", host.c_str(), engine::status_name(r.status), r.task.c_str(),
                r.message.empty() ? "" : " — ", r.message.c_str(), r.seconds);
        if (!r.diff.empty()) fprintf(stderr, "%s\n", r.diff.c_str());
    }

private:
    std::mutex mu_;
};

// Redraws one line per host in place, ~8 times a second.
class TerminalProgress : public engine::Progress {
public:
    TerminalProgress() : thread_([this] { loop(); }) {}
    ~TerminalProgress() override {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
        draw(true);
    }
    void host_started(const std::string& host, size_t) override {
        std::lock_guard lock(mu_);
        auto& l = line(host);
        if (l.start == Clock::time_point{}) l.start = Clock::now();
    }
    void step_started(const std::string& host, const std::string& task, size_t index) override {
        std::lock_guard lock(mu_);
        auto& l = line(host);
        if (l.start == Clock::time_point{}) l.start = Clock::now();
        l.task = task;
        l.index = index + 1;
    }
    void step_done(const std::string& host, const engine::StepResult& r) override {
        std::lock_guard lock(mu_);
        auto& l = line(host);
        if (r.status == engine::Status::Changed) ++l.changed;
        if (r.status == engine::Status::Failed || r.status == engine::Status::Unreachable) {
            l.state = engine::status_name(r.status);
            l.task = r.task + ": " + r.message;
        }
        if (!r.diff.empty()) diffs_.push_back(host + ": " + r.task + "\n" + r.diff);
    }
    void host_done(const engine::HostReport& r) override {
        std::lock_guard lock(mu_);
        auto& l = line(r.host);
        l.done = true;
        if (l.state.empty()) l.state = r.state == engine::HostState::Ok ? "done" : "failed";
        l.seconds = r.seconds;
    }

private:
    struct Line {
        std::string task, state;
        size_t index = 0;
        int changed = 0;
        bool done = false;
        double seconds = 0;
        Clock::time_point start{};
    };
    Line& line(const std::string& host) {
        auto it = lines_.find(host);
        if (it == lines_.end()) {
            order_.push_back(host);
            it = lines_.emplace(host, Line{}).first;
        }
        return it->second;
    }
    void loop() {
        std::unique_lock lock(mu_);
        while (!stop_) {
            cv_.wait_for(lock, std::chrono::milliseconds(120));
            lock.unlock();
            draw(false);
            lock.lock();
        }
    }
    void draw(bool final) {
        std::lock_guard lock(mu_);
        std::string out;
        if (drawn_ > 0) out += "\x1b[" + std::to_string(drawn_) + "F";
        for (const auto& h : order_) {
            const Line& l = lines_[h];
            double el = l.done ? l.seconds
                               : l.start == Clock::time_point{} ? 0
                                                                : std::chrono::duration<double>(Clock::now() - l.start).count();
            char buf[512];
            std::string task = l.task.size() > 60 ? l.task.substr(0, 57) + "..." : l.task;
            snprintf(buf, sizeof buf, "\x1b[2K%-20s %-10s step %-3zu changed %-3d %6.1fs  %s\n", h.c_str(),
                     l.state.empty() ? "running" : l.state.c_str(), l.index, l.changed, el, task.c_str());
            out += buf;
        }
        drawn_ = order_.size();
        if (final) {
            for (const auto& d : diffs_) out += d + "\n";
            diffs_.clear();
            drawn_ = 0;
        }
        fputs(out.c_str(), stderr);
        fflush(stderr);
    }

    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::map<std::string, Line> lines_;
    std::vector<std::string> order_;
    std::vector<std::string> diffs_;
    size_t drawn_ = 0;
    std::thread thread_;
};

class QuietProgress : public engine::Progress {};

}  // namespace

std::unique_ptr<engine::Progress> make_progress(bool quiet) {
    if (quiet) return std::make_unique<QuietProgress>();
    if (isatty(STDERR_FILENO)) return std::make_unique<TerminalProgress>();
    return std::make_unique<PlainProgress>();
}

}  // namespace decamp::cli
