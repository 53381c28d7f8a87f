#!/bin/sh
# SPDX-License-Identifier: MIT
# exec-bench: `mint exec` against same-run anchors (see docs/benchmarks.md).
#
#   bench/exec-bench.sh [--quick] [--help]
#
# 1. Latency: N runs of `mint exec 1 -- true` against N runs of
#    `ip netns exec <node 1's namespace> true` (target: at most 2x).
# 2. Throughput: 1 GiB of zeros through `mint exec 1 -- cat` against the
#    same through a local `cat` pipe (target: at least 0.5x).
# Rounds alternate mint and anchor; medians are reported with their ratio.
# Needs root (the node's namespace) and a built build/mint (MINT_BUILD
# names another build directory).  The fabric and node it starts are
# removed on exit.  Exit status: 0 when everything was measured (targets
# met or not) or skipped for want of root, 1 on a failure, 2 bad usage.
set -eu

BUILD=${MINT_BUILD:-build}
MINT=$BUILD/mint
FAB=exec-bench-$$
ROUNDS=3
RUNS=200
BYTES=$((1024 * 1024 * 1024))
PROG=exec-bench

case ${1:-} in
--quick) ROUNDS=1 RUNS=50 BYTES=$((256 * 1024 * 1024)) ;;
-h | --help)
	sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
"") ;;
*)
	echo "usage: bench/exec-bench.sh [--quick] [--help]" >&2
	exit 2
	;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "$PROG: skipped: needs root (the node's network namespace)"
	exit 0
fi
[ -x "$MINT" ] || { echo "$PROG: $MINT is missing (make tools)" >&2; exit 1; }

cleanup() { "$MINT" --fabric "$FAB" down >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$MINT" --fabric "$FAB" up --size 16M >/dev/null
if [ "$(nproc)" -ge 2 ]; then CORE=1; else CORE=0; fi
"$MINT" --fabric "$FAB" node start 1 --cores $CORE >/dev/null
NS=$("$MINT" --fabric "$FAB" status -j | jq -r '.nodes[] | select(.id == 1) | .netns')

now_ns() { date +%s%N; }

# per_call_us RUNS COMMAND...: mean microseconds of one run of COMMAND.
per_call_us() {
	_n=$1
	shift
	_t0=$(now_ns)
	_i=0
	while [ $_i -lt "$_n" ]; do
		"$@" </dev/null >/dev/null || exit 1
		_i=$((_i + 1))
	done
	echo $((($(now_ns) - _t0) / _n / 1000))
}

# pipe_mbs COMMAND...: MB/s of $BYTES zeros through COMMAND into /dev/null.
pipe_mbs() {
	_t0=$(now_ns)
	head -c "$BYTES" /dev/zero | "$@" | cat >/dev/null
	_ns=$(($(now_ns) - _t0))
	echo $((BYTES * 1000 / _ns))
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

lat_mint="" lat_ns="" mbs_mint="" mbs_cat=""
for _r in $(seq "$ROUNDS"); do
	lat_mint="$lat_mint $(per_call_us "$RUNS" "$MINT" --fabric "$FAB" exec 1 -- true)"
	lat_ns="$lat_ns $(per_call_us "$RUNS" ip netns exec "$NS" true)"
	mbs_mint="$mbs_mint $(pipe_mbs "$MINT" --fabric "$FAB" exec 1 -- cat)"
	mbs_cat="$mbs_cat $(pipe_mbs cat)"
done
lm=$(echo "$lat_mint" | median)
ln=$(echo "$lat_ns" | median)
bm=$(echo "$mbs_mint" | median)
bc=$(echo "$mbs_cat" | median)

echo "exec-bench: $ROUNDS round(s), medians (this machine may be shared: figures are noisy)"
printf '  %-44s %8s us   anchor %8s us   ratio %.2fx (target <= 2x)\n' \
	"latency: mint exec 1 -- true ($RUNS runs)" "$lm" "$ln" \
	"$(echo "$lm $ln" | awk '{ print $1 / $2 }')"
echo "           anchor: ip netns exec $NS true"
printf '  %-44s %8s MB/s anchor %8s MB/s ratio %.2fx (target >= 0.5x)\n' \
	"throughput: $((BYTES >> 20)) MiB through mint exec 1 -- cat" "$bm" "$bc" \
	"$(echo "$bm $bc" | awk '{ print $1 / $2 }')"
echo "           anchor: the same through a local cat pipe"
