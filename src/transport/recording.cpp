// RecordingTransport: see recording.hpp.
#include "transport/recording.hpp"

#include <fstream>
#include <sstream>

namespace decamp::transport {

void RecordingTransport::push_result(RunResult r) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(r));
}

void RecordingTransport::push_result(int exit_status, std::string out, std::string err) {
    RunResult r;
    r.exit_status = exit_status;
    r.out = std::move(out);
    r.err = std::move(err);
    push_result(std::move(r));
}

void RecordingTransport::set_responder(Responder r) {
    std::lock_guard lock(mu_);
    responder_ = std::move(r);
}

void RecordingTransport::set_file(const std::string& path, std::string content) {
    std::lock_guard lock(mu_);
    files_[path] = std::move(content);
}

RunResult RecordingTransport::run(const std::string& command, const RunOptions& opts) {
    Call call{command, opts.stdin_data, opts.timeout};
    if (opts.stdin_source) {
        std::string chunk;
        for (;;) {
            chunk.clear();
            bool more = opts.stdin_source(chunk);
            call.stdin_data += chunk;
            if (!more) break;
        }
    }
    RunResult result;
    Responder responder;
    {
        std::lock_guard lock(mu_);
        calls_.push_back(call);
        if (!queue_.empty()) {
            result = std::move(queue_.front());
            queue_.pop_front();
        } else if (responder_) {
            responder = responder_;
        } else {
            result.exit_status = 0;
        }
    }
    // Outside the lock: a responder may call back into this transport.
    if (responder) result = responder(command);
    if (opts.on_output) {
        if (!result.out.empty()) opts.on_output(result.out, false);
        if (!result.err.empty()) opts.on_output(result.err, true);
    }
    return result;
}

void RecordingTransport::upload(std::string_view content, const std::string& remote_path,
                                const FileOptions& opts) {
    std::lock_guard lock(mu_);
    uploads_.push_back({remote_path, std::string(content), opts});
    files_[remote_path] = std::string(content);
}

void RecordingTransport::upload_file(const std::filesystem::path& local,
                                     const std::string& remote_path, const FileOptions& opts) {
    std::ifstream in(local, std::ios::binary);
    if (!in) throw TransportError(TransportError::Kind::Io, "cannot read " + local.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    upload(ss.str(), remote_path, opts);
}

std::string RecordingTransport::download(const std::string& remote_path) {
    std::lock_guard lock(mu_);
    downloads_.push_back(remote_path);
    auto it = files_.find(remote_path);
    if (it == files_.end())
        throw TransportError(TransportError::Kind::Io,
                             "cannot read " + remote_path + " on " + name_ + ": no such file");
    return it->second;
}

void RecordingTransport::close() {
    std::lock_guard lock(mu_);
    closed_ = true;
}

std::vector<RecordingTransport::Call> RecordingTransport::calls() const {
    std::lock_guard lock(mu_);
    return calls_;
}

std::vector<std::string> RecordingTransport::commands() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& c : calls_) out.push_back(c.command);
    return out;
}

std::vector<RecordingTransport::Upload> RecordingTransport::uploads() const {
    std::lock_guard lock(mu_);
    return uploads_;
}

std::vector<std::string> RecordingTransport::downloads() const {
    std::lock_guard lock(mu_);
    return downloads_;
}

bool RecordingTransport::closed() const {
    std::lock_guard lock(mu_);
    return closed_;
}

}  // namespace decamp::transport
