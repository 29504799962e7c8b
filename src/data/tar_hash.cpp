#include "data/tar_hash.hpp"

namespace decamp::data {

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

void TarHasher::entry(const util::TarStream::Entry& e) {
    cur_name_ = normalize_tar_path(e.name);
    if (e.regular()) {
        sha_ = std::make_unique<util::Sha256>();
    } else if (e.type == '1') {
        // A hard link carries no data: the same content as the file it links to.
        auto it = files_.find(normalize_tar_path(e.link));
        if (it != files_.end() && !cur_name_.empty()) files_[cur_name_] = it->second;
    }
}

void TarHasher::data(std::string_view chunk) {
    if (sha_) sha_->update(chunk);
}

void TarHasher::entry_end() {
    if (!sha_) return;
    auto digest = sha_->finish();
    if (!cur_name_.empty()) files_[cur_name_] = hex(digest.data(), digest.size());
    sha_.reset();
}

}  // namespace decamp::data
