# shellcheck shell=bash
# scripts/lab.d/common.sh — paths, messages, locking and PID bookkeeping shared by scripts/lab.
#
# Everything the lab starts is recorded in $LAB_STATE (one lab per machine: the bridge name,
# the 198.18.0.0/16 range and the netns names are machine-wide), so `down` can undo it from
# any checkout and after any crash without looking processes up by name.

REPO_ROOT="$(cd "$LAB_LIB/../.." && pwd)"
LAB_DIR="${DECAMP_LAB_DIR:-$REPO_ROOT/.lab}"
LAB_CACHE="${DECAMP_LAB_CACHE:-/var/cache/decamp-lab}"
LAB_MIRROR="${DECAMP_LAB_MIRROR:-http://deb.debian.org/debian}"
# Runtime lives on disk rather than in /run so host disks (overlay upper dirs) survive a
# stop-provider/start-provider cycle and do not eat RAM when playbooks install PostgreSQL.
LAB_ROOT="${DECAMP_LAB_ROOT:-/var/lib/decamp-lab}"
LAB_STATE="$LAB_ROOT/state"
LAB_HOSTS_ROOT="$LAB_ROOT/hosts"
LAB_LOCK=/run/decamp-lab.lock
LAB_CGROUP=decamp-lab
LAB_BRIDGE=decamp0
LAB_CONTROL_ADDR=198.18.0.1
LAB_PREFIX_LEN=16
LAB_PROXY_PORT=8888
LAB_DNS_PORT=5300
LAB_API_PORT=8081
LAB_BOOT_TIMEOUT="${DECAMP_LAB_BOOT_TIMEOUT:-180}"

log() { printf 'lab: %s\n' "$*" >&2; }
warn() { printf 'lab: warning: %s\n' "$*" >&2; }
die() {
  printf 'lab: error: %s\n' "$*" >&2
  exit 1
}

# Milliseconds since the epoch, for the timings `up` prints.
now_ms() { date +%s%3N; }

require_root() {
  [[ $EUID -eq 0 ]] || die "must run as root (namespaces, mounts and cgroups need it)"
}

# Names of missing commands are mapped to the Debian package that provides them, so the
# message tells the reader what scripts/setup should have installed.
require_tools() {
  local -A pkg=(
    [systemd-nspawn]=systemd-container [debootstrap]=debootstrap [tinyproxy]=tinyproxy
    [pdns_server]=pdns-server [pdnsutil]=pdns-server [sqlite3]=sqlite3 [ssh]=openssh-client
    [ssh-keygen]=openssh-client [ip]=iproute2 [curl]=curl [flock]=util-linux [jq]=jq
    [mountpoint]=util-linux [setsid]=util-linux [column]=bsdextrautils
  )
  local missing=() t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t (${pkg[$t]:-?})")
  done
  [[ -f /usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql ]] ||
    [[ ! " $* " =~ " pdns_server " ]] || missing+=("gsqlite3 backend (pdns-backend-sqlite3)")
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]} — run scripts/setup"
}

# One lab command at a time: `up` and `down` racing each other would leak mounts.
take_lock() {
  exec {LAB_LOCK_FD}>"$LAB_LOCK"
  if ! flock -n "$LAB_LOCK_FD"; then
    log "waiting for another scripts/lab command to finish (lock $LAB_LOCK)"
    flock -w 300 "$LAB_LOCK_FD" || die "another scripts/lab command still holds $LAB_LOCK"
  fi
}

# --- PID files --------------------------------------------------------------------------
# A PID file holds "pid starttime boot_id". A PID alone may have been reused by an unrelated
# process after a crash or reboot; the triple identifies the process we started.

boot_id() { cat /proc/sys/kernel/random/boot_id; }

proc_start_time() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # comm may contain spaces; fields after it are plain
  # shellcheck disable=SC2086
  set -- $stat
  printf '%s\n' "${20}"
}

# Writes the PID file for process $2 (default: the caller's shell, which then execs).
pidfile_write() {
  local file="$1" pid="${2:-$BASHPID}"
  mkdir -p "$(dirname "$file")"
  printf '%s %s %s\n' "$pid" "$(proc_start_time "$pid")" "$(boot_id)" >"$file.tmp"
  mv -f "$file.tmp" "$file"
}

