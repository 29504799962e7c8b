// The bridge from the source's front to the target's (migrate/front.hpp says what it is):
// accepted on the target before the freeze, opened once the target is healthy, undone by a
// rollback, kept until resolvers can no longer hand out the old addresses, and closed by
// `migrate --finish` (or by the next migration, once its time has come).
#include <thread>

#include "migrate/migration_internal.hpp"
#include "migrate/report.hpp"

namespace decamp::migrate {

namespace {

constexpr const char* kOpenKey = "bridge_open";  // the id of the migration whose bridge is open

}  // namespace

const inventory::FrontConfig* Migration::front_cfg() const {
    if (!p_.front || !inv_.app || !inv_.app->front || o_.from_backup) return nullptr;
    return &*inv_.app->front;
}

void Migration::bridge_accept() {
    const auto* f = front_cfg();
    if (!f) return;
    auto src = inv_.hosts_of(source_, inv_.app->role);
    std::vector<std::string> peers;
    peers.reserve(src.size());
    for (const auto* h : src) peers.push_back(h->address);
    for (const auto* h : inv_.hosts_of(target_, inv_.app->role))
        step("cutover", "bridge-accept/" + h->name,
             [&] { return p_.front->accept_bridge_from(conn(*h), peers); });
}

void Migration::bridge_open() {
    const auto* f = front_cfg();
    if (!f) return;
    auto src = inv_.hosts_of(source_, inv_.app->role);
    auto dst = inv_.hosts_of(target_, inv_.app->role);
    if (dst.empty())
        throw Error("provider " + target_ + " has no host with the app's role " + inv_.app->role);
    p_.state->set(kOpenKey, mig_.id);  // before the first change: --finish and rollbacks find it
    set("bridge", "open");
    for (size_t i = 0; i < src.size(); ++i) {
        const inventory::Host& to = *dst[i % dst.size()];
        step("cutover", "bridge-open/" + src[i]->name,
             [&] { return p_.front->bridge_to(conn(*src[i]), to.address, f->bridge_port); });
    }
}

std::string Migration::bridge_rollback() {
    const auto* f = front_cfg();
    if (!f) return "";
    const bool opened = get("bridge").value_or("") == "open";
    std::string notes;
    if (opened)
        for (const auto* h : inv_.hosts_of(source_, inv_.app->role)) {
            try {
                p_.front->serve_locally(conn(*h));
            } catch (const std::exception& e) {
                notes += h->name + "'s front still bridges (" + std::string(e.what()) + "); ";
            }
        }
    for (const auto* h : inv_.hosts_of(target_, inv_.app->role)) {
        if (!step_begun("bridge-accept/" + h->name)) continue;
        try {
            p_.front->refuse_bridge(conn(*h));
        } catch (const std::exception& e) {
            notes += h->name + " still accepts bridged requests (" + std::string(e.what()) + "); ";
        }
    }
    if (!notes.empty()) return notes;
    if (opened) {
        set("bridge", "closed");
        p_.state->erase(kOpenKey);
        return "the source's fronts serve from their own app again, the target's accept no bridged request";
    }
    return "the bridge was never opened; the target's fronts accept no bridged request";
}

void Migration::bridge_schedule() {
    const auto* f = front_cfg();
    if (!f || get("bridge").value_or("") != "open") return;
    auto num = [&](const std::string& key) { return std::stod(get(key).value_or("0")); };
    double until = old_answers_until(num("dns_lowered_at"), num("dns_old_ttl"), num("dns_switched_at"),
                                     num("dns_switch_ttl"));
    if (until <= 0) until = Journal::now();  // no DNS switched: the margin alone
    until += f->margin_s;
    set("bridge_until", std::to_string(until));
    log_ << "  the bridge from " << source_ << " to " << target_ << " stays until " << utc_time(until)
         << "; then run: decamp migrate --finish\n";
}

void Migration::close_bridge(const MigrationRow& m) {
    mig_ = m;
    source_ = m.source;
    target_ = m.target;
    for (const auto* h : inv_.hosts_of(source_, inv_.app->role))
        step("finish", "bridge-close/" + h->name, [&] { return p_.front->serve_locally(conn(*h)); });
    for (const auto* h : inv_.hosts_of(target_, inv_.app->role))
        step("finish", "bridge-refuse/" + h->name, [&] { return p_.front->refuse_bridge(conn(*h)); });
    set("bridge", "closed");
    p_.state->erase(kOpenKey);
}

int Migration::finish_bridge() {
    auto id = p_.state->get(kOpenKey);
    auto m = id ? p_.state->migration(*id) : std::nullopt;
    if (!m) {
        out_ << "decamp: no bridge is open; nothing to finish\n";
        return kExitOk;
    }
    if (!front_cfg())
        throw Error("the bridge of migration " + m->id + " (" + m->source + " → " + m->target +
                    ") is open, but " + inv_.file.string() +
                    " has no app: front: block to take it down with");
    double until = std::stod(p_.state->get("bridge_until/" + m->id).value_or("0"));
    if (o_.finish_now) {
        if (Journal::now() < until)
            log_ << "  taking the bridge down now, " << int(until - Journal::now())
                 << " s early (--now): clients still holding " << m->source << "'s addresses will fail\n";
    } else if (Journal::now() < until) {
        log_ << "  waiting until " << utc_time(until) << " (" << int(until - Journal::now())
             << " s) for resolvers to drop " << m->source << "'s addresses; --now does not wait\n";
        while (Journal::now() < until) {
            check_interrupted();
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
    close_bridge(*m);
    out_ << "The bridge of migration " << m->id << " (" << m->source << " → " << m->target
         << ") is closed: " << m->source << "'s fronts serve from their own app, " << m->target
         << "'s accept no bridged request.\n";
    return kExitOk;
}

void Migration::close_earlier_bridge() {
    auto id = p_.state->get(kOpenKey);
    auto m = id ? p_.state->migration(*id) : std::nullopt;
    if (!m) return;
    if (!front_cfg()) {
        log_ << "  warning: the bridge of migration " << m->id << " (" << m->source << " → " << m->target
             << ") is recorded open, but the inventory has no app: front: block; decamp leaves the fronts as "
                "they are\n";
        return;
    }
    double until = std::stod(p_.state->get("bridge_until/" + m->id).value_or("0"));
    if (Journal::now() < until)
        throw Error("the bridge of migration " + m->id + " (" + m->source + " → " + m->target +
                    ") is open until " + utc_time(until) + ": clients may still reach " + m->source +
                    "'s addresses; run decamp migrate --finish (it waits until then), or --finish --now");
    log_ << "closing the bridge of migration " << m->id << " (its time has passed)\n";
    MigrationRow keep = mig_;
    close_bridge(*m);
    mig_ = keep;
}

}  // namespace decamp::migrate
