#include "dns/recording.hpp"

#include "dns/packet.hpp"

namespace decamp::dns {

RecordingBackend::RecordingBackend(const std::string& zone) : zone_(canonical_name(zone)) {}

void RecordingBackend::set(const RRset& rrset) {
    std::lock_guard lock(mu_);
    RRset r = rrset;
    r.name = canonical_name(r.name);
    sets_[{r.name, r.type}] = std::move(r);
}

void RecordingBackend::fail_from(size_t n, std::string message) {
    std::lock_guard lock(mu_);
    fail_from_ = n;
    fail_message_ = std::move(message);
}

void RecordingBackend::enter(std::string call) {
    calls_.push_back(std::move(call));
    if (fail_from_ != 0 && calls_.size() >= fail_from_) throw Error(fail_message_);
}

void RecordingBackend::ping() {
    std::lock_guard lock(mu_);
    enter("ping");
}

std::optional<RRset> RecordingBackend::get(const std::string& name, const std::string& type) {
    std::lock_guard lock(mu_);
    std::string n = canonical_name(name);
    enter("get " + n + " " + type);
    auto it = sets_.find({n, type});
    if (it == sets_.end()) return std::nullopt;
    return it->second;
}

void RecordingBackend::replace(const RRset& rrset) {
    std::lock_guard lock(mu_);
    RRset r = rrset;
    r.name = canonical_name(r.name);
    std::string addrs;
    for (const auto& a : r.records) addrs += (addrs.empty() ? "" : ",") + a;
    enter("replace " + r.name + " " + r.type + " " + std::to_string(r.ttl) + " " + addrs);
    bool inside = zone_ == "." || r.name == zone_ ||
                  (r.name.size() > zone_.size() && r.name.ends_with("." + zone_));
    if (!inside) throw Error("recording: " + r.name + " is outside zone " + zone_);
    sets_[{r.name, r.type}] = std::move(r);
}

std::string RecordingBackend::describe() const { return "recording zone " + zone_; }

std::vector<std::string> RecordingBackend::calls() const {
    std::lock_guard lock(mu_);
    return calls_;
}

size_t RecordingBackend::call_count() const {
    std::lock_guard lock(mu_);
    return calls_.size();
}

std::optional<RRset> RecordingBackend::peek(const std::string& name, const std::string& type) const {
    std::lock_guard lock(mu_);
    auto it = sets_.find({canonical_name(name), type});
    if (it == sets_.end()) return std::nullopt;
    return it->second;
}

}  // namespace decamp::dns
