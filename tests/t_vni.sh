#!/bin/sh
# SPDX-License-Identifier: MIT
# t_vni: unmodified applications talk between nodes through the virtual
# NIC (`mint node start --vni`), each node in its own network namespace.
#
# 1. Two nodes: node 0's TAP I/O goes through io_uring (where the kernel
#    has it: its log says which path and why; where io_uring waits on
#    futexes, the dispatcher reads mint0 in every mode, else a transmit
#    thread: MINT_T_VNI_IO0=thread forces that, as t_vni_pool.sh does),
#    node 1's is forced to read/write (MINT_VNI_IO=rw, its log says so),
#    so every exchange below crosses both paths.  Each has mint0 with 10.77.0.<ID+1>/24 and MAC
#    02:6d:XX:XX:00:ID (the same XX:XX for both) in its namespace, as
#    `mint status -j` and `mint vni stats -j` say.  Then, node 0 to node 1:
#    ping (IPv4, 0% loss); ping -6 to node 1's link-local address derived
#    from its MAC (the one `ip -6 addr` shows in node 1's namespace);
#    iperf3 TCP and UDP (-u -b 200M), exit 0 and a nonzero received
#    throughput; sockperf TCP ping-pong, ending with its latency summary;
#    curl of a random 1 MiB file served by python3 -m http.server, the
#    same sha256.
# 2. A third node with --vni-addr 10.77.0.103/24 and --mode poll (its
#    dispatcher reads mint0 itself between doorbells: its agent has one
#    thread fewer than node 1's, no transmit thread; node 0's has as many
#    as its transmit side says).  Every pair pings.  A
#    broadcast ARP request from node 0 (for an address nobody has) reaches
#    both other nodes (a packet socket in each namespace sees it), and a
#    broadcast ping (-b 10.77.0.255) is answered by both.  iperf3 TCP
#    from node 0 to node 2 while node 1 pings both of them: no loss.
#    `mint vni stats -j`: every port up, tx and rx packets moved, no frame
#    counted as an error, and once the links are quiet every frame
#    queued was delivered (sum of rx_packets + rx_drop_host = sum of
#    tx_packets).
#
# Needs root, ip and ss (iproute2), jq, ping (iputils-ping), iperf3,
# sockperf, curl, python3 and /dev/net/tun.  Exit 0 pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
FAB=t-$$-vni
PORT=5201

# At exit, after t_cleanup took the fabric down.
cleanup_more() {
	kill_ns_jobs
	delete_our_namespaces
}
t_begin

need_vni "(network namespaces and TAP devices)"
need sockperf
need curl
need python3
need sha256sum

A0=10.77.0.1
A1=10.77.0.2
A2=10.77.0.103

# iperf WHAT ARGS...: an iperf3 client (ARGS) in node $CLI_NODE's
# namespace against a one-shot server in node $SRV_NODE's at $SRV_ADDR;
# checks exit 0 and a nonzero received throughput, and sets $bps.
iperf() {
	what="iperf3 $1 from node $CLI_NODE to $SRV_ADDR"
	shift
	bg_ns "$SRV_NODE" 30 "$TMP/iperf.server" iperf3 -s -1 -B "$SRV_ADDR" -p "$PORT"
	srv=$bg
	wait_until 5 ns_listening "$SRV_NODE" "$PORT" || {
		fail "$what: the server is not listening: $(cat "$TMP/iperf.server")"
		stop_bg "$srv"
		return
	}
	in_ns "$CLI_NODE" 30 iperf3 -c "$SRV_ADDR" -p "$PORT" -t 3 -J "$@" >"$TMP/iperf.json" 2>"$TMP/iperf.err"
	rc=$?
	bps=$(jq -r '.end.sum_received.bits_per_second // .end.sum.bits_per_second // 0' "$TMP/iperf.json" 2>/dev/null)
	if [ "$rc" -ne 0 ]; then
		fail "$what: exit $rc: $(jq -r '.error // empty' "$TMP/iperf.json" 2>/dev/null) $(cat "$TMP/iperf.err")"
	elif ! gt0 "$bps"; then
		fail "$what: received throughput $bps"
	else
		say "$what: $(mbits "$bps") received"
	fi
	wait_bg "$srv" 10 || fail "$what: the one-shot server did not end: $(cat "$TMP/iperf.server")"
}

# ---- 1. two nodes ----

