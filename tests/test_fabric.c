/* SPDX-License-Identifier: MIT */
/*
 * The fabric file: create, attach, detach, destroy; defaults; names and
 * paths; and attaching files that are not (good) fabrics, which must fail
 * with the documented errno and leave the file untouched.
 */
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>

#include "testlib.h"

/* ---- harness bits: files, and files that are fabrics ---- */

/* A snapshot of a file: its bytes and times, to prove a failed attach
 * modified nothing. */
struct fsnap {
	struct stat st;
	unsigned char *data;
	size_t len;
};

static void snap(const char *path, struct fsnap *s)
{
	memset(s, 0, sizeof(*s));
	CHECK(stat(path, &s->st) == 0);
	if (!S_ISREG(s->st.st_mode))
		return; /* a device: only its type is compared */
	/* An old, known mtime: any write would move it to "now". */
	struct timespec times[2] = {{978307200, 123}, {978307200, 456}};
	CHECK(utimensat(AT_FDCWD, path, times, 0) == 0);
	CHECK(stat(path, &s->st) == 0);
	s->len = (size_t)s->st.st_size;
	s->data = malloc(s->len ? s->len : 1);
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(pread(fd, s->data, s->len, 0) == (ssize_t)s->len);
	close(fd);
}

static bool unchanged(const char *path, struct fsnap *s)
{
	struct stat st;
	if (!S_ISREG(s->st.st_mode))
		return stat(path, &st) == 0 && st.st_mode == s->st.st_mode &&
		       st.st_rdev == s->st.st_rdev;
	bool same = stat(path, &st) == 0 && st.st_size == s->st.st_size &&
		    st.st_mtim.tv_sec == s->st.st_mtim.tv_sec &&
		    st.st_mtim.tv_nsec == s->st.st_mtim.tv_nsec &&
		    st.st_ctim.tv_sec == s->st.st_ctim.tv_sec &&
		    st.st_ctim.tv_nsec == s->st.st_ctim.tv_nsec && st.st_mode == s->st.st_mode;
	if (same && S_ISREG(st.st_mode)) {
		unsigned char *now = malloc(s->len ? s->len : 1);
		int fd = open(path, O_RDONLY);
		same = fd >= 0 && pread(fd, now, s->len, 0) == (ssize_t)s->len &&
		       memcmp(now, s->data, s->len) == 0;
		if (fd >= 0)
			close(fd);
		free(now);
	}
	free(s->data);
	s->data = NULL;
	return same;
}

