#include "provider/host_key.hpp"

#include <openssl/evp.h>

#include <memory>
#include <random>

#include "util/error.hpp"
#include "util/secret.hpp"
#include "util/shell.hpp"

namespace decamp::provider {

namespace {

struct PkeyDeleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CtxDeleter {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

// SSH wire encoding (RFC 4251): uint32 big-endian, string = length + bytes.
void put_u32(std::string& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}
void put_string(std::string& out, const std::string& s) {
    put_u32(out, static_cast<uint32_t>(s.size()));
    out += s;
}

std::string wrap(const std::string& b64, size_t width) {
    std::string out;
    for (size_t i = 0; i < b64.size(); i += width) out += b64.substr(i, width) + "\n";
    return out;
}

// YAML block scalar lines, indented.
std::string indented(const std::string& text, const std::string& pad) {
    std::string out;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        out += pad + line + "\n";
        if (nl == std::string::npos) break;
        start = nl + 1;
    }
    return out;
}

}  // namespace

HostKeyPair generate_host_key(const std::string& comment) {
    std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0 || EVP_PKEY_keygen(ctx.get(), &raw) <= 0)
        throw Error("could not generate an Ed25519 host key (OpenSSL)");
    std::unique_ptr<EVP_PKEY, PkeyDeleter> key(raw);
    unsigned char pub[32], priv[32];
    size_t pub_len = sizeof pub, priv_len = sizeof priv;
    if (EVP_PKEY_get_raw_public_key(key.get(), pub, &pub_len) <= 0 ||
        EVP_PKEY_get_raw_private_key(key.get(), priv, &priv_len) <= 0 || pub_len != 32 || priv_len != 32)
        throw Error("could not read the generated Ed25519 host key (OpenSSL)");
    std::string pub_raw(reinterpret_cast<char*>(pub), 32), priv_raw(reinterpret_cast<char*>(priv), 32);

    std::string blob;
    put_string(blob, "ssh-ed25519");
    put_string(blob, pub_raw);

    // PROTOCOL.key: an unencrypted openssh-key-v1 container with one key.
    std::random_device rd;
    uint32_t check = rd();
    std::string secret;
    put_u32(secret, check);
    put_u32(secret, check);
    put_string(secret, "ssh-ed25519");
    put_string(secret, pub_raw);
    put_string(secret, priv_raw + pub_raw);
    put_string(secret, comment);
    for (char pad = 1; secret.size() % 8 != 0; ++pad) secret += pad;
    std::string file = std::string("openssh-key-v1") + '\0';
    put_string(file, "none");
    put_string(file, "none");
    put_string(file, "");
    put_u32(file, 1);
    put_string(file, blob);
    put_string(file, secret);

    HostKeyPair pair;
    pair.type = "ssh-ed25519";
    pair.public_line = "ssh-ed25519 " + shell::base64(blob) + (comment.empty() ? "" : " " + comment);
    pair.private_pem = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + wrap(shell::base64(file), 70) +
                       "-----END OPENSSH PRIVATE KEY-----\n";
    redactor().add(pair.private_pem);
    return pair;
}

std::string key_of(const std::string& public_line) {
    size_t sp = public_line.find(' ');
    if (sp == std::string::npos) return public_line;
    size_t end = public_line.find(' ', sp + 1);
    return public_line.substr(0, end);
}

std::string cloud_config(const std::string& hostname, const std::string& authorized_key,
                         const HostKeyPair& key) {
    std::string type = key.type.substr(key.type.find('-') + 1);  // "ed25519"
    std::string out = "#cloud-config\n";
    out += "hostname: " + hostname + "\n";
    out += "ssh_deletekeys: true\n";
    out += "ssh_genkeytypes: []\n";
    if (!authorized_key.empty()) out += "ssh_authorized_keys:\n  - " + authorized_key + "\n";
    out += "ssh_keys:\n";
    out += "  " + type + "_private: |\n" + indented(key.private_pem, "    ");
    out += "  " + type + "_public: " + key_of(key.public_line) + "\n";
    return out;
}

std::string host_key_script(const HostKeyPair& key) {
    std::string type = key.type.substr(key.type.find('-') + 1);
    std::string file = "/etc/ssh/ssh_host_" + type + "_key";
    return "#!/bin/sh\n"
           "# decamp: the host key decamp generated, so it knows this server before first contact\n"
           "set -e\n"
           "rm -f /etc/ssh/ssh_host_*\n"
           "umask 077\n"
           "cat > " +
           file + " <<'DECAMP_HOST_KEY'\n" + key.private_pem +
           "DECAMP_HOST_KEY\n"
           "printf '%s\\n' " +
           shell::quote(key_of(key.public_line)) + " > " + file +
           ".pub\n"
           "chmod 600 " +
           file +
           "\n"
           "chmod 644 " +
           file + ".pub\n";
}

}  // namespace decamp::provider
