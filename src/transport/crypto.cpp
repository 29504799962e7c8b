// SHA-256 and base64 for OpenSSH-style host key fingerprints, on top of util/sha256 and
// shell::base64 (both OpenSSL's libcrypto underneath).
#include "transport/crypto.hpp"

#include "transport/transport.hpp"
#include "util/sha256.hpp"
#include "util/shell.hpp"

namespace decamp::transport {
namespace detail {

std::array<std::uint8_t, 32> sha256(std::string_view data) {
    util::Sha256 h;
    h.update(data);
    return h.finish();
}

std::string base64_encode(std::string_view data, bool pad) {
    std::string out = shell::base64(data);
    if (!pad)
        while (!out.empty() && out.back() == '=') out.pop_back();
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+') v = 62;
        else if (c == '/') v = 63;
        else return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    if (bits >= 6) return std::nullopt;  // a lone trailing character is not base64
    return out;
}

}  // namespace detail

std::string fingerprint_sha256(std::string_view key_blob) {
    auto digest = detail::sha256(key_blob);
    return "SHA256:" + detail::base64_encode(
                           std::string_view(reinterpret_cast<const char*>(digest.data()), 32),
                           /*pad=*/false);
}

}  // namespace decamp::transport
