// The subcommand table; help is generated from it.
#include "cli/cli.hpp"
#include "cli/common.hpp"

namespace decamp::cli {

int cmd_validate(const Args& args);
int cmd_plan_offline(const Args& args, const Loaded& l);
int cmd_plan_check(const Args& args);
int cmd_apply(const Args& args);
int cmd_run(const Args& args);
int cmd_facts(const Args& args);
int cmd_hostkeys(const Args& args);
int cmd_migrate(const Args& args);
int cmd_status(const Args& args);

namespace {

int cmd_plan(const Args& args) {
    if (args.has("offline")) return cmd_plan_offline(args, load_all(args, args.positional));
    return cmd_plan_check(args);
}

}  // namespace

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"validate", "check the inventory and every playbook; report all errors",
         "decamp validate [-i FILE] [PLAYBOOK...]",
         "Loads the inventory and each playbook its roles name (plus any given), checks\n"
         "structure, keys, module arguments and cross references, and prints every error as\n"
         "file:line:column: key/path: message. Touches no host.",
         {flag_inventory(), flag_json()},
         cmd_validate},
        {"plan", "show what would run on each host (--offline: without contacting hosts)",
         "decamp plan [-i FILE] [--offline] [--provider P] [--limit PATTERN] [--json] [PLAYBOOK...]",
         "With --offline, lists per host the ordered steps (module, name, resolved arguments,\n"
         "secrets masked) from the inventory and playbooks alone. Without playbook files, each\n"
         "role's playbooks are planned for the provider's hosts.",
         {flag_inventory(), {"offline", 0, false, "do not contact any host"}, flag_provider(), flag_limit(),
          flag_json(), flag_forks(), {"quiet", 'q', false, "no progress output"}},
         cmd_plan},
        {"apply", "converge hosts: run each role's playbooks (or the given ones)",
         "decamp apply [-i FILE] [--provider P] [--limit PATTERN] [--forks N] [--json] [PLAYBOOK...]",
         "Without playbook files, applies each role's playbooks to the active provider's hosts\n"
         "(or --provider P). With files, runs their plays on the hosts each play names, as\n"
         "ansible-playbook does. Each step probes first and changes only what differs; a second\n"
         "apply on converged hosts reports 0 changed. Ctrl-C finishes the running step, then stops.",
         {flag_inventory(), flag_provider(), flag_limit(), flag_forks(), flag_json(),
          {"diff", 'D', false, "show content diffs of changed files"}, {"quiet", 'q', false, "no progress output"}},
         cmd_apply},
        {"run", "run an ad-hoc command on the hosts a pattern selects",
         "decamp run [-i FILE] PATTERN [--become] [--json] -- COMMAND [ARGS...]",
         "The words after -- are joined with spaces and run by the login shell on each host.",
         {flag_inventory(), flag_forks(), flag_json(), {"become", 'b', false, "run with sudo -n as root"}},
         cmd_run},
        {"facts", "show the facts decamp gathers from hosts",
         "decamp facts [-i FILE] [--json] HOST|PATTERN", "",
         {flag_inventory(), flag_json()},
         cmd_facts},
        {"hostkeys", "record hosts' SSH keys in the inventory's known_hosts (on request only)",
         "decamp hostkeys scan [-i FILE] [--limit PATTERN]",
         "decamp refuses unknown and changed host keys. 'hostkeys scan' connects to each host,\n"
         "and appends its key to ssh.known_hosts when none is recorded; a different recorded key\n"
         "is never replaced (exit 4).",
         {flag_inventory(), flag_limit()},
         cmd_hostkeys},
        {"migrate", "move the whole stack to another provider: provision, data, verify, DNS cutover",
         "decamp migrate [-i FILE] --to PROVIDER [--dry-run | --resume | --abort] [--json]",
         "Phases: preflight (hosts, keys, PostgreSQL versions, disk, DNS; lowers TTLs), provision\n"
         "(apply every role on PROVIDER), replicate (PostgreSQL streaming replica over TLS; files\n"
         "streamed through decamp), verify (health checks, lag), cutover (stop the app, fence the\n"
         "source database, wait for the replica, final file pass, promote, start the app, switch DNS\n"
         "and verify it at the authoritative server, health again), report.\n"
         "Every step is journaled in .decamp/state.db beside the inventory: after a crash or Ctrl-C,\n"
         "--resume finishes the job. --abort (before cutover) removes what the migration added to the\n"
         "source. A failing DNS switch or final health check rolls back to the source.\n"
         "--dry-run changes nothing and exits non-zero on any problem it finds.",
         {flag_inventory(), {"to", 't', true, "target provider"}, {"dry-run", 'n', false, "show the plan, change nothing"},
          {"resume", 0, false, "continue the migration in progress"}, {"abort", 0, false, "undo a migration before cutover"},
          {"wait-ttl", 0, false, "wait for the old DNS TTL to expire before cutover"},
          {"state", 0, true, "journal file (default: .decamp/state.db beside the inventory)"}, flag_json()},
         cmd_migrate},
        {"status", "where the stack runs and any migration in progress",
         "decamp status [-i FILE] [--json]", "",
         {flag_inventory(), {"state", 0, true, "journal file"}, flag_json()},
         cmd_status},
    };
    return table;
}

}  // namespace decamp::cli
