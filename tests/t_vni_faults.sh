#!/bin/sh
# SPDX-License-Identifier: MIT
# t_vni_faults: the virtual NIC when things go wrong.
#
# 1. kill -9 during a transfer.  Three nodes with --vni; iperf3 (-t 10)
#    from node 0 to node 1 and ping from node 0 to node 2 run.  kill -9
#    node 1's agent: `mint status` calls it dead within 1 s; the ping
#    0 -> 2 that spans the kill loses nothing, nor do pings 0 <-> 2 after
#    it; node 0 counts the frames it could not deliver to the dead node
#    as tx_drop_down.  The iperf3 client may fail: it is only bounded.
#    `mint node start 1 --vni` succeeds without restarting nodes 0 and 2
#    (same pids and epochs), node 1's epoch is one more, ping 0 -> 1
#    resumes within 3 s (ARP) and a fresh iperf3 0 -> 1 works.
# 2. No right to create a TAP device: `mint node start 3 --vni` with
#    CAP_NET_ADMIN dropped (bounding and inheritable sets; CAP_SYS_ADMIN
#    kept) exits 1 with one line, "mint: node 3: cannot create the TAP
#    device for its VNI: Operation not permitted (needs CAP_NET_ADMIN:
#    run as root)", and leaves no agent and no namespace for node 3.
#    Again where node 3's namespace exists already (its agent was killed):
#    the same line, no agent; then, as root, `node start 3 --vni` works.
# Pool mode (MINT_VNI_BUFFERS=pool, as t_vni_pool.sh runs it): also the
#    buffers the killed node held or had queued to it are reclaimed
#    (pool_reclaimed of the nodes adds up to more than 0).
# 3. Usage: --vni with --no-netns fails with a clear line; --vni on node
#    20 (ports are 0-15) too; --vni-addr that is no A.B.C.D/N, or without
#    --vni, exits 2.  None of them leaves a namespace or an agent.
#
# Needs root, ip and ss (iproute2), jq, ping (iputils-ping), iperf3,
# setpriv (util-linux) or capsh (libcap2-bin), and /dev/net/tun.  Exit 0
# pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
FAB=t-$$-vnif
A0=10.77.0.1
A1=10.77.0.2
A2=10.77.0.3
A3=10.77.0.4

# At exit, after t_cleanup took the fabric down.
cleanup_more() {
	kill_ns_jobs
	delete_our_namespaces
}
t_begin

need_vni "(network namespaces and TAP devices)"
# $NOCAP COMMAND...: COMMAND as root without CAP_NET_ADMIN.
NOCAP=$TMP/without-net-admin
if command -v setpriv >/dev/null 2>&1; then
	printf '#!/bin/sh\nexec setpriv --inh-caps -net_admin --bounding-set -net_admin -- "$@"\n' >"$NOCAP"
elif command -v capsh >/dev/null 2>&1; then
	printf '#!/bin/sh\nexec capsh --drop=cap_net_admin -- -c '"'"'exec "$@"'"'"' sh "$@"\n' >"$NOCAP"
else
	skip "needs setpriv (util-linux) or capsh (libcap2-bin)"
fi
chmod +x "$NOCAP" || die "cannot write $NOCAP"

# agent_procs ID: pids of processes started as `mint --fabric $FAB node
# start ID ...` (agents of node ID, or a start still under way).
agent_procs() {
	for _p in /proc/[0-9]*; do
		{ tr '\0' ' ' <"$_p/cmdline"; } 2>/dev/null | grep -q "^[^ ]*mint --fabric $FAB node start $1 " &&
			echo "${_p#/proc/}"
	done
}
# node_left ID WHAT: node ID has no agent and is not alive after WHAT.
node_left() {
	[ "$(node_field "$1" alive)" = true ] && fail "$2: node $1 is alive (pid $(node_field "$1" pid))"
	left=$(agent_procs "$1")
	[ -z "$left" ] || fail "$2: processes of node $1 left: $left"
}
# undisturbed WHAT: nodes 0 and 2 run with the pids and epochs they had.
undisturbed() {
	when=$1
	for node in "0 $pid0 $epoch0" "2 $pid2 $epoch2"; do
		# shellcheck disable=SC2086 # id, pid, epoch
		set -- $node
		[ "$(node_field "$1" pid)" = "$2" ] && [ "$(node_field "$1" epoch)" = "$3" ] &&
			[ "$(node_field "$1" alive)" = true ] ||
			fail "$when: node $1 was disturbed (pid $(node_field "$1" pid), epoch $(node_field "$1" epoch); was $2, $3)"
	done
}

