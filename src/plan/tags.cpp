#include "plan/tags.hpp"

#include <algorithm>

namespace decamp::plan {

namespace {

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        std::string t = s.substr(start, end - start);
        t.erase(0, t.find_first_not_of(" \t"));
        t.erase(t.find_last_not_of(" \t") + 1);
        if (!t.empty()) out.push_back(t);
        start = end + 1;
    }
    return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

bool intersects(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return std::any_of(a.begin(), a.end(), [&](const std::string& x) { return has(b, x); });
}

}  // namespace

TagFilter parse_tag_filter(const std::string& tags, const std::string& skip_tags) {
    return TagFilter{split(tags), split(skip_tags)};
}

bool selected(const std::vector<std::string>& tags, const TagFilter& f) {
    bool run = false;
    if (f.only.empty() || has(f.only, "all")) {
        // Everything but `never` (unless one of its other tags is asked for by name).
        run = !has(tags, "never") || intersects(tags, f.only);
    }
    if (!run && !f.only.empty()) {
        run = intersects(tags, f.only) || (has(f.only, "tagged") && !tags.empty()) ||
              (has(f.only, "untagged") && tags.empty());
        if (!run && has(tags, "always")) run = true;
    }
    if (run && !f.skip.empty()) {
        if (intersects(tags, f.skip) || (has(f.skip, "tagged") && !tags.empty()) ||
            (has(f.skip, "untagged") && tags.empty()) || has(f.skip, "all"))
            run = false;
    }
    return run;
}

void filter_tags(playbook::Playbook& book, const TagFilter& f) {
    if (f.empty()) return;
    for (auto& play : book.plays)
        std::erase_if(play.tasks, [&](const playbook::Task& t) { return !selected(t.tags, f); });
}

}  // namespace decamp::plan
