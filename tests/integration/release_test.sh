#!/usr/bin/env bash
# tests/integration/release_test.sh — decamp across Debian releases on the lab: provider old
# on Debian 12 (bookworm), new on Debian 13 (trixie), from the lab's second cached base image.
#  A. The example stack applies on both releases (PostgreSQL 15 on old, 17 on new: paths
#     follow the host's release), and a second apply on trixie reports 0 changed; check
#     mode and facts there too; the app is green on both.
#  B. migrate old → new picks logical replication for 15 → 17 and its preflight refuses the
#     example's wal_level = replica (saying what to change); `method: physical` forced is
#     refused naming both versions; in --dry-run and
#     for real, and nothing on old is touched.
#  C. Files cross releases: the same stack without its database set moves old → new (files
#     through decamp, DNS switched), every uploaded byte identical on trixie.
# Needs root and systemd-nspawn; prints "SKIP: reason" and exits 0 otherwise.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" release
trap 'rm -f .lab/files-only.yml; lab_cleanup' EXIT

scripts/lab down >/dev/null 2>&1
t0=$(date +%s)
scripts/lab up --providers old,new --hosts-per-provider 2 --roles web,db --release new=trixie \
  >"$T/lab.log" 2>&1 || { cat "$T/lab.log"; bad "lab up"; summary; exit 1; }
echo "lab up (base images built if absent): $(($(date +%s) - t0)) s"
grep "base image ready" "$T/lab.log"
INV=.lab/inventory.yml
rm -rf .lab/.decamp
web_of() { awk -v h="$1:" '$1 == h { for (i = 1; i <= NF; i++) if ($i == "address:") { gsub(/[,}]/, "", $(i+1)); print $(i+1) } }' "$INV"; }
healthy() { curl -fsS -m 5 -H 'Host: www.example.test' "http://$(web_of "$1")/healthz" | grep -q '"ok": *true'; }
on() { scripts/lab ssh "$@"; }

check "status says new runs trixie, old bookworm" test "$(scripts/lab status --json | jq -r '[.hosts[] | .name + "=" + .release] | join(",")')" = \
  "old-web1=bookworm,old-db1=bookworm,new-web1=trixie,new-db1=trixie"
check "new-db1 boots Debian 13" bash -c "scripts/lab ssh new-db1 cat /etc/os-release | grep -qx 'VERSION_ID=\"13\"'"
check "old-db1 boots Debian 12" bash -c "scripts/lab ssh old-db1 cat /etc/os-release | grep -qx 'VERSION_ID=\"12\"'"
check "--release with another value on a running lab is refused" bash -c "! scripts/lab up --release trixie >/dev/null 2>&1"
check "an unknown release is refused by name" bash -c "scripts/lab up --release new=sid 2>&1 | grep -q \"unknown release 'sid'\""

# ---- A: the stack on both releases ----
"$DECAMP" apply -i "$INV" --quiet >"$T/apply.old.log" 2>&1 &
pid_old=$!
"$DECAMP" apply -i "$INV" --provider new --quiet >"$T/apply.new.log" 2>&1; rc_new=$?
wait $pid_old; rc_old=$?
check "apply on bookworm (old)" test $rc_old = 0 || tail -n 20 "$T/apply.old.log"
check "apply on trixie (new)" test $rc_new = 0 || tail -n 20 "$T/apply.new.log"
"$DECAMP" apply -i "$INV" --provider new --json >"$T/apply2.json" 2>"$T/apply2.err"; rc=$?
check "second apply on trixie exits 0" test $rc = 0
check "second apply on trixie: 0 changed" python3 -c "
import json; d = json.load(open('$T/apply2.json'))
assert len(d['hosts']) == 2 and all(h['changed'] == 0 and h['ok'] > 10 for h in d['hosts']), d['totals']"
"$DECAMP" plan -i "$INV" --provider new >"$T/check.log" 2>&1; rc=$?
check "check mode on converged trixie hosts: nothing would change" bash -c "test $rc = 0 && grep -q '0 would change, 0 failed' '$T/check.log'"
"$DECAMP" facts -i "$INV" --provider new new-db1 >"$T/facts.log" 2>&1
check "facts on trixie: os_codename trixie, os_version 13" bash -c "grep -q 'os_codename: trixie' '$T/facts.log' && grep -q 'os_version: 13' '$T/facts.log'"
check "PostgreSQL 17 on trixie" test "$(on new-db1 "pg_lsclusters -h | cut -d' ' -f1,2")" = "17 main"
check "PostgreSQL 15 on bookworm" test "$(on old-db1 "pg_lsclusters -h | cut -d' ' -f1,2")" = "15 main"
check "the decamp settings in 17's conf.d are live" test "$(on new-db1 "cd / && runuser -u postgres -- psql -tAc 'SHOW wal_keep_size'")" = 256MB
check "app green on old (bookworm)" healthy old-web1
check "app green on new (trixie)" healthy new-web1

