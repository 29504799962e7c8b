// decamp hostkeys scan: record host keys explicitly (trust on first use, only on request).
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/common.hpp"
#include "engine/engine.hpp"

namespace decamp::cli {

int cmd_hostkeys(const Args& args) {
    if (args.positional.empty() || args.positional[0] != "scan")
        throw UsageError("usage: decamp hostkeys scan [-i FILE] [--limit PATTERN]");
    inventory::Inventory inv = inventory::load(inventory_path(args));
    if (inv.ssh.known_hosts.empty()) throw UsageError("the inventory sets no ssh.known_hosts file to record keys in");
    std::vector<const inventory::Host*> all;
    for (const auto& h : inv.hosts)
        if (!h.is_local()) all.push_back(&h);
    auto hosts = args.get("limit").empty() ? all : inventory::select_some(inv, args.get("limit"), all, "the inventory");
    std::string existing;
    {
        std::ifstream in(inv.ssh.known_hosts);
        std::stringstream ss;
        ss << in.rdbuf();
        existing = ss.str();
    }
    int code = 0;
    std::string added;
    for (const auto* h : hosts) {
        try {
            std::string line = transport::scan_host_key(engine::ssh_config(inv, *h));
            std::string prefix = line.substr(0, line.find(' ') + 1);
            if (existing.find(line) != std::string::npos) {
                std::cout << h->name << ": already recorded\n";
                continue;
            }
            if (existing.find("\n" + prefix) != std::string::npos || existing.rfind(prefix, 0) == 0) {
                std::cerr << h->name << ": a DIFFERENT key is recorded for " << prefix
                          << "in " << inv.ssh.known_hosts << "; remove that line first if the host was really reinstalled\n";
                code = kExitHostKey;
                continue;
            }
            added += line + "\n";
            std::cout << h->name << ": recorded " << line.substr(prefix.size(), line.find(' ', prefix.size()) - prefix.size()) << " key\n";
        } catch (const transport::TransportError& e) {
            std::cerr << h->name << ": " << e.what() << "\n";
            code = std::max(code, int(kExitUnreachable));
        }
    }
    if (!added.empty()) {
        std::ofstream out(inv.ssh.known_hosts, std::ios::app);
        if (!existing.empty() && existing.back() != '\n') out << "\n";
        out << added;
    }
    return code;
}

}  // namespace decamp::cli
