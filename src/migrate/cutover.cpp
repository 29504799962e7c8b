// Cutover (the write freeze, the movers' fence → final sync → promote, the app on the target,
// DNS), the rollback when the DNS switch or the final health check fails, and --abort.
#include <algorithm>
#include <thread>

#include "migrate/migration_internal.hpp"
#include "util/systemd.hpp"

namespace decamp::migrate {

namespace {

// The client probe for the span of a cutover: started before the freeze, stopped (also when
// the cutover throws) with its figures added to the journal's, so a resumed cutover's report
// covers both runs.
class ProbeWindow {
public:
    ProbeWindow(ClientProbe* probe, Journal* state, std::string key,
                const std::vector<std::pair<std::string, HealthTarget>>& targets)
        : probe_(targets.empty() ? nullptr : probe), state_(state), key_(std::move(key)) {
        if (probe_) probe_->start(targets);
    }
    ~ProbeWindow() {
        try {
            finish();
        } catch (...) {  // the figures are lost, the cutover's own error stands
        }
    }
    ProbeWindow(const ProbeWindow&) = delete;
    ProbeWindow& operator=(const ProbeWindow&) = delete;

    // This run's figures (empty without a probe), kept in the journal with earlier runs'.
    std::vector<ProbeStats> finish() {
        if (!probe_) return {};
        auto stats = probe_->stop();
        probe_ = nullptr;
        auto all = stats;
        if (auto before = state_->get(key_)) all = merge_probe_stats(decode_probe_stats(*before), stats);
        state_->set(key_, encode_probe_stats(all));
        return stats;
    }

private:
    ClientProbe* probe_;
    Journal* state_;
    std::string key_;
};

}  // namespace

std::vector<std::pair<std::string, HealthTarget>> Migration::probe_targets() const {
    std::vector<std::pair<std::string, HealthTarget>> out;
    auto add = [&](const std::string& provider, const char* which) {
        for (auto& t : health_targets(inv_, provider)) {
            std::string label = t.host + " (" + which + " " + provider + ") " + t.url;
            out.emplace_back(std::move(label), std::move(t));
        }
    };
    if (!o_.from_backup) add(source_, "source");  // with --from-backup the source is gone
    add(target_, "target");
    return out;
}

void Migration::wait_ttl() {
    if (!o_.wait_ttl || !inv_.dns) return;
    double at = std::stod(p_.state->get("dns_lowered_at/" + mig_.id).value_or("0"));
    double ttl = std::stod(p_.state->get("dns_old_ttl/" + mig_.id).value_or("0"));
    double left = at + ttl - Journal::now();
    if (left <= 0) return;
    log_ << "  waiting " << int(left) << " s for the old DNS TTL to expire (--wait-ttl)\n";
    while (left > 0) {
        check_interrupted();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        left = at + ttl - Journal::now();
    }
}

void Migration::cutover() {
    const std::string ph = "cutover";
    wait_ttl();
    std::vector<const inventory::Host*> src_app, dst_app;
    std::vector<std::string> services;
    if (inv_.app) {
        src_app = inv_.hosts_of(source_, inv_.app->role);
        dst_app = inv_.hosts_of(target_, inv_.app->role);
        services = inv_.app->services;
    }
    if (o_.from_backup) src_app.clear();  // the source is gone: nothing to stop there
    ProbeWindow probe(p_.probe, p_.state, "probe/" + mig_.id, probe_targets());
    bridge_accept();
    // Verified: after the stop, every service must be inactive, or the cutover stops here.
    // With a front, the target's app stops too: both fronts then hold requests (retrying
    // the stopped app) until the target's app is up on the promoted data.
    step(ph, "freeze-app", [&] {
        p_.state->set("freeze_at/" + mig_.id, std::to_string(Journal::now()));
        for (const auto* h : src_app) sh(*h, systemd::units_cmd(systemd::Verb::Stop, services), "stopping the app");
        if (front_cfg())
            for (const auto* h : dst_app)
                sh(*h, systemd::units_cmd(systemd::Verb::Stop, services, systemd::Missing::Ignore),
                   "stopping the app on the target");
        return "stopped " + std::to_string(services.size()) + " service(s) on " + std::to_string(src_app.size()) + " host(s)";
    });
    if (!o_.from_backup) {
        for (auto& m : p_.movers) m->fence(*this);
        for (auto& m : p_.movers) report_.moved_bytes += m->final_sync(*this);
        for (auto& m : p_.movers) m->promote(*this);
    }
    try {
        step(ph, "start-app", [&] {
            for (const auto* h : dst_app)
                sh(*h, systemd::units_cmd(systemd::Verb::Restart, services), "starting the app");
            auto res = health(target_, 60);
            if (!all_ok(res))
                throw Error("the app on " + target_ + " is not healthy after promotion: " + describe(res));
            p_.state->set("writable_at/" + mig_.id, std::to_string(Journal::now()));
            return describe(res);
        });
        // Only now, the target being healthy: the requests the source holds go over.
        bridge_open();
        if (inv_.dns) {
            switch_dns();
            step(ph, "health-final", [&] {
                auto res = health(target_, 30);
                if (!all_ok(res)) throw Error("final health checks failed: " + describe(res));
                return describe(res);
            });
        }
    } catch (const StepFailed& e) {
        // With --from-backup there is no source to go back to: the journal keeps the
        // migration for --resume once the cause is fixed.
        if (!o_.from_backup) rollback(e.what());
        throw;
    }
    step(ph, "activate", [&] {
        p_.state->set("active", target_);
        // The DNS TTL goes back to what the inventory asks for, now on the target.
        if (inv_.dns)
            for (const auto& s : target_rrsets(target_, 0)) p_.dns->replace(s);
        return "active provider: " + target_;
    });
    bridge_schedule();
    for (const auto& s : probe.finish()) log_ << "  clients at " << describe_probe(s) << "\n";
}

void Migration::switch_dns() {
    step("cutover", "dns-switch", [&] {
        const int ttl = migration_ttl(inv_, o_);
        for (const auto& s : target_rrsets(target_, ttl)) p_.dns->replace(s);
        // Verified at every authoritative nameserver, not in the API's own view.
        if (p_.dns_verify) {
            dns::Verification v = p_.dns_verify(target_rrsets(target_, ttl));
            log_ << "  DNS at the authoritative nameservers: " << v.summary() << "\n";
            p_.state->set("dns_verified/" + mig_.id, v.summary());
            if (!v.all_agreed())
                throw Error("not every authoritative nameserver serves the new records: " + v.summary());
        }
        p_.state->set("dns_switched_at/" + mig_.id, std::to_string(Journal::now()));
        p_.state->set("dns_switch_ttl/" + mig_.id, std::to_string(ttl));
        return encode_rrsets(target_rrsets(target_, ttl));
    });
}

void Migration::rollback(const std::string& why) {
    log_ << "  ROLLBACK: " << why << "\n";
    std::string notes;
    if (inv_.dns && !report_.dns_before.empty()) {
        try {
            for (const auto& s : report_.dns_before) p_.dns->replace(s);
            notes += "DNS restored to the source's records; ";
        } catch (const std::exception& e) {
            notes += std::string("DNS could not be written (") + e.what() + ") — it still holds what the switch left, check it; ";
        }
    }
    for (auto& m : p_.movers) {
        try {
            std::string did = m->rollback(*this);
            if (!did.empty()) notes += did + "; ";
        } catch (const std::exception& e) {
            notes += "rolling back " + m->label() + " failed: " + e.what() + "; ";
        }
    }
    if (inv_.app) {
        const std::string stop = systemd::units_cmd(systemd::Verb::Stop, inv_.app->services, systemd::Missing::Ignore);
        const std::string start = systemd::units_cmd(systemd::Verb::Start, inv_.app->services);
        for (const auto* h : inv_.hosts_of(target_, inv_.app->role)) {
            try {
                conn(*h).run(stop);
            } catch (...) {  // best effort: the target is being given up on
            }
        }
        for (const auto* h : inv_.hosts_of(source_, inv_.app->role)) {
            try {
                sh(*h, start, "restarting the app on the source");
            } catch (const std::exception& e) {
                notes += std::string("source app restart failed: ") + e.what() + "; ";
            }
        }
        notes += "source app restarted, target app stopped";
        if (std::string b = bridge_rollback(); !b.empty()) notes += "; " + b;
    }
    auto res = health(source_, 30);
    notes += std::string("; source health: ") + (all_ok(res) ? "ok" : describe(res));
    log_ << "  rolled back: " << notes << "\n";
    p_.state->finish(mig_.id, "rolled-back");
    report_.rollback = notes;
}

int Migration::abort_migration() {
    auto m = p_.state->unfinished();
    if (!m) {
        log_ << "decamp: no migration in progress; nothing to abort\n";
        return kExitOk;
    }
    mig_ = *m;
    source_ = m->source;
    target_ = m->target;
    for (const auto& s : p_.state->steps(mig_.id))
        if (s.phase == "cutover")
            throw Error("the migration " + mig_.id + " is past the start of cutover (" + s.name +
                        "); it can no longer be aborted — finish it with --resume");
    log_ << "Aborting migration " << mig_.id << " (" << source_ << " → " << target_ << ")\n";
    for (auto& mv : p_.movers) mv->abort(*this);
    if (inv_.dns) {
        // Kept before the first TTL was lowered: restored even when the step never finished.
        if (auto saved = get("dns_original")) {
            log_ << "  restoring the DNS TTLs …" << std::flush;
            for (const auto& s : decode_rrsets(*saved)) p_.dns->replace(s);
            log_ << " done\n";
        }
    }
    p_.state->finish(mig_.id, "aborted");
    out_ << "Migration " << mig_.id << " aborted; " << source_ << " serves exactly as before.\n";
    return kExitOk;
}

}  // namespace decamp::migrate