# MINT_VNI_BUFFERS=pool runs the same checks on configuration (2)
# (t_vni_pool.sh does).
VNI_BUFFERS=${MINT_VNI_BUFFERS:-per-dest}
mint up --size 64M --vni-buffers "$VNI_BUFFERS" >/dev/null || die "mint up --vni-buffers $VNI_BUFFERS failed"
vni_start 0
pid0=$pid epoch0=$(node_field 0 epoch)
vni_start 1
pid1=$pid epoch1=$(node_field 1 epoch)
vni_start 2
pid2=$pid epoch2=$(node_field 2 epoch)
for id in 0 1 2; do
	wait_until 10 vni_ready $id || fail "node $id's mint0 not ready in 10 s: $(in_ns $id 5 ip addr show dev mint0)"
done
ping_check 0 "$A1" 3 || fail "ping node 1 from node 0 before the kill: $(ping_summary)"
ping_check 0 "$A2" 3 || fail "ping node 2 from node 0 before the kill: $(ping_summary)"

# ---- 1. kill -9 of node 1 during an iperf3 transfer ----

bg_ns 1 40 "$TMP/iperf.server" iperf3 -s -1 -B "$A1" -p 5201
old_srv=$bg
wait_until 5 ns_listening 1 5201 || fail "iperf3 server not listening: $(cat "$TMP/iperf.server")"
bg_ns 0 25 "$TMP/iperf.client" iperf3 -c "$A1" -p 5201 -t 10
old_cli=$bg
rx0=$(vni_stat 1 rx_bytes)
flowing() { [ "$(vni_stat 1 rx_bytes)" -gt $((rx0 + 10000000)) ]; }
wait_until 5 flowing || fail "iperf3 0 -> 1 moves nothing: $(cat "$TMP/iperf.client")"
bg_ns 0 20 "$TMP/ping.span" ping -n -c 30 -i 0.1 -W 2 "$A2"
span=$bg
sleep 1

dead_within 1 "$pid1"
mint status >"$TMP/status" 2>&1
grep -Eq '^1 +dead ' "$TMP/status" || fail "mint status does not show node 1 dead: $(cat "$TMP/status")"

wait_bg "$span" 15
if [ "$rc" -eq 0 ] && grep -q ' 0% packet loss' "$TMP/ping.span"; then
	say "ping 0 -> 2 across the kill: $(grep 'packet loss' "$TMP/ping.span")"
else
	fail "ping 0 -> 2 across the kill: exit $rc, $(grep 'packet loss' "$TMP/ping.span" || tail -n 3 "$TMP/ping.span")"
fi
ping_check 0 "$A2" 5 || fail "ping 0 -> 2 after the kill: $(ping_summary)"
ping_check 2 "$A0" 5 || fail "ping 2 -> 0 after the kill: $(ping_summary)"
gt0 "$(vni_stat 0 tx_drop_down)" ||
	fail "node 0 counted no tx_drop_down while sending to the dead node 1 ($(mint vni stats 2>&1 | grep -E 'tx_(packets|drop)'))"
# The server lived in the dead node's namespace: it goes with it.
stop_bg "$old_srv"
undisturbed "after the kill of node 1"

t0=$(now_ms)
mint node start 1 --vni >"$TMP/start.1" 2>&1 || fail "node start 1 --vni after the kill: $(cat "$TMP/start.1")"
say "node 1 restarted in $(($(now_ms) - t0)) ms"
new1=$(node_field 1 pid)
AGENTS="$AGENTS $new1"
[ "$(node_field 1 alive)" = true ] || fail "restarted node 1 is not alive"
[ "$new1" != "$pid1" ] || fail "node 1 has its old pid $pid1"
[ "$(node_field 1 epoch)" = $((epoch1 + 1)) ] ||
	fail "restarted node 1's epoch is $(node_field 1 epoch), expected $((epoch1 + 1))"
