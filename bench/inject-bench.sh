#!/bin/sh
# SPDX-License-Identifier: MIT
# The interrupt-injection benchmarks of `make bench` (see docs/benchmarks.md):
#  1. nic-bench: NIC interrupts (one packet each, no loss) beside raw
#     doorbells, and 64-byte injection 32 per interrupt beside the raw
#     ring, in the same run (no kernel: a counting driver);
#  2. schedule lateness at a 10 us interval against a poll-mode node agent
#     (its driver hands every packet to nic0): p50/p99/max, the usual
#     schedule and --rt alternating, with the ratio of their p99s;
#  3. `mint inject --evaluate` against a poll-mode node, then a sleep-mode
#     one.
# Usage: bench/inject-bench.sh [--quick] [--plot FILE.png]  (--plot: the
# lateness run of 2 drawn by gnuplot).  Steps 2 and 3 need root (node
# namespaces and TAP devices); without it they are left out, said so.
set -eu

BUILD=${MINT_BUILD:-build}
MINT=$BUILD/mint
FAB=injbench-$$
quick=""
plot=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=--quick ;;
	--plot) plot=$2; shift ;;
	*) echo "usage: bench/inject-bench.sh [--quick] [--plot FILE.png]" >&2; exit 2 ;;
	esac
	shift
done

echo "== interrupt injection: the NIC against same-run anchors"
"$BUILD/nic-bench" $quick

if [ "$(id -u)" -ne 0 ]; then
	echo "(schedule lateness and --evaluate left out: they need root for the nodes' namespaces)"
	exit 0
fi
cleanup() { "$MINT" --fabric "$FAB" down >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
m() { "$MINT" --fabric "$FAB" "$@"; }
m up >/dev/null
m node start 1 --nic --mode poll >/dev/null

count=100000
[ -n "$quick" ] && count=20000
echo
echo "== schedule lateness at a 10 us interval, poll-mode node (target p99 <= 2 us)"
echo "   the usual schedule and --rt (SCHED_FIFO, a 60 us rest after 1 ms without"
echo "   a sleep), alternating, 3 rounds; the p99 ratio is usual / --rt"
lateness() { jq -r '"\(.lateness_ns.p50) \(.lateness_ns.p99) \(.lateness_ns.max) \(.overruns) \(.lost)"' "$1"; }
for round in 1 2 3; do
	m inject 1 --interval 10us --count $count -j ${plot:+--plot "$plot"} >"/tmp/$FAB.usual.json"
	m inject 1 --interval 10us --count $count -j --rt >"/tmp/$FAB.rt.json"
	set -- $(lateness "/tmp/$FAB.usual.json") $(lateness "/tmp/$FAB.rt.json")
	echo "round $round: usual p50 $1 p99 $2 max $3 ns ($4 overruns, $5 lost) | --rt p50 $6 p99 $7 max $8 ns ($9 overruns, ${10} lost) | p99 ratio $(awk -v a="$2" -v b="$7" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')"
	plot=""
done
rm -f "/tmp/$FAB.usual.json" "/tmp/$FAB.rt.json"

echo
echo "== mint inject --evaluate"
m inject 1 --evaluate
m node stop 1 >/dev/null
m node start 1 --nic --mode sleep >/dev/null
m inject 1 --evaluate
