#!/bin/sh
# SPDX-License-Identifier: MIT
# t_capture: `mint capture` writes what a node's VNI carries to a pcap file.
#
# Nodes 0 and 1 with --vni (node 2 without, node 3 --no-netns).  A capture
# of node 1 with -c 10 runs in the background while node 0 pings
# 10.77.0.2 five times from its namespace; the capture ends by itself and
# says "node 1: 10 packets captured to FILE"; tshark reads FILE: 10
# frames, the ARP request for 10.77.0.2 and its answer, echo requests
# 10.77.0.1 -> 10.77.0.2 and echo replies back, timestamps of today, a
# valid pcap magic.  -G 1 with no traffic of ours ends after about a
# second (-j: stopped_by "time", few packets, the timestamp precision the
# file's magic says); SIGINT ends a capture with its summary, status 0;
# the FILE exists once the capture runs.  Bad input, each one line
# "mint: ..." and no file: no such node (64: usage), a node not running,
# a node without a VNI (2, 3), an unwritable FILE (missing directory, a
# directory), no -w, bad -c/-G/--snaplen, not root, no libpcap (hidden in
# a private mount namespace: "libpcap is not installed", while `mint
# status` works; mint does not link libpcap).  A node stopped
# during a capture ends it with the summary, an error line and status 1.
#
# Needs root, ip (iproute2), ping (iputils-ping), tshark and jq
# (mk/deps.sh installs them).  Exit 0 pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
FAB=t-$$-cap

# At exit, after t_cleanup took the fabric down.
cleanup_more() { delete_our_namespaces; }
t_begin

need_root "(namespaces, TAP devices, packet capture)"
need ip "ip (iproute2)"
need ping "ping (iputils-ping)"
need tshark
need jq
need unshare "unshare (util-linux)"
need_built "$MINT" tools
"$MINT" capture --help >/dev/null 2>&1 || skip "this build of mint has no capture (no libpcap)"

# capture_bg OUT ARGS...: mint capture ARGS in the background (mint itself,
# so signals reach it), stdout in OUT, stderr in OUT.err; $cap its pid.
capture_bg() {
	_out=$1
	shift
	"$MINT" --fabric "$FAB" capture "$@" >"$_out" 2>"$_out.err" &
	cap=$!
	PIDS="$PIDS $cap"
}

# reap_capture SECONDS: wait for $cap to end (bounded); status in $rc.
reap_capture() {
	wait_exit "$cap" "$1" || fail "capture $cap still ran after $1 s (killed)"
	forget "$cap"
}

# frames FILE [FILTER]: how many frames of FILE tshark shows (matching
# the display filter FILTER).
frames() {
	if [ -n "${2:-}" ]; then
		timeout -k 5 60 tshark -r "$1" -Y "$2" 2>/dev/null | grep -c .
	else
		timeout -k 5 60 tshark -r "$1" 2>/dev/null | grep -c .
	fi
}

# magic FILE: the first 4 bytes of FILE in hex ("4d3cb2a1").
magic() { od -A n -t x1 -N 4 "$1" 2>/dev/null | tr -d ' \n'; }

# expect WANT PHRASE ARGS...: mint capture ARGS exits WANT with one line
# "mint: ..." containing PHRASE on stderr and nothing on stdout.
expect() {
	_want=$1 _phrase=$2
	shift 2
	timeout -k 5 30 "$MINT" --fabric "$FAB" capture "$@" >"$TMP/eout" 2>"$TMP/eerr"
	_rc=$?
	[ "$_rc" -eq "$_want" ] || fail "capture $*: exit $_rc, expected $_want ($(cat "$TMP/eerr"))"
	grep -q '^mint: ' "$TMP/eerr" && grep -qi -- "$_phrase" "$TMP/eerr" ||
		fail "capture $*: no 'mint: ...$_phrase...' line: $(cat "$TMP/eerr")"
	[ "$(grep -c '^mint: ' "$TMP/eerr")" -eq 1 ] ||
		fail "capture $*: not one error line: $(cat "$TMP/eerr")"
	[ -s "$TMP/eout" ] && fail "capture $*: wrote to stdout: $(cat "$TMP/eout")"
}

mint up --size 64M >/dev/null || die "mint up failed"
node_start 0 --vni
node_start 1 --vni
node_start 2
node_start 3 --no-netns
NS0=$(node_field 0 netns)
[ -n "$NS0" ] && [ "$NS0" != null ] || die "node 0 has no namespace"

# ---- usage ----
timeout -k 5 10 "$MINT" capture --help >"$TMP/out" 2>&1 || fail "capture --help: exit $?"
head -n 1 "$TMP/out" | grep -q '^usage: mint capture' || fail "capture --help: $(cat "$TMP/out")"

