/* SPDX-License-Identifier: MIT */
/*
 * SPSC record rings: format/open validation; send/recv of variable-length
 * records with wrap-around and pad records; batches; -EMSGSIZE and
 * -EAGAIN; a cross-process stream of checksummed, numbered records;
 * blocking waits with a tiny ring, timeouts and signals; interrupt arming;
 * and a malicious peer writing garbage into indices, record headers and
 * data, checked to give -EBADMSG, counted errors, no access outside the
 * ring (the ring sits at the very end of the mapping, before a guard
 * page), no hang, and recovery.
 */
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#define T_RNG_SEED 0x243f6a8885a308d3ull
#include "testlib.h"

/* ---- checkable records: a header, then bytes derived from the seq ---- */

#define REC_MAGIC 0x31434552u
struct phdr {
	uint32_t magic, epoch;
	uint64_t seq;
	uint32_t len, sum;
};
#define PHDR ((uint32_t)sizeof(struct phdr))

static uint32_t body_sum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void fill_rec(uint8_t *buf, uint32_t len, uint32_t epoch, uint64_t seq)
{
	struct phdr h = {REC_MAGIC, epoch, seq, len, 0};
	for (uint32_t i = PHDR; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + i * 7);
	h.sum = body_sum(buf + PHDR, len - PHDR) ^ (uint32_t)seq ^ epoch;
	memcpy(buf, &h, sizeof(h));
}

static bool check_rec(const uint8_t *buf, uint32_t len, uint32_t *epoch, uint64_t *seq)
{
	struct phdr h;
	if (len < PHDR)
		return false;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != REC_MAGIC || h.len != len)
		return false;
	if ((body_sum(buf + PHDR, len - PHDR) ^ (uint32_t)h.seq ^ h.epoch) != h.sum)
		return false;
	*epoch = h.epoch;
	*seq = h.seq;
	return true;
}

static uint32_t type_of(uint64_t seq) { return (uint32_t)(seq % 1000); }

/* ---- rings placed at the end of the fabric, before a guard page ---- */

struct rfix {
	struct mint_fabric *f;
	uint64_t off, size;
	struct mint_ring_hdr *h;
	uint8_t *data;
	struct mint_ring p, c; /* producer's and consumer's views */
	void *guard;
};

static void fix_open(struct rfix *x, uint64_t size, uint32_t prod, uint32_t cons,
		     uint32_t vector)
{
	memset(x, 0, sizeof(*x));
	uint64_t fsize = MINT_FABRIC_MIN_SIZE + ((mint_ring_footprint(size) + MINT_PAGE - 1) & ~(uint64_t)(MINT_PAGE - 1));
	x->f = t_fabric(fsize);
	fsize = mint_fabric_size(x->f);
	x->size = size;
	x->off = fsize - mint_ring_footprint(size);
	/* A guard page right after the mapping, so that an overread faults.
	 * Reserve FSIZE + a page, unmap the low FSIZE bytes and keep the top
	 * page (PROT_NONE): the kernel maps top-down, so a handle attached
	 * now fills exactly that hole, and the page after it is the guard. */
	for (int try = 0; try < 8 && !x->guard; try++) {
		uint8_t *res = mmap(NULL, fsize + MINT_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
				    -1, 0);
		if (res == MAP_FAILED)
			break;
		munmap(res, fsize);
		struct mint_fabric *g = NULL;
		if (mint_fabric_attach(t_name, &g) != 0) {
			munmap(res + fsize, MINT_PAGE);
			break;
		}
		if ((uint8_t *)mint_fabric_hdr(g) + fsize == res + fsize) {
			mint_fabric_detach(x->f);
			x->f = g;
			x->guard = res + fsize;
		} else {
			mint_fabric_detach(g);
			munmap(res + fsize, MINT_PAGE);
		}
	}
	if (!x->guard) {
		static int noted;
		if (!noted++)
			fprintf(stderr, "note: could not place a guard page after the fabric\n");
	}
	uint8_t *end = (uint8_t *)mint_fabric_hdr(x->f) + fsize;
	void *mem = mint_fabric_at(x->f, x->off, mint_ring_footprint(size));
	CHECK_EQ(mint_ring_format(mem, size, prod, cons, vector), 0);
	CHECK_EQ(mint_ring_open(x->f, x->off, &x->p), 0);
	CHECK_EQ(mint_ring_open(x->f, x->off, &x->c), 0);
	x->h = mem;
	x->data = (uint8_t *)mem + sizeof(struct mint_ring_hdr);
	CHECK((uint8_t *)x->data + size == end);
}

static void fix_close(struct rfix *x)
{
	if (x->guard)
		munmap(x->guard, MINT_PAGE);
	mint_fabric_detach(x->f);
	t_fabric_cleanup();
}

/* A ring in the object directory, as other processes find it. */
static int ring_init(void *mem, uint64_t size, void *arg)
{
	uint64_t rsize = *(uint64_t *)arg;
	(void)size;
	return mint_ring_format(mem, rsize, MINT_NODE_NONE, MINT_NODE_NONE, MINT_VEC_CHANNEL);
}

static uint64_t ring_object(struct mint_fabric *f, const char *name, uint64_t rsize)
{
	uint64_t off = 0;
	CHECK(mint_obj_open(f, name, MINT_OBJ_RING, mint_ring_footprint(rsize), ring_init, &rsize,
			    &off) >= 0);
	return off;
}

/* ==== format / open ==== */

