#include "dns/packet.hpp"

#include <arpa/inet.h>

#include <cctype>

namespace decamp::dns {

namespace {

constexpr size_t kHeaderSize = 12;
constexpr int kMaxPointers = 64;

[[noreturn]] void malformed(const std::string& what) {
    throw Error("malformed DNS message: " + what);
}

class Reader {
public:
    explicit Reader(std::string_view wire) : w_(wire) {}

    size_t pos() const { return pos_; }

    uint8_t u8() {
        need(1);
        return static_cast<uint8_t>(w_[pos_++]);
    }
    uint16_t u16() {
        need(2);
        uint16_t v = uint16_t((uint8_t(w_[pos_]) << 8) | uint8_t(w_[pos_ + 1]));
        pos_ += 2;
        return v;
    }
    uint32_t u32() {
        uint32_t hi = u16();
        return (hi << 16) | u16();
    }
    std::string bytes(size_t n) {
        need(n);
        std::string out(w_.substr(pos_, n));
        pos_ += n;
        return out;
    }

    // A possibly compressed name starting at the cursor; the cursor ends after the name as
    // it appears here (a pointer counts two bytes).
    std::string name() {
        std::string out;
        size_t p = pos_;
        size_t resume = 0;  // where the cursor goes once the first pointer was followed
        size_t lowest = pos_;  // pointers must go strictly below every label read so far
        int jumps = 0;
        for (;;) {
            if (p >= w_.size()) malformed("name runs past the end");
            uint8_t len = uint8_t(w_[p]);
            if ((len & 0xC0) == 0xC0) {
                if (p + 1 >= w_.size()) malformed("truncated compression pointer");
                size_t target = (size_t(len & 0x3F) << 8) | uint8_t(w_[p + 1]);
                if (target >= lowest) malformed("compression pointer does not point backwards");
                if (++jumps > kMaxPointers) malformed("too many compression pointers");
                if (resume == 0) resume = p + 2;
                p = target;
                lowest = target;
                continue;
            }
            if ((len & 0xC0) != 0) malformed("unsupported label type");
            if (len == 0) {
                ++p;
                break;
            }
            if (p + 1 + len > w_.size()) malformed("label runs past the end");
            out.append(w_.substr(p + 1, len));
            out += '.';
            if (out.size() > 255) malformed("name longer than 255 bytes");
            p += 1 + len;
        }
        pos_ = resume ? resume : p;
        return out.empty() ? "." : out;
    }

private:
    void need(size_t n) const {
        if (pos_ + n > w_.size()) malformed("truncated at byte " + std::to_string(pos_));
    }