# ---- count: node 0 pings node 1, node 1's side is captured ----
capture_bg "$TMP/cap" 1 -w "$TMP/c.pcap" -c 10
wait_until 10 test -s "$TMP/c.pcap" || fail "the capture's file has no header after 10 s"
t0=$(date +%s)
timeout -k 5 30 ip netns exec "$NS0" ping -c 5 -i 0.2 -W 2 10.77.0.2 >"$TMP/ping" 2>&1 ||
	fail "ping from node 0 to 10.77.0.2: $(cat "$TMP/ping")"
reap_capture 20
[ "$rc" -eq 0 ] || fail "capture -c 10: exit $rc: $(cat "$TMP/cap.err")"
grep -qx "node 1: 10 packets captured to $TMP/c.pcap" "$TMP/cap" ||
	fail "capture -c 10 said: $(cat "$TMP/cap" "$TMP/cap.err")"
[ -s "$TMP/cap.err" ] && fail "capture -c 10 wrote to stderr: $(cat "$TMP/cap.err")"
timeout -k 5 60 tshark -r "$TMP/c.pcap" >"$TMP/c.txt" 2>"$TMP/tshark.err" ||
	fail "tshark cannot read the capture: $(cat "$TMP/tshark.err")"
sed 's/^/    /' "$TMP/c.txt"
n=$(grep -c . "$TMP/c.txt")
[ "$n" -eq 10 ] || fail "tshark shows $n frames, not 10"
[ "$(frames "$TMP/c.pcap" 'arp.opcode == 1 && arp.dst.proto_ipv4 == 10.77.0.2')" -ge 1 ] ||
	fail "no ARP request for 10.77.0.2 in the capture"
[ "$(frames "$TMP/c.pcap" 'arp.opcode == 2 && arp.src.proto_ipv4 == 10.77.0.2')" -ge 1 ] ||
	fail "no ARP reply from 10.77.0.2 in the capture"
req=$(frames "$TMP/c.pcap" 'icmp.type == 8 && ip.src == 10.77.0.1 && ip.dst == 10.77.0.2')
rep=$(frames "$TMP/c.pcap" 'icmp.type == 0 && ip.src == 10.77.0.2 && ip.dst == 10.77.0.1')
[ "$req" -ge 1 ] || fail "no ICMP echo request 10.77.0.1 -> 10.77.0.2 in the capture"
[ "$rep" -ge 1 ] || fail "no ICMP echo reply 10.77.0.2 -> 10.77.0.1 in the capture"
first=$(timeout -k 5 60 tshark -r "$TMP/c.pcap" -T fields -e frame.time_epoch 2>/dev/null | head -n 1)
first=${first%%.*}
[ -n "$first" ] && [ "$first" -ge $((t0 - 30)) ] && [ "$first" -le $(($(date +%s) + 5)) ] ||
	fail "first frame at epoch ${first:-?}, the capture ran at $t0"
case $(magic "$TMP/c.pcap") in
4d3cb2a1 | a1b23c4d) say "ok   nanosecond timestamps" ;;
d4c3b2a1 | a1b2c3d4) say "ok   microsecond timestamps (no nanoseconds here)" ;;
*) fail "not a pcap magic: $(magic "$TMP/c.pcap")" ;;
esac
say "ok   -c 10: $req echo requests, $rep replies, ARP, read by tshark"

# ---- -G: ends on time without traffic ----
start_ms=$(now_ms)
timeout -k 5 30 "$MINT" --fabric "$FAB" -j capture 1 -w "$TMP/g.pcap" -G 1 >"$TMP/g.json" 2>"$TMP/g.err"
rc=$?
ms=$(($(now_ms) - start_ms))
[ "$rc" -eq 0 ] || fail "capture -G 1: exit $rc: $(cat "$TMP/g.err")"
[ "$ms" -ge 950 ] && [ "$ms" -le 6000 ] || fail "capture -G 1 took $ms ms"
jq -e . "$TMP/g.json" >/dev/null 2>&1 || fail "capture -j: not JSON: $(cat "$TMP/g.json")"
[ "$(jq -r .stopped_by "$TMP/g.json")" = time ] || fail "capture -G 1: $(cat "$TMP/g.json")"
[ "$(jq -r .node "$TMP/g.json")" = 1 ] || fail "capture -j: node: $(cat "$TMP/g.json")"
gp=$(jq -r .packets "$TMP/g.json")
[ "$gp" -le 5 ] || fail "capture -G 1 with no traffic of ours: $gp packets"
[ "$(frames "$TMP/g.pcap")" -eq "$gp" ] || fail "tshark shows $(frames "$TMP/g.pcap") frames, -j said $gp"
case "$(jq -r .tstamp_precision "$TMP/g.json") $(magic "$TMP/g.pcap")" in
"ns 4d3cb2a1" | "ns a1b23c4d" | "us d4c3b2a1" | "us a1b2c3d4") ;;
*) fail "precision $(jq -r .tstamp_precision "$TMP/g.json") but magic $(magic "$TMP/g.pcap")" ;;
esac
say "ok   -G 1: $ms ms, $gp packets"