# Prints the PID if the process recorded in $1 is still the one we started.
pidfile_alive() {
  local file="$1" pid start boot
  [[ -f "$file" ]] || return 1
  read -r pid start boot <"$file" || return 1
  [[ -n "$pid" && "$boot" == "$(boot_id)" ]] || return 1
  [[ "$(proc_start_time "$pid" 2>/dev/null)" == "$start" ]] || return 1
  printf '%s\n' "$pid"
}

# SIGTERM, wait up to $2 seconds, then SIGKILL. Removes the PID file.
pidfile_stop() {
  local file="$1" grace="${2:-10}" pid i
  if pid="$(pidfile_alive "$file")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 20; i++)); do
      pidfile_alive "$file" >/dev/null || break
      sleep 0.05
    done
    if pidfile_alive "$file" >/dev/null; then
      warn "pid $pid ($(basename "$file")) ignored SIGTERM for ${grace}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$file"
}

# Starts "$@" detached in its own session with output to $log and records its PID in
# $pidfile. The child writes its own PID before exec so the record is exact, and first
# joins the cgroups listed in $LAB_SPAWN_CGROUPS (space-separated dirs), if any.
spawn_detached() {
  local pidfile="$1" logfile="$2"
  shift 2
  mkdir -p "$(dirname "$logfile")"
  rm -f "$pidfile"
  LAB_LIB="$LAB_LIB" LAB_LOCK_FD="${LAB_LOCK_FD:-}" LAB_SPAWN_CGROUPS="${LAB_SPAWN_CGROUPS:-}" setsid bash -c '
    source "$LAB_LIB/common.sh"
    # The lab lock must not outlive this command in the processes it starts.
    if [[ -n "${LAB_LOCK_FD:-}" ]]; then exec {LAB_LOCK_FD}>&-; fi
    for cg in ${LAB_SPAWN_CGROUPS:-}; do echo "$BASHPID" >"$cg/cgroup.procs"; done
    pidfile_write "$0"
    exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -f "$pidfile" ]] && return 0
    sleep 0.02
  done
  die "process for $pidfile did not start (see $logfile)"
}

# --- lab state ----------------------------------------------------------------------------
# $LAB_STATE/lab.env   LAB_DIR, PROVIDERS, HOSTS_PER_PROVIDER, ROLES, RELEASES ("p=release,…")
#                      of the lab that is up
# $LAB_STATE/hosts     one line per host: name provider p i role address veth
# $LAB_STATE/pid/*     PID files (hosts by name, tinyproxy, pdns)

state_exists() { [[ -f "$LAB_STATE/lab.env" ]]; }

state_load() {
  # shellcheck disable=SC1091
  source "$LAB_STATE/lab.env"
}

# Calls "$1 name provider p i role address veth" for each host of the lab (optionally only
# those of provider $2).
for_each_host() {
  local fn="$1" only="${2:-}" name provider p i role addr veth
  [[ -f "$LAB_STATE/hosts" ]] || return 0
  while read -r name provider p i role addr veth; do
    [[ -z "$only" || "$provider" == "$only" ]] || continue
    "$fn" "$name" "$provider" "$p" "$i" "$role" "$addr" "$veth"
  done <"$LAB_STATE/hosts"
}

# Prints the Debian release of provider $1's hosts (the default one for a lab brought up
# before releases were recorded).
provider_release() {
  local r=",${RELEASES:-},"
  if [[ "$r" == *",$1="* ]]; then
    r="${r#*,"$1"=}"
    printf '%s\n' "${r%%,*}"
  else
    printf '%s\n' "${LAB_RELEASES[0]}"
  fi
}

host_pidfile() { printf '%s/pid/host-%s\n' "$LAB_STATE" "$1"; }
host_dir() { printf '%s/%s\n' "$LAB_HOSTS_ROOT" "$1"; }
host_netns() { printf 'decamp-%s\n' "$1"; }

ssh_opts() {
  printf '%s\n' -F /dev/null -i "$LAB_DIR/id_ed25519" -o IdentitiesOnly=yes \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$LAB_DIR/known_hosts" \
    -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR
}
