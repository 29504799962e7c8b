#!/usr/bin/env bash
# tests/integration/app_test.sh — the forum app (playbooks/files/forum_app.py) against a real,
# throwaway PostgreSQL 15, plus static checks of the example playbooks and inventory.
#
#   sudo tests/integration/app_test.sh
#
# Needs root (the cluster runs as the `postgres` OS user), PostgreSQL 15 server binaries in
# /usr/lib/postgresql/15/bin (override with PGBIN=...), /usr/bin/python3 with psycopg2
# (apt-get install python3-psycopg2) and curl. Prints "SKIP: reason" and exits 0 when one
# is missing. Everything lives in one temp dir; every process it starts is stopped by PID.
# The last line is "N passed, M failed"; the exit status is non-zero when M > 0.

set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
APP_PY="$REPO/playbooks/files/forum_app.py"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
PY=/usr/bin/python3

skip() {
  echo "SKIP: $*"
  exit 0
}
[[ $EUID -eq 0 ]] || skip "must run as root (the throwaway cluster runs as user postgres)"
[[ -x "$PGBIN/initdb" && -x "$PGBIN/pg_ctl" && -x "$PGBIN/psql" ]] ||
  skip "no PostgreSQL binaries in $PGBIN"
id postgres >/dev/null 2>&1 || skip "no postgres OS user"
[[ -x $PY ]] || skip "no $PY"
$PY -c 'import psycopg2' 2>/dev/null || skip "$PY has no psycopg2 (apt-get install python3-psycopg2)"
command -v curl >/dev/null || skip "no curl"

