// kind: rfc2136. An rrset is replaced by ONE signed UPDATE message (RFC 2136 §3: applied
// atomically or not at all): the prerequisite that the rrset is still exactly what was read
// (or still absent), then "delete rrset" and one "add" per record with the new TTL. A
// failed prerequisite (someone else wrote in between) is NXRRSET/YXRRSET and changes
// nothing. Every message is signed with TSIG and every answer's signature is checked.
#include "dns/rfc2136.hpp"

#include <arpa/inet.h>
#include <ldns/ldns.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "dns/exchange.hpp"
#include "dns/packet.hpp"

namespace decamp::dns {

namespace {

// An answer worth asking again for: SERVFAIL, no answer, a dropped connection.
class Retryable : public Error {
public:
    using Error::Error;
};

// Owners for the ldns objects we create (ldns is C: every object freed by hand).
struct PktPtr {
    ldns_pkt* p = nullptr;
    PktPtr() = default;
    explicit PktPtr(ldns_pkt* pkt) : p(pkt) {}
    PktPtr(PktPtr&& o) noexcept : p(std::exchange(o.p, nullptr)) {}
    PktPtr(const PktPtr&) = delete;
    PktPtr& operator=(const PktPtr&) = delete;
    PktPtr& operator=(PktPtr&&) = delete;
    ~PktPtr() {
        if (p) ldns_pkt_free(p);
    }
};
struct ListPtr {
    ldns_rr_list* l = ldns_rr_list_new();
    ListPtr() = default;
    ListPtr(const ListPtr&) = delete;
    ListPtr& operator=(const ListPtr&) = delete;
    ~ListPtr() { ldns_rr_list_deep_free(l); }
};
struct RdfPtr {
    ldns_rdf* r = nullptr;
    explicit RdfPtr(ldns_rdf* rdf) : r(rdf) {}
    RdfPtr(const RdfPtr&) = delete;
    RdfPtr& operator=(const RdfPtr&) = delete;
    ~RdfPtr() { reset(nullptr); }
    void reset(ldns_rdf* rdf) {
        if (r) ldns_rdf_deep_free(r);
        r = rdf;
    }
};

std::string take_str(char* s) {
    std::string out = s ? s : "";
    free(s);  // NOLINT(cppcoreguidelines-no-malloc): ldns hands out malloc'd strings
    return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

bool in_zone(const std::string& name, const std::string& zone) {
    if (zone == "." || name == zone) return true;
    return name.size() > zone.size() && name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
           name[name.size() - zone.size() - 1] == '.';
}

std::string tsig_error_name(int e) {
    switch (e) {
        case 16:
            return "BADSIG";
        case 17:
            return "BADKEY";
        case 18:
            return "BADTIME";
        case 22:
            return "BADTRUNC";
        default:
            return "TSIG error " + std::to_string(e);
    }
}

class Rfc2136 : public DnsBackend {
public:
    explicit Rfc2136(const BackendConfig& cfg) : cfg_(cfg) {
        if (cfg_.server.empty()) throw Error("rfc2136: 'server' (the primary, host:port) is required");
        if (cfg_.zone.empty()) throw Error("rfc2136: 'zone' is required");
        cfg_.zone = canonical_name(cfg_.zone);
        if (cfg_.tsig.name.empty()) throw Error("rfc2136: a TSIG key name is required");
        cfg_.tsig.name = canonical_name(cfg_.tsig.name);
        if (std::string why = check_tsig_algorithm(cfg_.tsig.algorithm); !why.empty())
            throw Error("rfc2136: TSIG algorithm '" + cfg_.tsig.algorithm + "': " + why);
        if (std::string why = check_tsig_secret(cfg_.tsig.secret); !why.empty())
            throw Error("rfc2136: TSIG secret of key " + cfg_.tsig.name + ": " + why);  // never the value
        algorithm_ = cfg_.tsig.algorithm + ".";
    }

    void ping() override {
        PktPtr q = question(cfg_.zone, LDNS_RR_TYPE_SOA);
        PktPtr a = with_retries([&] { return send(q, "reading the SOA of " + cfg_.zone); });
        expect_answer(a, "reading the SOA of " + cfg_.zone);
        if (!ldns_pkt_aa(a.p)) throw Error(where() + " is not authoritative for zone " + cfg_.zone);
    }

    std::optional<RRset> get(const std::string& name, const std::string& type) override {
        std::string owner = checked_name(name);
        uint16_t qtype = type_code(type);
        PktPtr q = question(owner, ldns_rr_type(qtype));
        PktPtr a = with_retries([&] { return send(q, "reading " + owner + " " + type); });
        expect_answer(a, "reading " + owner + " " + type, true);
        if (!ldns_pkt_aa(a.p))
            throw Error(where() + " answered " + owner + " " + type + " without authority");
        RRset out;
        out.name = owner;
        out.type = type;
        ldns_rr_list* answers = ldns_pkt_answer(a.p);
        RdfPtr want(ldns_dname_new_frm_str(owner.c_str()));
        for (size_t i = 0; i < ldns_rr_list_rr_count(answers); ++i) {
            ldns_rr* rr = ldns_rr_list_rr(answers, i);
            if (ldns_dname_compare(ldns_rr_owner(rr), want.r) != 0 ||
                ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
                continue;
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && qtype != kTypeCNAME)
                throw Error(owner + " is a CNAME at " + where() +
                            "; decamp switches only A and AAAA records "
                            "and leaves CNAMEs untouched");
            if (ldns_rr_get_type(rr) != qtype || ldns_rr_rd_count(rr) < 1) continue;
            out.ttl = int(ldns_rr_ttl(rr));
            out.records.push_back(take_str(ldns_rdf2str(ldns_rr_rdf(rr, 0))));
        }
        if (out.records.empty()) return std::nullopt;
        return out;
    }

    void replace(const RRset& rrset) override { replace_if(rrset, get(rrset.name, rrset.type)); }

    void replace_if(const RRset& rrset, const std::optional<RRset>& expected) override {
        RRset want = checked(rrset);
        const std::string doing = "replacing " + want.name + " " + want.type;
        for (int attempt = 0;; ++attempt) {
            try {
                PktPtr u = update(want, expected);
                PktPtr a = send(u, doing);
                int rc = ldns_pkt_get_rcode(a.p);
                if (rc == LDNS_RCODE_NXRRSET || rc == LDNS_RCODE_YXRRSET) {
                    // After a lost answer the first attempt may have been applied.
                    if (attempt > 0 && holds(want)) return;
                    if (rc == LDNS_RCODE_NXRRSET && expected &&
                        same_records(get(want.name, want.type), *expected))
                        throw Error(
                            where() + " answers " + want.name + " " + want.type + " with " +
                            "records that are not an rrset of that name (a wildcard?): the prerequisite "
                            "fails although nothing changed; add the name to the zone explicitly");
                    throw Error(where() + ": " + want.name + " " + want.type +
                                " changed since it was read (someone else wrote it; the server answered " +
                                rcode_name(rc) + " to the prerequisite); nothing written");
                }
                expect_answer(a, doing);
                break;
            } catch (const Retryable& e) {
                if (attempt >= cfg_.retries)
                    throw Error(std::string(e.what()) + " (gave up after " + std::to_string(attempt + 1) +
                                " attempts)");
                pause(attempt);
            }
        }
        // A server may accept an UPDATE and not apply it (PowerDNS with dnsupdate=no answers
        // NOERROR): believe only what it serves now.
        if (!holds(want))
            throw Error(where() + " answered NOERROR to " + doing + " but does not serve the new records");
    }

    std::string export_zone() override {
        PktPtr q = question(cfg_.zone, LDNS_RR_TYPE_AXFR);
        sign(q);
        std::string wire = to_wire(q);
        // One deadline for the whole transfer: generous, a large zone takes a while.
        TcpSession tcp(cfg_.server, std::max(60000, cfg_.timeout_ms * 4), "zone transfer of " + cfg_.zone);
        tcp.send(wire);
        RdfPtr prev_mac(ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(q.p), 3)));
        std::string text = "$ORIGIN " + cfg_.zone + "\n";
        int soas = 0;
        for (int n = 0; soas < 2; ++n) {
            std::string got = tcp.receive();
            PktPtr m;
            if (ldns_wire2pkt(&m.p, reinterpret_cast<const uint8_t*>(got.data()), got.size()) !=
                LDNS_STATUS_OK)
                throw Error(where() + ": unreadable zone transfer message");
            if (ldns_pkt_id(m.p) != ldns_pkt_id(q.p))
                throw Error(where() + ": zone transfer answer with a wrong id");
            check_auth(m, "the transfer of " + cfg_.zone);
            if (!ldns_pkt_tsig(m.p))
                throw Error(where() + ": zone transfer message " + std::to_string(n + 1) +
                            " is not signed (decamp requires every message to be signed)");
            if (ldns_pkt_get_rcode(m.p) != LDNS_RCODE_NOERROR) expect_answer(m, "transferring " + cfg_.zone);
            if (!ldns_pkt_tsig_verify_next(m.p, reinterpret_cast<const uint8_t*>(got.data()), got.size(),
                                           cfg_.tsig.name.c_str(), cfg_.tsig.secret.c_str(), prev_mac.r,
                                           n > 0))
                throw Error(where() + ": the signature of zone transfer message " + std::to_string(n + 1) +
                            " does not verify");
            prev_mac.reset(ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(m.p), 3)));
            ldns_rr_list* rrs = ldns_pkt_answer(m.p);
            if (n == 0 && ldns_rr_list_rr_count(rrs) == 0) throw Error(where() + ": empty zone transfer");
            for (size_t i = 0; i < ldns_rr_list_rr_count(rrs) && soas < 2; ++i) {
                ldns_rr* rr = ldns_rr_list_rr(rrs, i);
                if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ++soas == 2) break;  // the closing SOA
                if (n == 0 && i == 0 && ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
                    throw Error(where() + ": zone transfer does not start with the SOA");
                text += take_str(ldns_rr2str(rr));
            }
            if (n > 100000) throw Error(where() + ": zone transfer does not end");
        }
        return text;
    }

    std::string describe() const override { return "rfc2136 " + cfg_.server + " zone " + cfg_.zone; }

