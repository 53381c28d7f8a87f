#!/bin/sh
# Builds what a QEMU guest node boots, for ARCH (x86_64 or aarch64), into
# $MINT_BUILD/guest/ARCH/:
#   kernel          Debian's kernel, uncompressed (an ELF vmlinux for
#                   x86_64: 3x faster to boot under TCG; an Image for arm64)
#   release         its `uname -r`
#   mint_ivshmem.ko (and the other guest modules) built against its headers
#   initrd.cpio.gz  busybox-static, the static mint agent, the modules (and
#                   the kernel's tun.ko for the VNI), iperf3 with the loader
#                   and libraries it needs, /init
# Everything comes from Debian's archive: the kernel ABI number is read at
# run time from linux-image-amd64's dependency (names change with security
# updates).  The x86_64 headers are installed as a package; the arm64
# kernel, headers and busybox are fetched with `apt-get download` through
# private lists, touching nothing of dpkg's; iperf3 and its libraries are
# downloaded that way for both architectures (the amd64 ones through the
# host's lists), never installed.  Each step is skipped when its
# output is newer than its inputs.
#
# Not root and something missing: prints the apt line and exits 1.
set -eu
arch=$1
B=${MINT_BUILD:-build}
top=$(pwd)
out=$B/guest/$arch
dl=$B/guest/dl
mkdir -p "$out" "$dl"

say() { echo "guest-images: $*"; }
die() { echo "mint: $*" >&2; exit 1; }

abi=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/.*Depends: linux-image-\([0-9.]*-[0-9]*\)-amd64$/\1/p' | head -n1)
[ -n "$abi" ] || die "cannot read the kernel ABI from linux-image-amd64: run apt-get update"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need_pkgs() {
	missing=""
	for p in "$@"; do installed "$p" || missing="$missing $p"; done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing Debian packages:$missing; install them with: apt-get install -y --no-install-recommends$missing"
	say "installing$missing"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing </dev/null >/dev/null
}

# apt-get with private state for arm64 packages (index under $dl/apt-arm64).
apt_arm64() {
	s=$top/$dl/apt-arm64
	mkdir -p "$s/lists/partial" "$s/cache/archives/partial"
	apt-get -q -o Dir::State::Lists="$s/lists" -o Dir::Cache="$s/cache" \
		-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Debug::NoLocking=1 "$@"
}

# Download package $1 for architecture $2 (amd64 or arm64) into $dl;
# prints the .deb path.
fetch_deb() {
	pkg=$1
	found=$(ls "$dl/${pkg}_"*"_$2.deb" "$dl/${pkg}_"*_all.deb 2>/dev/null | head -n1 || true)
	if [ -n "$found" ]; then echo "$found"; return; fi
	[ "$(id -u)" -eq 0 ] || die "guest images need $pkg from Debian's archive: run make guest-images as root"
	if [ "$2" = arm64 ]; then
		[ -n "$(ls "$dl/apt-arm64/lists/" 2>/dev/null | grep -v partial)" ] ||
			apt_arm64 update >/dev/null
		(cd "$dl" && apt_arm64 download "$pkg" >"$pkg.log" 2>&1) || { cat "$dl/$pkg.log" >&2; die "cannot download $pkg (arm64)"; }
	else
		(cd "$dl" && apt-get -q download "$pkg" >"$pkg.log" 2>&1) || { cat "$dl/$pkg.log" >&2; die "cannot download $pkg"; }
	fi
	rm -f "$dl/$pkg.log"
	ls "$dl/${pkg}_"*"_$2.deb" "$dl/${pkg}_"*_all.deb 2>/dev/null | head -n1
}

# Unpack DEB into DIR once (a stamp per package: several share a root).
unpack() {
	stamp=$2/.unpacked.$(basename "$1")
	[ -e "$stamp" ] && return 0
	mkdir -p "$2"
	dpkg-deb -x "$1" "$2"
	touch "$stamp"
}

