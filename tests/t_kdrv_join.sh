#!/bin/sh
# SPDX-License-Identifier: MIT
# t_kdrv_join: mint_vni.ko and mint_nic.ko need no reload around their
# node's joins, in a QEMU guest node (the first architecture of
# $MINT_KDRV_ARCHES, default x86_64).
# 1. Guest node 1 boots with `mint guest start --load
#    mint_fabric,mint_vni,mint_nic`: its init loads the modules before the
#    agent joins.  Both load (no -ENOTCONN) saying they wait for the join;
#    once mint0 and nic0 are up, each driver says the node joined with the
#    epoch `mint status` shows, the port is up in `mint vni stats`,
#    process node 9 (--vni) pings the guest 5 of 5, and 200 packets
#    `mint inject` writes into nic0's ring are all consumed, delivered and
#    counted by the guest (none lost).
# 2. The guest is stopped and started again the same way: its agent
#    rejoins with the next epoch and, with no insmod by hand, node 9 (still
#    running) pings it 5 of 5 again (rings vni.9-1 and vni.1-9 of the first
#    boot taken up where they were) and the injection works again (ring
#    nic.1 of the first boot reset with the new epoch).
# 3. No oops, BUG or warning in either boot's console.
# 4. First, on a fabric whose VNI uses the shared buffer pool (mint up
#    --vni-buffers pool): insmod mint_vni.ko after the join fails, and the
#    kernel log says the pool is why.
#
# Needs root, jq, ping, QEMU for the architecture and its guest image
# (make guest-images).  Exit 0 pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
FAB=t-$$-kjoin
need_root "to boot guest nodes"
need jq
need ping iputils-ping
"$MINT" guest --help >/dev/null 2>&1 || skip "needs mint guest (QEMU guest nodes)"
ARCH=${MINT_KDRV_ARCHES:-x86_64}
ARCH=${ARCH%% *}
need "qemu-system-$ARCH" "qemu-system-$ARCH (Debian: qemu-system-$([ "$ARCH" = x86_64 ] && echo x86 || echo arm))"
[ -e "$BUILD/guest/$ARCH/initrd.cpio.gz" ] || skip "needs the $ARCH guest image (make guest-images)"
t_begin
cleanup_more() { delete_our_namespaces; }

# loaded_early N MODULE DEV: MODULE is loaded, and its device DEV said at
# load that it waits for the join (N: which boot, for the messages).
loaded_early() {
	gexec 1 "grep -q '^$2 ' /proc/modules" || die "boot $1: $2.ko is not loaded: $(gexec 1 "dmesg | grep -i $2")"
	gexec 1 "dmesg | grep -q '$3: .*waiting for the node to join'" ||
		fail "boot $1: $2.ko did not wait for the join: $(gexec 1 'dmesg | grep -i mint')"
}

# joined N DEV: DEV's driver says node 1 joined with the epoch `mint
# status` shows ($epoch).
joined() {
	wait_until 10 gexec 1 "dmesg | grep -q '$2: node 1 joined (epoch $epoch)'" ||
		fail "boot $1: $2 not brought up with epoch $epoch: $(gexec 1 "dmesg | grep $2")"
}

# boot N: guest 1 with mint_vni.ko and mint_nic.ko loaded by its init,
# mint0 up with 10.77.0.2, nic0 up; checks 1 (N: which boot).
boot() {
	mint guest start 1 --arch "$ARCH" --load mint_fabric,mint_vni,mint_nic >"$TMP/start" 2>&1 ||
		die "boot $1: guest start: $(cat "$TMP/start")"
	loaded_early "$1" mint_vni mint0
	loaded_early "$1" mint_nic nic0
	gbg 1 vniaddr "ip link set mint0 up; ip addr add 10.77.0.2/24 dev mint0; ip link set nic0 up" ||
		die "boot $1: mint0 and nic0 not configured: $(gexec 1 'cat /tmp/vniaddr.out')"
	epoch=$(node_field 1 epoch)
	joined "$1" mint0
	joined "$1" nic0
	up=$(mint -j vni stats | jq -r '.ports[] | select(.node == 1) | .vni.up')
	[ "$up" = true ] || fail "boot $1: mint vni stats shows port 1 up: $up"
}

# pings N: node 9 pings the guest 5 of 5.
pings() {
	wait_until 10 in_ns 9 3 ping -c 1 -W 1 10.77.0.2 >/dev/null ||
		fail "boot $1: node 9 never reached the guest"
	in_ns 9 20 ping -c 5 -i 0.2 10.77.0.2 >"$TMP/ping" 2>&1 && has_line "$TMP/ping" ' 5 received' ||
		fail "boot $1: ping node 9 -> guest: $(tail -2 "$TMP/ping")"
	no_oops 1
}

# injects N: 200 packets into nic0's ring, each written (or an overrun the
# device counts), consumed, delivered and counted by the guest; none lost.
injects() {
	gexec 1 'test -e /sys/kernel/debug/mint_nic/stats || mount -t debugfs none /sys/kernel/debug' ||
		die "boot $1: no debugfs in the guest"
	wait_until 10 gexec 1 "ip link show nic0 | grep -q ',UP,LOWER_UP'" ||
		fail "boot $1: nic0 does not come up with its carrier: $(gexec 1 'ip link show nic0')"
	g0=$(gstat 1 rx_packets)
	inject 1 --count 200 --interval 1ms || fail "boot $1: inject: $(cat "$TMP/inj.err")"
	sent=$(J injected) over=$(J overruns) handled=$(J handled) deliv=$(J delivered) lost=$(J lost)
	say "boot $1: 200 packets: $sent written, $over overruns, $handled consumed, $deliv delivered, $lost lost"
	[ $((sent + over)) -eq 200 ] && [ "$sent" -gt 0 ] || fail "boot $1: $sent written + $over overruns is not 200"
	[ "$handled" -eq "$sent" ] && [ "$deliv" -eq "$sent" ] && [ "$lost" -eq 0 ] ||
		fail "boot $1: written $sent, consumed $handled, delivered $deliv, lost $lost"
	g1=$(gstat 1 rx_packets)
	[ $((g1 - g0)) -eq "$sent" ] || fail "boot $1: the guest counted $((g1 - g0)) packets, $sent written"
}

# 4. The pool configuration: refused, and said so.
mint up --size 64M --vni-buffers pool >/dev/null || die "mint up --vni-buffers pool failed"
mint guest start 1 --arch "$ARCH" >"$TMP/start" 2>&1 || die "pool: guest start: $(cat "$TMP/start")"
gexec 1 'insmod /lib/mint/mint_fabric.ko; insmod /lib/mint/mint_vni.ko' >"$TMP/insmod" 2>&1 &&
	fail "pool: insmod mint_vni.ko succeeded"
gexec 1 "dmesg | grep -q 'mint_vni: node 1: .*shared buffer pool'" ||
	fail "pool: the kernel log does not say why: $(gexec 1 'dmesg | grep mint_vni')"
no_oops 1
mint down >/dev/null 2>&1 || fail "mint down of the pool fabric failed"

mint up --size 64M >/dev/null || die "mint up failed"
node_start 9 --vni --mode poll
boot 1
e1=$epoch
pings 1
injects 1
mint guest stop 1 >/dev/null 2>&1 || fail "guest stop 1 failed"
boot 2
[ "$epoch" -gt "$e1" ] || fail "the second boot joined with epoch $epoch, the first with $e1"
pings 2
injects 2
t_finish
