// kind: local — hosts that are this machine, run through the local transport (no SSH): a
// test bench, a single-box setup, the control machine itself. `address` is implied (`local`)
// and may only be written as `local`; `port` and `user` are refused because no SSH login
// happens (commands run as decamp's own user). For a host reached over SSH, use kind: static.
#include "provider/builtin.hpp"
#include "provider/declared.hpp"

namespace decamp::provider {

namespace {

std::string check_local_address(const std::string& a) {
    if (a == "local") return "";
    return "\"" + a +
           "\": the hosts of a local provider are this machine; leave address out (or write local), "
           "or use kind: static for a host reached over SSH";
}

const char* kNoSsh =
    "a local provider's hosts are this machine, reached without SSH, so this does not apply; "
    "use kind: static for a host reached over SSH";

class LocalKind : public Kind {
public:
    std::string name() const override { return "local"; }
    Capabilities capabilities() const override { return {}; }

    Block validate(const Value& block, const std::string& path, schema::Checker& check) const override {
        static const HostRules rules = [] {
            HostRules r;
            r.allowed = {"address", "roles", "vars"};
            r.refused = {{"port", kNoSsh}, {"user", kNoSsh}};
            r.address_required = false;
            r.default_address = "local";
            r.check_address = check_local_address;
            return r;
        }();
        check_block_keys(block, path, "local", {"kind", "hosts"}, check);
        return Block{Value::map(), read_hosts(block, path, rules, check)};
    }

    std::unique_ptr<Provider> open(Config config) const override {
        return open_declared("local", std::move(config));
    }
};

}  // namespace

std::unique_ptr<Kind> make_local_kind() {
    return std::make_unique<LocalKind>();
}

}  // namespace decamp::provider
