#!/bin/sh
# SPDX-License-Identifier: MIT
# t_dev: the device table from the command line.
#
# 1. Two nodes with the VNI: `mint dev list -j` shows their ports vni.1 and
#    vni.2 as devices of type vni owned by their nodes; a ping between
#    them raises vni.2 through the table, and once quiet every raise was
#    handled (pending 0).
# 2. A host veth end with 10.78.0.1/24 (its peer, 10.78.0.2/24, in a
#    namespace of this test) is given to node 1 (`mint dev attach`): it
#    is in node 1's namespace with its address, the device is attached,
#    link up.  A ping from the peer runs while the end is moved to node 2
#    (`mint dev move`): it answers from node 2's namespace and the ping
#    goes on (replies after the move).  Node 2's agent logged the device
#    arriving, node 1's it leaving.
# 3. Bad input, each a clear error and the table unchanged: an unknown
#    device, an unknown node (exit 2), a node not running, a VNI port,
#    the node that owns it already.  Node 2's agent follows the link
#    through netlink: the peer end down, the table says link down.
# 4. Node 2 is killed: the device is orphaned (masked), raises to it stay
#    pending; it moves to node 1, which gets them (pending 0), and the
#    ping through it works again; a move to the dead node 2 is refused.
# The s390x build of mint (big-endian, under qemu) sees the same table and
#    its raises reach node 1 (when make cross built it).
# 5. `mint dev detach`: the veth end is back in the host's namespace with
#    its address; the device is detached.
# 6. Hardware interrupts (which no veth has), on this machine's own PCI
#    network interfaces: the tool finds the same interrupts as the
#    /proc/interrupts lines that name the interface's PCI address (from
#    its sysfs device path) or the interface; pointed at all online cores
#    (what they have here), every one reads that list back; a core the
#    machine lacks is refused with an error and changes nothing; each
#    interrupt's affinity is restored at exit.
#
# Needs root, ip (iproute2), jq, ping.  Exit 0 pass, 1 fail, 77 skip.
set -u

. tests/lib.sh
FAB=t-$$-dev
IF=mdv$$
PEER_NS=mint-$FAB-peer

SAVED_AFFINITY=""
cleanup_more() {
	kill_ns_jobs
	ip link del "$IF" 2>/dev/null
	delete_our_namespaces
	for saved in $SAVED_AFFINITY; do
		echo "${saved#*:}" >"/proc/irq/${saved%%:*}/smp_affinity_list"
	done
}
t_begin

need_vni "(network namespaces, veth)"

for sub in "" list move attach detach raise; do
	mint dev $sub --help >"$TMP/out" 2>"$TMP/err" && head -n 1 "$TMP/out" | grep -q '^usage: mint dev' &&
		[ ! -s "$TMP/err" ] || fail "mint dev $sub --help: $(cat "$TMP/err")"
done

# dev_field NAME FIELD: that field of device NAME in `mint dev list -j`.
dev_field() {
	mint dev list -j 2>/dev/null | jq -r --arg n "$1" ".devices[] | select(.name == \$n) | .$2"
}
# table_shape: every device's routing, without counters.
table_shape() { mint dev list -j | jq -c '[.devices[] | [.id, .name, .owner, .state, .vector, .masked]]'; }
# in_node_ns ID: the veth end is in node ID's namespace.
in_node_ns() { in_ns "$1" 5 ip -o -4 addr show dev "$IF" 2>/dev/null | grep -q 10.78.0.1/24; }
dead_pid() { ! running "$1"; }
# link_up: the table says the veth end's link is up.
link_up() { [ "$(dev_field "$IF" link)" = up ]; }
# quiet NAME: device NAME has no pending interrupt.
quiet() { [ "$(dev_field "$1" pending)" = 0 ]; }
# expect_err STATUS PATTERN ARGS...: mint ARGS exits STATUS, saying PATTERN.
expect_err() {
	_st=$1 _pat=$2
	shift 2
	mint "$@" >"$TMP/out" 2>&1
	_rc=$?
	[ "$_rc" -eq "$_st" ] && grep -q "$_pat" "$TMP/out" ||
		fail "mint $*: exit $_rc, '$(cat "$TMP/out")' (wanted exit $_st and '$_pat')"
}