[ "$(vni_stat 1 up)" = true ] || fail "restarted node 1's VNI port is not up"
undisturbed "after node 1's restart"
if [ "$VNI_BUFFERS" = pool ]; then
	# The dead node held a buffer for its next frame, and frames were
	# queued to it: the survivors' heartbeats (or its successor's attach)
	# gave them back.
	back=$(($(vni_stat 0 pool_reclaimed) + $(vni_stat 1 pool_reclaimed) + $(vni_stat 2 pool_reclaimed)))
	gt0 "$back" || fail "pool mode: no buffer reclaimed from the killed node 1"
	say "pool mode: $back buffer references reclaimed from the killed node 1"
fi

t0=$(now_ms)
ping1() { in_ns 0 5 ping -n -c 1 -W 1 "$A1" >/dev/null 2>&1; }
# A few seconds for ARP; more means frames wait in a ring nobody drains.
if wait_until 3 ping1; then
	say "ping 0 -> 1 answered $(($(now_ms) - t0)) ms after the restart"
elif wait_until 20 ping1; then
	fail "ping 0 -> 1 answered only $(($(now_ms) - t0)) ms after the restart (limit 3 s)"
else
	fail "ping 0 -> 1 not answered within 20 s of the restart"
fi
ping_check 0 "$A1" 5 || fail "ping 0 -> 1 after the restart: $(ping_summary)"
ping_check 2 "$A1" 3 || fail "ping 2 -> 1 after the restart: $(ping_summary)"

bg_ns 1 30 "$TMP/iperf.server2" iperf3 -s -1 -B "$A1" -p 5202
srv=$bg
if wait_until 5 ns_listening 1 5202; then
	in_ns 0 30 iperf3 -c "$A1" -p 5202 -t 3 -J >"$TMP/iperf.json" 2>"$TMP/iperf.err"
	rc=$?
	bps=$(jq -r '.end.sum_received.bits_per_second // 0' "$TMP/iperf.json" 2>/dev/null)
	if [ "$rc" -eq 0 ] && gt0 "$bps"; then
		say "fresh iperf3 0 -> 1 after the restart: $(mbits "$bps")"
	else
		fail "fresh iperf3 0 -> 1: exit $rc, $bps bit/s: $(jq -r '.error // empty' "$TMP/iperf.json" 2>/dev/null) $(cat "$TMP/iperf.err")"
	fi
else
	fail "iperf3 server on the restarted node 1 not listening: $(cat "$TMP/iperf.server2")"
fi
wait_bg "$srv" 10 || fail "fresh iperf3 server did not end"

# The client of the killed transfer: bounded, may fail.
wait_bg "$old_cli" 10
say "iperf3 client of the interrupted transfer: exit $rc ($(grep -E 'receiver|error' "$TMP/iperf.client" | tail -n 1))"

# ---- 2. no CAP_NET_ADMIN ----

NS3=$(node_ns 3)
"$NOCAP" sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status' >"$TMP/caps" 2>&1
eff=$(awk '/^CapEff/ { print $2 }' "$TMP/caps")
if [ -z "$eff" ] || [ $((0x$eff >> 12 & 1)) -ne 0 ] || [ $((0x$eff >> 21 & 1)) -ne 1 ]; then
	die "could not drop CAP_NET_ADMIN alone: $(cat "$TMP/caps")"
fi

# start3 WHAT: node start 3 --vni without CAP_NET_ADMIN must fail with
# the line about the TAP device, and leave no agent.
start3() {
	timeout -k 5 30 "$NOCAP" "$MINT" --fabric "$FAB" node start 3 --vni >"$TMP/out3" 2>"$TMP/err3"
	rc=$?
	[ "$rc" -eq 1 ] || fail "$1: node start 3 --vni exited $rc (expected 1): $(cat "$TMP/out3" "$TMP/err3")"
	[ -s "$TMP/out3" ] && fail "$1: node start 3 printed $(cat "$TMP/out3")"
	grep -v '^mint: warning:' "$TMP/err3" >"$TMP/errline"
	line=$(cat "$TMP/errline")
	if [ "$(wc -l <"$TMP/errline")" -ne 1 ]; then
		fail "$1: expected one error line, got: $line"
	fi
	# A fresh namespace already needs CAP_NET_ADMIN for its loopback; an
	# existing one gets as far as the TAP device.  Either way, one line
	# that names what is missing.
	case $line in
	"mint: node 3: cannot create the TAP device for its VNI: Operation not permitted"*CAP_NET_ADMIN* | \
	"mint: node 3: cannot bring up loopback in network namespace $NS3: Operation not permitted"*CAP_NET_ADMIN*)
		say "$1: $line" ;;
	*) fail "$1: expected 'mint: node 3: cannot ...: Operation not permitted (needs CAP_NET_ADMIN...)', got: $line" ;;
	esac
	node_left 3 "$1"
}
ns_listed "$NS3" && die "$NS3 exists before the test"
start3 "no CAP_NET_ADMIN, fresh namespace"
if ns_listed "$NS3" || [ -e "/run/netns/$NS3" ]; then
	fail "the failed start of node 3 left its namespace $NS3 behind"
	timeout -k 5 10 ip netns delete "$NS3" 2>/dev/null