/* Attach PATH expecting WANT, and that the file is not modified. */
static void attach_fails(const char *path, int want)
{
	struct fsnap s;
	snap(path, &s);
	struct mint_fabric *f = NULL;
	int rc = mint_fabric_attach(path, &f);
	if (rc != want)
		fprintf(stderr, "  attach %s: got %d (%s), want %d\n", path, rc,
			mint_strerror(rc), want);
	CHECK_EQ(rc, want);
	if (rc == 0)
		mint_fabric_detach(f);
	CHECK(unchanged(path, &s));
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

/* Make a real fabric at PATH (path form), detached; its size. */
static uint64_t make_fabric_file(const char *path, uint64_t size)
{
	unlink(path);
	struct mint_fabric *f;
	int rc = mint_fabric_create(path, size, &f);
	CHECK_EQ(rc, 0);
	if (rc)
		return 0;
	uint64_t got = mint_fabric_size(f);
	mint_fabric_detach(f);
	return got;
}

static void poke(const char *path, off_t off, const void *v, size_t len)
{
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0);
	CHECK(pwrite(fd, v, len, off) == (ssize_t)len);
	close(fd);
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static size_t count_glob(const char *pat)
{
	glob_t g;
	size_t n = 0;
	if (glob(pat, 0, NULL, &g) == 0) {
		n = g.gl_pathc;
		globfree(&g);
	}
	return n;
}

/* ---- cases ---- */

static void test_create_attach_detach_destroy(void)
{
	uint64_t size = MINT_FABRIC_MIN_SIZE + 16 * MINT_PAGE;
	struct mint_fabric *f = t_fabric(size);
	char path[256];
	CHECK_EQ(mint_fabric_path(t_name, path, sizeof(path)), 0);
	CHECK(strcmp(mint_fabric_file(f), path) == 0);
	CHECK(file_exists(path));
	CHECK_EQ(mint_fabric_size(f), size);
	CHECK_EQ(mint_fabric_self(f), MINT_NODE_NONE);

	struct mint_fabric_hdr *h = mint_fabric_hdr(f);
	CHECK(h->magic == MINT_FABRIC_MAGIC);
	CHECK(memcmp(&h->magic, "MINTFAB1", 8) == 0); /* the LE byte order rule */
	CHECK_EQ(h->version, MINT_FABRIC_VERSION);
	CHECK_EQ(h->header_size, sizeof(struct mint_fabric_hdr));
	CHECK_EQ(h->size, size);
	CHECK_EQ(h->max_nodes, MINT_MAX_NODES);
	CHECK_EQ(h->max_vectors, MINT_VECTORS);
	CHECK_EQ(h->max_objects, MINT_MAX_OBJECTS);
	CHECK_EQ(h->node_table_off, MINT_NODE_TABLE_OFF);
	CHECK_EQ(h->objdir_off, MINT_OBJDIR_OFF);
	CHECK_EQ(h->heap_off, MINT_HEAP_OFF);
	CHECK_EQ(h->heap_size, size - MINT_HEAP_OFF);
	CHECK(h->created_ns > 0);
	CHECK(strcmp(h->name, t_name) == 0);
	CHECK_EQ(h->dir_lock.owner, 0);
	for (uint32_t i = 0; i < MINT_MAX_NODES; i++) {
		struct mint_node_entry *e = mint_node_entry(f, i);
		CHECK(e != NULL);
		if (!e)
			continue;
		CHECK_EQ(e->id, i);
		CHECK_EQ(e->state, MINT_NODE_FREE);
		CHECK_EQ((uint8_t *)e - (uint8_t *)h, MINT_NODE_TABLE_OFF + i * (uint64_t)MINT_PAGE);
	}
	CHECK(mint_node_entry(f, MINT_MAX_NODES) == NULL);

	/* A second mapping sees the same bytes, both ways. */
	struct mint_fabric *g = NULL;
	CHECK_EQ(mint_fabric_attach(t_name, &g), 0);
	if (g) {
		CHECK_EQ(mint_fabric_size(g), size);
		CHECK_EQ(mint_fabric_self(g), MINT_NODE_NONE);
		uint8_t *a = mint_fabric_at(f, MINT_HEAP_OFF, 64), *b = mint_fabric_at(g, MINT_HEAP_OFF, 64);
		CHECK(a && b && a != b);
		if (a && b) {
			memset(a, 0x5a, 64);
			CHECK(b[0] == 0x5a && b[63] == 0x5a);
			b[10] = 0x11;
			CHECK(a[10] == 0x11);
		}
		mint_fabric_detach(g);
	}

	/* Destroy removes the name; the mapping stays valid until detached. */
	CHECK_EQ(mint_fabric_destroy(t_name), 0);
	CHECK(!file_exists(path));
	uint8_t *p = mint_fabric_at(f, size - 1, 1);
	CHECK(p != NULL);
	if (p) {
		*p = 7;
		CHECK(*p == 7);
	}
	mint_fabric_detach(f);
	mint_fabric_detach(NULL); /* harmless */
	CHECK_EQ(mint_fabric_destroy(t_name), -ENOENT);
	g = NULL;
	CHECK_EQ(mint_fabric_attach(t_name, &g), -ENOENT);
}

static void test_defaults(void)
{
	struct mint_fabric *f = t_fabric(0);
	CHECK_EQ(mint_fabric_size(f), MINT_DEFAULT_SIZE);
	CHECK_EQ(mint_fabric_hdr(f)->size, MINT_DEFAULT_SIZE);
	struct stat st;
	CHECK(stat(mint_fabric_file(f), &st) == 0);
	CHECK_EQ(st.st_size, MINT_DEFAULT_SIZE);
	CHECK((st.st_mode & 0777) == 0600);
	CHECK(strncmp(mint_fabric_file(f), "/dev/shm/mint-", 14) == 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();

	/* Sizes round up to a whole page. */
	f = t_fabric(MINT_FABRIC_MIN_SIZE + 1);
	CHECK_EQ(mint_fabric_size(f), MINT_FABRIC_MIN_SIZE + MINT_PAGE);
	CHECK(stat(mint_fabric_file(f), &st) == 0);
	CHECK_EQ(st.st_size, MINT_FABRIC_MIN_SIZE + MINT_PAGE);
	mint_fabric_detach(f);
	t_fabric_cleanup();

	CHECK(strcmp(MINT_DEFAULT_FABRIC, "mint") == 0);
	char path[256];
	CHECK_EQ(mint_fabric_path(MINT_DEFAULT_FABRIC, path, sizeof(path)), 0);
	CHECK(strcmp(path, "/dev/shm/mint-mint") == 0);
}

static void test_min_size(void)
{
	snprintf(t_name, sizeof(t_name), "test-%d", (int)getpid());
	char path[256];
	CHECK_EQ(mint_fabric_path(t_name, path, sizeof(path)), 0);
	struct mint_fabric *f = NULL;
	CHECK_EQ(mint_fabric_create(t_name, MINT_FABRIC_MIN_SIZE - 1, &f), -EINVAL);
	CHECK(!file_exists(path));
	CHECK_EQ(mint_fabric_create(t_name, MINT_PAGE, &f), -EINVAL);
	CHECK_EQ(mint_fabric_create(t_name, 1, &f), -EINVAL);
	CHECK_EQ(mint_fabric_create(t_name, UINT64_MAX, &f), -EINVAL);
	CHECK(!file_exists(path));
	char pat[300];
	snprintf(pat, sizeof(pat), "%s.tmp.*", path);
	CHECK_EQ(count_glob(pat), 0);

	CHECK_EQ(mint_fabric_create(t_name, MINT_FABRIC_MIN_SIZE, &f), 0);
	if (f) {
		CHECK_EQ(mint_fabric_size(f), MINT_FABRIC_MIN_SIZE);
		CHECK_EQ(mint_fabric_hdr(f)->heap_size, MINT_FABRIC_MIN_SIZE - MINT_HEAP_OFF);
		mint_fabric_detach(f);
	}
	t_fabric_cleanup();
}

static void test_names(void)
{
	char path[256];
	CHECK_EQ(mint_fabric_path("", path, sizeof(path)), -EINVAL);
	CHECK_EQ(mint_fabric_path(NULL, path, sizeof(path)), -EINVAL);
	CHECK_EQ(mint_fabric_path("ok-name_1.2", path, sizeof(path)), 0);
	CHECK(strcmp(path, "/dev/shm/mint-ok-name_1.2") == 0);
	char n31[32], n32[33];
	memset(n31, 'a', 31);
	n31[31] = 0;
	memset(n32, 'b', 32);
	n32[32] = 0;
	CHECK_EQ(mint_fabric_path(n31, path, sizeof(path)), 0);
	CHECK_EQ(mint_fabric_path(n32, path, sizeof(path)), -EINVAL);
	const char *bad[] = {"a b", "a:b", ".hidden", "..", "tab\t", "nl\n", "star*", "q?",
			     "uni\xc3\xa9", "semi;colon", "back\\slash", "$x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = mint_fabric_path(bad[i], path, sizeof(path));
		if (rc != -EINVAL)
			fprintf(stderr, "  name '%s' accepted\n", bad[i]);
		CHECK_EQ(rc, -EINVAL);
	}
	/* Too small a buffer. */
	char small[8];
	CHECK_EQ(mint_fabric_path("abc", small, sizeof(small)), -ENAMETOOLONG);
	/* Bad names fail everywhere, creating nothing. */
	struct mint_fabric *f = NULL;
	CHECK_EQ(mint_fabric_create("a b", MINT_FABRIC_MIN_SIZE, &f), -EINVAL);
	CHECK_EQ(mint_fabric_create("", MINT_FABRIC_MIN_SIZE, &f), -EINVAL);
	CHECK_EQ(mint_fabric_create(n32, MINT_FABRIC_MIN_SIZE, &f), -EINVAL);
	CHECK_EQ(mint_fabric_attach("a:b", &f), -EINVAL);
	CHECK_EQ(mint_fabric_attach("", &f), -EINVAL);
	CHECK_EQ(mint_fabric_destroy(".x"), -EINVAL);
	CHECK(!file_exists("/dev/shm/mint-a b"));
}

static void test_path_form(void)
{
	char path[256], got[256];
	t_path(path, sizeof(path), "fab.path-form");
	CHECK_EQ(mint_fabric_path(path, got, sizeof(got)), 0);
	CHECK(strcmp(got, path) == 0);
	/* Anything with a '/' is taken as a path, even odd characters. */
	CHECK_EQ(mint_fabric_path("./odd name:x", got, sizeof(got)), 0);
	CHECK(strcmp(got, "./odd name:x") == 0);
	char longp[300];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	CHECK_EQ(mint_fabric_path(longp, got, sizeof(got)), -ENAMETOOLONG);
	struct mint_fabric *f = NULL;
	CHECK_EQ(mint_fabric_create(longp, MINT_FABRIC_MIN_SIZE, &f), -ENAMETOOLONG);
	CHECK_EQ(mint_fabric_attach(longp, &f), -ENAMETOOLONG);

	f = NULL;
	CHECK_EQ(mint_fabric_create(path, MINT_FABRIC_MIN_SIZE, &f), 0);
	if (!f)
		return;
	CHECK(file_exists(path));
	CHECK(strcmp(mint_fabric_file(f), path) == 0);
	/* The header records the last component. */
	CHECK(strcmp(mint_fabric_hdr(f)->name, "fab.path-form") == 0);
	struct mint_fabric *g = NULL;
	CHECK_EQ(mint_fabric_attach(path, &g), 0);
	if (g) {
		CHECK_EQ(mint_fabric_size(g), MINT_FABRIC_MIN_SIZE);
		mint_fabric_detach(g);
	}
	mint_fabric_detach(f);
	CHECK_EQ(mint_fabric_destroy(path), 0);
	CHECK(!file_exists(path));

	/* A long last component is cut to fit the header's name field. */
	char leaf[80];
	memset(leaf, 'L', 60);
	leaf[60] = 0;
	t_path(path, sizeof(path), leaf);
	f = NULL;
	CHECK_EQ(mint_fabric_create(path, MINT_FABRIC_MIN_SIZE, &f), 0);
	if (f) {
		const char *n = mint_fabric_hdr(f)->name;
		CHECK_EQ(strnlen(n, MINT_NAME_MAX), MINT_NAME_MAX - 1);
		CHECK(strncmp(n, leaf, MINT_NAME_MAX - 1) == 0);
		mint_fabric_detach(f);
	}
	CHECK_EQ(mint_fabric_destroy(path), 0);

	/* A directory that does not exist. */
	t_path(path, sizeof(path), "no/such/dir");
	f = NULL;
	CHECK_EQ(mint_fabric_create(path, MINT_FABRIC_MIN_SIZE, &f), -ENOENT);
	CHECK_EQ(mint_fabric_attach(path, &f), -ENOENT);
}

static void test_attach_not_a_fabric(void)
{
	char path[256];
	t_path(path, sizeof(path), "random");
	/* Random bytes, large enough to hold a header. */
	size_t len = MINT_FABRIC_MIN_SIZE;
	unsigned char *buf = malloc(len);
	srand(1234);
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)rand();
	write_file(path, buf, len);
	attach_fails(path, -EPROTO);
	/* Random bytes, smaller than a header. */
	write_file(path, buf, 100);
	attach_fails(path, -EPROTO);
	/* Empty file. */
	write_file(path, buf, 0);
	attach_fails(path, -EPROTO);
	/* All zeros, full size (a fabric whose creator died before the magic). */
	memset(buf, 0, len);
	write_file(path, buf, len);
	attach_fails(path, -EPROTO);
	free(buf);
	/* Not a regular file. */
	attach_fails("/dev/null", -EPROTO);
	/* Nonexistent. */
	struct mint_fabric *f = NULL;
	t_path(path, sizeof(path), "nonexistent");
	CHECK_EQ(mint_fabric_attach(path, &f), -ENOENT);
	CHECK(!file_exists(path));
	snprintf(t_name, sizeof(t_name), "test-%d", (int)getpid());
	CHECK_EQ(mint_fabric_attach(t_name, &f), -ENOENT);
}

static void test_attach_bad_header(void)
{
	char path[256];
	t_path(path, sizeof(path), "badhdr");
	uint64_t size = MINT_FABRIC_MIN_SIZE + 4 * MINT_PAGE;
	struct mint_fabric_hdr *h = NULL;

	/* Sanity: the untouched file attaches, and attaching writes nothing. */
	make_fabric_file(path, size);
	attach_fails(path, 0);

	/* Wrong magic (one bit). */
	uint64_t magic = MINT_FABRIC_MAGIC ^ 1;
	poke(path, offsetof(struct mint_fabric_hdr, magic), &magic, 8);
	attach_fails(path, -EPROTO);

	/* Wrong version: another layout. */
	uint32_t versions[] = {0, MINT_FABRIC_VERSION + 1, 0xffffffffu};
	for (size_t i = 0; i < 3; i++) {
		make_fabric_file(path, size);
		poke(path, offsetof(struct mint_fabric_hdr, version), &versions[i], 4);
		attach_fails(path, -EPROTONOSUPPORT);
	}

	/* Geometry that does not match this build. */
	struct {
		size_t off, len;
		uint64_t val;
	} geo[] = {
		{offsetof(struct mint_fabric_hdr, header_size), 4, 2048},
		{offsetof(struct mint_fabric_hdr, max_nodes), 4, MINT_MAX_NODES * 2},
		{offsetof(struct mint_fabric_hdr, max_vectors), 4, 128},
		{offsetof(struct mint_fabric_hdr, max_objects), 4, 1},
		{offsetof(struct mint_fabric_hdr, node_table_off), 8, 0},
		{offsetof(struct mint_fabric_hdr, objdir_off), 8, size + 4096},
		{offsetof(struct mint_fabric_hdr, heap_off), 8, 0x1000},
		{offsetof(struct mint_fabric_hdr, heap_size), 8, size},
		{offsetof(struct mint_fabric_hdr, size), 8, MINT_FABRIC_MIN_SIZE - 8},
	};
	for (size_t i = 0; i < sizeof(geo) / sizeof(geo[0]); i++) {
		make_fabric_file(path, size);
		poke(path, (off_t)geo[i].off, &geo[i].val, geo[i].len);
		attach_fails(path, -EPROTO);
	}
	(void)h;
}

static void test_attach_truncated(void)
{
	char path[256];
	t_path(path, sizeof(path), "trunc");
	uint64_t size = MINT_FABRIC_MIN_SIZE + 4 * MINT_PAGE;
	/* Shorter than the size the header records. */
	off_t lens[] = {(off_t)size - 1, (off_t)size - MINT_PAGE, MINT_FABRIC_MIN_SIZE, MINT_PAGE};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		make_fabric_file(path, size);
		CHECK(truncate(path, lens[i]) == 0);
		attach_fails(path, -ENODATA);
	}
	/* Shorter than the header itself, magic intact. */
	off_t short_lens[] = {MINT_PAGE - 1, 100, 8};
	for (size_t i = 0; i < sizeof(short_lens) / sizeof(short_lens[0]); i++) {
		make_fabric_file(path, size);
		CHECK(truncate(path, short_lens[i]) == 0);
		attach_fails(path, -ENODATA);
	}
	/* A header recording more than the file holds (a consistent one). */
	make_fabric_file(path, size);
	uint64_t big = size + 64 * MINT_PAGE, heap = big - MINT_HEAP_OFF;
	poke(path, offsetof(struct mint_fabric_hdr, size), &big, 8);
	poke(path, offsetof(struct mint_fabric_hdr, heap_size), &heap, 8);
	attach_fails(path, -ENODATA);
	unlink(path);
}

