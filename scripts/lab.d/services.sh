# shellcheck shell=bash
# scripts/lab.d/services.sh — the lab's services on the control machine: tinyproxy (the
# hosts' only way to Debian's repositories) and PowerDNS (the DNS back-end migrations
# switch). Both run in the foreground under our PID files, with config in $LAB_DIR.

proxy_pidfile() { printf '%s/pid/tinyproxy\n' "$LAB_STATE"; }
pdns_pidfile() { printf '%s/pid/pdns\n' "$LAB_STATE"; }

proxy_start() {
  local d="$LAB_DIR/tinyproxy" i
  pidfile_alive "$(proxy_pidfile)" >/dev/null && return 0
  mkdir -p "$d"
  # Domain filter: only Debian's repositories; everything else gets 403.
  printf '%s\n' '^deb\.debian\.org$' '^security\.debian\.org$' >"$d/filter"
  cat >"$d/tinyproxy.conf" <<EOF
# written by scripts/lab — do not edit
User nobody
Group nogroup
Listen $LAB_CONTROL_ADDR
Port $LAB_PROXY_PORT
Allow $LAB_CONTROL_ADDR/$LAB_PREFIX_LEN
Timeout 600
MaxClients 100
LogLevel Notice
DisableViaHeader Yes
Filter "$d/filter"
FilterType ere
FilterURLs Off
FilterDefaultDeny Yes
ConnectPort 443
EOF
  chmod 755 "$d"
  chmod 644 "$d/filter" "$d/tinyproxy.conf"
  spawn_detached "$(proxy_pidfile)" "$d/tinyproxy.log" tinyproxy -d -c "$d/tinyproxy.conf"
  for ((i = 0; i < 100; i++)); do
    pidfile_alive "$(proxy_pidfile)" >/dev/null || break
    if timeout 1 bash -c ": </dev/tcp/$LAB_CONTROL_ADDR/$LAB_PROXY_PORT" 2>/dev/null; then
      # The port may belong to a system-wide tinyproxy (Debian's package starts one on
      # 0.0.0.0:8888 where systemd runs); then ours fails to bind and exits.
      sleep 0.1
      pidfile_alive "$(proxy_pidfile)" >/dev/null && return 0
      break
    fi
    sleep 0.05
  done
  tail -n 10 "$d/tinyproxy.log" >&2
  die "tinyproxy did not start listening on $LAB_CONTROL_ADDR:$LAB_PROXY_PORT" \
    "(is another proxy using port $LAB_PROXY_PORT? 'systemctl disable --now tinyproxy')"
}

proxy_stop() { pidfile_stop "$(proxy_pidfile)" 5; }

# pdns_start www_address — starts PowerDNS; on a fresh database, creates zone example.test.
# with www pointing at www_address.
pdns_start() {
  local www="$1" d="$LAB_DIR/pdns" key i
  pidfile_alive "$(pdns_pidfile)" >/dev/null && return 0
  mkdir -p "$d"
  if [[ ! -s "$LAB_DIR/pdns_api_key" ]]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$LAB_DIR/pdns_api_key")
  fi
  chmod 600 "$LAB_DIR/pdns_api_key"
  key="$(cat "$LAB_DIR/pdns_api_key")"
  (
    umask 077
    cat >"$d/pdns.conf" <<EOF
# written by scripts/lab — do not edit
launch=gsqlite3
gsqlite3-database=$d/pdns.sqlite3
local-address=127.0.0.1
local-port=$LAB_DNS_PORT
socket-dir=$d
daemon=no
guardian=no
disable-syslog=yes
write-pid=no
loglevel=4
api=yes
api-key=$key
webserver=yes
webserver-address=127.0.0.1
webserver-port=$LAB_API_PORT
webserver-allow-from=127.0.0.1
default-soa-content=ns1.example.test. hostmaster.@ 0 10800 3600 604800 300
EOF
  )
  if [[ ! -s "$d/pdns.sqlite3" ]]; then
    rm -f "$d/pdns.sqlite3.tmp"
    sqlite3 "$d/pdns.sqlite3.tmp" </usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql
    mv "$d/pdns.sqlite3.tmp" "$d/pdns.sqlite3"
    pdnsutil --config-dir="$d" create-zone example.test. ns1.example.test. >/dev/null 2>&1
    pdnsutil --config-dir="$d" add-record example.test. ns1 A 300 127.0.0.1 >/dev/null
    pdnsutil --config-dir="$d" add-record example.test. www A 300 "$www" >/dev/null
  fi
  spawn_detached "$(pdns_pidfile)" "$d/pdns.log" pdns_server --config-dir="$d"
  for ((i = 0; i < 200; i++)); do
    curl -fsS -o /dev/null -H "X-API-Key: $key" \
      "http://127.0.0.1:$LAB_API_PORT/api/v1/servers/localhost" 2>/dev/null && return 0
    pidfile_alive "$(pdns_pidfile)" >/dev/null || break
    sleep 0.05
  done
  tail -n 10 "$d/pdns.log" >&2
  die "PowerDNS did not answer on 127.0.0.1:$LAB_API_PORT"
}

pdns_stop() { pidfile_stop "$(pdns_pidfile)" 5; }
