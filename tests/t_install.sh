#!/bin/sh
# make install into a scratch prefix: headers, static and shared libmint,
# mint.pc, the mint command and the man pages; a program built against
# the installed copy through pkg-config runs, linked both ways.
. tests/lib.sh
need pkg-config
prefix=$(mktemp -d /tmp/mint-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT

# A sanitizer build installs a sanitized libmint: programs that link it
# need the same runtime.
case "$BUILD" in
*asan) variant="SANITIZE=1" san="-fsanitize=address,undefined" ;;
*tsan) variant="TSAN=1" san="-fsanitize=thread" ;;
*) variant="" san="" ;;
esac

# shellcheck disable=SC2086
make -s $variant BUILD="$BUILD" PREFIX="$prefix" install >/dev/null || die "make install"
for f in include/mint/mint.h include/mint/layout.h lib/libmint.a lib/libmint.so \
	lib/libmint.so.0 lib/pkgconfig/mint.pc bin/mint share/man/man1/mint.1 \
	share/man/man3/libmint.3 share/man/man3/mint_ring_send.3; do
	[ -e "$prefix/$f" ] || die "$f not installed"
done

cat > "$prefix/hello.c" <<'C'
#include <mint/mint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int init(void *mem, uint64_t size, void *arg)
{
	(void)size; (void)arg;
	return mint_ring_format(mem, 4096, MINT_NODE_NONE, MINT_NODE_NONE, 0);
}

int main(void)
{
	char name[32];
	snprintf(name, sizeof(name), "inst-%d", (int)getpid());
	struct mint_fabric *f;
	int rc = mint_fabric_create(name, 0, &f);
	if (rc) { printf("create: %s\n", mint_strerror(rc)); return 1; }
	uint64_t off;
	struct mint_ring r;
	char buf[16] = "";
	rc = mint_obj_open(f, "r", MINT_OBJ_RING, mint_ring_footprint(4096), init, NULL, &off);
	if (rc == 1 && mint_ring_open(f, off, &r) == 0 && mint_ring_send(&r, "hello", 6, 7) == 0)
		rc = mint_ring_recv(&r, buf, sizeof(buf), NULL);
	mint_fabric_detach(f);
	mint_fabric_destroy(name);
	printf("%s %d\n", buf, rc);
	return strcmp(buf, "hello") != 0;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $san -o "$prefix/hello" "$prefix/hello.c" $(pkg-config --cflags --libs mint) ||
	die "build against the installed libmint (shared)"
out=$(LD_LIBRARY_PATH="$prefix/lib" "$prefix/hello") || die "shared: $out"
[ "$out" = "hello 6" ] || die "shared: got '$out'"
LD_LIBRARY_PATH="$prefix/lib" ldd "$prefix/hello" | grep -q "$prefix/lib/libmint.so.0" ||
	die "not linked to the installed libmint.so"
# shellcheck disable=SC2046
cc -std=c11 $san -o "$prefix/hello-static" "$prefix/hello.c" $(pkg-config --cflags mint) \
	"$prefix/lib/libmint.a" -pthread -latomic || die "build against libmint.a"
out=$("$prefix/hello-static") || die "static: $out"
[ "$out" = "hello 6" ] || die "static: got '$out'"
MANPATH="$prefix/share/man" man -w mint_ring_send >/dev/null 2>&1 ||
	[ ! -x /usr/bin/man ] || die "man mint_ring_send not found"
"$prefix/bin/mint" --version | grep -q "^mint " || die "installed mint does not run"
make -s $variant BUILD="$BUILD" PREFIX="$prefix" uninstall >/dev/null || die "make uninstall"
[ -z "$(find "$prefix" -type f ! -name 'hello*')" ] || die "uninstall left: $(find "$prefix" -type f ! -name 'hello*')"
echo "install, pkg-config build (shared and static), uninstall: ok"
