#!/bin/sh
# SPDX-License-Identifier: MIT
# vni-bench: the VNI (virtual NIC) against a veth pair, both measured in this
# run, rounds alternating; each ratio is taken per round and judged by
# bench/verdict/verdict.h (met or missed in 4 of 5 rounds; see
# docs/benchmarks.md).
#
#   bench/vni-bench.sh [--quick] [--rounds N] [--secs S] [--only LIST] [--help]
#
# Needs root, iperf3, sockperf, jq, ip and ss, and a built build/mint
# (MINT_BUILD names another build directory).  Everything it creates (two
# veth namespaces, a fabric and its nodes, iperf3 and sockperf servers) is
# removed on exit, on errors and on INT/TERM/HUP.  Exit status: 0 when every
# measurement ran (whether or not targets were met) or the benchmark was
# skipped for a missing tool, 1 when something failed, 2 for bad usage.
set -eu

BUILD=${MINT_BUILD:-build}
MINT=$BUILD/mint
ROUNDS=5
SECS=3
CLIENT_TIMEOUT_EXTRA=12 # seconds a client may take beyond its -t
PROG=vni-bench
ONLY=tcp,pp,udp,poll,configs

usage() {
	cat <<EOF
usage: bench/vni-bench.sh [--quick] [--rounds N] [--secs S] [--only LIST]
The VNI against a veth pair between two namespaces, measured alternately in
the same run: iperf3 TCP throughput, sockperf TCP ping-pong p50/p99 (default
and poll dispatchers), iperf3 UDP 64-byte packets/s, TCP again with the client
and server pinned to cores 0 and 1 (context), and the two VNI buffer
configurations (per-destination rings, a shared pool: two fabrics, rounds
alternating) under uniform (0->1) and skewed (0->2 + 1->2) traffic.
  --quick      1 round of 2 s each (smoke test, noisy figures)
  --rounds N   rounds of each measurement (default 5; the two VNI
               configurations, context without a target, run at most 3)
  --secs S     seconds per measurement (default 3)
  --only LIST  only these parts, comma-separated: tcp, pp (default
               dispatchers), udp, poll (ping-pong, poll dispatchers),
               configs (per-destination vs pool); default: all
Environment: MINT_BUILD (build directory, default build).
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) ROUNDS=1 SECS=2 ;;
	--rounds) [ $# -ge 2 ] || { usage >&2; exit 2; }; ROUNDS=$2; shift ;;
	--secs) [ $# -ge 2 ] || { usage >&2; exit 2; }; SECS=$2; shift ;;
	--only) [ $# -ge 2 ] || { usage >&2; exit 2; }; ONLY=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
case $ROUNDS$SECS in *[!0-9]*) usage >&2; exit 2 ;; esac
for part in $(echo "$ONLY" | tr , ' '); do
	case $part in tcp | pp | udp | poll | configs) ;; *) usage >&2; exit 2 ;; esac
done
# part NAME: NAME is one of the parts --only selected
part() { case ,$ONLY, in *,"$1",*) return 0 ;; esac; return 1; }
CTX_ROUNDS=$((ROUNDS < 3 ? ROUNDS : 3)) # the VNI configurations: context, no target
if [ "$ROUNDS" -lt 1 ] || [ "$ROUNDS" -gt 20 ] || [ "$SECS" -lt 1 ] || [ "$SECS" -gt 60 ]; then
	echo "$PROG: --rounds 1..20, --secs 1..60" >&2
	exit 2
fi

