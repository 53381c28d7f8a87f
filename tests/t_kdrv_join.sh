#!/bin/sh
# SPDX-License-Identifier: MIT
# t_kdrv_join: mint_vni.ko needs no reload around its node's joins, in a
# QEMU guest node (the first architecture of $MINT_KDRV_ARCHES, default
# x86_64).
# 1. Guest node 1 boots with `mint guest start --load mint_fabric,mint_vni`:
#    its init loads the module before the agent joins.  It loads (no
#    -ENOTCONN) saying it waits for the join; once mint0 is up, the
#    driver says the node joined with the epoch `mint status` shows, the
#    port is up in `mint vni stats`, and process node 9 (--vni) pings the
#    guest 5 of 5.
# 2. The guest is stopped and started again the same way: its agent
#    rejoins with the next epoch and, with no insmod by hand, node 9 (still
#    running) pings it 5 of 5 again (rings vni.9-1 and vni.1-9 of the first
#    boot taken up where they were).
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

# boot N: guest 1 with mint_vni.ko loaded by its init, mint0 up with
# 10.77.0.2; checks 1 (N: which boot, for the messages).
boot() {
	mint guest start 1 --arch "$ARCH" --load mint_fabric,mint_vni >"$TMP/start" 2>&1 ||
		die "boot $1: guest start: $(cat "$TMP/start")"
	gexec 1 "grep -q '^mint_vni ' /proc/modules" || die "boot $1: mint_vni.ko is not loaded: $(gexec 1 'dmesg | grep -i mint_vni')"
	gexec 1 "dmesg | grep -q 'waiting for the node to join'" ||
		fail "boot $1: mint_vni.ko did not wait for the join: $(gexec 1 'dmesg | grep -i mint')"
	gbg 1 vniaddr "ip link set mint0 up; ip addr add 10.77.0.2/24 dev mint0" ||
		die "boot $1: mint0 not configured: $(gexec 1 'cat /tmp/vniaddr.out')"
	epoch=$(node_field 1 epoch)
	wait_until 10 gexec 1 "dmesg | grep -q 'node 1 joined (epoch $epoch)'" ||
		fail "boot $1: no port brought up with epoch $epoch: $(gexec 1 'dmesg | grep mint0')"
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
mint guest stop 1 >/dev/null 2>&1 || fail "guest stop 1 failed"
boot 2
[ "$epoch" -gt "$e1" ] || fail "the second boot joined with epoch $epoch, the first with $e1"
pings 2
t_finish
