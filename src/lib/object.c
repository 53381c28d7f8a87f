/* SPDX-License-Identifier: MIT */
/* The object directory and the heap allocator behind it.  Changes are
 * serialised by the directory lock; lookups are lock-free. */
#include "mint/object.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "le.h"
#include "mint/lock.h"

#define OBJ_ALIGN 64u

struct extent {
	uint64_t off, end;
};

static struct mint_obj_entry *dir(struct mint_fabric *f)
{
	return (struct mint_obj_entry *)(f->base + MINT_OBJDIR_OFF);
}

/* Copy entry I out of shared memory; false if it is free or corrupt. */
static bool read_entry(struct mint_fabric *f, uint32_t i, struct mint_obj_info *info)
{
	struct mint_obj_entry *e = &dir(f)[i];
	/* acquire: pairs with the release store of LIVE in mint_obj_open, so
	 * the fields below are complete. */
	if (ald32(&e->state, memory_order_acquire) != MINT_OBJ_LIVE)
		return false;
	mint_copy_name(info->name, e->name, sizeof(info->name));
	info->type = rd32(&e->type);
	info->flags = ald32(&e->flags, memory_order_relaxed);
	info->creator = rd32(&e->creator);
	info->offset = rd64(&e->offset);
	info->size = rd64(&e->size);
	uint64_t heap_end = f->size;
	return info->offset >= MINT_HEAP_OFF && info->offset % OBJ_ALIGN == 0 &&
	       info->offset <= heap_end && info->size <= heap_end - info->offset;
}

static int find_index(struct mint_fabric *f, const char *name, struct mint_obj_info *info)
{
	int corrupt = 0;
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++) {
		struct mint_obj_info tmp;
		if (ald32(&dir(f)[i].state, memory_order_relaxed) != MINT_OBJ_LIVE)
			continue;
		bool ok = read_entry(f, i, &tmp);
		if (strcmp(tmp.name, name) != 0)
			continue;
		if (!ok) {
			corrupt = 1;
			continue;
		}
		if (info)
			*info = tmp;
		return (int)i;
	}
	return corrupt ? -EPROTO : -ENOENT;
}

int mint_obj_find(struct mint_fabric *f, const char *name, struct mint_obj_info *info)
{
	if (!mint_name_ok(name, MINT_OBJ_NAME_MAX))
		return -EINVAL;
	int i = find_index(f, name, info);
	return i < 0 ? i : 0;
}

static int cmp_extent(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* First-fit: the lowest OBJ_ALIGN-aligned gap of SIZE bytes in the heap. */
static int find_space(struct mint_fabric *f, uint64_t size, uint64_t *off)
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
		if (limit >= cand && limit - cand >= size) {
			*off = cand;
			return 0;
		}
		if (i < n && used[i].end > cand)
			cand = (used[i].end + OBJ_ALIGN - 1) / OBJ_ALIGN * OBJ_ALIGN;
	}
	return -ENOSPC;
}

static int free_slot(struct mint_fabric *f)
{
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++)
		if (ald32(&dir(f)[i].state, memory_order_relaxed) == MINT_OBJ_FREE)
			return (int)i;
	return -ENFILE;
}

static void bump_generation(struct mint_fabric *f)
{
	/* release: readers that see the new generation see the entry change. */
	aadd32(&mint_fabric_hdr(f)->dir_generation, 1, memory_order_release);
}

/* Under the directory lock: allocate, initialise and publish NAME. */
static int create_locked(struct mint_fabric *f, const char *name, uint32_t type, uint64_t size,
			 mint_obj_init_fn init, void *arg, uint64_t *off)
{
	int slot = free_slot(f);
	if (slot < 0)
		return slot;
	int rc = find_space(f, size, off);
	if (rc)
		return rc;
	void *mem = f->base + *off;
	memset(mem, 0, size);
	if (init && (rc = init(mem, size, arg)) < 0)
		return rc;
	struct mint_obj_entry *e = &dir(f)[slot];
	memset(e->name, 0, sizeof(e->name));
	strcpy(e->name, name);
	wr32(&e->type, type);
	wr64(&e->offset, *off);
	wr64(&e->size, size);
	ast32(&e->flags, 0, memory_order_relaxed);
	wr32(&e->creator, f->self);
	wr64(&e->created_ns, mint_now_ns(CLOCK_REALTIME));
	/* release: the object and its entry are complete before anyone sees
	 * LIVE; pairs with the acquire load in read_entry. */
	ast32(&e->state, MINT_OBJ_LIVE, memory_order_release);
	bump_generation(f);
	return 1;
}

int mint_obj_open(struct mint_fabric *f, const char *name, uint32_t type, uint64_t size,
		  mint_obj_init_fn init, void *arg, uint64_t *off)
{
	if (!mint_name_ok(name, MINT_OBJ_NAME_MAX) || size == 0 || size > f->size)
		return -EINVAL;
	struct mint_lock *lock = &mint_fabric_hdr(f)->dir_lock;
	int rc = mint_lock_acquire(f, lock);
	if (rc < 0)
		return rc;
	/* A holder that died mid-change cannot have left a half-made entry:
	 * creation publishes LIVE in its last store and removal clears it in
	 * one store.  So a recovery needs no repair, only the flag cleared. */
	if (rc == MINT_LOCK_RECOVERED)
		mint_lock_checked(lock);
	struct mint_obj_info info;
	int i = find_index(f, name, &info);
	if (i >= 0) {
		rc = info.type == type ? 0 : -EEXIST;
		*off = info.offset;
	} else {
		rc = create_locked(f, name, type, size, init, arg, off);
	}
	mint_lock_release(f, lock);
	return rc;
}

int mint_obj_remove(struct mint_fabric *f, const char *name)
{
	if (!mint_name_ok(name, MINT_OBJ_NAME_MAX))
		return -EINVAL;
	struct mint_lock *lock = &mint_fabric_hdr(f)->dir_lock;
	int rc = mint_lock_acquire(f, lock);
	if (rc < 0)
		return rc;
	if (rc == MINT_LOCK_RECOVERED)
		mint_lock_checked(lock);
	int i = find_index(f, name, NULL);
	if (i >= 0) {
		/* release: pairs with the acquire load in read_entry. */
		ast32(&dir(f)[i].state, MINT_OBJ_FREE, memory_order_release);
		bump_generation(f);
	}
	mint_lock_release(f, lock);
	return i < 0 ? i : 0;
}

int mint_obj_list(struct mint_fabric *f, struct mint_obj_info *infos, int cap)
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
