// Host patterns for --limit and plays' `hosts:` (Ansible's shapes: comma lists, globs,
// !exclude, &intersect), over names, roles and providers.
#include <fnmatch.h>

#include <algorithm>

#include "inventory/inventory.hpp"
#include "util/schema.hpp"

namespace decamp::inventory {

bool glob_match(const std::string& pattern, const std::string& text) {
    return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

namespace {

std::vector<const Host*> match_term(const Inventory& inv, const std::string& term,
                                    const std::vector<const Host*>& within) {
    std::vector<const Host*> out;
    bool glob = term.find_first_of("*?[") != std::string::npos;
    for (const Host* h : within) {
        bool hit = term == "all" || term == "*" || h->name == term || h->provider == term ||
                   h->has_role(term) || (glob && glob_match(term, h->name));
        if (!hit && glob) {
            for (const auto& r : h->roles) hit = hit || glob_match(term, r);
        }
        if (hit) out.push_back(h);
    }
    (void)inv;
    return out;
}

std::string trim(const std::string& s) {
    size_t a = s.find_first_not_of(" \t");
    if (a == std::string::npos) return "";
    size_t b = s.find_last_not_of(" \t");
    return s.substr(a, b - a + 1);
}

}  // namespace

std::vector<const Host*> select(const Inventory& inv, const std::string& pattern,
                                const std::vector<const Host*>& within) {
    std::vector<std::string> terms;
    size_t start = 0;
    // Ansible accepts ':' as a separator too, but host names never contain it here.
    while (start <= pattern.size()) {
        size_t end = pattern.find_first_of(",:", start);
        if (end == std::string::npos) end = pattern.size();
        std::string t = trim(pattern.substr(start, end - start));
        if (!t.empty()) terms.push_back(t);
        start = end + 1;
    }
    if (terms.empty()) throw PatternError("empty host pattern");

    std::vector<const Host*> chosen;
    bool any_positive = false;
    for (const auto& t : terms)
        if (t[0] != '!' && t[0] != '&') any_positive = true;
    if (!any_positive) chosen = within;

    auto check_known = [&](const std::string& term, const std::vector<const Host*>& hit) {
        if (!hit.empty() || term == "all") return;
        // A term that names nothing at all is a typo; one that names hosts outside `within`
        // (another provider) simply selects none of them.
        bool known = inv.find_host(term) || inv.find_provider(term) || inv.find_role(term);
        for (const auto& h : inv.hosts) known = known || glob_match(term, h.name);
        if (known) return;
        std::vector<std::string> names;
        for (const auto& h : inv.hosts) names.push_back(h.name);
        for (const auto& r : inv.roles) names.push_back(r.name);
        for (const auto& p : inv.providers) names.push_back(p.name);
        std::string msg = "host pattern \"" + term + "\" matches no host, role or provider";
        std::string hint = schema::did_you_mean(term, names);
        if (!hint.empty()) msg += "; did you mean \"" + hint + "\"?";
        throw PatternError(msg);
    };

    for (const auto& raw : terms) {
        char op = raw[0] == '!' || raw[0] == '&' ? raw[0] : '+';
        std::string term = op == '+' ? raw : trim(raw.substr(1));
        auto hit = match_term(inv, term, within);
        check_known(term, hit);
        auto contains = [](const std::vector<const Host*>& v, const Host* h) {
            return std::find(v.begin(), v.end(), h) != v.end();
        };
        if (op == '+') {
            for (const Host* h : hit)
                if (!contains(chosen, h)) chosen.push_back(h);
        } else if (op == '!') {
            std::erase_if(chosen, [&](const Host* h) { return contains(hit, h); });
        } else {
            std::erase_if(chosen, [&](const Host* h) { return !contains(hit, h); });
        }
    }
    // Keep inventory order, whatever order the terms came in.
    std::vector<const Host*> ordered;
    for (const Host* h : within)
        if (std::find(chosen.begin(), chosen.end(), h) != chosen.end()) ordered.push_back(h);
    return ordered;
}

std::vector<const Host*> select_some(const Inventory& inv, const std::string& pattern,
                                     const std::vector<const Host*>& within,
                                     const std::string& scope) {
    auto hosts = select(inv, pattern, within);
    if (hosts.empty())
        throw PatternError("host pattern \"" + pattern + "\" selects no host" +
                           (scope.empty() ? std::string() : " in " + scope));
    return hosts;
}

}  // namespace decamp::inventory
