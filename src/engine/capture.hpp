// What the engine keeps of one stream of one step's output: everything up to kCaptureFull
// bytes (enough for `register`, changed_when and diffs), and past that only the last
// kCaptureTail bytes plus a byte count, so a step printing gigabytes costs a bounded amount
// of memory however its output arrives. Pure.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace decamp::engine {

constexpr size_t kCaptureFull = size_t{1024} * 1024;  // a registered stdout/stderr holds at most this
constexpr size_t kCaptureTail = size_t{64} * 1024;    // what reports keep of a bigger stream

class Capture {
public:
    void append(std::string_view s) {
        total_ += s.size();
        if (!overflow_ && text_.size() + s.size() <= kCaptureFull) {
            // Past a quarter of the limit, take the whole limit at once: left to itself
            // std::string doubles to 2 MiB (and so does reserve() below twice the capacity).
            if (text_.capacity() < text_.size() + s.size() && text_.size() + s.size() > kCaptureFull / 4)
                text_.reserve(kCaptureFull);
            text_.append(s);
            return;
        }
        overflow_ = true;
        if (s.size() >= kCaptureTail) {
            text_.assign(s.substr(s.size() - kCaptureTail));
            return;
        }
        // Trim before appending (never grows the buffer), in steps of kCaptureTail so that
        // appending stays amortised O(1).
        if (text_.size() + s.size() > 2 * kCaptureTail) text_.erase(0, text_.size() - std::min(text_.size(), kCaptureTail));
        text_.append(s);
    }
    bool overflow() const { return overflow_; }
    uint64_t total() const { return total_; }
    // All of it, or (after an overflow) its last kCaptureTail bytes.
    std::string str() const {
        if (overflow_ && text_.size() > kCaptureTail) return text_.substr(text_.size() - kCaptureTail);
        return text_;
    }
    size_t retained() const { return text_.capacity(); }

private:
    std::string text_;
    uint64_t total_ = 0;
    bool overflow_ = false;
};

}  // namespace decamp::engine