skip() {
	echo "$PROG: skipped: $*"
	exit 0
}
die() {
	echo "$PROG: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, TAP devices)"
for tool in iperf3 sockperf jq ip ss timeout taskset; do
	command -v "$tool" >/dev/null 2>&1 ||
		skip "$tool is missing (Debian: apt-get install -y iperf3 sockperf jq iproute2)"
done
[ -x "$MINT" ] || die "$MINT is missing: run 'make tools' (or 'make bench')"
[ -w /dev/shm ] || die "/dev/shm is not writable: the fabric needs it"
. "$(dirname "$0")/verdict/verdict.sh"

# ---------------------------------------------------------------- cleanup

TAG=vb$$
FABRIC=${TAG}f
FABRIC_P=${TAG}p # the same, with --vni-buffers pool
NS_A=${TAG}a
NS_B=${TAG}b
VETH_A=${TAG}va
VETH_B=${TAG}vb
TMP=$(mktemp -d "/tmp/$PROG.XXXXXX")
PIDS=""        # servers and clients this script started, and only those
FABRIC_UP=0
POOL_UP=0
VETH_UP=0

cleanup() {
	set +e
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	PIDS=""
	if [ "$FABRIC_UP" = 1 ]; then
		timeout 20 "$MINT" --fabric "$FABRIC" down >/dev/null 2>&1 ||
			echo "$PROG: 'mint --fabric $FABRIC down' failed" >&2
		FABRIC_UP=0
	fi
	if [ "$POOL_UP" = 1 ]; then
		timeout 20 "$MINT" --fabric "$FABRIC_P" down >/dev/null 2>&1 ||
			echo "$PROG: 'mint --fabric $FABRIC_P down' failed" >&2
		POOL_UP=0
	fi
	if [ "$VETH_UP" = 1 ]; then
		ip netns del "$NS_A" 2>/dev/null
		ip netns del "$NS_B" 2>/dev/null
		VETH_UP=0
	fi
	rm -rf "$TMP"
	rm -f "$VERDICT_FILE"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

forget_pid() {
	_keep=""
	for p in $PIDS; do
		[ "$p" = "$1" ] || _keep="$_keep $p"
	done
	PIDS=$_keep
}

# Stop a background process we started (if still there) and reap it.
reap() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget_pid "$1"
}

progress() {
	[ -t 2 ] && printf '%s: %s\n' "$PROG" "$*" >&2
	return 0
}

# ---------------------------------------------------------------- helpers

# median of the numbers on stdin (one a line); empty input: empty output
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit
		if (NR % 2) printf "%.6g\n", v[(NR + 1) / 2]
		else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# wait_listen NS PORT: until a TCP socket listens on PORT in NS (5 s at most)
wait_listen() {
	_i=0
	while [ $_i -lt 50 ]; do
		[ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null)" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	die "no server listening on port $2 in namespace $1 after 5 s"
}

# ns_of SIDE ID: the namespace; addr_of SIDE ID: the address
ns_of() {
	if [ "$1" = veth ]; then
		[ "$2" = 0 ] && echo "$NS_A" || echo "$NS_B"
	elif [ "$1" = pool ]; then
		echo "mint-$FABRIC_P-$2"
	else
		echo "mint-$FABRIC-$2"
	fi
}
addr_of() {
	if [ "$1" = veth ]; then
		echo "10.78.$((TAG_NET)).$(($2 + 1))"
	else
		echo "10.77.0.$(($2 + 1))"
	fi
}
# A /24 for the veth pair that no other run of this script uses at once.
TAG_NET=$(($$ % 250 + 1))

# iperf3 SIDE FROM TO PORT OUT [client options...]: one client run, JSON in OUT
# (with PIN=split: the client pinned to core 0, the server to core 1)
run_iperf() {
	_side=$1 _from=$2 _to=$3 _port=$4 _out=$5
	shift 5
	_sns=$(ns_of "$_side" "$_to")
	pins "$PIN"
	# shellcheck disable=SC2086 # _ps and _pc are empty or a command prefix
	ip netns exec "$_sns" $_ps iperf3 -s -1 -p "$_port" -B "$(addr_of "$_side" "$_to")" \
		>"$TMP/iperf-server.$_port.log" 2>&1 &
	_spid=$!
	PIDS="$PIDS $_spid"
	wait_listen "$_sns" "$_port"
	_rc=0
	# shellcheck disable=SC2086
	timeout $((SECS + CLIENT_TIMEOUT_EXTRA)) ip netns exec "$(ns_of "$_side" "$_from")" \
		$_pc iperf3 -c "$(addr_of "$_side" "$_to")" -p "$_port" -t "$SECS" -J "$@" \
		>"$_out" 2>"$_out.err" || _rc=$?
	reap "$_spid"
	return $_rc
}

# pins [split]: _pc and _ps, the command prefixes that pin a client to
# core 0 and its server to core 1 (on the VNI: each on its node's core, as
# `mint exec` runs them), or nothing
PIN=""
pins() {
	_pc="" _ps=""
	[ "$1" = split ] && _pc="taskset -c 0" _ps="taskset -c 1"
	return 0
}

# busy_ms: milliseconds all CPUs together have been busy (not idle, not
# waiting for I/O) since boot, from /proc/stat
busy_ms() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {
		t = 0; for (i = 2; i <= NF; i++) t += $i
		printf "%.0f\n", (t - $5 - $6) * 1000 / hz; exit }' /proc/stat
}

# one TCP stream 0 -> 1 (SIDE [split]); prints "Gbit/s received, CPU
# seconds per Gbit moved" (the whole machine's busy time during the run:
# both stacks, iperf3 and, on the VNI, the node agents)
tcp_once() {
	PIN=${2:-}
	_rc=0
	_b0=$(busy_ms)
	run_iperf "$1" 0 1 5301 "$TMP/tcp.json" || _rc=$?
	_b1=$(busy_ms)
	PIN=""
	[ $_rc = 0 ] ||
		die "iperf3 TCP over $1 failed: $(jq -r '.error // empty' "$TMP/tcp.json" 2>/dev/null) $(head -c 300 "$TMP/tcp.json.err")"
	jq -r --argjson ms $((_b1 - _b0)) '.end.sum_received |
		"\(.bits_per_second / 1e9) \($ms / 1000 / ([.bytes * 8 / 1e9, 0.001] | max))"' "$TMP/tcp.json"
}

