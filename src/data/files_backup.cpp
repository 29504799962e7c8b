// The files mover's backup side (see data/files.hpp).
#include <filesystem>
#include <vector>

#include "data/files.hpp"
#include "data/tar_hash.hpp"
#include "data/files_sync.hpp"
#include "util/error.hpp"
#include "util/json.hpp"
#include "util/shell.hpp"
#include "util/text.hpp"

namespace decamp::data::files {

namespace {

using shell::quote;
using util::trim;

class Read : public BackupRead {
public:
    Read(transport::Transport& t, const inventory::Host& h, std::string path) : t_(t), h_(h), path_(std::move(path)) {}
    std::string command() const override { return archive_cmd(path_); }
    int ok_status() const override { return 1; }
    std::string what() const override { return "archiving " + path_; }
    void tap(std::string_view d) override { th_.feed(d); }
    void finish(DataEntry& e, std::map<std::string, std::string>& software) override {
        if (!th_.ended()) throw Error("the archive of " + path_ + " from " + h_.name + " is truncated");
        e.files = th_.files();
        software["tar"] = trim(run_checked(t_, "tar --version | head -n 1", "reading the tar version"));
    }

private:
    transport::Transport& t_;
    const inventory::Host& h_;
    std::string path_;
    TarHasher th_;
};

class Staged : public StagedRestore {
public:
    Staged(transport::Transport& t, const inventory::Host& h, const DataEntry& e) : t_(t), h_(h), e_(e) {}
    std::string sink() override { return unpack_cmd(staging_path(e_.name)); }
    std::string check() override {
        std::string d = files_diff(e_.files, data::files::checksums(t_, staging_path(e_.name)));
        if (!d.empty()) throw Error("restored files " + e_.name + " on " + h_.name + ": " + d);
        return std::to_string(e_.files.size()) + " files, sha256 match";
    }
    void swap() override { run_checked(t_, swap_cmd(e_.name), "replacing " + e_.name); }
    void unstage() noexcept override {
        try {
            t_.run("rm -rf -- " + quote(staging_path(e_.name)));
        } catch (...) {
        }
    }

private:
    transport::Transport& t_;
    const inventory::Host& h_;
    const DataEntry& e_;
};

class Scratch : public ScratchRestore {
public:
    Scratch(transport::Transport& local, const std::string& dir, const DataEntry& e)
        : local_(local), tree_((std::filesystem::path(dir) / (e.stream + ".d")).string()), e_(e) {}
    std::string sink() const override {
        return "mkdir -p -- " + quote(tree_) + " && tar -C " + quote(tree_) + " --numeric-owner -xpf -";
    }
    std::string problems() override {
        std::string d = compare_files(e_.files, data::files::checksums(local_, tree_));
        return d.empty() ? "" : "restored files: " + d;
    }
    std::string detail() const override { return std::to_string(e_.files.size()) + " files match"; }

private:
    transport::Transport& local_;
    std::string tree_;
    const DataEntry& e_;
};

}  // namespace

std::string archive_cmd(const std::string& path) { return "tar -C " + quote(path) + " --numeric-owner -cf - ."; }

std::string staging_path(const std::string& path) { return path + ".decamp-restore"; }

std::string unpack_cmd(const std::string& dir) {
    return "rm -rf -- " + quote(dir) + " && mkdir -p -- " + quote(dir) + " && tar -C " + quote(dir) + " --numeric-owner -xpf -";
}

std::string swap_cmd(const std::string& path) {
    const std::string p = quote(path), st = quote(staging_path(path)), old = quote(path + ".decamp-old");
    // mv -T: a symlink planted at either name is an error, never a directory to move into.
    return "rm -rf -- " + old + " && { if [ -e " + p + " ]; then mv -T -- " + p + " " + old + "; fi; } && mv -T -- " + st + " " + p +
           " && rm -rf -- " + old;
}

std::string remove_cmd(const std::string& path) { return "rm -rf -- " + quote(path) + " " + quote(staging_path(path)); }

std::string files_diff(const std::map<std::string, std::string>& want, const std::map<std::string, std::string>& got) {
    std::string out;
    int n = 0;
    for (const auto& [p, h] : want) {
        auto it = got.find(p);
        if (it == got.end()) out += (n++ < 5 ? p + " missing; " : "");
        else if (it->second != h) out += (n++ < 5 ? p + " differs; " : "");
    }
    for (const auto& [p, h] : got)
        if (!want.count(p)) out += (n++ < 5 ? p + " is not in the backup; " : "");
    if (n > 5) out += "… (" + std::to_string(n) + " differences); ";
    return out.empty() ? "" : out.substr(0, out.size() - 2);
}

std::string compare_files(const std::map<std::string, std::string>& want, const std::map<std::string, std::string>& got) {
    std::vector<std::string> missing, differ, extra;
    for (const auto& [p, h] : want) {
        auto it = got.find(p);
        if (it == got.end()) missing.push_back(p);
        else if (it->second != h) differ.push_back(p);
    }
    for (const auto& [p, h] : got)
        if (!want.count(p)) extra.push_back(p);
    if (missing.empty() && differ.empty() && extra.empty()) return "";
    auto list = [](const std::vector<std::string>& v) {
        std::string s;
        for (size_t i = 0; i < v.size() && i < 5; ++i) s += (i ? ", " : "") + v[i];
        if (v.size() > 5) s += ", … (" + std::to_string(v.size()) + ")";
        return s;
    };
    std::string out;
    if (!missing.empty()) out += "missing: " + list(missing) + "; ";
    if (!differ.empty()) out += "content differs: " + list(differ) + "; ";
    if (!extra.empty()) out += "not in the backup: " + list(extra) + "; ";
    return out.substr(0, out.size() - 2);
}

// JSON text is UTF-8; a file name that is not (a Linux name is any bytes) goes under
// files_hex, hex-encoded, so verify and restore still compare exact names.
void encode_evidence(const DataEntry& d, json::Value& e) {
    json::Value f = json::Value::Object{};
    json::Value raw = json::Value::Object{};
    for (const auto& [k, v] : d.files) {
        if (util::valid_utf8(k)) f.set(k, v);
        else raw.set(hex(reinterpret_cast<const uint8_t*>(k.data()), k.size()), v);
    }
    e.set("files", f);
    if (raw.size() > 0) e.set("files_hex", raw);
}

namespace {
std::string unhex(const std::string& h) {
    auto digit = [&](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        throw Error("backup manifest: files_hex: '" + h + "' is not lower-case hex");
    };
    if (h.empty() || h.size() % 2) throw Error("backup manifest: files_hex: '" + h + "' is not lower-case hex");
    std::string out;
    for (size_t i = 0; i < h.size(); i += 2) out += char(digit(h[i]) * 16 + digit(h[i + 1]));
    return out;
}
}  // namespace

void decode_evidence(const json::Ref& e, DataEntry& d) {
    for (const auto& [k, v] : e["files"].members()) d.files[k] = v.string_or("");
    for (const auto& [k, v] : e["files_hex"].members()) d.files[unhex(k)] = v.string_or("");
}

std::unique_ptr<BackupRead> backup_read(transport::Transport& t, const inventory::Host& host, const std::string& path) {
    return std::make_unique<Read>(t, host, path);
}

std::unique_ptr<StagedRestore> stage(transport::Transport& t, const inventory::Host& host, const DataEntry& e) {
    return std::make_unique<Staged>(t, host, e);
}

std::unique_ptr<ScratchRestore> scratch(transport::Transport& local, const std::string& dir, const DataEntry& e) {
    return std::make_unique<Scratch>(local, dir, e);
}

std::string live_diff(transport::Transport& t, const DataEntry& e) {
    return files_diff(e.files, data::files::checksums(t, e.name));
}

std::string teardown(transport::Transport& t, const inventory::Host& host, const std::string& path) {
    auto r = t.run(remove_cmd(path));
    return host.name + ": " + path + (r.exit_status ? " NOT removed (" + trim(r.err) + ")" : " removed");
}

}  // namespace decamp::data::files
