// known_hosts parsing and matching (see known_hosts.hpp). HMAC-SHA1 for hashed entries comes
// from OpenSSL's libcrypto, linked privately (libssh2 depends on it already).
#include "transport/known_hosts.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

#include "transport/crypto.hpp"

namespace decamp::transport::known_hosts {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return s;
}

// OpenSSH's glob: * any run, ? one character; case-insensitive (names are lowercased).
bool glob(std::string_view pat, std::string_view s) {
    size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
    while (i < s.size()) {
        if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
            ++p;
            ++i;
        } else if (p < pat.size() && pat[p] == '*') {
            star = p++;
            mark = i;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            i = ++mark;
        } else {
            return false;
        }
    }
    while (p < pat.size() && pat[p] == '*') ++p;
    return p == pat.size();
}

std::string hmac_sha1(const std::string& key, const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha1(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
              data.size(), out, &len))
        return {};
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::vector<std::string> fields_of(std::string_view line) {
    std::vector<std::string> f;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) f.emplace_back(line.substr(start, i - start));
    }
    return f;
}

// Fills e from the host field; returns why it cannot, or "".
std::string parse_hosts(const std::string& field, Entry& e) {
    if (field.rfind("|1|", 0) == 0) {
        size_t bar = field.find('|', 3);
        if (bar == std::string::npos) return "malformed hashed host \"" + field + "\"";
        auto salt = detail::base64_decode(std::string_view(field).substr(3, bar - 3));
        auto digest = detail::base64_decode(std::string_view(field).substr(bar + 1));
        if (!salt || !digest || digest->size() != 20 || salt->empty())
            return "malformed hashed host \"" + field + "\"";
        e.hashed = true;
        e.salt = *salt;
        e.digest = *digest;
        return "";
    }
    if (field[0] == '|') return "unsupported hashed host format \"" + field + "\"";
    size_t start = 0;
    while (start <= field.size()) {
        size_t comma = field.find(',', start);
        if (comma == std::string::npos) comma = field.size();
        std::string p = field.substr(start, comma - start);
        if (p.empty() || p == "!") return "empty host pattern in \"" + field + "\"";
        e.patterns.push_back(lower(p));
        start = comma + 1;
    }
    return "";
}

}  // namespace

File parse(std::string_view text, const std::string& path) {
    File f;
    f.path = path;
    int n = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++n;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        auto fields = fields_of(line);
        if (fields.empty() || fields[0][0] == '#') continue;
        auto bad = [&](const std::string& why) { f.errors.push_back(path + ":" + std::to_string(n) + ": " + why); };
        Entry e;
        e.line = n;
        size_t i = 0;
        if (fields[0][0] == '@') {
            if (fields[0] == "@cert-authority") e.marker = Marker::CertAuthority;
            else if (fields[0] == "@revoked") e.marker = Marker::Revoked;
            else {
                bad("unknown marker \"" + fields[0] + "\" (expected @cert-authority or @revoked)");
                continue;
            }
            i = 1;
        }
        if (fields.size() < i + 3) {
            bad("expected \"hosts key-type base64-key\"");
            continue;
        }
        if (auto why = parse_hosts(fields[i], e); !why.empty()) {
            bad(why);
            continue;
        }
        e.key_type = fields[i + 1];
        auto key = detail::base64_decode(fields[i + 2]);
        if (!key || key->empty()) {
            bad("the key of type " + e.key_type + " is not valid base64");
            continue;
        }
        e.key = std::move(*key);
        f.entries.push_back(std::move(e));
    }
    return f;
}

File read_file(const std::string& path) {
    std::error_code ec;
    auto st = fs::status(path, ec);
    if (!fs::exists(st)) return File{path, {}, {}};
    if (!fs::is_regular_file(st) && !fs::is_character_file(st) && !fs::is_fifo(st))
        return File{path, {}, {path + ": not a regular file"}};
    std::ifstream in(path, std::ios::binary);
    if (!in) return File{path, {}, {path + ": cannot read: " + std::strerror(errno)}};
    std::stringstream ss;
    ss << in.rdbuf();
    return parse(ss.str(), path);
}

