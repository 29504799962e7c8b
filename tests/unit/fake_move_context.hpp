// A MoveContext for movers' unit tests: two providers (old, new) with one host each of one
// role, each host behind a RecordingTransport the test scripts; steps run at once and are
// recorded with their summaries; key/values live in a map. No journal, no SSH.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "data/mover.hpp"
#include "transport/recording.hpp"

namespace decamp::test {

class FakeMoveContext : public data::MoveContext {
public:
    explicit FakeMoveContext(const std::string& role) {
        src_.name = "old-" + role + "1";
        src_.provider = "old";
        src_.address = "198.18.1.12";
        src_.roles = {role};
        dst_.name = "new-" + role + "1";
        dst_.provider = "new";
        dst_.address = "198.18.2.12";
        dst_.roles = {role};
    }

    transport::RecordingTransport on_source{"old"};
    transport::RecordingTransport on_target{"new"};
    std::vector<std::pair<std::string, std::string>> steps;  // "phase/name", summary
    std::map<std::string, std::string> kv;
    std::ostringstream out;

    const std::string& migration_id() const override { return id_; }
    const std::string& source() const override { return old_; }
    const std::string& target() const override { return new_; }
    std::vector<const inventory::Host*> hosts(const std::string& provider,
                                              const std::string&) const override {
        return {provider == old_ ? &src_ : &dst_};
    }
    transport::Transport& conn(const inventory::Host& host) override {
        return &host == &src_ ? static_cast<transport::Transport&>(on_source) : on_target;
    }
    std::string step(const std::string& phase, const std::string& name,
                     const std::function<std::string()>& fn) override {
        begun_.push_back(name);
        std::string summary = fn();
        steps.emplace_back(phase + "/" + name, summary);
        return summary;
    }
    bool step_begun(const std::string& name) override {
        return std::find(begun_.begin(), begun_.end(), name) != begun_.end();
    }
    std::optional<std::string> get(const std::string& key) override {
        auto it = kv.find(key);
        return it == kv.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    void set(const std::string& key, const std::string& value) override { kv[key] = value; }
    std::vector<std::string> earlier;  // ids of finished migrations away from the target
    std::vector<std::string> migrations_from(const std::string& provider) override {
        return provider == new_ ? earlier : std::vector<std::string>{};
    }
    std::ostream& log() override { return out; }
    int catchup_timeout_s() const override { return 5; }

private:
    std::string id_ = "20260101T000000Z-test", old_ = "old", new_ = "new";
    inventory::Host src_, dst_;
    std::vector<std::string> begun_;
};

}  // namespace decamp::test
