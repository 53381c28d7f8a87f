// SPDX-License-Identifier: GPL-2.0
/*
 * mint_fabric: what mint's guest network drivers (mint_nic.ko, mint_vni.ko)
 * share about the fabric beyond mint_ivshmem.ko's BAR2: this node's entry
 * and epoch, and the object directory, where they find or create their
 * rings by name as libmint does (src/lib/object.c).
 *
 * The directory is read lock-free and changed under its lock, with a
 * generation that is odd while entries change.  Entries are copied out
 * once and checked against the fabric's bounds before any use.
 */
#include <linux/delay.h>
#include <linux/errno.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "mint_fabric.h"
#include "mint_ivshmem.h"

#define DIR_LOCK_TRIES 2000 /* of 0.5-1 ms: a live holder is done long before */

int mint_fabric_bind(struct mint_ivshmem *iv, struct mint_fabric *f)
{
	u64 bar = mint_ivshmem_size(iv), size;

	f->base = mint_ivshmem_base(iv);
	f->size = bar;
	f->node = mint_ivshmem_id(iv);
	if (bar < MINT_HEAP_OFF || le64_to_cpu(READ_ONCE(mint_fabric_hdr(f)->magic)) != MINT_FABRIC_MAGIC)
		return -ENODEV;
	size = le64_to_cpu(READ_ONCE(mint_fabric_hdr(f)->size));
	f->size = min_t(u64, size, bar); /* the fabric may be smaller than the BAR */
	f->epoch = mint_fabric_joined(f);
	return f->epoch ? 0 : -ENOTCONN;
}
EXPORT_SYMBOL_GPL(mint_fabric_bind);

u32 mint_fabric_joined(const struct mint_fabric *f)
{
	struct mint_node_entry *me = mint_fabric_node(f, f->node);

	/* acquire: pairs with the join's release store of UP: its epoch */
	if (!me || le32_to_cpu(smp_load_acquire(&me->state)) != MINT_NODE_UP)
		return 0;
	return le32_to_cpu(READ_ONCE(me->epoch));
}
EXPORT_SYMBOL_GPL(mint_fabric_joined);

struct obj {
	u64 off, size;
	u32 type;
	bool live;
	char name[MINT_OBJ_NAME_MAX];
};

static struct mint_obj_entry *dir_entry(struct mint_fabric *f, u32 i)
{
	return mint_fabric_at(f, MINT_OBJDIR_OFF + (u64)i * sizeof(struct mint_obj_entry),
			      sizeof(struct mint_obj_entry));
}

/* Copy entry I out once; is it a live object inside the heap? */
static bool read_obj(struct mint_fabric *f, u32 i, struct obj *o)
{
	struct mint_obj_entry *e = dir_entry(f, i);

	/* acquire: pairs with the creator's release store of LIVE */
	o->live = e && le32_to_cpu(smp_load_acquire(&e->state)) == MINT_OBJ_LIVE;
	if (!o->live)
		return false;
	o->type = le32_to_cpu(READ_ONCE(e->type));
	o->off = le64_to_cpu(READ_ONCE(e->offset));
	o->size = le64_to_cpu(READ_ONCE(e->size));
	memcpy(o->name, e->name, sizeof(o->name));
	o->name[sizeof(o->name) - 1] = 0;
	return o->off >= MINT_HEAP_OFF && o->off % 64 == 0 && mint_fabric_at(f, o->off, o->size);
}

/* Live object NAME into *FOUND: 0, -ENOENT, or -EPROTO (only a corrupt
 * entry has that name). */
static int find_obj(struct mint_fabric *f, const char *name, struct obj *found)
{
	int rc = -ENOENT;
	u32 i;

	for (i = 0; i < MINT_MAX_OBJECTS; i++) {
		struct obj o;
		bool ok = read_obj(f, i, &o);

		if (!o.live || strcmp(o.name, name))
			continue;
		if (ok) {
			*found = o;
			return 0;
		}
		rc = -EPROTO;
	}
	return rc;
}

static u32 generation(struct mint_fabric *f)
{
	/* acquire: pairs with the release store that ends a change */
	return le32_to_cpu(smp_load_acquire(&mint_fabric_hdr(f)->dir_generation));
}

int mint_fabric_find(struct mint_fabric *f, const char *name, u32 type, u64 *off, u64 *size)
{
	struct obj o;
	int rc = -EAGAIN, tries;

	/* a seqlock read: again while the generation is odd or moved */
	for (tries = 0; tries < 1000 && rc == -EAGAIN; tries++) {
		u32 g = generation(f);

		rc = g & 1 ? -EAGAIN : find_obj(f, name, &o);
		smp_rmb();
		if (generation(f) != g)
			rc = -EAGAIN;
	}
	if (rc)
		return rc == -EAGAIN ? -EBUSY : rc;
	if (o.type != type)
		return -EPROTO;
	*off = o.off;
	*size = o.size;
	return 0;
}
EXPORT_SYMBOL_GPL(mint_fabric_find);

/* The lowest 64-byte aligned gap of SIZE bytes in the heap (first fit, as
 * the library's allocator): move past every object that overlaps and look
 * again, at most once per object. */
