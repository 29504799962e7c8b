// decamp hostkeys scan: record host keys explicitly (trust on first use, only on request).
// Whether a host is already pinned is decided by the transport's own matcher
// (transport/known_hosts.hpp): an entry of any form (hashed, a pattern list, @cert-authority)
// means the scan never adds a key for that host.
#include <iostream>

#include "cli/common.hpp"
#include "engine/engine.hpp"
#include "hosts/hosts.hpp"
#include "hosts/trust.hpp"
#include "transport/known_hosts.hpp"

namespace decamp::cli {

namespace kh = transport::known_hosts;

int cmd_hostkeys_list(const Args& args, std::ostream& out);  // hostkeys_list.cpp

int cmd_hostkeys(const Args& args) {
    if (!args.positional.empty() && args.positional[0] == "list") return cmd_hostkeys_list(args, std::cout);
    if (args.positional.empty() || args.positional[0] != "scan")
        throw UsageError("usage: decamp hostkeys scan|list [-i FILE] [--limit PATTERN]");
    inventory::Inventory inv = inventory::load(inventory_path(args));
    // Servers a provider made are trusted by server id in decamp's trust store, not by address
    // in known_hosts: a scan is the explicit request to trust one with no key on first use.
    hosts::fill_addresses(inv, args.get("state"));
    hosts::attach_trust(inv, args.get("state"), true);
    const std::string& path = inv.ssh.known_hosts;
    if (path.empty()) throw UsageError("the inventory sets no ssh.known_hosts file to record keys in");
    std::vector<const inventory::Host*> all;
    for (const auto& h : inv.hosts)
        if (!h.is_local()) all.push_back(&h);
    auto hosts = args.get("limit").empty() ? all : inventory::select_some(inv, args.get("limit"), all, "the inventory");

    kh::File file = kh::read_file(path);
    if (!file.errors.empty()) {
        // A line that cannot be read might be the pin for a host: add nothing.
        for (const auto& e : file.errors) std::cerr << e << "\n";
        std::cerr << "decamp: error: fix " << path << " first; no key was recorded\n";
        return kExitHostKey;
    }
    int code = 0;
    std::vector<std::string> added, recorded;
    for (const auto* h : hosts) {
        try {
            auto cfg = engine::ssh_config(inv, *h);
            const std::string line = transport::scan_host_key(cfg);  // "host type base64"
            kh::File scanned = kh::parse(line, "scan");
            if (scanned.entries.size() != 1) throw transport::TransportError(transport::TransportError::Kind::HostKey, "unreadable host key");
            const kh::Entry& key = scanned.entries[0];
            const std::string fp = key.key_type + " " + transport::fingerprint_sha256(key.key);
            const std::string field = kh::host_field(cfg.address, cfg.port);
            if (h->trust) {
                const auto& t = *h->trust;
                const std::string server = t.provider + " server " + t.server_id;
                switch (transport::judge(t, key.key_type, key.key)) {
                    case transport::TrustVerdict::Match:
                        std::cout << h->name << ": already trusted (" << server << ", " << t.provenance
                                  << ")\n";
                        break;
                    case transport::TrustVerdict::Mismatch:
                        std::cerr << h->name << ": the host presents " << fp << " but " << server
                                  << " is trusted with another key (" << t.provenance
                                  << "); nothing recorded. decamp replaces it only after its own reinstall "
                                     "(decamp hosts reinstall)\n";
                        code = kExitHostKey;
                        break;
                    case transport::TrustVerdict::NoKey:
                        t.record_first_use(line.substr(line.find(' ') + 1));
                        recorded.push_back(h->name + ": recorded " + fp + " for " + server +
                                           " in the trust store (tofu: trusted on first use, not verified)");
                        break;
                }
                continue;
            }
            auto c = kh::check(file, cfg.address, cfg.port, key.key_type, key.key);
            auto at = [&](const kh::Entry* e) { return path + ":" + std::to_string(e->line); };
            switch (c.verdict) {
                case kh::Verdict::Match:
                    std::cout << h->name << ": already recorded (" << at(c.entry) << ")\n";
                    continue;
                case kh::Verdict::Mismatch:
                    std::cerr << h->name << ": the host presents " << fp << " but a DIFFERENT key is recorded for "
                              << field << " at " << at(c.pinned.front())
                              << "; nothing added. If the host was really reinstalled, verify the new fingerprint "
                                 "out of band, remove the old entry (`ssh-keygen -R '" << field << "' -f " << path
                              << "`) and scan again\n";
                    code = kExitHostKey;
                    continue;
                case kh::Verdict::Revoked:
                    std::cerr << h->name << ": the host presents " << fp << ", which " << at(c.entry)
                              << " marks @revoked; nothing added\n";
                    code = kExitHostKey;
                    continue;
                case kh::Verdict::CertOnly:
                    std::cerr << h->name << ": " << field << " is covered by the @cert-authority line " << at(c.entry)
                              << ", but decamp cannot verify host certificates; nothing added (pin the host's own "
                                 "key by hand after taking it out of that line's patterns)\n";
                    code = kExitHostKey;
                    continue;
                case kh::Verdict::Unknown:
                    break;
            }
            added.push_back(kh::format_line(cfg.address, cfg.port, key.key_type, key.key));
            // Later hosts with the same address see this entry (no duplicate lines).
            for (auto& e : kh::parse(added.back(), path).entries) file.entries.push_back(std::move(e));
            recorded.push_back(h->name + ": recorded " + fp);
        } catch (const transport::TransportError& e) {
            std::cerr << h->name << ": " << e.what() << "\n";
            code = std::max(code, int(kExitUnreachable));
        }
    }
    if (!added.empty()) {
        try {
            kh::append(path, added);
        } catch (const std::exception& e) {
            std::cerr << "decamp: error: " << e.what() << "; no key was recorded\n";
            return kExitHostKey;
        }
    }
    for (const auto& r : recorded) std::cout << r << "\n";
    return code;
}

}  // namespace decamp::cli
