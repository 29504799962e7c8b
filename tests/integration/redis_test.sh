#!/usr/bin/env bash
# tests/integration/redis_test.sh — the Redis mover on the lab: one cache host per provider
# (Debian's redis-server from playbooks/redis.yml, a password from a 0600 secret file), a
# client writing keys straight to the source's Redis all through the migration, decamp
# SIGKILLed while the target syncs as a replica and then resumed. Checks: every write Redis
# acknowledged is on the target, the source refuses writes after cutover and keeps none of
# the migration's TLS port, firewall table or certificates, and the password was never in a
# process list or decamp's output. Then back new → old killed in replicate and --abort:
# new's settings as before, no trace left.
# Needs root and systemd-nspawn; prints "SKIP: reason" and exits 0 otherwise.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" redis
trap 'rm -f .lab/redis-test.yml .lab/redis_password; lab_cleanup' EXIT

scripts/lab down >/dev/null 2>&1
scripts/lab up --providers old,new --hosts-per-provider 1 --roles cache >"$T/lab.log" 2>&1 ||
  { cat "$T/lab.log"; bad "lab up"; summary; exit 1; }
on() { scripts/lab ssh "$@"; }

# A separate inventory: the lab's, with the redis playbook and data set and the secret.
head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >.lab/redis_password
chmod 600 .lab/redis_password
PW="$(cat .lab/redis_password)"
# shellcheck disable=SC2016 # ${file:…} is decamp's syntax, not the shell's
sed -e 's|cache: { playbooks: \[../playbooks/base.yml\] }|cache: { playbooks: [../playbooks/base.yml, ../playbooks/redis.yml] }|' \
  -e 's|^data: \[\]|data:\n  - { kind: redis, role: cache, password: "${file:redis_password}" }|' \
  -e 's|^secrets:|secrets:\n  redis_password: "${file:redis_password}"|' .lab/inventory.yml >.lab/redis-test.yml
INV=.lab/redis-test.yml
OLD=198.18.1.11
NEW=198.18.2.11
# redis-cli on a lab host, the password on stdin (never on a command line).
rcli() { local host="$1"; shift; printf '%s\n%s\n' "$PW" "$*" | on "$host" 'IFS= read -r REDISCLI_AUTH; export REDISCLI_AUTH; redis-cli -h 127.0.0.1'; }

"$DECAMP" apply -i "$INV" --quiet >"$T/apply.old.log" 2>&1 &
pid_old=$!
"$DECAMP" apply -i "$INV" --provider new --quiet >"$T/apply.new.log" 2>&1; rc_new=$?
wait $pid_old; rc_old=$?
check "apply on old" test $rc_old = 0 || tail -n 20 "$T/apply.old.log"
check "apply on new" test $rc_new = 0 || tail -n 20 "$T/apply.new.log"
needs_auth() { on old-cache1 redis-cli -h 127.0.0.1 SET x 1 2>&1 | grep -q NOAUTH; }
check "Redis asks for the password" needs_auth
check "the password's include is 0600 redis" test "$(on old-cache1 stat -c %a:%U /etc/redis/decamp.conf)" = 600:redis

# A data set large enough that the initial sync takes a while (and the kill lands in it).
REDIS_PW="$PW" python3 - >"$T/seed.txt" <<'PY'
import os
print(os.environ["REDIS_PW"])
for i in range(200000):
    print(f'SET seed:{i} {"x" * 200}')
PY
on old-cache1 'IFS= read -r REDISCLI_AUTH; export REDISCLI_AUTH; redis-cli -h 127.0.0.1 >/dev/null' <"$T/seed.txt"
check "seed keys on old" test "$(rcli old-cache1 DBSIZE)" -ge 200000

