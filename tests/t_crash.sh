#!/bin/sh
# SPDX-License-Identifier: MIT
# t_crash: nodes fail independently (DESIGN.md section 3, rule 4).  kill -9
# of a node while it holds a lock or is mid-send: the others see it dead in
# `mint status` within 1 s, the lock is recovered, messages committed
# before the crash are delivered once, and `mint node start` of the same
# id rejoins without restarting the others.
#
# 1. Node 0 is a real agent; node 1 is helper_crashnode holding the
#    fabric's directory lock.  kill -9 node 1: `mint status -j` (polled
#    every 50 ms) must call it dead within 1 s; node 0's agent logs it;
#    `mint node start 1` (whose join needs the directory lock) succeeds,
#    the lock shows one recovery and is free; node 0 keeps its pid and
#    epoch; `mint ping 1` and node-to-node pings work.
# 2. Node 1 is a helper sending numbered records on a channel as fast as
#    it can, a receiver (not a node) drains it concurrently; kill -9 the
#    sender mid-stream: dead within 1 s again; the receiver, once the
#    sender is dead and the ring empty, has seen exactly 0..N-1 with N
#    above the last sequence the sender reported committed.  A new sender
#    joins as node 1 (epoch + 1) on the same channel and sends a range of
#    markers: the receiver gets each once, in order, after the data.
#    Three rounds, each on a channel of its own (20 under MINT_STRESS).
#
# Needs jq (mk/deps.sh installs it).  Exit 0 pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
HELPER=$BUILD/tests/helper_crashnode
FAB=t-$$-crash
t_begin

need jq
need_built "$MINT" tools
need_built "$HELPER" tests

mint up --size 16M >/dev/null || die "mint up failed"

# ---- 1. kill -9 while holding the directory lock ----

mint node start 0 --no-netns >"$TMP/start0" 2>&1 || die "node start 0: $(cat "$TMP/start0")"
pid0=$(node_field 0 pid)
epoch0=$(node_field 0 epoch)
AGENTS="$pid0"
[ -n "$pid0" ] && [ "$(node_field 0 alive)" = true ] || die "node 0 is not up"

"$HELPER" "$FAB" 1 holdlock >"$TMP/hold" 2>&1 &
hold=$!
PIDS="$PIDS $hold"
wait_line "$TMP/hold" '^locked ' 20 || die "helper never took the lock: $(cat "$TMP/hold")"
[ "$(node_field 1 alive)" = true ] || fail "helper node 1 is not alive in status"
[ "$(node_field 1 pid)" = "$hold" ] || fail "node 1's pid is not the helper's ($hold)"
hold_epoch=$(node_field 1 epoch)
"$HELPER" "$FAB" - lockinfo >"$TMP/lock" || fail "lockinfo failed"
grep -q '^owner=0 ' "$TMP/lock" && fail "directory lock not held: $(cat "$TMP/lock")"

dead_within 1 "$hold"
# The other node saw it too (its agent logs peers that die).
wait_line "/dev/shm/mint-$FAB.d/node0.log" 'peer node 1 died' 10 ||
	fail "node 0's agent did not log node 1's death"

# The helper is still an unreaped zombie: joining must take the dead
# holder's directory lock over.
start=$(now_ms)
mint node start 1 --no-netns >"$TMP/start1" 2>&1 || fail "node start 1 after the crash: $(cat "$TMP/start1")"
echo "node 1 restarted in $(($(now_ms) - start)) ms"
wait "$hold" 2>/dev/null
forget "$hold"
[ "$(node_field 1 alive)" = true ] || fail "restarted node 1 is not alive"
pid1=$(node_field 1 pid)
AGENTS="$AGENTS $pid1"
[ "$pid1" != "$hold" ] || fail "node 1 still has the dead helper's pid"
[ "$(node_field 1 epoch)" = $((hold_epoch + 1)) ] ||
	fail "node 1's epoch is $(node_field 1 epoch), expected $((hold_epoch + 1))"
"$HELPER" "$FAB" - lockinfo >"$TMP/lock" || fail "lockinfo failed"
grep -q '^owner=0 recoveries=1 ' "$TMP/lock" ||
	fail "directory lock after recovery: $(cat "$TMP/lock"), expected free with 1 recovery"
