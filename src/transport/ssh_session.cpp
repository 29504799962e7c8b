// One SSH session: TCP connect with a timeout, handshake with fast algorithms first, strict
// host key check against known_hosts, and public key / agent authentication.
#include "transport/ssh_session.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "transport/crypto.hpp"
#include "transport/known_hosts.hpp"

namespace decamp::transport::detail {

using Kind = TransportError::Kind;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// KEX and host key algorithms, fastest first. libssh2 1.10 lacks rsa-sha2-* host keys;
// set_prefs filters names against the build, since method_pref's own stripping of unknown
// names does an overlapping memcpy in 1.10 (found by ASan).
constexpr const char* kKexPrefs =
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
    "diffie-hellman-group14-sha256";
constexpr const char* kHostKeyPrefs =
    "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256,ssh-rsa";

const char* key_type_name(int type) {
    switch (type) {
        case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa";
        case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss";
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256";
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384";
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521";
        case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519";
        default: return "unknown";
    }
}

std::string errno_reason(int err) {
    switch (err) {
        case ECONNREFUSED: return "connection refused";
        case ETIMEDOUT: return "connection timed out";
        case EHOSTUNREACH: return "no route to host";
        case ENETUNREACH: return "network is unreachable";
        default: return std::strerror(err);
    }
}

// True for PEM "RSA PRIVATE KEY" files and OpenSSH-format keys whose public part is ssh-rsa.
bool is_rsa_key(const std::string& path) {
    std::ifstream in(path);
    std::string line, body;
    bool openssh = false;
    while (std::getline(in, line)) {
        if (line.find("BEGIN RSA PRIVATE KEY") != std::string::npos) return true;
        if (line.find("BEGIN OPENSSH PRIVATE KEY") != std::string::npos) {
            openssh = true;
            continue;
        }
        if (line.find("-----END") != std::string::npos) break;
        if (openssh) body += line;
    }
    if (!openssh) return false;
    auto raw = base64_decode(body);
    return raw && raw->find("ssh-rsa") != std::string::npos;
}

void set_prefs(LIBSSH2_SESSION* session, int method, const std::string& prefs) {
    const char** algs = nullptr;
    int n = libssh2_session_supported_algs(session, method, &algs);
    std::string keep;
    size_t start = 0;
    while (start <= prefs.size()) {
        size_t comma = prefs.find(',', start);
        if (comma == std::string::npos) comma = prefs.size();
        std::string name = prefs.substr(start, comma - start);
        for (int i = 0; i < n; ++i)
            if (name == algs[i]) keep += (keep.empty() ? "" : ",") + name;
        start = comma + 1;
    }
    if (n > 0 && algs) libssh2_free(session, algs);
    if (!keep.empty()) libssh2_session_method_pref(session, method, keep.c_str());
}

}  // namespace

void ensure_libssh2_init() {
    // libssh2_init is not thread-safe; every session creation goes through here first.
    static std::once_flag once;
    std::call_once(once, [] {
        if (libssh2_init(0) != 0) throw TransportError(Kind::Io, "libssh2_init failed");
    });
}

std::string host_label(const SshConfig& cfg) {
    std::string addr = cfg.address.find(':') != std::string::npos
                           ? "[" + cfg.address + "]:" + std::to_string(cfg.port)
                           : cfg.address + ":" + std::to_string(cfg.port);
    if (cfg.name.empty() || cfg.name == cfg.address) return addr;
    return cfg.name + " (" + addr + ")";
}

SshSession::SshSession(const SshConfig& cfg) : cfg_(cfg) {
    try {
        start();
    } catch (...) {
        release();
        throw;
    }
}

