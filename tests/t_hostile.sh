#!/bin/sh
# SPDX-License-Identifier: MIT
# t_hostile: a peer that writes where it should not.  Three nodes with
# --vni talk (ping); then, region by region, tests/helper_scribble writes
# random words into the fabric file while the nodes run:
#   header      the fabric header past the magic (geometry, name, the
#               directory lock and generation, counters)
#   nodes       node 1's entry in the node table
#   devices     the whole device table (header, entries, lock)
#   directory   the object directory (every entry)
#   dirlock     the issue's two writes: the directory lock held by thread
#               1, and an odd directory generation
#   armed       the armed flag of device vni.1 cleared
#   ring-head   the issue's forged head: UDP flows 0 -> 1, node 1's agent
#               stopped for 0.5 s, ring vni.0-1's head set to its tail
#   ring-index  lines 1 and 2 of ring vni.0-1 (tail, head, bells, counts)
#   ring-data   the records of ring vni.0-1
# During the writes `mint status` answers within 5 s; where the writes
# touch only node 1 (nodes, ring-*), pings 0 <-> 2 keep flowing.  After
# them: every agent is still the one that started (none exited), none
# spins (under half a core each over 2 s), every pair of nodes pings again
# within 5 s (the time it took is printed: the region's time to heal),
# and `mint status` works.  At the end `mint down` leaves no agent,
# namespace or file.
#
# Needs root, ip, jq, ping, iperf3 and /dev/net/tun (as t_vni).  Exit 0
# pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
FAB=t-$$-host
FILE=/dev/shm/mint-$FAB
SCRIBBLE=$BUILD/tests/helper_scribble
HEAL_LIMIT_MS=5000
SEED=${MINT_HOSTILE_SEED:-$$}

cleanup_more() {
	kill_ns_jobs
	delete_our_namespaces
}
t_begin

need_vni "(network namespaces and TAP devices)"
need_built "$SCRIBBLE" tests

addr() { printf '10.77.0.%d\n' $(($1 + 1)); }

# talks FROM TO: one ping from node FROM's namespace to node TO answers.
talks() { in_ns "$1" 3 ping -n -c 1 -W 1 "$(addr "$2")" >/dev/null 2>&1; }
all_talk() {
	for pair in "0 1" "1 0" "0 2" "2 0" "1 2" "2 1"; do
		# shellcheck disable=SC2086 # FROM TO
		talks $pair || return 1
	done
}

# object_off NAME: the offset of object NAME in `mint status -j`.
object_off() {
	mint status -j 2>/dev/null | jq -r --arg n "$1" '.objects[] | select(.name == $n) | .offset'
}

# cpu_ticks PID: user + system clock ticks of PID so far.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# status_answers WHAT: `mint status` ends within 5 s (an error is an answer).
status_answers() {
	_t0=$(now_ms)
	timeout -k 1 5 "$MINT" --fabric "$FAB" status >/dev/null 2>&1
	[ $? -ne 124 ] && [ $(($(now_ms) - _t0)) -le 5000 ] ||
		fail "$1: mint status did not answer within 5 s"
}

# agents_unchanged WHAT: nodes 0-2 still run the agents that started.
agents_unchanged() {
	for id in 0 1 2; do
		eval "_p=\$pid$id"
		running "$_p" || fail "$1: node $id's agent (pid $_p) exited: $(tail -n 3 "$FILE.d/node$id.log")"
	done
}

# no_spinning WHAT: each agent used under half a core over 2 s.
no_spinning() {
	_t0=$(cpu_ticks "$pid0") _t1=$(cpu_ticks "$pid1") _t2=$(cpu_ticks "$pid2")
	sleep 2
	_hz=$(getconf CLK_TCK)
	for id in 0 1 2; do
		eval "_p=\$pid$id _b=\$_t$id"
		_used=$(($(cpu_ticks "$_p") - _b))
		[ "$_used" -lt "$_hz" ] || fail "$1: node $id's agent spins: $_used ticks of CPU in 2 s"
	done
}

# heal_ms: milliseconds until every pair talks, or empty after the limit.
heal_ms() {
	_t0=$(now_ms)
	while [ $(($(now_ms) - _t0)) -lt "$HEAL_LIMIT_MS" ]; do
		if all_talk; then
			echo $(($(now_ms) - _t0))
			return
		fi
	done
}

