// The host records and per-host operation journal in the state's key/value table, and the
// known_hosts pin for a key decamp gave a server.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hosts/hosts.hpp"
#include "migrate/journal.hpp"
#include "transport/known_hosts.hpp"
#include "util/json.hpp"

namespace decamp::hosts {

namespace kh = transport::known_hosts;

namespace {

std::string record_key(const std::string& provider, const std::string& name) {
    return "host/" + provider + "/" + name;
}
std::string op_key(const std::string& provider, const std::string& name) {
    return "host-op/" + provider + "/" + name;
}

}  // namespace

std::optional<Record> Store::get(const std::string& provider, const std::string& name) {
    auto text = j_.get(record_key(provider, name));
    if (!text) return std::nullopt;
    json::Value v;
    try {
        v = json::parse(*text);
    } catch (const json::ParseError&) {
        return std::nullopt;
    }
    Record r;
    r.provider = provider;
    r.name = name;
    r.id = v["id"].str();
    r.ipv4 = v["ipv4"].str();
    r.ipv6 = v["ipv6"].str();
    r.status = v["status"].str();
    r.host_key = v["host_key"].str();
    r.key_source = v["key_source"].str();
    r.updated = v["updated"].number_or(0);
    return r;
}

void Store::put(const Record& r) {
    json::Value v;
    v.set("id", r.id);
    v.set("ipv4", r.ipv4);
    v.set("ipv6", r.ipv6);
    v.set("status", r.status);
    v.set("host_key", r.host_key);
    v.set("key_source", r.key_source);
    v.set("updated", json::rounded(migrate::Journal::now()));
    j_.set(record_key(r.provider, r.name), json::dump(v));
}

std::optional<Store::Op> Store::op(const std::string& provider, const std::string& name) {
    auto text = j_.get(op_key(provider, name));
    if (!text) return std::nullopt;
    try {
        json::Value v = json::parse(*text);
        return Op{v["op"].str(), v["state"].str(), v["pending_key"].str(), v["detail"].str(), v["ref"].str()};
    } catch (const json::ParseError&) {
        return std::nullopt;
    }
}

void Store::op_started(const std::string& provider, const std::string& name, const std::string& op,
                       const std::string& pending_key) {
    json::Value v;
    v.set("op", op);
    v.set("state", "started");
    v.set("pending_key", pending_key);
    v.set("started", json::rounded(migrate::Journal::now()));
    j_.set(op_key(provider, name), json::dump(v));
}

void Store::op_ref(const std::string& provider, const std::string& name, const std::string& ref) {
    auto text = j_.get(op_key(provider, name));
    json::Value v;
    try {
        if (text) v = json::parse(*text);
    } catch (const json::ParseError&) {
    }
    v.set("ref", ref);
    j_.set(op_key(provider, name), json::dump(v));
}

void Store::op_ended(const std::string& provider, const std::string& name, bool ok,
                     const std::string& detail) {
    auto prev = op(provider, name);
    json::Value v;
    if (prev && !prev->ref.empty()) v.set("ref", prev->ref);
    v.set("op", prev ? prev->op : "");
    v.set("state", ok ? "done" : "failed");
    v.set("pending_key", prev ? prev->pending_key : "");
    v.set("detail", detail);
    v.set("finished", json::rounded(migrate::Journal::now()));
    j_.set(op_key(provider, name), json::dump(v));
}

void pin_host_key(const std::string& path, const std::string& address, int port, const std::string& key) {
    if (path.empty() || address.empty() || key.empty()) return;
    // The blob, decoded: format_line wants raw bytes.
    kh::File probe = kh::parse("x " + key, "key");
    if (probe.entries.size() != 1)
        throw Error("cannot pin host key for " + address + ": not an OpenSSH public key");
    std::string field = kh::host_field(address, port);

    std::string old;
    if (std::filesystem::exists(path)) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        old = ss.str();
    }
    // Keep every line but the plain ones for exactly this address (any key).
    std::string kept;
    std::istringstream lines(old);
    for (std::string l; std::getline(lines, l);) {
        std::istringstream words(l);
        std::string first;
        words >> first;
        if (first == field) continue;
        kept += l + "\n";
    }
    kept += kh::format_line(address, port, probe.entries[0].key_type, probe.entries[0].key) + "\n";

    std::filesystem::path p(path);
    if (!p.parent_path().empty()) std::filesystem::create_directories(p.parent_path());
    std::string tmpl =
        (p.parent_path().empty() ? std::string(".") : p.parent_path().string()) + "/.known_hosts.XXXXXX";
    int fd = mkstemp(tmpl.data());
    if (fd < 0) throw Error("cannot write " + path + ": cannot create a temporary file beside it");
    bool ok = ::write(fd, kept.data(), kept.size()) == static_cast<ssize_t>(kept.size()) && fsync(fd) == 0;
    fchmod(fd, 0600);
    close(fd);
    if (!ok || std::rename(tmpl.c_str(), path.c_str()) != 0) {
        std::remove(tmpl.c_str());
        throw Error("cannot write " + path);
    }
}

}  // namespace decamp::hosts
