#!/bin/sh
# SPDX-License-Identifier: MIT
# The interrupt-injection benchmarks of `make bench` (see docs/benchmarks.md):
#  1. nic-bench: NIC interrupts (one packet each, no loss) beside raw
#     doorbells, and 64-byte injection 32 per interrupt beside the raw
#     ring and a bare model of the NIC's descriptor semantics (context),
#     in the same run (no kernel: a counting driver);
#  2. schedule lateness at a 10 us interval against a poll-mode node agent
#     (its driver hands every packet to nic0): p50/p99/max of the floor
#     (`mint inject --floor`: the schedule alone, on the same core), the
#     usual schedule and --rt, alternating, each run's p99 over the floor's,
#     and what took its core (preemptions, steal time, interrupts);
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
echo "   per round, in alternating order: the floor (--floor: the same schedule on"
echo "   the same core, nothing written: what this machine allows), the usual"
echo "   schedule, and --rt (SCHED_FIFO, a 60 us rest after 1 ms without a sleep);"
echo "   the ratio is the run's p99 over the floor's.  Beside each run: how often"
echo "   it was preempted, and its core's steal time and interrupts meanwhile"
# core_counters CORE: "STEAL_MS INTERRUPTS" of cpu CORE so far.
hz=$(getconf CLK_TCK)
core_counters() {
	steal=$(awk -v c="cpu$1" -v hz="$hz" '$1 == c { print int($9 * 1000 / hz) }' /proc/stat)
	irqs=$(awk -v col=$(($1 + 2)) 'NR > 1 && $col ~ /^[0-9]+$/ { n += $col } END { print n }' /proc/interrupts)
	echo "$steal $irqs"
}
# one KIND: a run (floor, usual or rt), its figures in $FAB.KIND.json and
# its core's counters in $FAB.KIND.cpu.
one() {
	case $1 in
	floor) args=--floor ;;
	usual) args=${plot:+--plot $plot} ;;
	rt) args=--rt ;;
	esac
	core=$(m status -j | jq -r '[.nodes[] | select(.id == 1) | .cores] | .[0]')
	# The injector takes the cores node 1 leaves: on a 2-core machine the
	# other one; with more, the counters are those of the first of them.
	inj_core=$( [ "$core" = 0 ] && echo 1 || echo 0)
	set -- $1 $(core_counters $inj_core)
	m inject 1 --interval 10us --count $count -j $args >"/tmp/$FAB.$1.json"
	set -- $1 $2 $3 $(core_counters $inj_core)
	echo "$(($4 - $2)) $(($5 - $3))" >"/tmp/$FAB.$1.cpu"
}
# show KIND FLOOR_P99: one line of a run.
show() {
	jq -r --arg k "$1" --arg f "$2" --arg cpu "$(cat "/tmp/$FAB.$1.cpu")" '
		($cpu | split(" ")) as $c |
		"  \($k | .[0:5]): p50 \(.lateness_ns.p50) p99 \(.lateness_ns.p99) max \(.lateness_ns.max) ns" +
		(if $k == "floor" then "" else
		 ", p99 \((.lateness_ns.p99 / ([($f | tonumber), 1] | max) * 100 | floor) / 100)x the floor" end) +
		" (core \(.cores): preempted \(.preempted), steal \($c[0]) ms, \($c[1]) interrupts" +
		(if $k == "floor" then ")" else "; \(.overruns) overruns, \(.lost) lost)" end)' "/tmp/$FAB.$1.json"
}
for round in 1 2 3; do
	if [ $((round % 2)) -eq 1 ]; then order="floor usual rt"; else order="rt usual floor"; fi
	for kind in $order; do one $kind; done
	plot=""
	floor99=$(jq .lateness_ns.p99 "/tmp/$FAB.floor.json")
	echo "round $round:"
	for kind in floor usual rt; do show $kind "$floor99"; done
done
rm -f "/tmp/$FAB".*.json "/tmp/$FAB".*.cpu

echo
echo "== mint inject --evaluate"
m inject 1 --evaluate
m node stop 1 >/dev/null
m node start 1 --nic --mode sleep >/dev/null
m inject 1 --evaluate
