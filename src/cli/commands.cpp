// The subcommand table; help is generated from it.
#include "cli/cli.hpp"
#include "cli/common.hpp"

namespace decamp::cli {

int cmd_validate(const Args& args);
int cmd_plan_offline(const Args& args, Session& l);
int cmd_plan_check(const Args& args);
int cmd_apply(const Args& args);
int cmd_run(const Args& args);
int cmd_facts(const Args& args);
int cmd_hostkeys(const Args& args);
int cmd_migrate(const Args& args);
int cmd_status(const Args& args);
int cmd_backup(const Args& args);
int cmd_drill(const Args& args);
int cmd_dns(const Args& args);
int cmd_hosts(const Args& args);

namespace {

int cmd_plan(const Args& args) {
    if (args.has("offline")) {
        Session session = load_all(args, args.positional);
        return cmd_plan_offline(args, session);
    }
    return cmd_plan_check(args);
}

}  // namespace

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"validate",
         "check the inventory and every playbook; report all errors",
         "decamp validate [-i FILE] [PLAYBOOK...]",
         "Loads the inventory and each playbook its roles name (plus any given), checks\n"
         "structure, keys, module arguments and cross references, and prints every error as\n"
         "file:line:column: key/path: message. Touches no host.",
         {flag_inventory(), flag_json(), flag_state()},
         cmd_validate},
        {"plan",
         "show what would run on each host (--offline: without contacting hosts)",
         "decamp plan [-i FILE] [--offline] [--provider P] [--limit PATTERN] [--tags T] [--skip-tags T] "
         "[--json]\n"
         "            [PLAYBOOK...]",
         "With --offline, lists per host the ordered steps (module, name, resolved arguments,\n"
         "secrets masked) from the inventory and playbooks alone. Without playbook files, each\n"
         "role's playbooks are planned for the hosts of the provider the stack runs on.",
         {flag_inventory(),
          {"offline", 0, false, "do not contact any host"},
          flag_provider(),
          flag_limit(),
          flag_json(),
          flag_forks(),
          {"quiet", 'q', false, "no progress output"},
          flag_state(),
          flag_tags(),
          flag_skip_tags()},
         cmd_plan},
        {"apply",
         "converge hosts: run each role's playbooks (or the given ones)",
         "decamp apply [-i FILE] [--provider P] [--limit PATTERN] [--tags T] [--skip-tags T] [--forks N] "
         "[--json]\n"
         "             [PLAYBOOK...]",
         "Without playbook files, applies each role's playbooks to the hosts of the provider the\n"
         "stack runs on (or --provider P). With files, runs their plays on the hosts each play\n"
         "names, as ansible-playbook does. Each step probes first and changes only what differs; a second\n"
         "apply on converged hosts reports 0 changed. Consecutive steps that do not depend on each\n"
         "other reach a host in one round trip (a batch). Ctrl-C lets each host finish its running\n"
         "batch (a package install or wait_for always ends one), then stops; a second Ctrl-C kills.\n"
         "\n"
         "Where the stack runs is the state's record (.decamp/state.db beside the inventory, written\n"
         "by migrate), else the inventory's active:; every command says which. Hosts of a provider\n"
         "the stack left are touched only with --provider, and with a warning. The same holds for\n"
         "plan, validate, run and facts.",
         {flag_inventory(),
          flag_provider(),
          flag_limit(),
          flag_forks(),
          flag_json(),
          {"diff", 'D', false, "show content diffs of changed files"},
          {"quiet", 'q', false, "no progress output"},
          flag_state(),
          flag_tags(),
          flag_skip_tags(),
          flag_tofu()},
         cmd_apply},
        {"run",
         "run an ad-hoc command on the hosts a pattern selects",
         "decamp run [-i FILE] PATTERN [--provider P] [--become] [--json] -- COMMAND [ARGS...]",
         "The words after -- are joined with spaces and run by the login shell on each host. PATTERN\n"
         "selects among the hosts of every provider the stack has not left (or of --provider P).",
         {flag_inventory(),
          flag_forks(),
          flag_json(),
          {"become", 'b', false, "run with sudo -n as root"},
          flag_provider(),
          flag_state(),
          flag_tofu()},
         cmd_run},
        {"facts",
         "show the facts decamp gathers from hosts",
         "decamp facts [-i FILE] [--provider P] [--json] HOST|PATTERN",
         "PATTERN selects among the hosts of every provider the stack has not left (or of --provider P).",
         {flag_inventory(), flag_json(), flag_provider(), flag_state(), flag_tofu()},
         cmd_facts},
        {"hostkeys",
         "record hosts' SSH keys in the inventory's known_hosts (on request only)",
         "decamp hostkeys scan|list [-i FILE] [--limit PATTERN]",
         "decamp refuses unknown and changed host keys. 'hostkeys scan' connects to each host,\n"
         "and appends its key to ssh.known_hosts when no entry of any form (hashed, pattern,\n"
         "@cert-authority) names it; a different recorded key is never replaced (exit 4).\n"
         "A server a provider made (decamp hosts) is trusted by its server id in decamp's trust\n"
         "store instead: scan records its key there only when the provider gave none (marked tofu)\n"
         "and refuses one that differs from the trusted key (exit 4).\n"
         "'hostkeys list' shows, per host, the key decamp expects and where that trust comes from:\n"
         "its server id and provenance (api-attested, injected-user-data, rescue-pinned, tofu),\n"
         "pinned in ssh.known_hosts, or none.",
         {flag_inventory(), flag_limit(), flag_json(), flag_state()},
         cmd_hostkeys},
        {"migrate",
         "move the whole stack to another provider: provision, data, verify, DNS cutover",
         "decamp migrate [-i FILE] --to PROVIDER [--dry-run | --resume | --abort] [--from-backup [--backup "
         "ID]] [--yes] [--json]\n       decamp migrate [-i FILE] --finish [--now] [--yes]",
         "Phases: preflight (hosts, keys, PostgreSQL versions, disk, DNS; lowers TTLs), provision\n"
         "(apply every role on PROVIDER), replicate (PostgreSQL streaming replica over TLS; files\n"
         "streamed through decamp), verify (health checks, lag), cutover (stop the app, fence the\n"
         "source database, wait for the replica, final file pass, promote, start the app, switch DNS\n"
         "and verify it at every authoritative nameserver, health again), report.\n"
         "Every step is journaled in .decamp/state.db beside the inventory: after a crash or Ctrl-C,\n"
         "--resume finishes the job. --abort (before cutover) removes what the migration added to the\n"
         "source. A failing DNS switch or final health check rolls back to the source.\n"
         "--dry-run changes nothing and exits non-zero on any problem it finds.\n"
         "With `app: front:` (HAProxy in front of the app), requests are held, not failed, during the\n"
         "write freeze, and once the target is healthy the source's front bridges every request it\n"
         "still gets (clients whose resolvers cached the old address) over TLS to the target's. The\n"
         "bridge stays until those caches can have expired (the old TTL from when it was lowered, the\n"
         "migration's TTL from the switch, plus a margin; the report says when): --finish waits for\n"
         "that time and takes it down (--now: at once), and the next migration does it by itself.\n"
         "The report shows what clients saw: decamp probes the old and new addresses through the\n"
         "cutover (requests answered, held, failed, the longest wait).\n"
         "--from-backup: when the old provider is gone, the data comes from the latest backup\n"
         "(decamp backup) instead of replication; the report states the data-loss window (RPO).\n"
         "Except with --dry-run, it first shows what it will do and asks on the terminal; --yes\n"
         "skips the question, and without a terminal --yes is required (exit 2 otherwise).",
         {flag_inventory(),
          {"to", 't', true, "target provider"},
          {"dry-run", 'n', false, "show the plan, change nothing"},
          {"resume", 0, false, "continue the migration in progress"},
          {"abort", 0, false, "undo a migration before cutover"},
          {"finish", 0, false,
           "take down the last migration's bridge once resolvers dropped the old addresses"},
          {"now", 0, false, "with --finish: do not wait for that time"},
          {"wait-ttl", 0, false, "wait for the old DNS TTL to expire before cutover"},
          {"from-backup", 0, false, "the source is gone: restore the data from the latest backup instead"},
          {"backup", 0, true, "with --from-backup: the backup id to restore (default: latest)"},
          {"state", 0, true, "journal file (default: .decamp/state.db beside the inventory)"},
          flag_json(),
          flag_yes(),
          flag_tofu()},
         cmd_migrate},
        {"status",
         "where the stack runs and any migration in progress",
         "decamp status [-i FILE] [--json]",
         "",
         {flag_inventory(), {"state", 0, true, "journal file"}, flag_json()},
         cmd_status},
        {"backup",
         "back up every data set off the provider; list, verify, prune",
         "decamp backup [-i FILE] [run | list | verify [ID|latest] | prune] [--provider P] [--json]",
         "run (default): each data set of the inventory is read on the provider's hosts (PostgreSQL:\n"
         "pg_dump -Fc in one exported snapshot with its row counts; files: tar) and streamed through\n"
         "decamp into a restic repository on the backup: host over SFTP, encrypted with the secret the\n"
         "inventory names; production hosts hold no keys for it. A manifest (time, sizes, sha256 of\n"
         "every stream and file, row counts, software versions) is stored with it; then backup.keep\n"
         "is applied (--no-prune skips that).\n"
         "list: complete backups, newest first. verify: restic check --read-data (--quick: structure\n"
         "only), then every stream restored into a scratch dir here and compared with the manifest\n"
         "(exit 5 on any mismatch). prune: apply backup.keep now (--dry-run shows what would go); it\n"
         "shows what it will remove and asks on the terminal first (--yes skips that; required\n"
         "without a terminal, exit 2 otherwise).",
         {flag_inventory(),
          flag_provider(),
          flag_json(),
          {"no-prune", 0, false, "do not apply retention after the backup"},
          {"quick", 0, false, "verify: skip reading every pack of the repository"},
          {"dry-run", 'n', false, "prune: show what would be removed"},
          {"state", 0, true, "journal file (for the active provider)"},
          flag_yes()},
         cmd_backup},
        {"drill",
         "rehearse a rebuild from backup on a spare provider; report RTO and RPO",
         "decamp drill [-i FILE] --to PROVIDER [--backup ID] [--keep] [--yes] [--json]",
         "Provisions the stack on PROVIDER, restores the latest backup (or --backup ID) after checking\n"
         "it, starts the app, runs the health checks and the data checks (row counts and checksums\n"
         "against the manifest), and reports RTO (start → healthy) and RPO (backup age) with each\n"
         "phase's duration. DNS is never touched. Afterwards the stack on PROVIDER is stopped and its\n"
         "data removed, unless --keep. Exit 5 when the drill fails or misses objectives.rto/rpo.\n"
         "It shows what it will do and asks on the terminal first; --yes skips the question, and\n"
         "without a terminal --yes is required (exit 2 otherwise).",
         {flag_inventory(),
          {"to", 't', true, "the spare provider to rebuild on"},
          {"backup", 0, true, "backup id (default: latest)"},
          {"keep", 0, false, "leave the rebuilt stack running"},
          {"state", 0, true, "journal file"},
          flag_json(),
          flag_yes(),
          flag_tofu()},
         cmd_drill},
        {"dns",
         "the zone of the inventory's dns: block (export: RFC 1035 text)",
         "decamp dns export [-i FILE]",
         "export: writes the whole zone as RFC 1035 master-file text to stdout, read by a zone\n"
         "transfer (rfc2136: AXFR signed with the inventory's TSIG key, every message checked).\n"
         "Back-ends that cannot export say so (exit 7).",
         {flag_inventory()},
         cmd_dns},
        {"hosts",
         "list, order, reinstall, rescue or power hosts of a provider with an API",
         "decamp hosts list|create|reinstall|rescue|power [on|off|shutdown|reboot|reset] --provider P [-i "
         "FILE] "
         "[--limit PATTERN] [--json] [--yes]",
         "Works on the host specs of an API provider (hetzner-cloud, hetzner-robot, ovh). list shows\n"
         "what exists at the provider next to each spec; create orders the hosts that do not exist yet\n"
         "(same name = same host: a second create orders nothing and says so); reinstall puts the\n"
         "spec's image on them again (erasing their disks); rescue boots them into the rescue system;\n"
         "power switches them on, off, shutdown (ACPI), reboot or reset. Except list, it first shows\n"
         "the plan (with the monthly price where the API tells it) and asks on the terminal; --yes\n"
         "skips the question, and without a terminal --yes is required (exit 2 otherwise).\n"
         "New and reinstalled servers get ssh.key's public half as root key and, where the provider\n"
         "takes user data, an SSH host key decamp generated: it is pinned in ssh.known_hosts before\n"
         "the first connection (no trust on first use). Robot's answers attest host key fingerprints.\n"
         "Ids, addresses and host keys go to the state (.decamp/state.db beside the inventory), each\n"
         "host's operation journaled: after a crash or Ctrl-C (exit 130), run the same command again;\n"
         "nothing is ordered twice. Exit 1 when the operation failed on some host (the others went\n"
         "on), 7 when the provider's API could not be used (wrong credentials are never retried).",
         {flag_inventory(),
          {"provider", 'p', true, "the provider whose hosts to work on (required)"},
          flag_limit(),
          flag_json(),
          flag_yes(),
          flag_state()},
         cmd_hosts},
    };
    return table;
}

}  // namespace decamp::cli
