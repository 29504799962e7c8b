// The SSH transport: one authenticated session per host, a channel per command, SFTP for
// files. Everything runs non-blocking through SshSession's poll loop, so stdout and stderr
// drain together, stdin is fed as the window allows, and deadlines hold.
#include <libssh2_sftp.h>

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>

#include "transport/ssh_session.hpp"
#include "util/shell.hpp"

namespace decamp::transport {

namespace {

using detail::Clock;
using detail::kNoDeadline;
using detail::SshSession;
using Kind = TransportError::Kind;
using std::chrono::milliseconds;

constexpr size_t kStreamKeep = 64 * 1024;  // what out/err keep when on_output streams

void keep_tail(std::string& s) {
    if (s.size() > 2 * kStreamKeep) s.erase(0, s.size() - kStreamKeep);
}

std::string random_suffix() {
    thread_local std::mt19937_64 rng{std::random_device{}() ^
                                     (uint64_t(::getpid()) << 32) ^
                                     uint64_t(Clock::now().time_since_epoch().count())};
    static const char* hex = "0123456789abcdef";
    std::string s;
    uint64_t v = rng();
    for (int i = 0; i < 12; ++i) s += hex[(v >> (4 * i)) & 15];
    return s;
}

std::string sftp_status(unsigned long code) {
    switch (code) {
        case LIBSSH2_FX_NO_SUCH_FILE: return "no such file";
        case LIBSSH2_FX_PERMISSION_DENIED: return "permission denied";
        case LIBSSH2_FX_FAILURE: return "failure";
        case LIBSSH2_FX_NO_SUCH_PATH: return "no such path";
        case LIBSSH2_FX_FILE_ALREADY_EXISTS: return "file already exists";
        case LIBSSH2_FX_WRITE_PROTECT: return "write protected";
        case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM: return "no space left on device";
        case LIBSSH2_FX_QUOTA_EXCEEDED: return "quota exceeded";
        default: return "SFTP status " + std::to_string(code);
    }
}

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Reads the next piece of an upload into buf; returns bytes read, 0 at the end.
using Reader = std::function<size_t(char* buf, size_t cap)>;

class SshTransport final : public Transport {
public:
    explicit SshTransport(std::unique_ptr<SshSession> s) : s_(std::move(s)) {}
    ~SshTransport() override { close(); }

    RunResult run(const std::string& command, const RunOptions& opts) override;
    void upload(std::string_view content, const std::string& remote_path,
                const FileOptions& opts) override {
        size_t pos = 0;
        put(remote_path, opts, [&](char* buf, size_t cap) {
            size_t n = std::min(cap, content.size() - pos);
            std::memcpy(buf, content.data() + pos, n);
            pos += n;
            return n;
        }, [&] { pos = 0; });
    }
    void upload_file(const std::filesystem::path& local, const std::string& remote_path,
                     const FileOptions& opts) override {
        std::ifstream in(local, std::ios::binary);
        if (!in) throw TransportError(Kind::Io, "cannot read " + local.string());
        put(remote_path, opts, [&](char* buf, size_t cap) {
            in.read(buf, std::streamsize(cap));
            if (in.bad()) throw TransportError(Kind::Io, "cannot read " + local.string());
            return size_t(in.gcount());
        }, [&] { in.clear(); in.seekg(0); });
    }
    std::string download(const std::string& remote_path) override;
    void close() override {
        if (sftp_ && s_ && !s_->broken()) {
            try {
                s_->touch();
                s_->call([&] { return libssh2_sftp_shutdown(sftp_); },
                         Clock::now() + milliseconds(300));
            } catch (...) {  // closing a dead connection is not an error
            }
        }
        sftp_ = nullptr;
        s_.reset();
    }
    std::string describe() const override { return describe_; }

    void set_describe(std::string d) { describe_ = std::move(d); }

private:
    SshSession& session();
    [[noreturn]] void fail(int rc, Kind kind, const std::string& what);
    LIBSSH2_SFTP* sftp();
    // Opens `path` for writing through SFTP; nullptr with *status set when refused.
    LIBSSH2_SFTP_HANDLE* open_for_write(const std::string& path, unsigned long* status);
    void write_all(LIBSSH2_SFTP_HANDLE* h, const std::string& path, const Reader& read);
    void close_handle(LIBSSH2_SFTP_HANDLE* h);
    void put(const std::string& path, const FileOptions& opts, const Reader& read,
             const std::function<void()>& rewind);
    void finish(const std::string& script, const std::string& path);