# MINT_VNI_BUFFERS=pool runs the same checks on configuration (2)
# (t_vni_pool.sh does).
VNI_BUFFERS=${MINT_VNI_BUFFERS:-per-dest}
if [ "$VNI_BUFFERS" = pool ]; then # the VNI exists from the start
	mint up --size 64M --vni-buffers pool >/dev/null || die "mint up --vni-buffers pool failed"
else
	mint up --size 64M >/dev/null || die "mint up failed"
	mint vni stats >"$TMP/out" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] && grep -q 'no VNI' "$TMP/out" ||
		fail "vni stats without a VNI: exit $rc, $(cat "$TMP/out") (expected exit 1, no VNI)"
fi

export MINT_VNI_IO="${MINT_T_VNI_IO0:-}"
vni_start 0
grep -q "mint0 $A0/24" "$TMP/start.0" || fail "node start 0 did not name mint0 $A0/24: $(cat "$TMP/start.0")"
MINT_VNI_IO=rw
vni_start 1
unset MINT_VNI_IO
# io_path ID: the TAP I/O path node ID's log names
io_path() { sed -n 's/.*VNI: TAP I\/O //p' "/dev/shm/mint-$FAB.d/node$1.log" | tail -n 1; }
case $(io_path 0) in
"through io_uring"*) say "node 0: TAP I/O $(io_path 0)" ;;
"by read/write: io_uring unavailable"*) say "node 0: TAP I/O $(io_path 0) (this kernel)" ;;
*) fail "node 0's log names no TAP I/O path: $(io_path 0)" ;;
esac
[ "$(io_path 1)" = "by read/write (MINT_VNI_IO=rw)" ] ||
	fail "node 1 (MINT_VNI_IO=rw) logs TAP I/O '$(io_path 1)', expected read/write"
wait_until 10 vni_ready 0 && wait_until 10 vni_ready 1 ||
	fail "mint0 not ready (carrier, IPv6 DAD) in 10 s: $(in_ns 0 5 ip addr show dev mint0; in_ns 1 5 ip addr show dev mint0)"

for id in 0 1; do
	mac=$(node_field "$id" vni.mac)
	echo "$mac" | grep -Eq "^02:6d:[0-9a-f]{2}:[0-9a-f]{2}:00:0$id\$" ||
		fail "node $id's MAC is $mac, expected 02:6d:XX:XX:00:0$id"
	in_ns "$id" 5 ip -o link show dev mint0 | grep -q "link/ether $mac " ||
		fail "mint0 in node $id's namespace has not MAC $mac: $(in_ns "$id" 5 ip -o link show dev mint0)"
	[ "$(vni_stat "$id" mac)" = "$mac" ] || fail "vni stats: node $id's MAC $(vni_stat "$id" mac), status says $mac"
	want=10.77.0.$((id + 1))/24
	[ "$(node_field "$id" vni.ipv4)" = "$want" ] || fail "status: node $id's address $(node_field "$id" vni.ipv4), expected $want"
	in_ns "$id" 5 ip -o -4 addr show dev mint0 | grep -q "inet $want " ||
		fail "mint0 in node $id's namespace lacks $want: $(in_ns "$id" 5 ip -o -4 addr show dev mint0)"
done
mac0=$(node_field 0 vni.mac)
mac1=$(node_field 1 vni.mac)
[ "${mac0%:00:00}" = "${mac1%:00:01}" ] || fail "MACs of one fabric differ in their middle: $mac0, $mac1"

if ping_check 0 "$A1" 5; then
	say "ping $A1 from node 0: $(ping_summary)"
else
	fail "ping $A1 from node 0: $(ping_summary)"
fi
if ping_check 1 "$A0" 5; then :; else fail "ping $A0 from node 1: $(ping_summary)"; fi

ll1=$(link_local "$mac1")
in_ns 1 5 ip -o -6 addr show dev mint0 scope link | grep -q "inet6 $ll1/64 " ||
	fail "node 1's link-local address is not $ll1 (from MAC $mac1): $(in_ns 1 5 ip -o -6 addr show dev mint0)"
if ping_check 0 "$ll1%mint0" 5 -6; then
	say "ping -6 $ll1%mint0 from node 0: $(ping_summary)"
else
	fail "ping -6 $ll1%mint0 from node 0: $(ping_summary)"
fi

CLI_NODE=0 SRV_NODE=1 SRV_ADDR=$A1
iperf TCP
iperf UDP -u -b 200M
loss=$(jq -r '.end.sum.lost_percent // empty' "$TMP/iperf.json" 2>/dev/null)
[ -n "$loss" ] && say "iperf3 UDP: ${loss}% lost"

