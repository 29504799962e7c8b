# shellcheck shell=bash
# tests/bench/lib.sh — helpers shared by tests/bench/run and tests/bench/fanout.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/../.." && pwd)"
# Generated files (inventories, keys, logs, raw measurements). Outside /tmp on purpose: sshd's
# StrictModes refuses an authorized_keys file under a world-writable directory.
BENCH_STATE="${DECAMP_BENCH_STATE:-/run/decamp-bench}"
BENCH_TSV="$BENCH_STATE/measurements.tsv"
DECAMP="${DECAMP:-$REPO_ROOT/build-bench/decamp}"

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
  printf 'bench: error: %s\n' "$*" >&2
  exit 1
}

# Builds (or brings up to date) the Release binary, unless DECAMP names another one.
ensure_decamp() {
  if [[ "$DECAMP" == "$REPO_ROOT/build-bench/decamp" ]]; then
    say "building $DECAMP (Release)"
    cmake -S "$REPO_ROOT" -B "$REPO_ROOT/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$REPO_ROOT/build-bench" -j"$(nproc)" --target decamp >/dev/null
  fi
  [[ -x "$DECAMP" ]] || die "no decamp binary at $DECAMP"
}

# timed SCENARIO TOOL HOSTS RUN LOG -- CMD...
# Runs CMD (stdout+stderr to LOG), appends one line to $BENCH_TSV:
#   scenario tool hosts run wall_seconds peak_rss_kib exit_code changed
# where `changed` is the number of changed steps the tool reported (decamp's recap line,
# or the sum of changed= in Ansible's PLAY RECAP; - when the log has neither).
# Wall time is taken with nanosecond clocks around the command; peak RSS is the largest
# ru_maxrss of the command and its children (GNU time's %M). Returns CMD's exit code.
timed() {
  local scenario="$1" tool="$2" hosts="$3" run="$4" log="$5" t0 t1 rc rss
  shift 6
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$BENCH_STATE/time.out" "$@" >"$log" 2>&1 && rc=0 || rc=$?
  t1=$(date +%s%N)
  rss=$(tail -n 1 "$BENCH_STATE/time.out")
  [[ "$rss" =~ ^[0-9]+$ ]] || rss=0
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$tool" "$hosts" "$run" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')" "$rss" "$rc" \
    "$(changed_in "$log")" >>"$BENCH_TSV"
  return "$rc"
}

changed_in() {
  local n
  n=$(grep -oE '^[0-9]+ hosts, [0-9]+ ok, [0-9]+ changed' "$1" | tail -n 1 | awk '{ print $5 }')
  [[ -n "$n" ]] || n=$(awk '/^PLAY RECAP/ { on = 1; next } on && /changed=/ { for (i = 1; i <= NF; i++) if ($i ~ /^changed=/) { split($i, a, "="); s += a[2]; f = 1 } } END { if (f) print s }' "$1")
  printf '%s' "${n:--}"
}
