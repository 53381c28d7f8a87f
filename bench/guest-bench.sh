#!/bin/sh
# SPDX-License-Identifier: MIT
# guest-bench: doorbells between a process node and a QEMU guest node
# against the bare ivshmem path, same run (see docs/benchmarks.md).
#
#   bench/guest-bench.sh [--quick] [--help]
#
# 1. Anchor: `mint guest rawping` inside the guest: its own vector 0 rung
#    through the BAR0 doorbell (QEMU -> eventfd -> MSI-X -> the driver ->
#    user space), the ivshmem path with nothing of mint's in it.
# 2. mint: `mint ping 1 --from 0`, node 0 (a process) to guest node 1 and
#    back: a channel record and a doorbell each way, the guest's through
#    its wake queue and the server, the host's through the server's bell
#    watcher and an eventfd.  Target: at most 1.2x two anchor crossings
#    (one each way): per round p50(mint) / (2 x p50(anchor)), rounds
#    alternating, judged as every other verdict row.
# 3. For information (TCG: no target): guest to guest, and the VNI ping
#    from node 0's namespace to the guest's TAP.
# 4. The guest kernel's VNI driver: iperf3 TCP for 5 s from node 0's
#    namespace to iperf3 -s in guest 2 through mint_vni.ko, against the
#    same to guest 1 (the same image) through the TAP its agent drives
#    (--vni), in every round.  Target: mint_vni.ko at least as fast (the
#    issue: faster), per round kernel / TAP received Mbit/s.
# Without /dev/kvm the guest runs under TCG: every figure is an
# emulator's.  Needs root, QEMU and the guest images (make guest-images);
# prints "skipped" otherwise.  Exit 0 when measured, 1 on a failure.
set -eu

BUILD=$(realpath "${MINT_BUILD:-build}")
MINT=$BUILD/mint
FAB=guest-bench-$$
N=300
PROG=guest-bench

case ${1:-} in
--quick) N=50 ;;
-h | --help)
	sed -n '3,27p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
"") ;;
*)
	echo "usage: bench/guest-bench.sh [--quick] [--help]" >&2
	exit 2
	;;
esac
for need in qemu-system-x86_64 jq iperf3; do
	command -v $need >/dev/null || { echo "$PROG: skipped: needs $need"; exit 0; }
done
[ "$(id -u)" -eq 0 ] || { echo "$PROG: skipped: needs root"; exit 0; }
[ -r "$BUILD/guest/x86_64/kernel" ] || { echo "$PROG: skipped: no guest images (make guest-images)"; exit 0; }

. "$(dirname "$0")/verdict/verdict.sh"
m() { timeout -k 5 300 "$MINT" --fabric "$FAB" "$@"; }
cleanup() {
	m down >/dev/null 2>&1 || true
	rm -f "$VERDICT_FILE"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

m up --size 32M >/dev/null
m node start 0 --vni --cores 0 >/dev/null
m guest start 1 --arch x86_64 --vni >/dev/null
m guest start 2 --arch x86_64 >/dev/null
cd /

# gsh ID COMMAND: a short COMMAND in guest ID's shell.  The guest's exec
# server cannot see our pid and hangs up (129) a command still running
# at its first check (tests/t_kdrv.sh): so COMMAND is short and tried
# again then.
gsh() {
	for _try in 1 2 3 4 5 6 7 8; do
		_rc=0
		m exec "$1" --cwd / -- sh -c "$2" || _rc=$?
		[ "$_rc" -eq 129 ] || return "$_rc"
		sleep 0.3
	done
	return "$_rc"
}
gsh 2 'insmod /lib/mint/mint_fabric.ko; insmod /lib/mint/mint_vni.ko; ip link set mint0 up;
	ip addr add 10.77.0.3/24 dev mint0'
for _try in $(seq 30); do # until node 0 has its ring to guest 2
	ip netns exec "mint-$FAB-0" ping -c 1 -W 1 10.77.0.3 >/dev/null 2>&1 && break
done

# tcp_mbit ID ADDR: iperf3 TCP from node 0 to guest ID at ADDR: the
# receiver's Mbit/s.
tcp_mbit() {
	gsh "$1" 'iperf3 -s -1 -D'
	for _try in $(seq 20); do # until it listens
		gsh "$1" "netstat -ltn | grep -q ':5201 '" && break
		sleep 0.5
	done
	_json=$(timeout -k 5 60 ip netns exec "mint-$FAB-0" iperf3 -c "$2" -t 5 -J) ||
		{ echo "$PROG: iperf3 to guest $1 failed" >&2; return 1; }
	printf '%s\n' "$_json" | jq -r '.end.sum_received.bits_per_second / 1e6 | floor'
}

# p50 of `mint ping` ARGS: its per-reply times, in us.
ping_p50() {
	m ping "$@" -c "$N" -i 0 -W 5 | awk '/time=/ { sub("time=", "", $(NF-1)); print $(NF-1) }' |
		sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "%.1f", a[int((NR + 1) / 2)]; else print "nan" }'
}

# Rounds alternate anchor and mint, so that the load of the moment weighs
# on both; each round gives one ratio (bench/verdict/verdict.sh).
ROUNDS=5
[ "$N" -ge 300 ] || ROUNDS=3
anchors="" mints="" g2g="" raws="" taps="" kvnis=""
for r in $(seq "$ROUNDS"); do
	raw=$(m exec 1 -- /bin/mint guest rawping "$N" | sed -n 's/.*p50 \([0-9.]*\) us.*/\1/p')
	p01=$(ping_p50 1 --from 0)
	p12=$(ping_p50 2 --from 1)
	raws="$raws $raw"
	anchors="$anchors $(awk -v r="$raw" 'BEGIN { printf "%.1f", 2 * r }')"
	mints="$mints $p01"
	g2g="$g2g $p12"
	echo "  round $r: rawping p50 $raw us, node 0 -> guest 1 -> node 0 $p01 us, guest 1 -> guest 2 -> guest 1 $p12 us"
	tap=$(tcp_mbit 1 10.77.0.2)
	kvni=$(tcp_mbit 2 10.77.0.3)
	taps="$taps $tap" kvnis="$kvnis $kvni"
	echo "  round $r: TCP node 0 -> guest 1 (TAP) $tap Mbit/s, node 0 -> guest 2 (mint_vni.ko) $kvni Mbit/s"
done
# What the kernel driver's port did for its rounds: frames, polls, bells.
kst() { m -j vni stats | jq -r ".ports[] | select(.node == 2) | .vni.$1"; }
echo "  mint_vni.ko's port: $(kst rx_packets) frames received in $(kst rx_polls) polls, $(kst tx_packets) sent with $(kst tx_irqs) doorbells"

vni=$(ip netns exec "mint-$FAB-0" ping -c "$((N / 10 + 5))" -i 0.05 -q 10.77.0.2 | sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p')

echo "guest doorbells (x86_64 guests, $(test -w /dev/kvm && echo KVM || echo TCG), $ROUNDS rounds of $N, p50):"
echo "  anchor: rawping in the guest (BAR0 -> MSI-X), one crossing:$raws us"
echo "  VNI ping node 0 -> guest 1 (TAP in its kernel): ${vni:-nan} ms (avg)"
# A round trip crosses the boundary twice: the anchor is two rawpings.
verdict_row "guest-doorbell-rtt" us "<=" 1.2 "$anchors" "$mints"
verdict_row "guest-to-guest-rtt" us - 0 "$anchors" "$g2g"
verdict_row "guest-kvni-tcp" Mbit/s ">=" 1.0 "$taps" "$kvnis"
verdict_end