[ "$(node_field 0 pid)" = "$pid0" ] && [ "$(node_field 0 epoch)" = "$epoch0" ] ||
	fail "node 0 was restarted (pid $(node_field 0 pid), epoch $(node_field 0 epoch); was $pid0, $epoch0)"
[ "$(node_field 0 alive)" = true ] || fail "node 0 is not alive"
mint ping 1 -c 3 -i 0.05 >"$TMP/ping" 2>&1 || fail "mint ping 1: $(cat "$TMP/ping")"
mint ping 1 --from 0 -c 3 -i 0.05 >"$TMP/ping" 2>&1 || fail "mint ping 1 --from 0: $(cat "$TMP/ping")"
mint ping 0 --from 1 -c 3 -i 0.05 >"$TMP/ping" 2>&1 || fail "mint ping 0 --from 1: $(cat "$TMP/ping")"

# ---- 2. kill -9 mid-send, a few rounds (more under MINT_STRESS) ----

MARK=1000000000
NMARK=1000

# midsend ROUND: one sender crash and restart on channel crash.stream.ROUND.
midsend() {
	chan=crash.stream.$1
	"$HELPER" "$FAB" - recv "$chan" 1 "$MARK" "$NMARK" >"$TMP/recv" 2>&1 &
	recv=$!
	PIDS="$PIDS $recv"
	wait_line "$TMP/recv" '^receiving' 20 || die "receiver did not start: $(cat "$TMP/recv")"
	"$HELPER" "$FAB" 1 send "$chan" >"$TMP/send" 2>&1 &
	send=$!
	PIDS="$PIDS $send"
	# Mid-stream: well into the run, at a moment that varies.
	wait_line "$TMP/send" '^committed [0-9]{5,}' 60 ||
		die "sender made no progress: $(cat "$TMP/send")"
	sleep "0.0$((($$ + $1 * 7) % 10))"
	send_epoch=$(node_field 1 epoch)
	dead_within 1 "$send"
	wait "$send" 2>/dev/null
	forget "$send"
	committed=$(grep '^committed ' "$TMP/send" | tail -n 1 | cut -d' ' -f2)
	[ -n "$committed" ] || die "sender reported nothing committed"
	wait_line "$TMP/recv" '^(drained|error)' 60 || die "receiver never drained: $(cat "$TMP/recv")"
	grep -q '^error' "$TMP/recv" && fail "receiver: $(grep '^error' "$TMP/recv")"
	drained=$(grep '^drained ' "$TMP/recv" | cut -d' ' -f2)
	echo "round $1: sender reported 0..$committed committed; receiver got 0..$((drained - 1)) in order, once each"
	[ -n "$drained" ] && [ "$drained" -gt "$committed" ] ||
		fail "round $1: receiver got $drained records, but the sender had committed 0..$committed"

	# A new sender as node 1 continues on the same channel.
	timeout -k 5 60 "$HELPER" "$FAB" 1 mark "$chan" "$MARK" "$NMARK" >"$TMP/mark" 2>&1 ||
		fail "round $1: restarted sender: $(cat "$TMP/mark")"
	wait_exit "$recv" 60 || fail "round $1: receiver did not finish: $(cat "$TMP/recv")"
	forget "$recv"
	[ "$rc" -eq 0 ] || fail "round $1: receiver exited $rc: $(cat "$TMP/recv")"
	grep -q "^ok data=$drained marks=$NMARK ring_errors=0\$" "$TMP/recv" ||
		fail "round $1: receiver's total: $(tail -n 1 "$TMP/recv"), expected data=$drained marks=$NMARK"
	[ "$(node_field 1 epoch)" = $((send_epoch + 1)) ] ||
		fail "round $1: restarted sender's epoch $(node_field 1 epoch), expected $((send_epoch + 1))"
}

mint node stop 1 >/dev/null 2>&1 || fail "node stop 1"
rounds=3
[ -n "${MINT_STRESS:-}" ] && rounds=20
r=1
while [ "$r" -le "$rounds" ]; do
	midsend "$r"
	r=$((r + 1))
done
[ "$(node_field 0 pid)" = "$pid0" ] && [ "$(node_field 0 epoch)" = "$epoch0" ] &&
	[ "$(node_field 0 alive)" = true ] || fail "node 0 was disturbed by node 1's crashes"
mint ping 0 -c 2 -i 0.05 >"$TMP/ping" 2>&1 || fail "mint ping 0 at the end: $(cat "$TMP/ping")"

t_finish
