// A Transport for unit tests of the engine and modules: records every command and file
// operation and answers with scripted results, so tests assert the exact command text
// without a host (as ninja's tests do with a recording CommandRunner).
#pragma once

#include <deque>
#include <map>
#include <mutex>

#include "transport/transport.hpp"

namespace decamp::transport {

class RecordingTransport : public Transport {
public:
    struct Call {
        std::string command;
        std::string stdin_data;  // stdin_data plus everything stdin_source produced
        std::chrono::milliseconds timeout{0};
    };
    struct Upload {
        std::string path;
        std::string content;
        FileOptions opts;
    };
    // Answers a command; may throw TransportError to simulate a lost host.
    using Responder = std::function<RunResult(const std::string& command)>;

    explicit RecordingTransport(std::string name = "recording") : name_(std::move(name)) {}

    // Scripted results are used first, in order; then the responder; then exit 0, no output.
    void push_result(RunResult r);
    void push_result(int exit_status, std::string out = {}, std::string err = {});
    void set_responder(Responder r);
    // Files that download() returns; uploads land here too.
    void set_file(const std::string& path, std::string content);

    RunResult run(const std::string& command, const RunOptions& opts = {}) override;
    void upload(std::string_view content, const std::string& remote_path,
                const FileOptions& opts = {}) override;
    void upload_file(const std::filesystem::path& local, const std::string& remote_path,
                     const FileOptions& opts = {}) override;
    std::string download(const std::string& remote_path) override;
    void close() override;
    std::string describe() const override { return name_; }

    std::vector<Call> calls() const;
    std::vector<std::string> commands() const;  // just the command texts, in order
    std::vector<Upload> uploads() const;
    std::vector<std::string> downloads() const;
    bool closed() const;

private:
    mutable std::mutex mu_;
    std::string name_;
    std::deque<RunResult> queue_;
    Responder responder_;
    std::map<std::string, std::string> files_;
    std::vector<Call> calls_;
    std::vector<Upload> uploads_;
    std::vector<std::string> downloads_;
    bool closed_ = false;
};

}  // namespace decamp::transport
