#include "util/tar_stream.hpp"

#include <algorithm>

namespace decamp::util {

namespace {

uint64_t octal_or_base256(const std::string& h, size_t off, size_t len) {
    uint64_t v = 0;
    if (static_cast<unsigned char>(h[off]) & 0x80) {  // GNU base-256, for sizes past 8 GiB
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

// pax records: "<len> key=value\n"; the value of `key` ("" when absent).
std::string pax_value(const std::string& rec, const std::string& key) {
    size_t at = 0;
    std::string value;
    while (at < rec.size()) {
        size_t sp = rec.find(' ', at);
        if (sp == std::string::npos) break;
        uint64_t len = 0;
        try {
            len = std::stoull(rec.substr(at, sp - at));
        } catch (...) {
            break;
        }
        if (len == 0 || at + len > rec.size() || sp + 1 >= at + len) break;
        std::string kv = rec.substr(sp + 1, at + len - sp - 2);  // without the newline
        if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=')
            value = kv.substr(key.size() + 1);
        at += len;
    }
    return value;
}

}  // namespace

std::string normalize_tar_path(std::string name) {
    while (name.rfind("./", 0) == 0) name.erase(0, 2);
    while (!name.empty() && name.back() == '/') name.pop_back();
    if (name == ".") name.clear();
    return name;
}

void TarStream::feed(std::string_view d) {
    while (!d.empty() && !ended_) {
        if (left_) {
            size_t n = size_t(std::min<uint64_t>(left_, d.size()));
            std::string_view part = d.substr(0, n);
            if (data_ == Data::File) h_.data(part);
            else if (data_ != Data::Skip) meta_.append(part);
            left_ -= n;
            d.remove_prefix(n);
            if (!left_) done();
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

void TarStream::header(const std::string& h) {
    if (std::all_of(h.begin(), h.end(), [](char c) { return c == 0; })) {
        if (++zeros_ == 2) ended_ = true;
        return;
    }
    zeros_ = 0;
    Entry e;
    e.type = h[156];
    e.size = octal_or_base256(h, 124, 12);
    e.name = field(h, 0, 100);
    // POSIX ustar (magic "ustar\0") splits long names into prefix/name; GNU's "ustar  "
    // uses that area for other things.
    if (h.compare(257, 6, std::string("ustar\0", 6)) == 0) {
        std::string prefix = field(h, 345, 155);
        if (!prefix.empty()) e.name = prefix + "/" + e.name;
    }
    e.link = field(h, 157, 100);
    const bool meta = e.type == 'L' || e.type == 'x' || e.type == 'K' || e.type == 'g';
    if (!meta) {
        if (!next_name_.empty()) e.name = next_name_;
        if (!next_link_.empty()) e.link = next_link_;
        next_name_.clear();
        next_link_.clear();
    }
    meta_.clear();
    data_ = e.type == 'L'   ? Data::LongName
            : e.type == 'K' ? Data::LongLink
            : e.type == 'x' ? Data::Pax
            : e.regular()   ? Data::File
                            : Data::Skip;
    reported_ = !meta;
    if (reported_) h_.entry(e);
    // Links, devices, directories and fifos have no data whatever their size field says.
    const bool has_data = !(e.type >= '1' && e.type <= '6');
    left_ = has_data ? e.size : 0;
    pad_ = has_data ? (512 - e.size % 512) % 512 : 0;
    if (!left_) done();
}

void TarStream::done() {
    if (data_ == Data::LongName) {
        next_name_ = meta_.substr(0, meta_.find('\0'));
        if (next_name_.empty()) next_name_.assign(1, '.');
    } else if (data_ == Data::LongLink) {
        next_link_ = meta_.substr(0, meta_.find('\0'));
    } else if (data_ == Data::Pax) {
        if (std::string p = pax_value(meta_, "path"); !p.empty()) next_name_ = p;
        if (std::string l = pax_value(meta_, "linkpath"); !l.empty()) next_link_ = l;
    }
    if (reported_) h_.entry_end();
    reported_ = false;
    data_ = Data::Skip;
    meta_.clear();
}

}  // namespace decamp::util