static void test_format_open(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	uint64_t fsize = mint_fabric_size(f);
	uint64_t off = MINT_HEAP_OFF;
	uint8_t *mem = mint_fabric_at(f, off, 8192);
	struct mint_ring r;
	/* Sizes: powers of two from MINT_RING_MIN_SIZE. */
	uint64_t bad_sizes[] = {0, 1, 128, 255, 300, 1000, 4095, 1ull << 41, UINT64_MAX};
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++)
		CHECK_EQ(mint_ring_format(mem, bad_sizes[i], 0, 1, 1), -EINVAL);
	CHECK_EQ(mint_ring_format(mem + 8, 256, 0, 1, 1), -EINVAL); /* not 64-aligned */
	CHECK_EQ(mint_ring_format(mem, 256, 0, 1, 1), 0);
	struct mint_ring_hdr *h = (void *)mem;
	CHECK_EQ(h->magic, MINT_RING_MAGIC);
	CHECK_EQ(h->version, MINT_RING_VERSION);
	CHECK_EQ(h->size, 256);
	CHECK_EQ(h->max_record, 256 / 2 - 8);
	CHECK_EQ(h->prod_node, 0);
	CHECK_EQ(h->cons_node, 1);
	CHECK_EQ(h->cons_vector, 1);
	CHECK_EQ(h->tail, 0);
	CHECK_EQ(h->head, 0);
	CHECK_EQ(mint_ring_footprint(256), 256 + sizeof(struct mint_ring_hdr));
	CHECK_EQ(mint_ring_open(f, off, &r), 0);
	CHECK_EQ(mint_ring_max_record(&r), 120);
	CHECK_EQ(r.size, 256);
	CHECK_EQ(mint_ring_pending_bytes(&r), 0);
	/* Big rings cap their largest record at 1 GiB. */
	CHECK_EQ(mint_ring_format(mem, 1ull << 33, 0, 1, 1), 0);
	CHECK_EQ(h->max_record, 1u << 30);
	CHECK_EQ(mint_ring_open(f, off, &r), -EPROTO); /* does not fit in the fabric */

	/* Opening: offsets and headers come from shared memory. */
	CHECK_EQ(mint_ring_format(mem, 1024, 0, 1, 1), 0);
	CHECK_EQ(mint_ring_open(f, off + 8, &r), -EINVAL);
	CHECK_EQ(mint_ring_open(f, fsize, &r), -EINVAL);
	CHECK_EQ(mint_ring_open(f, fsize - 64, &r), -EINVAL);
	CHECK_EQ(mint_ring_open(f, UINT64_MAX - 63, &r), -EINVAL);
	struct {
		size_t fo, len;
		uint64_t v;
	} bad[] = {
		{offsetof(struct mint_ring_hdr, magic), 4, 0},
		{offsetof(struct mint_ring_hdr, version), 4, 2},
		{offsetof(struct mint_ring_hdr, size), 8, 1000},
		{offsetof(struct mint_ring_hdr, size), 8, 0},
		{offsetof(struct mint_ring_hdr, size), 8, 1ull << 63},
		{offsetof(struct mint_ring_hdr, size), 8, 1ull << 30}, /* past the fabric */
		{offsetof(struct mint_ring_hdr, max_record), 4, 1024 / 2},
		{offsetof(struct mint_ring_hdr, max_record), 4, 0xffffffffu},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(mint_ring_format(mem, 1024, 0, 1, 1), 0);
		memcpy(mem + bad[i].fo, &bad[i].v, bad[i].len);
		int rc = mint_ring_open(f, off, &r);
		if (rc != -EPROTO)
			fprintf(stderr, "  bad header %zu: open gave %d\n", i, rc);
		CHECK_EQ(rc, -EPROTO);
	}
	/* A ring that ends exactly at the end of the fabric is fine; one
	 * byte more is not. */
	uint64_t end_off = fsize - mint_ring_footprint(1024);
	CHECK_EQ(mint_ring_format(mint_fabric_at(f, end_off, 64), 1024, 0, 1, 1), 0);
	CHECK_EQ(mint_ring_open(f, end_off, &r), 0);
	CHECK_EQ(mint_ring_format(mint_fabric_at(f, end_off + 64, 64), 1024, 0, 1, 1), 0);
	CHECK_EQ(mint_ring_open(f, end_off + 64, &r), -EPROTO);
	/* A smaller max_record is the ring's own business: accepted. */
	CHECK_EQ(mint_ring_format(mem, 1024, 0, 1, 1), 0);
	h->max_record = 100;
	CHECK_EQ(mint_ring_open(f, off, &r), 0);
	CHECK_EQ(mint_ring_max_record(&r), 100);
	uint8_t buf[128] = {0};
	CHECK_EQ(mint_ring_send(&r, buf, 101, 1), -EMSGSIZE);
	CHECK_EQ(mint_ring_send(&r, buf, 100, 1), 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void on_segv(int sig)
{
	(void)sig;
	_exit(42);
}

/* The garbage tests rely on the guard page: check that it faults. */
static void test_guard_page(void)
{
	struct rfix x;
	fix_open(&x, 1024, MINT_NODE_NONE, MINT_NODE_NONE, 1);
	CHECK(x.guard != NULL);
	if (x.guard) {
		pid_t pid = t_fork(t_child_timeout);
		if (pid == 0) {
			signal(SIGSEGV, on_segv);
			volatile uint8_t *p = x.data + x.size - 1;
			(void)p[0];   /* the last byte of the ring: fine */
			(void)p[1];   /* one past: the guard */
			_exit(0);
		}
		CHECK_EQ(t_wait_child(pid), 42); /* exited 42, from on_segv */
	}
	fix_close(&x);
}

/* ==== single process ==== */

static void test_basic(void)
{
	struct rfix x;
	fix_open(&x, 1024, MINT_NODE_NONE, MINT_NODE_NONE, 1);
	uint8_t buf[600], out[600];
	uint32_t type = 99;
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), -EAGAIN);
	CHECK_EQ(mint_ring_send(&x.p, "", 0, 7), 0);
	CHECK_EQ(mint_ring_pending_bytes(&x.c), 8);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), 0);
	CHECK_EQ(type, 7);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), NULL), -EAGAIN);
	uint64_t sent = 1, got = 1;
	/* An empty record from and into no buffer at all (UBSan checks that
	 * no memcpy sees the NULLs); a non-empty one does not fit there. */
	CHECK_EQ(mint_ring_send(&x.p, NULL, 0, 8), 0);
	CHECK_EQ(mint_ring_recv(&x.c, NULL, 0, &type), 0);
	CHECK_EQ(type, 8);
	struct mint_msg empty = {NULL, 0, 0, 9};
	CHECK_EQ(mint_ring_send_batch(&x.p, &empty, 1), 1);
	empty.type = 0;
	CHECK_EQ(mint_ring_recv_batch(&x.c, &empty, 1), 1);
	CHECK_EQ(empty.type, 9);
	CHECK_EQ(mint_ring_send(&x.p, "x", 1, 10), 0);
	CHECK_EQ(mint_ring_recv(&x.c, NULL, 0, &type), -EMSGSIZE);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), 1);
	sent += 3, got += 3;
	/* Lengths 0..max, each checked byte for byte. */
	uint32_t max = mint_ring_max_record(&x.p);
	CHECK_EQ(max, 1024 / 2 - 8);
	for (uint32_t len = 0; len <= max; len += (len < 40 ? 1 : 37)) {
		for (uint32_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(len + i);
		CHECK_EQ(mint_ring_send(&x.p, buf, len, len % 500), 0);
		sent++;
		memset(out, 0xcc, sizeof(out));
		int n = mint_ring_recv(&x.c, out, sizeof(out), &type);
		CHECK_EQ(n, len);
		CHECK_EQ(type, len % 500);
		CHECK(memcmp(out, buf, len) == 0);
		CHECK(out[len] == 0xcc); /* nothing past the payload */
		got++;
	}
	CHECK_EQ(mint_ring_send(&x.p, buf, max, 1), 0);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), (int)max);
	sent++, got++;
	/* Fill to full: -EAGAIN, counted as a full event.  From a 64-aligned
	 * position, sixteen 64-byte records fill the ring exactly. */
	while (x.p.local_tail % 64) {
		CHECK_EQ(mint_ring_send(&x.p, "", 0, 1), 0);
		CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), NULL), 0);
		sent++, got++;
	}
	uint64_t full0 = x.h->full_events;
	int k = 0;
	while (k < 1000 && mint_ring_send(&x.p, buf, 56, 2) == 0)
		k++;
	CHECK_EQ(k, 1024 / 64);
	CHECK_EQ(mint_ring_send(&x.p, buf, 56, 2), -EAGAIN);
	CHECK_EQ(mint_ring_send(&x.p, buf, 0, 2), -EAGAIN);
	CHECK(x.h->full_events > full0);
	CHECK_EQ(mint_ring_pending_bytes(&x.c), 1024);
	sent += (uint64_t)k;
	/* One out makes room for exactly one more of the same size. */
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), 56);
	got++;
	CHECK_EQ(mint_ring_send(&x.p, buf, 56, 2), 0);
	sent++;
	CHECK_EQ(mint_ring_send(&x.p, buf, 0, 2), -EAGAIN);
	while (mint_ring_recv(&x.c, out, sizeof(out), &type) == 56)
		got++;
	CHECK_EQ(sent, got);
	CHECK_EQ(x.h->sent_records, sent);
	CHECK_EQ(x.h->recv_records, got);
	CHECK_EQ(x.h->errors, 0);
	CHECK_EQ(x.h->tail, x.h->head);
	CHECK_EQ(mint_ring_pending_bytes(&x.c), 0);
	/* Types: anything below MINT_REC_PAD. */
	CHECK_EQ(mint_ring_send(&x.p, buf, 4, MINT_REC_PAD - 1), 0);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), 4);
	CHECK_EQ(type, MINT_REC_PAD - 1);
	CHECK(mint_ring_send(&x.p, buf, 4, MINT_REC_PAD) < 0);
	CHECK(mint_ring_send(&x.p, buf, 4, 0xffffffffu) < 0);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), -EAGAIN);
	fix_close(&x);
}

/* mint_ring_hold: records peeked and released while held keep their
 * bytes (the head stays put, the producer finds the ring full) until the
 * hold ends; an idle peek meanwhile reports no error. */
static void test_hold(void)
{
	struct rfix x;
	fix_open(&x, 1024, MINT_NODE_NONE, MINT_NODE_NONE, 1);
	uint8_t buf[56];
	const void *a, *b;
	int k = 0;
	memset(buf, 'a', sizeof(buf));
	while (k < 100 && mint_ring_send(&x.p, buf, sizeof(buf), 1) == 0)
		k++;
	CHECK_EQ(k, 1024 / 64);
	mint_ring_hold(&x.c, true);
	CHECK_EQ(mint_ring_peek(&x.c, &a, NULL), 56);
	mint_ring_release(&x.c);
	CHECK_EQ(mint_ring_peek(&x.c, &b, NULL), 56);
	mint_ring_release(&x.c);
	CHECK(a != b);
	CHECK_EQ(x.h->head, 0);
	CHECK_EQ(mint_ring_send(&x.p, buf, sizeof(buf), 1), -EAGAIN);
	CHECK(memcmp(a, buf, sizeof(buf)) == 0); /* still the first record */
	while (mint_ring_peek(&x.c, &b, NULL) == 56)
		mint_ring_release(&x.c);
	CHECK_EQ(mint_ring_peek(&x.c, &b, NULL), -EAGAIN);
	CHECK_EQ(x.h->head, 0);
	mint_ring_hold(&x.c, false);
	CHECK_EQ(x.h->head, 1024);
	CHECK_EQ(mint_ring_send(&x.p, buf, sizeof(buf), 1), 0);
	CHECK_EQ(x.h->errors, 0);
	fix_close(&x);
}

/* ==== zero copy: reserve/commit, peek/release ==== */

/* The producer's side: a reservation points into the ring, a commit
 * publishes at most what was reserved, an uncommitted one is dropped. */
