// One connection per host for a whole run, shared by everything that talks to hosts in that
// run: the engine (apply, provision), the migration's steps, backups and drills. A host is
// connected on first use, by one thread, while other hosts connect in parallel; a failed
// connect is not kept, so the next use tries again.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "inventory/inventory.hpp"
#include "transport/transport.hpp"

namespace decamp::engine {

class Connector;

class Pool {
public:
    // Connections made by `connector` (not owned; it must outlive the pool).
    explicit Pool(Connector& connector);
    // Real connections from the inventory (SSH, or local for `address: local`).
    explicit Pool(const inventory::Inventory& inv);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // The host's connection, made on first use. Throws transport::TransportError.
    transport::Transport& get(const inventory::Host& host);
    // Forgets a host's connection (closed), so the next get() connects again.
    void drop(const std::string& host);
    // How many connections were made in this run (tests: one per host).
    size_t connects() const;

private:
    struct Slot {
        std::mutex mu;
        std::unique_ptr<transport::Transport> conn;
    };
    std::unique_ptr<Connector> owned_;
    Connector* connector_;
    mutable std::mutex mu_;
    std::map<std::string, std::unique_ptr<Slot>> slots_;
    size_t connects_ = 0;
};

}  // namespace decamp::engine