static int find_space(struct mint_fabric *f, u64 size, u64 *off)
{
	u64 cand = MINT_HEAP_OFF;
	u32 i, moves = 0;
	bool moved = true;

	while (moved) {
		moved = false;
		for (i = 0; i < MINT_MAX_OBJECTS && !moved; i++) {
			struct obj o;

			if (!read_obj(f, i, &o) || o.off >= cand + size || o.off + o.size <= cand)
				continue;
			cand = ALIGN(o.off + o.size, 64);
			moved = true;
			if (++moves > MINT_MAX_OBJECTS)
				return -ENOSPC;
		}
	}
	if (!mint_fabric_at(f, cand, size))
		return -ENOSPC;
	*off = cand;
	return 0;
}

/*
 * The directory lock's owner tag, as libmint builds it.  The "thread" is
 * our node's pid as the node table has it (for a guest: its QEMU on the
 * host), because host nodes judge a holder's liveness by that pid.
 */
static u64 lock_tag(struct mint_fabric *f)
{
	u32 pid = le32_to_cpu(READ_ONCE(mint_fabric_node(f, f->node)->pid));

	return pid | (u64)(f->node + 1) << 32 | (u64)(f->epoch & 0xffffff) << 40;
}

static int dir_lock(struct mint_fabric *f)
{
	u64 *owner = (u64 *)&mint_fabric_hdr(f)->dir_lock.owner;
	u64 tag = cpu_to_le64(lock_tag(f));
	int i;

	/* cmpxchg is a full barrier: what the last holder wrote is visible.
	 * A holder that died is recovered by host nodes, not here. */
	for (i = 0; i < DIR_LOCK_TRIES; i++) {
		if (cmpxchg64(owner, 0, tag) == 0)
			return 0;
		usleep_range(500, 1000);
	}
	return -EBUSY;
}

static void dir_unlock(struct mint_fabric *f)
{
	smp_store_release((u64 *)&mint_fabric_hdr(f)->dir_lock.owner, 0);
}

/* Make the generation odd (BEGIN) or even again. */
static void dir_change(struct mint_fabric *f, bool begin)
{
	__le32 *gen = &mint_fabric_hdr(f)->dir_generation;
	u32 g = le32_to_cpu(READ_ONCE(*gen)) + 1;

	if (begin) {
		WRITE_ONCE(*gen, cpu_to_le32(g));
		smp_wmb(); /* odd before any entry store */
	} else {
		smp_store_release(gen, cpu_to_le32(g));
	}
}

static struct mint_obj_entry *free_entry(struct mint_fabric *f)
{
	u32 i;

	for (i = 0; i < MINT_MAX_OBJECTS; i++) {
		struct mint_obj_entry *e = dir_entry(f, i);

		if (e && !READ_ONCE(e->state))
			return e;
	}
	return NULL;
}

/* Under the lock: a zeroed region, INIT on it, then the entry, LIVE last. */
static int create_obj(struct mint_fabric *f, const char *name, u32 type, u64 size,
		      mint_fabric_init_fn init, void *arg, struct obj *o)
{
	struct mint_obj_entry *e = free_entry(f);
	int rc;

	if (!e)
		return -ENFILE;
	rc = find_space(f, size, &o->off);
	if (rc)
		return rc;
	memset(f->base + o->off, 0, size);
	init(f->base + o->off, arg);
	dir_change(f, true);
	memset(e->name, 0, sizeof(e->name));
	strscpy(e->name, name, sizeof(e->name));
	WRITE_ONCE(e->type, cpu_to_le32(type));
	WRITE_ONCE(e->offset, cpu_to_le64(o->off));
	WRITE_ONCE(e->size, cpu_to_le64(size));
	WRITE_ONCE(e->flags, 0);
	WRITE_ONCE(e->creator, cpu_to_le32(f->node));
	WRITE_ONCE(e->created_ns, cpu_to_le64(ktime_get_real_ns()));
	WRITE_ONCE(e->creator_pid, 0); /* the host cannot judge our pids */
	WRITE_ONCE(e->creator_pidns, 0);
	WRITE_ONCE(e->creator_start, 0);
	smp_store_release(&e->state, cpu_to_le32(MINT_OBJ_LIVE));
	dir_change(f, false);
	o->size = size;
	o->type = type;
	return 0;
}

int mint_fabric_open(struct mint_fabric *f, const char *name, u32 type, u64 size,
		     mint_fabric_init_fn init, void *arg, u64 *off, u64 *found_size)
{
	struct obj o;
	int rc;

	if (strlen(name) >= MINT_OBJ_NAME_MAX || !size)
		return -EINVAL;
	rc = dir_lock(f);
	if (rc)
		return rc;
	rc = find_obj(f, name, &o);
	if (rc == -ENOENT)
		rc = create_obj(f, name, type, size, init, arg, &o);
	dir_unlock(f);
	if (rc == 0 && o.type != type)
		rc = -EEXIST;
	if (rc)
		return rc;
	*off = o.off;
	*found_size = o.size;
	return 0;
}
EXPORT_SYMBOL_GPL(mint_fabric_open);

MODULE_DESCRIPTION("mint: the fabric's node table and object directory for guest drivers");
MODULE_LICENSE("GPL");
