// Retention over whole backups: data-driven by dates.
#include <doctest/doctest.h>

#include "backup/retention.hpp"

using namespace decamp;

namespace {

// 2025-01-01T00:00:00Z is a Wednesday (ISO week 2025-W01).
constexpr double kDay0 = 1735689600.0;

std::vector<backup::Dated> daily(int days, int per_day) {
    std::vector<backup::Dated> v;
    for (int d = 0; d < days; ++d)
        for (int i = 0; i < per_day; ++i)
            v.push_back({"d" + std::to_string(d) + "-" + std::to_string(i), kDay0 + d * 86400.0 + i * 3600.0});
    return v;
}

}  // namespace

TEST_CASE("retention: daily 7 weekly 4 over 40 days of two backups a day") {
    inventory::BackupKeep k;
    k.daily = 7;
    k.weekly = 4;
    auto kept = backup::select_kept(daily(40, 2), k);
    // The newest of each of the last 7 days: d39-1 … d33-1.
    for (int d = 33; d < 40; ++d) CHECK(kept.ids.count("d" + std::to_string(d) + "-1"));
    CHECK(!kept.ids.count("d39-0"));
    // Weekly: the newest of the 4 newest ISO weeks. Day 39 = 2025-02-09 (Sunday, W06): d39-1
    // is already kept; W05 ends Sunday 2025-02-02 = day 32; W04 = day 25; W03 = day 18.
    CHECK(kept.ids.count("d32-1"));
    CHECK(kept.ids.count("d25-1"));
    CHECK(kept.ids.count("d18-1"));
    CHECK(!kept.ids.count("d11-1"));
    CHECK(kept.ids.size() == 10);
}

TEST_CASE("retention: newest always kept, empty policy keeps all, last N") {
    auto all = daily(3, 3);
    inventory::BackupKeep none;
    CHECK(backup::select_kept(all, none).ids.size() == 9);
    inventory::BackupKeep last;
    last.last = 2;
    auto k = backup::select_kept(all, last);
    CHECK(k.ids == std::set<std::string>{"d2-2", "d2-1"});
    inventory::BackupKeep monthly;
    monthly.monthly = 1;
    CHECK(backup::select_kept(all, monthly).ids == std::set<std::string>{"d2-2"});
    CHECK(backup::select_kept({}, last).ids.empty());
    // Unordered input is fine.
    std::vector<backup::Dated> shuffled = {{"b", kDay0 + 10}, {"c", kDay0 + 5}, {"a", kDay0 + 20}};
    CHECK(backup::select_kept(shuffled, monthly).ids == std::set<std::string>{"a"});
}
