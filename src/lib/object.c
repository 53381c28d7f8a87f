/* SPDX-License-Identifier: MIT */
/* The object directory and the heap allocator behind it.  Changes are
 * serialised by the directory lock; lookups are lock-free. */
#include "mint/object.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "le.h"
#include "mint/guest.h"
#include "mint/lock.h"
#include "mint/node.h"

#define OBJ_ALIGN 64u

struct extent {
	uint64_t off, end;
};

static struct mint_obj_entry *dir(struct mint_fabric *f)
{
	return (struct mint_obj_entry *)(f->base + MINT_OBJDIR_OFF);
}

/*
 * The directory is read without the lock, as a seqlock: a change makes the
 * generation odd, rewrites entries, and makes it even again, all under the
 * directory lock.  A reader retries when it saw an odd generation or a
 * different one afterwards, a bounded number of times: entries are checked
 * one by one anyway, so a read that never got a quiet directory is still
 * safe, only possibly stale.  A generation that stays odd with nobody
 * changing the directory (a writer that died mid-change, a peer's stray
 * write) is made even by whoever can take the lock.
 */
#define READ_RETRIES 16
#define ODD_SPINS 64   /* yields before a reader suspects an odd generation */

static _Atomic uint32_t *generation(struct mint_fabric *f)
{
	return &mint_fabric_hdr(f)->dir_generation;
}

static void change_begin(struct mint_fabric *f)
{
	ast32(generation(f), ald32(generation(f), memory_order_relaxed) + 1, memory_order_relaxed);
	/* release fence: the odd generation is visible before any entry store
	 * below; pairs with the acquire fence in read_changed. */
	atomic_thread_fence(memory_order_release);
}

static void change_end(struct mint_fabric *f)
{
	/* release: the entry stores are visible before the even generation;
	 * pairs with the acquire load in read_begin. */
	ast32(generation(f), ald32(generation(f), memory_order_relaxed) + 1, memory_order_release);
}

/* Under the lock: nobody is changing the directory, so an odd generation
 * is left over; close it and count it. */
static void repair_generation(struct mint_fabric *f)
{
	if (!(ald32(generation(f), memory_order_relaxed) & 1))
		return;
	change_end(f);
	aadd32(&mint_fabric_hdr(f)->dir_repairs, 1, memory_order_relaxed);
}

/* A reader that keeps seeing an odd generation: repair it if the lock is
 * free or its holder dead, else leave it to the holder. */
static void repair_if_idle(struct mint_fabric *f)
{
	struct mint_lock *l = &mint_fabric_hdr(f)->dir_lock;
	if (mint_lock_try(f, l) < 0)
		return;
	repair_generation(f);
	mint_lock_checked(l);
	mint_lock_release(f, l);
}

static uint32_t read_begin(struct mint_fabric *f)
{
	uint32_t g = 0;
	for (int i = 0; i <= ODD_SPINS; i++) {
		/* acquire: pairs with the release store in change_end. */
		g = ald32(generation(f), memory_order_acquire);
		if (!(g & 1))
			break;
		if (i == ODD_SPINS)
			repair_if_idle(f);
		else
			sched_yield();
	}
	return g;
}

static bool read_changed(struct mint_fabric *f, uint32_t g)
{
	/* acquire fence: our entry loads happen before this re-read; pairs
	 * with the release fence in change_begin. */
	atomic_thread_fence(memory_order_acquire);
	return (g & 1) || ald32(generation(f), memory_order_relaxed) != g;
}

static bool read_entry(struct mint_fabric *f, uint32_t i, struct mint_obj_info *info);
static void free_entry(struct mint_fabric *f, uint32_t i);

/* Could creation have written entry I?  FREE, or LIVE with a name, a
 * known type and a place in the heap. */
