// The proxy in front of the app (`app: front:`), as a cutover drives it: during the write
// freeze it holds requests (its retries against the stopped app), and once the target is
// healthy the source's front sends everything — the held requests included — over TLS to
// the target's front, which accepts such bridged requests only from the source's addresses.
// The bridge stays until resolvers can no longer hand out the old addresses, and
// `migrate --finish` takes it down. Only HAProxy today, through its admin socket (socat on
// the host), every change also written where a reload or reboot finds it again.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"
#include "transport/transport.hpp"

namespace decamp::migrate {

class Front {
public:
    virtual ~Front() = default;
    // Target side: the bridge listener accepts requests from `peers` (the source fronts).
    virtual std::string accept_bridge_from(transport::Transport& t,
                                           const std::vector<std::string>& peers) = 0;
    // Target side: it accepts no bridged request any more.
    virtual std::string refuse_bridge(transport::Transport& t) = 0;
    // Source side: the local app's server out, the bridge to `address`:port in.
    virtual std::string bridge_to(transport::Transport& t, const std::string& address, int port) = 0;
    // Source side: the local app's server in, the bridge out (rollback, --finish).
    virtual std::string serve_locally(transport::Transport& t) = 0;
};

std::unique_ptr<Front> make_front(const inventory::FrontConfig& cfg);

// ---- HAProxy's side, pure (tested without a host) ----
struct HaproxyServer {
    std::string addr;
    int port = 0;
    int admin_state = 0;  // bit 0x01: put in maintenance by an operator (or decamp)
    bool in_maintenance() const { return (admin_state & 0x01) != 0; }
};
// The servers of `backend` in the answer of `show servers state`; Error when the answer has
// no such table (not HAProxy, or a backend the inventory misnames).
std::map<std::string, HaproxyServer> parse_servers_state(const std::string& text, const std::string& backend);
// The shell script that points the bridge at address:port, enables it and puts the app's
// server in maintenance, saves the state file, and prints the backend's state.
std::string haproxy_bridge_cmd(const inventory::FrontConfig& f, const std::string& address, int port);
std::string haproxy_local_cmd(const inventory::FrontConfig& f);
std::string haproxy_peers_cmd(const inventory::FrontConfig& f, const std::vector<std::string>& peers);

}  // namespace decamp::migrate
