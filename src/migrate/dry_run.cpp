// `decamp migrate --dry-run`: hosts, reachability, data sizes, DNS changes and the steps,
// as Markdown or (--json) one JSON document; nothing is changed and nothing is journaled.
// Exit code: the worst problem found (3 unreachable, 4 host key, 5 anything else), 0 none.
#include <algorithm>

#include "migrate/migration_internal.hpp"
#include "util/json.hpp"
#include "util/text.hpp"

namespace decamp::migrate {

namespace {

json::Value host_list(const std::vector<const inventory::Host*>& hosts) {
    json::Value out = json::Value::Array{};
    for (const auto* h : hosts) out.push(json::Value::Object{{"name", h->name}, {"address", h->address}});
    return out;
}

std::string host_text(const json::Ref& list) {
    std::string out;
    for (const auto& h : list.items()) out += (out.empty() ? "" : ", ") + h["name"].str() + " (" + h["address"].str() + ")";
    return out.empty() ? "-" : out;
}

}  // namespace

int Migration::dry_run() {
    json::Value doc = json::Value::Object{{"dry_run", true}, {"source", source_}, {"target", target_}};
    json::Value problems = json::Value::Array{};
    int code = kExitOk;
    auto problem = [&](const std::string& p, int c) {
        problems.push(p);
        code = std::max(code, c);
    };

    json::Value roles = json::Value::Array{};
    for (const auto& r : inv_.roles) {
        auto a = inv_.hosts_of(source_, r.name), b = inv_.hosts_of(target_, r.name);
        roles.push(json::Value::Object{{"role", r.name}, {"source", host_list(a)}, {"target", host_list(b)}});
        if (!a.empty() && b.empty()) problem("role " + r.name + " has hosts on " + source_ + " but none on " + target_, 5);
    }

    json::Value reach = json::Value::Array{};
    for (const auto& p : {source_, target_}) {
        if (o_.from_backup && p == source_) continue;
        for (const auto* h : inv_.provider_hosts(p)) {
            if (h->address.empty() && p == target_) {
                reach.push(
                    json::Value::Object{{"host", h->name},
                                        {"ok", true},
                                        {"message", "not ordered yet: the migration orders it first"}});
                continue;
            }
            try {
                conn(*h).run("true");
                reach.push(json::Value::Object{{"host", h->name}, {"ok", true}, {"message", "reachable, host key pinned"}});
            } catch (const transport::TransportError& e) {
                reach.push(json::Value::Object{{"host", h->name}, {"ok", false}, {"message", std::string(e.what())}});
                problem(h->name + ": " + e.what(),
                        e.kind() == transport::TransportError::Kind::HostKey ? kExitHostKey : kExitUnreachable);
            }
        }
    }

    json::Value data = json::Value::Array{};
    if (o_.from_backup) {
        auto li = latest_backup();
        if (li.found)
            data.push(json::Value::Object{{"kind", "backup"}, {"name", li.id},
                                          {"plan", "from backup " + li.id + " taken " + li.when + " (" + li.ago +
                                                       " ago; writes after it are lost)"}});
        else
            problem("no backup to restore from: " + li.why, 5);
    } else {
        for (auto& m : p_.movers) {
            json::Value d = json::Value::Object{{"kind", m->kind()}, {"name", m->name()}};
            try {
                d.set("plan", m->plan(*this));
            } catch (const std::exception& e) {
                d.set("error", std::string(e.what()));
                problem(e.what(), 5);
            }
            data.push(d);
        }
    }

    json::Value records = json::Value::Array{};
    if (inv_.dns) {
        try {
            p_.dns->ping();
            for (const auto& want : target_rrsets(target_, 0)) {
                auto cur = p_.dns->get(want.name, want.type);
                json::Value to = json::Value::Array{};
                for (const auto& a : want.records) to.push(a);
                records.push(json::Value::Object{
                    {"name", want.name},
                    {"type", want.type},
                    {"current", cur ? json::Value(util::trim(encode_rrsets({*cur}))) : json::Value()},
                    {"target", to},
                    {"ttl", want.ttl},
                    {"migration_ttl", migration_ttl(inv_, o_)}});
                if (!cur) problem("DNS record " + want.name + " does not exist", 5);
            }
        } catch (const std::exception& e) {
            records.push(json::Value::Object{{"error", std::string(e.what())}});
            problem(std::string("DNS: ") + e.what(), 5);
        }
    }

    std::string to_order;
    for (const auto* h : inv_.provider_hosts(target_))
        if (h->address.empty()) to_order += (to_order.empty() ? "" : ", ") + h->name;
    std::vector<std::string> steps = {
        "preflight: reach every host; PostgreSQL versions; free disk on targets; DNS API; lower TTLs",
        "provision: apply every role's playbooks on " + target_,
        std::string("replicate: replication user + pg_hba line on the source for the target only; ") +
            "pg_basebackup over TLS; full pass of each files data set through decamp",
        "verify: health checks on " + target_ + " with the real Host header; replication lag",
        "cutover: stop the app on " + source_ +
            "; fence the source database; wait for the replica; delta pass of files; "
            "promote; start the app on " +
            target_ + "; switch DNS and verify at the authoritative server; health again",
        "report: phase durations, data volumes, downtime"};
    if (!to_order.empty())
        steps.insert(steps.begin(), "provision (first, ordering is slow): order " + to_order + " on " +
                                        target_ + "; their addresses and host keys come from the provider");

    if (o_.json) {
        json::Value st = json::Value::Array{};
        for (const auto& s : steps) st.push(s);
        doc.set("hosts", roles);
        doc.set("reachability", reach);
        doc.set("data", data);
        if (inv_.dns) doc.set("dns", json::Value::Object{{"kind", inv_.dns->kind}, {"zone", inv_.dns->zone}, {"records", records}});
        doc.set("steps", st);
        doc.set("problems", problems);
        doc.set("exit_code", code);
        out_ << json::dump(doc) << "\n";
        return code;
    }

    out_ << "# Migration plan: " << source_ << " → " << target_ << " (dry run: nothing is changed)\n\n## Hosts\n";
    for (const auto& r : roles.items())
        out_ << "- " << r["role"].str() << ": " << host_text(r["source"]) << " → " << host_text(r["target"]) << "\n";
    out_ << "\n## Reachability\n";
    for (const auto& r : reach.items()) out_ << "- " << r["host"].str() << ": " << r["message"].str() << "\n";
    out_ << "\n## Data\n";
    for (const auto& d : data.items())
        out_ << "- " << (d.find("plan") ? d["plan"].str() : d["kind"].str() + " " + d["name"].str() + ": " + d["error"].str())
             << "\n";
    if (inv_.dns) {
        out_ << "\n## DNS (" << inv_.dns->kind << ", zone " << inv_.dns->zone << ")\n";
        for (const auto& r : records.items()) {
            if (r.find("error")) {
                out_ << "- DNS API: " << r["error"].str() << "\n";
                continue;
            }
            std::string to;
            for (const auto& a : r["target"].items()) to += (to.empty() ? "" : ",") + a.str();
            out_ << "- " << r["name"].str() << " " << r["type"].str() << ": "
                 << (r["current"].is_null() ? std::string("(absent)") : r["current"].str()) << "  →  " << to
                 << " (ttl " << r["ttl"].int_or(0) << "; " << migration_ttl(inv_, o_)
                 << " during the migration)\n";
        }
        out_ << "- " << migration_ttl_note(inv_, o_) << "\n";
    }
    out_ << "\n## Steps\n";
    for (size_t i = 0; i < steps.size(); ++i) out_ << i + 1 << ". " << steps[i] << "\n";
    out_ << "\n## Problems\n";
    if (problems.size() == 0) out_ << "none\n";
    for (const auto& p : problems.items()) out_ << "- " << p.str() << "\n";
    return code;
}

}  // namespace decamp::migrate