static void test_reserve_commit(void)
{
	struct rfix x;
	fix_open(&x, 1024, MINT_NODE_NONE, MINT_NODE_NONE, 1);
	uint8_t out[600];
	uint32_t type = 0;
	void *room = NULL;
	CHECK_EQ(mint_ring_commit(&x.p, 0, 1), -EINVAL); /* nothing reserved */
	CHECK_EQ(mint_ring_reserve(&x.p, mint_ring_max_record(&x.p) + 1, &room), -EMSGSIZE);
	CHECK_EQ(mint_ring_reserve(&x.p, 100, &room), 0);
	CHECK((uint8_t *)room >= x.data && (uint8_t *)room + 100 <= x.data + x.size);
	memcpy(room, "zero-copy", 9);
	CHECK_EQ(mint_ring_pending_bytes(&x.c), 0); /* nothing published yet */
	CHECK_EQ(mint_ring_commit(&x.p, 101, 5), -EINVAL); /* more than reserved */
	CHECK_EQ(mint_ring_commit(&x.p, 9, MINT_REC_PAD), -EINVAL);
	CHECK_EQ(mint_ring_commit(&x.p, 9, 5), 0);
	CHECK_EQ(mint_ring_commit(&x.p, 9, 5), -EINVAL); /* one commit per reservation */
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), 9);
	CHECK_EQ(type, 5);
	CHECK(memcmp(out, "zero-copy", 9) == 0);
	/* A reservation not committed is dropped by the next one. */
	CHECK_EQ(mint_ring_reserve(&x.p, 50, &room), 0);
	memset(room, 'a', 50);
	CHECK_EQ(mint_ring_reserve(&x.p, 50, &room), 0);
	memset(room, 'b', 50);
	CHECK_EQ(mint_ring_commit(&x.p, 50, 6), 0);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), 50);
	CHECK(out[0] == 'b' && out[49] == 'b');
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), -EAGAIN);
	/* Full: a reservation fails like a send, and works after a receive. */
	int k = 0;
	while (k < 100 && mint_ring_send(&x.p, out, 120, 1) == 0)
		k++;
	CHECK(k > 0 && k < 100);
	CHECK_EQ(mint_ring_reserve(&x.p, 120, &room), -EAGAIN);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), 120);
	CHECK_EQ(mint_ring_reserve(&x.p, 120, &room), 0);
	CHECK_EQ(mint_ring_commit(&x.p, 0, 2), 0);
	while (mint_ring_recv(&x.c, out, sizeof(out), &type) >= 0)
		;
	CHECK_EQ(x.h->errors, 0);
	CHECK_EQ(x.h->tail, x.h->head);
	fix_close(&x);
}

/* The consumer's side: a peek shows the record in place until released;
 * a second peek shows the same one; a release without a peek is a no-op. */
static void test_peek_release(void)
{
	struct rfix x;
	fix_open(&x, 1024, MINT_NODE_NONE, MINT_NODE_NONE, 1);
	const void *at = NULL;
	uint32_t type = 0;
	CHECK_EQ(mint_ring_peek(&x.c, &at, &type), -EAGAIN);
	mint_ring_release(&x.c);
	CHECK_EQ(x.h->head, 0);
	CHECK_EQ(mint_ring_send(&x.p, "first", 5, 3), 0);
	CHECK_EQ(mint_ring_send(&x.p, "second", 6, 4), 0);
	CHECK_EQ(mint_ring_peek(&x.c, &at, &type), 5);
	CHECK((const uint8_t *)at >= x.data && (const uint8_t *)at + 5 <= x.data + x.size);
	CHECK(memcmp(at, "first", 5) == 0 && type == 3);
	CHECK_EQ(mint_ring_peek(&x.c, &at, &type), 5); /* not consumed yet */
	CHECK_EQ(x.h->head, 0);
	mint_ring_release(&x.c);
	CHECK_EQ(mint_ring_peek(&x.c, &at, &type), 6);
	CHECK(memcmp(at, "second", 6) == 0 && type == 4);
	mint_ring_release(&x.c);
	mint_ring_release(&x.c); /* nothing peeked: nothing consumed */
	CHECK_EQ(x.h->head, x.h->tail);
	CHECK_EQ(x.h->recv_records, 2);
	CHECK_EQ(mint_ring_peek(&x.c, &at, &type), -EAGAIN);
	fix_close(&x);
}

/* A hostile peer between the calls: what the other side writes after a
 * reserve or a peek changes nothing the library already validated.  The
 * commit publishes the record at the reserved place whatever the consumer
 * wrote over head and tail; the release consumes the peeked length even
 * if the producer rewrote the record's header since; the next receive
 * finds the corruption, counts it, and the ring recovers. */
static void test_zero_copy_hostile(void)
{
	struct rfix x;
	fix_open(&x, 1024, MINT_NODE_NONE, MINT_NODE_NONE, 1);
	uint8_t out[600];
	uint32_t type = 0;
	void *room = NULL;
	const void *at = NULL;
	/* Between reserve and commit: the "consumer" forges head and tail. */
	CHECK_EQ(mint_ring_reserve(&x.p, 64, &room), 0);
	memcpy(room, "kept", 4);
	atomic_store(&x.h->head, mint_le64(1u << 20));
	atomic_store(&x.h->tail, mint_le64(999));
	CHECK_EQ(mint_ring_commit(&x.p, 4, 1), 0);
	CHECK_EQ(mint_le64(atomic_load(&x.h->tail)), 16); /* the producer's own tail */
	atomic_store(&x.h->head, 0);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), 4);
	CHECK(memcmp(out, "kept", 4) == 0);
	/* Between peek and release: the "producer" rewrites the header. */
	CHECK_EQ(mint_ring_send(&x.p, "abcdefgh", 8, 2), 0);
	CHECK_EQ(mint_ring_send(&x.p, "next", 4, 3), 0);
	CHECK_EQ(mint_ring_peek(&x.c, &at, &type), 8);
	struct mint_rec_hdr *rh = (struct mint_rec_hdr *)((const uint8_t *)at - sizeof(*rh));
	rh->len = mint_le32(900);
	mint_ring_release(&x.c);
	CHECK_EQ(mint_le64(atomic_load(&x.h->head)), 16 + 16);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), 4);
	CHECK(memcmp(out, "next", 4) == 0 && type == 3);
	/* A record header made impossible after its publication is refused
	 * by peek, counted, and the ring carries on. */
	uint64_t err0 = x.h->errors;
	CHECK_EQ(mint_ring_send(&x.p, "bad", 3, 1), 0);
	((struct mint_rec_hdr *)(x.data + (mint_le64(atomic_load(&x.h->head)) & 1023)))->len =
		mint_le32(5000);
	CHECK_EQ(mint_ring_peek(&x.c, &at, &type), -EBADMSG);
	CHECK(x.h->errors > err0);
	int rc = -EAGAIN;
	for (int i = 0; i < 4 && rc != 4; i++) {
		if (mint_ring_send(&x.p, "good", 4, 1) == 0)
			rc = mint_ring_recv(&x.c, out, sizeof(out), &type);
	}
	CHECK_EQ(rc, 4);
	fix_close(&x);
}

/* The PAD record, where the layout says it goes. */
static void test_pad_record(void)
{
	struct rfix x;
	fix_open(&x, 256, MINT_NODE_NONE, MINT_NODE_NONE, 1);
	uint8_t buf[128], out[128];
	memset(buf, 0x42, sizeof(buf));
	/* 100-byte payloads take 8 + 104 = 112 bytes. */
	CHECK_EQ(mint_ring_send(&x.p, buf, 100, 1), 0);
	CHECK_EQ(mint_ring_send(&x.p, buf, 100, 1), 0);
	CHECK_EQ(x.h->tail, 224);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), NULL), 100);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), NULL), 100);
	/* 32 bytes left before the end: a pad fills them, the record goes to 0. */
	buf[0] = 0x77;
	CHECK_EQ(mint_ring_send(&x.p, buf, 100, 3), 0);
	struct mint_rec_hdr pad, rec;
	memcpy(&pad, x.data + 224, sizeof(pad));
	memcpy(&rec, x.data, sizeof(rec));
	CHECK_EQ(pad.type, MINT_REC_PAD);
	CHECK_EQ(pad.len, 256 - 224 - 8);
	CHECK_EQ(rec.len, 100);
	CHECK_EQ(rec.type, 3);
	CHECK_EQ(x.h->tail, 256 + 112);
	CHECK_EQ(mint_ring_pending_bytes(&x.c), 256 + 112 - 224);
	uint32_t type;
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), 100);
	CHECK_EQ(type, 3);
	CHECK(out[0] == 0x77 && out[99] == 0x42);
	CHECK_EQ(x.h->head, 256 + 112);
	CHECK_EQ(x.h->recv_records, 3); /* pads are not records */
	CHECK_EQ(x.h->sent_records, 3);
	/* A record that needs a pad needs the pad's room too.  Head and tail
	 * at 368 (position 112). */
	CHECK_EQ(mint_ring_send(&x.p, buf, 100, 1), 0); /* 112..224 */
	CHECK_EQ(mint_ring_send(&x.p, buf, 0, 1), 0);   /* 224..232 */
	/* 105 bytes: 24 of pad + 120 = 144 needed, 256 - 120 = 136 free. */
	CHECK_EQ(mint_ring_send(&x.p, buf, 105, 1), -EAGAIN);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), NULL), 100);
	CHECK_EQ(mint_ring_send(&x.p, buf, 105, 1), 0);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), NULL), 0);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), NULL), 105);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), NULL), -EAGAIN);
	CHECK_EQ(x.h->errors, 0);
	fix_close(&x);
}