bg_ns 1 30 "$TMP/sockperf.server" sockperf sr --tcp -i "$A1" -p 11111
srv=$bg
if wait_until 5 ns_listening 1 11111; then
	in_ns 0 30 sockperf pp --tcp -i "$A1" -p 11111 -t 3 >"$TMP/sockperf" 2>&1
	rc=$?
	lat=$(grep -Eo 'Summary: Latency is [0-9.]+ usec' "$TMP/sockperf")
	if [ "$rc" -eq 0 ] && [ -n "$lat" ]; then
		say "sockperf ping-pong TCP: $lat"
	else
		fail "sockperf pp: exit $rc: $(tail -n 5 "$TMP/sockperf")"
	fi
else
	fail "sockperf server not listening: $(cat "$TMP/sockperf.server")"
fi
stop_bg "$srv"

mkdir "$TMP/www" || die "mkdir"
head -c 1048576 /dev/urandom >"$TMP/www/blob" || die "cannot write $TMP/www/blob"
bg_ns 1 30 "$TMP/http.server" python3 -m http.server 8080 --bind "$A1" --directory "$TMP/www"
srv=$bg
if wait_until 10 ns_listening 1 8080; then
	in_ns 0 20 curl -sS -f -o "$TMP/got" "http://$A1:8080/blob" >"$TMP/curl" 2>&1
	rc=$?
	want=$(sha256sum <"$TMP/www/blob" | cut -d' ' -f1)
	got=$(sha256sum <"$TMP/got" 2>/dev/null | cut -d' ' -f1)
	if [ "$rc" -ne 0 ]; then
		fail "curl http://$A1:8080/blob: exit $rc: $(cat "$TMP/curl")"
	elif [ "$got" != "$want" ]; then
		fail "curl: got $(wc -c <"$TMP/got") bytes, sha256 $got, served $want"
	else
		say "curl: 1 MiB over HTTP, sha256 matches"
	fi
else
	fail "http.server not listening: $(cat "$TMP/http.server")"
fi
stop_bg "$srv"

# ---- 2. three nodes ----

vni_start 2 --vni-addr "$A2/24" --mode poll
threads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
n0=$(threads "$(node_field 0 pid)") n1=$(threads "$(node_field 1 pid)") n2=$(threads "$pid")
[ "$n2" -eq $((n1 - 1)) ] ||
	fail "node 2 (poll) has $n2 threads, node 1 (read/write) $n1: expected one fewer"
case $(io_path 0) in
*"transmit: the dispatcher"*) [ "$n0" -eq "$n2" ] || fail "node 0 (one wait) has $n0 threads, node 2 (poll) $n2" ;;
*) [ "$n0" -eq "$n1" ] || fail "node 0 (a transmit thread) has $n0 threads, node 1 $n1" ;;
esac
grep -q "mint0 $A2/24" "$TMP/start.2" || fail "node start 2 did not name mint0 $A2/24: $(cat "$TMP/start.2")"
[ "$(node_field 2 vni.ipv4)" = "$A2/24" ] || fail "status: node 2's address $(node_field 2 vni.ipv4), expected $A2/24"
in_ns 2 5 ip -o -4 addr show dev mint0 | grep -q "inet $A2/24 " ||
	fail "mint0 in node 2's namespace lacks $A2/24: $(in_ns 2 5 ip -o -4 addr show dev mint0)"
wait_until 10 vni_ready 2 || fail "node 2's mint0 not ready in 10 s: $(in_ns 2 5 ip addr show dev mint0)"

addr_of() { case $1 in 0) echo "$A0" ;; 1) echo "$A1" ;; 2) echo "$A2" ;; esac; }
for from in 0 1 2; do
	for to in 0 1 2; do
		[ "$from" = "$to" ] && continue
		ping_check "$from" "$(addr_of "$to")" 3 || fail "ping node $to from node $from: $(ping_summary)"
	done
done
say "every pair pings"

# A packet socket on mint0 waits for an ARP request for $3 (Ethernet
# broadcast): "arp who-has ... tell ... from MAC", status 0 when seen.
cat >"$TMP/arpwatch.py" <<'EOF'
import socket, sys, time
ifname, target, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((ifname, 0))
s.settimeout(0.1)
print("listening", flush=True)
want = socket.inet_aton(target)
end = time.time() + secs
while time.time() < end:
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    if len(f) >= 42 and f[0:6] == b"\xff" * 6 and f[20:22] == b"\x00\x01" and f[38:42] == want:
        print("arp who-has %s tell %s from %s" % (target, socket.inet_ntoa(f[28:32]), f[6:12].hex(":")), flush=True)
        sys.exit(0)