mint up >/dev/null || die "mint up failed"
vni_start 1
vni_start 2
wait_until 10 vni_ready 1 || fail "node 1's mint0 is not ready"

# ---- 1. the VNI ports are devices, and their interrupts go through the table
[ "$(dev_field vni.1 type) $(dev_field vni.1 owner) $(dev_field vni.2 owner)" = "vni 1 2" ] ||
	fail "VNI ports as devices: $(mint dev list)"
ping_check 1 10.77.0.3 5 || fail "VNI ping node 1 -> 2: $(ping_summary)"
raised=$(dev_field vni.2 raised)
gt0 "$raised" || fail "vni.2 was never raised through the table: $(mint dev list)"
wait_until 5 quiet vni.2 || fail "vni.2 keeps pending interrupts: $(mint dev list)"
say "vni.2: $raised receive interrupts raised through the table, all handled"

# ---- 2. a host veth end given to node 1, moved to node 2 under a ping
ip netns add "$PEER_NS" || die "cannot create namespace $PEER_NS"
ip link add "$IF" type veth peer name "${IF}p" || die "cannot create veth $IF"
ip link set "${IF}p" netns "$PEER_NS"
ip netns exec "$PEER_NS" ip addr add 10.78.0.2/24 dev "${IF}p"
ip netns exec "$PEER_NS" ip link set "${IF}p" up
ip addr add 10.78.0.1/24 dev "$IF"
ip link set "$IF" up
mint dev attach "$IF" --to 1 >"$TMP/out" 2>&1 || die "dev attach: $(cat "$TMP/out")"
in_node_ns 1 || fail "$IF is not in node 1's namespace with its address"
ip link show "$IF" >/dev/null 2>&1 && fail "$IF is still in the host's namespace"
wait_until 5 link_up || fail "$IF: link not up in the table: $(mint dev list)"
[ "$(dev_field "$IF" state) $(dev_field "$IF" owner) $(dev_field "$IF" type)" = "attached 1 hostif" ] ||
	fail "$IF after attach: $(mint dev list)"

timeout -k 5 30 ip netns exec "$PEER_NS" ping -n -c 40 -i 0.1 -W 1 10.78.0.1 >"$TMP/ping" 2>&1 &
ping_pid=$!
PIDS="$PIDS $ping_pid"
sleep 1
mint dev move "$IF" --to 2 >"$TMP/move" 2>&1 || fail "dev move: $(cat "$TMP/move")"
say "$(cat "$TMP/move")"
wait "$ping_pid"
forget "$ping_pid"
in_node_ns 2 || fail "$IF is not in node 2's namespace with its address"
[ "$(dev_field "$IF" owner) $(dev_field "$IF" state)" = "2 attached" ] ||
	fail "$IF after move: $(mint dev list)"
last=$(grep -o 'icmp_seq=[0-9]*' "$TMP/ping" | tail -1 | cut -d= -f2)
[ "${last:-0}" -ge 35 ] || fail "the ping did not resume after the move: $(tail -3 "$TMP/ping")"
say "ping through the move: $(grep 'packet loss' "$TMP/ping")"
wait_line "/dev/shm/mint-$FAB.d/node2.log" "device $IF .*attached to this node" 3 ||
	fail "node 2's agent did not log $IF arriving"
wait_line "/dev/shm/mint-$FAB.d/node1.log" "device $IF .*detached from this node" 3 ||
	fail "node 1's agent did not log $IF leaving"

