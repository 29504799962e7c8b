#!/usr/bin/env bash
# tests/integration/backup_test.sh — backups, drills and migrating from a backup on the lab
# (providers old, new, spare and backup; real sshd, PostgreSQL, nginx, the forum app, PowerDNS):
#  A. rows and files written through the app on old; `decamp backup` stores them on a host of
#     the backup provider; list and verify succeed.
#  B. `decamp drill --to spare` rebuilds from the backup, reports RTO/RPO, leaves nothing
#     running on spare and DNS untouched.
#  C. a flipped byte in a pack on the backup host: `backup verify` and the drill fail, DNS and
#     old are untouched; the pack is put back.
#  D. old powered off entirely; `decamp migrate --to new --from-backup`: every row and file of
#     the backup is on new, DNS answers new (skipped until migrate has --from-backup).
# Needs root and systemd-nspawn; prints "SKIP: reason" and exits 0 otherwise.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
DECAMP="${DECAMP_BIN:-$REPO/build/decamp}"
skip() { echo "SKIP: $*"; exit 0; }
[[ $EUID -eq 0 ]] || skip "must run as root (the lab boots containers)"
command -v systemd-nspawn >/dev/null || skip "no systemd-nspawn (apt-get install systemd-container)"
command -v restic >/dev/null || skip "no restic (scripts/setup installs it)"
[[ -x $DECAMP ]] || { echo "no decamp binary at $DECAMP"; exit 1; }

PASS=0; FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

