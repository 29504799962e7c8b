// The sockets behind dns/exchange.hpp (UDP with TCP on truncation, TCP sessions for
// transfers), and dns::query on top: asking one authoritative server directly, so a DNS
// switch can be verified at the source without any resolver cache in between.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "dns/dns.hpp"
#include "dns/exchange.hpp"

namespace decamp::dns {

namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    int release() {
        int f = fd;
        fd = -1;
        return f;
    }
};

}  // namespace

Endpoint split_server(const std::string& server) {
    Endpoint e;
    if (server.empty()) throw Error("empty DNS server address");
    if (server.front() == '[') {  // [v6]:port
        size_t close = server.find(']');
        if (close == std::string::npos) throw Error("bad DNS server address '" + server + "'");
        e.host = server.substr(1, close - 1);
        if (close + 1 < server.size()) {
            if (server[close + 1] != ':') throw Error("bad DNS server address '" + server + "'");
            e.port = server.substr(close + 2);
        }
    } else if (std::count(server.begin(), server.end(), ':') == 1) {
        size_t colon = server.find(':');
        e.host = server.substr(0, colon);
        e.port = server.substr(colon + 1);
    } else {
        e.host = server;  // a name, IPv4, or a bare IPv6 address
    }
    if (e.host.empty() || e.port.empty() || e.port.find_first_not_of("0123456789") != std::string::npos)
        throw Error("bad DNS server address '" + server + "' (expected host[:port])");
    return e;
}

namespace {

struct Address {
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family = AF_INET;
};

Address resolve(const std::string& server) {
    Endpoint e = split_server(server);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(e.host.c_str(), e.port.c_str(), &hints, &res);
    if (rc != 0 || !res) throw Error("cannot resolve DNS server '" + e.host + "': " + gai_strerror(rc));
    Address a;
    std::memcpy(&a.ss, res->ai_addr, res->ai_addrlen);
    a.len = res->ai_addrlen;
    a.family = res->ai_family;
    freeaddrinfo(res);
    return a;
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? int(left) : 0;
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        int left = remaining_ms(deadline);
        if (left == 0) return false;
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, left);
        if (rc > 0) return true;
        if (rc == 0) return false;
        if (errno != EINTR) throw Error(std::string("poll: ") + std::strerror(errno));
    }
}

// Who we talk to and about what, for the errors.
struct Peer {
    std::string server;
    std::string what;
    int timeout_ms = 0;

    [[noreturn]] void timeout() const {
        throw Error("no answer from DNS server " + server + " (" + what + ") within " +
                    std::to_string(timeout_ms) + " ms");
    }
    [[noreturn]] void fail(const std::string& why) const { throw Error(what + " to " + server + ": " + why); }
    [[noreturn]] void fail_errno(const std::string& call) const { fail(call + ": " + std::strerror(errno)); }
};

uint16_t wire_id(std::string_view wire) {
    return wire.size() >= 2 ? uint16_t((uint8_t(wire[0]) << 8) | uint8_t(wire[1])) : 0;
}
bool wire_is_reply(std::string_view wire) {
    return wire.size() >= 12 && (uint8_t(wire[2]) & 0x80) != 0;
}

// Returns the first datagram `accept` takes; others (strays, garbage, spoofs) are ignored
// until the deadline.
template <class Accept>
std::string udp_exchange(const Peer& p, const Address& a, const std::string& wire, Clock::time_point deadline,
                         Accept accept) {
    Fd s(::socket(a.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (s.fd < 0) p.fail_errno("socket");
    // Connected, so the kernel drops datagrams from other peers and reports ICMP refusals.
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) != 0) p.fail_errno("connect");
    if (::send(s.fd, wire.data(), wire.size(), 0) != ssize_t(wire.size())) p.fail_errno("send");
    std::string buf(65535, '\0');
    for (;;) {
        if (!wait_for(s.fd, POLLIN, deadline)) p.timeout();
        ssize_t n = ::recv(s.fd, buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            if (errno == ECONNREFUSED) p.fail("connection refused (nothing listening on that port)");
            p.fail_errno("recv");
        }
        std::string_view got(buf.data(), size_t(n));
        if (accept(got)) return std::string(got);
    }
}

void send_all(const Peer& p, int fd, std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
        if (!wait_for(fd, POLLOUT, deadline)) p.timeout();
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            p.fail_errno("TCP send");
        }
        data.remove_prefix(size_t(n));
    }
}

std::string recv_exact(const Peer& p, int fd, size_t want, Clock::time_point deadline) {
    std::string out;
    out.resize(want);
    size_t got = 0;
    while (got < want) {
        if (!wait_for(fd, POLLIN, deadline)) p.timeout();
        ssize_t n = ::recv(fd, out.data() + got, want - got, 0);
        if (n == 0) p.fail("server closed the TCP connection early");
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            p.fail_errno("TCP recv");
        }
        got += size_t(n);
    }
    return out;
}

