#!/bin/sh
# The rules of the house for includes (docs/design.md, "Folders"):
# - the library's private headers (src/lib/*.h) are included only inside
#   src/lib, and by tests or fuzz targets of the library's internals that
#   say so in their first comment ("the library's internals");
# - a layer includes only itself and the layers below it:
#     lib < common < agent, inject < cli
#   (src/lib: mint/ only; src/common: mint/, common/; src/agent: mint/,
#   common/, agent/; src/inject: mint/, common/, inject/; src/cli: all);
# - bench/ and examples/ build as users' programs: mint/ only;
# - includes name their folder ("agent/agent.h"), never a relative path.
. tests/lib.sh

private=$(cd src/lib && ls -- *.h)
bad=0
# violation FILE INCLUDE WHY
violation() {
	say "FAIL: $1 includes \"$2\": $3"
	bad=$((bad + 1))
}
# allowed FOLDER: the include prefixes that folder may use.
allowed() {
	case $1 in
	src/lib) echo "mint/" ;;
	src/common) echo "mint/ common/" ;;
	src/agent) echo "mint/ common/ agent/" ;;
	src/inject) echo "mint/ common/ inject/" ;;
	src/cli) echo "mint/ common/ agent/ inject/ cli/" ;;
	bench | bench/* | examples) echo "mint/" ;;
	*) echo "" ;; # tests, fuzz: mint/ and their own helpers
	esac
}
internals_test() { head -5 "$1" | grep -q "the library's internals"; }

files=$(git ls-files 'src/*.[ch]' 'tests/*.c' 'tests/*.h' 'bench/*.c' 'examples/*.c' \
	'examples/*.cpp' 'fuzz/*.c' 2>/dev/null)
[ -n "$files" ] || files=$(find src tests bench examples fuzz -name '*.[ch]' -o -name '*.cpp')
checked=0
for f in $files; do
	dir=$(dirname "$f")
	ok=$(allowed "$dir")
	checked=$((checked + 1))
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		case $inc in
		../* | */../*) violation "$f" "$inc" "a relative path"; continue ;;
		esac
		if [ "$dir" = src/lib ]; then
			echo "$private" | grep -qx "$inc" && continue
		elif echo "$private" | grep -qx "$inc"; then
			case $dir in
			tests | fuzz) internals_test "$f" && continue ;;
			esac
			violation "$f" "$inc" "a private header of the library"
			continue
		fi
		case $dir in
		tests | fuzz)
			case $inc in mint/* | testlib.h | common/* | agent/*) ;; *) violation "$f" "$inc" "not a public header" ;; esac
			continue ;;
		esac
		pass=no
		for p in $ok; do
			case $inc in "$p"*) pass=yes ;; esac
		done
		[ $pass = yes ] || violation "$f" "$inc" "$dir may include only: $ok"
	done
done
[ "$checked" -gt 50 ] || die "only $checked files found to check"
[ $bad -eq 0 ] || die "$bad include(s) break the layering"
say "$checked files: every include within its layer"
