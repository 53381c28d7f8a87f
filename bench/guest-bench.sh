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
#    (one each way); the ratio printed is p50(mint) / (2 x p50(anchor)).
# 3. For information (TCG: no target): guest to guest, and the VNI ping
#    from node 0's namespace to the guest's TAP.
# Without /dev/kvm the guest runs under TCG: every figure is an
# emulator's.  Needs root, QEMU and the guest images (make guest-images);
# prints "skipped" otherwise.  Exit 0 when measured, 1 on a failure.
set -eu

BUILD=${MINT_BUILD:-build}
MINT=$(realpath "$BUILD/mint")
FAB=guest-bench-$$
N=300
PROG=guest-bench

case ${1:-} in
--quick) N=50 ;;
-h | --help)
	sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
"") ;;
*)
	echo "usage: bench/guest-bench.sh [--quick] [--help]" >&2
	exit 2
	;;
esac
for need in qemu-system-x86_64 jq; do
	command -v $need >/dev/null || { echo "$PROG: skipped: needs $need"; exit 0; }
done
[ "$(id -u)" -eq 0 ] || { echo "$PROG: skipped: needs root"; exit 0; }
[ -r "$BUILD/guest/x86_64/kernel" ] || { echo "$PROG: skipped: no guest images (make guest-images)"; exit 0; }

m() { timeout -k 5 300 "$MINT" --fabric "$FAB" "$@"; }
cleanup() { m down >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

m up --size 32M >/dev/null
m node start 0 --vni --cores 0 >/dev/null
m guest start 1 --arch x86_64 --vni >/dev/null
m guest start 2 --arch x86_64 >/dev/null
cd /

# p50 of `mint ping` ARGS: its per-reply times, in us.
ping_p50() {
	m ping "$@" -c "$N" -i 0 -W 5 | awk '/time=/ { sub("time=", "", $(NF-1)); print $(NF-1) }' |
		sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "%.1f", a[int((NR + 1) / 2)]; else print "nan" }'
}

raw=$(m exec 1 -- /bin/mint guest rawping "$N")
raw50=$(echo "$raw" | sed -n 's/.*p50 \([0-9.]*\) us.*/\1/p')
p01=$(ping_p50 1 --from 0)
p12=$(ping_p50 2 --from 1)
vni=$(ip netns exec "mint-$FAB-0" ping -c "$((N / 10 + 5))" -i 0.05 -q 10.77.0.2 | sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p')

echo "guest doorbells (x86_64 guests, $(test -w /dev/kvm && echo KVM || echo TCG), $N rounds, p50):"
printf '  %-52s %10s us\n' "anchor: rawping in the guest (BAR0 -> MSI-X)" "$raw50"
printf '  %-52s %10s us\n' "mint ping process node 0 -> guest 1 -> node 0" "$p01"
printf '  %-52s %10s us\n' "mint ping guest 1 -> guest 2 -> guest 1" "$p12"
printf '  %-52s %10s ms (avg)\n' "VNI ping node 0 -> guest 1 (TAP in its kernel)" "${vni:-nan}"
awk -v m="$p01" -v r="$raw50" 'BEGIN { if (r > 0) printf "  ratio mint / (2 x anchor): %.2fx (target <= 1.2x)\n", m / (2 * r) }'
