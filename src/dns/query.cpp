// dns::query: asks one authoritative server directly (UDP, TCP when truncated), so a DNS
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
#include "dns/packet.hpp"

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
};

struct Endpoint {
    std::string host;
    std::string port = "53";
};

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

sockaddr_storage resolve(const Endpoint& e, socklen_t& len, int& family) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(e.host.c_str(), e.port.c_str(), &hints, &res);
    if (rc != 0 || !res) throw Error("cannot resolve DNS server '" + e.host + "': " + gai_strerror(rc));
    sockaddr_storage ss{};
    std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
    len = res->ai_addrlen;
    family = res->ai_family;
    freeaddrinfo(res);
    return ss;
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

struct Context {
    std::string server;
    std::string name;
    std::string type;
    uint16_t id = 0;
    uint16_t qtype = 0;
    int timeout_ms = 0;

    [[noreturn]] void timeout() const {
        throw Error("no answer from DNS server " + server + " for " + name + " " + type +
                       " within " + std::to_string(timeout_ms) + " ms");
    }
    [[noreturn]] void fail(const std::string& why) const {
        throw Error("DNS query " + name + " " + type + " to " + server + ": " + why);
    }
    // Is this the answer to our question (and not a stray or spoofed datagram)?
    bool matches(const Message& m) const {
        return m.qr && m.id == id && m.questions.size() == 1 && same_name(m.questions[0].name, name) &&
               m.questions[0].type == qtype;
    }
};

Message ask_udp(const Context& c, const sockaddr_storage& addr, socklen_t len, int family,
                const std::string& query, Clock::time_point deadline) {
    Fd s(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (s.fd < 0) c.fail(std::string("socket: ") + std::strerror(errno));
    // Connected, so the kernel drops datagrams from other peers and reports ICMP refusals.
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0)
        c.fail(std::string("connect: ") + std::strerror(errno));
    if (::send(s.fd, query.data(), query.size(), 0) != ssize_t(query.size()))
        c.fail(std::string("send: ") + std::strerror(errno));
    std::string buf(65535, '\0');
    for (;;) {
        if (!wait_for(s.fd, POLLIN, deadline)) c.timeout();
        ssize_t n = ::recv(s.fd, buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            if (errno == ECONNREFUSED) c.fail("connection refused (nothing listening on that port)");
            c.fail(std::string("recv: ") + std::strerror(errno));
        }
        try {
            Message m = decode(std::string_view(buf.data(), size_t(n)));
            if (c.matches(m) || (m.tc && m.qr && m.id == c.id)) return m;
        } catch (const Error&) {
            // Garbage on our port: keep waiting for the real answer until the deadline.
        }
    }
}

void send_all(const Context& c, int fd, std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
        if (!wait_for(fd, POLLOUT, deadline)) c.timeout();
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            c.fail(std::string("TCP send: ") + std::strerror(errno));
        }
        data.remove_prefix(size_t(n));
    }
}

std::string recv_exact(const Context& c, int fd, size_t want, Clock::time_point deadline) {
    std::string out;
    out.resize(want);
    size_t got = 0;
    while (got < want) {
        if (!wait_for(fd, POLLIN, deadline)) c.timeout();
        ssize_t n = ::recv(fd, out.data() + got, want - got, 0);
        if (n == 0) c.fail("server closed the TCP connection early");
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            c.fail(std::string("TCP recv: ") + std::strerror(errno));
        }
        got += size_t(n);
    }
    return out;
}

Message ask_tcp(const Context& c, const sockaddr_storage& addr, socklen_t len, int family,
                const std::string& query, Clock::time_point deadline) {
    Fd s(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (s.fd < 0) c.fail(std::string("socket: ") + std::strerror(errno));
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
        if (errno != EINPROGRESS) c.fail(std::string("TCP connect: ") + std::strerror(errno));
        if (!wait_for(s.fd, POLLOUT, deadline)) c.timeout();
        int err = 0;
        socklen_t elen = sizeof err;
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &elen);
        if (err != 0) c.fail(std::string("TCP connect: ") + std::strerror(err));
    }
    std::string framed;
    framed += char(query.size() >> 8);
    framed += char(query.size() & 0xFF);
    framed += query;
    send_all(c, s.fd, framed, deadline);
    std::string hdr = recv_exact(c, s.fd, 2, deadline);
    size_t n = (size_t(uint8_t(hdr[0])) << 8) | uint8_t(hdr[1]);
    Message m = decode(recv_exact(c, s.fd, n, deadline));
    if (!c.matches(m)) c.fail("TCP answer does not match the question");
    return m;
}

uint16_t random_id() {
    static thread_local std::mt19937 rng{std::random_device{}()};
    return uint16_t(std::uniform_int_distribution<unsigned>(0, 0xFFFF)(rng));
}

}  // namespace

std::vector<std::string> query(const std::string& server, const std::string& name,
                               const std::string& type, int timeout_ms) {
    if (type != "A" && type != "AAAA") throw Error("dns::query supports A and AAAA, not '" + type + "'");
    Context c;
    c.server = server;
    c.name = canonical_name(name);
    c.type = type;
    c.qtype = type_code(type);
    c.id = random_id();
    c.timeout_ms = std::max(1, timeout_ms);
    auto deadline = Clock::now() + std::chrono::milliseconds(c.timeout_ms);

    Endpoint ep = split_server(server);
    socklen_t len = 0;
    int family = AF_INET;
    sockaddr_storage addr = resolve(ep, len, family);

    std::string q = encode_query(c.id, c.name, c.qtype, false);
    Message m = ask_udp(c, addr, len, family, q, deadline);
    if (m.tc) m = ask_tcp(c, addr, len, family, q, deadline);

    if (m.rcode == kNXDomain) return {};
    if (m.rcode != kNoError) c.fail("server answered " + rcode_name(m.rcode));

    // Follow a CNAME chain inside the answer section, then collect the addresses of its end.
    std::string owner = c.name;
    for (int hops = 0; hops < 16; ++hops) {
        bool moved = false;
        for (const auto& rr : m.answers) {
            if (rr.type == kTypeCNAME && same_name(rr.name, owner) && !rr.text.empty()) {
                owner = rr.text;
                moved = true;
                break;
            }
        }
        if (!moved) break;
    }
    std::vector<std::string> out;
    for (const auto& rr : m.answers)
        if (rr.type == c.qtype && rr.klass == 1 && same_name(rr.name, owner)) out.push_back(rr.text);
    return out;
}

}  // namespace decamp::dns
