#!/usr/bin/env bash
# tests/integration/lab_test.sh — end-to-end test of scripts/lab on this machine.
#
# Brings up a small lab of its own (two providers, two hosts each) in a temporary lab dir,
# checks what decamp relies on (pinned host keys, isolated disks, real apt through the
# filtering proxy, PowerDNS, no route out, stop/start of a provider, idempotent up/down),
# then takes it down and checks nothing it started is left. Needs root; skips otherwise.
# Prints "N passed, M failed" last and exits non-zero on any failure.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB="$REPO/scripts/lab"
LAB_ROOT=/var/lib/decamp-lab
BASE="${DECAMP_LAB_CACHE:-/var/cache/decamp-lab}/bookworm-v1"

skip() {
  echo "SKIP: $*"
  exit 0
}
[[ $EUID -eq 0 ]] || skip "needs root (namespaces, mounts, cgroups)"
for tool in systemd-nspawn tinyproxy pdns_server pdnsutil sqlite3 dig curl jq ip ssh; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (run scripts/setup)"
done
[[ -f "$BASE/.decamp-lab-base" ]] || command -v debootstrap \
  >/dev/null 2>&1 || skip "no lab base image and no debootstrap to build one"

if [[ "$("$LAB" status --json 2>/dev/null | jq -r .up)" == true ]]; then
  echo "FAIL: a lab is already up from $("$LAB" status --json | jq -r .lab_dir);" \
    "this test needs the machine's lab to itself: run scripts/lab down first"
  echo "0 passed, 1 failed"
  exit 1
fi

DECAMP_LAB_DIR="$(mktemp -d /tmp/decamp-lab-test.XXXXXX)"
export DECAMP_LAB_DIR
D="$DECAMP_LAB_DIR"
passed=0
failed=0

ok() {
  passed=$((passed + 1))
  echo "ok - $*"
}
fail() {
  failed=$((failed + 1))
  echo "FAIL - $*"
}
# check "description" command... — passes when the command exits 0.
check() {
  local what="$1"
  shift
  if "$@" >/dev/null; then ok "$what"; else fail "$what"; fi
}

cleanup() {
  if ((failed > 0)) && [[ -d "$D/logs" ]]; then
    for f in "$D"/logs/*.log; do
      [[ -e "$f" ]] || continue
      echo "--- last lines of $f"
      tail -n 15 "$f"
    done
  fi
  "$LAB" down >/dev/null 2>&1 || true
  rm -rf "$D"
}
trap cleanup EXIT

SSH_OPTS=(-F /dev/null -i "$D/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes
  -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$D/known_hosts" -o ConnectTimeout=5
  -o LogLevel=ERROR)
# on ADDRESS CMD — runs CMD as root on a host, strictly checking its pinned key.
on() {
  local addr="$1"
  shift
  # shellcheck disable=SC2029 # the command is meant to be expanded here, sent as text
  ssh "${SSH_OPTS[@]}" "root@$addr" "$@"
}
addr_of() { jq -r --arg n "$1" '.hosts[] | select(.name == $n) | .address' <<<"$STATUS"; }
mode_of() { stat -c %a "$1"; }

# Remembers every process the lab runs (nspawn, tinyproxy, pdns and everything inside the
# containers' cgroups) as "pid starttime", to prove after `down` that none survived.
snapshot_processes() {
  local pid
  {
    jq -r '.hosts[].pid, .services[].pid | select(. != null)' <<<"$("$LAB" status --json)"
    find /sys/fs/cgroup/unified/decamp-lab /sys/fs/cgroup/systemd/decamp-lab \
      /sys/fs/cgroup/decamp-lab -name cgroup.procs -exec cat {} + 2>/dev/null
  } | sort -u | while read -r pid; do
    [[ -r "/proc/$pid/stat" ]] && echo "$pid $(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$pid/stat")"
  done
}
processes_gone() {
  local pid start now
  while read -r pid start; do
    # A killed process may linger a moment as a zombie until its parent reaps it.
    now="$(awk '{ sub(/.*\) /, ""); if ($1 != "Z") print $20 }' "/proc/$pid/stat" 2>/dev/null)"
    [[ "$now" == "$start" ]] && {
      echo "  still running: $pid $(cat "/proc/$pid/comm" 2>/dev/null)" >&2
      return 1
    }
  done <<<"$1"
  return 0
}
# Everything scripts/lab may create on the machine is gone.
nothing_left() {
  local bad=0
  if grep -q " $LAB_ROOT/" /proc/self/mountinfo; then
    echo "  mounts left:" >&2 && grep " $LAB_ROOT/" /proc/self/mountinfo >&2
    bad=1
  fi
  if compgen -G '/run/netns/decamp-*' >/dev/null; then
    echo "  namespaces left:" /run/netns/decamp-* >&2
    bad=1
  fi
  for cg in /sys/fs/cgroup/*/decamp-lab /sys/fs/cgroup/decamp-lab; do
    [[ -d "$cg" ]] && echo "  cgroup left: $cg" >&2 && bad=1
  done
  ip link show dev decamp0 >/dev/null 2>&1 && echo "  bridge decamp0 left" >&2 && bad=1
  [[ -d "$LAB_ROOT/hosts" ]] && echo "  host disks left in $LAB_ROOT/hosts" >&2 && bad=1
  compgen -G '/run/systemd/nspawn/propagate/t[12]-*' >/dev/null &&
    echo "  nspawn propagate dirs left:" /run/systemd/nspawn/propagate/t[12]-* >&2 && bad=1
  return "$bad"
}

