#include "inventory/front.hpp"

#include <cctype>

#include "util/names.hpp"

namespace decamp::inventory {

namespace {

// HAProxy's proxy and server names: letters, digits, '-', '_', '.', ':' (its configuration
// manual, "4. Proxies"); decamp also puts them in admin-socket commands, so nothing else.
std::string check_proxy_name(const std::string& s) {
    if (s.empty() || s.size() > 64) return "expected a HAProxy name of 1 to 64 characters";
    for (unsigned char ch : s)
        if (!std::isalnum(ch) && ch != '-' && ch != '_' && ch != '.' && ch != ':')
            return "expected a HAProxy name (letters, digits, '-', '_', '.', ':')";
    return "";
}

}  // namespace

std::optional<FrontConfig> load_front(const Value& v, schema::Checker& c) {
    const std::string path = "app/front";
    if (!c.map(v, path,
               {"kind", "backend", "server", "bridge_server", "bridge_port", "socket", "state_file",
                "peers_file", "margin"}))
        return std::nullopt;
    FrontConfig f;
    f.mark = v.mark();
    if (auto k = c.str(v, "kind", path, true)) {
        if (*k != "haproxy")
            c.error(*v.get("kind"), path + "/kind", "unknown front kind \"" + *k + "\"; expected haproxy");
        f.kind = *k;
    }
    if (auto b = c.shaped(v, "backend", path, check_proxy_name, true)) f.backend = *b;
    if (auto s = c.shaped(v, "server", path, check_proxy_name)) f.server = *s;
    if (auto s = c.shaped(v, "bridge_server", path, check_proxy_name)) f.bridge_server = *s;
    if (f.server == f.bridge_server)
        c.error(v, path, "server and bridge_server must be two different servers of the backend");
    if (auto p = c.integer(v, "bridge_port", path, false, 1, 65535)) f.bridge_port = static_cast<int>(*p);
    if (auto s = c.shaped(v, "socket", path, names::check_abs_path)) f.socket = *s;
    if (auto s = c.shaped(v, "state_file", path, names::check_abs_path)) f.state_file = *s;
    if (auto s = c.shaped(v, "peers_file", path, names::check_abs_path)) f.peers_file = *s;
    if (auto m = c.integer(v, "margin", path, false, 0, 86400)) f.margin_s = static_cast<int>(*m);
    return f;
}

}  // namespace decamp::inventory
