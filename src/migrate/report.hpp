// The migration report: phase durations, data volumes, downtime and what changed, as
// Markdown for people and JSON for CI. Built from the journal, so a resumed migration's
// report covers all of its runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dns/dns.hpp"
#include "migrate/probe.hpp"

namespace decamp::migrate {

class Journal;

struct ReportData {
    std::string id, source, target, state;
    struct Data {
        std::string kind, name;
        uint64_t bytes = 0;
    };
    std::vector<Data> data;
    uint64_t moved_bytes = 0;       // file bytes streamed through decamp
    int64_t lag_bytes = -1;         // replication lag seen in verify
    std::vector<dns::RRset> dns_before;
    std::vector<std::string> dns_after;
    std::string dns_verified;       // each authoritative nameserver and when it agreed, "" when not verified
    std::string rollback;           // what a rollback did, "" when none
    std::string backup_id;          // --from-backup: the backup restored
    double backup_time = 0;         // its time (unix seconds)
    double rpo_s = -1;              // data-loss window: backup time → DNS switched
    struct Phase {
        std::string name;
        double seconds = 0;
    };
    std::vector<Phase> phases;
    struct Step {
        std::string phase, name, state, detail;
        double seconds = 0;
    };
    std::vector<Step> steps;
    double total_s = 0;
    double downtime_s = -1;         // app stopped on the source → DNS answers the target
    double write_freeze_s = -1;     // app stopped on the source → app healthy on the target
    // What decamp's own clients saw during cutover, per address (migrate/probe.hpp).
    std::vector<ProbeStats> clients;
    // Until when a resolver may still hand out the source's addresses: the old TTL counted
    // from when it was lowered, or the migration's TTL counted from the switch, whichever
    // ends later (unix seconds; 0 when DNS was not switched).
    double old_answers_until = 0;
    double old_answers_after_switch_s = -1;
};

// "2026-12-03 16:05:09 UTC"
std::string utc_time(double unix_time);
// The end of the old-address window (see ReportData::old_answers_until); 0 without a switch.
double old_answers_until(double lowered_at, double old_ttl, double switched_at, double switch_ttl);
void fill_report(ReportData& r, Journal& j, const std::string& id);
std::string report_markdown(const ReportData& r);
std::string report_json(const ReportData& r);
// Writes <dir>/reports/<id>.md and .json.
void write_report_files(const ReportData& r, const std::filesystem::path& dir);

}  // namespace decamp::migrate