# The owner follows the link through netlink: the peer end goes down, then up.
link_down() { ! link_up; }
ip netns exec "$PEER_NS" ip link set "${IF}p" down
wait_until 5 link_down || fail "$IF: the table did not see its link go down: $(mint dev list)"
wait_line "/dev/shm/mint-$FAB.d/node2.log" "device $IF .*link down" 3 ||
	fail "node 2's agent did not log $IF's link going down"
ip netns exec "$PEER_NS" ip link set "${IF}p" up
wait_until 5 link_up || fail "$IF: the table did not see its link come back: $(mint dev list)"

# ---- 3. bad input: clear errors, the table unchanged
before=$(table_shape)
expect_err 1 "no such device" dev move nosuch --to 2
expect_err 2 "no such node" dev move "$IF" --to 99
expect_err 1 "node 7: not running" dev move "$IF" --to 7
expect_err 1 "stays with its node" dev move vni.1 --to 2
expect_err 1 "already on node 2" dev move "$IF" --to 2
expect_err 1 "not in the host" dev attach nosuchif0 --to 1
expect_err 1 "stays with its node" dev detach vni.1
expect_err 2 "^mint: usage: mint dev move DEV --to ID$" dev move "$IF"
expect_err 2 "^mint: dev frob: unknown command" dev frob
expect_err 2 "^mint: dev: unknown command" dev
for _cmd in "dev move $IF" "dev frob" "dev attach"; do
	# shellcheck disable=SC2086 # split on purpose: no spaces inside
	mint $_cmd >/dev/null 2>"$TMP/err"
	[ "$(wc -l <"$TMP/err")" = 1 ] || fail "mint $_cmd: not one error line: $(cat "$TMP/err")"
done
[ "$(table_shape)" = "$before" ] || fail "the table changed: $before -> $(table_shape)"

# ---- 4. the owner dies: orphaned, pending kept, moved to a live node
pid2=$(node_field 2 pid)
kill -9 "$pid2"
wait_until 5 dead_pid "$pid2"
[ "$(dev_field "$IF" state) $(dev_field "$IF" masked)" = "orphaned true" ] ||
	fail "$IF after its owner died: $(mint dev list)"
mint dev raise "$IF" --count 3 >/dev/null || fail "dev raise failed"
[ "$(dev_field "$IF" pending)" -ge 3 ] || fail "raises to an orphan not kept: $(mint dev list)"
mint dev move "$IF" --to 1 >"$TMP/out" 2>&1 || fail "move of the orphan: $(cat "$TMP/out")"
[ "$(dev_field "$IF" owner) $(dev_field "$IF" state)" = "1 attached" ] ||
	fail "$IF after the rescue: $(mint dev list)"
expect_err 1 "node 2: not running" dev move "$IF" --to 2
wait_until 5 quiet "$IF" || fail "node 1 did not take the orphan's interrupts: $(mint dev list)"
in_node_ns 1 || fail "$IF did not follow to node 1's namespace"
timeout -k 5 20 ip netns exec "$PEER_NS" ping -n -c 3 -i 0.2 -W 2 10.78.0.1 >"$TMP/ping" 2>&1 ||
	fail "no ping through $IF on node 1: $(tail -2 "$TMP/ping")"

# ---- big-endian s390x build (make cross) reads the same table and raises through it
S390X=build/s390x/mint
if [ -x "$S390X" ] && command -v qemu-s390x-static >/dev/null 2>&1; then
	cross=$(timeout -k 5 60 qemu-s390x-static "$S390X" --fabric "$FAB" dev list -j |
		jq -c '[.devices[] | [.id, .name, .owner, .state, .vector, .masked]]')
	[ "$cross" = "$(table_shape)" ] || fail "s390x sees another table: $cross"
	r0=$(dev_field "$IF" raised)
	timeout -k 5 60 qemu-s390x-static "$S390X" --fabric "$FAB" dev raise "$IF" --count 2 >/dev/null ||
		fail "s390x dev raise failed"
	[ "$(dev_field "$IF" raised)" -eq $((r0 + 2)) ] || fail "s390x raises not counted: $(mint dev list)"
	wait_until 5 quiet "$IF" || fail "s390x raises not handled by node 1: $(mint dev list)"
