#include "util/sha256.hpp"

#include <openssl/evp.h>

#include <new>
#include <stdexcept>
#include <utility>

namespace decamp::util {

namespace {

// libcrypto fails here only when it cannot allocate (or SHA-256 is disabled by a FIPS
// configuration): nothing a caller could handle.
void check(int ok) {
    if (ok != 1) throw std::runtime_error("OpenSSL SHA-256 failed");
}

EVP_MD_CTX* fresh() {
    EVP_MD_CTX* c = EVP_MD_CTX_new();
    if (!c) throw std::bad_alloc();
    if (EVP_DigestInit_ex(c, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(c);
        throw std::runtime_error("OpenSSL SHA-256 failed");
    }
    return c;
}

}  // namespace

Sha256::Sha256() : ctx_(fresh()) {}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

Sha256::Sha256(const Sha256& other) : ctx_(other.ctx_ ? EVP_MD_CTX_new() : fresh()) {
    if (!ctx_) throw std::bad_alloc();
    if (other.ctx_ && EVP_MD_CTX_copy_ex(ctx_, other.ctx_) != 1) {
        EVP_MD_CTX_free(ctx_);
        throw std::runtime_error("OpenSSL SHA-256 failed");
    }
}

Sha256& Sha256::operator=(const Sha256& other) {
    if (this != &other) {
        Sha256 copy(other);
        std::swap(ctx_, copy.ctx_);
    }
    return *this;
}

// A moved-from Sha256 has no context; update() or finish() start a fresh one.
Sha256::Sha256(Sha256&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
    std::swap(ctx_, other.ctx_);
    return *this;
}

void Sha256::update(std::string_view data) {
    if (!ctx_) ctx_ = fresh();
    check(EVP_DigestUpdate(ctx_, data.data(), data.size()));
}

std::array<uint8_t, 32> Sha256::finish() {
    if (!ctx_) ctx_ = fresh();
    std::array<uint8_t, 32> out{};
    unsigned len = 0;
    check(EVP_DigestFinal_ex(ctx_, out.data(), &len));
    check(EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr));
    return out;
}

std::string sha256_hex(std::string_view data) {
    Sha256 s;
    s.update(data);
    auto d = s.finish();
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(64);
    for (uint8_t b : d) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

}  // namespace decamp::util