# ---- SIGINT ends a capture, with its summary ----
capture_bg "$TMP/int" 1 -w "$TMP/i.pcap"
wait_until 10 test -s "$TMP/i.pcap" || fail "the capture's file has no header after 10 s"
timeout -k 5 30 ip netns exec "$NS0" ping -c 2 -i 0.2 -W 2 10.77.0.2 >/dev/null 2>&1
kill -INT "$cap"
reap_capture 10
[ "$rc" -eq 0 ] || fail "capture after SIGINT: exit $rc: $(cat "$TMP/int.err")"
ip=$(sed -n "s|^node 1: \([0-9]*\) packets\{0,1\} captured to $TMP/i.pcap\$|\1|p" "$TMP/int")
[ -n "$ip" ] && [ "$ip" -ge 4 ] || fail "capture after SIGINT said: $(cat "$TMP/int" "$TMP/int.err")"
[ "$(frames "$TMP/i.pcap")" = "${ip:-x}" ] || fail "tshark shows $(frames "$TMP/i.pcap") frames, not $ip"
say "ok   SIGINT: $ip packets"

# ---- bad input: one error line, no file ----
expect 2 "no such node" 64 -w "$TMP/x.pcap"
expect 1 "node 5: not running" 5 -w "$TMP/x.pcap"
expect 1 "node 2: no VNI" 2 -w "$TMP/x.pcap"
expect 1 "node 3: no VNI" 3 -w "$TMP/x.pcap"
[ -e "$TMP/x.pcap" ] && fail "a failed capture created its file"
expect 1 "cannot open" 1 -w "$TMP/nodir/c.pcap"
expect 1 "cannot open" 1 -w "$TMP"
expect 2 "-w FILE is required" 1
expect 2 "count 0" 1 -w "$TMP/x.pcap" -c 0
expect 2 "not a time" 1 -w "$TMP/x.pcap" -G 0
expect 2 "not a time" 1 -w "$TMP/x.pcap" -G soon
expect 2 "snaplen 0" 1 -w "$TMP/x.pcap" --snaplen 0
expect 2 "unrecognized option" 1 -w "$TMP/x.pcap" --frob
[ -e "$TMP/x.pcap" ] && fail "a failed capture created its file"
# mint loads libpcap only for a capture: without it, a capture says so
# and the other commands work.
ldd "$MINT" | grep -q libpcap && fail "$MINT links libpcap (it should load it on first use)"
no_libpcap "$MINT" --fabric "$FAB" capture 1 -w "$TMP/x.pcap" >"$TMP/eout" 2>"$TMP/eerr"
rc=$?
[ "$rc" -eq 1 ] && [ "$(cat "$TMP/eerr")" = "mint: capture: libpcap is not installed (apt-get install libpcap0.8)" ] ||
	fail "capture without libpcap: exit $rc: $(cat "$TMP/eerr")"
[ -e "$TMP/x.pcap" ] && fail "a capture without libpcap created its file"
no_libpcap "$MINT" --fabric "$FAB" status >"$TMP/eout" 2>"$TMP/eerr" ||
	fail "status without libpcap: $(cat "$TMP/eerr")"
if command -v setpriv >/dev/null 2>&1; then
	setpriv --reuid=65534 --regid=65534 --clear-groups timeout -k 5 30 "$MINT" --fabric "$FAB" \
		capture 1 -w /tmp/never.pcap >"$TMP/eout" 2>"$TMP/eerr"
	rc=$?
	if [ "$rc" -eq 126 ] || [ "$rc" -eq 127 ]; then
		say "skip the not-root check: $MINT not executable by nobody"
	else
		[ "$rc" -eq 1 ] && grep -q '^mint: capture needs root' "$TMP/eerr" ||
			fail "capture as nobody: exit $rc: $(cat "$TMP/eerr")"
	fi
fi
say "ok   bad input"

# ---- the node stops during a capture ----
capture_bg "$TMP/stop" 1 -w "$TMP/s.pcap"
wait_until 10 test -s "$TMP/s.pcap" || fail "the capture's file has no header after 10 s"
mint node stop 1 >"$TMP/out" 2>&1 || fail "node stop 1: $(cat "$TMP/out")"
reap_capture 10
[ "$rc" -eq 1 ] || fail "capture of a node that stopped: exit $rc"
grep -q '^mint: node 1: capture stopped' "$TMP/stop.err" ||
	fail "capture of a node that stopped: $(cat "$TMP/stop.err")"
grep -q '^node 1: [0-9]* packets\{0,1\} captured to' "$TMP/stop" ||
	fail "capture of a node that stopped: no summary: $(cat "$TMP/stop")"
timeout -k 5 60 tshark -r "$TMP/s.pcap" >/dev/null 2>&1 || fail "tshark cannot read the stopped capture"
say "ok   node stopped during a capture"

t_finish
