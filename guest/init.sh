#!/bin/busybox sh
# /init of a mint guest node's initramfs (built by mk/guest-images.sh):
# loads the guest modules, then runs the node agent on the fabric that
# mint_ivshmem.ko exposes.  Parameters come on the kernel command line
# from `mint guest start`: mint.id=ID mint.mode=MODE [mint.vni=auto|ADDR/N]
# [mint.tap=1] [mint.load.MODULE=1 for a guest module other than mint_ivshmem].
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
hostname "mint-guest"
ip link set lo up

arg() { sed -n "s/.*\bmint\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
id=$(arg id)
mode=$(arg mode)
vni=$(arg vni)
echo "mint-guest: $(uname -r) $(uname -m) up in $(cut -d' ' -f1 /proc/uptime) s, node ${id:-?}"

insmod /lib/mint/mint_ivshmem.ko || { echo "mint-guest: mint_ivshmem did not load"; poweroff -f; }
insmod /lib/kernel/tun.ko
# The other guest drivers (mint_vni, mint_nic) load when asked to.
for m in /lib/mint/*.ko; do
	case $m in */mint_ivshmem.ko) ;; *) [ -n "$(arg "load.$(basename "$m" .ko)")" ] && insmod "$m" ;; esac
done
[ -c /dev/mint_ivshmem ] || { echo "mint-guest: no /dev/mint_ivshmem"; poweroff -f; }
# mint guest start --tap: QEMU's e1000 on a host TAP, up without an address
# (the real kernel path mint inject --evaluate compares mint_nic.ko with).
if [ -n "$(arg tap)" ]; then
	insmod /lib/kernel/e1000.ko && ip link set eth0 up || echo "mint-guest: no e1000 eth0"
fi

set -- node start "$id" --fabric /dev/mint_ivshmem --foreground --no-netns --mode "${mode:-sleep}"
case $vni in
"") ;;
auto) set -- "$@" --vni ;;
*) set -- "$@" --vni --vni-addr "$vni" ;;
esac
echo "mint-guest: starting the agent: mint $*"
/bin/mint "$@"
echo "mint-guest: the agent exited ($?): powering off"
poweroff -f
