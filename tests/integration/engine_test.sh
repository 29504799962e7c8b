#!/usr/bin/env bash
# tests/integration/engine_test.sh — decamp apply/plan/run against real lab hosts (Debian 12
# under systemd-nspawn, real sshd): the example stack (base, postgres, web, app) converges on
# provider "old" with nginx and PostgreSQL really running and the app answering /healthz
# through nginx; a second apply changes nothing; check mode on a fresh host changes nothing;
# a wrong host key is refused; a host that is down is unreachable while the others finish;
# sshd killed mid-play fails that host cleanly; a secret never appears in any output.
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

T="$(mktemp -d /tmp/decamp-engine-test.XXXXXX)"
cleanup() {
  scripts/lab down >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT

scripts/lab down >/dev/null 2>&1   # fresh hosts: this test starts from clean machines
scripts/lab up --providers old,new --hosts-per-provider 2 --roles web,db >"$T/lab.log" 2>&1 ||
  { cat "$T/lab.log"; bad "lab up"; echo "$PASS passed, $FAIL failed"; exit 1; }
INV=.lab/inventory.yml
SECRET=$(cat .lab/db_password)
lab_ssh() { scripts/lab ssh "$@"; }

# 1. check mode on fresh hosts: shows changes, changes nothing.
"$DECAMP" plan -i "$INV" --json >"$T/plan.json" 2>"$T/plan.err"; rc=$?
check "plan (check mode) exits 0 on fresh hosts" test $rc = 0
check "plan reports changes" grep -q '"changed":[1-9]' "$T/plan.json"
check "plan changed nothing on the host (nginx absent)" bash -c "! scripts/lab ssh old-web1 test -e /usr/sbin/nginx"
check "plan changed nothing on the host (no forum user)" bash -c "! scripts/lab ssh old-web1 id forum >/dev/null 2>&1"
check "plan shows a unified diff" grep -q '+++ ' "$T/plan.json"

# 2. apply the stack to provider old.
start=$(date +%s.%N)
"$DECAMP" apply -i "$INV" --json -v >"$T/apply1.json" 2>"$T/apply1.err"; rc=$?
end=$(date +%s.%N)
echo "first apply: $(awk "BEGIN{printf \"%.2f\", $end - $start}") s"
check "first apply exits 0" test $rc = 0
[[ $rc = 0 ]] || tail -n 40 "$T/apply1.err"
check "nginx is installed and active on old-web1" lab_ssh old-web1 systemctl is-active --quiet nginx
check "postgresql is active on old-db1" lab_ssh old-db1 systemctl is-active --quiet postgresql
check "forum-app is active on old-web1" lab_ssh old-web1 systemctl is-active --quiet forum-app
check "app answers /healthz through nginx" bash -c "curl -fsS -m 10 -H 'Host: www.example.test' http://198.18.1.11/healthz | grep -q '\"ok\": *true'"
check "new provider untouched" bash -c "! scripts/lab ssh new-web1 test -e /usr/sbin/nginx"

# 3. converged: a second apply changes nothing.
start=$(date +%s.%N)
"$DECAMP" apply -i "$INV" --json -v >"$T/apply2.json" 2>"$T/apply2.err"; rc=$?
end=$(date +%s.%N)
echo "converged apply: $(awk "BEGIN{printf \"%.2f\", $end - $start}") s"
check "second apply exits 0" test $rc = 0
check "second apply reports 0 changed" grep -q '"totals":{"ok":[0-9]*,"changed":0,' "$T/apply2.json"
grep -o '"task":"[^"]*","module":"[^"]*","source":"[^"]*","status":"changed"' "$T/apply2.json" | head -5

# 4. the secret never appears in output, --json or -v logs.
check "db password absent from every output" bash -c "! grep -rqF -- '$SECRET' $T/plan.json $T/plan.err $T/apply1.json $T/apply1.err $T/apply2.json $T/apply2.err"
check "-v logs do show commands (masked)" grep -q '\*\*\*' "$T/apply1.err"

# 5. a wrong host key is refused (exit 4) and names the fingerprint.
sed 's/^198.18.1.11 .*/198.18.1.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl/' .lab/known_hosts >"$T/bad_known_hosts"
sed "s|known_hosts: known_hosts|known_hosts: $T/bad_known_hosts|" "$INV" >.lab/bad-inventory.yml
"$DECAMP" run -i .lab/bad-inventory.yml old-web1 -- true >"$T/hk.out" 2>&1; rc=$?
check "changed host key → exit 4" test $rc = 4
check "host key message names the fingerprint" grep -q 'SHA256:' "$T/hk.out"
rm -f .lab/bad-inventory.yml

# 6. a host that is down is unreachable (exit 3) while the others finish.
scripts/lab stop-provider new >/dev/null 2>&1
"$DECAMP" run -i "$INV" all --json -- 'echo alive' >"$T/down.json" 2>"$T/down.err"; rc=$?
check "down host → exit 3" test $rc = 3
check "the live hosts still ran" bash -c "grep -o '\"host\":\"old-web1\",\"address\":\"[^\"]*\",\"state\":\"ok\"' $T/down.json"
check "the down host is reported unreachable" grep -q '"host":"new-web1","address":"198.18.2.11","state":"unreachable"' "$T/down.json"
scripts/lab start-provider new >/dev/null 2>&1

# 7. sshd killed mid-play fails that host cleanly, others finish.
cat >"$T/slow.yml" <<'PB'
- hosts: old
  tasks:
    - command: sleep 2
    - command: "true"
PB
( sleep 1; scripts/lab ssh old-db1 'systemctl kill -s KILL ssh.service; pkill -KILL -x sshd' >/dev/null 2>&1 ) &
"$DECAMP" apply -i "$INV" "$T/slow.yml" --json >"$T/kill.json" 2>"$T/kill.err"; rc=$?
wait
check "sshd killed mid-play → non-zero exit" test $rc != 0
check "old-web1 finished ok" grep -q '"host":"old-web1","address":"198.18.1.11","state":"ok"' "$T/kill.json"
check "old-db1 reported failed/unreachable" grep -Eq '"host":"old-db1","address":"198.18.1.12","state":"(unreachable|failed)"' "$T/kill.json"

echo "$PASS passed, $FAIL failed"
[[ $FAIL = 0 ]]
