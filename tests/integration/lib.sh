# shellcheck shell=bash
# tests/integration/lib.sh — what every lab test starts with: the repo as the working
# directory, the decamp binary ($DECAMP, from DECAMP_BIN), skipping without root or
# systemd-nspawn, ok/bad/check counters, and a temp dir $T removed (with the lab taken down)
# on exit. Source it first: `source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" NAME`.
# (It is not a *_test.sh, so scripts/test does not run it.)

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO" || exit 1
DECAMP="${DECAMP_BIN:-$REPO/build/decamp}"
skip() { echo "SKIP: $*"; exit 0; }
[[ $EUID -eq 0 ]] || skip "must run as root (the lab boots containers)"
command -v systemd-nspawn >/dev/null || skip "no systemd-nspawn (apt-get install systemd-container)"
[[ -x $DECAMP ]] || { echo "no decamp binary at $DECAMP"; exit 1; }

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
# The last line of every test; its exit status is the test's.
summary() { echo "$PASS passed, $FAIL failed"; [[ $FAIL = 0 ]]; }

T="$(mktemp -d "/tmp/decamp-${1:-integration}-test.XXXXXX")"
lab_cleanup() {
  scripts/lab down >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap lab_cleanup EXIT
