/* SPDX-License-Identifier: MIT */
/*
 * The object directory: create, find, remove, list; find-or-create; the
 * heap allocator (reuse, no overlaps, -ENOSPC); a full directory
 * (-ENFILE); corrupt entries written straight into the directory; a
 * generation left odd; and processes racing on the directory lock.
 */
#include "testlib.h"

static struct mint_obj_entry *dir_entry(struct mint_fabric *f, uint32_t i)
{
	return mint_fabric_at(f, MINT_OBJDIR_OFF + i * (uint64_t)sizeof(struct mint_obj_entry),
			      sizeof(struct mint_obj_entry));
}

/* The directory slot holding NAME (-1 if none). */
static int slot_of(struct mint_fabric *f, const char *name)
{
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++) {
		struct mint_obj_entry *e = dir_entry(f, i);
		if (e->state == MINT_OBJ_LIVE && strncmp(e->name, name, MINT_OBJ_NAME_MAX) == 0)
			return (int)i;
	}
	return -1;
}

struct init_rec {
	int calls;
	void *mem;
	uint64_t size;
	int zeroed;
	int ret;
};

static int record_init(void *mem, uint64_t size, void *arg)
{
	struct init_rec *r = arg;
	r->calls++;
	r->mem = mem;
	r->size = size;
	r->zeroed = 1;
	for (uint64_t i = 0; i < size; i++)
		if (((uint8_t *)mem)[i]) {
			r->zeroed = 0;
			break;
		}
	memset(mem, 0xee, size); /* dirty it: the next owner must get zeros */
	return r->ret;
}

