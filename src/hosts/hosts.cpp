// Plans and runs of `decamp hosts`: what exists at the provider, what would be ordered (and
// what it costs), then one journaled operation per host.
#include "hosts/hosts.hpp"

#include "hosts/trust.hpp"
#include "provider/host_key.hpp"
#include "util/json.hpp"
#include "util/secret.hpp"

namespace decamp::hosts {

namespace {

const char* kActions[] = {"list", "create", "reinstall", "rescue", "power"};

std::string where(const provider::Server& s) {
    std::string out = "id " + s.id;
    if (!s.ipv4.empty()) out += ", " + s.ipv4;
    if (!s.status.empty()) out += ", " + s.status;
    return out;
}

std::string order_text(const provider::Order& o) {
    std::string out = o.plan + " " + o.image;
    if (!o.location.empty()) out += " in " + o.location;
    return out;
}

void require(const provider::Provider& p, bool can, const std::string& what) {
    if (!can)
        throw Error("provider " + p.name() + " (kind " + p.kind() + ") cannot " + what +
                    "; it can: " + provider::describe(p.capabilities()));
}

std::string join_fingerprints(const std::vector<std::string>& fps) {
    std::string out;
    for (const auto& f : fps) out += (out.empty() ? "" : ", ") + f;
    return out;
}

int port_of(const Context& ctx, const std::string& host) {
    auto it = ctx.ports.find(host);
    return it == ctx.ports.end() ? 22 : it->second;
}

Record record_of(const std::string& provider, const std::string& name, const provider::Server& s) {
    Record r;
    r.provider = provider;
    r.name = name;
    r.id = s.id;
    r.ipv4 = s.ipv4;
    r.ipv6 = s.ipv6;
    r.status = s.status;
    return r;
}

// Puts what decamp knows of r's server key in the trust store, by server id. An injected key
// is whole; the API attests fingerprints; a reinstall that gave no key empties the entry (the
// old key is gone with the old system).
void trust(Store& store, const Record& r, const std::vector<std::string>& fingerprints, Reason why) {
    TrustEntry e;
    e.provider = r.provider;
    e.id = r.id;
    e.name = r.name;
    e.address = r.ipv4;
    if (r.key_source == "injected") {
        e.provenance = Provenance::InjectedUserData;
        e.keys = {r.host_key};
    } else if (r.key_source == "api") {
        e.provenance = Provenance::ApiAttested;
        e.fingerprints = fingerprints;
    }
    TrustStore(store.journal()).pin(e, why);
}

}  // namespace

std::optional<Action> parse_action(const std::string& word) {
    for (int i = 0; i < 5; ++i)
        if (word == kActions[i]) return static_cast<Action>(i);
    return std::nullopt;
}

const char* action_name(Action a) {
    return kActions[static_cast<int>(a)];
}

int Plan::todo() const {
    int n = 0;
    for (const auto& i : items) n += i.todo;
    return n;
}

Plan make_plan(provider::Provider& p, Action action, const std::vector<std::string>& names,
               std::optional<provider::PowerAction> power) {
    auto caps = p.capabilities();
    switch (action) {
        case Action::List:
            break;
        case Action::Create:
            require(p, caps.order_hosts, "order hosts");
            break;
        case Action::Reinstall:
            require(p, caps.reinstall, "reinstall hosts");
            break;
        case Action::Rescue:
            require(p, caps.rescue, "boot hosts into a rescue system");
            break;
        case Action::Power:
            require(p, caps.order_hosts || caps.rescue, "switch hosts' power");
            break;
    }
    Plan plan;
    plan.action = action;
    plan.provider = p.name();
    plan.power = power;
    std::vector<provider::Server> servers = p.servers();
    std::vector<provider::Order> orders = p.orders();
    for (const auto& s : servers) {
        bool named = false;
        for (const auto& o : orders) named = named || o.name == s.name;
        if (!named) plan.strangers.push_back(s);
    }
    for (const auto& name : names) {
        Item item;
        item.host = name;
        for (const auto& o : orders)
            if (o.name == name) item.order = o;
        for (const auto& s : servers)
            if (s.name == name) item.server = s;
        const auto& o = item.order;
        switch (action) {
            case Action::List:
                item.what = item.server ? where(*item.server) : "not ordered (" + order_text(o) + ")";
                break;
            case Action::Create:
                item.todo = !item.server;
                if (item.server) {
                    item.what = "exists (" + where(*item.server) + "): nothing to order";
                } else {
                    item.what = "order " + order_text(o);
                    item.price = p.monthly_price(o);
                }
                break;
            case Action::Reinstall:
            case Action::Rescue:
            case Action::Power:
                item.todo = bool(item.server);
                if (!item.server) {
                    item.what = "not ordered: nothing to do (decamp hosts create first)";
                } else if (action == Action::Reinstall) {
                    item.what = "reinstall " + o.image + " on " + where(*item.server) + " (erases its disks)";
                } else if (action == Action::Rescue) {
                    item.what = "boot " + where(*item.server) + " into the rescue system (resets it)";
                } else {
                    item.what =
                        std::string("power ") + provider::power_name(*power) + " " + where(*item.server);
                }
                break;
        }
        plan.items.push_back(std::move(item));
    }
    return plan;
}

std::string render_plan(const Plan& plan) {
    std::string out;
    for (const auto& i : plan.items) {
        out += "  " + i.host + ": " + i.what;
        if (!i.price.empty()) out += " — " + i.price;
        out += "\n";
    }
    for (const auto& s : plan.strangers)
        out += "  (" + s.name + ": " + where(s) + "; no host of the inventory)\n";
    return out;
}

std::vector<Outcome> run_plan(provider::Provider& p, const Plan& plan, Store& store, const Context& ctx) {
    std::vector<Outcome> out;
    auto say = [&](const std::string& line) {
        if (ctx.progress) ctx.progress(redactor().mask(line));
    };
    const std::string& prov = plan.provider;
    for (const auto& item : plan.items) {
        Outcome o;
        o.host = item.host;
        o.record = store.get(prov, item.host);
        if (!item.todo) {
            o.ok = o.skipped = true;
            o.message = item.what;
            // A server that exists but is not in the state (ordered elsewhere, or an order
            // interrupted after the provider took it) is adopted: its addresses go to the state,
            // with the key decamp sent when its own interrupted order was that server.
            if (item.server && plan.action != Action::List) {
                Record r = record_of(prov, item.host, *item.server);
                auto pending = store.op(prov, item.host);
                if (o.record && o.record->id == r.id) {
                    r.host_key = o.record->host_key;
                    r.key_source = o.record->key_source;
                } else if (pending && pending->state == "started" && pending->op == "create" &&
                           !pending->pending_key.empty()) {
                    r.host_key = pending->pending_key;
                    r.key_source = "injected";
                    trust(store, r, {}, Reason::NewServer);
                    store.op_ended(prov, item.host, true, "adopted after an interrupted create");
                    if (!ctx.known_hosts.empty())
                        pin_host_key(ctx.known_hosts, r.ipv4, port_of(ctx, item.host), r.host_key);
                }
                store.put(r);
                o.record = r;
            }
            out.push_back(std::move(o));
            continue;
        }
        if (ctx.stop && ctx.stop()) {
            o.skipped = true;
            o.message = "not started (interrupted)";
            out.push_back(std::move(o));
            continue;
        }
        std::string verb = action_name(plan.action);
        say(item.host + ": " + item.what + " …");
        try {
            provider::Install in;
            in.image = item.order.image;
            in.authorized_key = ctx.authorized_key;
            bool new_key = (plan.action == Action::Create || plan.action == Action::Reinstall) &&
                           p.capabilities().user_data;
            if (new_key) in.host_key = provider::generate_host_key(item.host);
            std::string pending = in.host_key ? provider::key_of(in.host_key->public_line) : "";
            // An order the provider took before a crash or a timeout is followed, not placed again.
            auto prev = store.op(prov, item.host);
            if (plan.action == Action::Create && prev && prev->op == "create" && prev->state != "done")
                in.resume_ref = prev->ref;
            store.op_started(prov, item.host, verb, pending);
            if (!in.resume_ref.empty()) store.op_ref(prov, item.host, in.resume_ref);
            in.on_ordered = [&](const std::string& ref) { store.op_ref(prov, item.host, ref); };
            Record r;
            if (plan.action == Action::Create || plan.action == Action::Reinstall) {
                provider::Provisioned done =
                    plan.action == Action::Create ? p.create(item.order, in) : p.reinstall(*item.server, in);
                r = record_of(prov, item.host, done.server);
                if (done.key_source == provider::KeySource::Injected) {
                    r.host_key = done.host_key;
                    r.key_source = "injected";
                } else if (done.key_source == provider::KeySource::Api) {
                    // Fingerprints only: the trust store matches them (known_hosts cannot).
                    r.host_key = join_fingerprints(done.fingerprints);
                    r.key_source = "api";
                }
                trust(store, r, done.fingerprints,
                      plan.action == Action::Create ? Reason::NewServer : Reason::Reinstall);
                if (r.key_source == "injected" && !ctx.known_hosts.empty())
                    pin_host_key(ctx.known_hosts, r.ipv4, port_of(ctx, item.host), r.host_key);
                o.message =
                    (plan.action == Action::Create ? "ordered: " : "reinstalled: ") + where(done.server) +
                    (r.host_key.empty() ? "; host key unknown"
                     : r.key_source == "injected"
                         ? "; host key " + r.host_key.substr(0, r.host_key.find(' ')) + " pinned (injected)"
                         : "; host key fingerprints from the API: " + r.host_key);
            } else if (plan.action == Action::Rescue) {
                provider::Rescue res = p.rescue(*item.server, ctx.authorized_key);
                r = record_of(prov, item.host, res.server);
                if (o.record && o.record->id == r.id) {  // the installed system's key stays known
                    r.host_key = o.record->host_key;
                    r.key_source = o.record->key_source;
                }
                o.message = "rescue system booting on " + where(res.server) +
                            (res.fingerprints.empty() ? "; its host key is not told by the API (not pinned)"
                                                      : "; its host keys as the API attests them: " +
                                                            join_fingerprints(res.fingerprints));
            } else {
                p.power(*item.server, *plan.power);
                r = o.record ? *o.record : record_of(prov, item.host, *item.server);
                r.status = std::string("power ") + provider::power_name(*plan.power);
                o.message = std::string("power ") + provider::power_name(*plan.power) + ": done";
            }
            store.put(r);
            store.op_ended(prov, item.host, true, o.message);
            o.record = r;
            o.ok = true;
            say(item.host + ": " + o.message);
        } catch (const Error& e) {
            o.message = redactor().mask(e.what());
            store.op_ended(prov, item.host, false, o.message);
            say(item.host + ": FAILED: " + o.message);
        }
        out.push_back(std::move(o));
    }
    return out;
}

std::string to_json(const Plan& plan, const std::vector<Outcome>& outcomes) {
    json::Value v;
    v.set("provider", plan.provider);
    v.set("action", action_name(plan.action));
    json::Value hosts = json::Value(json::Value::Array{});
    for (size_t i = 0; i < plan.items.size(); ++i) {
        const Item& it = plan.items[i];
        json::Value h;
        h.set("host", it.host);
        h.set("todo", it.todo);
        h.set("plan", it.what);
        if (!it.price.empty()) h.set("monthly_price", it.price);
        if (it.server) {
            h.set("id", it.server->id);
            h.set("status", it.server->status);
            h.set("ipv4", it.server->ipv4);
            h.set("ipv6", it.server->ipv6);
        }
        if (i < outcomes.size()) {
            const Outcome& o = outcomes[i];
            h.set("ok", o.ok);
            h.set("skipped", o.skipped);
            h.set("result", o.message);
            if (o.record) {
                h.set("id", o.record->id);
                h.set("ipv4", o.record->ipv4);
                h.set("ipv6", o.record->ipv6);
                h.set("host_key", o.record->host_key);
                h.set("key_source", o.record->key_source);
            }
        }
        hosts.push(std::move(h));
    }
    v.set("hosts", std::move(hosts));
    json::Value others = json::Value(json::Value::Array{});
    for (const auto& s : plan.strangers) {
        json::Value h;
        h.set("name", s.name);
        h.set("id", s.id);
        h.set("ipv4", s.ipv4);
        others.push(std::move(h));
    }
    v.set("not_in_inventory", std::move(others));
    return redactor().mask(json::dump(v));
}

}  // namespace decamp::hosts
