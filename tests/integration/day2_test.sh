#!/usr/bin/env bash
# tests/integration/day2_test.sh — day 2 after `decamp migrate --to new`, on the lab (Debian
# hosts under systemd-nspawn, PostgreSQL, nginx, the forum app, PowerDNS), with the lab's
# default state (.lab/.decamp/state.db beside the inventory, as a user would have it):
#  - `scripts/lab up` on fresh hosts starts with fresh decamp state;
#  - the stack is applied on old and migrated without serving a single request (the schema
#    comes from the playbooks on the primary, not from the app);
#  - migrate refuses without a terminal and without --yes (exit 2), changing nothing;
#  - afterwards plain apply / plan --offline / validate / run / facts work on new and say so,
#    and never touch old; touching old needs --provider old and warns.
# Needs root and systemd-nspawn; prints "SKIP: reason" and exits 0 otherwise.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" day2
command -v jq >/dev/null || skip "no jq"

INV=.lab/inventory.yml
D() { "$DECAMP" "$1" -i "$INV" "${@:2}"; }
web_of() { awk -v h="$1:" '$1 == h { for (i = 1; i <= NF; i++) if ($i == "address:") { gsub(/[,}]/, "", $(i+1)); print $(i+1) } }' "$INV"; }
psql_on() { scripts/lab ssh "$1" "cd / && runuser -u postgres -- psql -d forum -tAc \"$2\""; }
# Host names of a decamp JSON report, sorted, on one line.
report_hosts() { jq -r '.hosts[].host' "$1" | sort | tr '\n' ' ' | sed 's/ $//'; }

# ---- a fresh lab starts with fresh decamp state ----
scripts/lab down >/dev/null 2>&1
mkdir -p .lab/.decamp && echo "journal of an earlier lab" >.lab/.decamp/state.db
scripts/lab up --providers old,new --hosts-per-provider 2 --roles web,db >"$T/lab.log" 2>&1 ||
  { cat "$T/lab.log"; bad "lab up"; echo "$PASS passed, $FAIL failed"; exit 1; }
check "lab up on fresh hosts removed the earlier lab's decamp state" test ! -e .lab/.decamp
check "lab up says so" grep -q "removed the decamp state of the earlier lab" "$T/lab.log"
check "status: the stack starts where the inventory says (old)" \
  bash -c "'$DECAMP' status -i $INV | grep -q \"runs on provider old (from the inventory's active:\""

# ---- day 1: old, no request ever served ----
t0=$(date +%s)
D apply --json >"$T/apply.old.json" 2>"$T/apply.old.err"; rc=$?
echo "apply on old: rc=$rc in $(($(date +%s) - t0)) s"
[[ $rc = 0 ]] || tail -n 20 "$T/apply.old.err"
check "plain apply before any migration converges old (exit 0)" test $rc = 0
check "plain apply touched old's hosts only" test "$(report_hosts "$T/apply.old.json")" = "old-db1 old-web1"
check "the schema exists on old-db1 before the app served a request" \
  test "$(psql_on old-db1 "SELECT to_regclass('public.items') IS NOT NULL")" = t
check "the table belongs to the app's role" \
  test "$(psql_on old-db1 "SELECT tableowner FROM pg_tables WHERE tablename = 'items'")" = forum

# ---- confirmation: no terminal, no --yes → exit 2, nothing written ----
D migrate --to new </dev/null >"$T/noyes.out" 2>"$T/noyes.err"; rc=$?
check "migrate without a terminal and without --yes exits 2" test $rc = 2
check "... and says to pass --yes" grep -q -- "pass --yes" "$T/noyes.err"
check "... and wrote no journal" test ! -e .lab/.decamp/state.db

