#include "engine/pool.hpp"

#include "engine/engine.hpp"

namespace decamp::engine {

Pool::Pool(Connector& connector) : connector_(&connector) {}

Pool::Pool(const inventory::Inventory& inv) : owned_(make_connector(inv)), connector_(owned_.get()) {}

Pool::~Pool() {
    for (auto& [name, slot] : slots_) {
        if (!slot->conn) continue;
        try {
            slot->conn->close();
        } catch (...) {  // closing is best effort: the run is over either way
        }
    }
}

transport::Transport& Pool::get(const inventory::Host& host) {
    Slot* slot;
    {
        std::lock_guard lock(mu_);
        auto& s = slots_[host.name];
        if (!s) s = std::make_unique<Slot>();
        slot = s.get();
    }
    // Only this host waits while it connects; slots are never erased, so `slot` stays valid.
    std::lock_guard lock(slot->mu);
    if (!slot->conn) {
        slot->conn = connector_->connect(host);
        std::lock_guard count(mu_);
        ++connects_;
    }
    return *slot->conn;
}

void Pool::drop(const std::string& host) {
    Slot* slot = nullptr;
    {
        std::lock_guard lock(mu_);
        auto it = slots_.find(host);
        if (it == slots_.end()) return;
        slot = it->second.get();
    }
    std::lock_guard lock(slot->mu);
    if (slot->conn) {
        try {
            slot->conn->close();
        } catch (...) {
        }
        slot->conn.reset();
    }
}

size_t Pool::connects() const {
    std::lock_guard lock(mu_);
    return connects_;
}

}  // namespace decamp::engine
