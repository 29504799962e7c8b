#include "dns/verify.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "dns/exchange.hpp"
#include "dns/packet.hpp"

namespace decamp::dns {

namespace {

using Clock = std::chrono::steady_clock;

std::string join_records(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out.empty() ? "(none)" : out;
}

// "" when `server` serves `want` authoritatively over `via`, else what it served.
std::string differs(const std::string& server, const RRset& want, Via via, int timeout_ms) {
    Message m = ask(server, want.name, type_code(want.type), via, timeout_ms);
    std::string at = std::string(via_name(via)) + ": ";
    if (m.rcode != kNoError && m.rcode != kNXDomain) return at + "answered " + rcode_name(m.rcode);
    if (!m.aa) return at + "answered without authority (not authoritative for the zone?)";
    std::vector<std::string> got;
    bool ttl_ok = true;
    int ttl = -1;
    for (const auto& rr : answer_records(m, want.name, type_code(want.type))) {
        got.push_back(rr.text);
        ttl = int(rr.ttl);
        if (int(rr.ttl) != want.ttl) ttl_ok = false;
    }
    std::sort(got.begin(), got.end());
    std::vector<std::string> w = want.records;
    std::sort(w.begin(), w.end());
    if (got != w) return at + want.name + " " + want.type + " " + join_records(got);
    if (!ttl_ok)
        return at + want.name + " " + want.type + " TTL " + std::to_string(ttl) + ", not " +
               std::to_string(want.ttl);
    return "";
}

std::string with_port(const std::string& address, const std::string& port) {
    return address.find(':') != std::string::npos ? "[" + address + "]:" + port : address + ":" + port;
}

bool inside(const std::string& name, const std::string& zone) {
    return zone == "." || same_name(name, zone) ||
           (name.size() > zone.size() && same_name(name.substr(name.size() - zone.size()), zone) &&
            name[name.size() - zone.size() - 1] == '.');
}

}  // namespace

bool Verification::all_agreed() const {
    return !servers.empty() &&
           std::all_of(servers.begin(), servers.end(), [](const ServerAnswer& s) { return s.agreed; });
}

std::string Verification::summary() const {
    std::string out;
    for (const auto& s : servers) {
        char secs[32];
        std::snprintf(secs, sizeof secs, "%.1f", s.seconds);
        out += out.empty() ? "" : "; ";
        out += s.agreed ? s.server + " agreed after " + secs + " s"
                        : s.server + " did not agree (" + s.last + ")";
    }
    return out.empty() ? "no nameserver to verify at" : out;
}

Verification verify_rrsets(const std::vector<std::string>& servers, const std::vector<RRset>& want,
                           const VerifyOptions& opts) {
    Verification v;
    for (const auto& s : servers) v.servers.push_back(ServerAnswer{s, false, -1, "not asked yet"});
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::milliseconds(opts.deadline_ms);
    for (;;) {
        bool pending = false;
        for (auto& s : v.servers) {
            if (s.agreed) continue;
            std::string diff;
            try {
                for (const auto& rrset : want) {
                    for (Via via : {Via::Udp, Via::Tcp}) {
                        diff = differs(s.server, rrset, via, opts.query_timeout_ms);
                        if (!diff.empty()) break;
                    }
                    if (!diff.empty()) break;
                }
            } catch (const Error& e) {
                diff = e.what();
            }
            if (diff.empty()) {
                s.agreed = true;
                s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
                s.last.clear();
            } else {
                s.last = diff;
                pending = true;
            }
        }
        if (!pending || Clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(opts.interval_ms));
    }
    for (auto& s : v.servers)
        if (!s.agreed) s.last += ", still after " + std::to_string(opts.deadline_ms / 1000) + " s";
    return v;
}

std::vector<std::string> zone_nameservers(const std::string& server, const std::string& zone,
                                          int timeout_ms) {
    const std::string port = split_server(server).port;
    Message m = ask(server, zone, kTypeNS, Via::Udp, timeout_ms);
    if (m.rcode != kNoError)
        throw Error("the NS records of " + zone + " at " + server + ": " + rcode_name(m.rcode));
    std::vector<std::string> out;
    std::set<std::string> seen;
    auto add = [&](const std::string& a) {
        if (seen.insert(a).second) out.push_back(a);
    };
    for (const auto& ns : answer_records(m, zone, kTypeNS)) {
        if (inside(ns.text, zone)) {
            for (uint16_t t : {uint16_t(kTypeA), uint16_t(kTypeAAAA)}) {
                Message g = ask(server, ns.text, t, Via::Udp, timeout_ms);
                for (const auto& rr : answer_records(g, ns.text, t)) add(with_port(rr.text, port));
            }
            continue;
        }
        addrinfo hints{};
        hints.ai_socktype = SOCK_DGRAM;
        addrinfo* res = nullptr;
        if (getaddrinfo(ns.text.c_str(), nullptr, &hints, &res) != 0 || !res)
            throw Error("cannot resolve nameserver " + ns.text + " of " + zone);
        for (addrinfo* p = res; p; p = p->ai_next) {
            char buf[INET6_ADDRSTRLEN] = {};
            const void* addr =
                p->ai_family == AF_INET
                    ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr)
                    : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr);
            if (inet_ntop(p->ai_family, addr, buf, sizeof buf)) add(with_port(buf, port));
        }
        freeaddrinfo(res);
    }
    if (out.empty()) throw Error("zone " + zone + " has no NS records with an address at " + server);
    return out;
}

}  // namespace decamp::dns