/* Random interleavings against a model queue: order, content, wraps. */
static void test_wrap_model(void)
{
	uint64_t sizes[] = {256, 1024, 4096};
	for (int si = 0; si < 3; si++) {
		struct rfix x;
		fix_open(&x, sizes[si], MINT_NODE_NONE, MINT_NODE_NONE, 1);
		uint32_t max = mint_ring_max_record(&x.p);
		static uint8_t buf[4096], out[4096];
		uint64_t next_send = 0, next_recv = 0, pads = 0;
		int ops = (int)t_scale(T_SANITIZED ? 60000 : 200000);
		for (int op = 0; op < ops; op++) {
			if (t_rnd() % 2) {
				uint32_t len = PHDR + (uint32_t)(t_rnd() % (max - PHDR + 1));
				if (t_rnd() % 8 == 0)
					len = max;
				fill_rec(buf, len, 1, next_send);
				uint64_t before = x.p.local_tail;
				int rc = mint_ring_send(&x.p, buf, len, type_of(next_send));
				if (rc == 0) {
					next_send++;
					uint64_t rec = 8 + ((len + 7) & ~7u);
					if (x.p.local_tail - before != rec)
						pads++;
				} else {
					CHECK_EQ(rc, -EAGAIN);
					if (rc != -EAGAIN)
						break;
				}
			} else {
				uint32_t type;
				int n = mint_ring_recv(&x.c, out, sizeof(out), &type);
				if (n == -EAGAIN) {
					CHECK_EQ(next_recv, next_send);
					continue;
				}
				uint32_t ep;
				uint64_t seq;
				bool ok = n >= 0 && check_rec(out, (uint32_t)n, &ep, &seq) &&
					  seq == next_recv && type == type_of(seq);
				CHECK(ok);
				if (!ok)
					break;
				next_recv++;
			}
			CHECK_EQ(mint_ring_pending_bytes(&x.c), x.h->tail - x.c.local_head);
		}
		CHECK(x.h->tail > 20 * sizes[si]); /* wrapped many times */
		CHECK(pads > 10);
		CHECK_EQ(x.h->errors, 0);
		fix_close(&x);
	}
}

static void test_msgsize(void)
{
	struct rfix x;
	fix_open(&x, 1024, MINT_NODE_NONE, MINT_NODE_NONE, 1);
	uint8_t buf[1024], out[1024];
	uint32_t max = mint_ring_max_record(&x.p);
	memset(buf, 1, sizeof(buf));
	/* Producer side: too long. */
	CHECK_EQ(mint_ring_send(&x.p, buf, max + 1, 1), -EMSGSIZE);
	CHECK_EQ(mint_ring_send(&x.p, buf, 1024, 1), -EMSGSIZE);
	CHECK_EQ(mint_ring_send(&x.p, buf, 0xffffffffu, 1), -EMSGSIZE);
	CHECK_EQ(x.h->tail, 0);
	CHECK_EQ(mint_ring_send_wait(&x.p, buf, max + 1, 1, 10), -EMSGSIZE);
	struct mint_msg big = {buf, max + 1, 0, 1};
	CHECK_EQ(mint_ring_send_batch(&x.p, &big, 1), -EMSGSIZE);
	/* Consumer side: buffer too small; the record stays. */
	CHECK_EQ(mint_ring_send(&x.p, buf, 100, 5), 0);
	uint32_t type = 0;
	CHECK_EQ(mint_ring_recv(&x.c, out, 99, &type), -EMSGSIZE);
	CHECK_EQ(mint_ring_recv(&x.c, out, 0, &type), -EMSGSIZE);
	CHECK_EQ(mint_ring_recv_wait(&x.c, out, 50, &type, 10), -EMSGSIZE);
	struct mint_msg small = {out, 0, 64, 0};
	CHECK_EQ(mint_ring_recv_batch(&x.c, &small, 1), -EMSGSIZE);
	CHECK_EQ(mint_ring_pending_bytes(&x.c), 8 + 104);
	CHECK_EQ(x.h->head, 0);
	CHECK_EQ(mint_ring_recv(&x.c, out, 100, &type), 100);
	CHECK_EQ(type, 5);
	/* Behind a pad too: the pad may go, the record stays. */
	CHECK_EQ(mint_ring_send(&x.p, buf, 400, 1), 0); /* 112..520 */
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), NULL), 400);
	CHECK_EQ(mint_ring_send(&x.p, buf, 500, 6), 0); /* pad 520..1024, then 0..508 */
	CHECK_EQ(mint_ring_recv(&x.c, out, 10, &type), -EMSGSIZE);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), 500);
	CHECK_EQ(type, 6);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), &type), -EAGAIN);
	/* A batch stops before the record that does not fit. */
	CHECK_EQ(mint_ring_send(&x.p, buf, 10, 1), 0);
	CHECK_EQ(mint_ring_send(&x.p, buf, 300, 1), 0);
	struct mint_msg m2[2] = {{out, 0, 64, 0}, {out + 64, 0, 64, 0}};
	CHECK_EQ(mint_ring_recv_batch(&x.c, m2, 2), 1);
	CHECK_EQ(m2[0].len, 10);
	CHECK_EQ(mint_ring_recv(&x.c, out, sizeof(out), NULL), 300);
	CHECK_EQ(x.h->errors, 0);
	fix_close(&x);
}

static void test_batch(void)
{
	struct rfix x;
	fix_open(&x, 1024, MINT_NODE_NONE, MINT_NODE_NONE, 1);
	static uint8_t bufs[20][200], outs[20][200];
	struct mint_msg msgs[20], in[20];
	for (int i = 0; i < 20; i++) {
		fill_rec(bufs[i], 100, 2, (uint64_t)i); /* 112 bytes each */
		msgs[i] = (struct mint_msg){bufs[i], 100, 100, type_of((uint64_t)i)};
		in[i] = (struct mint_msg){outs[i], 0, 200, 0};
	}
	CHECK_EQ(mint_ring_recv_batch(&x.c, in, 20), 0);
	CHECK_EQ(mint_ring_send_batch(&x.p, msgs, 0), 0);
	/* 1024 / 112: 9 fit. One index update, one counter update. */
	CHECK_EQ(mint_ring_send_batch(&x.p, msgs, 20), 9);
	CHECK_EQ(x.h->sent_records, 9);
	CHECK_EQ(x.h->tail, 9 * 112);
	CHECK_EQ(mint_ring_send_batch(&x.p, msgs + 9, 11), 0);
	CHECK_EQ(mint_ring_recv_batch(&x.c, in, 4), 4);
	CHECK_EQ(x.h->head, 4 * 112);
	CHECK_EQ(mint_ring_recv_batch(&x.c, in + 4, 20), 5);
	for (int i = 0; i < 9; i++) {
		uint32_t ep;
		uint64_t seq;
		CHECK(check_rec(outs[i], in[i].len, &ep, &seq) && seq == (uint64_t)i &&
		      in[i].type == type_of(seq));
	}
	CHECK_EQ(x.h->recv_records, 9);
	/* The rest, across the end (a pad inside the batch). */
	CHECK_EQ(mint_ring_send_batch(&x.p, msgs + 9, 11), 9);
	CHECK_EQ(mint_ring_recv_batch(&x.c, in, 20), 9);
	for (int i = 0; i < 9; i++) {
		uint32_t ep;
		uint64_t seq;
		CHECK(check_rec(outs[i], in[i].len, &ep, &seq) && seq == (uint64_t)(i + 9));
	}
	/* An oversized message ends the batch where it stands. */
	struct mint_msg mixed[4] = {msgs[0], msgs[1], {bufs[2], 600, 600, 1}, msgs[3]};
	CHECK_EQ(mint_ring_send_batch(&x.p, mixed, 4), 2);
	mixed[0].type = MINT_REC_PAD;
	CHECK_EQ(mint_ring_send_batch(&x.p, mixed, 4), -EMSGSIZE);
	CHECK_EQ(mint_ring_recv_batch(&x.c, in, 20), 2);
	CHECK_EQ(mint_ring_recv_batch(&x.c, in, 20), 0);
	CHECK_EQ(x.h->sent_records, x.h->recv_records);
	CHECK_EQ(x.h->errors, 0);
	fix_close(&x);
}

