/* SPDX-License-Identifier: MIT */
/* The object directory: named regions of the fabric heap. */
#ifndef MINT_OBJECT_H
#define MINT_OBJECT_H

#include <stdint.h>

#include "mint/fabric.h"
#include "mint/api.h"

MINT_BEGIN_DECLS

enum mint_obj_type {
	MINT_OBJ_RAW = 1,
	MINT_OBJ_RING = 2,
	MINT_OBJ_CHANNEL = 3,
	MINT_OBJ_VNI = 4,
	MINT_OBJ_NIC = 5,      /* the injector's emulated NIC (nic.h) */
	MINT_OBJ_VNI_POOL = 6, /* the VNI's buffer pool (pool mode) */
	MINT_OBJ_DEVTAB = 7,   /* the device table (dev.h) */
};

struct mint_obj_info {
	char name[MINT_OBJ_NAME_MAX];
	uint32_t type;
	uint32_t flags;
	uint32_t creator;
	uint64_t offset;
	uint64_t size;
};

/* Called under the directory lock on the zeroed region before the object
 * becomes visible; a negative return aborts the creation. */
typedef int (*mint_obj_init_fn)(void *mem, uint64_t size, void *arg);

/*
 * Find object NAME of TYPE, or create it with SIZE bytes (at a 64-byte
 * aligned offset, zero-filled, then INIT run on it) if it does not exist;
 * an existing object keeps its size.  Returns 1 when it created the
 * object, 0 when it found it, or -EINVAL (bad name or size), -EEXIST (NAME
 * exists with another type), -EPROTO (a corrupt entry holds NAME: remove
 * it), -ENOSPC (no room), -ENFILE (directory full), -EDEADLK (this thread
 * holds the directory lock), or INIT's error.  *OFF receives the offset.
 */
int mint_obj_open(struct mint_fabric *f, const char *name, uint32_t type, uint64_t size,
		  mint_obj_init_fn init, void *arg, uint64_t *off);

/* Find NAME; -ENOENT if absent, -EPROTO if its entry is corrupt, -EINVAL
 * for a bad name.  Lock-free: retried while the directory changes. */
int mint_obj_find(struct mint_fabric *f, const char *name, struct mint_obj_info *info);

/* Free NAME's entry and space, a corrupt entry too.  -ENOENT if absent,
 * -EINVAL for a bad name. */
int mint_obj_remove(struct mint_fabric *f, const char *name);

/*
 * The owner of an object (its creator, or any process that validated and
 * uses it) puts its directory entry back: NAME of TYPE, SIZE bytes at OFF.
 * 0 if the entry says so already (found without the lock), 1 if it was
 * written again (it was missing, corrupt, or said otherwise), -EINVAL,
 * -ENFILE, or an error of the directory lock.  Every change of the
 * directory also frees entries that no creation wrote (counted in the
 * header's dir_repairs).
 */
int mint_obj_claim(struct mint_fabric *f, const char *name, uint32_t type, uint64_t off,
		   uint64_t size);

/* How full the directory and the heap are. */
struct mint_obj_usage {
	uint32_t entries;      /* directory slots not free (corrupt ones too) */
	uint32_t max_entries;  /* MINT_MAX_OBJECTS */
	uint64_t heap_bytes;   /* the heap: the fabric after the directory */
	uint64_t free_bytes;   /* of it, in no valid object */
	uint64_t largest_free; /* the largest object that could be made now */
};

/* Fill U (a snapshot, taken without the lock): 0. */
int mint_obj_usage(struct mint_fabric *f, struct mint_obj_usage *u);

/* Fill up to CAP entries; returns the number of live objects. */
int mint_obj_list(struct mint_fabric *f, struct mint_obj_info *infos, int cap);

MINT_END_DECLS

#endif