private:
    std::string where() const { return "DNS server " + cfg_.server; }

    std::string checked_name(const std::string& name) const {
        std::string owner = canonical_name(name);
        if (!in_zone(owner, cfg_.zone)) throw Error("rfc2136: " + owner + " is outside zone " + cfg_.zone);
        return owner;
    }

    RRset checked(const RRset& rrset) const {
        RRset r = rrset;
        r.name = checked_name(rrset.name);
        if (r.type != "A" && r.type != "AAAA")
            throw Error("rfc2136: only A and AAAA records can be switched, not '" + r.type + "'");
        if (r.records.empty())
            throw Error("rfc2136: refusing to replace " + r.name + " " + r.type + " with no records");
        if (r.ttl < 0) throw Error("rfc2136: negative TTL for " + r.name);
        unsigned char buf[16];
        for (const auto& addr : r.records)
            if (inet_pton(r.type == "A" ? AF_INET : AF_INET6, addr.c_str(), buf) != 1)
                throw Error("record for " + r.name + " " + r.type + ": '" + addr + "' is not an IPv" +
                            (r.type == "A" ? "4" : "6") + " address");
        return r;
    }

    static bool same_records(const std::optional<RRset>& a, const RRset& b) {
        return a && sorted(a->records) == sorted(b.records);
    }

    // Does the server serve exactly `want` (records and TTL) now?
    bool holds(const RRset& want) {
        auto now = get(want.name, want.type);
        return now && now->ttl == want.ttl && sorted(now->records) == sorted(want.records);
    }

    static ldns_rr* make_rr(const std::string& text) {
        ldns_rr* rr = nullptr;
        if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK || !rr)
            throw Error("rfc2136: cannot build the record '" + text + "'");
        return rr;
    }
    // An RR with no rdata (RDLENGTH 0): "rrset exists / does not exist" and "delete rrset".
    static ldns_rr* empty_rr(const std::string& owner, const std::string& type, ldns_rr_class klass) {
        ldns_rr* rr = ldns_rr_new();
        ldns_rr_set_owner(rr, ldns_dname_new_frm_str(owner.c_str()));
        ldns_rr_set_type(rr, ldns_rr_type(type_code(type)));
        ldns_rr_set_class(rr, klass);
        ldns_rr_set_ttl(rr, 0);
        return rr;
    }

    PktPtr update(const RRset& want, const std::optional<RRset>& expected) {
        ListPtr pre, up;
        if (expected) {
            // "RRset exists (value dependent)", RFC 2136 §2.4.2: the whole rrset, TTL 0.
            for (const auto& r : expected->records)
                ldns_rr_list_push_rr(pre.l, make_rr(want.name + " 0 IN " + want.type + " " + r));
        } else {
            // "RRset does not exist", §2.4.3: class NONE.
            ldns_rr_list_push_rr(pre.l, empty_rr(want.name, want.type, LDNS_RR_CLASS_NONE));
        }
        ldns_rr_list_push_rr(up.l,
                             empty_rr(want.name, want.type, LDNS_RR_CLASS_ANY));  // delete rrset, §2.5.2
        for (const auto& r : want.records)
            ldns_rr_list_push_rr(
                up.l, make_rr(want.name + " " + std::to_string(want.ttl) + " IN " + want.type + " " + r));
        PktPtr p(ldns_update_pkt_new(ldns_dname_new_frm_str(cfg_.zone.c_str()), LDNS_RR_CLASS_IN, pre.l, up.l,
                                     nullptr));
        if (!p.p) throw Error("rfc2136: cannot build the UPDATE message");
        ldns_pkt_set_rd(p.p, false);  // the header's Z bits in an UPDATE
        ldns_pkt_set_random_id(p.p);
        sign(p);
        return p;
    }

    PktPtr question(const std::string& name, ldns_rr_type type) {
        PktPtr p(ldns_pkt_query_new(ldns_dname_new_frm_str(name.c_str()), type, LDNS_RR_CLASS_IN, 0));
        if (!p.p) throw Error("rfc2136: cannot build a query for " + name);
        ldns_pkt_set_random_id(p.p);
        if (type != LDNS_RR_TYPE_AXFR) sign(p);
        return p;
    }

    void sign(PktPtr& p) {
        if (ldns_pkt_tsig(p.p)) return;
        ldns_status st = ldns_pkt_tsig_sign(p.p, cfg_.tsig.name.c_str(), cfg_.tsig.secret.c_str(), 300,
                                            algorithm_.c_str(), nullptr);
        if (st != LDNS_STATUS_OK)
            throw Error("rfc2136: cannot sign with TSIG key " + cfg_.tsig.name + " (" + cfg_.tsig.algorithm +
                        "): " + ldns_get_errorstr_by_id(st));
    }

    static std::string to_wire(const PktPtr& p) {
        uint8_t* buf = nullptr;
        size_t size = 0;
        if (ldns_pkt2wire(&buf, p.p, &size) != LDNS_STATUS_OK)
            throw Error("rfc2136: cannot encode a message");
        std::string wire(reinterpret_cast<const char*>(buf), size);
        free(buf);  // NOLINT(cppcoreguidelines-no-malloc): allocated by ldns
        return wire;
    }

    // One signed message over TCP; the answer's signature checked (an unsigned answer is
    // accepted only as the NOTAUTH that says our key or clock is wrong).
    PktPtr send(PktPtr& q, const std::string& doing) {
        std::string reply;
        try {
            reply = exchange(cfg_.server, to_wire(q), Via::Tcp, cfg_.timeout_ms, doing);
        } catch (const Error& e) {
            throw Retryable(e.what());
        }
        PktPtr a;
        if (ldns_wire2pkt(&a.p, reinterpret_cast<const uint8_t*>(reply.data()), reply.size()) !=
            LDNS_STATUS_OK)
            throw Retryable(where() + ": unreadable answer while " + doing);
        check_auth(a, doing);
        // An unsigned SERVFAIL (a server that cannot load the zone may not sign) only makes
        // us ask again, which is harmless even if it was forged.
        if (!ldns_pkt_tsig(a.p) && ldns_pkt_get_rcode(a.p) == LDNS_RCODE_SERVFAIL)
            throw Retryable(where() + " answered SERVFAIL (unsigned) to " + doing);
        const ldns_rdf* mac = ldns_rr_rdf(ldns_pkt_tsig(q.p), 3);
        if (!ldns_pkt_tsig(a.p) ||
            !ldns_pkt_tsig_verify(a.p, reinterpret_cast<const uint8_t*>(reply.data()), reply.size(),
                                  cfg_.tsig.name.c_str(), cfg_.tsig.secret.c_str(), mac))
            throw Error(where() + ": the answer to " + doing + " is " +
                        (ldns_pkt_tsig(a.p) ? "signed with a signature that does not verify" : "not signed") +
                        "; not trusting it (is something in between?)");
        return a;
    }

    // NOTAUTH, or a TSIG error in the answer's TSIG record: our key or clock is wrong.
    void check_auth(const PktPtr& a, const std::string& doing) const {
        int tsig_error = 0;
        if (ldns_rr* t = ldns_pkt_tsig(a.p); t && ldns_rr_rd_count(t) > 5)
            tsig_error = ldns_rdf2native_int16(ldns_rr_rdf(t, 5));
        if (tsig_error != 0 || ldns_pkt_get_rcode(a.p) == LDNS_RCODE_NOTAUTH) auth_failure(tsig_error, doing);
    }

    [[noreturn]] void auth_failure(int tsig_error, const std::string& doing) const {
        std::string key = "key " + cfg_.tsig.name + " (" + cfg_.tsig.algorithm + ")";
        if (tsig_error == 16)
            throw Error(where() + " refused " + doing +
                        ": the TSIG key is wrong (BADSIG): the server knows " + key + " with another secret");
        if (tsig_error == 17)
            throw Error(where() + " refused " + doing +
                        ": the TSIG key is wrong (BADKEY): the server does not "
                        "know " +
                        key + ", or (Knot) no acl of the zone lets that key do this");
        if (tsig_error == 18)
            throw Error(where() + " refused " + doing +
                        ": the clocks of this machine and the server differ by "
                        "more than the TSIG fudge of 300 s (BADTIME): fix the time (NTP) on one of them");
        if (tsig_error != 0)
            throw Error(where() + " refused " + doing + ": " + tsig_error_name(tsig_error) + " for " + key);
        throw Error(where() + " refused " + doing + " with NOTAUTH: it is not authoritative for zone " +
                    cfg_.zone + " or does not accept " + key);
    }

    // Any rcode but NOERROR (and NXDOMAIN on a read) as a clear error; SERVFAIL is retryable.
    void expect_answer(const PktPtr& a, const std::string& doing, bool nxdomain_ok = false) const {
        int rc = ldns_pkt_get_rcode(a.p);
        if (rc == LDNS_RCODE_NOERROR || (rc == LDNS_RCODE_NXDOMAIN && nxdomain_ok)) return;
        switch (rc) {
            case LDNS_RCODE_SERVFAIL:
                throw Retryable(where() + " answered SERVFAIL to " + doing);
            case LDNS_RCODE_REFUSED:
                throw Error(where() + " answered REFUSED to " + doing + ": the key " + cfg_.tsig.name +
                            " is not allowed to do that in zone " + cfg_.zone +
                            " (BIND: update-policy / allow-transfer; Knot: the zone's acl)");
            case LDNS_RCODE_NOTZONE:
                throw Error(where() + " answered NOTZONE to " + doing + ": the name is not in zone " +
                            cfg_.zone);
            case LDNS_RCODE_NOTIMPL:
                throw Error(where() + " answered NOTIMP to " + doing +
                            ": it does not take dynamic updates for " + cfg_.zone);
            default:
                throw Error(where() + " answered " + rcode_name(rc) + " to " + doing);
        }
    }

    template <class F>
    PktPtr with_retries(F f) {
        for (int attempt = 0;; ++attempt) {
            try {
                PktPtr a = f();
                if (ldns_pkt_get_rcode(a.p) == LDNS_RCODE_SERVFAIL) expect_answer(a, "a read");
                return a;
            } catch (const Retryable& e) {
                if (attempt >= cfg_.retries)
                    throw Error(std::string(e.what()) + " (gave up after " + std::to_string(attempt + 1) +
                                " attempts)");
                pause(attempt);
            }
        }
    }

    void pause(int attempt) const {
        std::this_thread::sleep_for(std::chrono::milliseconds(cfg_.retry_delay_ms << std::min(attempt, 6)));
    }

    BackendConfig cfg_;
    std::string algorithm_;
};

}  // namespace

std::unique_ptr<DnsBackend> make_rfc2136(const BackendConfig& cfg) {
    return std::make_unique<Rfc2136>(cfg);
}

}  // namespace decamp::dns
