#!/bin/sh
# Runs every test: the C programs in $MINT_BUILD/tests and the scripts
# tests/t_*.sh, each within MINT_TEST_TIMEOUT seconds (300), or the longer
# limit a script declares (see limit).  Exit status 77 means skipped (the
# reason on its output); under CI (CI or MINT_CI set) a skip counts as a
# failure.  The last line is "N passed, N failed, N skipped".
BUILD=${MINT_BUILD:-build}
export MINT_BUILD=$BUILD
export MINT=${MINT:-$BUILD/mint}
ONLY=${1:-}
TIMEOUT=${MINT_TEST_TIMEOUT:-300}
pass=0 fail=0 skip=0
failed_names=""
logdir=$(mktemp -d /tmp/mint-tests.XXXXXX)
trap 'rm -rf "$logdir"' EXIT

# limit SCRIPT: its own limit when it declares a longer one on a line
# "# run.sh: timeout SECONDS" (QEMU guests under TCG: emulated work that
# grows with the machine's load), else TIMEOUT.
limit() {
	_l=$(sed -n 's/^# run\.sh: timeout \([0-9][0-9]*\)$/\1/p' "$1" | head -n 1)
	[ -n "$_l" ] && [ "$_l" -gt "$TIMEOUT" ] && echo "$_l" || echo "$TIMEOUT"
}

# run_one NAME LIMIT COMMAND...
run_one() {
	name=$1 secs_max=$2; shift 2
	case "$name" in *"$ONLY"*) ;; *) return ;; esac
	start=$(date +%s.%N)
	timeout -k 10 "$secs_max" "$@" >"$logdir/out" 2>&1
	rc=$?
	secs=$(awk "BEGIN { print $(date +%s.%N) - $start }")
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); printf 'PASS %-28s %6.2fs\n' "$name" "$secs"
	elif [ $rc -eq 77 ] && [ -z "${CI:-}${MINT_CI:-}" ]; then
		skip=$((skip + 1)); printf 'SKIP %-28s %s\n' "$name" "$(grep -m1 '^skip' "$logdir/out")"
	else
		fail=$((fail + 1)); failed_names="$failed_names $name"
		printf 'FAIL %-28s (exit %d)\n' "$name" "$rc"
		sed 's/^/    | /' "$logdir/out" | tail -40
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && run_one "$(basename "$t")" "$TIMEOUT" "$t"
done
for t in tests/t_*.sh; do
	[ -f "$t" ] && run_one "$(basename "$t" .sh)" "$(limit "$t")" sh "$t"
done
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