sys.exit(1)
EOF
bg_ns 1 20 "$TMP/arp.1" python3 "$TMP/arpwatch.py" mint0 10.77.0.200 15
arp1=$bg
bg_ns 2 20 "$TMP/arp.2" python3 "$TMP/arpwatch.py" mint0 10.77.0.200 15
arp2=$bg
wait_line "$TMP/arp.1" '^listening' 10 && wait_line "$TMP/arp.2" '^listening' 10 ||
	fail "ARP watchers did not start: $(cat "$TMP/arp.1" "$TMP/arp.2")"
in_ns 0 10 ping -n -c 2 -W 1 10.77.0.200 >/dev/null 2>&1 # nobody answers: ARP requests only
for watcher in "$arp1 1" "$arp2 2"; do
	id=${watcher#* }
	if wait_bg "${watcher% *}" 15 && [ "$rc" -eq 0 ]; then
		say "node $id saw node 0's broadcast: $(grep arp "$TMP/arp.$id")"
	else
		fail "node $id did not see node 0's broadcast ARP request (exit $rc): $(cat "$TMP/arp.$id")"
	fi
done

for id in 1 2; do
	in_ns "$id" 5 sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0 ||
		fail "cannot let node $id answer broadcast pings"
done
in_ns 0 15 ping -n -b -c 3 -i 0.2 -W 2 10.77.0.255 >"$TMP/bping" 2>&1
for a in "$A1" "$A2"; do
	grep -q "bytes from $a:" "$TMP/bping" || fail "broadcast ping from node 0: no answer from $a: $(cat "$TMP/bping")"
done

# iperf3 from node 0 to node 2 while node 1 talks to both.
bg_ns 1 20 "$TMP/ping.1to0" ping -n -c 25 -i 0.2 -W 2 "$A0"
p10=$bg
bg_ns 1 20 "$TMP/ping.1to2" ping -n -c 25 -i 0.2 -W 2 "$A2"
p12=$bg
CLI_NODE=0 SRV_NODE=2 SRV_ADDR=$A2
iperf TCP
for pinger in "$p10 0" "$p12 2"; do
	to=${pinger#* }
	wait_bg "${pinger% *}" 15
	f=$TMP/ping.1to$to
	if [ "$rc" -eq 0 ] && grep -q ' 0% packet loss' "$f"; then
		say "node 1 pinging node $to meanwhile: $(grep 'packet loss' "$f")"
	else
		fail "node 1 pinging node $to during iperf3 0 -> 2: exit $rc, $(grep 'packet loss' "$f" || tail -n 3 "$f")"
	fi
done

# ---- the counters ----

mint vni stats -j >"$TMP/stats.json" 2>&1 || fail "vni stats -j: $(cat "$TMP/stats.json")"
for id in 0 1 2; do
	port() { jq -r --argjson id "$id" ".ports[] | select(.node == \$id) | .vni.$1" "$TMP/stats.json"; }
	[ "$(port up)" = true ] || fail "vni stats: node $id's port is not up"
	[ "$(port tx_packets)" -gt 0 ] 2>/dev/null || fail "vni stats: node $id's tx_packets is $(port tx_packets)"
	[ "$(port rx_packets)" -gt 0 ] 2>/dev/null || fail "vni stats: node $id's rx_packets is $(port rx_packets)"
	for c in tx_drop_error rx_errors; do
		[ "$(port $c)" = 0 ] || fail "vni stats: node $id's $c is $(port $c)"
	done
	say "node $id: tx_packets $(port tx_packets), rx_packets $(port rx_packets), drops full/unknown/down $(port tx_drop_full)/$(port tx_drop_unknown)/$(port tx_drop_down)"
done
# Every queued frame reaches its node once the links are quiet.
balanced() {
	mint vni stats -j 2>/dev/null >"$TMP/stats.json" &&
		jq -e '[.ports[].vni] | (map(.tx_packets) | add) == (map(.rx_packets + .rx_drop_host) | add)' \
			"$TMP/stats.json" >/dev/null
}
wait_until 10 balanced ||
	fail "frames lost between the ports: $(jq -c '[.ports[] | {node, tx: .vni.tx_packets, rx: .vni.rx_packets, rx_drop_host: .vni.rx_drop_host}]' "$TMP/stats.json")"

# Sanitizer builds (TSan: the pool's buffers coming back to a node).
no_sanitizer_reports

t_finish