# ---- the migration, on a stack that never served a request ----
t0=$(date +%s)
D migrate --to new --yes --json >"$T/mig.json" 2>"$T/mig.err"; rc=$?
echo "migrate old → new: rc=$rc in $(($(date +%s) - t0)) s"
[[ $rc = 0 ]] || tail -n 20 "$T/mig.err"
check "migrate of a never-used stack passes verify and finishes (exit 0)" test $rc = 0
check "no read-only DDL error anywhere" bash -c "! grep -q 'read-only transaction' '$T/mig.err' '$T/mig.json'"
check "/healthz green on new" bash -c "curl -fsS -m 5 -H 'Host: www.example.test' http://$(web_of new-web1)/healthz | grep -q '\"ok\": *true'"
D migrate --to new --yes >"$T/again.out" 2>"$T/again.err"; rc=$?
check "migrating again to new is refused, naming the state" \
  bash -c "test $rc != 0 && grep -q 'already runs on provider new (from state' '$T/again.err'"

# ---- day 2: every plain command works on new and says so ----
D validate >"$T/validate.out" 2>&1
check "validate names new, from the state" grep -q "the stack runs on provider new (from state" "$T/validate.out"
D plan --offline --json >"$T/plan.json" 2>"$T/plan.err"
check "plan --offline plans provider new" test "$(jq -r .provider "$T/plan.json")" = new
check "plan --offline: from the state" test "$(jq -r .active_from "$T/plan.json")" = state
check "plan --offline lists new's hosts only" \
  test "$(jq -r '.hosts[].name' "$T/plan.json" | sort | tr '\n' ' ')" = "new-db1 new-web1 "
check "plan --offline says which provider and why" grep -q "provider new (from state" "$T/plan.err"

t0=$(date +%s)
D apply --json >"$T/apply.new.json" 2>"$T/apply.new.err"; rc=$?
echo "day-2 apply: rc=$rc in $(($(date +%s) - t0)) s, changed $(jq .totals.changed "$T/apply.new.json")"
[[ $rc = 0 ]] || tail -n 20 "$T/apply.new.err"
check "plain apply after the migration exits 0" test $rc = 0
check "plain apply touched new's hosts only" test "$(report_hosts "$T/apply.new.json")" = "new-db1 new-web1"
check "plain apply says it works on new, from the state" grep -q "the stack runs on provider new (from state" "$T/apply.new.err"
check "the app on old stays stopped (not restarted against the fenced database)" \
  bash -c "! scripts/lab ssh old-web1 systemctl is-active --quiet forum-app"
check "new still serves after the day-2 apply" \
  bash -c "curl -fsS -m 5 -X POST -d day2 -H 'Host: www.example.test' http://$(web_of new-web1)/items | grep -q id"

D run all --json -- hostname >"$T/run.json" 2>"$T/run.err"; rc=$?
check "run all: exit 0" test $rc = 0
check "run all reaches new's hosts only" test "$(report_hosts "$T/run.json")" = "new-db1 new-web1"
check "run all says old's hosts are left out" grep -q "hosts of provider old are left out" "$T/run.err"
D run old-web1 -- true >"$T/run.old.out" 2>"$T/run.old.err"; rc=$?
check "run on a host of the left provider without --provider: exit 2 with the hint" \
  bash -c "test $rc = 2 && grep -q -- '--provider old' '$T/run.old.err'"
D facts web --json >"$T/facts.json" 2>"$T/facts.err"
check "facts web: new-web1 only" test "$(jq -r 'keys | join(" ")' "$T/facts.json")" = new-web1

# ---- the provider left: only with --provider, and a warning ----
D apply --provider old --limit old-db1 --json >"$T/apply.left.json" 2>"$T/apply.left.err"; rc=$?
echo "apply --provider old --limit old-db1: rc=$rc"
check "apply --provider old warns that old was left" grep -q "warning: provider old was left" "$T/apply.left.err"
check "apply --provider old --limit old-db1 touched old-db1 only" test "$(report_hosts "$T/apply.left.json")" = old-db1
check "the fenced old database converges without DDL (apply exit 0)" test $rc = 0
D run --provider old old-web1 -- true >"$T/run.left.out" 2>"$T/run.left.err"; rc=$?
check "run --provider old old-web1 works and warns" \
  bash -c "test $rc = 0 && grep -q 'warning: provider old was left' '$T/run.left.err'"
check "status names old as left" bash -c "'$DECAMP' status -i $INV | grep -q 'left provider old'"

summary