    std::string_view w_;
    size_t pos_ = 0;
};

void put16(std::string& out, uint16_t v) {
    out += char(v >> 8);
    out += char(v & 0xFF);
}

void put32(std::string& out, uint32_t v) {
    put16(out, uint16_t(v >> 16));
    put16(out, uint16_t(v & 0xFFFF));
}

void put_name(std::string& out, std::string_view name) {
    std::string canon = canonical_name(name);
    if (canon == ".") {
        out += '\0';
        return;
    }
    size_t start = 0;
    while (start < canon.size()) {
        size_t dot = canon.find('.', start);
        out += char(dot - start);
        out.append(canon, start, dot - start);
        start = dot + 1;
    }
    out += '\0';
}

ResourceRecord read_record(Reader& r, std::string_view wire) {
    ResourceRecord rr;
    rr.name = r.name();
    rr.type = r.u16();
    rr.klass = r.u16();
    rr.ttl = r.u32();
    uint16_t rdlen = r.u16();
    size_t rdstart = r.pos();
    rr.rdata = r.bytes(rdlen);
    char buf[INET6_ADDRSTRLEN] = {0};
    if (rr.type == kTypeA && rr.klass == 1) {
        if (rdlen != 4) malformed("A record with " + std::to_string(rdlen) + " bytes of data");
        inet_ntop(AF_INET, rr.rdata.data(), buf, sizeof buf);
        rr.text = buf;
    } else if (rr.type == kTypeAAAA && rr.klass == 1) {
        if (rdlen != 16) malformed("AAAA record with " + std::to_string(rdlen) + " bytes of data");
        inet_ntop(AF_INET6, rr.rdata.data(), buf, sizeof buf);
        rr.text = buf;
    } else if (rr.type == kTypeCNAME || rr.type == kTypeNS) {
        // The target may be compressed against the whole message, so read it in place.
        Reader sub(wire.substr(0, rdstart + rdlen));
        sub.bytes(rdstart);
        rr.text = sub.name();
        if (sub.pos() != rdstart + rdlen) malformed("name in record data has trailing bytes");
    }
    return rr;
}

}  // namespace

std::string canonical_name(std::string_view name) {
    if (name.empty()) throw Error("empty DNS name");
    if (name == ".") return ".";
    std::string out;
    out.reserve(name.size() + 1);
    for (char c : name) out += char(std::tolower(static_cast<unsigned char>(c)));
    if (out.back() != '.') out += '.';
    size_t start = 0;
    while (start < out.size()) {
        size_t dot = out.find('.', start);
        if (dot == start) throw Error("DNS name '" + std::string(name) + "' has an empty label");
        if (dot - start > 63)
            throw Error("DNS name '" + std::string(name) + "' has a label longer than 63 bytes");
        start = dot + 1;
    }
    if (out.size() > 254) throw Error("DNS name '" + std::string(name) + "' is longer than 253 bytes");
    return out;
}

bool same_name(std::string_view a, std::string_view b) {
    if (!a.empty() && a.back() == '.') a.remove_suffix(1);
    if (!b.empty() && b.back() == '.') b.remove_suffix(1);
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

uint16_t type_code(const std::string& type) {
    if (type == "A") return kTypeA;
    if (type == "AAAA") return kTypeAAAA;
    if (type == "CNAME") return kTypeCNAME;
    if (type == "NS") return kTypeNS;
    if (type == "SOA") return kTypeSOA;
    throw Error("unsupported DNS record type '" + type + "' (supported: A, AAAA, CNAME, NS, SOA)");
}

std::string type_name(uint16_t type) {
    switch (type) {
        case kTypeA:
            return "A";
        case kTypeNS:
            return "NS";
        case kTypeCNAME:
            return "CNAME";
        case kTypeSOA:
            return "SOA";
        case kTypeAAAA:
            return "AAAA";
        default:
            return "TYPE" + std::to_string(type);
    }
}

std::vector<ResourceRecord> answer_records(const Message& m, std::string_view name, uint16_t type) {
    // Follow a CNAME chain inside the answer section, then collect the records of its end.
    std::string owner(name);
    for (int hops = 0; hops < 16 && type != kTypeCNAME; ++hops) {
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
    std::vector<ResourceRecord> out;
    for (const auto& rr : m.answers)
        if (rr.type == type && rr.klass == 1 && same_name(rr.name, owner)) out.push_back(rr);
    return out;
}

std::string rcode_name(int rcode) {
    switch (rcode) {
    case kNoError: return "NOERROR";
    case kFormErr: return "FORMERR";
    case kServFail: return "SERVFAIL";
    case kNXDomain: return "NXDOMAIN";
    case kNotImp: return "NOTIMP";
    case kRefused: return "REFUSED";
    case kYXDomain:
        return "YXDOMAIN";
    case kYXRRset:
        return "YXRRSET";
    case kNXRRset:
        return "NXRRSET";
    case kNotAuth:
        return "NOTAUTH";
    case kNotZone:
        return "NOTZONE";
    default: return "RCODE " + std::to_string(rcode);
    }
}

std::string encode_query(uint16_t id, std::string_view name, uint16_t type, bool rd) {
    Message m;
    m.id = id;
    m.rd = rd;
    m.questions.push_back({std::string(name), type, 1});
    return encode(m);
}

std::string encode(const Message& m) {
    std::string out;
    put16(out, m.id);
    uint16_t flags = uint16_t((m.qr ? 0x8000 : 0) | ((m.opcode & 0xF) << 11) | (m.aa ? 0x0400 : 0) |
                              (m.tc ? 0x0200 : 0) | (m.rd ? 0x0100 : 0) | (m.ra ? 0x0080 : 0) |
                              (m.rcode & 0xF));
    put16(out, flags);
    put16(out, uint16_t(m.questions.size()));
    put16(out, uint16_t(m.answers.size()));
    put16(out, uint16_t(m.authority.size()));
    put16(out, uint16_t(m.additional.size()));
    for (const auto& q : m.questions) {
        put_name(out, q.name);
        put16(out, q.type);
        put16(out, q.klass);
    }
    for (const auto* section : {&m.answers, &m.authority, &m.additional}) {
        for (const auto& rr : *section) {
            put_name(out, rr.name);
            put16(out, rr.type);
            put16(out, rr.klass);
            put32(out, rr.ttl);
            std::string rdata = rr.rdata;
            if (rdata.empty() && !rr.text.empty()) {
                unsigned char buf[16];
                if (rr.type == kTypeA && inet_pton(AF_INET, rr.text.c_str(), buf) == 1)
                    rdata.assign(reinterpret_cast<char*>(buf), 4);
                else if (rr.type == kTypeAAAA && inet_pton(AF_INET6, rr.text.c_str(), buf) == 1)
                    rdata.assign(reinterpret_cast<char*>(buf), 16);
                else if (rr.type == kTypeCNAME || rr.type == kTypeNS)
                    put_name(rdata, rr.text);
            }
            if (rdata.size() > 0xFFFF) throw Error("record data longer than 65535 bytes");
            put16(out, uint16_t(rdata.size()));
            out += rdata;
        }
    }
    return out;
}

Message decode(std::string_view wire) {
    if (wire.size() < kHeaderSize) malformed(std::to_string(wire.size()) + " bytes is shorter than a header");
    Reader r(wire);
    Message m;
    m.id = r.u16();
    uint16_t flags = r.u16();
    m.qr = flags & 0x8000;
    m.opcode = (flags >> 11) & 0xF;
    m.aa = flags & 0x0400;
    m.tc = flags & 0x0200;
    m.rd = flags & 0x0100;
    m.ra = flags & 0x0080;
    m.rcode = flags & 0xF;
    uint16_t qd = r.u16(), an = r.u16(), ns = r.u16(), ar = r.u16();
    try {
        for (uint16_t i = 0; i < qd; ++i) {
            Question q;
            q.name = r.name();
            q.type = r.u16();
            q.klass = r.u16();
            m.questions.push_back(std::move(q));
        }
        for (uint16_t i = 0; i < an; ++i) m.answers.push_back(read_record(r, wire));
    } catch (const Error&) {
        // A truncated message may stop anywhere; its header is all the caller needs to retry
        // over TCP.
        if (!m.tc) throw;
        return m;
    }
    if (m.tc) return m;
    for (uint16_t i = 0; i < ns; ++i) m.authority.push_back(read_record(r, wire));
    for (uint16_t i = 0; i < ar; ++i) m.additional.push_back(read_record(r, wire));
    return m;
}

}  // namespace decamp::dns
