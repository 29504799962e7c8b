// Walks a tar stream as it flows by (POSIX ustar with prefix, GNU long names and base-256
// sizes and link names, pax `path` and `linkpath` records): one parser for the backups' file checksums and the files
// mover's count. Long-name and pax records are folded into the entry they describe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace decamp::util {

class TarStream {
public:
    struct Entry {
        std::string name;  // as archived ("./a/b"), long and pax names applied
        std::string link;  // link target (hard '1' and symbolic '2' links)
        char type = '0';
        uint64_t size = 0;
        bool regular() const { return type == '0' || type == '\0' || type == '7'; }
    };
    class Handler {
    public:
        virtual ~Handler() = default;
        virtual void entry(const Entry& /*e*/) {}
        virtual void data(std::string_view /*chunk*/) {}  // a regular file's bytes
        virtual void entry_end() {}                        // after the last data chunk
    };

    explicit TarStream(Handler& h) : h_(h) {}
    void feed(std::string_view d);
    // True once the two zero blocks that end an archive were seen.
    bool ended() const { return ended_; }

private:
    void header(const std::string& h);
    void done();
    Handler& h_;
    std::string hdr_;
    uint64_t left_ = 0, pad_ = 0;  // data still to come of this entry, then padding
    enum class Data { Skip, File, LongName, LongLink, Pax } data_ = Data::Skip;
    std::string meta_, next_name_, next_link_;
    int zeros_ = 0;
    bool reported_ = false;  // the current entry went to the handler
    bool ended_ = false;
};

// "./a/b" → "a/b", "a/" → "a"; "" for the root itself.
std::string normalize_tar_path(std::string name);

}  // namespace decamp::util
