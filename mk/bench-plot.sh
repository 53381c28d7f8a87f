#!/bin/sh
# SPDX-License-Identifier: MIT
# What `make bench-plot` runs: each ratio of the benchmark history against
# its target, one PNG per row (gnuplot), in $BUILD/bench-plot/.
#
#   mk/bench-plot.sh [HISTORY]   (default docs/bench-history.jsonl)
#
# A point is a run's median ratio, its bar the range of the run's
# per-round ratios, the dashed line the target.  Rows without a target
# are drawn too (their drift is the point), without the line.
set -eu
HERE=$(dirname "$0")/..
BUILD=${MINT_BUILD:-build}
HIST=${1:-$HERE/docs/bench-history.jsonl}
OUT=$BUILD/bench-plot

for tool in jq gnuplot; do
	command -v $tool >/dev/null 2>&1 || {
		echo "mk/bench-plot.sh: $tool is missing (Debian: apt-get install -y jq gnuplot-nox)" >&2
		exit 1
	}
done
[ -s "$HIST" ] || { echo "mk/bench-plot.sh: no history in $HIST (run 'make bench')" >&2; exit 1; }
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/mint-bench-plot.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP

# file NAME: the PNG's name for a row NAME (letters, digits, - and _)
file() { printf '%s' "$1" | tr -c 'A-Za-z0-9_-' '_'; }

jq -r '.rows[].name' "$HIST" | sort -u >"$TMP/names"
n=0
while IFS= read -r name; do
	# run number, date, median, low, high, target (or NaN)
	jq -r --arg n "$name" 'select(any(.rows[]; .name == $n)) |
		[.date, (.rows[] | select(.name == $n))] as [$d, $r] |
		"\($d) \($r.ratio) \($r.lo) \($r.hi) \($r.target // "NaN")"' "$HIST" |
		awk '{ print NR, $0 }' >"$TMP/data"
	png=$OUT/$(file "$name").png
	target=$(jq -r --arg n "$name" '.rows[] | select(.name == $n) |
		if .target_op then "target \(.target_op) \(.target)x" else "no target" end' "$HIST" | tail -n 1)
	gnuplot <<GP
set terminal pngcairo size 900,420
set output "$png"
set title "$name: mint / anchor per run (bar: the rounds' range; dashed: $target)"
set xlabel "run (date of the run below)"
set ylabel "ratio"
set grid ytics
set key off
set xrange [0.5:$(wc -l <"$TMP/data") + 0.5]
set yrange [0:*]
set xtics rotate by 30 right
plot "$TMP/data" using 1:3:4:5:xtic(sprintf("%s", substr(strcol(2), 1, 16))) with yerrorbars pt 7 lc rgb "#1f77b4", \
     "" using 1:3 with lines lc rgb "#1f77b4", \
     "" using 1:6 with lines dt 2 lw 2 lc rgb "#d62728"
GP
	n=$((n + 1))
done <"$TMP/names"
echo "mk/bench-plot.sh: $n plot(s) of $(wc -l <"$HIST") run(s) in $OUT/"
