#!/bin/sh
# A fabric on hugetlbfs (the path form of --fabric): size rounded up to the
# huge page size, a node joins it and answers a ping, status names it.
. tests/lib.sh
need_root "to mount hugetlbfs"
dir=$(mktemp -d /tmp/mint-hp.XXXXXX)
old_pages=$(cat /proc/sys/vm/nr_hugepages)
fab="$dir/mint-t$$"
cleanup() {
	$MINT --fabric "$fab" down >/dev/null 2>&1
	umount "$dir" 2>/dev/null
	rmdir "$dir"
	echo "$old_pages" > /proc/sys/vm/nr_hugepages
}
trap cleanup EXIT

# 64 MiB of 2 MiB pages, on top of what the machine already reserved.
echo $((old_pages + 40)) > /proc/sys/vm/nr_hugepages
mount -t hugetlbfs none "$dir" || skip "cannot mount hugetlbfs"
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge $((old_pages + 34)) ] ||
	skip "the kernel gave no huge pages"
hp_kb=$(awk '/^Hugepagesize/ { print $2 }' /proc/meminfo)

$MINT --fabric "$fab" up --size 65M || die "mint up on hugetlbfs"
size=$(stat -c %s "$fab")
[ $((size % (hp_kb * 1024))) -eq 0 ] || die "size $size is not a multiple of ${hp_kb} KiB"
[ "$size" -ge $((65 * 1024 * 1024)) ] || die "size $size below the 65M asked"
$MINT --fabric "$fab" status | grep -q hugetlbfs || die "status does not say hugetlbfs"
$MINT --fabric "$fab" node start 0 --no-netns --cores 0 || die "node start"
timeout 20 $MINT --fabric "$fab" ping 0 -c 3 -i 0.01 || die "ping over a hugetlbfs fabric"
$MINT --fabric "$fab" down || die "mint down"
[ ! -e "$fab" ] || die "fabric file left behind"
echo "hugetlbfs fabric of $size bytes: ok"
