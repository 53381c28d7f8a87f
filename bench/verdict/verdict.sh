# SPDX-License-Identifier: MIT
# Sourced by the benchmark scripts: their rows, judged by the one rule of
# bench/verdict/verdict.h (which also has the record format).  Rows go to
# a file of the script's own ($VERDICT_FILE, for its cleanup to remove);
# verdict_end prints their table and hands them on to the file that
# MINT_BENCH_RECORD names under `make bench`.  Needs $BUILD.
VERDICT_FILE=$(mktemp /tmp/mint-bench-rows.XXXXXX)

# verdict_row NAME UNIT OP TARGET ANCHORS MINTS: one row; ANCHORS and
# MINTS are each round's figures, in round order, separated by blanks.
verdict_row() {
	printf 'row\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$(printf '%s\n%s\n' "$5" "$6" |
		awk 'NR == 1 { n = split($0, a) } NR == 2 { split($0, m)
			for (i = 1; i <= n; i++) printf "%s%s:%s", (i > 1 ? " " : ""), a[i], m[i] }')" \
		>>"$VERDICT_FILE"
}

# verdict_end: the rows' verdict table; then on to the run's records.
verdict_end() {
	echo
	"$BUILD/mint-bench-verdict" "$VERDICT_FILE"
	[ -z "${MINT_BENCH_RECORD:-}" ] || cat "$VERDICT_FILE" >>"$MINT_BENCH_RECORD"
	rm -f "$VERDICT_FILE"
}