static void test_basic(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE + 64 * 1024);
	struct mint_fabric_hdr *h = mint_fabric_hdr(f);
	uint32_t gen0 = h->dir_generation;
	uint64_t off = 0, off2 = 0;
	struct init_rec ir = {0};
	CHECK_EQ(mint_obj_open(f, "alpha", MINT_OBJ_RAW, 1000, record_init, &ir, &off), 1);
	CHECK_EQ(ir.calls, 1);
	CHECK(ir.zeroed);
	CHECK_EQ(ir.size, 1000);
	CHECK(ir.mem == mint_fabric_at(f, off, 1000));
	CHECK(off >= MINT_HEAP_OFF && off % 64 == 0);
	CHECK(h->dir_generation != gen0);

	/* Found, not created; init not run again; the offset comes back. */
	uint32_t gen1 = h->dir_generation;
	CHECK_EQ(mint_obj_open(f, "alpha", MINT_OBJ_RAW, 1000, record_init, &ir, &off2), 0);
	CHECK_EQ(ir.calls, 1);
	CHECK_EQ(off2, off);
	/* The size asked for is irrelevant once it exists. */
	CHECK_EQ(mint_obj_open(f, "alpha", MINT_OBJ_RAW, 5, NULL, NULL, &off2), 0);
	CHECK_EQ(off2, off);
	CHECK_EQ(h->dir_generation, gen1);
	/* Another type under the same name. */
	CHECK_EQ(mint_obj_open(f, "alpha", MINT_OBJ_RING, 1000, NULL, NULL, &off2), -EEXIST);
	CHECK_EQ(mint_obj_open(f, "alpha", MINT_OBJ_CHANNEL, 1000, NULL, NULL, &off2), -EEXIST);

	struct mint_obj_info info;
	memset(&info, 0xff, sizeof(info));
	CHECK_EQ(mint_obj_find(f, "alpha", &info), 0);
	CHECK(strcmp(info.name, "alpha") == 0);
	CHECK_EQ(info.type, MINT_OBJ_RAW);
	CHECK_EQ(info.offset, off);
	CHECK_EQ(info.size, 1000);
	CHECK_EQ(info.flags, 0);
	CHECK_EQ(info.creator, MINT_NODE_NONE);
	CHECK_EQ(mint_obj_find(f, "alpha", NULL), 0);
	CHECK_EQ(mint_obj_find(f, "beta", &info), -ENOENT);

	/* The entry itself, as the layout says. */
	int s = slot_of(f, "alpha");
	CHECK(s >= 0);
	if (s >= 0) {
		struct mint_obj_entry *e = dir_entry(f, (uint32_t)s);
		CHECK_EQ(e->type, MINT_OBJ_RAW);
		CHECK_EQ(e->offset, off);
		CHECK_EQ(e->size, 1000);
		CHECK_EQ(e->creator, MINT_NODE_NONE);
		CHECK(e->created_ns > 0);
	}

	/* More objects, then list. */
	const char *names[] = {"beta", "gamma.1", "delta.x", "e_p-s"};
	for (int i = 0; i < 4; i++)
		CHECK_EQ(mint_obj_open(f, names[i], MINT_OBJ_RAW, 64u * (unsigned)(i + 1), NULL, NULL,
				       &off2),
			 1);
	struct mint_obj_info list[8];
	CHECK_EQ(mint_obj_list(f, list, 8), 5);
	CHECK_EQ(mint_obj_list(f, list, 2), 5); /* count beyond CAP */
	CHECK_EQ(mint_obj_list(f, NULL, 0), 5);
	int seen = 0;
	CHECK_EQ(mint_obj_list(f, list, 8), 5);
	for (int i = 0; i < 5; i++) {
		if (strcmp(list[i].name, "alpha") == 0)
			seen |= 1;
		for (int j = 0; j < 4; j++)
			if (strcmp(list[i].name, names[j]) == 0) {
				seen |= 2 << j;
				CHECK_EQ(list[i].size, 64u * (unsigned)(j + 1));
			}
	}
	CHECK_EQ(seen, 31);

	/* Remove. */
	uint32_t gen2 = h->dir_generation;
	CHECK_EQ(mint_obj_remove(f, "beta"), 0);
	CHECK(h->dir_generation != gen2);
	CHECK_EQ(mint_obj_find(f, "beta", &info), -ENOENT);
	CHECK_EQ(mint_obj_remove(f, "beta"), -ENOENT);
	CHECK_EQ(mint_obj_list(f, list, 8), 4);
	/* Recreated: created again (1), zero-filled. */
	ir.calls = 0;
	CHECK_EQ(mint_obj_open(f, "beta", MINT_OBJ_RING, 64, record_init, &ir, &off2), 1);
	CHECK(ir.zeroed);
	CHECK_EQ(mint_obj_find(f, "beta", &info), 0);
	CHECK_EQ(info.type, MINT_OBJ_RING);

	/* A failing init aborts the creation. */
	struct init_rec bad = {.ret = -EIO};
	CHECK_EQ(mint_obj_open(f, "failing", MINT_OBJ_RAW, 128, record_init, &bad, &off2), -EIO);
	CHECK_EQ(bad.calls, 1);
	CHECK_EQ(mint_obj_find(f, "failing", &info), -ENOENT);
	CHECK_EQ(mint_obj_list(f, list, 8), 5);
	/* ...and its space is handed out zeroed next time. */
	ir.calls = 0;
	CHECK_EQ(mint_obj_open(f, "after-failing", MINT_OBJ_RAW, 128, record_init, &ir, &off2), 1);
	CHECK(ir.zeroed);

	/* Creator is the node id when joined. */
	CHECK_EQ(t_join(f, 3, NULL), 0);
	CHECK_EQ(mint_obj_open(f, "by-node", MINT_OBJ_RAW, 64, NULL, NULL, &off2), 1);
	CHECK_EQ(mint_obj_find(f, "by-node", &info), 0);
	CHECK_EQ(info.creator, 3);
	CHECK_EQ(mint_node_leave(f), 0);

	/* The lock is free after all that. */
	CHECK_EQ(h->dir_lock.owner, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_bad_args(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	uint64_t off;
	char n63[64], n64[65];
	memset(n63, 'n', 63);
	n63[63] = 0;
	memset(n64, 'm', 64);
	n64[64] = 0;
	CHECK_EQ(mint_obj_open(f, n63, MINT_OBJ_RAW, 64, NULL, NULL, &off), 1);
	CHECK_EQ(mint_obj_find(f, n63, NULL), 0);
	CHECK_EQ(mint_obj_open(f, n64, MINT_OBJ_RAW, 64, NULL, NULL, &off), -EINVAL);
	CHECK_EQ(mint_obj_open(f, "", MINT_OBJ_RAW, 64, NULL, NULL, &off), -EINVAL);
	CHECK_EQ(mint_obj_open(f, "a/b", MINT_OBJ_RAW, 64, NULL, NULL, &off), -EINVAL);
	CHECK_EQ(mint_obj_open(f, "a b", MINT_OBJ_RAW, 64, NULL, NULL, &off), -EINVAL);
	CHECK_EQ(mint_obj_open(f, ".dot", MINT_OBJ_RAW, 64, NULL, NULL, &off), -EINVAL);
	CHECK_EQ(mint_obj_open(f, NULL, MINT_OBJ_RAW, 64, NULL, NULL, &off), -EINVAL);
	CHECK_EQ(mint_obj_open(f, "zero", MINT_OBJ_RAW, 0, NULL, NULL, &off), -EINVAL);
	CHECK_EQ(mint_obj_open(f, "huge", MINT_OBJ_RAW, mint_fabric_size(f) + 1, NULL, NULL, &off),
		 -EINVAL);
	CHECK_EQ(mint_obj_open(f, "huge", MINT_OBJ_RAW, UINT64_MAX, NULL, NULL, &off), -EINVAL);
	CHECK_EQ(mint_obj_find(f, n64, NULL), -EINVAL);
	CHECK_EQ(mint_obj_find(f, "", NULL), -EINVAL);
	CHECK_EQ(mint_obj_remove(f, "a b"), -EINVAL);
	CHECK_EQ(mint_obj_remove(f, ""), -EINVAL);
	CHECK_EQ(mint_obj_list(f, NULL, 0), 1);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* Objects of random sizes: created, removed, created again; they never
 * overlap each other or leave the heap, and their contents survive. */
struct obj {
	char name[32];
	uint64_t off, size;
	uint8_t tag;
	bool live;
};

static void check_disjoint(struct mint_fabric *f, struct obj *o, int n)
{
	uint64_t fsize = mint_fabric_size(f);
	int overlaps = 0, outside = 0, misaligned = 0, bad_content = 0;
	for (int i = 0; i < n; i++) {
		if (!o[i].live)
			continue;
		outside += o[i].off < MINT_HEAP_OFF || o[i].off > fsize || o[i].size > fsize - o[i].off;
		misaligned += o[i].off % 64 != 0;
		for (int j = i + 1; j < n; j++)
			if (o[j].live && o[i].off < o[j].off + o[j].size &&
			    o[j].off < o[i].off + o[i].size)
				overlaps++;
		uint8_t *p = mint_fabric_at(f, o[i].off, o[i].size);
		if (p)
			for (uint64_t k = 0; k < o[i].size; k += 61)
				bad_content += p[k] != o[i].tag;
		struct mint_obj_info info;
		if (mint_obj_find(f, o[i].name, &info) != 0 || info.offset != o[i].off ||
		    info.size != o[i].size)
			bad_content++;
	}
	CHECK_EQ(overlaps, 0);
	CHECK_EQ(outside, 0);
	CHECK_EQ(misaligned, 0);
	CHECK_EQ(bad_content, 0);
}

static void test_allocator_random(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE + 2 * 1024 * 1024);
	enum { N = 200 };
	static struct obj o[N];
	memset(o, 0, sizeof(o));
	int created = 0, nospc = 0;
	for (int round = 0; round < 6; round++) {
		/* Fill the free entries. */
		for (int i = 0; i < N; i++) {
			if (o[i].live)
				continue;
			snprintf(o[i].name, sizeof(o[i].name), "obj%d.%d", i, round);
			o[i].size = 1 + t_rnd() % (round & 1 ? 40000 : 9000);
			o[i].tag = (uint8_t)(1 + t_rnd() % 250);
			int rc = mint_obj_open(f, o[i].name, MINT_OBJ_RAW, o[i].size, NULL, NULL,
					       &o[i].off);
			if (rc == -ENOSPC) {
				nospc++;
				continue;
			}
			CHECK_EQ(rc, 1);
			if (rc != 1)
				continue;
			uint8_t *p = mint_fabric_at(f, o[i].off, o[i].size);
			CHECK(p != NULL);
			if (!p)
				continue;
			/* Zero-filled even where an earlier object lived. */
			uint64_t nz = 0;
			for (uint64_t k = 0; k < o[i].size; k++)
				nz += p[k] != 0;
			CHECK_EQ(nz, 0);
			memset(p, o[i].tag, o[i].size);
			o[i].live = true;
			created++;
		}
		check_disjoint(f, o, N);
		/* Remove a random half. */
		for (int i = 0; i < N; i++)
			if (o[i].live && t_rnd() % 2) {
				CHECK_EQ(mint_obj_remove(f, o[i].name), 0);
				o[i].live = false;
			}
		check_disjoint(f, o, N);
	}
	CHECK(created > N);
	CHECK(nospc > 0); /* the odd rounds overfill the 2 MiB heap */
	int live = 0;
	for (int i = 0; i < N; i++)
		live += o[i].live;
	CHECK_EQ(mint_obj_list(f, NULL, 0), live);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* Freed space is handed out again: fill the heap, free one hole, refill it. */
static void test_allocator_reuse(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	uint64_t heap = mint_fabric_hdr(f)->heap_size;
	uint64_t chunk = heap / 8, off[8];
	char name[16];
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		CHECK_EQ(mint_obj_open(f, name, MINT_OBJ_RAW, chunk, NULL, NULL, &off[i]), 1);
		CHECK_EQ(off[i], MINT_HEAP_OFF + (uint64_t)i * chunk); /* first fit, packed */
	}
	uint64_t o;
	CHECK_EQ(mint_obj_open(f, "more", MINT_OBJ_RAW, 64, NULL, NULL, &o), -ENOSPC);
	CHECK_EQ(mint_obj_remove(f, "c3"), 0);
	/* Too big for the hole. */
	CHECK_EQ(mint_obj_open(f, "big", MINT_OBJ_RAW, chunk + 64, NULL, NULL, &o), -ENOSPC);
	/* Two objects share the hole. */
	CHECK_EQ(mint_obj_open(f, "h1", MINT_OBJ_RAW, chunk / 2, NULL, NULL, &o), 1);
	CHECK_EQ(o, off[3]);
	CHECK_EQ(mint_obj_open(f, "h2", MINT_OBJ_RAW, chunk / 2, NULL, NULL, &o), 1);
	CHECK_EQ(o, off[3] + chunk / 2);
	CHECK_EQ(mint_obj_open(f, "more", MINT_OBJ_RAW, 64, NULL, NULL, &o), -ENOSPC);
	/* Free the first and the last: lowest hole first. */
	CHECK_EQ(mint_obj_remove(f, "c7"), 0);
	CHECK_EQ(mint_obj_remove(f, "c0"), 0);
	CHECK_EQ(mint_obj_open(f, "lo", MINT_OBJ_RAW, 100, NULL, NULL, &o), 1);
	CHECK_EQ(o, off[0]);
	CHECK_EQ(mint_obj_open(f, "lo2", MINT_OBJ_RAW, 100, NULL, NULL, &o), 1);
	CHECK_EQ(o, off[0] + 128); /* 64-aligned after "lo" */
	CHECK_EQ(mint_obj_open(f, "tail", MINT_OBJ_RAW, chunk, NULL, NULL, &o), 1);
	CHECK_EQ(o, off[7]);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_nospc(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	uint64_t heap = mint_fabric_hdr(f)->heap_size, o;
	/* Larger than the heap (yet not larger than the fabric): no room. */
	CHECK_EQ(mint_obj_open(f, "too-big", MINT_OBJ_RAW, heap + 1, NULL, NULL, &o), -ENOSPC);
	CHECK_EQ(mint_obj_open(f, "too-big", MINT_OBJ_RAW, mint_fabric_size(f), NULL, NULL, &o),
		 -ENOSPC);
	CHECK_EQ(mint_obj_find(f, "too-big", NULL), -ENOENT);
	CHECK_EQ(mint_obj_list(f, NULL, 0), 0);
	/* Exactly the heap fits. */
	CHECK_EQ(mint_obj_open(f, "all", MINT_OBJ_RAW, heap, NULL, NULL, &o), 1);
	CHECK_EQ(o, MINT_HEAP_OFF);
	CHECK_EQ(mint_obj_open(f, "one-more", MINT_OBJ_RAW, 1, NULL, NULL, &o), -ENOSPC);
	/* Existing objects are still found when the heap is full. */
	CHECK_EQ(mint_obj_open(f, "all", MINT_OBJ_RAW, 1, NULL, NULL, &o), 0);
	CHECK_EQ(mint_obj_remove(f, "all"), 0);
	CHECK_EQ(mint_obj_open(f, "one-more", MINT_OBJ_RAW, 1, NULL, NULL, &o), 1);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_enfile(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	char name[32];
	uint64_t o;
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++) {
		snprintf(name, sizeof(name), "slot%u", i);
		int rc = mint_obj_open(f, name, MINT_OBJ_RAW, 64, NULL, NULL, &o);
		if (rc != 1) {
			fprintf(stderr, "  object %u: %d\n", i, rc);
			CHECK_EQ(rc, 1);
			break;
		}
	}
	CHECK_EQ(mint_obj_list(f, NULL, 0), MINT_MAX_OBJECTS);
	CHECK_EQ(mint_obj_open(f, "overflow", MINT_OBJ_RAW, 64, NULL, NULL, &o), -ENFILE);
	CHECK_EQ(mint_obj_find(f, "overflow", NULL), -ENOENT);
	/* Finding still works when full. */
	CHECK_EQ(mint_obj_open(f, "slot17", MINT_OBJ_RAW, 64, NULL, NULL, &o), 0);
	CHECK_EQ(mint_obj_remove(f, "slot17"), 0);
	CHECK_EQ(mint_obj_open(f, "overflow", MINT_OBJ_RAW, 64, NULL, NULL, &o), 1);
	CHECK_EQ(mint_obj_open(f, "overflow2", MINT_OBJ_RAW, 64, NULL, NULL, &o), -ENFILE);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* A generation left odd by a stray write, with the lock free: the first
 * reader closes it (counted) and lookups take no more than a moment; one
 * left odd under a forged holder that is no mint process: the same. */
static void test_odd_generation(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct mint_fabric_hdr *h = mint_fabric_hdr(f);
	uint64_t o;
	CHECK_EQ(mint_obj_open(f, "x", MINT_OBJ_RAW, 64, NULL, NULL, &o), 1);
	for (int forged_holder = 0; forged_holder < 2; forged_holder++) {
		uint32_t repairs = h->dir_repairs;
		h->dir_generation = 9;
		if (forged_holder)
			h->dir_lock.owner = 1; /* thread 1: alive, not ours */
		uint64_t t0 = t_now_ns();
		CHECK_EQ(mint_obj_find(f, "x", NULL), 0);
		CHECK(t_now_ns() - t0 < 500000000ull);
		CHECK_EQ(h->dir_generation, 10);
		CHECK_EQ(h->dir_repairs, repairs + 1);
		CHECK_EQ(h->dir_lock.owner, 0);
		CHECK_EQ(mint_obj_open(f, "y", MINT_OBJ_RAW, 64, NULL, NULL, &o), forged_holder ? 0 : 1);
	}
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* Entries written straight into the directory, as a corrupt or malicious
 * peer would: never handed out as valid. */
static void test_corrupt_entry(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	uint64_t fsize = mint_fabric_size(f), o;
	struct {
		uint64_t off, size;
	} bad[] = {
		{fsize + 4096, 64},            /* offset outside the fabric */
		{fsize, 64},                   /* starts at the end */
		{fsize - 64, 128},             /* runs past the end */
		{MINT_HEAP_OFF, UINT64_MAX},   /* size wraps */
		{UINT64_MAX - 63, 128},        /* offset wraps */
		{0, 64},                       /* over the fabric header */
		{MINT_OBJDIR_OFF, 128},        /* over the directory itself */
		{MINT_NODE_TABLE_OFF, 4096},   /* over the node table */
		{MINT_HEAP_OFF - 64, 128},     /* straddles the heap start */
	};
	struct mint_obj_info info;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		CHECK_EQ(mint_obj_open(f, "victim", MINT_OBJ_RAW, 256, NULL, NULL, &o), 1);
		CHECK_EQ(mint_obj_open(f, "bystander", MINT_OBJ_RAW, 256, NULL, NULL, &o) >= 0, 1);
		int s = slot_of(f, "victim");
		CHECK(s >= 0);
		if (s < 0)
			break;
		struct mint_obj_entry *e = dir_entry(f, (uint32_t)s);
		e->offset = bad[k].off;
		e->size = bad[k].size;
		int rc = mint_obj_find(f, "victim", &info);
		if (rc != -EPROTO)
			fprintf(stderr, "  corrupt entry %zu (off %#llx size %#llx): find %d\n", k,
				(unsigned long long)bad[k].off, (unsigned long long)bad[k].size, rc);
		CHECK_EQ(rc, -EPROTO);
		/* Not listed as valid. */
		struct mint_obj_info list[8];
		int n = mint_obj_list(f, list, 8);
		CHECK_EQ(n, 1);
		for (int i = 0; i < n && i < 8; i++)
			CHECK(strcmp(list[i].name, "victim") != 0);
		/* The bystander is unharmed. */
		CHECK_EQ(mint_obj_find(f, "bystander", &info), 0);
		/* find-or-create must not hand out the corrupt region. */
		rc = mint_obj_open(f, "victim", MINT_OBJ_RAW, 256, NULL, NULL, &o);
		if (rc >= 0) {
			CHECK(o >= MINT_HEAP_OFF && o + 256 <= fsize);
			CHECK_EQ(mint_obj_find(f, "victim", &info), 0);
			CHECK_EQ(info.offset, o);
		} else {
			CHECK_EQ(rc, -EPROTO);
		}
		/* New objects never land on top of the bystander. */
		uint64_t bo;
		CHECK_EQ(mint_obj_find(f, "bystander", &info), 0);
		bo = info.offset;
		CHECK_EQ(mint_obj_open(f, "newcomer", MINT_OBJ_RAW, 256, NULL, NULL, &o), 1);
		CHECK(o + 256 <= bo || bo + 256 <= o);
		/* Clean the directory for the next case. */
		memset(mint_fabric_at(f, MINT_OBJDIR_OFF, MINT_MAX_OBJECTS * sizeof(*e)), 0,
		       MINT_MAX_OBJECTS * sizeof(*e));
	}

	/* A state that is neither FREE nor LIVE, and a name without a NUL. */
	CHECK_EQ(mint_obj_open(f, "odd", MINT_OBJ_RAW, 64, NULL, NULL, &o), 1);
	int s = slot_of(f, "odd");
	CHECK(s >= 0);
	if (s >= 0) {
		struct mint_obj_entry *e = dir_entry(f, (uint32_t)s);
		e->state = 0x77;
		CHECK_EQ(mint_obj_find(f, "odd", &info), -ENOENT);
		CHECK_EQ(mint_obj_list(f, NULL, 0), 0);
		e->state = MINT_OBJ_LIVE;
		memset(e->name, 'z', sizeof(e->name)); /* no terminator */
		char z63[64];
		memset(z63, 'z', 63);
		z63[63] = 0;
		/* Read with the terminator forced: at most 63 bytes compare. */
		int rc = mint_obj_find(f, z63, &info);
		CHECK(rc == 0 || rc == -ENOENT);
		if (rc == 0)
			CHECK_EQ(strlen(info.name), 63);
		struct mint_obj_info list[2];
		CHECK_EQ(mint_obj_list(f, list, 2), 1);
		CHECK_EQ(strnlen(list[0].name, sizeof(list[0].name)), 63);
	}
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* Processes race: same name (one creates, all agree), and distinct names
 * (no overlaps) under the cross-process directory lock. */
enum { P = 4, PER = 40 }; /* processes, objects each creates */

/* Racer P: 10 if it created "shared", 11 if it found it. */
static int object_racer(int p, void *arg)
{
	(void)arg;
	struct mint_fabric *g = t_child_attach();
	t_rng_state += (uint64_t)p * 7919;
	uint64_t o;
	int rc = mint_obj_open(g, "shared", MINT_OBJ_RAW, 4096, NULL, NULL, &o);
	int created = rc == 1;
	if (rc < 0)
		_exit(2);
	for (int i = 0; i < PER; i++) {
		char name[32];
		snprintf(name, sizeof(name), "p%d.%d", p, i);
		uint64_t size = 1 + t_rnd() % 5000;
		if (mint_obj_open(g, name, MINT_OBJ_RAW, size, NULL, NULL, &o) != 1)
			_exit(2);
		memset(mint_fabric_at(g, o, size), p + 1, size);
		if (i % 3 == 0 && mint_obj_remove(g, name) != 0)
			_exit(2);
	}
	mint_fabric_detach(g);
	return created ? 10 : 11;
}

static void test_cross_process(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE + 4 * 1024 * 1024);
	int codes[P];
	t_race(P, 50, object_racer, NULL, codes);
	CHECK_EQ(t_count(codes, P, 10), 1);     /* creators */
	CHECK_EQ(t_count(codes, P, 11), P - 1); /* finders */
	CHECK_EQ(mint_fabric_hdr(f)->dir_lock.owner, 0);
	/* Check what is left: disjoint, contents intact. */
	struct mint_obj_info list[MINT_MAX_OBJECTS];
	int n = mint_obj_list(f, list, MINT_MAX_OBJECTS);
	CHECK_EQ(n, 1 + P * (PER - (PER + 2) / 3));
	int overlaps = 0, bad = 0;
	for (int i = 0; i < n; i++) {
		for (int j = i + 1; j < n; j++)
			overlaps += list[i].offset < list[j].offset + list[j].size &&
				    list[j].offset < list[i].offset + list[i].size;
		int p = -1;
		if (sscanf(list[i].name, "p%d.", &p) == 1) {
			uint8_t *q = mint_fabric_at(f, list[i].offset, list[i].size);
			for (uint64_t k = 0; q && k < list[i].size; k++)
				bad += q[k] != p + 1;
		}
	}
	CHECK_EQ(overlaps, 0);
	CHECK_EQ(bad, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

int main(void)
{
	t_start("test_object", 60);
	RUN(test_basic);
	RUN(test_bad_args);
	RUN(test_allocator_random);
	RUN(test_allocator_reuse);
	RUN(test_nospc);
	RUN(test_enfile);
	RUN(test_corrupt_entry);
	RUN(test_odd_generation);
	RUN(test_cross_process);
	return t_done();
}
