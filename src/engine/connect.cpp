// Inventory → transport settings. SSH for every host except `address: local`.
#include "engine/engine.hpp"

namespace decamp::engine {

transport::SshConfig ssh_config(const inventory::Inventory& inv, const inventory::Host& host) {
    transport::SshConfig cfg;
    cfg.name = host.name;
    cfg.address = host.address;
    cfg.port = host.port;
    cfg.user = host.user;
    cfg.key_file = inv.ssh.key;
    cfg.known_hosts = inv.ssh.known_hosts;
    cfg.strict_host_keys = inv.ssh.strict_host_keys;
    cfg.trust = host.trust;
    cfg.connect_timeout_s = inv.ssh.connect_timeout;
    cfg.keepalive_s = inv.ssh.keepalive;
    if (!inv.ssh.jump.empty() && inv.ssh.jump != host.name) {
        if (const auto* bastion = inv.find_host(inv.ssh.jump)) {
            auto j = ssh_config(inv, *bastion);
            j.jump.reset();
            cfg.jump = std::make_shared<transport::SshConfig>(j);
        }
    }
    return cfg;
}

namespace {

class InventoryConnector : public Connector {
public:
    explicit InventoryConnector(const inventory::Inventory& inv) : inv_(inv) {}
    std::unique_ptr<transport::Transport> connect(const inventory::Host& host) override {
        if (host.is_local()) return transport::make_local();
        return transport::connect_ssh(ssh_config(inv_, host));
    }

private:
    const inventory::Inventory& inv_;
};

}  // namespace

std::unique_ptr<Connector> make_connector(const inventory::Inventory& inv) {
    return std::make_unique<InventoryConnector>(inv);
}

}  // namespace decamp::engine
