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
# 3. Signals: SIGTERM to an idle `mint exec 1 -- sleep 30` until the client
#    has exited with 143, against the same for `ip netns exec <ns> sleep
#    30` (no target: it shows that a signal does not wait for a poll).
# Rounds alternate mint and anchor; each ratio is taken per round, and the
# verdicts follow bench/verdict/verdict.h (met or missed in 4 of 5 rounds).
# Needs root (the node's namespace) and a built build/mint (MINT_BUILD
# names another build directory).  The fabric and node it starts are
# removed on exit.  Exit status: 0 when everything was measured (targets
# met or not) or skipped for want of root, 1 on a failure, 2 bad usage.
set -eu

BUILD=${MINT_BUILD:-build}
MINT=$BUILD/mint
FAB=exec-bench-$$
ROUNDS=5
RUNS=200
SIGRUNS=10
BYTES=$((1024 * 1024 * 1024))
PROG=exec-bench

case ${1:-} in
--quick) ROUNDS=1 RUNS=50 SIGRUNS=5 BYTES=$((256 * 1024 * 1024)) ;;
-h | --help)
	sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'
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
. "$(dirname "$0")/verdict/verdict.sh"

cleanup() {
	"$MINT" --fabric "$FAB" down >/dev/null 2>&1 || true
	rm -f "$SIGFILE"
	rm -f "$VERDICT_FILE"
}
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

# signal_us RUNS COMMAND...: median microseconds from SIGTERM to an idle
# COMMAND sh -c '...; exec sleep 30' (started in the background, once it
# has said so and 0.2 s later) until it has exited.
SIGFILE=${TMPDIR:-/tmp}/exec-bench-$$.sig
signal_us() {
	_n=$1
	shift
	_all=""
	_i=0
	while [ $_i -lt "$_n" ]; do
		: >"$SIGFILE"
		"$@" sh -c 'echo started; exec sleep 30' </dev/null >"$SIGFILE" 2>&1 &
		_pid=$!
		_w=0
		while ! grep -q started "$SIGFILE" && [ $_w -lt 200 ]; do
			sleep 0.05
			_w=$((_w + 1))
		done
		sleep 0.2
		_t0=$(now_ns)
		kill -TERM $_pid
		_rc=0
		{ wait $_pid || _rc=$?; } 2>/dev/null # no "Terminated" from the shell
		_all="$_all $((($(now_ns) - _t0) / 1000))"
		[ $_rc -eq 143 ] || { echo "$PROG: $*: status $_rc after SIGTERM" >&2; exit 1; }
		_i=$((_i + 1))
	done
	echo "$_all" | median
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

lat_mint="" lat_ns="" mbs_mint="" mbs_cat="" sig_mint="" sig_ns=""
for _r in $(seq "$ROUNDS"); do
	lat_mint="$lat_mint $(per_call_us "$RUNS" "$MINT" --fabric "$FAB" exec 1 -- true)"
	lat_ns="$lat_ns $(per_call_us "$RUNS" ip netns exec "$NS" true)"
	mbs_mint="$mbs_mint $(pipe_mbs "$MINT" --fabric "$FAB" exec 1 -- cat)"
	mbs_cat="$mbs_cat $(pipe_mbs cat)"
	sig_mint="$sig_mint $(signal_us "$SIGRUNS" "$MINT" --fabric "$FAB" exec 1 --)"
	sig_ns="$sig_ns $(signal_us "$SIGRUNS" ip netns exec "$NS")"
done
lm=$(echo "$lat_mint" | median)
ln=$(echo "$lat_ns" | median)
bm=$(echo "$mbs_mint" | median)
bc=$(echo "$mbs_cat" | median)
sm=$(echo "$sig_mint" | median)
sn=$(echo "$sig_ns" | median)

echo "exec-bench: $ROUNDS round(s), medians (this machine may be shared: figures are noisy)"
printf '  %-44s %8s us   anchor %8s us   ratio %.2fx (target <= 2x)\n' \
	"latency: mint exec 1 -- true ($RUNS runs)" "$lm" "$ln" \
	"$(echo "$lm $ln" | awk '{ print $1 / $2 }')"
echo "           anchor: ip netns exec $NS true"
printf '  %-44s %8s MB/s anchor %8s MB/s ratio %.2fx (target >= 0.5x)\n' \
	"throughput: $((BYTES >> 20)) MiB through mint exec 1 -- cat" "$bm" "$bc" \
	"$(echo "$bm $bc" | awk '{ print $1 / $2 }')"
echo "           anchor: the same through a local cat pipe"
printf '  %-44s %8s us   anchor %8s us   ratio %.2fx (no target)\n' \
	"signal: SIGTERM to idle mint exec 1 ($SIGRUNS runs)" "$sm" "$sn" \
	"$(echo "$sm $sn" | awk '{ print $1 / ($2 > 0 ? $2 : 1) }')"
echo "           anchor: SIGTERM to ip netns exec $NS sleep 30"
verdict_row "exec-latency" us "<=" 2 "$lat_ns" "$lat_mint"
verdict_row "exec-stream" MB/s ">=" 0.5 "$mbs_cat" "$mbs_mint"
verdict_row "exec-signal" us - 0 "$sig_ns" "$sig_mint"
verdict_end
