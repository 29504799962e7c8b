// The trust store's expectation matched against a presented host key (host_trust.hpp).
// MD5 comes from OpenSSL's libcrypto, linked privately (libssh2 depends on it already).
#include "transport/host_trust.hpp"

#include <openssl/evp.h>

#include "transport/crypto.hpp"
#include "transport/known_hosts.hpp"
#include "transport/transport.hpp"

namespace decamp::transport {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
}

std::string strip_padding(std::string_view s) {
    while (!s.empty() && s.back() == '=') s.remove_suffix(1);
    return std::string(s);
}

}  // namespace

std::string fingerprint_md5(std::string_view key_blob) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(key_blob.data(), key_blob.size(), md, &len, EVP_md5(), nullptr)) return {};
    static const char* const kHex = "0123456789abcdef";
    std::string out = "MD5:";
    for (unsigned int i = 0; i < len; ++i) {
        if (i) out += ':';
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 15];
    }
    return out;
}

bool fingerprint_matches(std::string_view fingerprint, std::string_view key_type, std::string_view blob) {
    std::string_view fp = fingerprint;
    if (auto space = fp.find(' '); space != std::string_view::npos) {
        // "ssh-ed25519", or Robot's "ED25519" / "RSA" / "ECDSA": another type of the same host
        // is no match.
        if (std::string(key_type).find(lower(fp.substr(0, space))) == std::string::npos) return false;
        fp = fp.substr(space + 1);
    }
    if (fp.rfind("SHA256:", 0) == 0) return strip_padding(fp) == strip_padding(fingerprint_sha256(blob));
    if (fp.rfind("MD5:", 0) == 0 || fp.rfind("md5:", 0) == 0) fp.remove_prefix(4);
    // Robot's bare form: 16 colon-separated hex bytes.
    if (fp.size() != 47) return false;
    return lower(fp) == fingerprint_md5(blob).substr(4);
}

TrustVerdict judge(const HostTrust& trust, std::string_view key_type, std::string_view blob) {
    if (trust.keys.empty() && trust.fingerprints.empty()) return TrustVerdict::NoKey;
    for (const auto& k : trust.keys) {
        known_hosts::File f = known_hosts::parse("x " + k, "trust");
        if (f.entries.size() == 1 && f.entries[0].key == blob) return TrustVerdict::Match;
    }
    for (const auto& fp : trust.fingerprints)
        if (fingerprint_matches(fp, key_type, blob)) return TrustVerdict::Match;
    return TrustVerdict::Mismatch;
}

}  // namespace decamp::transport
