#include "transport/pump.hpp"

#include <chrono>
#include <exception>
#include <thread>

#include "util/byte_queue.hpp"
#include "util/error.hpp"
#include "util/secret.hpp"
#include "util/text.hpp"

namespace decamp::transport {

namespace {

constexpr size_t kQueueBytes = 8 << 20;

struct SourceFailed : std::runtime_error {
    SourceFailed() : std::runtime_error("the source of the stream failed") {}
};
struct Cancelled {};

using util::output_tail;

std::string exc_text(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "unknown error";
    }
}

}  // namespace

PumpResult pump(Transport& source, const std::string& source_cmd, Transport& sink,
                const std::string& sink_cmd, const std::function<void(std::string_view)>& tap,
                const std::string& what, int source_ok_max, const std::function<bool()>& complete) {
    PumpResult res;
    const auto start = std::chrono::steady_clock::now();
    util::ByteQueue q(kQueueBytes);
    std::exception_ptr src_exc;
    bool src_cancelled = false;
    std::thread producer([&] {
        RunOptions o;
        o.on_output = [&](std::string_view chunk, bool is_err) {
            if (is_err) {
                if (res.source_err.size() < (1u << 20)) res.source_err.append(chunk);
                return;
            }
            res.bytes += chunk.size();
            if (tap) tap(chunk);
            if (!q.push(chunk)) throw Cancelled{};
        };
        bool failed = true;
        try {
            res.source = source.run(source_cmd, o);
            failed = res.source.exit_status < 0 || res.source.exit_status > source_ok_max;
        } catch (const Cancelled&) {
            src_cancelled = true;
        } catch (...) {
            src_exc = std::current_exception();
        }
        q.close(failed);
    });
    std::exception_ptr sink_exc;
    try {
        RunOptions o;
        o.stdin_source = [&](std::string& chunk) {
            if (q.pop(chunk)) return true;
            if (q.failed()) throw SourceFailed();
            return false;
        };
        res.sink = sink.run(sink_cmd, o);
    } catch (...) {
        sink_exc = std::current_exception();
    }
    q.cancel();
    producer.join();
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::string src_problem, sink_problem;
    if (src_exc)
        src_problem = exc_text(src_exc);
    else if (src_cancelled && !(complete && complete()))
        src_problem = "stopped because the receiving side failed";
    else if (!src_cancelled && (res.source.exit_status < 0 || res.source.exit_status > source_ok_max))
        src_problem = (res.source.timed_out ? std::string("timed out")
                                            : "exit " + std::to_string(res.source.exit_status)) +
                      ": " + output_tail(res.source_err.empty() ? res.source.err : res.source_err);
    if (sink_exc) {
        bool because_source = false;
        try {
            std::rethrow_exception(sink_exc);
        } catch (const SourceFailed&) {
            because_source = true;
        } catch (...) {
        }
        sink_problem = because_source ? "stopped because the source failed" : exc_text(sink_exc);
    } else if (res.sink.exit_status != 0) {
        sink_problem =
            (res.sink.timed_out ? std::string("timed out") : "exit " + std::to_string(res.sink.exit_status)) +
            ": " + output_tail(res.sink.err.empty() ? res.sink.out : res.sink.err);
    }
    if (src_problem.empty() && sink_problem.empty()) return res;
    // The source's whole stderr (the message has its tail) for -v.
    std::string detail =
        res.source_err.empty() ? "" : "stderr on " + source.describe() + ":\n" + res.source_err;
    throw Error(redactor().mask(what + " failed; reading on " + source.describe() + ": " +
                                (src_problem.empty() ? "ok" : src_problem) + "; writing on " +
                                sink.describe() + ": " + (sink_problem.empty() ? "ok" : sink_problem)),
                kExitRuntime, redactor().mask(detail));
}

}  // namespace decamp::transport