echo "# lab dir $D"

# --- help and argument errors ---------------------------------------------------------------
check "--help prints usage" bash -c "'$LAB' --help | grep -q 'scripts/lab COMMAND'"
check "unknown command fails" bash -c "! '$LAB' frobnicate 2>/dev/null"
check "bad --hosts-per-provider fails" bash -c "! '$LAB' up --hosts-per-provider 0 2>/dev/null"

# --- up ---------------------------------------------------------------------------------------
t0=$(date +%s%3N)
if "$LAB" up --providers t1,t2 --hosts-per-provider 2 --roles web,db; then
  ok "up t1,t2 × 2 hosts ($(($(date +%s%3N) - t0)) ms)"
else
  fail "up t1,t2 × 2 hosts"
  echo "0 further checks: the lab did not come up"
  echo "$passed passed, $failed failed"
  exit 1
fi
STATUS="$("$LAB" status --json)"
NAMES="$(jq -r '.hosts[].name' <<<"$STATUS" | tr '\n' ' ')"
check "hosts are named <provider>-<role><n>" [ "$NAMES" = "t1-web1 t1-db1 t2-web1 t2-db1 " ]
check "addresses are 198.18.p.(10+i)" [ "$(jq -r '[.hosts[].address] | join(" ")' <<<"$STATUS")" \
  = "198.18.1.11 198.18.1.12 198.18.2.11 198.18.2.12" ]
check "status: all hosts running with a pid" \
  jq -e '[.hosts[] | .running and .pid != null] | all' <<<"$STATUS"
check "status: tinyproxy and pdns running" jq -e '[.services[].running] | all' <<<"$STATUS"
check "plain status lists every host" bash -c "'$LAB' status | grep -c running | grep -qx 6"

check "known_hosts: one '<address> ssh-ed25519 <key>' line per host" bash -c \
  "[ \$(grep -cE '^198\.18\.[0-9]+\.[0-9]+ ssh-ed25519 AAAA[A-Za-z0-9+/=]+$' '$D/known_hosts') = 4 ]"
