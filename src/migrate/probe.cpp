#include "migrate/probe.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "migrate/journal.hpp"
#include "util/http.hpp"
#include "util/json.hpp"

namespace decamp::migrate {

namespace {

class HttpProbe : public ClientProbe {
public:
    explicit HttpProbe(ProbeTiming t) : t_(t) {}
    ~HttpProbe() override { halt(); }
    HttpProbe(const HttpProbe&) = delete;
    HttpProbe& operator=(const HttpProbe&) = delete;

    void start(const std::vector<std::pair<std::string, HealthTarget>>& targets) override {
        halt();
        stop_ = false;
        stats_.clear();
        stats_.reserve(targets.size());
        for (const auto& [label, target] : targets) {
            ProbeStats s;
            s.label = label;
            stats_.push_back(s);
        }
        for (size_t i = 0; i < targets.size(); ++i)
            if (targets[i].second.error.empty())
                threads_.emplace_back([this, i, t = targets[i].second] { loop(i, t); });
    }

    std::vector<ProbeStats> stop() override { return halt(); }

private:
    std::vector<ProbeStats> halt() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stop_ = true;
        }
        wake_.notify_all();
        for (auto& th : threads_) th.join();
        threads_.clear();
        std::lock_guard<std::mutex> lock(mu_);
        return stats_;
    }

    void loop(size_t i, const HealthTarget& t) {
        while (!stop_) {
            http::Request req;
            req.url = t.url;
            req.host_header = t.host_header;
            req.timeout_ms = t_.timeout_ms;
            req.cancel = &stop_;
            http::Response resp = http::perform(req);
            if (stop_) return;  // abandoned in flight: neither answered nor failed
            record(i, t, resp);
            std::unique_lock<std::mutex> lock(mu_);
            wake_.wait_for(lock, std::chrono::milliseconds(t_.interval_ms), [this] { return stop_.load(); });
        }
    }

    void record(size_t i, const HealthTarget& t, const http::Response& resp) {
        std::lock_guard<std::mutex> lock(mu_);
        ProbeStats& s = stats_[i];
        ++s.sent;
        if (resp.status == t.expect) {
            ++s.answered;
            if (resp.seconds >= t_.held_after_s) ++s.held;
            s.longest_s = std::max(s.longest_s, resp.seconds);
            return;
        }
        if (resp.status != 0) s.longest_s = std::max(s.longest_s, resp.seconds);
        ++s.failed;
        double now = Journal::now();
        if (s.first_failure_at == 0) {
            s.first_failure_at = now;
            s.first_failure = resp.status ? "HTTP " + std::to_string(resp.status) : resp.error;
        }
        s.last_failure_at = now;
    }

    ProbeTiming t_;
    std::atomic<bool> stop_{true};
    std::mutex mu_;
    std::condition_variable wake_;
    std::vector<ProbeStats> stats_;
    std::vector<std::thread> threads_;
};

}  // namespace

std::unique_ptr<ClientProbe> make_http_probe(ProbeTiming timing) {
    return std::make_unique<HttpProbe>(timing);
}

std::vector<ProbeStats> merge_probe_stats(std::vector<ProbeStats> a, const std::vector<ProbeStats>& b) {
    for (const auto& s : b) {
        auto it = std::find_if(a.begin(), a.end(), [&](const ProbeStats& x) { return x.label == s.label; });
        if (it == a.end()) {
            a.push_back(s);
            continue;
        }
        it->sent += s.sent;
        it->answered += s.answered;
        it->held += s.held;
        it->failed += s.failed;
        it->longest_s = std::max(it->longest_s, s.longest_s);
        if (s.first_failure_at > 0 &&
            (it->first_failure_at == 0 || s.first_failure_at < it->first_failure_at)) {
            it->first_failure_at = s.first_failure_at;
            it->first_failure = s.first_failure;
        }
        it->last_failure_at = std::max(it->last_failure_at, s.last_failure_at);
    }
    return a;
}

std::string encode_probe_stats(const std::vector<ProbeStats>& stats) {
    json::Value arr = json::Value::Array{};
    for (const auto& s : stats)
        arr.push(json::Value()
                     .set("label", s.label)
                     .set("sent", s.sent)
                     .set("answered", s.answered)
                     .set("held", s.held)
                     .set("failed", s.failed)
                     .set("longest_seconds", json::rounded(s.longest_s))
                     .set("first_failure_at", s.first_failure_at)
                     .set("last_failure_at", s.last_failure_at)
                     .set("first_failure", s.first_failure));
    return json::dump(arr);
}

std::vector<ProbeStats> decode_probe_stats(const std::string& text) {
    std::vector<ProbeStats> out;
    json::Value v = json::parse(text);
    for (const auto& e : v.items()) {
        ProbeStats s;
        s.label = e["label"].str();
        s.sent = static_cast<uint64_t>(e["sent"].int_or(0));
        s.answered = static_cast<uint64_t>(e["answered"].int_or(0));
        s.held = static_cast<uint64_t>(e["held"].int_or(0));
        s.failed = static_cast<uint64_t>(e["failed"].int_or(0));
        s.longest_s = e["longest_seconds"].number_or(0);
        s.first_failure_at = e["first_failure_at"].number_or(0);
        s.last_failure_at = e["last_failure_at"].number_or(0);
        s.first_failure = e["first_failure"].str();
        out.push_back(std::move(s));
    }
    return out;
}

std::string describe_probe(const ProbeStats& s) {
    char longest[32];
    std::snprintf(longest, sizeof longest, "%.1f s", s.longest_s);
    std::string o = s.label + ": " + std::to_string(s.sent) + " requests, " + std::to_string(s.failed) +
                    " failed, " + std::to_string(s.held) + " held (longest wait " + longest + ")";
    if (s.failed) {
        char span[32];
        std::snprintf(span, sizeof span, "%.1f s", s.last_failure_at - s.first_failure_at);
        o += "; failing over " + std::string(span) + ", first: " + s.first_failure;
    }
    return o;
}

}  // namespace decamp::migrate
