// Sending DNS messages to one server and getting the reply back, over UDP or TCP, every
// wait bounded by a deadline. query.cpp owns the sockets; dns::query, the verifier
// (verify.cpp) and the rfc2136 back-end (which builds and signs its messages with libldns)
// all go through here, so there is one UDP/TCP implementation.
#pragma once

#include <chrono>
#include <string>

#include "dns/packet.hpp"

namespace decamp::dns {

enum class Via { Udp, Tcp };

const char* via_name(Via via);

// "host:port", "[v6]:port", "host" (port 53); throws Error for anything else.
struct Endpoint {
    std::string host;
    std::string port = "53";
};
Endpoint split_server(const std::string& server);

// Sends `wire` (a complete message) to `server` ("host:port", default port 53) and returns
// the first reply carrying the same id with QR set. Over UDP the socket is connected, and
// stray or unreadable datagrams are ignored until the deadline; over TCP one framed message
// is read. Throws Error (naming the server and `what`) on timeout, refusal or a closed
// connection.
std::string exchange(const std::string& server, const std::string& wire, Via via, int timeout_ms,
                     const std::string& what = "DNS message");

// One TCP connection for an answer that spans several messages (AXFR). Every read is bounded
// by the deadline given at construction.
class TcpSession {
public:
    TcpSession(const std::string& server, int timeout_ms, std::string what = "zone transfer");
    TcpSession(const TcpSession&) = delete;
    TcpSession& operator=(const TcpSession&) = delete;
    ~TcpSession();

    void send(const std::string& wire);
    // The next framed message.
    std::string receive();

private:
    std::string server_, what_;
    int timeout_ms_;
    std::chrono::steady_clock::time_point deadline_;
    int fd_ = -1;
};

// Asks `server` one question without recursion and returns the decoded answer whose
// question matches. Via::Udp asks again over TCP when the answer is truncated; Via::Tcp
// asks over TCP only. Any rcode is returned (callers decide); throws Error as exchange().
Message ask(const std::string& server, const std::string& name, uint16_t qtype, Via via, int timeout_ms);

}  // namespace decamp::dns