void SshSession::start() {
    ensure_libssh2_init();
    auto deadline = Clock::now() + seconds(cfg_.connect_timeout_s > 0 ? cfg_.connect_timeout_s : 3600);
    if (cfg_.jump) {
        tunnel_ = std::make_unique<Tunnel>(*cfg_.jump, cfg_, deadline);
        fd_ = ::dup(tunnel_->fd());
    } else {
        open_socket();
    }
    session_ = libssh2_session_init();
    if (!session_) throw TransportError(Kind::Io, "cannot create SSH session for " + label());
    libssh2_session_set_blocking(session_, 0);
    set_prefs(session_, LIBSSH2_METHOD_KEX, kKexPrefs);
    set_prefs(session_, LIBSSH2_METHOD_HOSTKEY, kHostKeyPrefs);
    touch();
    int rc = call([&] { return libssh2_session_handshake(session_, fd_); }, deadline);
    if (rc == LIBSSH2_ERROR_TIMEOUT)
        throw TransportError(Kind::Unreachable,
                             "cannot connect to " + label() + ": SSH handshake timed out after " +
                                 std::to_string(cfg_.connect_timeout_s) + "s");
    if (rc != 0)
        throw TransportError(Kind::Unreachable,
                             "cannot connect to " + label() + ": SSH handshake failed: " +
                                 last_error());
}

SshSession::~SshSession() { release(); }

void SshSession::release() noexcept {
    if (session_) {
        if (!broken_) {
            auto deadline = Clock::now() + milliseconds(300);
            try {
                call([&] { return libssh2_session_disconnect(session_, "decamp done"); }, deadline);
            } catch (...) {
            }
        }
        // With the socket shut down every pending send fails at once, so session_free can
        // neither block nor return EAGAIN on a dead peer.
        if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
        while (libssh2_session_free(session_) == LIBSSH2_ERROR_EAGAIN) {
        }
        session_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    tunnel_.reset();
}

void SshSession::open_socket() {
    auto deadline = Clock::now() + seconds(cfg_.connect_timeout_s > 0 ? cfg_.connect_timeout_s : 3600);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    std::string port = std::to_string(cfg_.port);
    int gai = ::getaddrinfo(cfg_.address.c_str(), port.c_str(), &hints, &res);
    if (gai != 0)
        throw TransportError(Kind::Unreachable, "cannot connect to " + label() +
                                                    ": cannot resolve address: " +
                                                    ::gai_strerror(gai));
    std::string reason = "no address";
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          ai->ai_protocol);
        if (fd < 0) {
            reason = errno_reason(errno);
            continue;
        }
        int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        int err = rc == 0 ? 0 : errno;
        if (err == EINPROGRESS) {
            for (;;) {
                auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
                if (left.count() <= 0) {
                    err = ETIMEDOUT;
                    break;
                }
                pollfd p{fd, POLLOUT, 0};
                int pr = ::poll(&p, 1, int(left.count()));
                if (pr < 0 && errno == EINTR) continue;
                if (pr <= 0) {
                    err = pr == 0 ? ETIMEDOUT : errno;
                    break;
                }
                socklen_t len = sizeof err;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                break;
            }
        }
        if (err == 0) {
            // Commands are small request/response exchanges: Nagle would add 40 ms each.
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            fd_ = fd;
            tcp_ = true;
            break;
        }
        ::close(fd);
        reason = err == ETIMEDOUT && Clock::now() >= deadline
                     ? "timed out after " + std::to_string(cfg_.connect_timeout_s) + "s"
                     : errno_reason(err);
    }
    ::freeaddrinfo(res);
    if (fd_ < 0) throw TransportError(Kind::Unreachable, "cannot connect to " + label() + ": " + reason);
}

bool SshSession::wait(Clock::time_point deadline) {
    for (;;) {
        auto now = Clock::now();
        if (now >= deadline) return false;
        int dirs = libssh2_session_block_directions(session_);
        long long timeout_ms = 60'000;
        if (deadline != kNoDeadline)
            timeout_ms = std::chrono::duration_cast<milliseconds>(deadline - now).count() + 1;
        if (keepalive_on_) {
            // Keepalives ask for a reply, so a live server always makes the socket readable
            // within a keepalive interval; three intervals of silence means it is gone.
            auto limit = seconds(3 * cfg_.keepalive_s);
            if (now - last_rx_ > limit) {
                broken_ = true;
                fail(Kind::Io, "connection to " + label() + " lost: no answer to keepalives for " +
                                   std::to_string(3 * cfg_.keepalive_s) + "s");
            }
            // Never while a packet is half sent: libssh2 rejects a different packet then.
            if (!(dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)) {
                int next = 0;
                libssh2_keepalive_send(session_, &next);
            }
            timeout_ms = std::min<long long>(timeout_ms, 1000);
        }
        short events = 0;
        if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND) events |= POLLIN;
        if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND) events |= POLLOUT;
        if (events == 0) events = POLLIN;
        // sshd leaves Nagle on for sessions without a pty, so its small replies (channel
        // success, exit-status, EOF, close) wait for our ACK; delayed ACKs would cost ~40 ms
        // each. Quick-ACK mode is not sticky in Linux, hence re-armed before every wait.
        if (tcp_) {
            int one = 1;
            ::setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        }
        pollfd p{fd_, events, 0};
        int r = ::poll(&p, 1, int(timeout_ms));
        if (r < 0) {
            if (errno == EINTR) continue;
            broken_ = true;
            fail(Kind::Io, "poll on connection to " + label() + " failed: " + std::strerror(errno));
        }
        if (r > 0) {
            last_rx_ = Clock::now();
            return true;
        }
    }
}