RESULTS=""
# attack NAME UNTOUCHED OFF LEN COUNT MS: COUNT random writes in [OFF,
# OFF+LEN) over MS ms; UNTOUCHED "0 2" if pings 0 <-> 2 must flow
# meanwhile, else "".  Then the checks of the header comment.
attack() {
	_name=$1 _untouched=$2
	shift 2
	say "== $_name: $3 writes into [$1, +$2) over $4 ms (seed $SEED)"
	if [ -n "$_untouched" ]; then
		bg_ns 0 30 "$TMP/ping.$_name" ping -n -c $(($4 / 100 + 10)) -i 0.1 -W 1 "$(addr 2)"
		_ping=$bg
	fi
	"$SCRIBBLE" "$FILE" random "$1" "$2" "$3" "$4" "$SEED" &
	_scr=$!
	PIDS="$PIDS $_scr"
	while running "$_scr"; do
		status_answers "$_name (during the writes)"
		sleep 0.2
	done
	wait "$_scr" || fail "$_name: helper_scribble failed"
	forget "$_scr"
	after_writes "$_name"
	if [ -n "$_untouched" ]; then
		wait_bg "$_ping" 30
		grep -q ' 0% packet loss' "$TMP/ping.$_name" ||
			fail "$_name: pings 0 -> 2 (untouched) lost some: $(grep 'packet loss' "$TMP/ping.$_name")"
	fi
	SEED=$((SEED + 1))
}

# after_writes NAME: the checks after any attack; the heal time in RESULTS.
after_writes() {
	_ms=$(heal_ms)
	if [ -n "$_ms" ]; then
		say "$1: every pair talks again $_ms ms after the writes"
		RESULTS="$RESULTS $1=${_ms}ms"
	else
		fail "$1: not every pair talks within $HEAL_LIMIT_MS ms after the writes"
		RESULTS="$RESULTS $1=FAIL"
	fi
	agents_unchanged "$1"
	no_spinning "$1"
	status_answers "$1 (after)"
	mint status >/dev/null 2>&1 || fail "$1: mint status fails after the writes: $(mint status 2>&1 | head -2)"
}

mint up --size 64M >/dev/null || die "mint up failed"
for id in 0 1 2; do
	vni_start "$id"
	eval "pid$id=\$pid"
done
for id in 0 1 2; do
	wait_until 10 vni_ready "$id" || fail "node $id's mint0 not ready in 10 s"
done
wait_until 10 all_talk || die "the nodes do not all talk before any write"
say "before any write, one ping over each of the 6 pairs takes $(heal_ms) ms in all"

DEVTAB=$(object_off devtab)
RING=$(object_off vni.0-1)
[ -n "$DEVTAB" ] && [ -n "$RING" ] || die "no devtab or vni.0-1 object: $(mint status 2>&1)"

attack header "" 8 4088 200 1000
attack nodes "0 2" $((4096 + 4096)) 4096 200 1000
attack devices "" "$DEVTAB" 16512 300 1000
attack directory "" $((0x41000)) 32768 300 1000

say "== dirlock: the directory lock held by thread 1, the generation odd"
"$SCRIBBLE" "$FILE" put 128 8 1 && "$SCRIBBLE" "$FILE" put 192 4 9 || fail "dirlock: writes failed"
status_answers dirlock
timeout -k 1 5 "$MINT" --fabric "$FAB" ping 1 -c 1 >/dev/null 2>&1 || fail "dirlock: mint ping 1 fails"
after_writes dirlock

say "== armed: device vni.1's armed flag cleared"
"$SCRIBBLE" "$FILE" put $((DEVTAB + 128 + 256 + 152)) 4 0 || fail "armed: write failed"
after_writes armed

say "== ring-head: UDP 0 -> 1, node 1 stopped 0.5 s, ring vni.0-1's head := its tail"
bg_ns 1 30 "$TMP/udp.server" iperf3 -s -1 -B "$(addr 1)" -p 5311
udp_srv=$bg
wait_until 5 ns_listening 1 5311 -u || wait_until 5 ns_listening 1 5311 || fail "ring-head: no iperf3 server"
bg_ns 0 20 "$TMP/udp.client" iperf3 -u -b 200M -c "$(addr 1)" -p 5311 -t 4
udp_cli=$bg
sleep 1
kill -STOP "$pid1"
sleep 0.5
tail=$("$SCRIBBLE" "$FILE" get $((RING + 64)) 8) && "$SCRIBBLE" "$FILE" put $((RING + 128)) 8 "$tail" ||
	fail "ring-head: write failed"
kill -CONT "$pid1"
wait_bg "$udp_cli" 20
stop_bg "$udp_srv"
after_writes ring-head

attack ring-index "0 2" $((RING + 64)) 128 100 1000
attack ring-data "0 2" $((RING + 256)) 65536 300 1000

say "heal times:$RESULTS"
no_sanitizer_reports

mint down >/dev/null 2>&1 || fail "mint down: $(mint down 2>&1)"
for id in 0 1 2; do
	eval "_p=\$pid$id"
	wait_until 5 sh -c "! kill -0 $_p 2>/dev/null" || fail "node $id's agent survived mint down"
done
[ -z "$(our_namespaces)" ] || fail "namespaces left after mint down: $(our_namespaces)"
left=$(ls "$FILE" "$FILE".* 2>/dev/null)
[ -z "$left" ] || fail "files left after mint down: $left"
t_finish