std::string host_field(const std::string& address, int port) {
    if (port == 22) return address;
    return "[" + address + "]:" + std::to_string(port);
}

bool matches(const Entry& e, const std::string& address, int port) {
    std::string name = lower(host_field(address, port));
    if (e.hashed) return hmac_sha1(e.salt, name) == e.digest;
    bool hit = false;
    for (const auto& p : e.patterns) {
        if (p[0] == '!') {
            if (glob(std::string_view(p).substr(1), name)) return false;
        } else if (glob(p, name)) {
            hit = true;
        }
    }
    return hit;
}

Check check(const File& f, const std::string& address, int port, std::string_view /*key_type*/,
            std::string_view key) {
    Check c;
    // A revoked key is refused whatever host its line names: it must never be accepted.
    for (const auto& e : f.entries)
        if (e.marker == Marker::Revoked && e.key == key) {
            c.verdict = Verdict::Revoked;
            c.entry = &e;
            return c;
        }
    const Entry* ca = nullptr;
    for (const auto& e : f.entries) {
        if (e.marker == Marker::Revoked || !matches(e, address, port)) continue;
        if (e.marker == Marker::CertAuthority) {
            if (!ca) ca = &e;
            continue;
        }
        c.pinned.push_back(&e);
        if (e.key == key) {  // the blob names its own type
            c.verdict = Verdict::Match;
            c.entry = &e;
            return c;
        }
    }
    if (!c.pinned.empty()) c.verdict = Verdict::Mismatch;
    else if (ca) {
        c.verdict = Verdict::CertOnly;
        c.entry = ca;
    }
    return c;
}

std::string format_line(const std::string& address, int port, std::string_view key_type,
                        std::string_view key) {
    return host_field(address, port) + " " + std::string(key_type) + " " + detail::base64_encode(key);
}

void append(const std::string& path, const std::vector<std::string>& lines) {
    static std::mutex mu;
    std::lock_guard lock(mu);
    auto fail = [&](const std::string& why) {
        throw std::runtime_error("cannot write known_hosts file " + path + ": " + why);
    };
    std::error_code ec;
    fs::path target = path;
    if (fs::is_symlink(fs::symlink_status(target, ec))) {
        target = fs::canonical(target, ec);  // write where the link points, keep the link
        if (ec) fail("it is a symbolic link to a missing file");
    }
    fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    if (!fs::is_directory(dir, ec)) fail("directory " + dir.string() + " does not exist");
    std::string content;
    mode_t mode = 0600;
    struct stat st {};
    if (::stat(target.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode)) fail("not a regular file");
        mode = st.st_mode & 07777;
        std::ifstream in(target, std::ios::binary);
        if (!in) fail(std::string("cannot read it: ") + std::strerror(errno));
        std::stringstream ss;
        ss << in.rdbuf();
        content = ss.str();
    } else if (errno != ENOENT) {
        fail(std::strerror(errno));
    }
    if (!content.empty() && content.back() != '\n') content += '\n';
    for (const auto& l : lines) content += l + "\n";

    std::random_device rd;
    std::string tmp;
    int fd = -1;
    for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
        char name[64];
        std::snprintf(name, sizeof name, ".%s.%08x%08x.tmp", target.filename().c_str(), rd(), rd());
        tmp = (dir / name).string();
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) fail(std::string("cannot create a temp file in ") + dir.string() + ": " + std::strerror(errno));
    }
    if (fd < 0) fail("cannot create a temp file in " + dir.string());
    auto abandon = [&](const std::string& why) {
        ::close(fd);
        ::unlink(tmp.c_str());
        fail(why);
    };
    size_t off = 0;
    while (off < content.size()) {
        ssize_t w = ::write(fd, content.data() + off, content.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) abandon(std::string("write failed: ") + std::strerror(errno));
        off += size_t(w);
    }
    if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) abandon(std::string("cannot finish the temp file: ") + std::strerror(errno));
    ::close(fd);
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        fail(std::string("rename failed: ") + std::strerror(err));
    }
}

}  // namespace decamp::transport::known_hosts