fi

# Node 3's namespace is there already: its agent was killed.
mint node start 3 >"$TMP/out" 2>&1 || die "node start 3: $(cat "$TMP/out")"
p3=$(node_field 3 pid)
AGENTS="$AGENTS $p3"
kill -9 "$p3"
dead3() { [ "$(node_field 3 alive)" = false ]; }
wait_until 5 dead3 || fail "node 3 not dead 5 s after kill -9"
ns_listed "$NS3" || fail "$NS3 vanished with its killed agent"
start3 "no CAP_NET_ADMIN, node 3's namespace left by its killed agent"
undisturbed "after the failed starts of node 3"

# As root it works: the failure spoiled nothing.
vni_start 3
wait_until 10 vni_ready 3 || fail "node 3's mint0 not ready"
ping_check 0 "$A3" 3 || fail "ping 0 -> 3 after the failed starts: $(ping_summary)"
mint node stop 3 >"$TMP/out" 2>&1 || fail "node stop 3: $(cat "$TMP/out")"
ns_listed "$NS3" && fail "node stop 3 left $NS3"

# ---- 3. usage ----

# refused CODE WHAT REGEX ID ARGS...: mint node start ID ARGS exits CODE
# (1 or 2; "any" for either, nonzero) with one line matching REGEX, and
# leaves no agent and no namespace for node ID.
refused() {
	code=$1 what=$2 re=$3 id=$4
	shift 4
	mint node start "$id" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	case $code in
	any) [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 1 or 2: $(cat "$TMP/err")" ;;
	*) [ "$rc" -eq "$code" ] || fail "$what: exit $rc, expected $code: $(cat "$TMP/err")" ;;
	esac
	grep -v '^mint: warning:' "$TMP/err" >"$TMP/errline"
	if [ "$(wc -l <"$TMP/errline")" -ne 1 ] || ! grep -Eq "$re" "$TMP/errline"; then
		fail "$what: expected one line matching '$re', got: $(cat "$TMP/errline")"
	else
		say "$what: exit $rc, $(cat "$TMP/errline")"
	fi
	[ -s "$TMP/out" ] && fail "$what: printed $(cat "$TMP/out")"
	node_left "$id" "$what"
	ns_listed "$(node_ns "$id")" && fail "$what: namespace $(node_ns "$id") created"
}

refused any "--vni --no-netns" "^mint: node 4: --vni needs the node's own network namespace" 4 --vni --no-netns
refused any "--no-netns --vni" "^mint: node 4: --vni needs" 4 --no-netns --vni
refused 1 "--vni on node 20" "^mint: node 20: --vni is available for nodes 0-15" 20 --vni
for bad in garbage 10.77.0.5 10.77.0.5/ 10.77.0.5/0 10.77.0.5/33 10.77.0.5/24x 10.77.0.256/24 \
	10.77.0/24 /24 "10.77.0.5 /24" 10.77.0.5/-1 ""; do
	refused 2 "--vni-addr '$bad'" "^mint: address .*: not an IPv4 address with a prefix" 5 --vni --vni-addr "$bad"
done
refused 2 "--vni-addr without --vni" "^mint: --vni-addr goes with --vni" 5 --vni-addr 10.77.0.6/24
undisturbed "after the refused starts"

# Sanitizer builds (TSan: the pool's buffers coming back to a node).
no_sanitizer_reports

t_finish
