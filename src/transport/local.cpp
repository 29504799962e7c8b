// The local transport: commands run as `sh -c` children of this process (Boost.Process v1),
// files are moved on the local filesystem. Output pipes are drained with asio so a command
// that fills stderr while we wait on stdout cannot deadlock.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>  // before Boost 1.74 asio: its awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>

#include "transport/transport.hpp"

namespace decamp::transport {

namespace {

namespace bp = boost::process;
namespace asio = boost::asio;
using Kind = TransportError::Kind;
using Clock = std::chrono::steady_clock;

constexpr size_t kStreamKeep = 64 * 1024;

// The child leads its own process group, so a timeout kills the whole pipeline, and gets
// SIGPIPE back at its default (this process ignores it, see make_local).
struct ChildSetup : bp::extend::handler {
    template <class Exec>
    void on_exec_setup(Exec&) const {
        ::setpgid(0, 0);
        ::signal(SIGPIPE, SIG_DFL);
        // Runs after the stdio redirections. A fork in another thread can happen between a
        // pipe's creation and its close-on-exec flag (set_cloexec below is not atomic with
        // pipe()): close every inherited descriptor above stdio, so no child ever holds
        // another command's pipe open (which would keep that reader from seeing EOF).
        // Boost's exec-error pipe goes too: /bin/sh always exists, so nothing is lost.
        if (::syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
            long max = ::sysconf(_SC_OPEN_MAX);
            for (int fd = 3; fd < (max > 0 ? max : 4096); ++fd) ::close(fd);
        }
    }
};

void set_cloexec(int fd) {
    if (fd >= 0) ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);
}

[[noreturn]] void io_error(const std::string& what, int err = errno) {
    throw TransportError(Kind::Io, what + ": " + std::strerror(err));
}

uid_t resolve_user(const std::string& name) {
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
        return uid_t(std::stoul(name));
    passwd* pw = ::getpwnam(name.c_str());
    if (!pw) throw TransportError(Kind::Io, "unknown user " + name);
    return pw->pw_uid;
}

gid_t resolve_group(const std::string& name) {
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
        return gid_t(std::stoul(name));
    group* gr = ::getgrnam(name.c_str());
    if (!gr) throw TransportError(Kind::Io, "unknown group " + name);
    return gr->gr_gid;
}

class LocalTransport final : public Transport {
public:
    RunResult run(const std::string& command, const RunOptions& opts) override;
    void upload(std::string_view content, const std::string& path, const FileOptions& opts) override {
        write_atomic(path, opts, [&](int fd) {
            size_t off = 0;
            while (off < content.size()) {
                ssize_t w = ::write(fd, content.data() + off, content.size() - off);
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) io_error("writing " + path);
                off += size_t(w);
            }
        });
    }
    void upload_file(const std::filesystem::path& local, const std::string& path,
                     const FileOptions& opts) override {
        std::ifstream in(local, std::ios::binary);
        if (!in) io_error("cannot read " + local.string());
        write_atomic(path, opts, [&](int fd) {
            std::vector<char> buf(256 * 1024);
            while (in) {
                in.read(buf.data(), std::streamsize(buf.size()));
                size_t n = size_t(in.gcount()), off = 0;
                while (off < n) {
                    ssize_t w = ::write(fd, buf.data() + off, n - off);
                    if (w < 0 && errno == EINTR) continue;
                    if (w < 0) io_error("writing " + path);
                    off += size_t(w);
                }
            }
            if (in.bad()) io_error("reading " + local.string());
        });
    }
    std::string download(const std::string& path) override {
        std::ifstream in(path, std::ios::binary);
        if (!in) io_error("cannot read " + path);
        std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (in.bad()) io_error("reading " + path);
        return out;
    }
    void close() override {}
    std::string describe() const override { return "local"; }

private:
    void write_atomic(const std::string& path, const FileOptions& opts,
                      const std::function<void(int fd)>& fill);
};

void LocalTransport::write_atomic(const std::string& path, const FileOptions& opts,
                                  const std::function<void(int fd)>& fill) {
    std::filesystem::path target(path);
    std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
    std::string tmpl = (dir / ("." + target.filename().string() + ".decamp-XXXXXX")).string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) io_error("cannot create a temp file beside " + path);
    try {
        fill(fd);
        mode_t mode = 0644;
        if (!opts.mode.empty()) mode = mode_t(std::stoul(opts.mode, nullptr, 8));
        if (::fchmod(fd, mode) != 0) io_error("chmod " + path);
        if (!opts.owner.empty() || !opts.group.empty()) {
            uid_t uid = opts.owner.empty() ? uid_t(-1) : resolve_user(opts.owner);
            gid_t gid = opts.group.empty() ? gid_t(-1) : resolve_group(opts.group);
            if (::fchown(fd, uid, gid) != 0) io_error("chown " + path);
        }
        if (::close(fd) != 0) {
            fd = -1;
            io_error("writing " + path);
        }
        fd = -1;
        if (::rename(tmpl.c_str(), path.c_str()) != 0) io_error("rename into " + path);
    } catch (...) {
        if (fd >= 0) ::close(fd);
        ::unlink(tmpl.c_str());
        throw;
    }
}

