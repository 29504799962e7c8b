// Internal to transport/: the little cryptography and encoding host-key handling needs
// (SHA-256 and base64), kept here so no header pulls in OpenSSL or libssh2.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace decamp::transport::detail {

std::array<std::uint8_t, 32> sha256(std::string_view data);

std::string base64_encode(std::string_view data, bool pad = true);
// nullopt when `text` is not valid base64 (padding optional).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace decamp::transport::detail