# UDP 64-byte payloads 0 -> 1 as fast as iperf3 sends; prints "rx_pps
# loss% sent_pps cpu_us", the last the machine's busy microseconds per
# packet received (as tcp_once's: both iperf3s, both stacks, the agents)
udp_once() {
	_b0=$(busy_ms)
	run_iperf "$1" 0 1 5302 "$TMP/udp.json" -u -l 64 -b 0 ||
		die "iperf3 UDP over $1 failed: $(jq -r '.error // empty' "$TMP/udp.json" 2>/dev/null) $(head -c 300 "$TMP/udp.json.err")"
	_b1=$(busy_ms)
	jq -r --argjson ms $((_b1 - _b0)) '.end.sum | "\((.packets - .lost_packets) / .seconds) \(.lost_percent) \(.packets / .seconds) \($ms * 1000 / ([.packets - .lost_packets, 1] | max))"' \
		"$TMP/udp.json"
}

# sockperf TCP ping-pong 0 -> 1; prints "p50 p99" in microseconds (one way)
# (SIDE split: the server pinned to core 1, the client to core 0)
pp_once() {
	_sns=$(ns_of "$1" 1)
	pins "${2:-}"
	# shellcheck disable=SC2086 # _ps and _pc are empty or a command prefix
	ip netns exec "$_sns" $_ps sockperf sr --tcp -i "$(addr_of "$1" 1)" -p 11111 \
		>"$TMP/sockperf-server.log" 2>&1 &
	_spid=$!
	PIDS="$PIDS $_spid"
	wait_listen "$_sns" 11111
	_rc=0
	# shellcheck disable=SC2086
	timeout $((SECS + CLIENT_TIMEOUT_EXTRA)) ip netns exec "$(ns_of "$1" 0)" $_pc \
		sockperf pp --tcp -i "$(addr_of "$1" 1)" -p 11111 -t "$SECS" \
		>"$TMP/pp.log" 2>&1 || _rc=$?
	reap "$_spid"
	[ $_rc = 0 ] || die "sockperf ping-pong over $1 failed (status $_rc): $(tail -n 3 "$TMP/pp.log")"
	awk '/percentile 50.000 =/ { p50 = $NF } /percentile 99.000 =/ { p99 = $NF }
		END { if (p50 == "" || p99 == "") exit 1; print p50, p99 }' "$TMP/pp.log" ||
		die "sockperf ping-pong over $1: no percentile lines in its output"
}

# vni_counter NODE NAME: one counter of `mint vni stats -j`
vni_counter() {
	"$MINT" --fabric "$FABRIC" vni stats -j |
		jq -r --argjson n "$1" --arg k "$2" '.ports[] | select(.node == $n) | .vni[$k]'
}
vni_drops_full() {
	"$MINT" --fabric "$FABRIC" vni stats -j | jq '[.ports[].vni.tx_drop_full] | add'
}
# vni_drops SIDE: frames the VNI of SIDE (mint: per-destination rings,
# pool: the pool fabric) dropped for a full destination or an empty pool
vni_drops() {
	_f=$FABRIC
	[ "$1" = pool ] && _f=$FABRIC_P
	"$MINT" --fabric "$_f" vni stats -j | jq '[.ports[].vni | .tx_drop_full + .tx_drop_pool] | add'
}