static bool entry_plausible(struct mint_fabric *f, uint32_t i)
{
	struct mint_obj_info info;
	uint32_t state = ald32(&dir(f)[i].state, memory_order_relaxed);
	return state == MINT_OBJ_FREE ||
	       (state == MINT_OBJ_LIVE && read_entry(f, i, &info) && info.size > 0 &&
		info.type >= MINT_OBJ_RAW && info.type <= MINT_OBJ_DEVTAB &&
		mint_name_ok(info.name, sizeof(info.name)));
}

/* Under the lock: entries no creation wrote (a peer's stray writes) are
 * freed, counted in dir_repairs; their slots serve again.  An owner puts
 * back the entry of an object it holds (mint_obj_claim). */
static void sweep(struct mint_fabric *f)
{
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++) {
		if (entry_plausible(f, i))
			continue;
		free_entry(f, i);
		aadd32(&mint_fabric_hdr(f)->dir_repairs, 1, memory_order_relaxed);
	}
}

int mint_dir_lock(struct mint_fabric *f)
{
	struct mint_lock *l = &mint_fabric_hdr(f)->dir_lock;
	int rc = mint_lock_acquire(f, l);
	if (rc < 0)
		return rc;
	/* A dead holder cannot have left a half-made entry (creation
	 * publishes LIVE in its last store, removal clears it in one store);
	 * only a generation left odd needs repair, and holding the lock we
	 * know no change is under way.  Entries are checked as well: any
	 * word of them may be a peer's. */
	repair_generation(f);
	sweep(f);
	if (rc == MINT_LOCK_RECOVERED)
		mint_lock_checked(l);
	return 0;
}

/* Copy entry I out of shared memory; false if it is free or corrupt. */
static bool read_entry(struct mint_fabric *f, uint32_t i, struct mint_obj_info *info)
{
	struct mint_obj_entry *e = &dir(f)[i];
	/* acquire: pairs with the release store of LIVE in write_entry, so
	 * the fields below are complete. */
	if (ald32(&e->state, memory_order_acquire) != MINT_OBJ_LIVE)
		return false;
	/* rld*: a writer may be reusing the slot (see le.h). */
	rname_in(info->name, e->name, sizeof(e->name));
	info->type = rld32(&e->type);
	info->flags = ald32(&e->flags, memory_order_relaxed);
	info->creator = rld32(&e->creator);
	info->offset = rld64(&e->offset);
	info->size = rld64(&e->size);
	uint64_t heap_end = f->size;
	return info->offset >= MINT_HEAP_OFF && info->offset % OBJ_ALIGN == 0 &&
	       info->offset <= heap_end && info->size <= heap_end - info->offset;
}

/*
 * Entry index of NAME, or -ENOENT, or -EPROTO when only a corrupt entry
 * carries that name (its index in *CORRUPT, if CORRUPT is not NULL).
 */
static int find_index(struct mint_fabric *f, const char *name, struct mint_obj_info *info,
		      int *corrupt)
{
	int bad = -1;
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++) {
		struct mint_obj_info tmp;
		if (ald32(&dir(f)[i].state, memory_order_relaxed) != MINT_OBJ_LIVE)
			continue;
		bool ok = read_entry(f, i, &tmp);
		if (strcmp(tmp.name, name) != 0)
			continue;
		if (!ok) {
			bad = (int)i;
			continue;
		}
		if (info)
			*info = tmp;
		return (int)i;
	}
	if (corrupt)
		*corrupt = bad;
	return bad >= 0 ? -EPROTO : -ENOENT;
}

int mint_obj_find(struct mint_fabric *f, const char *name, struct mint_obj_info *info)
{
	if (!mint_name_ok(name, MINT_OBJ_NAME_MAX))
		return -EINVAL;
	int i;
	for (int tries = 0; tries < READ_RETRIES; tries++) {
		uint32_t g = read_begin(f);
		i = find_index(f, name, info, NULL);
		if (!read_changed(f, g))
			break;
	}
	return i < 0 ? i : 0;
}