/* ==== across processes ==== */

/* In a child: the test's fabric, with R the ring at OFF in it (or exit 2). */
static struct mint_fabric *child_ring(uint64_t off, struct mint_ring *r)
{
	struct mint_fabric *f = t_child_attach();
	if (mint_ring_open(f, off, r) != 0)
		_exit(2);
	return f;
}

struct stream_args {
	uint64_t off;
	uint64_t n;
	int batch; /* use send_batch for part of the stream */
};

static void stream_producer(void *arg)
{
	struct stream_args *a = arg;
	struct mint_ring r;
	struct mint_fabric *f = child_ring(a->off, &r);
	uint32_t max = mint_ring_max_record(&r);
	uint32_t cap = max < 256 ? max : 256;
	static uint8_t buf[8][256];
	t_rng_state = 777;
	uint64_t seq = 0;
	while (seq < a->n) {
		if (a->batch && (seq / 1000) % 2 == 1 && a->n - seq >= 8) {
			struct mint_msg m[8];
			for (int i = 0; i < 8; i++) {
				uint32_t len = PHDR + (uint32_t)(t_rnd() % (cap - PHDR + 1));
				fill_rec(buf[i], len, 1, seq + (uint64_t)i);
				m[i] = (struct mint_msg){buf[i], len, len, type_of(seq + (uint64_t)i)};
			}
			int done = 0;
			uint64_t deadline = t_now_ns() + 20000000000ull;
			while (done < 8) {
				int rc = mint_ring_send_batch(&r, m + done, (unsigned)(8 - done));
				if (rc < 0 || t_now_ns() > deadline)
					_exit(4);
				if (rc == 0)
					sched_yield();
				done += rc;
			}
			seq += 8;
		} else {
			uint32_t len = PHDR + (uint32_t)(t_rnd() % (cap - PHDR + 1));
			fill_rec(buf[0], len, 1, seq);
			int rc = mint_ring_send_wait(&r, buf[0], len, type_of(seq), 20000);
			if (rc != 0) {
				fprintf(stderr, "producer: send_wait %d at %llu\n", rc,
					(unsigned long long)seq);
				_exit(5);
			}
			seq++;
		}
	}
	mint_fabric_detach(f);
}