# vni_snap: node 0's tx_packets and tx_bytes (the data direction); then, for
# both nodes together, frames sent, VNI doorbells raised (tx_irqs), futex
# wakes (wakes_sent of `mint irq`), dispatcher sleeps, frames received and
# receive passes
vni_snap() {
	_v=$("$MINT" --fabric "$FABRIC" vni stats -j | jq -r '[.ports[] | select(.node <= 1) | .vni] as $p |
		[$p[0].tx_packets, $p[0].tx_bytes, ([$p[].tx_packets] | add), ([$p[].tx_irqs] | add),
		 ([$p[].rx_packets] | add), ([$p[].rx_polls] | add)] | join(" ")')
	_i=$("$MINT" --fabric "$FABRIC" irq -j | jq -r '[.nodes[] | select(.id <= 1)] as $n |
		[([$n[].wakes_sent] | add), ([$n[].sleeps] | add)] | join(" ")')
	echo "$_v $_i"
}
# vni_delta BEFORE AFTER: the difference, field by field
vni_delta() {
	echo "$1 $2" | awk '{ n = NF / 2; for (i = 1; i <= n; i++) printf "%s%.0f", (i > 1 ? " " : ""), $(i + n) - $i; print "" }'
}

# loss_snap SIDE: "sender's device TX drops, receiver's device RX drops,
# receiver's UdpRcvbufErrors" (counters of the namespaces' own kernels)
loss_snap() {
	if [ "$1" = veth ]; then _d0=$VETH_A _d1=$VETH_B; else _d0=mint0 _d1=mint0; fi
	_tx=$(ip -n "$(ns_of "$1" 0)" -s -j link show "$_d0" | jq '.[0].stats64.tx.dropped')
	_rx=$(ip -n "$(ns_of "$1" 1)" -s -j link show "$_d1" | jq '.[0].stats64.rx.dropped')
	# shellcheck disable=SC2016 # awk program, not shell
	_rb=$(ip netns exec "$(ns_of "$1" 1)" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["RcvbufErrors"] }' /proc/net/snmp)
	echo "$_tx $_rx $_rb"
}

# ---------------------------------------------------------------- setup

setup_veth() {
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	VETH_UP=1
	ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" netns "$NS_B"
	ip -n "$NS_A" addr add "$(addr_of veth 0)/24" dev "$VETH_A"
	ip -n "$NS_B" addr add "$(addr_of veth 1)/24" dev "$VETH_B"
	for ns in "$NS_A" "$NS_B"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_A" link set "$VETH_A" up
	ip -n "$NS_B" link set "$VETH_B" up
}

# start_nodes MODE N [FABRIC]: nodes 0..N-1 with a VNI, node i on core i mod 2
start_nodes() {
	_i=0
	while [ $_i -lt "$2" ]; do
		timeout 20 "$MINT" --fabric "${3:-$FABRIC}" node start $_i --vni --cores $((_i % NCORE)) \
			--mode "$1" >"$TMP/node.log" 2>&1 ||
			die "mint node start $_i --vni --mode $1 failed: $(cat "$TMP/node.log")"
		_i=$((_i + 1))
	done
}
stop_nodes() {
	_i=0
	while [ $_i -lt "$1" ]; do
		timeout 20 "$MINT" --fabric "$FABRIC" node stop $_i >/dev/null 2>&1 ||
			die "mint node stop $_i failed"
		_i=$((_i + 1))
	done
}

# reach SIDE FROM TO: the path works (ARP resolved) before anything is timed
reach() {
	_j=0
	while [ $_j -lt 30 ]; do
		ip netns exec "$(ns_of "$1" "$2")" ping -c 1 -W 1 "$(addr_of "$1" "$3")" >/dev/null 2>&1 &&
			return 0
		_j=$((_j + 1))
		sleep 0.2
	done
	die "$1: node $2 cannot reach $(addr_of "$1" "$3")"
}

# busy% of each of the first two CPUs over 300 ms, and a warning above 10%
load_line() {
	s1=$(grep -E '^cpu[01] ' /proc/stat)
	sleep 0.3
	s2=$(grep -E '^cpu[01] ' /proc/stat)
	printf '%s\n%s\n' "$s1" "$s2" | awk '{
		idle = $5 + $6; tot = 0; for (i = 2; i <= NF; i++) tot += $i
		if (!($1 in t)) { t[$1] = tot; id[$1] = idle; next }
		b = tot > t[$1] ? int(100 * (1 - (idle - id[$1]) / (tot - t[$1])) + 0.5) : 0
		out = out (out == "" ? "" : ", ") "core " substr($1, 4) " " b "% busy"
		if (b > 10) warn = 1 }
		END { printf "%s%s\n", out, warn ? "  WARNING: other work on these cores, figures will be noisy" : "" }'
}

# The dispatch mode 'mint node start --vni' uses by default (cmd_node.c)
DEF_MODE=adaptive

NCORE=$(nproc)
[ "$NCORE" -ge 2 ] && NCORE=2
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)

echo "vni-bench ($ROUNDS round(s) of $SECS s per measurement, anchors and mint alternating)"
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: ${CPU:-unknown CPU}, nproc $(nproc), kernel $(uname -sr)"
echo "tools: $(iperf3 --version | head -n 1 | cut -d' ' -f1-2), sockperf $(sockperf --version 2>&1 | awk '/version/ { print $NF; exit }' | tr -d ',')"
echo "load before the run: $(load_line)"
echo "anchor: veth pair between two fresh namespaces; mint: mint0 of node 0 -> node 1 (per-destination rings)"
echo "clients and servers are not pinned; nodes i run on core i mod $NCORE"
echo

setup_veth
"$MINT" --fabric "$FABRIC" up >"$TMP/up.log" 2>&1 || die "mint up failed: $(cat "$TMP/up.log")"
FABRIC_UP=1
start_nodes "$DEF_MODE" 2
reach veth 0 1
reach mint 0 1