int tcp_connect(const Peer& p, const Address& a, Clock::time_point deadline) {
    Fd s(::socket(a.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (s.fd < 0) p.fail_errno("socket");
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) != 0) {
        if (errno != EINPROGRESS) p.fail_errno("TCP connect");
        if (!wait_for(s.fd, POLLOUT, deadline)) p.timeout();
        int err = 0;
        socklen_t elen = sizeof err;
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &elen);
        if (err != 0) p.fail(std::string("TCP connect: ") + std::strerror(err));
    }
    return s.release();
}

void tcp_send(const Peer& p, int fd, const std::string& wire, Clock::time_point deadline) {
    if (wire.size() > 0xFFFF) p.fail("message too large for DNS over TCP");
    std::string framed;
    framed += char(wire.size() >> 8);
    framed += char(wire.size() & 0xFF);
    framed += wire;
    send_all(p, fd, framed, deadline);
}

std::string tcp_receive(const Peer& p, int fd, Clock::time_point deadline) {
    std::string hdr = recv_exact(p, fd, 2, deadline);
    size_t n = (size_t(uint8_t(hdr[0])) << 8) | uint8_t(hdr[1]);
    return recv_exact(p, fd, n, deadline);
}

uint16_t random_id() {
    static thread_local std::mt19937 rng{std::random_device{}()};
    return uint16_t(std::uniform_int_distribution<unsigned>(0, 0xFFFF)(rng));
}

}  // namespace

const char* via_name(Via via) {
    return via == Via::Udp ? "UDP" : "TCP";
}

std::string exchange(const std::string& server, const std::string& wire, Via via, int timeout_ms,
                     const std::string& what) {
    Peer p{server, what, std::max(1, timeout_ms)};
    auto deadline = Clock::now() + std::chrono::milliseconds(p.timeout_ms);
    Address a = resolve(server);
    if (via == Via::Udp)
        return udp_exchange(p, a, wire, deadline, [id = wire_id(wire)](std::string_view got) {
            return wire_is_reply(got) && wire_id(got) == id;
        });
    Fd s(tcp_connect(p, a, deadline));
    tcp_send(p, s.fd, wire, deadline);
    std::string reply = tcp_receive(p, s.fd, deadline);
    if (!wire_is_reply(reply) || wire_id(reply) != wire_id(wire))
        p.fail("TCP answer does not match the question");
    return reply;
}

TcpSession::TcpSession(const std::string& server, int timeout_ms, std::string what)
    : server_(server), what_(std::move(what)), timeout_ms_(std::max(1, timeout_ms)) {
    deadline_ = Clock::now() + std::chrono::milliseconds(timeout_ms_);
    fd_ = tcp_connect(Peer{server_, what_, timeout_ms_}, resolve(server_), deadline_);
}

TcpSession::~TcpSession() {
    if (fd_ >= 0) ::close(fd_);
}

void TcpSession::send(const std::string& wire) {
    tcp_send(Peer{server_, what_, timeout_ms_}, fd_, wire, deadline_);
}

std::string TcpSession::receive() {
    return tcp_receive(Peer{server_, what_, timeout_ms_}, fd_, deadline_);
}

Message ask(const std::string& server, const std::string& name, uint16_t qtype, Via via, int timeout_ms) {
    const std::string qname = canonical_name(name);
    const uint16_t id = random_id();
    const std::string what = "DNS query " + qname + " " + type_name(qtype);
    const std::string q = encode_query(id, qname, qtype, false);
    auto matches = [&](const Message& m) {
        return m.qr && m.id == id && m.questions.size() == 1 && same_name(m.questions[0].name, qname) &&
               m.questions[0].type == qtype;
    };
    Peer p{server, what, std::max(1, timeout_ms)};
    auto deadline = Clock::now() + std::chrono::milliseconds(p.timeout_ms);
    Address a = resolve(server);
    if (via == Via::Udp) {
        bool truncated = false;
        std::string got = udp_exchange(p, a, q, deadline, [&](std::string_view wire) {
            // A reply with our id that is not about our question is a spoof or a confused
            // server: wait on rather than believe it. A truncated one may have lost its question.
            try {
                Message m = decode(wire);
                truncated = m.qr && m.tc && m.id == id;
                return truncated || matches(m);
            } catch (const Error&) {
                return false;
            }
        });
        if (!truncated) return decode(got);
    }
    Fd s(tcp_connect(p, a, deadline));
    tcp_send(p, s.fd, q, deadline);
    Message m = decode(tcp_receive(p, s.fd, deadline));
    if (!matches(m)) p.fail("TCP answer does not match the question");
    return m;
}
std::vector<std::string> query(const std::string& server, const std::string& name, const std::string& type,
                               int timeout_ms) {
    if (type != "A" && type != "AAAA") throw Error("dns::query supports A and AAAA, not '" + type + "'");
    const std::string qname = canonical_name(name);
    const uint16_t qtype = type_code(type);
    Message m = ask(server, qname, qtype, Via::Udp, timeout_ms);
    if (m.rcode == kNXDomain) return {};
    if (m.rcode != kNoError)
        throw Error("DNS query " + qname + " " + type + " to " + server + ": server answered " +
                    rcode_name(m.rcode));
    std::vector<std::string> out;
    for (const auto& rr : answer_records(m, qname, qtype)) out.push_back(rr.text);
    return out;
}

}  // namespace decamp::dns
