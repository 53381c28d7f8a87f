#!/bin/sh
# SPDX-License-Identifier: MIT
# What `make bench` runs: mint-bench's table of mint against same-run anchors,
# then bench/vni-bench.sh, the VNI against a veth pair (see
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

# Interrupt injection (issue 4): bench/inject-bench.sh; MINT_INJECT_BENCH=0
# leaves it out, MINT_INJECT_BENCH_ARGS adds its options (--quick, --plot);
# --quick in MINT_BENCH_ARGS shortens it too.
inj_args=""
for a in ${MINT_BENCH_ARGS:-} "$@"; do
	[ "$a" = --quick ] && inj_args="--quick"
done
if [ "${MINT_INJECT_BENCH:-1}" != 0 ]; then
	echo
	# shellcheck disable=SC2086 # lists of options
	MINT_BUILD=$BUILD sh "$(dirname "$0")/../bench/inject-bench.sh" $inj_args ${MINT_INJECT_BENCH_ARGS:-} ||
		{ [ "$st" -ne 0 ] || st=1; }
fi

vni=${MINT_VNI_BENCH:-1}
vni_args=""
for a in ${MINT_BENCH_ARGS:-} "$@"; do
	case $a in
	--quick) vni_args="--quick" ;;
	-j | --json | --only* | --anchors-only | -h | --help) vni=0 ;;
	esac
done
[ "$vni" = 0 ] && exit "$st"

echo
vst=0
# shellcheck disable=SC2086 # lists of options
MINT_BUILD=$BUILD sh "$VNI_BENCH" $vni_args ${MINT_VNI_BENCH_ARGS:-} || vst=$?
[ "$st" -ne 0 ] && exit "$st"
exit "$vst"