for f in tcp.veth tcp.mint tcp.cnt tcp.veth.split tcp.mint.split pp.veth pp.def pp.def.cnt pp.veth2 pp.poll pp.poll.cnt pp.split \
	udp.veth udp.mint udp.veth.loss udp.mint.loss; do
	: >"$TMP/$f"
done

# ------------------------------------------- (1)-(3), default dispatchers
r=1
while [ $r -le "$ROUNDS" ]; do
	if part tcp; then
		progress "round $r/$ROUNDS: TCP throughput"
		tcp_once veth >>"$TMP/tcp.veth"
		c0=$(vni_snap)
		tcp_once mint >>"$TMP/tcp.mint"
		vni_delta "$c0" "$(vni_snap)" >>"$TMP/tcp.cnt"
		if [ "$NCORE" -ge 2 ]; then
			tcp_once veth split >>"$TMP/tcp.veth.split"
			tcp_once mint split >>"$TMP/tcp.mint.split"
		fi
	fi
	if part pp; then
		progress "round $r/$ROUNDS: TCP ping-pong"
		pp_once veth >>"$TMP/pp.veth"
		c0=$(vni_snap)
		pp_once mint >>"$TMP/pp.def"
		vni_delta "$c0" "$(vni_snap)" >>"$TMP/pp.def.cnt"
		[ "$NCORE" -ge 2 ] && pp_once veth split >>"$TMP/pp.split"
	fi
	if part udp; then
		progress "round $r/$ROUNDS: UDP 64 B"
		l0=$(loss_snap veth)
		udp_once veth >>"$TMP/udp.veth"
		vni_delta "$l0" "$(loss_snap veth)" >>"$TMP/udp.veth.loss"
		l0=$(loss_snap mint)
		udp_once mint >>"$TMP/udp.mint"
		vni_delta "$l0" "$(loss_snap mint)" >>"$TMP/udp.mint.loss"
	fi
	r=$((r + 1))
done
UDP_DROP_FULL=$(vni_drops_full)
UDP_DROP_HOST=$("$MINT" --fabric "$FABRIC" vni stats -j | jq '[.ports[].vni.rx_drop_host] | add')

# ------------------------------------------- (2) again, poll dispatchers
# Spinning dispatchers keep both vCPUs busy, and that changes the anchor
# itself (no idle vCPU to wake: veth's ping-pong gets several times faster).
# So the poll nodes run only during the mint rounds.
progress "TCP ping-pong, poll dispatchers"
stop_nodes 2
r=1
part poll || r=$((ROUNDS + 1))
while [ $r -le "$ROUNDS" ]; do
	pp_once veth >>"$TMP/pp.veth2"
	start_nodes poll 2
	reach mint 0 1
	c0=$(vni_snap)
	pp_once mint >>"$TMP/pp.poll"
	vni_delta "$c0" "$(vni_snap)" >>"$TMP/pp.poll.cnt"
	stop_nodes 2
	r=$((r + 1))
done

# ------------------------------------------- (4) uniform vs skewed, 3 nodes
# The same three nodes on two fabrics, per-destination rings and a pool,
# rounds alternating between them.

# iperf3 client options of a KIND of traffic: one TCP stream, or UDP
# datagrams of 1400 bytes as fast as iperf3 sends them
kind_opts() {
	[ "$1" = udp ] && echo "-u -b 0 -l $UDP_LEN"
	return 0
}
UDP_LEN=1400
# goodput KIND FILE: Gbit/s the receiver got, from iperf3's JSON in FILE
goodput() {
	if [ "$1" = udp ]; then
		jq -r --argjson l "$UDP_LEN" '.end.sum | (.packets - .lost_packets) * $l * 8 / .seconds / 1e9' "$2"
	else
		jq -r '.end.sum_received.bits_per_second / 1e9' "$2"
	fi
}

# uni_once SIDE KIND: 0 -> 1; appends "Gbit/s drops" to $TMP/uni.KIND.SIDE
uni_once() {
	d0=$(vni_drops "$1")
	# shellcheck disable=SC2046 # kind_opts is a list of options
	run_iperf "$1" 0 1 5303 "$TMP/uni.json" $(kind_opts "$2") ||
		die "iperf3 $2 0 -> 1 over $1 failed: $(jq -r '.error // empty' "$TMP/uni.json" 2>/dev/null)"
	d1=$(vni_drops "$1")
	echo "$(goodput "$2" "$TMP/uni.json") $((d1 - d0))" >>"$TMP/uni.$2.$1"
}

