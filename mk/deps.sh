#!/bin/sh
# Installs the Debian packages mint needs to build and test, when run as
# root; otherwise prints the apt-get line to run.  Safe to run repeatedly.
set -eu
PKGS="gcc g++ make libc6-dev pkg-config iproute2 jq procps
gcc-aarch64-linux-gnu libc6-dev-arm64-cross
gcc-s390x-linux-gnu libc6-dev-s390x-cross
gcc-i686-linux-gnu libc6-dev-i386-cross
qemu-user-static
qemu-system-x86 qemu-system-arm busybox-static cpio xz-utils
libpcap-dev tshark
liburing-dev
iperf3 sockperf curl iputils-ping python3
gnuplot-nox"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "mint: missing Debian packages:$missing" >&2
	echo "mint: install them with: sudo apt-get install -y --no-install-recommends$missing" >&2
	exit 0
fi
echo "mint: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q </dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing </dev/null
