#!/bin/sh
# make fuzz: build each fuzz/fuzz_*.c with libFuzzer + ASan + UBSan against
# the library sources and run it FUZZ_SECONDS; any crash fails the target.
set -eu
SECONDS_EACH=${FUZZ_SECONDS:-60}
OUT=build/fuzz
mkdir -p "$OUT"
for src in fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	# A target of tool code names its sources in its first comment.
	also=$(sed -n 's/^ \* Also built: //p' "$src")
	# shellcheck disable=SC2086
	clang -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o "$OUT/$t" "$src" $also src/lib/*.c -pthread
	mkdir -p "$OUT/$t.corpus"
	echo "fuzz: $t for $SECONDS_EACH s"
	if ! "$OUT/$t" -max_total_time="$SECONDS_EACH" -max_len=65536 -artifact_prefix="$OUT/$t-" "$OUT/$t.corpus" \
		>"$OUT/$t.log" 2>&1; then
		tail -40 "$OUT/$t.log"
		echo "fuzz: $t FAILED (log: $OUT/$t.log)"
		exit 1
	fi
	tail -1 "$OUT/$t.log"
done
