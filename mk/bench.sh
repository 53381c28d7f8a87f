#!/bin/sh
# SPDX-License-Identifier: MIT
# What `make bench` runs: mint-bench's table of mint against same-run anchors,
# then bench/vni-bench.sh, the VNI against a veth pair, then
# bench/exec-bench.sh, `mint exec` against its anchors (see
# docs/benchmarks.md).  MINT_BUILD is the build directory (default build);
# MINT_BENCH_ARGS adds options to mint-bench, e.g. MINT_BENCH_ARGS=--quick
# or -j; --quick also shortens the VNI benchmark, and -j, --only,
# --anchors-only and --help leave it out.  MINT_VNI_BENCH=0 leaves it out
# too; MINT_VNI_BENCH_ARGS adds options to it (bench/vni-bench.sh --help).
set -eu

BUILD=${MINT_BUILD:-build}
BIN=$BUILD/mint-bench
VNI_BENCH=$(dirname "$0")/../bench/vni-bench.sh

if [ ! -x "$BIN" ]; then
	echo "mk/bench.sh: $BIN is missing: run 'make benchbin' (or 'make bench')" >&2
	exit 1
fi
if [ ! -d /dev/shm ] || [ ! -w /dev/shm ]; then
	echo "mk/bench.sh: /dev/shm is not writable: the benchmark needs it for its fabric" >&2
	exit 1
fi

st=0
# shellcheck disable=SC2086 # MINT_BENCH_ARGS is a list of options
"$BIN" ${MINT_BENCH_ARGS:-} "$@" || st=$?

# The device table: routing through it against a direct doorbell, and the
# hand-over time (bench/dev/dev-bench.c).  MINT_DEV_BENCH=0 leaves it out,
# and so do the options that ask for mint-bench alone.
dev=${MINT_DEV_BENCH:-1}
for a in ${MINT_BENCH_ARGS:-} "$@"; do
	case $a in -j | --json | --only* | --anchors-only | -h | --help) dev=0 ;; esac
done
if [ "$dev" != 0 ]; then
	echo
	"$BUILD/mint-dev-bench" || st=$?
fi

vni=${MINT_VNI_BENCH:-1}
scripts=1 # the shell benchmarks (VNI, exec) run at all
vni_args=""
for a in ${MINT_BENCH_ARGS:-} "$@"; do
	case $a in
	--quick) vni_args="--quick" ;;
	-j | --json | --only* | --anchors-only | -h | --help) vni=0 scripts=0 ;;
	esac
done
vst=0
if [ "$vni" != 0 ]; then
	echo
	# shellcheck disable=SC2086 # lists of options
	MINT_BUILD=$BUILD sh "$VNI_BENCH" $vni_args ${MINT_VNI_BENCH_ARGS:-} || vst=$?
fi

# bench/exec-bench.sh: `mint exec` latency and throughput against
# `ip netns exec` and a local pipe.  Left out by the options that leave
# the VNI benchmark out, or by MINT_EXEC_BENCH=0; --quick shortens it.
est=0
if [ "$scripts" != 0 ] && [ "${MINT_EXEC_BENCH:-1}" != 0 ]; then
	echo
	# shellcheck disable=SC2086 # a list of options
	MINT_BUILD=$BUILD sh "$(dirname "$0")/../bench/exec-bench.sh" $vni_args || est=$?
fi
[ "$st" -ne 0 ] && exit "$st"
[ "$vst" -ne 0 ] && exit "$vst"
exit "$est"