PASS=0
FAIL=0
ok() {
  PASS=$((PASS + 1))
  echo "ok   - $*"
}
bad() {
  FAIL=$((FAIL + 1))
  echo "FAIL - $*"
}
# check "description" command...  (passes when the command succeeds)
check() {
  local what="$1"
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

T="$(mktemp -d /tmp/decamp-app-test.XXXXXX)"
chmod 0755 "$T"
APP_PID=""
PG_STARTED=0

pg() { runuser -u postgres -- "$@"; }
pg_stop() {
  [[ $PG_STARTED -eq 1 ]] || return 0
  pg "$PGBIN/pg_ctl" -D "$T/pgdata" -m fast -w -t 30 stop >>"$T/pg_ctl.log" 2>&1
  PG_STARTED=0
}
pg_start() {
  pg "$PGBIN/pg_ctl" -D "$T/pgdata" -l "$T/sock/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $T/sock" start >>"$T/pg_ctl.log" 2>&1 &&
    PG_STARTED=1
}
cleanup() {
  local pid
  if [[ -n $APP_PID ]] && kill -0 "$APP_PID" 2>/dev/null; then
    kill "$APP_PID" 2>/dev/null
    wait "$APP_PID" 2>/dev/null
  fi
  if [[ -f $T/pgdata/postmaster.pid ]]; then
    pid="$(head -n 1 "$T/pgdata/postmaster.pid")"
    pg "$PGBIN/pg_ctl" -D "$T/pgdata" -m immediate -w -t 10 stop >/dev/null 2>&1 ||
      { [[ $pid =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null; }
  fi
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# json FILE KEY: one top-level value of a JSON document (Python's repr for bool/None)
json() { $PY -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2" 2>/dev/null; }

# ---------------------------------------------------------------------------------------
# Static: YAML parses, and the playbooks use only decamp's dialect.
# ---------------------------------------------------------------------------------------
echo "# static checks"
LINT_PY=""
for cand in python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import yaml' 2>/dev/null; then
    LINT_PY="$cand"
    "$cand" -c 'import jinja2' 2>/dev/null && break
  fi
done
if [[ -n $LINT_PY ]]; then
  lint_out="$("$LINT_PY" - "$REPO" <<'PYEOF'
import glob, os, re, sys, yaml

repo = sys.argv[1]
problems = []
def bad(where, msg): problems.append(f"{os.path.relpath(where, repo)}: {msg}")

PLAY_KEYS = {"name", "hosts", "vars", "tasks", "handlers", "become", "become_user",
             "gather_facts", "serial", "max_fail_percentage", "any_errors_fatal"}
TASK_KEYS = {"name", "when", "notify", "loop", "register", "changed_when", "failed_when",
             "ignore_errors", "become", "become_user", "vars", "listen"}
PKG = {"name", "state", "update_cache"}
SVC = {"name", "state", "enabled", "daemon_reload"}
CMD = {"cmd", "argv", "creates", "removes", "chdir"}
MODULES = {
    "apt": PKG, "package": PKG,
    "file": {"path", "state", "mode", "owner", "group", "src", "recurse"},
    "copy": {"dest", "content", "src", "mode", "owner", "group"},
    "template": {"src", "dest", "mode", "owner", "group"},
    "service": SVC, "systemd": SVC,
    "user": {"name", "state", "uid", "group", "groups", "append", "shell", "home",
             "create_home", "system"},
    "group": {"name", "state", "gid", "system"},
    "command": CMD, "shell": CMD,
    "lineinfile": {"path", "line", "regexp", "state", "insertafter", "insertbefore",
                   "create", "mode"},
    "wait_for": {"port", "host", "path", "state", "timeout"},
    "postgresql_db": {"name", "owner", "encoding", "state"},
    "postgresql_user": {"name", "password", "role_attr_flags", "state"},
    "http_check": {"url", "status", "host_header", "timeout"},
    "debug": {"msg"},
}
FILTERS = {"default", "join", "lower", "upper", "quote", "length", "trim", "int", "string"}

def check_filters(where, text):
    for expr in re.findall(r"{{(.*?)}}|{%(.*?)%}", text, re.S):
        expr = "".join(expr)
        for f in re.findall(r"\|\s*([A-Za-z_]\w*)", expr):
            if f not in FILTERS:
                bad(where, f"filter '{f}' is not in decamp's dialect")

def walk_strings(v):
    if isinstance(v, str): yield v
    elif isinstance(v, dict):
        for x in v.values(): yield from walk_strings(x)
    elif isinstance(v, list):
        for x in v: yield from walk_strings(x)

files = sorted(glob.glob(f"{repo}/playbooks/*.yml") + glob.glob(f"{repo}/inventory/*.yml"))
docs = {}
for path in files:
    try:
        with open(path) as f:
            docs[path] = yaml.safe_load(f)
    except yaml.YAMLError as e:
        bad(path, f"YAML does not parse: {e}")
print(f"parsed {len(docs)} YAML files")

templates_used = set()
for path, doc in docs.items():
    if "/inventory/" in path:
        continue
    base = os.path.dirname(path)
    if not isinstance(doc, list):
        bad(path, "a playbook is a list of plays"); continue
    for play in doc:
        extra = set(play) - PLAY_KEYS
        if extra: bad(path, f"play {play.get('name')!r}: unsupported keys {sorted(extra)}")
        if "hosts" not in play: bad(path, f"play {play.get('name')!r}: no hosts")
        handlers = play.get("handlers") or []
        names = {h.get("name") for h in handlers} | {h.get("listen") for h in handlers}
        for kind, tasks in (("task", play.get("tasks") or []), ("handler", handlers)):
            for t in tasks:
                label = f"{kind} {t.get('name')!r}"
                mods = [k for k in t if k not in TASK_KEYS]
                if len(mods) != 1:
                    bad(path, f"{label}: needs exactly one module key, has {mods}"); continue
                mod = mods[0]
                if mod not in MODULES:
                    bad(path, f"{label}: module {mod!r} is not supported"); continue
                args = t[mod]
                if isinstance(args, dict):
                    extra = set(args) - MODULES[mod]
                    if extra: bad(path, f"{label}: {mod} has no args {sorted(extra)}")
                    if "mode" in args and not isinstance(args["mode"], str):
                        bad(path, f"{label}: mode must be a quoted string")
                    if mod in ("copy", "template") and "src" in args:
                        src = os.path.join(base, args["src"])
                        if not os.path.isfile(src): bad(path, f"{label}: src {args['src']} missing")
                        if mod == "template": templates_used.add(src)
                elif not (mod in ("command", "shell") and isinstance(args, str)):
                    bad(path, f"{label}: {mod} needs a mapping of arguments")
                if "listen" in t and kind == "task":
                    bad(path, f"{label}: listen is for handlers")
                notify = t.get("notify") or []
                for n in [notify] if isinstance(notify, str) else notify:
                    if n not in names: bad(path, f"{label}: notifies unknown handler {n!r}")
                for s in walk_strings(t):
                    check_filters(path, s)

for tpl in sorted(glob.glob(f"{repo}/playbooks/templates/*.j2")):
    with open(tpl) as f:
        text = f.read()
    check_filters(tpl, text)
    for tag in re.findall(r"{%-?\s*(\w+)", text):
        if tag not in ("if", "elif", "else", "endif", "for", "endfor"):
            bad(tpl, f"template tag '{tag}' is not in decamp's dialect")
    if tpl not in templates_used:
        bad(tpl, "template not used by any playbook")

# Render the templates with Jinja2 (a superset of decamp's dialect) when it is available.
try:
    import jinja2
except ImportError:
    print("jinja2 not available: templates not rendered")
else:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(f"{repo}/playbooks/templates"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    # decamp's quote (src/util/shell.cpp): bare when safe, else '...' with ' as '\''
    def decamp_quote(v):
        v = str(v)
        if v and re.fullmatch(r"[A-Za-z0-9_.\-/:=+,@%]+", v):
            return v
        return "'" + v.replace("'", "'\\''") + "'"
    env.filters["quote"] = decamp_quote

    def systemd_env_value(raw):
        """One VALUE of a systemd EnvironmentFile line (src/basic/env-file.c)."""
        out, state, i = [], "pre", 0
        while i < len(raw):
            c = raw[i]
            if state == "pre":
                if c == "'": state = "sq"
                elif c == '"': state = "dq"
                elif c == "\\": state = "esc"
                elif c not in " \t": state = "val"; out.append(c)
            elif state == "val":
                if c == "\\": state = "esc"
                else: out.append(c)
            elif state == "esc":
                state = "val"; out.append(c)
            elif state == "sq":
                if c == "'": state = "pre"
                else: out.append(c)
            elif state == "dq":
                if c == '"': state = "pre"
                elif c == "\\":
                    i += 1
                    out.append(raw[i] if raw[i] in '"\\`$' else "\\" + raw[i])
                else: out.append(c)
            i += 1
        return "".join(out).rstrip(" \t") if state == "val" else "".join(out)
    inv = docs.get(f"{repo}/inventory/example.yml") or {}
    ctx_base = dict(inv.get("vars") or {})
    # Any password without a single quote survives quote + systemd's EnvironmentFile parser.
    ctx_base.update(secrets={"db_password": " s3cr\\et \"x\" $HOME %d; "},
                    provider={"name": "new"}, forum_db="forum", forum_user="forum",
                    upload_dir="/srv/forum/uploads", server_name="www.example.test",
                    role_hosts={"db": [{"name": "new-db1", "address": "198.18.2.12"}],
                                "web": [{"name": "new-web1", "address": "198.18.2.11"}]})
    rendered = 0
    for name in sorted(os.listdir(f"{repo}/playbooks/templates")):
        for roles in (["web"], ["db"], ["web", "db"]):
            ctx = dict(ctx_base, inventory_hostname="h1",
                       host={"name": "h1", "address": "198.18.2.11", "roles": roles})
            try:
                out = env.get_template(name).render(ctx)
            except Exception as e:
                bad(name, f"does not render: {e}"); break
            rendered += 1
            if name == "nftables.conf.j2":
                if ("tcp dport 80 accept" in out) != ("web" in roles): bad(name, f"port 80 wrong for {roles}")
                if ("tcp dport 5432" in out) != ("db" in roles): bad(name, f"port 5432 wrong for {roles}")
                if "ip saddr 198.18.0.0/16 tcp dport 5432" not in out and "db" in roles:
                    bad(name, "5432 not limited to private_net")
                if "tcp dport 22 accept" not in out: bad(name, "ssh not allowed")
            if name == "forum-app.env.j2":
                env_vars = dict(l.split("=", 1) for l in out.splitlines()
                                if l and not l.startswith("#"))
                env_vars = {k: systemd_env_value(v) for k, v in env_vars.items()}
                if env_vars.get("DB_PASSWORD") != ctx["secrets"]["db_password"]:
                    bad(name, "DB_PASSWORD does not round-trip through quoting")
                if env_vars.get("DB_HOST") != "198.18.2.12": bad(name, "DB_HOST is not the db host")
    print(f"rendered {rendered} template variants with jinja2")

for p in problems:
    print("PROBLEM " + p)
PYEOF
)"
  lint_rc=$?
  printf '# %s\n' "${lint_out//$'\n'/$'\n'# }"
  check "playbooks and inventory parse and use only decamp's dialect" \
    test "$lint_rc" -eq 0 -a -z "$(grep '^PROBLEM' <<<"$lint_out")"
elif command -v ruby >/dev/null; then
  for f in "$REPO"/playbooks/*.yml "$REPO"/inventory/*.yml; do
    check "YAML parses: ${f#"$REPO"/}" ruby -ryaml -e 'YAML.load_file(ARGV[0])' "$f"
  done
else
  echo "# no python yaml module and no ruby: YAML parsing not checked"
fi
check "forum_app.py compiles" $PY -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' "$APP_PY"

# ---------------------------------------------------------------------------------------
# A throwaway PostgreSQL 15 cluster on 127.0.0.1.
# ---------------------------------------------------------------------------------------
echo "# postgres"
PGPORT="$(free_port)"
APPPORT="$(free_port)"
DBPASS="t3st-$($PY -c 'import secrets; print(secrets.token_hex(8))')-'\"\$x"
mkdir -p "$T/pgdata" "$T/sock" "$T/uploads" "$T/data"
chown postgres: "$T/pgdata" "$T/sock"
chmod 0700 "$T/pgdata"
if ! pg "$PGBIN/initdb" -D "$T/pgdata" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  --encoding=UTF8 --locale=C.UTF-8 >"$T/initdb.log" 2>&1; then
  cat "$T/initdb.log"
  bad "initdb"
  echo "$PASS passed, $FAIL failed"
  exit 1
fi
if ! pg_start; then
  cat "$T/pg_ctl.log" "$T/sock/postgres.log" 2>/dev/null
  bad "PostgreSQL starts"
  echo "$PASS passed, $FAIL failed"
  exit 1
fi
ok "throwaway PostgreSQL runs on 127.0.0.1:$PGPORT"
psql_su() { pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$T/sock" -p "$PGPORT" -U postgres "$@"; }
check "role and database forum created" psql_su -d postgres -v pw="$DBPASS" -f - <<'SQL'
CREATE ROLE forum LOGIN PASSWORD :'pw';
CREATE DATABASE forum OWNER forum ENCODING 'UTF8';
SQL

# ---------------------------------------------------------------------------------------
# The app.
# ---------------------------------------------------------------------------------------
echo "# app"
env -i PATH=/usr/bin:/bin DB_HOST=127.0.0.1 DB_PORT="$PGPORT" DB_NAME=forum DB_USER=forum \
  DB_PASSWORD="$DBPASS" UPLOAD_DIR="$T/uploads" LISTEN_HOST=127.0.0.1 LISTEN_PORT="$APPPORT" \
  $PY "$APP_PY" >"$T/app.log" 2>&1 &
APP_PID=$!
URL="http://127.0.0.1:$APPPORT"

# req METHOD PATH [curl args...]: prints the HTTP status; body in $T/body
req() {
  local method="$1" path="$2"
  shift 2
  curl -sS --path-as-is -X "$method" -o "$T/body" -w '%{http_code}' --max-time 15 "$@" "$URL$path" 2>>"$T/curl.log"
}
wait_status() { # wait_status PATH STATUS SECONDS
  local i
  for ((i = 0; i < $3 * 5; i++)); do
    [[ "$(req GET "$1")" == "$2" ]] && return 0
    sleep 0.2
  done
  return 1
}
app_alive() { kill -0 "$APP_PID" 2>/dev/null; }

check "app answers /livez" wait_status /livez 200 10
# The app never runs DDL: without the schema it answers 503 and creates nothing; the schema
# comes from files/forum-schema.sql, applied the way playbooks/postgres.yml does.
check "/healthz 503 before the schema exists" test "$(req GET /healthz)" = 503
check "POST /items 503 before the schema exists" test "$(req POST /items --data-binary 'early')" = 503
check "the app created no table itself" \
  test "$(psql_su -d forum -tAc "SELECT to_regclass('public.items') IS NULL")" = t
schema() { psql_su -tA -v owner=forum -d forum -f "$REPO/playbooks/files/forum-schema.sql"; }
check "schema file creates the table (prints created)" test "$(schema)" = created
check "schema file is idempotent (prints present)" test "$(schema)" = present
check "schema file runs no DDL when nothing is missing (read-only, as a fenced source)" \
  test "$(PGOPTIONS='-c default_transaction_read_only=on' schema)" = present
check "items is owned by the app's role" \
  test "$(psql_su -d forum -tAc "SELECT tableowner FROM pg_tables WHERE tablename = 'items'")" = forum
check "/healthz 200 with the database up" test "$(req GET /healthz)" = 200
check "/healthz ok=true" test "$(json "$T/body" ok)" = True
check "/healthz rows=0 on an empty database" test "$(json "$T/body" rows)" = 0
check "/healthz names the db host" test "$(json "$T/body" db)" = 127.0.0.1

prev=0
ids_ok=1
bodies=("first post" "héllo wörld ✓ — ünïcode" $'multi\nline\tpost')
for b in "${bodies[@]}"; do
  st="$(req POST /items --data-binary "$b" -H 'Content-Type: text/plain')"
  id="$(json "$T/body" id)"
  if [[ $st != 201 || ! $id =~ ^[0-9]+$ || $id -le $prev ]]; then
    ids_ok=0
    echo "# POST /items -> $st $(cat "$T/body")"
  fi
  prev="${id:-0}"
done
check "POST /items returns 201 and increasing ids" test "$ids_ok" = 1
check "GET /items/count = 3" test "$(req GET /items/count)" = 200 -a "$(json "$T/body" count)" = 3
check "/healthz rows=3" test "$(req GET /healthz)" = 200 -a "$(json "$T/body" rows)" = 3
check "GET /items/<id> returns the stored text exactly" \
  test "$(req GET "/items/$prev")" = 200 -a "$(json "$T/body" body)" = "${bodies[2]}"
check "GET /items/<missing> is 404" test "$(req GET /items/999999)" = 404
check "GET /items/abc is 400" test "$(req GET /items/abc)" = 400
check "POST /items with invalid UTF-8 is 400" test "$(req POST /items --data-binary $'\xff\xfe')" = 400

# 20 concurrent writers: all succeed, all ids distinct
for i in $(seq 1 20); do
  curl -sS --max-time 15 -X POST --data-binary "concurrent $i" "$URL/items" >"$T/data/c$i" 2>/dev/null &
done
wait_list=$(jobs -p | grep -vx "$APP_PID")
# shellcheck disable=SC2086
wait $wait_list
distinct="$(cat "$T"/data/c* | $PY -c 'import json, sys; ids = [json.loads(l)["id"] for l in sys.stdin]; print(len(set(ids)))' 2>/dev/null)"
check "20 concurrent POSTs get 20 distinct ids" test "$distinct" = 20
check "count is 23 after them" test "$(req GET /items/count)" = 200 -a "$(json "$T/body" count)" = 23

echo "# uploads"
head -c 3145739 /dev/urandom >"$T/data/blob.bin"
check "PUT /uploads/blob.bin is 201" \
  test "$(req PUT /uploads/blob.bin --data-binary @"$T/data/blob.bin" -H 'Content-Type: application/octet-stream')" = 201
check "PUT reports the right sha256" \
  test "$(json "$T/body" sha256)" = "$(sha256sum "$T/data/blob.bin" | cut -d' ' -f1)"
check "GET /uploads/blob.bin is 200" \
  test "$(curl -sS --max-time 15 -o "$T/data/blob.out" -w '%{http_code}' "$URL/uploads/blob.bin")" = 200
check "upload round-trips byte-exact" cmp -s "$T/data/blob.bin" "$T/data/blob.out"
check "stored file is byte-exact on disk" cmp -s "$T/data/blob.bin" "$T/uploads/blob.bin"
: >"$T/data/empty"
check "empty upload round-trips" test "$(req PUT /uploads/empty.txt --data-binary @"$T/data/empty")" = 201 \
  -a "$(req GET /uploads/empty.txt)" = 200 -a ! -s "$T/body"
printf 'x' >"$T/data/x"
check "PUT /uploads/../x is rejected" test "$(req PUT /uploads/../x --data-binary @"$T/data/x")" = 400
check "PUT /uploads/..%2Fx is rejected" test "$(req PUT /uploads/..%2Fx --data-binary @"$T/data/x")" = 400
check "PUT /uploads/.. is rejected" test "$(req PUT /uploads/.. --data-binary @"$T/data/x")" = 400
check "PUT /uploads/.hidden is rejected" test "$(req PUT /uploads/.hidden --data-binary @"$T/data/x")" = 400
check "GET /uploads/../x is rejected" test "$(req GET /uploads/../x)" = 400
check "nothing was written outside the upload dir" test ! -e "$T/x" -a ! -e "$T/uploads/x"
check "GET /uploads/missing is 404" test "$(req GET /uploads/missing)" = 404
check "one keep-alive connection serves two requests" \
  test "$(curl -sS --max-time 15 -o /dev/null -o /dev/null -w '%{http_code}%{num_connects}\n' \
    "$URL/livez" "$URL/items/count" | tr '\n' ' ')" = "2001 2000 "

echo "# database outage"
pg_stop
check "PostgreSQL stopped" test "$PG_STARTED" = 0
check "/healthz 503 while the database is down" test "$(req GET /healthz)" = 503
check "/healthz ok=false while down" test "$(json "$T/body" ok)" = False
check "POST /items 503 while down" test "$(req POST /items --data-binary 'lost')" = 503
check "GET /items/count 503 while down" test "$(req GET /items/count)" = 503
check "uploads still served while down" test "$(req GET /uploads/blob.bin)" = 200
check "app process still running" app_alive
check "/livez still 200" test "$(req GET /livez)" = 200

pg_start
check "PostgreSQL started again" test "$PG_STARTED" = 1
check "/healthz back to 200 after the database returns" wait_status /healthz 200 15
check "rows survived the restart (23)" test "$(json "$T/body" rows)" = 23
check "POST /items works again with a higher id" \
  test "$(req POST /items --data-binary 'after restart')" = 201 -a "$(json "$T/body" id)" -gt "$prev"
check "app process still the same one" app_alive

echo "# shutdown"
kill -TERM "$APP_PID"
for ((i = 0; i < 50; i++)); do app_alive || break; sleep 0.1; done
if app_alive; then
  bad "app exits within 5 s of SIGTERM"
else
  wait "$APP_PID"
  rc=$?
  APP_PID=""
  check "app exits cleanly on SIGTERM (rc=$rc)" test "$rc" = 0
fi
if grep -q Traceback "$T/app.log"; then
  bad "no Python tracebacks in the app log"
  sed 's/^/# app.log: /' "$T/app.log" | grep -A12 Traceback | head -40
else
  ok "no Python tracebacks in the app log"
fi

echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