T="$(mktemp -d /tmp/decamp-backup-test.XXXXXX)"
cleanup() {
  scripts/lab down >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT

scripts/lab down >/dev/null 2>&1
scripts/lab up --providers old,new,spare,backup --hosts-per-provider 2 --roles web,db >"$T/lab.log" 2>&1 ||
  { cat "$T/lab.log"; bad "lab up"; echo "$PASS passed, $FAIL failed"; exit 1; }
INV=.lab/inventory.yml
STATE="$T/state.db"
rm -rf .lab/.decamp
D() { "$DECAMP" "$1" -i "$INV" "${@:2}"; }
web_of() { awk -v h="$1:" '$1 == h { for (i = 1; i <= NF; i++) if ($i == "address:") { gsub(/[,}]/, "", $(i+1)); print $(i+1) } }' "$INV"; }
dns_www() { dig +short +time=1 +tries=2 -p 5300 @127.0.0.1 www.example.test A; }
psql_on() { scripts/lab ssh "$1" "cd / && runuser -u postgres -- psql -d forum -tAc \"$2\""; }
app() { curl -fsS -m 10 -H 'Host: www.example.test' "$@"; }
REPO_DIR=/srv/decamp-backup/forum
BACKUP_HOST=$(awk '/^backup:/ { b = 1 } b && $1 == "host:" { print $2; exit }' "$INV")
check "lab inventory has a backup: section on the backup provider" test "$BACKUP_HOST" = backup-web1
check "inventory validates" D validate

D apply --quiet >"$T/apply.log" 2>&1 || { tail -n 30 "$T/apply.log"; bad "apply on old"; }
OLD=$(web_of old-web1)
check "stack serves on old" bash -c "curl -fsS -m 5 -H 'Host: www.example.test' http://$OLD/healthz | grep -q '\"ok\": *true'"

# ---- A: data, backup, list, verify ----
for i in $(seq 1 50); do app -X POST --data-binary "row $i 'quoted' $(date +%s%N)" "http://$OLD/items" >/dev/null || bad "POST item $i"; done
for i in $(seq 1 10); do
  head -c $((i * 37000)) /dev/urandom >"$T/up$i"
  app -X PUT --data-binary @"$T/up$i" "http://$OLD/uploads/file-$i.bin" >/dev/null || bad "PUT upload $i"
done
psql_on old-db1 "SELECT id, md5(body) FROM items ORDER BY id" >"$T/rows.old"
scripts/lab ssh old-web1 "cd /srv/forum/uploads && find . -type f -print0 | sort -z | xargs -0 sha256sum" >"$T/files.old"
echo "on old: $(wc -l <"$T/rows.old") rows, $(wc -l <"$T/files.old") files"

t0=$(date +%s.%N)
D backup --json >"$T/backup.json" 2>"$T/backup.err"; rc=$?
t1=$(date +%s.%N)
check "decamp backup exits 0" test $rc = 0
[[ $rc = 0 ]] || tail -n 20 "$T/backup.err"
cat "$T/backup.err"
echo "backup wall time: $(echo "$t1 - $t0" | bc) s"
BID=$(grep -o '"id":"[^"]*"' "$T/backup.json" | head -n 1 | cut -d'"' -f4)
check "the manifest has row counts of items" grep -q '"public.items":50' "$T/backup.json"
check "the manifest has sha256 of every upload" test "$(grep -o '"file-[0-9]*.bin":"[0-9a-f]\{64\}"' "$T/backup.json" | wc -l)" = 10
check "the repository is on the backup host" scripts/lab ssh "$BACKUP_HOST" test -f "$REPO_DIR/config"
check "production hosts hold no key for the backup host" bash -c "! scripts/lab ssh old-db1 'grep -rqs \"$(cut -c1-12 .lab/backup_key)\" /root /etc /tmp'"
check "backup list shows it" bash -c "'$DECAMP' backup -i '$INV' list | grep -q '$BID'"
D backup verify >"$T/verify.md" 2>"$T/verify.err"; rc=$?
check "backup verify passes" test $rc = 0
cat "$T/verify.md"

# ---- B: drill on spare ----
D drill --to spare --state "$STATE" --yes --json >"$T/drill.json" 2>"$T/drill.err"; rc=$?
check "drill on spare passes (exit 0)" test $rc = 0
[[ $rc = 0 ]] || tail -n 30 "$T/drill.err"
cat "$T/drill.json"
check "drill reports RTO" grep -q '"rto_s":[0-9]' "$T/drill.json"
check "drill reports RPO" grep -q '"rpo_s":[0-9]' "$T/drill.json"
check "drill data checks cover the database" grep -q 'postgres forum' "$T/drill.json"
check "forum-app not running on spare" bash -c "! scripts/lab ssh spare-web1 systemctl is-active -q forum-app"
check "PostgreSQL not running on spare" bash -c "! scripts/lab ssh spare-db1 systemctl is-active -q postgresql@15-main"
check "uploads removed on spare" bash -c "! scripts/lab ssh spare-web1 test -e /srv/forum/uploads"
check "DNS still answers old" test "$(dns_www)" = "$OLD"

# ---- C: corruption ----
PACK=$(scripts/lab ssh "$BACKUP_HOST" "find $REPO_DIR/data -type f -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2")
scripts/lab ssh "$BACKUP_HOST" "cp -p '$PACK' /root/pack.orig && b=\$(dd if='$PACK' bs=1 skip=300 count=1 2>/dev/null | od -An -tu1 | tr -d ' ') && printf \"\\\\\$(printf %o \$(( (b + 1) % 256 )))\" | dd of='$PACK' bs=1 seek=300 conv=notrunc 2>/dev/null"
check "a byte of the pack was flipped" bash -c "! scripts/lab ssh $BACKUP_HOST cmp -s /root/pack.orig '$PACK'"
D backup verify >"$T/verify.bad" 2>&1; rc=$?
check "backup verify detects the corruption (exit 5)" test $rc = 5
D drill --to spare --state "$STATE" --yes >"$T/drill.bad" 2>&1; rc=$?
check "the drill fails on the corrupted backup" test $rc != 0
grep -m 3 -i 'error\|FAILED' "$T/drill.bad"
check "DNS still answers old after the failed drill" test "$(dns_www)" = "$OLD"
check "old still serves" bash -c "curl -fsS -m 5 -H 'Host: www.example.test' http://$OLD/healthz | grep -q '\"ok\": *true'"
scripts/lab ssh "$BACKUP_HOST" "cp -p /root/pack.orig '$PACK'"
check "backup verify passes again with the pack restored" D backup verify --quick >/dev/null 2>&1

# ---- D: old gone, migrate from backup ----
if "$DECAMP" migrate --help 2>&1 | grep -q -- '--from-backup'; then
  scripts/lab stop-provider old >/dev/null 2>&1
  t0=$(date +%s)
  "$DECAMP" migrate -i "$INV" --state "$STATE" --to new --from-backup --yes --json >"$T/mig.json" 2>"$T/mig.err"; rc=$?
  echo "migrate --from-backup: $(($(date +%s) - t0)) s"
  check "migrate --to new --from-backup exits 0" test $rc = 0
  [[ $rc = 0 ]] || tail -n 30 "$T/mig.err"
  psql_on new-db1 "SELECT id, md5(body) FROM items ORDER BY id" >"$T/rows.new"
  scripts/lab ssh new-web1 "cd /srv/forum/uploads && find . -type f -print0 | sort -z | xargs -0 sha256sum" >"$T/files.new"
  check "every row of the backup is on new" cmp -s "$T/rows.old" "$T/rows.new"
  check "every file of the backup is on new" cmp -s "$T/files.old" "$T/files.new"
  check "DNS answers new-web1" test "$(dns_www)" = "$(web_of new-web1)"
  check "the report states the data-loss window" grep -qi 'rpo\|data.loss' "$T/mig.json"
else
  echo "SKIP: D (migrate --from-backup is not wired into decamp migrate yet)"
fi

echo "$PASS passed, $FAIL failed"
[[ $FAIL = 0 ]]
