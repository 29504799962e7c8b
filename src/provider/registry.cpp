// Provider kinds by name: the built-in table, plus kinds registered at run time (tests).
#include <algorithm>
#include <map>

#include "provider/builtin.hpp"

namespace decamp::provider {

namespace {

std::map<std::string, std::unique_ptr<Kind>>& kinds() {
    static std::map<std::string, std::unique_ptr<Kind>> m = [] {
        std::map<std::string, std::unique_ptr<Kind>> table;
        for (auto make : {make_static_kind, make_local_kind, make_hetzner_cloud_kind, make_ovh_kind,
                          make_hetzner_robot_kind}) {
            auto k = make();
            std::string name = k->name();
            table.emplace(std::move(name), std::move(k));
        }
        return table;
    }();
    return m;
}

}  // namespace

std::string describe(const Capabilities& caps) {
    std::string out;
    auto add = [&](bool on, const char* what) {
        if (on) out += (out.empty() ? "" : ", ") + std::string(what);
    };
    add(caps.order_hosts, "order hosts");
    add(caps.reinstall, "reinstall");
    add(caps.rescue, "rescue");
    add(caps.user_data, "user data");
    add(caps.api_host_keys, "host keys from the API");
    return out.empty() ? "none" : out;
}

const char* power_name(PowerAction a) {
    switch (a) {
        case PowerAction::On:
            return "on";
        case PowerAction::Off:
            return "off";
        case PowerAction::Shutdown:
            return "shutdown";
        case PowerAction::Reboot:
            return "reboot";
        case PowerAction::Reset:
            return "reset";
    }
    return "?";
}

std::optional<PowerAction> parse_power(const std::string& word) {
    for (auto a :
         {PowerAction::On, PowerAction::Off, PowerAction::Shutdown, PowerAction::Reboot, PowerAction::Reset})
        if (word == power_name(a)) return a;
    return std::nullopt;
}

void Provider::unsupported(const std::string& what) const {
    throw Error("provider " + name() + " (kind " + kind() + ") cannot " + what);
}

std::vector<Server> Provider::servers() {
    unsupported("list servers through an API");
}
std::string Provider::monthly_price(const Order&) {
    return "";
}
Provisioned Provider::create(const Order&, const Install&) {
    unsupported("order servers");
}
Provisioned Provider::reinstall(const Server&, const Install&) {
    unsupported("reinstall servers");
}
Rescue Provider::rescue(const Server&, const std::string&) {
    unsupported("boot servers into a rescue system");
}
void Provider::power(const Server&, PowerAction) {
    unsupported("switch servers' power");
}

const Kind* find_kind(const std::string& name) {
    auto it = kinds().find(name);
    return it == kinds().end() ? nullptr : it->second.get();
}

const Kind& kind(const std::string& name) {
    if (const Kind* k = find_kind(name)) return *k;
    throw Error(unknown_kind(name));
}

std::vector<std::string> kind_names() {
    std::vector<std::string> out;
    for (const auto& [name, k] : kinds()) out.push_back(name);
    return out;  // std::map: already sorted
}

std::string unknown_kind(const std::string& name) {
    auto known = kind_names();
    std::string msg = "unknown provider kind \"" + name + "\"";
    if (std::string hint = schema::did_you_mean(name, known); !hint.empty())
        msg += "; did you mean \"" + hint + "\"?";
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    return msg + " (known kinds: " + list + ")";
}

Registration::Registration(std::unique_ptr<Kind> kind) : name_(kind->name()) {
    if (!kinds().emplace(name_, std::move(kind)).second)
        throw Error("provider kind \"" + name_ + "\" is already registered");
}

Registration::~Registration() {
    if (!name_.empty()) kinds().erase(name_);
}

}  // namespace decamp::provider
