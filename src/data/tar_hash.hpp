// Reads a tar stream as it flows by (GNU, ustar and pax headers) and computes the sha256
// of every regular file in it, keyed by the path relative to the archive root ("./a/b" →
// "a/b"), the same keys data::files::checksums gives for a tree on a host. The manifest
// thereby records the file checksums of exactly what went into the backup, even while
// the tree changes under tar.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "util/sha256.hpp"
#include "util/tar_stream.hpp"

namespace decamp::data {

class TarHasher : private util::TarStream::Handler {
public:
    TarHasher() : tar_(*this) {}
    void feed(std::string_view data) { tar_.feed(data); }
    // True once the two zero blocks that end an archive were seen.
    bool ended() const { return tar_.ended(); }
    const std::map<std::string, std::string>& files() const { return files_; }

private:
    void entry(const util::TarStream::Entry& e) override;
    void data(std::string_view chunk) override;
    void entry_end() override;
    util::TarStream tar_;
    std::string cur_name_;
    std::unique_ptr<util::Sha256> sha_;
    std::map<std::string, std::string> files_;
};

std::string hex(const uint8_t* p, size_t n);
using util::normalize_tar_path;

}  // namespace decamp::data