static void test_create_existing(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	uint8_t *p = mint_fabric_at(f, MINT_HEAP_OFF, 16);
	memset(p, 0xab, 16);
	mint_fabric_detach(f);
	char path[256];
	CHECK_EQ(mint_fabric_path(t_name, path, sizeof(path)), 0);
	struct fsnap s;
	snap(path, &s);
	struct mint_fabric *g = NULL;
	CHECK_EQ(mint_fabric_create(t_name, MINT_FABRIC_MIN_SIZE * 2, &g), -EEXIST);
	CHECK(unchanged(path, &s));
	char pat[300];
	snprintf(pat, sizeof(pat), "%s.tmp.*", path);
	CHECK_EQ(count_glob(pat), 0);

	/* Any existing file counts, fabric or not. */
	char other[256];
	t_path(other, sizeof(other), "plain");
	write_file(other, "hello", 5);
	snap(other, &s);
	CHECK_EQ(mint_fabric_create(other, MINT_FABRIC_MIN_SIZE, &g), -EEXIST);
	CHECK(unchanged(other, &s));
	unlink(other);
	t_fabric_cleanup();
}

/* Several processes race to create one fabric: exactly one wins (0), the
 * others find it exists (10). */
static int create_racer(int i, void *arg)
{
	(void)i;
	(void)arg;
	struct mint_fabric *f = NULL;
	int rc = mint_fabric_create(t_name, MINT_FABRIC_MIN_SIZE, &f);
	if (rc == 0) {
		mint_fabric_detach(f);
		return 0;
	}
	return rc == -EEXIST ? 10 : 20;
}

