// A MoveContext for unit tests that drive a DataMover without a Migration.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "data/mover.hpp"

namespace decamp::test {

// A migration's context over one transport for every host (local, or a recording fake): the
// journal and the state in memory.
class LocalContext : public data::MoveContext {
public:
    LocalContext(transport::Transport& t, std::string id) : t_(t), id_(std::move(id)) {
        src_.name = "old-db1";
        src_.address = "127.0.0.1";
        dst_.name = "new-db1";
        dst_.address = "127.0.0.1";
    }
    const std::string& migration_id() const override { return id_; }
    const std::string& source() const override { return old_; }
    const std::string& target() const override { return new_; }
    std::vector<const inventory::Host*> hosts(const std::string& provider,
                                              const std::string&) const override {
        return {provider == old_ ? &src_ : &dst_};
    }
    transport::Transport& conn(const inventory::Host&) override { return t_; }
    std::string step(const std::string&, const std::string& name,
                     const std::function<std::string()>& fn) override {
        if (auto it = done.find(name); it != done.end()) return it->second;
        begun.insert(name);
        return done[name] = fn();
    }
    bool step_begun(const std::string& name) override { return begun.count(name) > 0; }
    std::optional<std::string> get(const std::string& key) override {
        auto it = state.find(key);
        return it == state.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    void set(const std::string& key, const std::string& value) override { state[key] = value; }
    std::vector<std::string> migrations_from(const std::string&) override { return {}; }
    std::ostream& log() override { return log_; }
    int catchup_timeout_s() const override { return 30; }

    std::map<std::string, std::string> done, state;
    std::set<std::string> begun;
    inventory::Host src_, dst_;

private:
    transport::Transport& t_;
    std::string id_, old_ = "old", new_ = "new";
    std::ostringstream log_;
};

}  // namespace decamp::test
