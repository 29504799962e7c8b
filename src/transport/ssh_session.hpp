// Internal to transport/: one libssh2 session on one socket, always in non-blocking mode.
// Every libssh2 call goes through call()/call_ptr(), which poll the socket in the direction
// libssh2 is blocked on, send keepalives, and give up at a deadline or when the peer has gone
// silent. Only transport .cpp files include this header (it pulls in libssh2.h).
#pragma once

#include <libssh2.h>

#include <chrono>
#include <memory>
#include <string>

#include "transport/transport.hpp"

namespace decamp::transport::detail {

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point kNoDeadline = Clock::time_point::max();

class Tunnel;  // ssh_tunnel.cpp: the jump-host pump

// "web1 (127.0.0.1:2222)", or "127.0.0.1:2222" when the config has no name.
std::string host_label(const SshConfig& cfg);

class SshSession {
public:
    // TCP connect (directly, or through cfg.jump) and SSH handshake. Throws Unreachable.
    explicit SshSession(const SshConfig& cfg);
    ~SshSession();
    SshSession(const SshSession&) = delete;
    SshSession& operator=(const SshSession&) = delete;

    // Throws HostKey; with strict_host_keys false, records an unknown host (accept-new).
    void verify_host_key();
    // verify_host_key for a host of the trust store (SshConfig::trust).
    void verify_trusted(const std::string& key_type, std::string_view blob, const std::string& seen);
    void authenticate();     // throws Auth
    std::string host_key_line() const;  // known_hosts line for the key the server presented

    LIBSSH2_SESSION* get() const { return session_; }
    int fd() const { return fd_; }
    const SshConfig& config() const { return cfg_; }
    std::string label() const { return host_label(cfg_); }

    // Run fn until it returns something other than LIBSSH2_ERROR_EAGAIN, waiting on the
    // socket in between. Returns LIBSSH2_ERROR_TIMEOUT at the deadline.
    template <class F>
    int call(F&& fn, Clock::time_point deadline) {
        for (;;) {
            int rc = static_cast<int>(fn());
            if (rc != LIBSSH2_ERROR_EAGAIN) return rc;
            if (!wait(deadline)) return LIBSSH2_ERROR_TIMEOUT;
        }
    }
    // Same for calls that return a pointer and signal EAGAIN through last_errno. On failure
    // returns nullptr; last_error() explains (or timed_out is set).
    template <class T, class F>
    T* call_ptr(F&& fn, Clock::time_point deadline, bool* timed_out = nullptr) {
        for (;;) {
            T* p = fn();
            if (p) return p;
            if (libssh2_session_last_errno(session_) != LIBSSH2_ERROR_EAGAIN) return nullptr;
            if (!wait(deadline)) {
                if (timed_out) *timed_out = true;
                return nullptr;
            }
        }
    }

    // Block until the socket is ready for what libssh2 waits on. False at the deadline.
    // Throws TransportError(Io) when keepalives have gone unanswered (dead peer).
    bool wait(Clock::time_point deadline);
    // Start of an operation: the silence clock for dead-peer detection restarts here.
    void touch() { last_rx_ = Clock::now(); }

    std::string last_error() const;  // libssh2's message for the last failure
    // Marks the session unusable when rc says the connection itself is gone.
    bool note_failure(int rc);
    bool broken() const { return broken_; }
    [[noreturn]] void fail(TransportError::Kind kind, const std::string& what);

private:
    void start();
    void enable_keepalive();
    void release() noexcept;
    void open_socket();

    SshConfig cfg_;
    int fd_ = -1;
    LIBSSH2_SESSION* session_ = nullptr;
    std::unique_ptr<Tunnel> tunnel_;
    Clock::time_point last_rx_ = Clock::now();
    bool broken_ = false;
    bool keepalive_on_ = false;
    bool tcp_ = false;  // false for the socketpair of a jump-host tunnel
};

// Owns the bastion session and the thread that copies bytes between a socketpair and a
// direct-tcpip channel on it. Defined in ssh_tunnel.cpp.
class Tunnel {
public:
    // Connects to the bastion (verified and authenticated), opens direct-tcpip to
    // target:port. Throws Unreachable naming both hosts.
    Tunnel(const SshConfig& bastion, const SshConfig& target, Clock::time_point deadline);
    ~Tunnel();
    int fd() const { return local_fd_; }  // the target session's socket

private:
    void pump();
    struct State;
    std::unique_ptr<State> st_;
    int local_fd_ = -1;
};

void ensure_libssh2_init();

}  // namespace decamp::transport::detail
