#!/bin/sh
# libmint exports exactly its public API: the dynamic symbols of
# libmint.so are the functions src/lib/libmint.map lists, and those are
# the functions include/mint/*.h declare (static inline ones aside).
. tests/lib.sh
need nm binutils
SO=$BUILD/libmint.so
[ -e "$SO" ] || die "$SO is missing (make lib)"
TMPD=$(mktemp -d /tmp/t_abi.XXXXXX)
trap 'rm -rf "$TMPD"' EXIT

# Defined, global dynamic symbols, without their version tag; the
# version node itself (an absolute symbol) is not a function.
nm -D --defined-only "$SO" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u >"$TMPD/exported"
sed -n 's/^[[:space:]]*\(mint_[a-z0-9_]*\);.*/\1/p' src/lib/libmint.map | sort -u >"$TMPD/map"
# Declarations in the public headers: a name followed by '(' at the start
# of a declarator, minus the static inline helpers (they are not symbols).
cat include/mint/*.h | tr '\n' ' ' | grep -oE '\bmint_[a-z0-9_]+ *\(' | tr -d ' (' | sort -u >"$TMPD/named"
grep -hoE 'static inline [a-z0-9_ ]+\*? *mint_[a-z0-9_]+\(' include/mint/*.h |
	grep -oE 'mint_[a-z0-9_]+\($' | tr -d '(' | sort -u >"$TMPD/inline"
comm -23 "$TMPD/named" "$TMPD/inline" >"$TMPD/declared"

[ "$(wc -l <"$TMPD/exported")" -gt 50 ] || die "only $(wc -l <"$TMPD/exported") symbols exported"
extra=$(comm -23 "$TMPD/exported" "$TMPD/map" | tr '\n' ' ')
[ -z "$extra" ] || fail "exported but not in libmint.map: $extra"
missing=$(comm -13 "$TMPD/exported" "$TMPD/map" | tr '\n' ' ')
[ -z "$missing" ] || fail "in libmint.map but not exported: $missing"
undeclared=$(comm -23 "$TMPD/map" "$TMPD/declared" | tr '\n' ' ')
[ -z "$undeclared" ] || fail "in libmint.map but declared in no public header: $undeclared"
unlisted=$(comm -13 "$TMPD/map" "$TMPD/declared" | tr '\n' ' ')
[ -z "$unlisted" ] || fail "declared in a public header but not in libmint.map: $unlisted"
t_finish "libmint.so exports $(wc -l <"$TMPD/exported") symbols: exactly the public API"
