// Files data mover. tar runs on both hosts; the archive flows through this process
// (transport/pump: the source's stdout fills a bounded queue that the target's stdin
// drains). Whichever side fails stops the other: a dead target stops the source; a dead
// source kills the target's tar rather than ending its input.
//
// File names only ever travel NUL-separated (find -print0, tar --null, xargs -0,
// sha256sum -z), so names with newlines, quotes or leading dashes are just data.
#include "data/files_sync.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "transport/pump.hpp"
#include "util/error.hpp"
#include "util/shell.hpp"
#include "util/tar_stream.hpp"
#include "util/text.hpp"

namespace decamp::data::files {

namespace {

using shell::quote;
using Clock = std::chrono::steady_clock;

using util::output_tail;

std::string status(const transport::RunResult& r) {
    return r.timed_out ? "timed out" : "exit " + std::to_string(r.exit_status);
}

// Counts regular files in a tar stream as it goes by.
class TarCounter : private util::TarStream::Handler {
public:
    void feed(std::string_view d) { tar_.feed(d); }
    uint64_t files() const { return files_; }
    bool ended() const { return tar_.ended(); }

private:
    void entry(const util::TarStream::Entry& e) override { files_ += e.regular() ? 1 : 0; }
    util::TarStream tar_{*this};
    uint64_t files_ = 0;
};

// Streams `src_cmd`'s stdout into `dst_cmd`'s stdin through the one pump. Source exit 1
// counts as success: GNU tar says a file changed while it was read, and the next pass picks
// that file up. The target's tar may stop reading after the end-of-archive blocks.
SyncStats stream(transport::Transport& source, transport::Transport& target, const std::string& src_cmd,
                 const std::string& dst_cmd, const std::string& what) {
    TarCounter counter;
    auto pr = transport::pump(
        source, src_cmd, target, dst_cmd, [&](std::string_view d) { counter.feed(d); }, what, 1,
        [&] { return counter.ended(); });
    SyncStats st;
    st.bytes = pr.bytes;
    st.files = counter.files();
    st.seconds = pr.seconds;
    return st;
}

std::string parent_of(const std::string& path) {
    std::string p = std::filesystem::path(path).parent_path().string();
    return p.empty() ? "." : p;
}

void check_paths(const std::string& path, const std::string& marker) {
    if (path.empty() || path[0] != '/') throw Error("files path '" + path + "' must be absolute");
    if (!marker.empty() && marker[0] != '/')
        throw Error("files marker '" + marker + "' must be absolute");
}

std::vector<std::string> split_nul(const std::string& s) {
    std::vector<std::string> out;
    size_t at = 0;
    while (at < s.size()) {
        size_t end = s.find('\0', at);
        if (end == std::string::npos) end = s.size();
        out.push_back(s.substr(at, end - at));
        at = end + 1;
    }
    return out;
}

std::string must_run(transport::Transport& t, const std::string& what, const std::string& cmd,
                     const transport::RunOptions& o = {}) {
    auto r = t.run(cmd, o);
    if (r.exit_status != 0)
        throw Error(t.describe() + ": " + what + " failed (" + status(r) + "): " + output_tail(r.err));
    return r.out;
}

// Every entry of the tree below `path` as "./rel", NUL-separated.
std::string list_cmd(const std::string& path) {
    return "cd -- " + quote(path) + " && find . -mindepth 1 -print0";
}

// Only names find could print below "." are deleted: never "..", never absolute.
bool safe_entry(const std::string& e) {
    if (e.size() < 3 || e.compare(0, 2, "./") != 0) return false;
    size_t at = 2;
    while (at <= e.size()) {
        size_t end = e.find('/', at);
        if (end == std::string::npos) end = e.size();
        std::string_view part(e.data() + at, end - at);
        if (part.empty() || part == "." || part == "..") return false;
        at = end + 1;
    }
    return true;
}

}  // namespace

uint64_t tree_size(transport::Transport& t, const std::string& path) {
    std::string out = must_run(t, "measuring " + path,
                               "if [ -e " + quote(path) + " ]; then du -sb -- " + quote(path) +
                                   " | cut -f1; else echo 0; fi");
    try {
        return std::stoull(out);
    } catch (const std::exception&) {
        throw Error(t.describe() + ": unexpected size of " + path + ": '" + out + "'");
    }
}

SyncStats full_pass(transport::Transport& source, transport::Transport& target,
                    const std::string& path, const std::string& marker) {
    return full_pass(source, target, path, path, marker);
}

SyncStats delta_pass(transport::Transport& source, transport::Transport& target,
                     const std::string& path, const std::string& marker) {
    return delta_pass(source, target, path, path, marker);
}

SyncStats full_pass(transport::Transport& source, transport::Transport& target,
                    const std::string& path, const std::string& target_path,
                    const std::string& marker) {
    check_paths(path, marker);
    check_paths(target_path, "");
    // The marker is stamped before tar starts: whatever changes from now on is newer than
    // it, so the delta pass picks up files written while this pass runs.
    const std::string src = "mkdir -p -- " + quote(parent_of(marker)) + " && touch -- " +
                            quote(marker) + " && rm -f -- " + quote(marker + ".new") +
                            " && tar -C " + quote(path) + " --numeric-owner -cf - .";
    const std::string dst = "mkdir -p -- " + quote(target_path) + " && tar -C " +
                            quote(target_path) + " --numeric-owner -xpf -";
    return stream(source, target, src, dst, "copying " + path);
}

SyncStats delta_pass(transport::Transport& source, transport::Transport& target,
                     const std::string& path, const std::string& target_path,
                     const std::string& marker) {
    check_paths(path, marker);
    check_paths(target_path, "");
    const auto start = Clock::now();
    // Changed content (mtime) or changed name/mode/owner (ctime: a rename or a move into the
    // tree keeps the old mtime). --no-recursion: a changed directory brings only itself.
    const std::string fresh = marker + ".new";
    const std::string src =
        "cd -- " + quote(path) + " || exit 2\n"
        "[ -e " + quote(marker) + " ] || { echo 'decamp: no marker from a full pass: " +
        marker + "' >&2; exit 2; }\n"
        "touch -- " + quote(fresh) + " || exit 2\n"
        "list=$(mktemp) || exit 2\n"
        "trap 'rm -f \"$list\"' EXIT\n"
        "find . \\( -newer " + quote(marker) + " -o -cnewer " + quote(marker) +
        " \\) -print0 >\"$list\" || exit 2\n"
        "tar --null --no-recursion -T \"$list\" --numeric-owner -cf -";
    const std::string dst = "mkdir -p -- " + quote(target_path) + " && tar -C " +
                            quote(target_path) + " --numeric-owner -xpf -";
    SyncStats st = stream(source, target, src, dst, "copying changes of " + path);

    // Deletions: what the target has and the source does not.
    auto src_list = split_nul(must_run(source, "listing " + path, list_cmd(path)));
    auto dst_list = split_nul(must_run(target, "listing " + target_path, list_cmd(target_path)));
    std::set<std::string> have(src_list.begin(), src_list.end());
    std::vector<std::string> gone;
    for (auto& e : dst_list)
        if (!have.count(e) && safe_entry(e)) gone.push_back(e);
    std::sort(gone.rbegin(), gone.rend());  // children before their directory
    if (!gone.empty()) {
        transport::RunOptions o;
        for (auto& e : gone) o.stdin_data += e + '\0';
        must_run(target, "deleting removed files in " + target_path,
                 "cd -- " + quote(target_path) + " && xargs -0 -r rm -rf --", o);
    }
    st.deleted = gone.size();
    must_run(source, "refreshing the marker", "mv -f -- " + quote(fresh) + " " + quote(marker));
    st.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return st;
}

std::map<std::string, std::string> checksums(transport::Transport& t, const std::string& path) {
    check_paths(path, "");
    std::string out = must_run(t, "checksumming " + path,
                               "cd -- " + quote(path) +
                                   " && find . -type f -print0 | xargs -0 -r sha256sum -z --");
    std::map<std::string, std::string> sums;
    for (const std::string& rec : split_nul(out)) {
        // "<64 hex><space><space or *>./name"
        if (rec.size() < 68 || rec[64] != ' ' || rec.compare(66, 2, "./") != 0)
            throw Error(t.describe() + ": unexpected sha256sum output for " + path);
        sums[rec.substr(68)] = rec.substr(0, 64);
    }
    return sums;
}

}  // namespace decamp::data::files