check "known_hosts: host keys differ" bash -c "[ \$(cut -d' ' -f3 '$D/known_hosts' | sort -u | wc -l) = 4 ]"
check "secrets are mode 600" [ "$(mode_of "$D/id_ed25519")$(mode_of "$D/pdns_api_key")$(mode_of "$D/db_password")" = 600600600 ]
check "inventory lists the hosts" grep -q '^      t2-db1:  { address: 198.18.2.12, roles: \[db\] }$' "$D/inventory.yml"
check "inventory: active is the first provider" grep -qx 'active: t1' "$D/inventory.yml"
check "inventory: absolute playbook paths outside <repo>/.lab" \
  grep -qF "web: { playbooks: [$REPO/playbooks/base.yml," "$D/inventory.yml"

# --- ssh, identity, readiness -------------------------------------------------------------------
for name in $NAMES; do
  a="$(addr_of "$name")"
  check "$name: ssh with strict host key checking, hostname matches" \
    [ "$(on "$a" hostname 2>&1)" = "$name" ]
  check "$name: systemd is running" [ "$(on "$a" systemctl is-system-running 2>&1)" = running ]
  check "$name: user decamp logs in and has NOPASSWD sudo" \
    [ "$(ssh "${SSH_OPTS[@]}" "decamp@$a" sudo -n id -u 2>&1)" = 0 ]
done
W1="$(addr_of t1-web1)"
D1="$(addr_of t1-db1)"
W2="$(addr_of t2-web1)"
check "ssh fails against a key not in known_hosts" bash -c "! ssh -F /dev/null -i '$D/id_ed25519' \
  -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null root@$W1 true 2>/dev/null"
machine_ids() { for a in "$@"; do on "$a" cat /etc/machine-id; done; }
check "machine-ids differ" [ "$(machine_ids "$W1" "$D1" "$W2" | sort -u | wc -l)" = 3 ]
check "lab ssh by name runs a command" [ "$("$LAB" ssh t2-db1 hostname 2>&1)" = t2-db1 ]

# --- isolation -----------------------------------------------------------------------------------
on "$W1" 'echo lab-test >/root/marker'
check "a file written on t1-web1 is there" on "$W1" test -f /root/marker
check "it is absent on t1-db1" on "$D1" '! test -e /root/marker'
check "it is absent on t2-web1" on "$W2" '! test -e /root/marker'
check "it is absent from the base image" [ ! -e "$BASE/root/marker" ]

check "hosts have no default route" [ "$(on "$W1" ip -4 route show default 2>&1)" = "" ]
check "hosts have no route beyond the bridge" on "$W1" '! ip route get 192.0.2.1 >/dev/null 2>&1'
check "hosts reach each other over the bridge" on "$W1" "timeout 3 bash -c ': </dev/tcp/$W2/22'"
check "hosts cannot reach the PowerDNS API (loopback only)" \
  on "$W1" "! timeout 3 bash -c ': </dev/tcp/198.18.0.1/8081' 2>/dev/null"

# --- apt through the filtering proxy --------------------------------------------------------------
t0=$(date +%s%3N)
if on "$W1" 'export DEBIAN_FRONTEND=noninteractive; apt-get -q update >/dev/null &&
  apt-get -q install -y tree >/dev/null && tree --version >/dev/null'; then
  ok "apt-get install tree on t1-web1 through the proxy ($(($(date +%s%3N) - t0)) ms)"
else
  fail "apt-get install tree on t1-web1 through the proxy"
