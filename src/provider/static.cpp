// kind: static — hosts written out by hand: an address (IP, host name, or `local` for this
// machine), and optionally port, user, roles and vars. The provider can list them and do
// nothing else: ordering, reinstalling and rescuing are done in the provider's own panel.
#include "provider/builtin.hpp"
#include "provider/declared.hpp"
#include "util/names.hpp"

namespace decamp::provider {

namespace {

std::string check_static_address(const std::string& a) {
    if (a == "local" || names::check_address(a).empty()) return "";
    return "\"" + a +
           "\" is not an IP address or host name; expected e.g. 198.18.1.11, web1.example.net or local";
}

class StaticKind : public Kind {
public:
    std::string name() const override { return "static"; }
    Capabilities capabilities() const override { return {}; }

    Block validate(const Value& block, const std::string& path, schema::Checker& check) const override {
        static const HostRules rules = [] {
            HostRules r;
            r.allowed = {"address", "port", "user", "roles", "vars"};
            r.check_address = check_static_address;
            return r;
        }();
        check_block_keys(block, path, "static", {"kind", "hosts"}, check);
        return Block{Value::map(), read_hosts(block, path, rules, check)};
    }

    std::unique_ptr<Provider> open(Config config) const override {
        return open_declared("static", std::move(config));
    }
};

}  // namespace

std::unique_ptr<Kind> make_static_kind() {
    return std::make_unique<StaticKind>();
}

}  // namespace decamp::provider