static int cmp_extent(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* The heap's gaps between the valid entries' extents, lowest first, each
 * OBJ_ALIGN-aligned, given to FN until it returns true: true then. */
static bool walk_gaps(struct mint_fabric *f, bool (*fn)(void *arg, uint64_t off, uint64_t len),
		      void *arg)
{
	struct extent used[MINT_MAX_OBJECTS];
	uint32_t n = 0;
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++) {
		struct mint_obj_info info;
		if (read_entry(f, i, &info))
			used[n++] = (struct extent){info.offset, info.offset + info.size};
	}
	qsort(used, n, sizeof(used[0]), cmp_extent);
	uint64_t cand = MINT_HEAP_OFF;
	for (uint32_t i = 0; i <= n; i++) {
		uint64_t limit = i < n ? used[i].off : f->size;
		if (limit > cand && fn(arg, cand, limit - cand))
			return true;
		if (i < n && used[i].end > cand)
			cand = (used[i].end + OBJ_ALIGN - 1) / OBJ_ALIGN * OBJ_ALIGN;
	}
	return false;
}

struct fit {
	uint64_t size, off;
};

static bool fits(void *arg, uint64_t off, uint64_t len)
{
	struct fit *w = arg;
	w->off = off;
	return len >= w->size;
}

/* First-fit: the lowest OBJ_ALIGN-aligned gap of SIZE bytes in the heap. */
static int find_space(struct mint_fabric *f, uint64_t size, uint64_t *off)
{
	struct fit w = {size, 0};
	if (!walk_gaps(f, fits, &w))
		return -ENOSPC;
	*off = w.off;
	return 0;
}

static bool add_gap(void *arg, uint64_t off, uint64_t len)
{
	struct mint_obj_usage *u = arg;
	(void)off;
	u->free_bytes += len;
	if (len > u->largest_free)
		u->largest_free = len;
	return false;
}

int mint_obj_usage(struct mint_fabric *f, struct mint_obj_usage *u)
{
	memset(u, 0, sizeof(*u));
	u->max_entries = MINT_MAX_OBJECTS;
	u->heap_bytes = f->size - MINT_HEAP_OFF;
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++)
		u->entries += ald32(&dir(f)[i].state, memory_order_relaxed) != MINT_OBJ_FREE;
	walk_gaps(f, add_gap, u);
	return 0;
}

/* Fault the object's pages in with one call instead of a fault per page
 * at the memset: an exec channel is 1 MiB, 256 faults, each an exit on a
 * VM (measured: about a fifth of `mint exec 1 -- true`'s CPU time).  A
 * hint: a kernel without MADV_POPULATE_WRITE (before 5.14) refuses it. */
static void populate(void *mem, uint64_t size)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)mem & ~(page - 1);
	madvise((void *)a, (uintptr_t)mem + size - a, MADV_POPULATE_WRITE);
#else
	(void)mem, (void)size;
#endif
}

/* The creator of an entry (see struct mint_obj_entry). */
struct creator {
	int32_t pid; /* 0: not known */
	uint32_t pidns;
	uint64_t start;
};

/* The calling process as a creator, read once per process (a forked child
 * is another).  Inside a guest pid 0: the host cannot judge its pids. */
static struct creator self_creator(void)
{
	static _Thread_local struct creator cached;
	int32_t pid = (int32_t)getpid();
	if (cached.pid == pid || mint_in_guest())
		return cached;
	struct stat st;
	cached.pidns = stat("/proc/self/ns/pid", &st) == 0 ? (uint32_t)st.st_ino : 0;
	cached.start = mint_pid_start(pid);
	cached.pid = pid;
	return cached;
}

/*
 * Is entry I a channel whose creator is provably dead: a process of our
 * pid namespace (where its pid means what it says) that is gone, or whose
 * pid another process has now?  A creator not known, of another namespace
 * or kernel, or that cannot be judged counts as alive.
 */