std::string SshSession::last_error() const {
    char* msg = nullptr;
    int len = 0;
    libssh2_session_last_error(session_, &msg, &len, 0);
    return msg && len > 0 ? std::string(msg, size_t(len)) : std::string("unknown error");
}

bool SshSession::note_failure(int rc) {
    switch (rc) {
        case LIBSSH2_ERROR_SOCKET_SEND:
        case LIBSSH2_ERROR_SOCKET_RECV:
        case LIBSSH2_ERROR_SOCKET_DISCONNECT:
        case LIBSSH2_ERROR_SOCKET_TIMEOUT:
        case LIBSSH2_ERROR_BANNER_RECV:
        case LIBSSH2_ERROR_DECRYPT:
        case LIBSSH2_ERROR_PROTO:
        case LIBSSH2_ERROR_BAD_USE:
        case LIBSSH2_ERROR_KEX_FAILURE:
            broken_ = true;
            return true;
        default:
            return false;
    }
}

void SshSession::fail(Kind kind, const std::string& what) { throw TransportError(kind, what); }

std::string SshSession::host_key_line() const {
    size_t len = 0;
    int type = 0;
    const char* key = libssh2_session_hostkey(session_, &len, &type);
    if (!key) throw TransportError(Kind::HostKey, "no host key from " + label());
    return known_hosts::format_line(cfg_.address, cfg_.port, key_type_name(type), std::string_view(key, len));
}

void SshSession::verify_host_key() {
    size_t len = 0;
    int type = 0;
    const char* key = libssh2_session_hostkey(session_, &len, &type);
    if (!key) throw TransportError(Kind::HostKey, "no host key from " + label());
    const std::string_view blob(key, len);
    const std::string key_name = key_type_name(type);
    const std::string seen = key_name + " " + fingerprint_sha256(blob);
    const std::string file = cfg_.known_hosts.empty() ? "known_hosts" : cfg_.known_hosts;
    const std::string who = cfg_.name.empty() ? cfg_.address : cfg_.name;
    const std::string pin_hint = "; to trust it, verify the fingerprint out of band and pin it with "
                                 "`decamp hostkeys scan --limit " + who + "`";
    if (cfg_.trust) return verify_trusted(key_name, blob, seen);
    if (cfg_.known_hosts.empty())
        throw TransportError(Kind::HostKey,
                             "host key of " + label() + " is " + seen + " but no known_hosts file is configured" +
                                 (cfg_.strict_host_keys ? pin_hint
                                                        : " (ssh.strict_host_keys: false records new hosts' keys "
                                                          "there; set ssh.known_hosts)"));

    // The same parser and matcher as `decamp hostkeys scan` (known_hosts.hpp).
    known_hosts::File kh = known_hosts::read_file(cfg_.known_hosts);
    if (!kh.errors.empty())
        throw TransportError(Kind::HostKey, "cannot check the host key of " + label() + ": " + kh.errors.front() +
                                                (kh.errors.size() > 1 ? " (and " + std::to_string(kh.errors.size() - 1) +
                                                                            " more bad lines)" : ""));
    auto c = known_hosts::check(kh, cfg_.address, cfg_.port, key_type_name(type), blob);
    switch (c.verdict) {
        case known_hosts::Verdict::Match:
            return;
        case known_hosts::Verdict::Revoked:
            throw TransportError(Kind::HostKey, "REVOKED host key for " + label() + ": the server presented " + seen +
                                                    ", which " + file + ":" + std::to_string(c.entry->line) +
                                                    " marks @revoked; refusing to connect");
        case known_hosts::Verdict::CertOnly:
            throw TransportError(
                Kind::HostKey,
                "host key of " + label() + " (" + seen + ") can only be trusted through the @cert-authority line " +
                    file + ":" + std::to_string(c.entry->line) +
                    ", but decamp cannot verify host certificates (libssh2 does not support them); "
                    "pin the host's own key instead (verify it out of band, then `decamp hostkeys scan --limit " +
                    who + "` after removing the host from the @cert-authority line's patterns)");
        case known_hosts::Verdict::Mismatch: {
            std::string expected;
            for (const auto* e : c.pinned)
                expected += (expected.empty() ? "" : ", ") + e->key_type + " " + fingerprint_sha256(e->key) + " (" +
                            file + ":" + std::to_string(e->line) + ")";
            throw TransportError(
                Kind::HostKey,
                "HOST KEY MISMATCH for " + label() + ": the server presented " + seen + " but " + file +
                    " expects " + expected +
                    ". The host may have been reinstalled, or someone is intercepting the connection. "
                    "Do not add the new key next to the old one: verify the new fingerprint out of band, "
                    "then remove the old entry (`ssh-keygen -R '" + known_hosts::host_field(cfg_.address, cfg_.port) +
                    "' -f " + file + "`) and pin the new key with `decamp hostkeys scan --limit " + who + "`");
        }
        case known_hosts::Verdict::Unknown:
            break;
    }
    if (cfg_.strict_host_keys)
        throw TransportError(Kind::HostKey,
                             "unknown host key for " + label() + ": " + seen + " is not in " + file + pin_hint);
    // strict_host_keys: false is OpenSSH's accept-new: a host with no entry gets one.
    try {
        known_hosts::append(cfg_.known_hosts,
                            {known_hosts::format_line(cfg_.address, cfg_.port, key_type_name(type), blob)});
    } catch (const std::exception& e) {
        throw TransportError(Kind::HostKey, "new host " + label() + " (" + seen + ") cannot be recorded: " + e.what());
    }
}

