#!/bin/sh
# SPDX-License-Identifier: MIT
# t_takeover: what a node agent yields, and what `mint node stop` trusts.
#
# 1. An agent stalled past the heartbeat timeout (SIGSTOP) looks dead and
#    `mint node start` of its id replaces it; resumed, the old agent finds
#    the entry taken (-ESTALE at its next heartbeat), says so in its log and
#    exits, leaving the new agent alone.
# 2. `mint node stop` trusts no name or pid from shared memory: a forged
#    namespace path is not removed, a forged pid is not signalled (its
#    start time does not match).  The agent whose entry was forged does
#    not stand down for a takeover it cannot verify: it writes its pid
#    back within a second and logs the forgery.
set -u
. tests/lib.sh
FAB=t-$$-take
VICTIM_DIR=/tmp/mt$$
cleanup_more() { rm -rf "$VICTIM_DIR"; }
t_begin
need jq
mint up --size 16M >/dev/null || die "mint up failed"

# gone PID: the process exited (a zombie counts: nobody may reap it here).
gone() { [ ! -e "/proc/$1" ] || awk '{ exit !($3 ~ /[ZX]/) }' "/proc/$1/stat"; }

# put FILE OFFSET BYTES...: write octal-escaped BYTES into FILE at OFFSET.
put() {
	_t_f=$1 _t_off=$2
	shift 2
	# shellcheck disable=SC2059
	printf "$*" | dd of="$_t_f" bs=1 seek="$_t_off" conv=notrunc status=none
}

# ---- 1. a stalled agent is replaced and stands down ----
node_start 0 --no-netns --cores 0
old=$pid
kill -STOP "$old"
sleep 3.5 # past MINT_HEARTBEAT_TIMEOUT_MS
node_start 0 --no-netns --cores 0
new=$pid
[ "$new" != "$old" ] || fail "node 0 was not replaced (pid $old)"
kill -CONT "$old"
wait_until 3 gone "$old" || fail "the replaced agent $old still runs 3 s after it resumed"
[ "$(node_field 0 pid)" = "$new" ] || fail "node 0's pid is $(node_field 0 pid), not $new"
[ "$(node_field 0 alive)" = true ] || fail "the new node 0 is not alive"
grep -q "took node 0 over" "/dev/shm/mint-$FAB.d/node0.log" ||
	fail "the old agent did not log that it was replaced"
mint ping 0 -c 2 -i 0.05 >"$TMP/ping" 2>&1 || fail "ping 0 after the takeover: $(cat "$TMP/ping")"
say "stalled agent $old replaced by $new; it stood down when resumed"

# ---- 2. forged entry fields ----
node_start 5 --no-netns --cores 0
agent=$pid
mkdir -p "$VICTIM_DIR" && : >"$VICTIM_DIR/v"
sleep 600 &
bystander=$!
PIDS="$PIDS $bystander"
file=/dev/shm/mint-$FAB
entry=$((4096 + 5 * 4096)) # MINT_NODE_TABLE_OFF + 5 * MINT_PAGE
put "$file" $((entry + 96)) "../../tmp/mt$$/v\\000"
b() { printf '\\%03o' $(($1 & 255)); }
put "$file" $((entry + 12)) "$(b "$bystander")$(b $((bystander >> 8)))$(b $((bystander >> 16)))$(b $((bystander >> 24)))"
# The agent whose pid was overwritten sees no newer agent there: it puts
# its own back.
restored() { [ "$(node_field 5 pid)" = "$agent" ]; }
wait_until 1 restored || fail "agent $agent did not restore its entry (pid $(node_field 5 pid))"
running "$agent" || fail "agent $agent stood down for a forged entry"
wait_line "/dev/shm/mint-$FAB.d/node5.log" "overwritten by someone else" 3 ||
	fail "agent $agent did not log the forgery: $(tail -n 3 "/dev/shm/mint-$FAB.d/node5.log")"
mint node stop 5 >"$TMP/stop" 2>&1 || fail "node stop 5: $(cat "$TMP/stop")"
wait_until 3 gone "$agent" || fail "agent $agent still runs after node stop 5"
[ -e "$VICTIM_DIR/v" ] || fail "node stop removed a path named by a forged netns field"
gone "$bystander" && fail "node stop signalled a forged pid ($bystander)"
[ "$(node_field 5 state)" = free ] || fail "node 5 is $(node_field 5 state) after stop"
say "forged namespace path and pid ignored by node stop"
t_finish