# The ELF vmlinux inside an x86 bzImage: the xz stream that inflates to ELF.
elf_from_bzimage() {
	for pos in $(grep -abo "$(printf '\3757zXZ')" "$1" | cut -d: -f1); do
		tail -c +$((pos + 1)) "$1" | xz -dc 2>/dev/null >"$2.tmp" || true
		if [ "$(head -c4 "$2.tmp" | tail -c3)" = ELF ]; then mv "$2.tmp" "$2"; return 0; fi
	done
	rm -f "$2.tmp"
	die "no ELF vmlinux inside $1"
}

# unpack_with_libs PKG ARCH ROOT: package PKG for ARCH unpacked in ROOT with
# the library packages it needs, read at build time from each package's
# Depends and Pre-Depends (first alternative) and followed only through
# names lib*: the rest (debconf, adduser) is no part of what gets loaded.
unpack_with_libs() {
	want=$1 have=""
	while [ "$want" != "$have" ]; do
		have=$want
		for p in $have; do
			d=$(fetch_deb "$p" "$2")
			unpack "$d" "$3"
			want=$({ echo "$want" | tr ' ' '\n'; dpkg-deb -f "$d" Depends Pre-Depends |
				sed 's/^[A-Z][A-Za-z-]*: //' | tr ',' '\n' | sed 's/^ *//; s/[ |(:].*//' |
				grep '^lib' || true; } | sort -u | tr '\n' ' ')
		done
	done
}

# lib_path ROOT SONAME: where the loader (no cache) finds SONAME in ROOT.
lib_path() {
	for d in "/lib/$qarch-linux-gnu" "/usr/lib/$qarch-linux-gnu" /lib /usr/lib; do
		[ -e "$1$d/$2" ] || [ -L "$1$d/$2" ] && { echo "$d/$2"; return; }
	done
	echo "/lib/$qarch-linux-gnu/$2"
}

