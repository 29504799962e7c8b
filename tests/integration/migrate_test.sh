#!/usr/bin/env bash
# tests/integration/migrate_test.sh — decamp migrate on the lab, real everything (Debian
# hosts under systemd-nspawn, PostgreSQL, nginx, the forum app, PowerDNS):
#  A. old → new under continuous load, with the orchestrator SIGKILLed once in each phase and
#     resumed each time: every acknowledged row and every uploaded file is on new, DNS answers
#     new's web address, /healthz is green on new.
#  B. new → old, then --abort before cutover: new's PostgreSQL configuration is byte-identical
#     and new still serves.
#  C. new → old with PowerDNS stopped at cutover: rolled back, new serving, DNS unchanged.
# Needs root and systemd-nspawn; prints "SKIP: reason" and exits 0 otherwise.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
DECAMP="${DECAMP_BIN:-$REPO/build/decamp}"
skip() { echo "SKIP: $*"; exit 0; }
[[ $EUID -eq 0 ]] || skip "must run as root (the lab boots containers)"
command -v systemd-nspawn >/dev/null || skip "no systemd-nspawn (apt-get install systemd-container)"
[[ -x $DECAMP ]] || { echo "no decamp binary at $DECAMP"; exit 1; }

PASS=0; FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

T="$(mktemp -d /tmp/decamp-migrate-test.XXXXXX)"
LOADGEN_PID=""
cleanup() {
  [[ -n $LOADGEN_PID ]] && kill "$LOADGEN_PID" 2>/dev/null
  scripts/lab down >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT

scripts/lab down >/dev/null 2>&1
scripts/lab up --providers old,new --hosts-per-provider 2 --roles web,db >"$T/lab.log" 2>&1 ||
  { cat "$T/lab.log"; bad "lab up"; echo "$PASS passed, $FAIL failed"; exit 1; }
INV=.lab/inventory.yml
STATE="$T/state.db"
rm -rf .lab/.decamp
M() { "$DECAMP" migrate -i "$INV" --state "$STATE" --yes "$@"; }
# In the background, exec so that $! is decamp itself (the kill must hit the orchestrator).
Mbg() { ( exec "$DECAMP" migrate -i "$INV" --state "$STATE" --yes "$@" ) & }
web_of() { awk -v h="$1:" '$1 == h { for (i = 1; i <= NF; i++) if ($i == "address:") { gsub(/[,}]/, "", $(i+1)); print $(i+1) } }' "$INV"; }
dns_www() { dig +short +time=1 +tries=2 -p 5300 @127.0.0.1 www.example.test A; }
psql_on() { scripts/lab ssh "$1" "cd / && runuser -u postgres -- psql -d forum -tAc \"$2\""; }
# The phase of the newest step of the newest migration.
phase_now() { sqlite3 "$STATE" "SELECT phase FROM steps WHERE migration_id = (SELECT id FROM migrations ORDER BY started DESC LIMIT 1) ORDER BY seq DESC LIMIT 1" 2>/dev/null; }
step_state() { sqlite3 "$STATE" "SELECT state FROM steps WHERE name = '$1' AND migration_id = (SELECT id FROM migrations ORDER BY started DESC LIMIT 1)" 2>/dev/null; }

"$DECAMP" apply -i "$INV" --quiet >"$T/apply.log" 2>&1 || { tail -n 30 "$T/apply.log"; bad "apply on old"; }
check "stack serves on old" bash -c "curl -fsS -m 5 -H 'Host: www.example.test' http://$(web_of old-web1)/healthz | grep -q '\"ok\": *true'"
check "DNS points at old-web1" test "$(dns_www)" = "$(web_of old-web1)"

# --dry-run changes nothing and succeeds.
M --to new --dry-run >"$T/dry.md" 2>"$T/dry.err"; rc=$?
check "dry run exits 0" test $rc = 0
check "dry run lists DNS changes" grep -q "www.example.test." "$T/dry.md"
M --to new --dry-run --json >"$T/dry.json" 2>"$T/dry.err"; rc=$?
check "dry run --json exits 0" test $rc = 0
check "dry run --json is one JSON document" python3 -c "import json; d = json.load(open('$T/dry.json')); assert d['dry_run'] and d['target'] == 'new' and d['problems'] == [], d"
check "dry run wrote no journal" test ! -e "$STATE"
check "dry run did not touch new" bash -c "! scripts/lab ssh new-db1 test -e /usr/lib/postgresql"

# ---- A: old → new under load, killed once per phase, resumed ----
python3 tests/integration/loadgen.py --acks "$T/acks" --files "$T/files" --stop "$T/stop" --max-seconds 900 \
  2>"$T/loadgen.log" &
LOADGEN_PID=$!
sleep 2
start=$(date +%s)
attempt=0
rc=1
kills=""
for kill_in in preflight provision replicate verify cutover; do
  attempt=$((attempt + 1))
  extra=(); [[ $attempt -gt 1 ]] && extra=(--resume)
  Mbg --to new "${extra[@]}" --json >"$T/mig.$attempt.json" 2>"$T/mig.$attempt.err"
  pid=$!
  killed=0
  for ((i = 0; i < 30000; i++)); do
    kill -0 $pid 2>/dev/null || break
    if [[ "$(phase_now)" == "$kill_in" ]]; then
      # preflight and verify last a fraction of a second: kill at once; elsewhere let the
      # phase get going.
      [[ $kill_in == verify || $kill_in == preflight ]] || sleep 0.4
      kill -KILL $pid 2>/dev/null && killed=1
      break
    fi
    sleep 0.02
  done
  wait $pid; rc=$?
  echo "attempt $attempt: SIGKILL in $kill_in: killed=$killed rc=$rc (journal at: $(phase_now) / $(sqlite3 "$STATE" 'SELECT name FROM steps ORDER BY seq DESC LIMIT 1'))"
  [[ $killed = 1 ]] && kills="$kills $kill_in"
  if [[ $killed = 0 && $rc != 0 ]]; then tail -n 12 "$T/mig.$attempt.err"; fi
  [[ $killed = 0 && $rc = 0 ]] && break
done
if [[ $rc != 0 || $killed = 1 ]]; then
  M --to new --resume --json >"$T/mig.final.json" 2>"$T/mig.final.err"; rc=$?
  tail -n 15 "$T/mig.final.err"
else
  cp "$T/mig.$attempt.json" "$T/mig.final.json"
fi
echo "orchestrator SIGKILLed in:$kills"
check "killed in every phase (preflight provision replicate verify cutover)" test "$kills" = " preflight provision replicate verify cutover"
end=$(date +%s)
echo "migration wall time incl. kills: $((end - start)) s"
check "migration finished after resumes (exit 0)" test $rc = 0
sleep 3
touch "$T/stop"; wait $LOADGEN_PID; LOADGEN_PID=""
cat "$T/loadgen.log"
check "load generator got acknowledgements" test -s "$T/acks"
sort -u "$T/acks" >"$T/acks.sorted"
psql_on new-db1 "SELECT id FROM items" | sort -u >"$T/new_ids"
missing=$(comm -23 "$T/acks.sorted" "$T/new_ids" | wc -l)
echo "acknowledged rows: $(wc -l <"$T/acks.sorted"), on new: $(wc -l <"$T/new_ids"), missing: $missing"
check "zero acknowledged rows lost" test "$missing" = 0
bad_files=0
while read -r name sum; do
  got=$(scripts/lab ssh new-web1 "sha256sum /srv/forum/uploads/$name" 2>/dev/null | cut -d' ' -f1)
  [[ "$got" == "$sum" ]] || bad_files=$((bad_files + 1))
done <"$T/files"
echo "uploaded files: $(wc -l <"$T/files"), mismatched on new: $bad_files"
check "every uploaded file is on new, identical" test "$bad_files" = 0
check "DNS answers new-web1" test "$(dns_www)" = "$(web_of new-web1)"
check "/healthz green on new" bash -c "curl -fsS -m 5 -H 'Host: www.example.test' http://$(web_of new-web1)/healthz | grep -q '\"ok\": *true'"
check "new database is a primary" test "$(psql_on new-db1 'SELECT pg_is_in_recovery()')" = "f"
check "old database refuses writes (fenced)" bash -c "! scripts/lab ssh old-db1 \"runuser -u postgres -- psql -d forum -c 'INSERT INTO items (body) VALUES (1)'\" >/dev/null 2>&1"
check "status shows new as active" bash -c "'$DECAMP' status -i $INV --state $STATE | grep -q 'runs on provider new'"
check "report has downtime" grep -q '"downtime_seconds":[0-9]' "$T/mig.final.json"
grep -o '"total_seconds":[0-9.]*,"downtime_seconds":[0-9.-]*,"write_freeze_seconds":[0-9.-]*' "$T/mig.final.json"
grep -o '"phases":{[^}]*}' "$T/mig.final.json"

# ---- B: new → old, abort before cutover ----
scripts/lab ssh new-db1 'cat /etc/postgresql/15/main/pg_hba.conf /etc/postgresql/15/main/postgresql.conf /var/lib/postgresql/15/main/postgresql.auto.conf | sha256sum' >"$T/conf.before"
Mbg --to old >"$T/back.json" 2>"$T/back.err"
pid=$!
# Stop it (SIGKILL) while the replica is being built: mid-migration, before cutover.
for ((i = 0; i < 30000; i++)); do
  kill -0 $pid 2>/dev/null || break
  [[ "$(step_state pg-replica/forum)" == started ]] && { sleep 1; kill -KILL $pid; break; }
  sleep 0.02
done
wait $pid
echo "second migration stopped at: $(phase_now)"; tail -n 4 "$T/back.err"
check "second migration stopped before cutover" test "$(phase_now)" = replicate
check "second migration stopped before cutover" test "$(phase_now)" != cutover
M --abort >"$T/abort.out" 2>"$T/abort.err"; rc=$?
cat "$T/abort.out" "$T/abort.err"
check "abort exits 0" test $rc = 0
scripts/lab ssh new-db1 'cat /etc/postgresql/15/main/pg_hba.conf /etc/postgresql/15/main/postgresql.conf /var/lib/postgresql/15/main/postgresql.auto.conf | sha256sum' >"$T/conf.after"
check "new's PostgreSQL configuration byte-identical after abort" cmp -s "$T/conf.before" "$T/conf.after"
check "no replication role left on new" test -z "$(psql_on new-db1 "SELECT 1 FROM pg_roles WHERE rolname = 'decamp_repl'")"
check "new still serves after abort" bash -c "curl -fsS -m 5 -H 'Host: www.example.test' http://$(web_of new-web1)/healthz | grep -q '\"ok\": *true'"
check "DNS still answers new after abort" test "$(dns_www)" = "$(web_of new-web1)"

# ---- C: new → old with PowerDNS down at cutover: rollback ----
Mbg --to old >"$T/c.out" 2>"$T/c.err"
pid=$!
for ((i = 0; i < 30000; i++)); do
  kill -0 $pid 2>/dev/null || break
  [[ "$(phase_now)" == "cutover" ]] && { scripts/lab stop-dns >/dev/null 2>&1; break; }
  sleep 0.02
done
wait $pid; rc=$?
tail -n 8 "$T/c.err"
check "DNS failure at cutover → migration fails (exit 5)" test $rc = 5
check "rollback reported" grep -q "ROLLBACK" "$T/c.err"
scripts/lab start-dns >/dev/null 2>&1
check "DNS unchanged (still new-web1)" test "$(dns_www)" = "$(web_of new-web1)"
check "new serving after rollback" bash -c "curl -fsS -m 5 -H 'Host: www.example.test' http://$(web_of new-web1)/healthz | grep -q '\"ok\": *true'"
check "new accepts writes after rollback" bash -c "curl -fsS -m 5 -X POST -d x -H 'Host: www.example.test' http://$(web_of new-web1)/items | grep -q id"

echo "$PASS passed, $FAIL failed"
[[ $FAIL = 0 ]]
