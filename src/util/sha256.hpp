// SHA-256 through OpenSSL's libcrypto: copy/template compare a file's `sha256sum` on the
// host with the digest of the desired content, backups hash every file that streams by.
// The header keeps OpenSSL out of its includers (EVP_MD_CTX is only forward-declared).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace decamp::util {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256& other);
    Sha256& operator=(const Sha256& other);
    Sha256(Sha256&& other) noexcept;
    Sha256& operator=(Sha256&& other) noexcept;

    void update(std::string_view data);
    // The digest of everything fed so far; the hash starts over afterwards.
    std::array<uint8_t, 32> finish();

private:
    evp_md_ctx_st* ctx_;
};

// Lower-case hex digest, as sha256sum prints it.
std::string sha256_hex(std::string_view data);

}  // namespace decamp::util