else
	say "no s390x build or qemu-s390x-static (make cross): cross-endian check left out"
fi

# ---- 5. detach: back to the host
mint dev detach "$IF" >"$TMP/out" 2>&1 || fail "dev detach: $(cat "$TMP/out")"
ip -o -4 addr show dev "$IF" 2>/dev/null | grep -q 10.78.0.1/24 ||
	fail "$IF is not back in the host's namespace with its address"
[ "$(dev_field "$IF" state) $(dev_field "$IF" owner)" = "detached null" ] ||
	fail "$IF after detach: $(mint dev list)"
expect_err 1 "already detached" dev detach "$IF"

# ---- 6. hardware interrupts of the machine's PCI network interfaces
HOSTIF=$BUILD/tests/helper_hostif
# expected_irqs IFNAME ADDR: the /proc/interrupts lines whose chip names
# PCI address ADDR (PCI-MSI-ADDR, PCI-MSIX-ADDR) or whose name is IFNAME
# or IFNAME-<queue>, as one sorted line.
expected_irqs() {
	awk -v n="$1" -v a="$2" '$0 ~ ("-" a " ") || $NF == n || index($NF, n "-") == 1 {
		sub(":", "", $1); print $1 }' /proc/interrupts | sort -n | tr '\n' ' ' | sed 's/ $//'
}
online=$(cat /sys/devices/system/cpu/online)
# the online cores, one by one ("0-2,5" -> 0 1 2 5)
cores=$(echo "$online" | tr ',' '\n' | awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }' | tr '\n' ' ')
pci_ifs=0
for dev in /sys/class/net/*; do
	n=${dev##*/}
	addr=$(readlink -f "$dev/device" 2>/dev/null |
		grep -o '[0-9a-f]\{4\}:[0-9a-f]\{2\}:[0-9a-f]\{2\}\.[0-7]' | tail -n 1)
	[ -n "$addr" ] || continue
	pci_ifs=$((pci_ifs + 1))
	got=$("$HOSTIF" irqs "$n") || fail "interrupts of $n: $got"
	want=$(expected_irqs "$n" "$addr")
	[ -n "$want" ] && [ "$got" = "$want" ] ||
		fail "interrupts of $n (PCI $addr): the tool found [$got], /proc/interrupts has [$want]"
	for irq in $got; do # once each (two interfaces may share one)
		case " $SAVED_AFFINITY" in *" $irq:"*) continue ;; esac
		SAVED_AFFINITY="$SAVED_AFFINITY $irq:$(cat "/proc/irq/$irq/smp_affinity_list")"
	done
	pointed=$("$HOSTIF" point "$n" $cores) || fail "pointing the interrupts of $n: $pointed"
	[ "$pointed" = "$(echo "$got" | wc -w)" ] || fail "$n: $pointed of [$got] pointed"
	if [ "$(nproc --all)" -lt 64 ] && "$HOSTIF" point "$n" 63 >"$TMP/out" 2>&1; then
		fail "$n: pointing at core 63, which this machine lacks, did not fail"
	fi
	for irq in $got; do
		[ "$(cat "/proc/irq/$irq/smp_affinity_list")" = "$online" ] ||
			fail "$n: interrupt $irq not pointed at $online (or changed by a refused list)"
	done
	say "$n (PCI $addr): interrupts $got found and pointed at cores $online"
done
[ "$pci_ifs" -gt 0 ] || say "no PCI network interface on this machine: hardware interrupts left out"
[ -z "$("$HOSTIF" irqs lo)" ] || fail "lo has no hardware interrupts, the tool found some"
[ -z "$("$HOSTIF" irqs "$IF")" ] || fail "a veth has no hardware interrupts, the tool found some"

t_finish
