#include "backup/retention.hpp"

#include <algorithm>
#include <ctime>
#include <functional>

namespace decamp::backup {

namespace {

std::string bucket(double t, const char* fmt) {
    time_t tt = time_t(t);
    tm g{};
    gmtime_r(&tt, &g);
    char buf[32];
    strftime(buf, sizeof buf, fmt, &g);
    return buf;
}

}  // namespace

Kept select_kept(const std::vector<Dated>& backups, const inventory::BackupKeep& keep) {
    Kept out;
    std::vector<Dated> sorted = backups;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Dated& a, const Dated& b) {
        return a.time != b.time ? a.time > b.time : a.id > b.id;
    });
    auto add = [&](const Dated& d, const std::string& why) {
        out.ids.insert(d.id);
        out.reasons.emplace_back(d.id, why);
    };
    if (sorted.empty()) return out;
    if (keep.empty()) {
        for (const auto& d : sorted) add(d, "no retention policy");
        return out;
    }
    add(sorted.front(), "newest");
    for (int i = 0; i < keep.last && i < int(sorted.size()); ++i) add(sorted[size_t(i)], "last");
    // Newest first: the first backup seen in a bucket is that bucket's newest.
    auto per_bucket = [&](int n, const char* fmt, const char* name) {
        std::set<std::string> seen;
        for (const auto& d : sorted) {
            if (int(seen.size()) >= n) break;
            std::string b = bucket(d.time, fmt);
            if (seen.insert(b).second) add(d, std::string(name) + " " + b);
        }
    };
    per_bucket(keep.daily, "%Y-%m-%d", "daily");
    per_bucket(keep.weekly, "%G-W%V", "weekly");
    per_bucket(keep.monthly, "%Y-%m", "monthly");
    return out;
}

}  // namespace decamp::backup
