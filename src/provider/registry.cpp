// Provider kinds by name: the built-in table, plus kinds registered at run time (tests).
#include <algorithm>
#include <map>

#include "provider/builtin.hpp"

namespace decamp::provider {

namespace {

std::map<std::string, std::unique_ptr<Kind>>& kinds() {
    static std::map<std::string, std::unique_ptr<Kind>> m = [] {
        std::map<std::string, std::unique_ptr<Kind>> table;
        for (auto make : {make_static_kind, make_local_kind}) {
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