    std::unique_ptr<SshSession> s_;
    LIBSSH2_SFTP* sftp_ = nullptr;
    std::string describe_;
};

SshSession& SshTransport::session() {
    if (!s_) throw TransportError(Kind::Channel, "transport to " + describe_ + " is closed");
    if (s_->broken())
        throw TransportError(Kind::Io, "connection to " + s_->label() + " was lost earlier");
    s_->touch();  // an idle spell before this operation is not silence from a dead peer
    return *s_;
}

void SshTransport::fail(int rc, Kind kind, const std::string& what) {
    SshSession& s = *s_;
    if (s.note_failure(rc))
        throw TransportError(Kind::Io, "connection to " + s.label() + " lost (" + what +
                                           "): " + s.last_error());
    throw TransportError(kind, what + " on " + s.label() + ": " + s.last_error());
}

RunResult SshTransport::run(const std::string& command, const RunOptions& opts) {
    SshSession& s = session();
    LIBSSH2_SESSION* sess = s.get();
    RunResult res;
    const auto start = Clock::now();
    const auto deadline = opts.timeout.count() > 0 ? start + opts.timeout : kNoDeadline;
    auto finish_timing = [&] {
        res.duration = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    };
    s.touch();

    bool timed_out = false;
    LIBSSH2_CHANNEL* ch = s.call_ptr<LIBSSH2_CHANNEL>(
        [&] { return libssh2_channel_open_session(sess); }, deadline, &timed_out);
    if (!ch) {
        if (timed_out) {
            res.timed_out = true;
            finish_timing();
            return res;
        }
        fail(libssh2_session_last_errno(sess), Kind::Channel, "cannot open a channel");
    }
    // Frees the channel on every path; on a dead session libssh2_session_free does it.
    struct ChannelGuard {
        SshSession& s;
        LIBSSH2_CHANNEL* ch;
        ~ChannelGuard() {
            if (s.broken()) return;
            try {
                s.call([&] { return libssh2_channel_free(ch); }, Clock::now() + milliseconds(500));
            } catch (...) {
            }
        }
    } guard{s, ch};

    // With a timeout, the shell first prints its PID (the session's process group, sshd
    // calls setsid) so a timed-out command can be killed: libssh2 1.10 cannot send a
    // "signal" request once exec has been used on a channel.
    const bool want_pid = opts.timeout.count() > 0 || static_cast<bool>(opts.expired);
    const std::string wire = want_pid ? "echo $$\n" + command : command;
    std::string pid_line;
    bool pid_done = !want_pid;
    int rc = s.call([&] { return libssh2_channel_exec(ch, wire.c_str()); }, deadline);
    if (rc == LIBSSH2_ERROR_TIMEOUT) {
        res.timed_out = true;
        finish_timing();
        return res;
    }
    if (rc != 0) fail(rc, Kind::Channel, "cannot start command");

    std::string pending = opts.stdin_data;
    size_t pending_off = 0;
    bool source_done = !opts.stdin_source;
    bool eof_sent = false;
    // A libssh2 call that left a packet half sent must be repeated before any other call.
    enum Op { None, ReadOut, ReadErr, Write, SendEof } blocked = None;
    auto outbound_blocked = [&] {
        return (libssh2_session_block_directions(sess) & LIBSSH2_SESSION_BLOCK_OUTBOUND) != 0;
    };
    char buf[65536];

    auto deliver = [&](const char* p, size_t n, bool is_err) {
        if (!is_err && !pid_done) {
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
            pid_line.append(p, nl ? size_t(nl - p) : n);
            if (!nl) return;
            pid_done = true;
            n -= size_t(nl + 1 - p);
            p = nl + 1;
            if (n == 0) return;
        }
        std::string& dst = is_err ? res.err : res.out;
        dst.append(p, n);
        if (opts.on_output) {
            opts.on_output(std::string_view(p, n), is_err);
            keep_tail(dst);
        }
    };
    // Returns true when it made progress.
    auto read_stream = [&](int stream, Op op) {
        bool progress = false;
        for (;;) {
            ssize_t n = libssh2_channel_read_ex(ch, stream, buf, sizeof buf);
            if (n > 0) {
                deliver(buf, size_t(n), stream != 0);
                progress = true;
                blocked = None;
                continue;
            }
            if (n == LIBSSH2_ERROR_EAGAIN) {
                blocked = outbound_blocked() ? op : None;
                return progress;
            }
            if (n == 0) {
                blocked = None;
                return progress;
            }
            fail(int(n), Kind::Channel, "reading output of command");
        }
    };
    auto write_stdin = [&] {
        bool progress = false;
        while (!eof_sent) {
            if (pending_off == pending.size() && !source_done) {
                pending.clear();
                pending_off = 0;
                if (!opts.stdin_source(pending)) source_done = true;
                if (pending.empty()) continue;
            }
            if (pending_off == pending.size()) {
                int r = libssh2_channel_send_eof(ch);
                if (r == LIBSSH2_ERROR_EAGAIN) {
                    blocked = outbound_blocked() ? SendEof : None;
                    return progress;
                }
                if (r != 0 && s.note_failure(r)) fail(r, Kind::Channel, "closing stdin");
                eof_sent = true;  // a command that already exited may refuse EOF: fine
                blocked = None;
                return true;
            }
            ssize_t w = libssh2_channel_write(ch, pending.data() + pending_off,
                                              pending.size() - pending_off);
            if (w > 0) {
                pending_off += size_t(w);
                progress = true;
                blocked = None;
            } else if (w == LIBSSH2_ERROR_EAGAIN) {
                blocked = outbound_blocked() ? Write : None;
                return progress;
            } else {
                if (s.note_failure(int(w))) fail(int(w), Kind::Channel, "writing stdin");
                // The command closed its stdin (exited without reading): drop the rest.
                eof_sent = true;
                blocked = None;
                return progress;
            }
        }
        return progress;
    };

    for (;;) {
        bool progress = false;
        switch (blocked) {
            case ReadOut: progress = read_stream(0, ReadOut); break;
            case ReadErr: progress = read_stream(SSH_EXTENDED_DATA_STDERR, ReadErr); break;
            case Write:
            case SendEof: progress = write_stdin(); break;
            case None:
                progress = read_stream(0, ReadOut);
                if (blocked == None) progress |= read_stream(SSH_EXTENDED_DATA_STDERR, ReadErr);
                if (blocked == None) progress |= write_stdin();
                break;
        }
        if (blocked == None && libssh2_channel_eof(ch)) break;
        if (Clock::now() >= deadline || (opts.expired && opts.expired())) {
            res.timed_out = true;
            break;
        }
        if (!progress) {
            // With an expiry callback, wake up at least every 100 ms to ask it.
            auto until = deadline;
            if (opts.expired) until = std::min(deadline, Clock::now() + milliseconds(100));
            if (!s.wait(until) && until == deadline) {
                res.timed_out = true;
                break;
            }
        }
    }

    if (res.timed_out) {
        // Drop the channel without waiting long for its close, then kill the command's
        // process group from a second channel (sshd leaves it running otherwise).
        auto grace = Clock::now() + milliseconds(500);
        s.call([&] { return libssh2_channel_close(ch); }, grace);
        if (!pid_line.empty() && pid_line.size() < 12 &&
            pid_line.find_first_not_of("0123456789") == std::string::npos) {
            RunOptions kill_opts;
            kill_opts.timeout = std::chrono::seconds(2);
            run("kill -9 -- -" + pid_line + " 2>/dev/null || kill -9 " + pid_line +
                    " 2>/dev/null; true",
                kill_opts);
        }
        res.exit_status = -1;
        finish_timing();
        if (opts.on_output) {
            if (res.out.size() > kStreamKeep) res.out.erase(0, res.out.size() - kStreamKeep);
            if (res.err.size() > kStreamKeep) res.err.erase(0, res.err.size() - kStreamKeep);
        }
        return res;
    }

    // Drain anything that arrived with the EOF, then collect the exit status.
    read_stream(0, ReadOut);
    read_stream(SSH_EXTENDED_DATA_STDERR, ReadErr);
    rc = s.call([&] { return libssh2_channel_close(ch); }, deadline);
    if (rc == 0) rc = s.call([&] { return libssh2_channel_wait_closed(ch); }, deadline);
    if (rc == LIBSSH2_ERROR_TIMEOUT) {
        res.timed_out = true;
    } else if (rc != 0) {
        fail(rc, Kind::Channel, "closing channel");
    } else {
        res.exit_status = libssh2_channel_get_exit_status(ch);
        char* sig = nullptr;
        size_t sig_len = 0;
        libssh2_channel_get_exit_signal(ch, &sig, &sig_len, nullptr, nullptr, nullptr, nullptr);
        if (sig) {
            res.exit_status = -1;
            libssh2_free(sess, sig);
        }
    }
    if (opts.on_output) {
        if (res.out.size() > kStreamKeep) res.out.erase(0, res.out.size() - kStreamKeep);
        if (res.err.size() > kStreamKeep) res.err.erase(0, res.err.size() - kStreamKeep);
    }
    finish_timing();
    return res;
}

LIBSSH2_SFTP* SshTransport::sftp() {
    SshSession& s = session();
    if (sftp_) return sftp_;
    s.touch();
    sftp_ = s.call_ptr<LIBSSH2_SFTP>([&] { return libssh2_sftp_init(s.get()); }, kNoDeadline);
    if (!sftp_) fail(libssh2_session_last_errno(s.get()), Kind::Io, "cannot start SFTP");
    return sftp_;
}

LIBSSH2_SFTP_HANDLE* SshTransport::open_for_write(const std::string& path, unsigned long* status) {
    SshSession& s = session();
    LIBSSH2_SFTP* sf = sftp();
    auto* h = s.call_ptr<LIBSSH2_SFTP_HANDLE>(
        [&] {
            return libssh2_sftp_open_ex(sf, path.c_str(), unsigned(path.size()),
                                        LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL,
                                        0600, LIBSSH2_SFTP_OPENFILE);
        },
        kNoDeadline);
    if (h) return h;
    int err = libssh2_session_last_errno(s.get());
    if (err != LIBSSH2_ERROR_SFTP_PROTOCOL) fail(err, Kind::Io, "cannot create " + path);
    *status = libssh2_sftp_last_error(sf);
    return nullptr;
}

void SshTransport::write_all(LIBSSH2_SFTP_HANDLE* h, const std::string& path, const Reader& read) {
    SshSession& s = session();
    std::vector<char> buf(256 * 1024);
    for (;;) {
        size_t n = read(buf.data(), buf.size());
        if (n == 0) return;
        size_t off = 0;
        while (off < n) {
            int rc = s.call([&] { return libssh2_sftp_write(h, buf.data() + off, n - off); },
                            kNoDeadline);
            if (rc < 0) {
                if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL)
                    throw TransportError(Kind::Io, "writing " + path + " on " + s.label() + ": " +
                                                       sftp_status(libssh2_sftp_last_error(sftp_)));
                fail(rc, Kind::Io, "writing " + path);
            }
            off += size_t(rc);
        }
    }
}

void SshTransport::close_handle(LIBSSH2_SFTP_HANDLE* h) {
    SshSession& s = session();
    int rc = s.call([&] { return libssh2_sftp_close_handle(h); }, kNoDeadline);
    if (rc != 0) fail(rc, Kind::Io, "closing remote file");
}

void SshTransport::finish(const std::string& script, const std::string& path) {
    RunResult r = run(script, {});
    if (r.exit_status != 0)
        throw TransportError(Kind::Io, "cannot install " + path + " on " + s_->label() + ": " +
                                           (r.err.empty() ? "exit status " +
                                                                std::to_string(r.exit_status)
                                                          : r.err));
}

// Upload: SFTP into a temp file beside the target, then one command that sets mode and
// owner and renames it into place (rename(2) is atomic; SFTP v3 rename cannot overwrite and
// libssh2 1.10 lacks posix-rename@openssh.com). A non-root user who may not write there
// uploads to /tmp instead and lets `sudo -n` install it, still via a temp name and rename.
void SshTransport::put(const std::string& path, const FileOptions& opts, const Reader& read,
                       const std::function<void()>& rewind) {
    SshSession& s = session();
    const bool root = s.config().user == "root";
    const bool needs_root = !opts.owner.empty() || !opts.group.empty();
    const std::string tmp = dir_of(path) + "/." + base_of(path) + ".decamp-" + random_suffix();
    std::string chown_to = opts.owner;
    if (!opts.group.empty()) chown_to += ":" + opts.group;

    LIBSSH2_SFTP_HANDLE* h = nullptr;
    unsigned long status = 0;
    if (root || !needs_root) h = open_for_write(tmp, &status);
    if (h || root) {
        if (!h)
            throw TransportError(Kind::Io, "cannot upload " + path + " to " + s.label() + ": " +
                                               sftp_status(status));
        try {
            write_all(h, tmp, read);
        } catch (...) {
            if (!s.broken()) {
                libssh2_sftp_close_handle(h);
                run("rm -f -- " + shell::quote(tmp), {});
            }
            throw;
        }
        close_handle(h);
        std::vector<std::string> steps;
        if (!opts.mode.empty()) steps.push_back("chmod " + shell::quote(opts.mode) + " -- " + shell::quote(tmp));
        if (!chown_to.empty()) steps.push_back("chown " + shell::quote(chown_to) + " -- " + shell::quote(tmp));
        steps.push_back("mv -f -- " + shell::quote(tmp) + " " + shell::quote(path));
        finish(shell::all_of(steps) + " || { rc=$?; rm -f -- " + shell::quote(tmp) + "; exit $rc; }",
               path);
        return;
    }
    if (status != LIBSSH2_FX_PERMISSION_DENIED && !needs_root)
        throw TransportError(Kind::Io, "cannot upload " + path + " to " + s.label() + ": " +
                                           sftp_status(status));

    // Not root and not allowed to write there: stage in /tmp, install with sudo.
    rewind();
    const std::string staged = "/tmp/.decamp-upload-" + random_suffix();
    h = open_for_write(staged, &status);
    if (!h)
        throw TransportError(Kind::Io, "cannot stage upload of " + path + " in /tmp on " +
                                           s.label() + ": " + sftp_status(status));
    try {
        write_all(h, staged, read);
    } catch (...) {
        if (!s.broken()) {
            libssh2_sftp_close_handle(h);
            run("rm -f -- " + shell::quote(staged), {});
        }
        throw;
    }
    close_handle(h);
    shell::Argv install = {"install"};
    if (!opts.mode.empty()) install.insert(install.end(), {"-m", opts.mode});
    if (!opts.owner.empty()) install.insert(install.end(), {"-o", opts.owner});
    if (!opts.group.empty()) install.insert(install.end(), {"-g", opts.group});
    install.insert(install.end(), {"--", staged, tmp});
    std::string script = shell::all_of({shell::join(install),
                                        shell::join({"mv", "-f", "--", tmp, path})}) +
                         " || { rc=$?; rm -f -- " + shell::quote(tmp) + "; exit $rc; }";
    finish("sudo -n sh -c " + shell::quote(script) + "; rc=$?; rm -f -- " + shell::quote(staged) +
               "; exit $rc",
           path);
}

std::string SshTransport::download(const std::string& remote_path) {
    SshSession& s = session();
    LIBSSH2_SFTP* sf = sftp();
    auto* h = s.call_ptr<LIBSSH2_SFTP_HANDLE>(
        [&] {
            return libssh2_sftp_open_ex(sf, remote_path.c_str(), unsigned(remote_path.size()),
                                        LIBSSH2_FXF_READ, 0, LIBSSH2_SFTP_OPENFILE);
        },
        kNoDeadline);
    if (!h) {
        int err = libssh2_session_last_errno(s.get());
        if (err != LIBSSH2_ERROR_SFTP_PROTOCOL) fail(err, Kind::Io, "cannot open " + remote_path);
        unsigned long status = libssh2_sftp_last_error(sf);
        if (status == LIBSSH2_FX_PERMISSION_DENIED && s.config().user != "root") {
            RunResult r = run("sudo -n cat -- " + shell::quote(remote_path), {});
            if (r.exit_status == 0) return r.out;
            throw TransportError(Kind::Io, "cannot read " + remote_path + " on " + s.label() +
                                               " (permission denied, and sudo -n cat failed: " +
                                               r.err + ")");
        }
        throw TransportError(Kind::Io, "cannot read " + remote_path + " on " + s.label() + ": " +
                                           sftp_status(status));
    }
    std::string out;
    std::vector<char> buf(256 * 1024);
    for (;;) {
        ssize_t n = s.call([&] { return libssh2_sftp_read(h, buf.data(), buf.size()); }, kNoDeadline);
        if (n == 0) break;
        if (n < 0) {
            if (!s.note_failure(int(n))) libssh2_sftp_close_handle(h);
            fail(int(n), Kind::Io, "reading " + remote_path);
        }
        out.append(buf.data(), size_t(n));
    }
    close_handle(h);
    return out;
}

}  // namespace

std::unique_ptr<Transport> connect_ssh(const SshConfig& cfg) {
    auto s = std::make_unique<SshSession>(cfg);
    s->verify_host_key();
    s->authenticate();
    auto t = std::make_unique<SshTransport>(std::move(s));
    const bool v6 = cfg.address.find(':') != std::string::npos;
    t->set_describe(cfg.user + "@" + (v6 ? "[" + cfg.address + "]" : cfg.address) + ":" +
                    std::to_string(cfg.port));
    return t;
}

std::string scan_host_key(const SshConfig& cfg) {
    SshSession s(cfg);
    return s.host_key_line();
}

}  // namespace decamp::transport