# ---- B: 15 → 17 goes logical; the example's wal_level and a forced physical are refused ----
hba_before=$(on old-db1 'sha256sum /etc/postgresql/15/main/pg_hba.conf')
"$DECAMP" migrate -i "$INV" --state "$T/b.db" --to new --dry-run --json >"$T/dry.json" 2>"$T/dry.err"; rc=$?
check "dry run reports the problem (exit 5)" test $rc = 5
check "dry run: logical across 15 → 17, refused for wal_level (replica)" python3 -c "
import json; d = json.load(open('$T/dry.json'))
p = ' '.join(d['problems'])
assert 'wal_level is replica' in p, p"
sed 's/{ kind: postgres, role: db, database: forum }/{ kind: postgres, role: db, database: forum, method: physical }/' "$INV" >.lab/physical.yml
"$DECAMP" migrate -i .lab/physical.yml --state "$T/b.db" --to new --yes >"$T/b.out" 2>"$T/b.err"; rc=$?
tail -n 3 "$T/b.err"
check "migrate with method: physical refused (non-zero exit)" test $rc != 0
check "refusal names 15 and 17 and the way out" bash -c "grep -q 'PostgreSQL 15 on the source and 17 on the target' '$T/b.err' && grep -q 'use method: logical or auto' '$T/b.err'"
check "old's pg_hba.conf untouched" test "$(on old-db1 'sha256sum /etc/postgresql/15/main/pg_hba.conf')" = "$hba_before"
check "no replication role on old" test -z "$(on old-db1 "cd / && runuser -u postgres -- psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'decamp_repl'\"")"
check "old still serves" healthy old-web1

# ---- C: files cross releases ----
grep -v 'kind: postgres' "$INV" >.lab/files-only.yml
head -c 300000 /dev/urandom >"$T/up.bin"
curl -fsS -m 10 -T "$T/up.bin" -H 'Host: www.example.test' "http://$(web_of old-web1)/uploads/cross.bin" >/dev/null
check "upload stored on old" test "$(on old-web1 'sha256sum /srv/forum/uploads/cross.bin' | cut -d' ' -f1)" = "$(sha256sum <"$T/up.bin" | cut -d' ' -f1)"
"$DECAMP" migrate -i .lab/files-only.yml --state "$T/c.db" --to new --yes --json >"$T/c.json" 2>"$T/c.err"; rc=$?
tail -n 5 "$T/c.err"
check "files-only migration bookworm → trixie exits 0" test $rc = 0
check "upload identical on trixie" test "$(on new-web1 'sha256sum /srv/forum/uploads/cross.bin' | cut -d' ' -f1)" = "$(sha256sum <"$T/up.bin" | cut -d' ' -f1)"
check "DNS answers new-web1" test "$(dig +short +time=1 +tries=2 -p 5300 @127.0.0.1 www.example.test A)" = "$(web_of new-web1)"
check "app green on new after the move" healthy new-web1
rm -f .lab/files-only.yml

summary