# copy_elf ROOT DEST FILE...: each FILE (a path inside ROOT) to the same path
# in DEST, symbolic links kept as links and followed, then the program
# interpreter and the libraries named by NEEDED entries, recursively.
copy_elf() {
	r=$1 dest=$2
	shift 2
	while [ $# -gt 0 ]; do
		f=$1
		shift
		[ -e "$dest$f" ] || [ -L "$dest$f" ] && continue
		mkdir -p "$dest${f%/*}"
		if [ -L "$r$f" ]; then
			cp -P "$r$f" "$dest$f"
			l=$(readlink "$r$f")
			case $l in /*) set -- "$@" "$l" ;; *) set -- "$@" "${f%/*}/$l" ;; esac
			continue
		fi
		[ -f "$r$f" ] || die "guest images: $f ($arch) is in none of the packages unpacked in $r"
		cp "$r$f" "$dest$f"
		# shellcheck disable=SC2046
		set -- "$@" $(readelf -lW "$r$f" | sed -n 's/.*program interpreter: \(.*\)]$/\1/p') \
			$(readelf -dW "$r$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' |
				while read -r so; do lib_path "$r" "$so"; done)
	done
}

case $arch in
x86_64)
	karch=amd64; qarch=x86_64; bbpath=/bin/busybox
	need_pkgs "linux-headers-$abi-amd64" busybox-static xz-utils cpio binutils
	kdir=/usr/src/linux-headers-$abi-amd64
	root=$dl/linux-image-$abi-amd64
	deb=$(fetch_deb "linux-image-$abi-amd64" amd64)
	unpack "$deb" "$root"
	if [ ! -e "$out/kernel" ] || [ "$root/.unpacked.$(basename "$deb")" -nt "$out/kernel" ]; then
		elf_from_bzimage "$root/boot/vmlinuz-$abi-amd64" "$out/kernel"
	fi
	make_args=""
	strip=strip
	kmods=$root/lib/modules/$abi-amd64/kernel
	;;
aarch64)
	karch=arm64; qarch=aarch64
	need_pkgs linux-kbuild-6.1 gcc-aarch64-linux-gnu cpio binutils
	# One root as the packages lay it out (the arm64 headers reach the
	# common ones and the kbuild tools by relative links); the kbuild tools
	# are the host's (they run here).
	root=$dl/arm64-root
	for p in "linux-image-$abi-arm64" "linux-headers-$abi-arm64" "linux-headers-$abi-common" busybox-static; do
		unpack "$(fetch_deb "$p" arm64)" "$root"
	done
	mkdir -p "$root/usr/lib"
	ln -sfn /usr/lib/linux-kbuild-6.1 "$root/usr/lib/linux-kbuild-6.1"
	kdir=$top/$root/usr/src/linux-headers-$abi-arm64
	bbpath=$root/bin/busybox
	img=$root/boot/vmlinuz-$abi-arm64
	# Debian's arm64 vmlinuz is the uncompressed Image (older ones: gzip).
	if [ ! -e "$out/kernel" ] || [ "$img" -nt "$out/kernel" ]; then
		if gzip -t "$img" 2>/dev/null; then gzip -dc <"$img" >"$out/kernel.tmp"; else cp "$img" "$out/kernel.tmp"; fi
		mv "$out/kernel.tmp" "$out/kernel"
	fi
	make_args="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
	strip=aarch64-linux-gnu-strip
	kmods=$root/lib/modules/$abi-arm64/kernel
	;;
*) die "guest-images: unknown architecture '$arch' (x86_64 or aarch64)" ;;
esac
echo "$abi-$karch" >"$out/release"

# The guest modules, built in a copy (kbuild writes beside the sources).
kb=$out/kmod
mkdir -p "$kb"
for f in guest/kmod/Kbuild guest/kmod/*.c guest/kmod/*.h; do
	cmp -s "$f" "$kb/$(basename "$f")" || cp "$f" "$kb/"
done
# shellcheck disable=SC2086
make -s -C "$kdir" M="$top/$kb" MINT_INCLUDE="$top/include" $make_args modules >"$kb/build.log" 2>&1 ||
	{ cat "$kb/build.log" >&2; die "guest modules for $arch did not build"; }

# The static agent for the architecture.
agent=${MINT_AGENT:-build/$qarch/mint}
[ -x "$agent" ] || die "no static agent $agent: run make CROSS=$qarch tools first"

# iperf3 for the guests' network tests and benchmarks: Debian's binary
# with the loader and the libraries it loads, from the same archive.
apps=$dl/apps-$karch
unpack_with_libs iperf3 "$karch" "$apps"

# The initramfs, when any input (this script among them) is newer.
img=$out/initrd.cpio.gz
newer=$(find "$kb"/*.ko "$agent" "$bbpath" guest/init.sh mk/guest-images.sh "$apps"/.unpacked.* -newer "$img" 2>/dev/null | head -n1 || true)
if [ ! -e "$img" ] || [ -n "$newer" ]; then
	t=$(mktemp -d "$top/$out/.initrd.XXXXXX")
	mkdir -p "$t/bin" "$t/sbin" "$t/proc" "$t/sys" "$t/dev" "$t/tmp" "$t/run" "$t/lib/mint" "$t/etc"
	cp "$bbpath" "$t/bin/busybox"
	cp "$agent" "$t/bin/mint"
	# Without their debug sections (a third of their size); an oops is
	# read against the copies in $kb, which keep them.
	for m in "$kb"/*.ko; do "$strip" --strip-debug -o "$t/lib/mint/${m##*/}" "$m"; done
	# The kernel's own modules the agent needs: tun for the VNI's TAP.
	mkdir -p "$t/lib/kernel"
	cp "$kmods/drivers/net/tun.ko" "$t/lib/kernel/"
	copy_elf "$apps" "$t" /usr/bin/iperf3
	cp guest/init.sh "$t/init"
	chmod 755 "$t/init" "$t/bin/busybox" "$t/bin/mint"
	(cd "$t" && find . | cpio -o -H newc --quiet | gzip -1 >"$top/$img.tmp")
	rm -rf "$t"
	mv "$img.tmp" "$img"
	say "$img"
fi