fi
check "tree is absent on t2-web1" on "$W2" '! command -v tree >/dev/null'
# .invalid never resolves, so this proves the filter, not DNS, refused it.
check "the proxy refuses non-Debian hosts (403)" [ "$(on "$W2" "python3 -c '
import urllib.request as u
o = u.build_opener(u.ProxyHandler({\"http\": \"http://198.18.0.1:8888\"}))
try: print(o.open(\"http://example.invalid/\", timeout=10).status)
except u.HTTPError as e: print(e.code)'" 2>&1)" = 403 ]

# --- PowerDNS ------------------------------------------------------------------------------------------
KEY="$(cat "$D/pdns_api_key")"
ZONE_URL=http://127.0.0.1:8081/api/v1/servers/localhost/zones/example.test.
check "PowerDNS API serves example.test. with www → first web host, TTL 300" bash -c \
  "curl -fsS -H 'X-API-Key: $KEY' $ZONE_URL | jq -e '.rrsets[] | select(.name == \"www.example.test.\" and .type == \"A\") | .ttl == 300 and .records[0].content == \"$W1\"' >/dev/null"
check "PowerDNS API has SOA and NS" bash -c \
  "curl -fsS -H 'X-API-Key: $KEY' $ZONE_URL | jq -e '[.rrsets[].type] | index(\"SOA\") and index(\"NS\")' >/dev/null"
check "PowerDNS API refuses a wrong key" [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-API-Key: wrong' $ZONE_URL)" = 401 ]
check "dig @127.0.0.1 -p 5300 www.example.test answers $W1" \
  [ "$(dig @127.0.0.1 -p 5300 www.example.test A +short +time=2 +tries=1)" = "$W1" ]

# --- stop-provider / start-provider -----------------------------------------------------------------
on "$W2" 'echo keep >/root/disk-marker'
check "stop-provider t2" "$LAB" stop-provider t2
S="$("$LAB" status --json)"
check "t2 hosts are stopped, t1 hosts still run" jq -e \
  '[.hosts[] | select(.provider == "t2") | .running] == [false, false] and
   [.hosts[] | select(.provider == "t1") | .running] == [true, true]' <<<"$S"
check "a stopped host does not answer" bash -c "! timeout 3 bash -c ': </dev/tcp/$W2/22' 2>/dev/null"
check "t1 still answers" on "$W1" true
check "start-provider t2" "$LAB" start-provider t2
check "t2-web1 is back with the same host key and its disk" [ "$(on "$W2" cat /root/disk-marker 2>&1)" = keep ]

# --- idempotence -------------------------------------------------------------------------------------
before="$("$LAB" status --json | jq -c '[.hosts[].pid, .services[].pid]')"
kh_before="$(cat "$D/known_hosts")"
t0=$(date +%s%3N)
check "up again succeeds" "$LAB" up --providers t1,t2 --hosts-per-provider 2 --roles web,db
echo "# second up took $(($(date +%s%3N) - t0)) ms"
check "up again keeps the same processes" [ "$("$LAB" status --json | jq -c '[.hosts[].pid, .services[].pid]')" = "$before" ]
check "up again keeps known_hosts" [ "$(cat "$D/known_hosts")" = "$kh_before" ]
check "up with another layout while up is refused" bash -c "! '$LAB' up --providers zz 2>/dev/null"

# --- down ------------------------------------------------------------------------------------------------
procs="$(snapshot_processes)"
check "recorded $(wc -l <<<"$procs") lab processes before down" [ "$(wc -l <<<"$procs")" -gt 6 ]
t0=$(date +%s%3N)
check "down" "$LAB" down
echo "# down took $(($(date +%s%3N) - t0)) ms"
check "no process the lab started is left" processes_gone "$procs"
check "no mount, netns, cgroup, bridge or host disk is left" nothing_left
check "status says down" [ "$("$LAB" status --json | jq -r .up)" = false ]
check "down twice is fine" "$LAB" down

# --- crash recovery: nspawn killed hard, its container orphaned --------------------------------------
if "$LAB" up --providers t1 --hosts-per-provider 1 --roles web >/dev/null 2>&1; then
  ok "up one host"
  procs="$(snapshot_processes)"
  pid="$("$LAB" status --json | jq -r '.hosts[0].pid')"
  kill -KILL "$pid"
  sleep 0.5
  check "down cleans up after a killed systemd-nspawn" "$LAB" down
  check "…and leaves no process" processes_gone "$procs"
  check "…and nothing else" nothing_left
else
  fail "up one host"
fi

echo "$passed passed, $failed failed"
((failed == 0))
