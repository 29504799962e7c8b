// Offline checks of a TSIG key as the inventory gives it (no libldns here: the loader uses
// them, and only rfc2136.cpp sees ldns.h).
#include <array>
#include <string>

#include "dns/dns.hpp"

namespace decamp::dns {

namespace {

constexpr std::array<const char*, 5> kAlgorithms = {"hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384",
                                                    "hmac-sha512"};

bool is_b64(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

}  // namespace

std::string check_tsig_algorithm(const std::string& algorithm) {
    for (const char* a : kAlgorithms)
        if (algorithm == a) return "";
    std::string known;
    for (const char* a : kAlgorithms) known += (known.empty() ? "" : ", ") + std::string(a);
    if (algorithm == "hmac-md5" || algorithm == "hmac-md5.sig-alg.reg.int")
        return "hmac-md5 is deprecated (RFC 8945); use hmac-sha256 (known: " + known + ")";
    return "expected a TSIG algorithm: " + known;
}

std::string check_tsig_secret(const std::string& secret) {
    // Padded base64 as tsig-keygen and keymgr print it: groups of 4, '=' only at the end.
    std::string why = "expected the key as base64 (what tsig-keygen or keymgr -t print after secret)";
    if (secret.empty() || secret.size() % 4 != 0) return why;
    size_t pad = 0;
    while (pad < 2 && secret[secret.size() - 1 - pad] == '=') ++pad;
    for (size_t i = 0; i + pad < secret.size(); ++i)
        if (!is_b64(secret[i])) return why;
    if (secret.size() - pad < 16)
        return "the key is too short: at least 16 base64 characters (use tsig-keygen)";
    return "";
}

}  // namespace decamp::dns
