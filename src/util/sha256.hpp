// SHA-256 (FIPS 180-4), pure and small: copy/template compare a file's `sha256sum` on the
// host with the digest of the desired content computed here.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace decamp::util {

class Sha256 {
public:
    Sha256();
    void update(std::string_view data);
    std::array<uint8_t, 32> finish();

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t buf_len_ = 0;
    uint64_t total_ = 0;
};

// Lower-case hex digest, as sha256sum prints it.
std::string sha256_hex(std::string_view data);

}  // namespace decamp::util