static bool creator_dead(struct mint_fabric *f, uint32_t i)
{
	const struct mint_obj_entry *e = &dir(f)[i];
	struct creator me = self_creator();
	int32_t pid = (int32_t)rld32((const uint32_t *)&e->creator_pid);
	uint64_t start = rld64(&e->creator_start);
	return ald32(&e->state, memory_order_relaxed) == MINT_OBJ_LIVE &&
	       rld32(&e->type) == MINT_OBJ_CHANNEL && me.pid > 0 && me.pidns != 0 &&
	       rld32(&e->creator_pidns) == me.pidns && pid > 0 && start != 0 &&
	       !mint_pid_alive(pid, start);
}

/* Under the lock: free the channels of dead creators (a `mint ping` or
 * `mint exec` killed with -9 never removes its own); how many. */
static uint32_t reclaim_dead(struct mint_fabric *f)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++) {
		if (!creator_dead(f, i))
			continue;
		free_entry(f, i);
		n++;
	}
	/* relaxed: a statistic. */
	aadd32(&mint_fabric_hdr(f)->dir_reclaims, n, memory_order_relaxed);
	return n;
}

static int free_slot(struct mint_fabric *f)
{
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++)
		if (ald32(&dir(f)[i].state, memory_order_relaxed) == MINT_OBJ_FREE)
			return (int)i;
	return -ENFILE;
}

/* Under the lock: entry I becomes FREE. */
static void free_entry(struct mint_fabric *f, uint32_t i)
{
	change_begin(f);
	/* release: pairs with the acquire load in read_entry. */
	ast32(&dir(f)[i].state, MINT_OBJ_FREE, memory_order_release);
	change_end(f);
}

/* Under the lock: write entry SLOT for NAME as INFO says and publish it. */
static void write_entry(struct mint_fabric *f, int slot, const char *name,
			const struct mint_obj_info *info)
{
	struct mint_obj_entry *e = &dir(f)[slot];
	change_begin(f);
	rname_out(e->name, name, sizeof(e->name));
	rst32(&e->type, info->type);
	rst64(&e->offset, info->offset);
	rst64(&e->size, info->size);
	ast32(&e->flags, 0, memory_order_relaxed);
	rst32(&e->creator, f->self);
	rst64(&e->created_ns, mint_now_ns(CLOCK_REALTIME));
	struct creator me = self_creator();
	rst32((uint32_t *)&e->creator_pid, (uint32_t)me.pid);
	rst32(&e->creator_pidns, me.pidns);
	rst64(&e->creator_start, me.start);
	/* release: the entry is complete before anyone sees LIVE; pairs
	 * with the acquire load in read_entry. */
	ast32(&e->state, MINT_OBJ_LIVE, memory_order_release);
	change_end(f);
}

/* A free slot (returned) and SIZE bytes of heap at *OFF; -ENFILE, -ENOSPC. */
static int place(struct mint_fabric *f, uint64_t size, uint64_t *off)
{
	int slot = free_slot(f);
	if (slot < 0)
		return slot;
	int rc = find_space(f, size, off);
	return rc < 0 ? rc : slot;
}

/* Under the directory lock: allocate, initialise and publish NAME.  A
 * full directory or heap first reclaims the channels of the dead. */
static int create_locked(struct mint_fabric *f, const char *name, uint32_t type, uint64_t size,
			 mint_obj_init_fn init, void *arg, uint64_t *off)
{
	int slot = place(f, size, off);
	if (slot < 0 && reclaim_dead(f) > 0)
		slot = place(f, size, off);
	if (slot < 0)
		return slot;
	int rc;
	void *mem = f->base + *off;
	populate(mem, size);
	memset(mem, 0, size);
	if (init && (rc = init(mem, size, arg)) < 0)
		return rc;
	struct mint_obj_info info = {.type = type, .offset = *off, .size = size};
	write_entry(f, slot, name, &info); /* the object is complete before its entry */
	return 1;
}