# The client: SET w:<n> through its own connection to old's Redis; each +OK is appended
# to acked.txt. It stops at the first refusal (the source closed after cutover).
REDIS_PW="$PW" python3 - "$OLD" "$T/acked.txt" "$T/writer.stop" >"$T/writer.log" 2>&1 <<'PY' &
import os, socket, sys
host, acked, stop = sys.argv[1:]
pw = os.environ["REDIS_PW"]
def cmd(*a):
    return ("*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a)).encode()
s = socket.create_connection((host, 6379), timeout=120)
f = s.makefile("rb")
s.sendall(cmd("AUTH", pw)); assert f.readline().startswith(b"+OK")
n = 0
with open(acked, "a") as out:
    while not os.path.exists(stop):
        n += 1
        s.sendall(cmd("SET", "w:%d" % n, str(n)))
        line = f.readline()
        if not line.startswith(b"+OK"):
            print("refused:", line.strip().decode(errors="replace"))
            break
        out.write("%d\n" % n); out.flush()
PY
writer=$!
sleep 1

# Migrate, killed with SIGKILL while the target is a replica still syncing, then resumed.
"$DECAMP" migrate -i "$INV" --state "$T/m.db" --to new --yes >"$T/m1.out" 2>"$T/m1.err" &
mig=$!
for _ in $(seq 1 300); do
  rcli new-cache1 INFO replication 2>/dev/null | grep -q '^role:slave' && break
  sleep 0.1
done
ps -eo args >"$T/ps.txt"; on old-cache1 ps -eo args >>"$T/ps.txt"; on new-cache1 ps -eo args >>"$T/ps.txt"
rcli new-cache1 INFO replication >"$T/at-kill.txt" 2>&1
kill -9 $mig 2>/dev/null; wait $mig 2>/dev/null
check "SIGKILL landed in replicate: new was a replica, not yet promoted" grep -q '^role:slave' "$T/at-kill.txt"
t0=$(date +%s%N)
"$DECAMP" migrate -i "$INV" --state "$T/m.db" --to new --resume --yes >"$T/m2.out" 2>"$T/m2.err"; rc=$?
echo "resumed migration: $((($(date +%s%N) - t0) / 1000000)) ms"
check "resumed migration finished (exit 0)" test $rc = 0 || tail -n 20 "$T/m2.err"
[[ $rc = 0 ]] || tail -n 30 "$T/m1.err" "$T/m2.out"
touch "$T/writer.stop"
sleep 2
kill $writer 2>/dev/null; wait $writer 2>/dev/null
acked=$(wc -l <"$T/acked.txt")
echo "writes acknowledged by old: $acked ($(cat "$T/writer.log"))"
check "the client wrote during the migration" test "$acked" -gt 100

# Every acknowledged write on new.
last=$(tail -n 1 "$T/acked.txt")
REDIS_PW="$PW" python3 - "$last" <<'PY' | on new-cache1 'IFS= read -r REDISCLI_AUTH; export REDISCLI_AUTH; redis-cli -h 127.0.0.1' >"$T/got.txt"
import os, sys
print(os.environ["REDIS_PW"])
for i in range(1, int(sys.argv[1]) + 1):
    print(f"GET w:{i}")
PY
missing=$(grep -c '^$' "$T/got.txt")
[[ $missing = 0 ]] || echo "missing on new: $(grep -n '^$' "$T/got.txt" | sed -n '1p;$p' | cut -d: -f1 | tr '\n' ' ')(line = key number)"
check "every acknowledged write is on new (missing: $missing)" test "$missing" = 0
check "the seed is on new" test "$(rcli new-cache1 DBSIZE)" -ge $((200000 + acked))
is_primary() { rcli new-cache1 INFO replication | grep -q '^role:master'; }
old_refuses() { rcli old-cache1 SET late 1 | grep -q NOREPLICAS; }
check "new is a primary" is_primary
check "new takes writes" test "$(rcli new-cache1 SET after 1)" = OK
check "old refuses writes" old_refuses
check "old: TLS port closed" test "$(rcli old-cache1 CONFIG GET tls-port | tail -n 1)" = 0
check "old: no firewall table, no certificates left" bash -c "! scripts/lab ssh old-cache1 'nft list tables; ls /etc/redis' | grep -q decamp_redis"
check "new: no certificates left" bash -c "! scripts/lab ssh new-cache1 ls /etc/redis | grep -q decamp-"
check "password never in a process list" bash -c "! grep -qF '$PW' '$T/ps.txt'"
check "password never in decamp's output" bash -c "! cat '$T'/m1.* '$T'/m2.* '$T'/apply.*.log | grep -qF '$PW'"
check "the report shows the Redis steps" grep -q 'redis-close-source' "$T/m2.out"

# ---- B: new → old killed in replicate, then --abort: new exactly as before ----
settings() { rcli new-cache1 CONFIG GET 'tls-*'; rcli new-cache1 CONFIG GET min-replicas-to-write; }
settings >"$T/new.before"
"$DECAMP" migrate -i "$INV" --state "$T/m.db" --to old --yes >"$T/b1.out" 2>"$T/b1.err" &
mig=$!
for _ in $(seq 1 300); do
  rcli old-cache1 INFO replication 2>/dev/null | grep -q "^master_host:$NEW" && break
  sleep 0.1
done
kill -9 $mig 2>/dev/null; wait $mig 2>/dev/null
"$DECAMP" migrate -i "$INV" --state "$T/m.db" --abort --yes >"$T/abort.out" 2>"$T/abort.err"; rc=$?
check "abort exits 0" test $rc = 0 || tail -n 10 "$T/abort.err"
settings >"$T/new.after"
check "abort: new's TLS and write settings as before" cmp -s "$T/new.before" "$T/new.after"
check "abort: new takes writes (not paused)" test "$(rcli new-cache1 SET after-abort 1)" = OK
check "abort: no firewall table or certificates on new" bash -c "! scripts/lab ssh new-cache1 'nft list tables; ls /etc/redis' | grep -q 'decamp_redis\|decamp-'"
old_primary() { rcli old-cache1 INFO replication | grep -q '^role:master'; }
check "abort: old is no replica" old_primary

summary