static void test_create_race(void)
{
	snprintf(t_name, sizeof(t_name), "test-%d", (int)getpid());
	mint_fabric_destroy(t_name);
	enum { N = 6 };
	int codes[N];
	t_race(N, 30, create_racer, NULL, codes);
	CHECK_EQ(t_count(codes, N, 0), 1);      /* won */
	CHECK_EQ(t_count(codes, N, 10), N - 1); /* lost */
	struct mint_fabric *f = NULL;
	CHECK_EQ(mint_fabric_attach(t_name, &f), 0);
	if (f)
		mint_fabric_detach(f);
	char path[256], pat[300];
	mint_fabric_path(t_name, path, sizeof(path));
	snprintf(pat, sizeof(pat), "%s.tmp.*", path);
	CHECK_EQ(count_glob(pat), 0);
	t_fabric_cleanup();
}

/* Another process attaches and writes; this one sees it. */
static void test_attach_other_process(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	volatile uint8_t *p = mint_fabric_at(f, MINT_HEAP_OFF, 4096);
	pid_t pid = t_fork(30);
	if (pid == 0) {
		struct mint_fabric *g = NULL;
		if (mint_fabric_attach(t_name, &g) != 0)
			_exit(1);
		uint8_t *q = mint_fabric_at(g, MINT_HEAP_OFF, 4096);
		for (int i = 0; i < 4096; i++)
			q[i] = (uint8_t)(i * 7);
		int ok = strcmp(mint_fabric_hdr(g)->name, t_name) == 0;
		mint_fabric_detach(g);
		_exit(ok ? 0 : 2);
	}
	CHECK_EQ(t_wait_child(pid), 0);
	int bad = 0;
	for (int i = 0; i < 4096; i++)
		bad += p[i] != (uint8_t)(i * 7);
	CHECK_EQ(bad, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_bounds(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	uint64_t size = mint_fabric_size(f);
	uint8_t *base = (uint8_t *)mint_fabric_hdr(f);
	CHECK(mint_fabric_at(f, 0, size) == base);
	CHECK(mint_fabric_at(f, size, 0) == base + size);
	CHECK(mint_fabric_at(f, size - 1, 1) == base + size - 1);
	CHECK(mint_fabric_at(f, size, 1) == NULL);
	CHECK(mint_fabric_at(f, size - 1, 2) == NULL);
	CHECK(mint_fabric_at(f, 0, size + 1) == NULL);
	CHECK(mint_fabric_at(f, size + 1, 0) == NULL);
	CHECK(mint_fabric_at(f, UINT64_MAX, 1) == NULL);
	CHECK(mint_fabric_at(f, 1, UINT64_MAX) == NULL);
	CHECK(mint_fabric_at(f, UINT64_MAX, UINT64_MAX) == NULL);
	CHECK(mint_fabric_at(f, 64, UINT64_MAX - 63) == NULL);
	CHECK_EQ(mint_fabric_off(f, base + 12345), 12345);
	CHECK_EQ(mint_fabric_off(f, mint_fabric_at(f, MINT_HEAP_OFF, 8)), MINT_HEAP_OFF);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_strerror(void)
{
	int errs[] = {-EPROTO, -EPROTONOSUPPORT, -ENODATA, -EBADMSG, -EDEADLK, -ENOTCONN,
		      -ENOENT, -EINVAL};
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		const char *s = mint_strerror(errs[i]);
		CHECK(s != NULL && *s);
	}
	CHECK(strstr(mint_strerror(-ENODATA), "truncated") != NULL);
}

int main(void)
{
	t_start("test_fabric", 60);
	t_make_tmpdir();
	RUN(test_create_attach_detach_destroy);
	RUN(test_defaults);
	RUN(test_min_size);
	RUN(test_names);
	RUN(test_path_form);
	RUN(test_attach_not_a_fabric);
	RUN(test_attach_bad_header);
	RUN(test_attach_truncated);
	RUN(test_create_existing);
	RUN(test_create_race);
	RUN(test_attach_other_process);
	RUN(test_bounds);
	RUN(test_strerror);
	return t_done();
}