# skew_once SIDE KIND: 0 -> 2 and 1 -> 2 at once; appends "sum g0 g1 drops"
# to $TMP/skew.KIND.SIDE
skew_once() {
	for src in 0 1; do
		port=$((5310 + src))
		ip netns exec "$(ns_of "$1" 2)" iperf3 -s -1 -p $port -B "$(addr_of "$1" 2)" \
			>"$TMP/skew-server.$src.log" 2>&1 &
		eval "spid$src=\$!"
		PIDS="$PIDS $!"
	done
	wait_listen "$(ns_of "$1" 2)" 5310
	wait_listen "$(ns_of "$1" 2)" 5311
	d0=$(vni_drops "$1")
	for src in 0 1; do
		# shellcheck disable=SC2046 # kind_opts is a list of options
		timeout $((SECS + CLIENT_TIMEOUT_EXTRA)) ip netns exec "$(ns_of "$1" $src)" \
			iperf3 -c "$(addr_of "$1" 2)" -p $((5310 + src)) -t "$SECS" -J $(kind_opts "$2") \
			>"$TMP/skew.$src.json" 2>&1 &
		eval "cpid$src=\$!"
		PIDS="$PIDS $!"
	done
	# shellcheck disable=SC2154 # cpid0, cpid1, spid0, spid1 are set by eval
	{
		wait "$cpid0" || die "iperf3 0 -> 2 (skewed, $1) failed: $(head -c 300 "$TMP/skew.0.json")"
		wait "$cpid1" || die "iperf3 1 -> 2 (skewed, $1) failed: $(head -c 300 "$TMP/skew.1.json")"
		forget_pid "$cpid0"
		forget_pid "$cpid1"
		reap "$spid0"
		reap "$spid1"
	}
	d1=$(vni_drops "$1")
	g0=$(goodput "$2" "$TMP/skew.0.json")
	g1=$(goodput "$2" "$TMP/skew.1.json")
	echo "$g0 $g1 $((d1 - d0))" | awk '{ print $1 + $2, $1, $2, $3 }' >>"$TMP/skew.$2.$1"
}

# start_configs: nodes 0-2 on the per-destination fabric and on a pool one
start_configs() {
	start_nodes "$DEF_MODE" 3
	"$MINT" --fabric "$FABRIC_P" up --vni-buffers pool >"$TMP/up.log" 2>&1 ||
		die "mint up --vni-buffers pool failed: $(cat "$TMP/up.log")"
	POOL_UP=1
	start_nodes "$DEF_MODE" 3 "$FABRIC_P"
	for side in mint pool; do
		reach $side 0 1
		reach $side 0 2
		reach $side 1 2
	done
}
if part configs; then
	progress "VNI configurations: uniform and skewed traffic"
	start_configs
fi
r=1
part configs || r=$((CTX_ROUNDS + 1))
while [ $r -le "$CTX_ROUNDS" ]; do
	for side in mint pool; do
		for kind in tcp udp; do
			uni_once $side $kind
			skew_once $side $kind
		done
	done
	r=$((r + 1))
done

# ---------------------------------------------------------------- report

col() { awk -v c="$1" '{ print $c }' "$2" | median; }
range() { awk -v c="$1" '{ print $c }' "$2" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo, hi }'; }

TCP_A=$(col 1 "$TMP/tcp.veth")
LOSS_A=$(col 2 "$TMP/udp.veth") LOSS_M=$(col 2 "$TMP/udp.mint")
SENT_A=$(col 3 "$TMP/udp.veth") SENT_M=$(col 3 "$TMP/udp.mint")

# copy_s_per_gbit: CPU seconds one kernel copy of 1 Gbit costs on this
# machine, from dd copying 1 GiB of /dev/zero into its buffer
copy_s_per_gbit() {
	_t0=$(date +%s%N)
	dd if=/dev/zero of=/dev/null bs=1M count=1024 2>/dev/null
	echo $(($(date +%s%N) - _t0)) | awk '{ printf "%.3f", $1 / 1e9 / (8 * 1.073741824) }'
}

# list COL FILE: column COL of FILE, one figure a round, on one line
list() { awk -v c="$1" '{ printf "%s%s", (NR > 1 ? " " : ""), $c }' "$2"; }
# row NAME UNIT OP TARGET ANCHOR_FILE MINT_FILE [COL]: a verdict row
row() { verdict_row "$1" "$2" "$3" "$4" "$(list "${7:-1}" "$5")" "$(list "${7:-1}" "$6")"; }
fmt() {
	case $2 in
	Gbit/s) awk -v v="$1" 'BEGIN { printf "%.2f Gbit/s", v }' ;;
	us) awk -v v="$1" 'BEGIN { printf "%.1f us", v }' ;;
	pps) awk -v v="$1" 'BEGIN { if (v >= 1e6) printf "%.2f Mpps", v / 1e6; else printf "%.0f kpps", v / 1e3 }' ;;
	esac
}

