// Jump hosts. libssh2 can open a direct-tcpip channel on the bastion, but a libssh2 session
// only runs over a socket file descriptor (it calls recv/send and we poll it). So the target's
// session gets one end of a socketpair, and a pump thread copies bytes between the other end
// and the bastion channel. The bastion session belongs to the pump thread from then on: a
// libssh2 session must never be used by two threads at once.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "transport/ssh_session.hpp"

namespace decamp::transport::detail {

using Kind = TransportError::Kind;

struct Tunnel::State {
    std::unique_ptr<SshSession> bastion;
    LIBSSH2_CHANNEL* channel = nullptr;
    int pump_fd = -1;  // our end of the socketpair
    std::atomic<bool> stop{false};
    std::thread thread;
};

Tunnel::Tunnel(const SshConfig& bastion, const SshConfig& target, Clock::time_point deadline)
    : st_(std::make_unique<State>()) {
    const std::string via = "jump host for " + host_label(target) + ": ";
    try {
        st_->bastion = std::make_unique<SshSession>(bastion);
        st_->bastion->verify_host_key();
        st_->bastion->authenticate();
    } catch (const TransportError& e) {
        throw TransportError(e.kind(), via + e.what());
    }
    SshSession& b = *st_->bastion;
    bool timed_out = false;
    st_->channel = b.call_ptr<LIBSSH2_CHANNEL>(
        [&] {
            return libssh2_channel_direct_tcpip_ex(b.get(), target.address.c_str(), target.port,
                                                   "127.0.0.1", 0);
        },
        deadline, &timed_out);
    if (!st_->channel)
        throw TransportError(Kind::Unreachable,
                             "cannot connect to " + host_label(target) + " through " + b.label() +
                                 ": " + (timed_out ? std::string("timed out") : b.last_error()));
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        throw TransportError(Kind::Io, via + "socketpair: " + std::strerror(errno));
    st_->pump_fd = sv[0];
    local_fd_ = sv[1];
    st_->thread = std::thread([this] { pump(); });
}

Tunnel::~Tunnel() {
    // The target session has closed its end already; this wakes the pump if it has not
    // noticed yet.
    st_->stop = true;
    if (local_fd_ >= 0) ::shutdown(local_fd_, SHUT_RDWR);
    if (st_->thread.joinable()) st_->thread.join();
    if (local_fd_ >= 0) ::close(local_fd_);
    if (st_->channel) {
        SshSession& b = *st_->bastion;
        auto deadline = Clock::now() + std::chrono::milliseconds(300);
        try {
            if (!b.broken()) b.call([&] { return libssh2_channel_close(st_->channel); }, deadline);
        } catch (...) {
        }
        libssh2_channel_free(st_->channel);
    }
    if (st_->pump_fd >= 0) ::close(st_->pump_fd);
    // st_->bastion disconnects in its destructor.
}

void Tunnel::pump() {
    State& s = *st_;
    LIBSSH2_SESSION* sess = s.bastion->get();
    constexpr size_t kMaxBuffered = 1 << 20;
    std::string to_local, to_remote;
    size_t local_off = 0, remote_off = 0;
    bool remote_eof = false;
    // libssh2 insists that a half-sent packet is finished by repeating the same call.
    enum { None, Reading, Writing } pending = None;
    char buf[32768];

    while (!s.stop) {
        bool progress = false;
        if (pending != Writing && !remote_eof && to_local.size() - local_off < kMaxBuffered) {
            ssize_t n = libssh2_channel_read(s.channel, buf, sizeof buf);
            if (n > 0) {
                to_local.append(buf, size_t(n));
                progress = true;
                pending = None;
            } else if (n == LIBSSH2_ERROR_EAGAIN) {
                pending = (libssh2_session_block_directions(sess) & LIBSSH2_SESSION_BLOCK_OUTBOUND)
                              ? Reading
                              : None;
            } else if (n == 0) {
                pending = None;
                if (libssh2_channel_eof(s.channel)) remote_eof = true;
            } else {
                s.bastion->note_failure(int(n));
                break;
            }
        }
        if (local_off < to_local.size()) {
            ssize_t w = ::send(s.pump_fd, to_local.data() + local_off, to_local.size() - local_off,
                               MSG_NOSIGNAL);
            if (w > 0) {
                local_off += size_t(w);
                progress = true;
                if (local_off == to_local.size()) to_local.clear(), local_off = 0;
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                break;
            }
        }
        if (remote_eof && to_local.empty()) break;  // target went away: its session sees EOF

        if (to_remote.size() - remote_off < kMaxBuffered) {
            ssize_t r = ::recv(s.pump_fd, buf, sizeof buf, 0);
            if (r > 0) {
                to_remote.append(buf, size_t(r));
                progress = true;
            } else if (r == 0) {
                break;  // target session closed
            } else if (errno != EAGAIN && errno != EINTR) {
                break;
            }
        }
        if (pending != Reading && remote_off < to_remote.size()) {
            ssize_t w = libssh2_channel_write(s.channel, to_remote.data() + remote_off,
                                              to_remote.size() - remote_off);
            if (w > 0) {
                remote_off += size_t(w);
                progress = true;
                pending = None;
                if (remote_off == to_remote.size()) to_remote.clear(), remote_off = 0;
            } else if (w == LIBSSH2_ERROR_EAGAIN) {
                pending = (libssh2_session_block_directions(sess) & LIBSSH2_SESSION_BLOCK_OUTBOUND)
                              ? Writing
                              : None;
            } else {
                s.bastion->note_failure(int(w));
                break;
            }
        }
        if (progress) continue;

        int dirs = libssh2_session_block_directions(sess);
        int wait_ms = 200;
        if (pending == None && !(dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)) {
            int next = 0;
            if (libssh2_keepalive_send(sess, &next) == 0 && next > 0)
                wait_ms = std::min(wait_ms, next * 1000);
        }
        pollfd p[2];
        p[0] = {s.bastion->fd(), 0, 0};
        if (pending != Writing) p[0].events |= POLLIN;
        if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND) p[0].events |= POLLOUT;
        p[1] = {s.pump_fd, 0, 0};
        if (to_remote.size() - remote_off < kMaxBuffered) p[1].events |= POLLIN;
        if (local_off < to_local.size()) p[1].events |= POLLOUT;
        ::poll(p, 2, wait_ms);
    }
    ::shutdown(s.pump_fd, SHUT_RDWR);
}

}  // namespace decamp::transport::detail
