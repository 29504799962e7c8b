// The files mover: a directory tree streamed source → decamp → every target host of the
// role (the hosts never hold keys for each other), a full pass while the source serves and a
// delta pass (changes and deletions) after the app stopped. The streaming is migrate/files.
// Backups are tar streams restored through a sibling directory: files_backup.cpp.
#include "data/files.hpp"

#include <filesystem>

#include "data/files_sync.hpp"
#include "data/mover.hpp"
#include "util/names.hpp"
#include "util/schema.hpp"

namespace decamp::data {

namespace sync = files;

namespace {

class FilesMover : public DataMover {
public:
    using DataMover::DataMover;
    std::string kind() const override { return "files"; }
    std::string name() const override { return ds_.name; }
    std::string target_dir() const override { return std::filesystem::path(ds_.name).parent_path().string(); }

    uint64_t preflight(MoveContext& ctx) override {
        ctx.step("preflight", "files-size/" + ds_.name, [&] {
            uint64_t size = sync::tree_size(ctx.conn(ctx.first(ctx.source(), ds_.role)), ds_.name);
            ctx.set(key("bytes"), std::to_string(size));
            return human_bytes(size);
        });
        return ctx.get_u64(key("bytes"));
    }

    std::string plan(MoveContext& ctx) override {
        const auto& src = ctx.first(ctx.source(), ds_.role);
        uint64_t size = sync::tree_size(ctx.conn(src), ds_.name);
        std::string out = "files " + ds_.name + " on " + src.name + ": " + human_bytes(size) +
                          " → streamed through decamp to";
        for (const auto* h : ctx.hosts(ctx.target(), ds_.role)) out += " " + h->name;
        return out + "; changes again at cutover";
    }

    uint64_t replicate(MoveContext& ctx) override { return pass(ctx, "replicate", "files-full/", false); }
    uint64_t final_sync(MoveContext& ctx) override { return pass(ctx, "cutover", "files-delta/", true); }

    std::string describe_move(const inventory::Inventory& inv, const std::string&,
                              const std::string& target) const override {
        std::string to;
        for (const auto* h : inv.hosts_of(target, ds_.role)) to += (to.empty() ? "" : ", ") + h->name + " (" + h->address + ")";
        return "through decamp to " + (to.empty() ? "-" : to);
    }

    std::string stream_ext() const override { return ".tar"; }
    std::unique_ptr<BackupRead> backup(transport::Transport& t, const inventory::Host& host,
                                       const std::string&) override {
        return files::backup_read(t, host, ds_.name);
    }
    std::string evidence(const DataEntry& e) const override { return std::to_string(e.files.size()) + " files"; }
    void encode_evidence(const DataEntry& e, json::Value& v) const override { files::encode_evidence(e, v); }
    void decode_evidence(const json::Ref& v, DataEntry& e) const override { files::decode_evidence(v, e); }
    bool restore_on_every_host() const override { return true; }  // each web host serves its own copy
    std::unique_ptr<StagedRestore> stage(transport::Transport& t, const inventory::Host& host,
                                         const DataEntry& e) override {
        return files::stage(t, host, e);
    }
    std::unique_ptr<ScratchRestore> scratch(transport::Transport& local, const std::string& dir,
                                            const DataEntry& e) override {
        return files::scratch(local, dir, e);
    }
    std::string live_diff(transport::Transport& t, const DataEntry& e) override { return files::live_diff(t, e); }
    std::string teardown(transport::Transport& t, const inventory::Host& host) override {
        return files::teardown(t, host, ds_.name);
    }

private:
    std::string key(const std::string& what) const { return "files_" + what + "/" + ds_.name; }

    // One pass to every target host of the role; the bytes each step streamed are kept in
    // the state, so a resumed run reports the same totals.
    uint64_t pass(MoveContext& ctx, const std::string& phase, const std::string& prefix, bool delta) {
        const auto& src = ctx.first(ctx.source(), ds_.role);
        const std::string marker = "/var/lib/decamp/marker-" + ctx.migration_id();
        uint64_t bytes = 0;
        for (const auto* dst : ctx.hosts(ctx.target(), ds_.role)) {
            const std::string name = prefix + ds_.name + "/" + dst->name;
            ctx.step(phase, name, [&] {
                auto st = delta ? sync::delta_pass(ctx.conn(src), ctx.conn(*dst), ds_.name, marker)
                                : sync::full_pass(ctx.conn(src), ctx.conn(*dst), ds_.name, marker);
                ctx.set("bytes/" + name, std::to_string(st.bytes));
                return std::to_string(st.files) + " files, " + human_bytes(st.bytes) +
                       (delta ? ", " + std::to_string(st.deleted) + " deleted" : std::string());
            });
            bytes += ctx.get_u64("bytes/" + name);
        }
        return bytes;
    }
};

}  // namespace

// An inventory entry {kind: files, role, path}: the absolute path names the set.
std::string validate_files_set(const Value& entry, const std::string& path, schema::Checker& check) {
    return check.shaped(entry, "path", path, names::check_abs_path, true).value_or("");
}

std::unique_ptr<DataMover> make_files_mover(const inventory::DataSet& ds) {
    return std::make_unique<FilesMover>(ds);
}

}  // namespace decamp::data