part tcp && row "tcp-1-stream" Gbit/s ">=" 0.8 "$TMP/tcp.veth" "$TMP/tcp.mint"
if part pp; then
	row "tcp-pp-p50 ($DEF_MODE)" us "<=" 1.3 "$TMP/pp.veth" "$TMP/pp.def"
	row "tcp-pp-p99 ($DEF_MODE)" us "<=" 1.3 "$TMP/pp.veth" "$TMP/pp.def" 2
fi
if part poll; then
	row "tcp-pp-p50 (poll)" us "<=" 1.3 "$TMP/pp.veth2" "$TMP/pp.poll"
	row "tcp-pp-p99 (poll)" us "<=" 1.3 "$TMP/pp.veth2" "$TMP/pp.poll" 2
fi
part udp && row "udp-64B-rx" pps ">=" 0.8 "$TMP/udp.veth" "$TMP/udp.mint"
sums() { awk '{ for (i = 1; i <= NF; i++) s[i] += $i } END { for (i = 1; i <= NF; i++) printf "%s%.0f", (i > 1 ? " " : ""), s[i]; print "" }' "$1"; }
# counters NAME FILE: what the VNI and doorbell counters say about the mint rounds
counters() {
	sums "$2" | awk -v name="$1" -v t="$((ROUNDS * SECS))" '{
		if ($1 == 0 || $3 == 0) { printf "                %s: no frames counted\n", name; exit }
		printf "                %s: node 0 sent %.0f frames/s of %.0f B on average. Both ways, %.0f%% of the\n", name, $1 / t, $2 / $1, 100 * $4 / $3
		printf "                frames raised a VNI doorbell, %.0f%% needed a futex wake, %.1f frames per receive pass,\n", 100 * $7 / $3, $6 ? $5 / $6 : 0
		printf "                %.0f dispatcher sleeps/s\n", $8 / t }'
}
rng() { range "$1" "$2" | awk -v f="$3" '{ printf f ".." f, $1, $2 }'; }

echo
if part tcp; then
	echo "  tcp-1-stream  veth $(rng 1 "$TMP/tcp.veth" %.2f), mint $(rng 1 "$TMP/tcp.mint" %.2f) Gbit/s over $ROUNDS round(s) of $SECS s (iperf3 -t $SECS, receiver's figure)"
	[ -s "$TMP/tcp.mint.split" ] &&
		echo "                context, no verdict: client pinned to core 0, server to core 1 (on the VNI each on its
                node's core, where 'mint exec' runs it): veth $(col 1 "$TMP/tcp.veth.split" | xargs printf %.2f), mint $(col 1 "$TMP/tcp.mint.split" | xargs printf %.2f) Gbit/s,
                that is $(awk -v a="$TCP_A" -v m="$(col 1 "$TMP/tcp.mint.split")" 'BEGIN { printf "%.2f", (a > 0 ? m / a : 0) }')x the unpinned veth of the table"
	CPU_A=$(col 2 "$TMP/tcp.veth") CPU_M=$(col 2 "$TMP/tcp.mint") COPY=$(copy_s_per_gbit)
	echo "                CPU seconds per Gbit moved (the machine's busy time during the run, medians; other work on"
	echo "                the machine counts too): veth $(printf %.3f "$CPU_A"), mint $(printf %.3f "$CPU_M"). The VNI's floor is veth's"
	echo "                path plus two copies of each byte (TAP to fabric, fabric to TAP), $COPY s per Gbit each here"
	echo "                (dd from /dev/zero): mint spends $(awk -v a="$CPU_A" -v m="$CPU_M" -v c="$COPY" 'BEGIN {
	printf "%.3f", m - a }') s/Gbit more than veth, $(awk -v a="$CPU_A" -v m="$CPU_M" -v c="$COPY" 'BEGIN {
	printf "%.1f", (c > 0 ? (m - a) / (2 * c) : 0) }')x the two copies' cost"
	counters "VNI node 0 -> 1" "$TMP/tcp.cnt"
fi
if part pp; then
	echo "  tcp-pp        one-way latency as sockperf reports it (round trip / 2), sockperf pp --tcp -t $SECS; min..max of the rounds:"
	echo "                p50 veth $(rng 1 "$TMP/pp.veth" %.1f) us, $DEF_MODE $(rng 1 "$TMP/pp.def" %.1f) us; p99 veth $(rng 2 "$TMP/pp.veth" %.1f) us, $DEF_MODE $(rng 2 "$TMP/pp.def" %.1f) us"
	echo "                $DEF_MODE is what 'node start --vni' uses by default; the poll rows have their own veth rounds,"
	echo "                alternating with them; nodes 0 and 1 run with --mode poll during the mint rounds only"
	[ -s "$TMP/pp.split" ] &&
		echo "                context, no verdict: veth with the client pinned to core 0 and the server to core 1 (every hop
                crosses cores, as on the VNI): p50 $(col 1 "$TMP/pp.split" | xargs printf %.1f) us, p99 $(col 2 "$TMP/pp.split" | xargs printf %.1f) us"
	counters "$DEF_MODE" "$TMP/pp.def.cnt"
