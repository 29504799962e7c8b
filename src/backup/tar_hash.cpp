#include "backup/tar_hash.hpp"

#include <algorithm>
#include <cstring>

namespace decamp::backup {

namespace {

uint64_t octal_or_base256(const std::string& h, size_t off, size_t len) {
    uint64_t v = 0;
    if (static_cast<unsigned char>(h[off]) & 0x80) {
        for (size_t i = off + 1; i < off + len; ++i) v = v << 8 | static_cast<unsigned char>(h[i]);
        return v;
    }
    for (size_t i = off; i < off + len; ++i) {
        char c = h[i];
        if (c >= '0' && c <= '7') v = v * 8 + uint64_t(c - '0');
        else if (c != ' ' || v) break;
    }
    return v;
}

std::string field(const std::string& h, size_t off, size_t len) {
    std::string s = h.substr(off, len);
    size_t z = s.find('\0');
    return z == std::string::npos ? s : s.substr(0, z);
}

// pax records: "<len> key=value\n"
std::string pax_path(const std::string& rec) {
    size_t at = 0;
    std::string path;
    while (at < rec.size()) {
        size_t sp = rec.find(' ', at);
        if (sp == std::string::npos) break;
        uint64_t len = 0;
        try {
            len = std::stoull(rec.substr(at, sp - at));
        } catch (...) {
            break;
        }
        if (len == 0 || at + len > rec.size()) break;
        std::string kv = rec.substr(sp + 1, at + len - sp - 2);  // without the newline
        if (kv.rfind("path=", 0) == 0) path = kv.substr(5);
        at += len;
    }
    return path;
}

}  // namespace

std::string hex(const uint8_t* p, size_t n) {
    static const char* d = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (size_t i = 0; i < n; ++i) {
        out += d[p[i] >> 4];
        out += d[p[i] & 15];
    }
    return out;
}

std::string normalize_tar_path(std::string name) {
    while (name.rfind("./", 0) == 0) name.erase(0, 2);
    while (!name.empty() && name.back() == '/') name.pop_back();
    if (name == ".") name.clear();
    return name;
}

void TarHasher::feed(std::string_view d) {
    while (!d.empty() && !ended_) {
        if (left_) {
            size_t n = size_t(std::min<uint64_t>(left_, d.size()));
            std::string_view part = d.substr(0, n);
            if (data_ == Data::Hash) sha_->update(part);
            else if (data_ == Data::LongName || data_ == Data::Pax) meta_.append(part);
            left_ -= n;
            d.remove_prefix(n);
            if (!left_) entry_done();
            continue;
        }
        if (pad_) {
            size_t n = size_t(std::min<uint64_t>(pad_, d.size()));
            pad_ -= n;
            d.remove_prefix(n);
            continue;
        }
        size_t take = std::min(512 - hdr_.size(), d.size());
        hdr_.append(d.substr(0, take));
        d.remove_prefix(take);
        if (hdr_.size() == 512) {
            std::string h;
            h.swap(hdr_);
            header(h);
        }
    }
}

void TarHasher::header(const std::string& h) {
    if (std::all_of(h.begin(), h.end(), [](char c) { return c == 0; })) {
        if (++zeros_ == 2) ended_ = true;
        return;
    }
    zeros_ = 0;
    const char type = h[156];
    const uint64_t size = octal_or_base256(h, 124, 12);
    std::string name = field(h, 0, 100);
    // POSIX ustar (magic "ustar\0") splits long names into prefix/name; GNU's "ustar  "
    // uses that area for other things.
    if (h.compare(257, 6, std::string("ustar\0", 6)) == 0) {
        std::string prefix = field(h, 345, 155);
        if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (!next_name_.empty() && type != 'L' && type != 'x' && type != 'K') {
        name = next_name_;
        next_name_.clear();
    }
    cur_name_ = normalize_tar_path(name);
    data_ = Data::Skip;
    meta_.clear();
    if (type == 'L') data_ = Data::LongName;
    else if (type == 'x') data_ = Data::Pax;
    else if (type == '0' || type == '\0' || type == '7') {
        data_ = Data::Hash;
        sha_ = std::make_unique<util::Sha256>();
    } else if (type == '1') {
        // A hard link carries no data: the same content as the file it links to.
        auto it = files_.find(normalize_tar_path(field(h, 157, 100)));
        if (it != files_.end() && !cur_name_.empty()) files_[cur_name_] = it->second;
    }
    // Links, devices, directories and fifos have no data whatever their size field says.
    const bool has_data = !(type >= '1' && type <= '6');
    left_ = has_data ? size : 0;
    pad_ = has_data ? (512 - size % 512) % 512 : 0;
    if (!left_) entry_done();
}

void TarHasher::entry_done() {
    if (data_ == Data::Hash) {
        auto digest = sha_->finish();
        if (!cur_name_.empty()) files_[cur_name_] = hex(digest.data(), digest.size());
        sha_.reset();
    } else if (data_ == Data::LongName) {
        next_name_ = meta_.substr(0, meta_.find('\0'));
        if (next_name_.empty()) next_name_ = ".";
    } else if (data_ == Data::Pax) {
        std::string p = pax_path(meta_);
        if (!p.empty()) next_name_ = p;
    }
    data_ = Data::Skip;
    meta_.clear();
}

}  // namespace decamp::backup