static void consume_stream(struct mint_ring *r, uint64_t n, bool batches)
{
	static uint8_t out[8][256];
	uint64_t expect = 0;
	int bad = 0;
	while (expect < n && bad < 5) {
		if (batches && expect % 3 == 0) {
			struct mint_msg m[8];
			for (int i = 0; i < 8; i++)
				m[i] = (struct mint_msg){out[i], 0, 256, 0};
			int got = mint_ring_recv_batch(r, m, 8);
			if (got < 0) {
				fprintf(stderr, "recv_batch: %d\n", got);
				bad++;
				continue;
			}
			if (got == 0) {
				uint32_t t;
				int rc = mint_ring_recv_wait(r, out[0], 256, &t, 20000);
				if (rc < 0) {
					fprintf(stderr, "recv_wait: %d at %llu\n", rc,
						(unsigned long long)expect);
					bad = 5;
					break;
				}
				m[0].len = (uint32_t)rc;
				m[0].type = t;
				got = 1;
			}
			for (int i = 0; i < got; i++) {
				uint32_t ep;
				uint64_t seq;
				if (!check_rec(out[i], m[i].len, &ep, &seq) || seq != expect ||
				    m[i].type != type_of(seq)) {
					fprintf(stderr, "record %llu bad\n", (unsigned long long)expect);
					bad++;
				}
				expect++;
			}
		} else {
			uint32_t t, ep;
			uint64_t seq;
			int rc = mint_ring_recv_wait(r, out[0], 256, &t, 20000);
			if (rc < 0) {
				fprintf(stderr, "recv_wait: %d at %llu\n", rc, (unsigned long long)expect);
				bad = 5;
				break;
			}
			if (!check_rec(out[0], (uint32_t)rc, &ep, &seq) || seq != expect ||
			    t != type_of(seq)) {
				fprintf(stderr, "record %llu bad (len %d)\n", (unsigned long long)expect, rc);
				bad++;
			}
			expect++;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(expect, n);
}

static void test_cross_process_stream(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE + 256 * 1024);
	uint64_t n = (uint64_t)t_scale(T_SANITIZED ? 200000 : 1000000);
	struct stream_args a = {ring_object(f, "stream", 64 * 1024), n, 1};
	struct mint_ring r;
	CHECK_EQ(mint_ring_open(f, a.off, &r), 0);
	pid_t pid = t_spawn(stream_producer, &a);
	consume_stream(&r, n, true);
	CHECK_EQ(t_wait_child(pid), 0);
	CHECK_EQ(mint_ring_recv(&r, NULL, 0, NULL), -EAGAIN);
	CHECK_EQ(r.hdr->sent_records, n);
	CHECK_EQ(r.hdr->recv_records, n);
	CHECK_EQ(r.hdr->errors, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* A 256-byte ring: the producer is full nearly all the time and sleeps. */
static void test_blocking_small_ring(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	uint64_t n = T_SANITIZED ? 20000 : 50000;
	struct stream_args a = {ring_object(f, "tiny", 256), n, 0};
	struct mint_ring r;
	CHECK_EQ(mint_ring_open(f, a.off, &r), 0);
	CHECK_EQ(mint_ring_max_record(&r), 120);
	pid_t pid = t_spawn(stream_producer, &a);
	/* Slow down now and then so the producer really waits on a full ring. */
	uint64_t done = 0;
	while (done < n) {
		uint64_t chunk = n - done < 997 ? n - done : 997;
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
		/* consume_stream checks from seq 0: check this chunk inline. */
		static uint8_t out[256];
		for (uint64_t i = 0; i < chunk; i++) {
			uint32_t t, ep;
			uint64_t seq;
			int rc = mint_ring_recv_wait(&r, out, sizeof(out), &t, 20000);
			if (rc < 0 || !check_rec(out, (uint32_t)rc, &ep, &seq) || seq != done + i) {
				fprintf(stderr, "  tiny ring: rc %d at %llu\n", rc,
					(unsigned long long)(done + i));
				CHECK(0);
				done = n;
				break;
			}
		}
		if (done < n)
			done += chunk;
	}
	CHECK_EQ(t_wait_child(pid), 0);
	CHECK(r.hdr->full_events > 0);
	CHECK_EQ(r.hdr->recv_records, n);
	CHECK_EQ(r.hdr->errors, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

static void pester_parent(void *arg)
{
	pid_t parent = *(pid_t *)arg;
	for (int i = 0; i < 2000; i++) {
		kill(parent, SIGUSR1);
		struct timespec ts = {0, 20000000};
		nanosleep(&ts, NULL);
	}
}

struct late_args {
	uint64_t off;
	int delay_ms;
	int count;
};

static void late_producer(void *arg)
{
	struct late_args *a = arg;
	struct mint_ring r;
	struct mint_fabric *f = child_ring(a->off, &r);
	uint8_t buf[64];
	for (int i = 0; i < a->count; i++) {
		struct timespec ts = {0, (long)a->delay_ms * 1000000L};
		nanosleep(&ts, NULL);
		fill_rec(buf, 64, 3, (uint64_t)i);
		if (mint_ring_send_wait(&r, buf, 64, 1, 20000) != 0)
			_exit(4);
	}
	mint_fabric_detach(f);
}

static void test_wait_timeouts_signals(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	uint64_t off = ring_object(f, "waits", 256);
	struct mint_ring p, c;
	CHECK_EQ(mint_ring_open(f, off, &p), 0);
	CHECK_EQ(mint_ring_open(f, off, &c), 0);
	uint8_t buf[128];
	memset(buf, 3, sizeof(buf));
	/* Empty ring: timeouts. */
	uint64_t t0 = t_now_ns();
	CHECK_EQ(mint_ring_recv_wait(&c, buf, sizeof(buf), NULL, 0), -ETIMEDOUT);
	CHECK_EQ(mint_ring_recv_wait(&c, buf, sizeof(buf), NULL, 30), -ETIMEDOUT);
	uint64_t el = t_now_ns() - t0;
	CHECK(el >= 30000000ull);
	CHECK(el < 10000000000ull);
	/* Data present: timeout 0 still receives. */
	CHECK_EQ(mint_ring_send_wait(&p, buf, 10, 1, 0), 0);
	CHECK_EQ(mint_ring_recv_wait(&c, buf, sizeof(buf), NULL, 0), 10);
	/* Full ring: send timeouts. */
	while (mint_ring_send(&p, buf, 56, 1) == 0)
		;
	t0 = t_now_ns();
	CHECK_EQ(mint_ring_send_wait(&p, buf, 56, 1, 0), -ETIMEDOUT);
	CHECK_EQ(mint_ring_send_wait(&p, buf, 56, 1, 30), -ETIMEDOUT);
	el = t_now_ns() - t0;
	CHECK(el >= 30000000ull);
	CHECK(el < 10000000000ull);
	while (mint_ring_recv(&c, buf, sizeof(buf), NULL) >= 0)
		;

	/* A signal ends a wait with -EINTR. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	pid_t me = getpid();
	pid_t pest = t_spawn(pester_parent, &me);
	t0 = t_now_ns();
	int rc = mint_ring_recv_wait(&c, buf, sizeof(buf), NULL, 20000);
	CHECK_EQ(rc, -EINTR);
	CHECK(t_now_ns() - t0 < 15000000000ull);
	while (mint_ring_send(&p, buf, 56, 1) == 0)
		;
	rc = mint_ring_send_wait(&p, buf, 56, 1, 20000);
	CHECK_EQ(rc, -EINTR);
	kill(pest, SIGKILL);
	t_wait_child(pest);
	signal(SIGUSR1, SIG_DFL);
	CHECK(got_usr1 > 0);
	while (mint_ring_recv(&c, buf, sizeof(buf), NULL) >= 0)
		;

	/* A sleeping consumer is woken by another process's send (no timeout
	 * involved: the wait is far longer than the whole exchange). */
	struct late_args la = {off, 20, 10};
	pid_t pid = t_spawn(late_producer, &la);
	for (int i = 0; i < 10; i++) {
		uint32_t ep;
		uint64_t seq;
		t0 = t_now_ns();
		rc = mint_ring_recv_wait(&c, buf, sizeof(buf), NULL, 30000);
		CHECK_EQ(rc, 64);
		CHECK(rc == 64 && check_rec(buf, 64, &ep, &seq) && seq == (uint64_t)i);
		CHECK(t_now_ns() - t0 < 25000000000ull);
	}
	CHECK_EQ(t_wait_child(pid), 0);
	CHECK_EQ(c.hdr->errors, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* One consumer of two rings sleeps on both doorbells: a record on either
 * ends the wait (another process sends; the wait is far longer). */
static void test_wait_either(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	const uint64_t offs[2] = {ring_object(f, "either.a", 256), ring_object(f, "either.b", 256)};
	struct mint_ring r[2];
	CHECK_EQ(mint_ring_open(f, offs[0], &r[0]), 0);
	CHECK_EQ(mint_ring_open(f, offs[1], &r[1]), 0);
	uint8_t buf[128];
	CHECK_EQ(mint_ring_wait_either(&r[0], &r[1], 0), -ETIMEDOUT);
	CHECK_EQ(mint_ring_wait_either(&r[0], &r[1], 20), -ETIMEDOUT);
	CHECK_EQ(mint_ring_wait_either(&r[0], NULL, 20), -ETIMEDOUT);
	for (int k = 1; k >= 0; k--) { /* the second ring first */
		struct late_args la = {offs[k], 20, 3};
		pid_t pid = t_spawn(late_producer, &la);
		for (int i = 0; i < 3; i++) {
			uint64_t t0 = t_now_ns();
			CHECK_EQ(mint_ring_wait_either(&r[0], &r[1], 30000), 0);
			CHECK(t_now_ns() - t0 < 25000000000ull);
			CHECK_EQ(mint_ring_recv(&r[k], buf, sizeof(buf), NULL), 64);
		}
		CHECK_EQ(t_wait_child(pid), 0);
	}
	/* Nothing is left announced on either bell. */
	for (int k = 0; k < 2; k++)
		CHECK_EQ(atomic_load(&r[k].hdr->data_bell.sleeping), MINT_BELL_AWAKE);
	/* Data already there: no wait, with or without a second ring. */
	struct mint_ring prod;
	CHECK_EQ(mint_ring_open(f, offs[0], &prod), 0);
	CHECK_EQ(mint_ring_send(&prod, buf, 8, 1), 0);
	CHECK_EQ(mint_ring_wait_either(&r[0], NULL, 0), 0);
	CHECK_EQ(mint_ring_wait_either(&r[1], &r[0], 0), 0);
	CHECK_EQ(mint_ring_recv(&r[0], buf, sizeof(buf), NULL), 8);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ==== interrupt arming ==== */

static bool pending_bit(struct mint_fabric *f, uint32_t node, uint32_t vec)
{
	struct mint_node_entry *e = mint_node_entry(f, node);
	return (atomic_load(&e->pending[vec / 64]) >> (vec % 64)) & 1;
}

static void clear_pending(struct mint_fabric *f, uint32_t node)
{
	struct mint_node_entry *e = mint_node_entry(f, node);
	for (int w = 0; w < 4; w++)
		atomic_store(&e->pending[w], 0);
}

static void test_arm(void)
{
	struct rfix x;
	fix_open(&x, 1024, MINT_NODE_NONE, MINT_NODE_NONE, 40);
	CHECK_EQ(mint_ring_arm(&x.c), -EINVAL); /* a tool consumer has no vector */
	fix_close(&x);

	fix_open(&x, 1024, 3, 7, 40);
	uint8_t buf[64] = {1};
	clear_pending(x.f, 7);
	CHECK_EQ(mint_ring_arm(&x.c), 0);
	CHECK_EQ(x.h->data_bell.sleeping, MINT_BELL_IRQ);
	CHECK(!pending_bit(x.f, 7, 40));
	CHECK_EQ(mint_ring_send(&x.p, buf, 10, 1), 0);
	CHECK(pending_bit(x.f, 7, 40)); /* armed: the send raised the vector */
	CHECK_EQ(x.h->data_bell.sleeping, MINT_BELL_AWAKE);
	clear_pending(x.f, 7);
	CHECK_EQ(mint_ring_send(&x.p, buf, 10, 1), 0);
	CHECK(!pending_bit(x.f, 7, 40)); /* not armed: no interrupt */
	CHECK_EQ(mint_ring_arm(&x.c), 1);  /* data is there: drain first */
	CHECK_EQ(x.h->data_bell.sleeping, MINT_BELL_AWAKE);
	CHECK_EQ(mint_ring_recv(&x.c, buf, sizeof(buf), NULL), 10);
	CHECK_EQ(mint_ring_recv(&x.c, buf, sizeof(buf), NULL), 10);
	CHECK_EQ(mint_ring_arm(&x.c), 0);
	/* A batch raises it once. */
	struct mint_msg m[3] = {{buf, 8, 8, 1}, {buf, 8, 8, 1}, {buf, 8, 8, 1}};
	CHECK_EQ(mint_ring_send_batch(&x.p, m, 3), 3);
	CHECK(pending_bit(x.f, 7, 40));
	CHECK_EQ(x.h->errors, 0);
	fix_close(&x);
}

/* ==== a malicious peer ==== */

static uint32_t epoch_counter = 100;

/* The consumer's verdict on the records it got while the honest producer
 * went on after some corruption. */
struct drive_result {
	bool recovered;
	uint64_t sent, received, junk, stale, dups, ebadmsg, ebadmsg_after, bad_after, send_bad;
};

/*
 * The honest producer sends numbered records, the consumer drains, both
 * bounded.  Before "recovery" (32 records in a row, in order) drops and
 * junk are tolerated; after it every record must arrive, intact and in
 * order, with no more errors.  OLD_EPOCH/OLD_LAST: the records consumed
 * before the corruption; getting one of those again is a replay.
 */
static struct drive_result drive(struct rfix *x, int rounds, uint32_t old_epoch, uint64_t old_last)
{
	struct drive_result d = {0};
	uint32_t epoch = ++epoch_counter;
	uint32_t max = mint_ring_max_record(&x->p);
	uint32_t cap = max < 200 ? max : 200;
	static uint8_t buf[2048], out[2048];
	uint64_t next = 0, last = 0, streak = 0;
	bool have_last = false;
	for (int round = 0; round < rounds; round++) {
		for (int k = 0; k < 3; k++) {
			uint32_t len = PHDR + (uint32_t)(t_rnd() % (cap - PHDR + 1));
			fill_rec(buf, len, epoch, next);
			int rc = mint_ring_send(&x->p, buf, len, type_of(next));
			if (rc == 0) {
				next++;
				continue;
			}
			if (rc == -EBADMSG)
				d.send_bad++;
			else if (rc != -EAGAIN) {
				fprintf(stderr, "  send: unexpected %d\n", rc);
				d.bad_after++;
			}
			break;
		}
		for (int k = 0; k < 16; k++) {
			uint32_t type = 0;
			memset(out, 0, 256);
			int rc = mint_ring_recv(&x->c, out, sizeof(out), &type);
			if (rc == -EAGAIN)
				break;
			if (rc == -EBADMSG) {
				d.ebadmsg++;
				if (d.recovered)
					d.ebadmsg_after++;
				continue;
			}
			if (rc < 0 || (uint32_t)rc > sizeof(out)) {
				fprintf(stderr, "  recv: unexpected %d\n", rc);
				d.bad_after++;
				continue;
			}
			uint32_t ep;
			uint64_t seq;
			bool valid = check_rec(out, (uint32_t)rc, &ep, &seq);
			if (valid && ep == epoch && type == type_of(seq)) {
				if (have_last && seq <= last) {
					d.dups++;
					continue;
				}
				if (have_last && seq == last + 1)
					streak++;
				else
					streak = 0;
				if (d.recovered && seq != last + 1)
					d.bad_after++; /* a loss after recovery */
				last = seq;
				have_last = true;
				d.received++;
				if (streak >= 32)
					d.recovered = true;
			} else if (valid && ep == old_epoch && seq <= old_last) {
				d.stale++; /* consumed before: a replay */
				if (d.recovered)
					d.bad_after++;
			} else {
				d.junk++;
				if (d.recovered)
					d.bad_after++;
			}
		}
	}
	/* Drain what is left: everything the producer sent must be there. */
	for (int k = 0; k < 10000; k++) {
		uint32_t type;
		int rc = mint_ring_recv(&x->c, out, sizeof(out), &type);
		if (rc == -EAGAIN)
			break;
		uint32_t ep;
		uint64_t seq;
		if (rc < 0 || !check_rec(out, (uint32_t)rc, &ep, &seq) || ep != epoch ||
		    seq != last + 1) {
			d.bad_after++;
			continue;
		}
		last = seq;
		d.received++;
	}
	if (d.recovered && last + 1 != next)
		d.bad_after++;
	d.sent = next;
	return d;
}

/* Old, good traffic before the corruption: leaves head and tail past a
 * few wraps; the last seq consumed is returned. */
static uint64_t last_len_bytes; /* bytes of the last record of the prelude */

static uint64_t prelude(struct rfix *x, uint32_t epoch, int n, int leave_pending)
{
	uint8_t buf[256], out[256];
	uint64_t last = 0;
	for (int i = 0; i < n + leave_pending; i++) {
		uint32_t len = PHDR + (uint32_t)(t_rnd() % 100);
		fill_rec(buf, len, epoch, (uint64_t)i);
		uint64_t t0 = x->p.local_tail;
		CHECK_EQ(mint_ring_send(&x->p, buf, len, type_of((uint64_t)i)), 0);
		last_len_bytes = 8 + ((len + 7) & ~7ull);
		if (x->p.local_tail - t0 != last_len_bytes)
			last_len_bytes = 8; /* a pad went first: aim at the pad instead */
		if (i < n) {
			int rc = mint_ring_recv(&x->c, out, sizeof(out), NULL);
			CHECK_EQ(rc, (int)len);
			last = (uint64_t)i;
		}
	}
	return last;
}

/* Move both ends (ring empty) so the next record starts at data offset POS. */
static void advance_to(struct rfix *x, uint64_t pos)
{
	uint8_t out[8];
	for (int i = 0; i < 10000 && (x->p.local_tail & (x->size - 1)) != pos; i++) {
		CHECK_EQ(mint_ring_send(&x->p, "", 0, 1), 0);
		CHECK_EQ(mint_ring_recv(&x->c, out, sizeof(out), NULL), 0);
	}
	CHECK_EQ(x->p.local_tail & (x->size - 1), pos);
}

/* The header of the last record the producer published. */
static struct mint_rec_hdr *last_rec(struct rfix *x, uint32_t len)
{
	uint64_t rec = 8 + ((len + 7) & ~7ull);
	return (struct mint_rec_hdr *)(x->data + ((x->p.local_tail - rec) & (x->size - 1)));
}

enum garbage {
	G_TAIL_HUGE,
	G_TAIL_MAX,
	G_TAIL_UNALIGNED,
	G_TAIL_BEHIND,
	G_TAIL_BACK_ONE_RECORD,
	G_TAIL_FAR_AHEAD,
	G_REC_LEN_HUGE,
	G_REC_LEN_OVER_MAX,
	G_REC_LEN_CROSSES_END,
	G_REC_LEN_BEYOND_TAIL,
	G_REC_TYPE_PAD_PLUS,
	G_REC_TYPE_MAX,
	G_PAD_SHORT,
	G_PAD_LONG,
	G_PAD_BEYOND_TAIL,
	G_DATA_RANDOM,
	G_CONSUMER_SIDE_END, /* the ones above reach the consumer */
	G_HEAD_HUGE,
	G_HEAD_UNALIGNED,
	G_HEAD_AHEAD_OF_TAIL,
	G_HEAD_BEHIND,
	G_HEAD_AFTER_DRAIN,
	G_COUNT,
};

static const char *gname[G_COUNT] = {
	"tail huge", "tail ~0", "tail unaligned", "tail behind head", "tail back one record", "tail > head + size",
	"record len ~0", "record len > max", "record crosses the end", "record beyond tail",
	"type PAD+1", "type ~0", "pad too short", "pad too long", "pad beyond tail",
	"random data", "-", "head huge", "head unaligned", "head ahead of tail",
	"head far behind", "head garbage after a full drain",
};

static void inject(struct rfix *x, enum garbage g)
{
	uint8_t buf[512];
	memset(buf, 0x5c, sizeof(buf));
	uint64_t mask = x->size - 1;
	switch (g) {
	case G_TAIL_HUGE:
		x->h->tail = 1ull << 62;
		break;
	case G_TAIL_MAX:
		x->h->tail = UINT64_MAX;
		break;
	case G_TAIL_UNALIGNED:
		x->h->tail = x->p.local_tail + 3;
		break;
	case G_TAIL_BEHIND:
		x->h->tail = x->c.local_head - 64;
		break;
	case G_TAIL_BACK_ONE_RECORD:
		/* exactly onto the last record consumed: a valid, old record */
		x->h->tail = x->c.local_head - last_len_bytes;
		break;
	case G_TAIL_FAR_AHEAD:
		x->h->tail = x->c.local_head + x->size + 8;
		break;
	case G_REC_LEN_HUGE:
		CHECK_EQ(mint_ring_send(&x->p, buf, 40, 1), 0);
		last_rec(x, 40)->len = 0xffffffffu;
		break;
	case G_REC_LEN_OVER_MAX:
		advance_to(x, 0);
		CHECK_EQ(mint_ring_send(&x->p, buf, 40, 1), 0);
		CHECK_EQ(mint_ring_send(&x->p, buf, 40, 1), 0);
		/* the first of the two: the second stays a good record */
		((struct mint_rec_hdr *)(x->data + ((x->p.local_tail - 96) & mask)))->len =
			mint_ring_max_record(&x->c) + 8;
		break;
	case G_REC_LEN_CROSSES_END: {
		advance_to(x, x->size - 64);
		CHECK_EQ(mint_ring_send(&x->p, buf, 16, 1), 0); /* at size-64 */
		for (int i = 0; i < 4; i++)
			CHECK_EQ(mint_ring_send(&x->p, buf, 16, 1), 0);
		struct mint_rec_hdr *h = (void *)(x->data + x->size - 64);
		h->len = 64; /* 72 bytes > the 64 left; len itself <= max */
		CHECK(h->len <= mint_ring_max_record(&x->c));
		break;
	}
	case G_REC_LEN_BEYOND_TAIL:
		CHECK_EQ(mint_ring_send(&x->p, buf, 8, 1), 0);
		last_rec(x, 8)->len = 40; /* fits before the end, not before the tail */
		break;
	case G_REC_TYPE_PAD_PLUS:
		CHECK_EQ(mint_ring_send(&x->p, buf, 40, 1), 0);
		last_rec(x, 40)->type = MINT_REC_PAD + 1;
		break;
	case G_REC_TYPE_MAX:
		CHECK_EQ(mint_ring_send(&x->p, buf, 40, 1), 0);
		last_rec(x, 40)->type = 0xffffffffu;
		break;
	case G_PAD_SHORT:
	case G_PAD_LONG: {
		advance_to(x, x->size - 64);
		CHECK_EQ(mint_ring_send(&x->p, buf, 100, 1), 0); /* pad at size-64, record at 0 */
		struct mint_rec_hdr *pad = (void *)(x->data + x->size - 64);
		CHECK_EQ(pad->type, MINT_REC_PAD);
		CHECK_EQ(pad->len, 56);
		pad->len = g == G_PAD_SHORT ? 48 : 0xfffffff0u;
		break;
	}
	case G_PAD_BEYOND_TAIL: {
		advance_to(x, x->size - 64);
		struct mint_rec_hdr pad = {56, MINT_REC_PAD};
		memcpy(x->data + x->size - 64, &pad, sizeof(pad));
		x->h->tail = x->c.local_head + 16; /* the pad claims 64, 16 published */
		break;
	}
	case G_DATA_RANDOM:
		for (uint64_t i = 0; i < x->size; i++)
			x->data[i] = (uint8_t)t_rnd();
		x->h->tail = x->c.local_head + ((t_rnd() % x->size) & ~7ull) + 8;
		break;
	case G_HEAD_HUGE:
		x->h->head = 1ull << 62;
		break;
	case G_HEAD_UNALIGNED:
		x->h->head = x->h->head + 4;
		break;
	case G_HEAD_AHEAD_OF_TAIL:
		x->h->head = x->p.local_tail + 64;
		break;
	case G_HEAD_BEHIND:
		x->h->head = x->p.local_tail - 2 * x->size;
		break;
	case G_HEAD_AFTER_DRAIN: {
		/* The producer saw a full ring (its cached head is old), the
		 * consumer drained it all, then head was overwritten: the
		 * producer's next send must look at head. */
		uint8_t out[512];
		while (mint_ring_send(&x->p, buf, 100, 1) == 0)
			;
		while (mint_ring_recv(&x->c, out, sizeof(out), NULL) >= 0)
			;
		x->h->head = 1ull << 62;
		break;
	}
	default:
		break;
	}
}

static void test_garbage(void)
{
	for (int g = 0; g < G_COUNT; g++) {
		if (g == G_CONSUMER_SIDE_END)
			continue;
		struct rfix x;
		fix_open(&x, 1024, MINT_NODE_NONE, 5, 40);
		uint32_t old = ++epoch_counter;
		uint64_t old_last = prelude(&x, old, 37, 0);
		uint64_t err0 = x.h->errors;
		inject(&x, (enum garbage)g);
		int fails0 = t_failures;
		if (g < G_CONSUMER_SIDE_END && g != G_DATA_RANDOM) {
			/* The consumer rejects it, counts it, and has resynchronised:
			 * with nothing new published, the next call finds the ring
			 * empty, and arming does not report phantom data. */
			uint8_t out[2048];
			int rc = mint_ring_recv(&x.c, out, sizeof(out), NULL);
			CHECK_EQ(rc, -EBADMSG);
			CHECK(x.h->errors > err0);
			uint64_t err1 = x.h->errors;
			int again = mint_ring_recv(&x.c, out, sizeof(out), NULL);
			CHECK_EQ(again, -EAGAIN);
			CHECK_EQ(mint_ring_arm(&x.c), 0);
			CHECK_EQ(mint_ring_pending_bytes(&x.c), 0);
			CHECK(x.h->errors - err1 <= 1);
		}
		struct drive_result d = drive(&x, 400, old, old_last);
		if (g < G_CONSUMER_SIDE_END)
			CHECK(x.h->errors > err0 || g == G_DATA_RANDOM);
		CHECK(d.recovered);
		CHECK_EQ(d.bad_after, 0);
		CHECK_EQ(d.ebadmsg_after, 0);
		CHECK_EQ(d.dups, 0);
		CHECK_EQ(d.stale, 0);
		if (t_failures != fails0)
			fprintf(stderr,
				"  ^ garbage '%s': recovered %d sent %llu received %llu junk %llu "
				"stale %llu dups %llu ebadmsg %llu send_ebadmsg %llu errors %llu\n",
				gname[g], d.recovered, (unsigned long long)d.sent,
				(unsigned long long)d.received, (unsigned long long)d.junk,
				(unsigned long long)d.stale, (unsigned long long)d.dups,
				(unsigned long long)d.ebadmsg, (unsigned long long)d.send_bad,
				(unsigned long long)(x.h->errors - err0));
		fix_close(&x);
	}
}

/* Garbage at random, over and over; then the ring must recover. */
static void test_fuzz(void)
{
	struct rfix x;
	fix_open(&x, 1024, MINT_NODE_NONE, 5, 40);
	uint32_t max = mint_ring_max_record(&x.p);
	static uint8_t buf[1024], out[1024];
	uint64_t results[8] = {0};
	for (long it = 0; it < t_scale(10000); it++) {
		switch (t_rnd() % 10) {
		case 0: { /* garbage somewhere */
			uint64_t v = t_rnd();
			switch (t_rnd() % 9) {
			case 0: x.h->tail = v; break;
			case 1: x.h->tail = x.c.local_head + (v % (2 * x.size)); break;
			case 2: x.h->head = v; break;
			case 3: x.h->head = x.p.local_tail - (v % (2 * x.size)); break;
			case 4: { /* a random header at a random 8-aligned spot */
				uint64_t pos = (v % x.size) & ~7ull;
				uint32_t hv[2] = {(uint32_t)t_rnd(), (uint32_t)t_rnd()};
				if (t_rnd() % 2)
					hv[0] %= 2 * max;
				if (t_rnd() % 3 == 0)
					hv[1] = MINT_REC_PAD + (uint32_t)(t_rnd() % 3) - 1;
				memcpy(x.data + pos, hv, 8);
				break;
			}
			case 5: /* random bytes over a stretch of data */
				for (uint64_t i = 0, pos = v % x.size; i < 64 && pos + i < x.size; i++)
					x.data[pos + i] = (uint8_t)t_rnd();
				break;
			case 6: /* the bells */
				x.h->data_bell.sleeping = (uint32_t)v;
				x.h->space_bell.sleeping = (uint32_t)(v >> 32);
				break;
			case 7: /* geometry in the shared header: copies must be used */
				x.h->size = v;
				x.h->max_record = (uint32_t)v;
				break;
			default:
				x.h->tail = x.c.local_head + (v % 64);
				break;
			}
			break;
		}
		case 1:
		case 2:
		case 3:
		case 4: {
			uint32_t len = (uint32_t)(t_rnd() % (max + 1));
			memset(buf, (int)len, len);
			int rc = mint_ring_send(&x.p, buf, len, (uint32_t)(t_rnd() % 100));
			CHECK(rc == 0 || rc == -EAGAIN || rc == -EBADMSG);
			break;
		}
		case 5: {
			struct mint_msg m[4];
			for (int i = 0; i < 4; i++)
				m[i] = (struct mint_msg){out + i * 256, 0, 256, 0};
			int rc = mint_ring_recv_batch(&x.c, m, 4);
			CHECK(rc == -EBADMSG || rc == -EMSGSIZE || (rc >= 0 && rc <= 4));
			for (int i = 0; i < rc; i++)
				CHECK(m[i].len <= 256);
			results[rc < 0 ? 5 : 6]++;
			break;
		}
		case 6:
			(void)mint_ring_arm(&x.c);
			(void)mint_ring_pending_bytes(&x.c);
			break;
		default: {
			uint32_t cap = (uint32_t)(t_rnd() % 2 ? sizeof(out) : t_rnd() % 64);
			int rc = mint_ring_recv(&x.c, out, cap, NULL);
			CHECK(rc == -EAGAIN || rc == -EBADMSG || rc == -EMSGSIZE ||
			      (rc >= 0 && (uint32_t)rc <= cap));
			results[rc == -EAGAIN ? 0 : rc == -EBADMSG ? 1 : rc == -EMSGSIZE ? 2 : 3]++;
			if (rc == -EMSGSIZE)
				(void)mint_ring_recv(&x.c, out, sizeof(out), NULL);
			break;
		}
		}
	}
	CHECK(results[1] + results[5] > 0); /* corruption was seen */
	CHECK(x.h->errors > 0);
	/* The shared header's geometry fields were trashed; restore them for
	 * nobody's sake but the record (the views keep their own copies). */
	x.h->size = x.size;
	x.h->max_record = max;
	struct drive_result d = drive(&x, 600, 0, 0);
	CHECK(d.recovered);
	CHECK_EQ(d.bad_after, 0);
	CHECK_EQ(d.ebadmsg_after, 0);
	if (!d.recovered || d.bad_after)
		fprintf(stderr, "  fuzz: recovered %d sent %llu received %llu junk %llu ebadmsg %llu send_ebadmsg %llu\n",
			d.recovered, (unsigned long long)d.sent, (unsigned long long)d.received,
			(unsigned long long)d.junk, (unsigned long long)d.ebadmsg,
			(unsigned long long)d.send_bad);
	fix_close(&x);
}

int main(void)
{
	t_start("test_ring", T_SANITIZED ? 200 : 100);
	t_child_timeout = 100;
	RUN(test_format_open);
	RUN(test_guard_page);
	RUN(test_basic);
	RUN(test_hold);
	RUN(test_pad_record);
	RUN(test_wrap_model);
	RUN(test_msgsize);
	RUN(test_batch);
	RUN(test_reserve_commit);
	RUN(test_peek_release);
	RUN(test_zero_copy_hostile);
	RUN(test_arm);
	RUN(test_cross_process_stream);
	RUN(test_blocking_small_ring);
	RUN(test_wait_timeouts_signals);
	RUN(test_wait_either);
	RUN(test_garbage);
	RUN(test_fuzz);
	return t_done();
}