RunResult LocalTransport::run(const std::string& command, const RunOptions& opts) {
    RunResult res;
    const auto start = Clock::now();
    asio::io_context io;
    bp::async_pipe in(io), out(io), err(io);
    // Other threads may fork at any moment; our pipe ends must not leak into their children
    // (a leaked write end would keep a reader here from ever seeing EOF).
    for (auto* p : {&in, &out, &err}) {
        set_cloexec(p->native_source());
        set_cloexec(p->native_sink());
    }
    std::error_code ec;
    bp::child child(bp::exe = "/bin/sh", bp::args = {"-c", command}, bp::std_in < in,
                    bp::std_out > out, bp::std_err > err, ChildSetup{}, ec);
    if (ec) throw TransportError(Kind::Io, "cannot run /bin/sh: " + ec.message());
    const pid_t pid = child.id();

    std::array<char, 65536> out_buf, err_buf;
    asio::steady_timer timer(io);
    int open_reads = 2;
    auto deliver = [&](std::string& dst, const char* p, size_t n, bool is_err) {
        dst.append(p, n);
        if (opts.on_output) {
            opts.on_output(std::string_view(p, n), is_err);
            if (dst.size() > 2 * kStreamKeep) dst.erase(0, dst.size() - kStreamKeep);
        }
    };
    std::function<void(bp::async_pipe&, std::array<char, 65536>&, std::string&, bool)> pump =
        [&](bp::async_pipe& pipe, std::array<char, 65536>& buf, std::string& dst, bool is_err) {
            pipe.async_read_some(asio::buffer(buf), [&, is_err](const boost::system::error_code& e,
                                                                size_t n) {
                if (n) deliver(dst, buf.data(), n, is_err);
                if (!e) return pump(pipe, buf, dst, is_err);
                if (--open_reads == 0) timer.cancel();  // both at EOF: the run is over
            });
        };
    pump(out, out_buf, res.out, false);
    pump(err, err_buf, res.err, true);

    std::string chunk = opts.stdin_data;
    bool source_done = !opts.stdin_source;
    std::function<void()> feed = [&] {
        while (chunk.empty() && !source_done) {
            if (!opts.stdin_source(chunk)) source_done = true;
        }
        if (chunk.empty()) {
            in.close();  // EOF for the child
            return;
        }
        asio::async_write(in, asio::buffer(chunk), [&](const boost::system::error_code& e, size_t) {
            chunk.clear();
            if (e) {
                in.close();  // the child stopped reading (EPIPE): drop the rest
                return;
            }
            feed();
        });
    };
    feed();

    const auto deadline = opts.timeout.count() > 0 ? start + opts.timeout : Clock::time_point::max();
    std::function<void()> arm;
    arm = [&] {
        // With an expiry callback the timer ticks every 100 ms to ask it.
        if (opts.expired) timer.expires_after(std::chrono::milliseconds(100));
        else timer.expires_at(deadline);
        timer.async_wait([&](const boost::system::error_code& e) {
            if (e || open_reads == 0) return;
            if (Clock::now() < deadline && !(opts.expired && opts.expired())) return arm();
            res.timed_out = true;
            ::kill(-pid, SIGKILL);
            // A grandchild that left the group could hold the pipes open: stop reading soon.
            timer.expires_after(std::chrono::milliseconds(500));
            timer.async_wait([&](const boost::system::error_code& e2) {
                if (e2) return;
                boost::system::error_code ignore;
                out.close(ignore);
                err.close(ignore);
                in.close(ignore);
            });
        });
    };
    if (opts.timeout.count() > 0 || opts.expired) arm();
    try {
        io.run();
    } catch (...) {
        ::kill(-pid, SIGKILL);
        child.wait();
        throw;
    }
    child.wait();
    int status = child.native_exit_code();
    res.exit_status = res.timed_out ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    res.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    if (opts.on_output) {
        if (res.out.size() > kStreamKeep) res.out.erase(0, res.out.size() - kStreamKeep);
        if (res.err.size() > kStreamKeep) res.err.erase(0, res.err.size() - kStreamKeep);
    }
    return res;
}

}  // namespace

std::unique_ptr<Transport> make_local() {
    // Writing to a pipe whose reader has exited must be an error (EPIPE), not death.
    static std::once_flag once;
    std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
    return std::make_unique<LocalTransport>();
}

}  // namespace decamp::transport
