#!/bin/sh
# make demo: a two-node fabric on cores 0 and 1, messages and doorbells
# between the nodes, the status and interrupt tables, a short interrupt
# injection into a third node's emulated NIC, a QEMU guest joining as a
# node of its own kernel, injection into that guest kernel's NIC driver
# mint_nic.ko (and its evaluation against the guest's e1000), then
# teardown.  Everything it starts goes at exit, even on failure: mint down
# stops the nodes, the guest (its TAP goes with its QEMU) and the server.
set -eu
BUILD=${MINT_BUILD:-build}
# A fabric and a veth pair of this run's own: others may run the demo too.
MINT="$(cd "$BUILD" && pwd)/mint --fabric demo-$$" # absolute: the guest part runs from /
VA=mdemo$$a VB=mdemo$$b
server=""
cleanup() {
	set +e # every step, whatever failed before it
	[ -n "$server" ] && kill "$server" 2>/dev/null
	ip link del "$VA" 2>/dev/null
	$MINT down >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM
step() { printf '\n\033[1m$ mint %s\033[0m\n' "$*"; $MINT "$@"; }

if [ "$(nproc)" -ge 2 ]; then CORE1=1; else CORE1=0; fi
step up --size 64M
step node start 0 --cores 0 --vni
step node start 1 --cores $CORE1 --vni
step status
printf "\n%s\n" "# node 0's agent sends messages to node 1's echo service through a fabric"
echo "# channel; each message rings node 1's doorbell, each reply rings node 0's."
step ping 1 --from 0 -c 5 -i 0.1
step ping 0 --from 1 -c 5 -i 0.1
printf "\n%s\n" "# raw doorbells (IPIs): vector 42 on node 1, vector 43 on node 0"
step ipi 1 42 --count 3
step ipi 0 43
sleep 0.2
step irq

printf "\n%s\n" "# the virtual NIC: unmodified ping and iperf3 between the nodes' namespaces"
ns0=$($MINT status -j | jq -r '.nodes[0].netns')
ns1=$($MINT status -j | jq -r '.nodes[1].netns')
run() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
run ip netns exec "$ns0" ping -c 3 -i 0.2 10.77.0.2
ip netns exec "$ns1" timeout 20 iperf3 -s -1 >/dev/null 2>&1 &
server=$!
sleep 0.5
run ip netns exec "$ns0" timeout 20 iperf3 -c 10.77.0.2 -t 2
wait $server 2>/dev/null || true
printf "\n%s\n" "# interrupt injection: node 2 gets an emulated NIC (an e1000-style RX ring in the"
echo "# fabric); mint inject writes ICMP echo requests into it every 200 us and raises"
echo "# its interrupt; its driver hands them to its kernel through nic0, which replies."
step node start 2 --cores 0 --nic
step inject 2 --type icmp --count 20 --interval 200us --latency
ns2=$($MINT status -j | jq -r '.nodes[] | select(.id == 2) | .netns')
run ip netns exec "$ns2" sh -c 'grep "^Icmp:" /proc/net/snmp | tail -1 | awk "{print \"kernel of node 2: \" \$10 \" echo requests received\"}"'
step vni stats
step status -j

printf "\n%s\n" "# the device table: a host interface (a veth end) given to node 0, then handed"
echo "# over to node 1 at run time; the VNI ports are devices too, their receive"
echo "# interrupts raised through the table"
run ip link add "$VA" type veth peer name "$VB"
run ip link set "$VA" up
run ip link set "$VB" up
step dev attach "$VA" --to 0
step dev raise "$VA" --count 5
step dev list
step dev move "$VA" --to 1
step dev list
step dev detach "$VA"
run ip link del "$VA"
printf "\n%s\n" "# remote execution through a fabric channel: node 1's agent runs the"
echo "# commands in node 1's namespace and on its core, and streams their output back."
step exec 1 -- hostname
step exec 1 -- id
step exec 1 -- ip addr
if [ -r "$BUILD/guest/x86_64/kernel" ] && command -v qemu-system-x86_64 >/dev/null; then
	printf "\n%s\n" "# a separate kernel as node 3: a QEMU guest whose ivshmem BAR2 is the fabric"
	echo "# file; the same agent joins through the guest driver mint_ivshmem.ko."
	step guest start 3 --arch x86_64 --vni --tap
	step status
	step ping 3 --from 0 -c 5 -i 0.1
	(cd / && step exec 3 -- uname -a)
	run ip netns exec "$ns0" ping -c 3 10.77.0.4
	printf "\n%s\n" "# interrupt injection into a kernel driver: mint_nic.ko in node 3's kernel drives"
	echo "# its emulated NIC; mint inject writes the RX ring and raises a real MSI-X"
	echo "# interrupt; the driver's handler and NAPI poll hand the packets to the kernel."
	(cd / && step exec 3 -- sh -c 'insmod /lib/mint/mint_fabric.ko && insmod /lib/mint/mint_nic.ko')
	(cd / && step exec 3 -- sh -c 'ip link set nic0 up && mount -t debugfs none /sys/kernel/debug')
	(cd / && step exec 3 -- ip link show nic0)
	step inject 3 --type udp --count 2000 --interval 500us
	step inject 3 --count 200 --interval 2ms --latency
	(cd / && step exec 3 -- cat /sys/kernel/debug/mint_nic/stats)
	printf "\n%s\n" "# its evaluation: (b) sets mint_nic.ko against QEMU's e1000 in the same"
	echo "# guest (mint guest start --tap), the same packets sent from the host's TAP."
	step inject 3 --evaluate
else
	printf "\n%s\n" "# (no guest node: make guest-images and qemu-system-x86 are needed)"
fi
step down
trap - EXIT
