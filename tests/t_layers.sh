#!/bin/sh
# The rules of the house for includes (docs/design.md, "Folders"):
# - the library's private headers (src/lib/*.h) are included only inside
#   src/lib, and by tests or fuzz targets of the library's internals that
#   say so in their first comment ("the library's internals");
# - a layer includes only itself and the layers below it:
#     lib < common < agent, inject, server < cli
#   (src/lib: mint/ only; src/common: mint/, common/; src/agent: mint/,
#   common/, agent/; src/inject: mint/, common/, inject/; src/server (mint's
#   ivshmem server): mint/, common/, server/; src/cli: all);
# - tests and fuzz targets: mint/, common/, agent/ and testlib.h;
# - bench/ and examples/ build as users' programs: mint/ only, and the
#   benchmarks their shared verdict rule, verdict/ (bench/verdict/), and
#   a benchmark's folder its own headers (bench/nic: nic/);
# - includes name their folder ("agent/agent.h"), never a relative path.
. tests/lib.sh

files=$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.c' 'examples/*.c' 'examples/*.cpp' \
	'fuzz/*.c' 2>/dev/null)
[ -n "$files" ] || files=$(find src tests bench examples fuzz -name '*.[ch]' -o -name '*.cpp')
private=$(cd src/lib && ls -- *.h | tr '\n' ' ')

# shellcheck disable=SC2086
out=$(awk -v private="$private" '
function allowed(dir) {
	if (dir == "src/lib") return "mint/"
	if (dir == "src/common") return "mint/ common/"
	if (dir == "src/agent") return "mint/ common/ agent/"
	if (dir == "src/inject") return "mint/ common/ inject/"
	if (dir == "src/server") return "mint/ common/ server/"
	if (dir == "src/cli") return "mint/ common/ agent/ inject/ server/ cli/"
	if (dir == "tests" || dir == "fuzz") return "mint/ common/ agent/ testlib.h"
	if (dir ~ /^bench\//) return "mint/ verdict/ " substr(dir, 7) "/"
	if (dir == "bench") return "mint/ verdict/"
	return "mint/" # examples
}
function bad(why) { printf "FAIL: %s includes \"%s\": %s\n", FILENAME, inc, why; n++ }
BEGIN { split(private, p, " "); for (i in p) priv[p[i]] = 1 }
FNR == 1 {
	files++
	dir = FILENAME; sub(/\/[^\/]*$/, "", dir)
	ok = allowed(dir)
	internals = 0
}
FNR <= 5 && /the library.s internals/ { internals = 1 }
/^[ \t]*#[ \t]*include[ \t]*"/ {
	inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
	if (inc ~ /(^|\/)\.\.\//) { bad("a relative path"); next }
	if (inc in priv) {
		if (dir == "src/lib" || ((dir == "tests" || dir == "fuzz") && internals)) next
		bad("a private header of the library"); next
	}
	m = split(ok, pre, " "); hit = 0
	for (i = 1; i <= m; i++) if (index(inc, pre[i]) == 1) hit = 1
	if (!hit) bad(dir " may include only: " ok)
}
END { printf "checked %d\n", files; exit n > 0 }
' $files)
rc=$?
say "$out"
checked=$(echo "$out" | sed -n 's/^checked //p')
[ "${checked:-0}" -gt 50 ] || die "only ${checked:-0} files found to check"
[ $rc -eq 0 ] || die "includes break the layering"
say "$checked files: every include within its layer"
