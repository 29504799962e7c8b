#include "backup/manifest.hpp"

#include <ctime>

#include "data/mover.hpp"
#include "util/error.hpp"
#include "util/json.hpp"
#include "util/text.hpp"

namespace decamp::backup {

uint64_t Manifest::total_bytes() const {
    uint64_t n = 0;
    for (const auto& d : data) n += d.bytes;
    return n;
}

const DataEntry* Manifest::find(const std::string& kind, const std::string& name) const {
    for (const auto& d : data)
        if (d.kind == kind && d.name == name) return &d;
    return nullptr;
}

std::string encode(const Manifest& m) {
    json::Value root;
    root.set("format", m.format);
    root.set("id", m.id);
    root.set("project", m.project);
    root.set("provider", m.provider);
    root.set("time", m.time);
    root.set("time_iso", iso_time(m.time));
    root.set("seconds", m.seconds);
    json::Value sw = json::Value::Object{};
    for (const auto& [k, v] : m.software) sw.set(k, v);
    root.set("software", sw);
    json::Value data = json::Value::Array{};
    for (const auto& d : m.data) {
        json::Value e;
        e.set("kind", d.kind);
        e.set("name", d.name);
        e.set("role", d.role);
        e.set("host", d.host);
        e.set("stream", d.stream);
        e.set("snapshot", d.snapshot);
        e.set("bytes", int64_t(d.bytes));
        e.set("sha256", d.sha256);
        e.set("seconds", d.seconds);
        data::make_mover(d)->encode_evidence(d, e);
        data.push(e);
    }
    root.set("data", data);
    return json::dump(root);
}

namespace {

std::string need_str(json::Ref v, const char* key, const std::string& where) {
    auto f = v.find(key);
    if (!f || !f->is_string()) throw Error("backup manifest: " + where + key + " is missing or not a string");
    return f->str();
}

double need_num(json::Ref v, const char* key, const std::string& where) {
    auto f = v.find(key);
    if (!f || !f->is_number()) throw Error("backup manifest: " + where + key + " is missing or not a number");
    return f->number_or(0);
}


}  // namespace

Manifest decode(const std::string& text) {
    json::Value root;
    try {
        root = json::parse(text);
    } catch (const json::ParseError& e) {
        throw Error(std::string("backup manifest is not valid JSON: ") + e.what());
    }
    if (!root.is_object()) throw Error("backup manifest: expected a JSON object");
    Manifest m;
    m.format = int(need_num(root, "format", ""));
    if (m.format != 1) throw Error("backup manifest: format " + std::to_string(m.format) + " is not supported (this decamp reads format 1)");
    m.id = need_str(root, "id", "");
    if (!valid_id(m.id)) throw Error("backup manifest: malformed id '" + m.id + "'");
    m.project = need_str(root, "project", "");
    m.provider = need_str(root, "provider", "");
    m.time = need_num(root, "time", "");
    m.seconds = root["seconds"].number_or(0);
    for (const auto& [k, v] : root["software"].members()) m.software[k] = v.string_or("");
    size_t i = 0;
    for (json::Ref e : root["data"].items()) {
        std::string where = "data/" + std::to_string(i++) + "/";
        DataEntry d;
        d.kind = need_str(e, "kind", where);
        d.name = need_str(e, "name", where);
        d.role = need_str(e, "role", where);
        std::unique_ptr<data::DataMover> mover;
        try {
            mover = data::make_mover(d);
        } catch (const Error&) {
            throw Error("backup manifest: " + where + "kind '" + d.kind + "' is unknown");
        }
        d.host = need_str(e, "host", where);
        d.stream = need_str(e, "stream", where);
        if (d.stream.empty() || d.stream.find('/') != std::string::npos)
            throw Error("backup manifest: " + where + "stream must be a plain file name");
        d.snapshot = need_str(e, "snapshot", where);
        d.bytes = uint64_t(need_num(e, "bytes", where));
        d.sha256 = need_str(e, "sha256", where);
        d.seconds = e["seconds"].number_or(0);
        mover->decode_evidence(e, d);
        m.data.push_back(std::move(d));
    }
    return m;
}

std::string iso_time(double unix_time) {
    time_t t = time_t(unix_time);
    tm g{};
    gmtime_r(&t, &g);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &g);
    return buf;
}

std::string make_id(double unix_time, const std::string& suffix) {
    time_t t = time_t(unix_time);
    tm g{};
    gmtime_r(&t, &g);
    char buf[32];
    strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &g);
    return std::string(buf) + "-" + suffix;
}

bool valid_id(const std::string& id) {
    if (id.empty() || id.size() > 64 || id[0] == '-') return false;
    for (char c : id)
        if (!(isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
    return true;
}

}  // namespace decamp::backup
