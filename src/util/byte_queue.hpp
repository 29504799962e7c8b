// A bounded queue of byte chunks between a producer thread (a stream read from one host)
// and a consumer thread (written to another host or to a local program): the producer blocks
// while `cap` bytes are in flight, so a fast source never buffers a whole data set in memory.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

namespace decamp::util {

class ByteQueue {
public:
    explicit ByteQueue(size_t cap) : cap_(cap) {}

    // Blocks while full; false once the consumer has cancelled.
    bool push(std::string_view chunk) {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return cancelled_ || size_ < cap_; });
        if (cancelled_) return false;
        q_.emplace_back(chunk);
        size_ += chunk.size();
        cv_.notify_all();
        return true;
    }
    // Blocks while empty; false at the end of the stream, when cancelled, or at once when the
    // producer failed (failed() then says so; what is still queued is not delivered).
    bool pop(std::string& out) {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return cancelled_ || closed_ || failed_ || !q_.empty(); });
        if (failed_ || cancelled_ || q_.empty()) return false;
        out = std::move(q_.front());
        q_.pop_front();
        size_ -= out.size();
        cv_.notify_all();
        return true;
    }
    // The producer is done: cleanly, or failed (the consumer must not treat it as complete).
    void close(bool failed = false) {
        std::lock_guard lk(mu_);
        (failed ? failed_ : closed_) = true;
        cv_.notify_all();
    }
    // The consumer is gone: the producer stops.
    void cancel() {
        std::lock_guard lk(mu_);
        cancelled_ = true;
        cv_.notify_all();
    }
    bool failed() const {
        std::lock_guard lk(mu_);
        return failed_;
    }

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::string> q_;
    size_t size_ = 0;
    size_t cap_;
    bool closed_ = false, failed_ = false, cancelled_ = false;
};

}  // namespace decamp::util