void SshSession::verify_trusted(const std::string& key_type, std::string_view blob, const std::string& seen) {
    const HostTrust& t = *cfg_.trust;
    const std::string server = t.provider + " server " + t.server_id;
    switch (judge(t, key_type, blob)) {
        case TrustVerdict::Match:
            return;
        case TrustVerdict::Mismatch: {
            std::string expected;
            for (const auto& k : t.keys) {
                auto f = known_hosts::parse("x " + k, "trust");
                if (f.entries.size() == 1)
                    expected += (expected.empty() ? "" : ", ") + f.entries[0].key_type + " " +
                                fingerprint_sha256(f.entries[0].key);
            }
            for (const auto& fp : t.fingerprints) expected += (expected.empty() ? "" : ", ") + fp;
            throw TransportError(Kind::HostKey,
                                 "HOST KEY MISMATCH for " + label() + ": the server presented " + seen +
                                     " but " + server + " is trusted with " + expected + " (" + t.provenance +
                                     "). Refusing to connect: decamp replaces a server's key only after a "
                                     "reinstall it started itself (decamp hosts reinstall)");
        }
        case TrustVerdict::NoKey:
            break;
    }
    if (!t.tofu_allowed || !t.record_first_use)
        throw TransportError(
            Kind::HostKey,
            "no trusted host key for " + label() + " (" + server + "): it presented " + seen +
                ", but its provider gave decamp no key for this server (not through its API, "
                "user data or a pinned rescue session). Reinstall it with decamp hosts reinstall, "
                "or accept this key unverified with --trust-on-first-use (recorded as tofu)");
    try {
        t.record_first_use(key_type + " " + detail::base64_encode(blob));
    } catch (const std::exception& e) {
        throw TransportError(Kind::HostKey,
                             "host key of " + label() + " (" + seen + ") cannot be recorded: " + e.what());
    }
}

void SshSession::enable_keepalive() {
    // Only once authenticated: a global request in the middle of key exchange breaks it.
    if (cfg_.keepalive_s <= 0) return;
    libssh2_keepalive_config(session_, 1, unsigned(cfg_.keepalive_s));
    keepalive_on_ = true;
}