int mint_obj_open(struct mint_fabric *f, const char *name, uint32_t type, uint64_t size,
		  mint_obj_init_fn init, void *arg, uint64_t *off)
{
	if (!mint_name_ok(name, MINT_OBJ_NAME_MAX) || size == 0 || size > f->size)
		return -EINVAL;
	int rc = mint_dir_lock(f);
	if (rc < 0)
		return rc;
	struct mint_obj_info info;
	int i = find_index(f, name, &info, NULL);
	if (i >= 0) {
		rc = info.type == type ? 0 : -EEXIST;
		*off = info.offset;
	} else if (i == -EPROTO) {
		rc = i; /* a corrupt entry holds the name: remove it first */
	} else {
		rc = create_locked(f, name, type, size, init, arg, off);
	}
	mint_lock_release(f, &mint_fabric_hdr(f)->dir_lock);
	return rc;
}

int mint_obj_remove(struct mint_fabric *f, const char *name)
{
	if (!mint_name_ok(name, MINT_OBJ_NAME_MAX))
		return -EINVAL;
	int rc = mint_dir_lock(f);
	if (rc < 0)
		return rc;
	int corrupt;
	int i = find_index(f, name, NULL, &corrupt);
	if (i == -EPROTO)
		i = corrupt; /* a corrupt entry can be removed too */
	if (i >= 0)
		free_entry(f, (uint32_t)i);
	mint_lock_release(f, &mint_fabric_hdr(f)->dir_lock);
	return i < 0 ? i : 0;
}

/* Under the lock: NAME's entry says what WANT says (else it is written
 * so, in its own slot or a free one): 0 it did, 1 rewritten, -ENFILE. */
static int claim_locked(struct mint_fabric *f, const char *name, const struct mint_obj_info *want)
{
	struct mint_obj_info have;
	int corrupt;
	int i = find_index(f, name, &have, &corrupt);
	if (i >= 0 && have.type == want->type && have.offset == want->offset &&
	    have.size == want->size)
		return 0;
	/* The wrong entry goes first, and the right one is written into a
	 * slot that was free: a lock-free reader that is still copying the
	 * old slot never sees its bytes change under it. */
	int old = i >= 0 ? i : corrupt;
	int slot = free_slot(f); /* found while OLD is not free: another one */
	if (old >= 0)
		free_entry(f, (uint32_t)old);
	slot = slot >= 0 ? slot : old; /* a full directory: OLD is all there is */
	if (slot < 0)
		return -ENFILE;
	write_entry(f, slot, name, want);
	return 1;
}

int mint_obj_claim(struct mint_fabric *f, const char *name, uint32_t type, uint64_t off,
		   uint64_t size)
{
	struct mint_obj_info want = {.type = type, .offset = off, .size = size};
	if (!mint_name_ok(name, MINT_OBJ_NAME_MAX) || !mint_fabric_at(f, off, size) ||
	    off < MINT_HEAP_OFF || off % OBJ_ALIGN || size == 0)
		return -EINVAL;
	struct mint_obj_info have;
	if (mint_obj_find(f, name, &have) == 0 && have.type == type && have.offset == off &&
	    have.size == size)
		return 0; /* the usual case: no lock */
	int rc = mint_dir_lock(f);
	if (rc < 0)
		return rc;
	rc = claim_locked(f, name, &want);
	mint_lock_release(f, &mint_fabric_hdr(f)->dir_lock);
	return rc;
}

static int list_once(struct mint_fabric *f, struct mint_obj_info *infos, int cap)
{
	int n = 0;
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++) {
		struct mint_obj_info info;
		if (!read_entry(f, i, &info))
			continue;
		if (n < cap)
			infos[n] = info;
		n++;
	}
	return n;
}

int mint_obj_list(struct mint_fabric *f, struct mint_obj_info *infos, int cap)
{
	int n = 0;
	for (int tries = 0; tries < READ_RETRIES; tries++) {
		uint32_t g = read_begin(f);
		n = list_once(f, infos, cap);
		if (!read_changed(f, g))
			break;
	}
	return n;
}
