#!/bin/sh
# SPDX-License-Identifier: MIT
# What `make bench` runs: mint-bench's table of mint against same-run anchors,
# then the benchmarks of the parts built on it, each against anchors of its
# own (see docs/benchmarks.md): mint-dev-bench (the device table),
# bench/inject-bench.sh (the emulated NIC), bench/vni-bench.sh (the VNI
# against a veth pair), bench/exec-bench.sh (`mint exec`) and
# bench/guest-bench.sh (doorbells with a QEMU guest node, and TCP into a
# guest through mint_vni.ko against its agent's TAP).  MINT_BUILD
# is the build directory (default build); MINT_BENCH_ARGS adds options to
# mint-bench, e.g. MINT_BENCH_ARGS=--quick or -j; --quick also shortens the
# others, and -j, --only, --anchors-only and --help leave them out.
# MINT_DEV_BENCH=0, MINT_INJECT_BENCH=0, MINT_VNI_BENCH=0,
# MINT_EXEC_BENCH=0 and MINT_GUEST_BENCH=0 leave one out; MINT_INJECT_BENCH_ARGS and
# MINT_VNI_BENCH_ARGS add options to those scripts (see their --help).
# At the end: every benchmark's verdict rows in one table, and the run
# appended as one JSON line to the history (docs/bench-history.jsonl for
# a full run, $BUILD/bench-history.jsonl for a --quick one; 
# MINT_BENCH_HISTORY names another file, empty: none).
set -eu

BUILD=${MINT_BUILD:-build}
BIN=$BUILD/mint-bench
VNI_BENCH=$(dirname "$0")/../bench/vni-bench.sh

if [ ! -x "$BIN" ]; then
	echo "mk/bench.sh: $BIN is missing: run 'make benchbin' (or 'make bench')" >&2
	exit 1
fi
if [ ! -d /dev/shm ] || [ ! -w /dev/shm ]; then
	echo "mk/bench.sh: /dev/shm is not writable: the benchmark needs it for its fabric" >&2
	exit 1
fi

others=1 # the benchmarks after mint-bench run at all
quick=""
for a in ${MINT_BENCH_ARGS:-} "$@"; do
	case $a in
	--quick) quick="--quick" ;;
	-j | --json | --only* | --anchors-only | -h | --help) others=0 ;;
	esac
done
# The run's verdict rows, from every benchmark (bench/verdict/verdict.h).
MINT_BENCH_RECORD=$(mktemp /tmp/mint-bench-run.XXXXXX)
export MINT_BENCH_RECORD
trap 'rm -f "$MINT_BENCH_RECORD"' EXIT
trap 'exit 1' INT TERM HUP
T0=$(date +%s)

st=0
# shellcheck disable=SC2086 # MINT_BENCH_ARGS is a list of options
"$BIN" ${MINT_BENCH_ARGS:-} "$@" || st=$?

# wanted SWITCH: the benchmark whose switch has this value (unset: 1) runs.
wanted() { [ "$others" != 0 ] && [ "${1:-1}" != 0 ]; }
# step COMMAND...: run one, keep the first failure's status.
step() {
	echo
	"$@" || { rc=$?; [ "$st" -ne 0 ] || st=$rc; }
}
HERE=$(cd "$(dirname "$0")/.." && pwd)

# The device table: routing through it against a direct doorbell, and the
# hand-over time (bench/dev/dev-bench.c).
wanted "${MINT_DEV_BENCH:-}" && step "$BUILD/mint-dev-bench"
# Interrupt injection: the NIC's interrupt and packet rates against the raw
# doorbell and ring, schedule lateness, --evaluate in poll and sleep mode.
# shellcheck disable=SC2086 # lists of options
wanted "${MINT_INJECT_BENCH:-}" &&
	step env MINT_BUILD="$BUILD" sh "$HERE/bench/inject-bench.sh" $quick ${MINT_INJECT_BENCH_ARGS:-}
# shellcheck disable=SC2086 # lists of options
wanted "${MINT_VNI_BENCH:-}" &&
	step env MINT_BUILD="$BUILD" sh "$VNI_BENCH" $quick ${MINT_VNI_BENCH_ARGS:-}
# `mint exec` latency and throughput against `ip netns exec` and a pipe.
# shellcheck disable=SC2086 # a list of options
wanted "${MINT_EXEC_BENCH:-}" && step env MINT_BUILD="$BUILD" sh "$HERE/bench/exec-bench.sh" $quick
# Doorbells between a process node and a QEMU guest against the bare
# ivshmem path (BAR0 -> eventfd -> MSI-X) measured in the guest, and TCP
# into a guest through mint_vni.ko against a guest's user-space TAP VNI,
# same run.
# shellcheck disable=SC2086 # a list of options
wanted "${MINT_GUEST_BENCH:-}" && step env MINT_BUILD="$BUILD" sh "$HERE/bench/guest-bench.sh" $quick
[ "$others" != 0 ] || exit "$st"

# summary: every verdict of the run, and its line in the history.
mode=full history=$HERE/docs/bench-history.jsonl
[ -z "$quick" ] || mode=quick history=$BUILD/bench-history.jsonl
history=${MINT_BENCH_HISTORY-$history}
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
machine="${cpu:-unknown CPU}, nproc $(nproc), kernel $(uname -r)"
commit=$(git -C "$HERE" describe --always --dirty 2>/dev/null || echo unknown)
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "== make bench: every verdict of this run ($mode, $(($(date +%s) - T0)) s; load average now $load)"
echo "machine: $machine; commit $commit"
"$BUILD/mint-bench-verdict" ${history:+--history "$history"} --mode "$mode" \
	--machine "$machine" --load "$load" --commit "$commit" "$MINT_BENCH_RECORD" || st=$?
[ -z "$history" ] || echo "appended to $history; 'make bench-plot' draws it"
exit "$st"