void SshSession::authenticate() {
    struct Arm {
        SshSession* s;
        ~Arm() {
            if (libssh2_userauth_authenticated(s->session_)) s->enable_keepalive();
        }
    } arm{this};
    auto deadline = Clock::now() + seconds(cfg_.connect_timeout_s > 0 ? cfg_.connect_timeout_s : 3600);
    const std::string who = cfg_.user + "@" + label();
    auto timed_out = [&](const std::string& step) {
        return TransportError(Kind::Auth, "authentication of " + who + " timed out (" + step + ")");
    };

    bool timeout = false;
    char* methods = call_ptr<char>(
        [&] { return libssh2_userauth_list(session_, cfg_.user.c_str(), unsigned(cfg_.user.size())); },
        deadline, &timeout);
    if (timeout) throw timed_out("listing methods");
    if (!methods && libssh2_userauth_authenticated(session_)) return;  // "none" accepted
    if (!methods && note_failure(libssh2_session_last_errno(session_)))
        throw TransportError(Kind::Unreachable, "connection to " + label() +
                                                    " closed during authentication: " + last_error());

    std::vector<std::string> tried;
    if (!cfg_.key_file.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(cfg_.key_file, ec))
            throw TransportError(Kind::Auth, "cannot authenticate " + who + ": key file " +
                                                 cfg_.key_file + " does not exist or is not a file");
        int rc = call(
            [&] {
                return libssh2_userauth_publickey_fromfile_ex(session_, cfg_.user.c_str(),
                                                              unsigned(cfg_.user.size()), nullptr,
                                                              cfg_.key_file.c_str(), nullptr);
            },
            deadline);
        if (rc == 0) return;
        if (rc == LIBSSH2_ERROR_TIMEOUT) throw timed_out("key " + cfg_.key_file);
        if (note_failure(rc))
            throw TransportError(Kind::Unreachable, "connection to " + label() +
                                                        " closed during authentication: " + last_error());
        std::string why = "key file " + cfg_.key_file + ": " + last_error();
        if (is_rsa_key(cfg_.key_file))
            why += " (an RSA key: libssh2 1.10 signs with ssh-rsa/SHA-1, which OpenSSH 8.8+ "
                   "refuses unless the server sets PubkeyAcceptedAlgorithms +ssh-rsa; prefer an "
                   "ed25519 key)";
        tried.push_back(why);
    }

    const char* sock = std::getenv("SSH_AUTH_SOCK");
    if (cfg_.use_agent && sock && *sock) {
        LIBSSH2_AGENT* agent = libssh2_agent_init(session_);
        struct Free {
            LIBSSH2_AGENT* a;
            ~Free() {
                if (a) {
                    libssh2_agent_disconnect(a);
                    libssh2_agent_free(a);
                }
            }
        } free_agent{agent};
        if (!agent || libssh2_agent_connect(agent) != 0) {
            tried.push_back(std::string("ssh-agent at ") + sock + ": cannot connect");
        } else if (libssh2_agent_list_identities(agent) != 0) {
            tried.push_back("ssh-agent: cannot list identities");
        } else {
            libssh2_agent_publickey* id = nullptr;
            libssh2_agent_publickey* prev = nullptr;
            int n = 0;
            while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
                ++n;
                int rc = call([&] { return libssh2_agent_userauth(agent, cfg_.user.c_str(), id); },
                              deadline);
                if (rc == 0) return;
                if (rc == LIBSSH2_ERROR_TIMEOUT) throw timed_out("ssh-agent");
                if (note_failure(rc))
                    throw TransportError(Kind::Unreachable, "connection to " + label() +
                                                                " closed during authentication: " +
                                                                last_error());
                prev = id;
            }
            tried.push_back("ssh-agent: " + std::to_string(n) + " identities, none accepted");
        }
    }

    std::string msg = "authentication failed for " + who;
    if (tried.empty()) {
        msg += ": no key file configured and no ssh-agent available (SSH_AUTH_SOCK unset or "
               "use_agent off)";
    } else {
        msg += ": ";
        for (size_t i = 0; i < tried.size(); ++i) msg += (i ? "; " : "") + tried[i];
    }
    if (methods) msg += std::string(" (server accepts: ") + methods + ")";
    throw TransportError(Kind::Auth, msg);
}

}  // namespace decamp::transport::detail
