#!/bin/sh
# SPDX-License-Identifier: MIT
# What `make bench` runs: mint-bench's table of mint against same-run anchors
# (see docs/benchmarks.md).  MINT_BUILD is the build directory (default
# build); MINT_BENCH_ARGS adds options, e.g. MINT_BENCH_ARGS=--quick or -j.
set -eu

BUILD=${MINT_BUILD:-build}
BIN=$BUILD/mint-bench

if [ ! -x "$BIN" ]; then
	echo "mk/bench.sh: $BIN is missing: run 'make benchbin' (or 'make bench')" >&2
	exit 1
fi
if [ ! -d /dev/shm ] || [ ! -w /dev/shm ]; then
	echo "mk/bench.sh: /dev/shm is not writable: the benchmark needs it for its fabric" >&2
	exit 1
fi

# shellcheck disable=SC2086 # MINT_BENCH_ARGS is a list of options
exec "$BIN" ${MINT_BENCH_ARGS:-} "$@"