fi
if part poll; then
	echo "                p50 veth $(rng 1 "$TMP/pp.veth2" %.1f) us, poll $(rng 1 "$TMP/pp.poll" %.1f) us; p99 veth $(rng 2 "$TMP/pp.veth2" %.1f) us, poll $(rng 2 "$TMP/pp.poll" %.1f) us"
	counters "poll" "$TMP/pp.poll.cnt"
fi
if part udp; then
	LV=$(sums "$TMP/udp.veth.loss") LM=$(sums "$TMP/udp.mint.loss")
	echo "  udp-64B-rx    iperf3 -u -l 64 -b 0 -t $SECS: packets/s received (sent: veth $(fmt "$SENT_A" pps), mint $(fmt "$SENT_M" pps));"
	echo "                loss (median): veth $(printf %.1f "$LOSS_A")%, mint $(printf %.1f "$LOSS_M")%. Where, over all rounds: sender's device TX drops,"
	echo "                receiver's device RX drops, receiver's UDP RcvbufErrors: veth $(echo "$LV" | sed 's/ /, /g'); mint $(echo "$LM" | sed 's/ /, /g')"
	echo "                VNI counters over the UDP rounds: tx_drop_full $UDP_DROP_FULL, rx_drop_host $UDP_DROP_HOST"
	UCPU_A=$(col 4 "$TMP/udp.veth") UCPU_M=$(col 4 "$TMP/udp.mint")
	echo "                CPU per packet received (the machine's busy time, medians; other work counts too): veth"
	echo "                $(printf %.1f "$UCPU_A") us, mint $(printf %.1f "$UCPU_M") us. At mint's cost the $(nproc) CPUs carry at most $(awk -v m="$UCPU_M" -v n="$(nproc)" 'BEGIN {
	printf "%.0f", (m > 0 ? n * 1e3 / m : 0) }') kpps,"
	echo "                $(awk -v m="$UCPU_M" -v v="$(col 1 "$TMP/udp.veth")" -v n="$(nproc)" 'BEGIN {
	printf "%.2f", (m > 0 && v > 0 ? n * 1e6 / m / v : 0) }')x veth's median rate: the most the ratio can be when both paths keep every CPU busy"
fi
if part configs; then
	echo
	echo "VNI configurations (1) per-destination rings (4 MiB each) vs (2) a pool of 256 64-KiB + 2048 2-KiB buffers,"
	echo "two fabrics of nodes 0-2, rounds alternating; medians of $CTX_ROUNDS round(s) of iperf3 -t $SECS (TCP: one"
	echo "stream; UDP: -b 0 -l $UDP_LEN, what arrived), $DEF_MODE dispatchers; drops: tx_drop_full + tx_drop_pool"
	echo "summed over the nodes and rounds:"
	echo "  config    traffic                          received                                drops"
	for kind in tcp udp; do
		for side in mint pool; do
			name=per-dest
			[ $side = pool ] && name=pool
			U_G=$(col 1 "$TMP/uni.$kind.$side") U_D=$(awk '{ s += $2 } END { print s + 0 }' "$TMP/uni.$kind.$side")
			S_G=$(col 1 "$TMP/skew.$kind.$side") S_0=$(col 2 "$TMP/skew.$kind.$side") S_1=$(col 3 "$TMP/skew.$kind.$side")
			S_D=$(awk '{ s += $4 } END { print s + 0 }' "$TMP/skew.$kind.$side")
			printf '  %-9s %s uniform 0->1                %-39s %s\n' "$name" "$kind" "$(fmt "$U_G" Gbit/s)" "$U_D"
			printf '  %-9s %s skewed  0->2 + 1->2         %-39s %s\n' "$name" "$kind" \
				"$(fmt "$S_G" Gbit/s) ($(fmt "$S_0" Gbit/s) + $(fmt "$S_1" Gbit/s))" "$S_D"
		done
	done
	for kind in tcp udp; do
		row "pool/per-dest $kind uni" Gbit/s - 0 "$TMP/uni.$kind.mint" "$TMP/uni.$kind.pool"
		row "pool/per-dest $kind skew" Gbit/s - 0 "$TMP/skew.$kind.mint" "$TMP/skew.$kind.pool"
	done
fi
echo
echo "verdicts: the per-round ratios against veth measured in the same round (the pool rows: pool over"
echo "per-destination rings, no target); met or missed in 4 of 5 rounds, else unsettled:"
verdict_end
