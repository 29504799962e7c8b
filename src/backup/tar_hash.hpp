// Reads a tar stream as it flows by (GNU, ustar and pax headers) and computes the sha256
// of every regular file in it, keyed by the path relative to the archive root ("./a/b" →
// "a/b"), the same keys migrate::files::checksums gives for a tree on a host. The manifest
// thereby records the file checksums of exactly what went into the backup, even while
// the tree changes under tar.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "util/sha256.hpp"

namespace decamp::backup {

class TarHasher {
public:
    void feed(std::string_view data);
    // True once the two zero blocks that end an archive were seen.
    bool ended() const { return ended_; }
    const std::map<std::string, std::string>& files() const { return files_; }

private:
    void header(const std::string& h);
    void entry_done();
    std::string hdr_;
    uint64_t left_ = 0;      // data bytes of the current entry still to come
    uint64_t pad_ = 0;       // padding after it
    enum class Data { Skip, Hash, LongName, Pax } data_ = Data::Skip;
    std::string meta_;       // GNU long name or pax header being collected
    std::string next_name_;  // from an L or x entry, for the next header
    std::string cur_name_;
    std::unique_ptr<util::Sha256> sha_;
    std::map<std::string, std::string> files_;
    int zeros_ = 0;
    bool ended_ = false;
};

std::string hex(const uint8_t* p, size_t n);
// "./a/b" → "a/b", "a/" → "a"; "" for the root itself.
std::string normalize_tar_path(std::string name);

}  // namespace decamp::backup
