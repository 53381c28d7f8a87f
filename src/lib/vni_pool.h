/* SPDX-License-Identifier: MIT */
/*
 * The VNI's configuration (2), behind vni.c: one pool of buffers of two
 * sizes, their descriptors (the buffer-management area: a lock-free free
 * stack per size, a reference count, length, owner and epoch per buffer), and an
 * address queue of buffer ids per destination (the address-management
 * area: senders add under the queue's lock, the destination takes without
 * one).  Every id, length and index read from the fabric is checked.
 */
#ifndef MINT_VNI_POOL_H
#define MINT_VNI_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/fabric.h"
#include "mint/layout.h"

#define VNI_POOL_OBJ "vni.pool"

/* This process's view of the pool: validated geometry, and the entry its
 * node (as the consumer of its own queue) looks at. */
struct vni_pool {
	struct mint_fabric *f;
	struct mint_vni_pool_hdr *hdr;
	struct mint_vni_buf *bufs;
	uint8_t *queues;
	uint8_t *data;       /* large buffers (ids 0..nbuf-1) */
	uint8_t *small_data; /* small buffers (ids nbuf..ntotal-1) */
	uint32_t nbuf, nsmall, ntotal;
	uint32_t qmask;
	uint64_t qstride;
	uint32_t peek_id; /* the id vni_pool_peek returned, until release */
	int dev[MINT_VNI_MAX_PORTS]; /* each receiver's device, once found (else < 0) */
};

/* Create "vni.pool" with NBUF buffers unless it exists: 1, 0, or a
 * negative errno of mint_obj_open. */
/* Bytes of the pool object with NBUF large buffers. */
uint64_t vni_pool_bytes(uint32_t nbuf);

int vni_pool_create(struct mint_fabric *f, uint32_t nbuf);

/* Find "vni.pool" and check it has NBUF buffers and the layout that
 * follows: 0, -ENOENT, -EPROTO. */
int vni_pool_open(struct mint_fabric *f, uint32_t nbuf, struct vni_pool *p);
/* Write the header's constants back as vni_pool_open validated them if a
 * stray write changed them (a later open would fail): 1 if it did, else 0. */
int vni_pool_heal(struct vni_pool *p);

/* Take a free buffer, a small one (MINT_VNI_SMALL_SIZE bytes) if SMALL,
 * else a large one (MINT_VNI_BUF_SIZE), as node SELF of EPOCH (state HELD,
 * one reference): 0, -ENOBUFS (none free), -EIO (only corrupt entries
 * found). */
int vni_pool_alloc(struct vni_pool *p, uint32_t self, uint32_t epoch, bool small, uint32_t *id);

/* Buffer ID's bytes (MINT_VNI_BUF_SIZE of them, MINT_VNI_SMALL_SIZE for
 * a small one). */
uint8_t *vni_pool_data(struct vni_pool *p, uint32_t id);

/* Queue buffer ID (held by the caller, LEN set) to DST: 0, -EAGAIN (the
 * queue holds half the pool's bytes, or its lock is busy), -EIO (the queue
 * is corrupt).  *BELL:
 * what raising DST's doorbell found (MINT_BELL_AWAKE: no need). */
int vni_pool_enqueue(struct vni_pool *p, uint32_t dst, uint32_t id, uint32_t len, uint32_t *bell);

/* The owner is done with ID: its reference goes, the queues keep theirs. */
void vni_pool_sent(struct vni_pool *p, uint32_t id);

/* The receiver's side of queue SELF, as mint_ring_peek/release: the next
 * frame (its length), -EAGAIN (empty), -EPROTO (a bad entry, skipped:
 * count it, do not release).  Release returns -EIO if the buffer's
 * management was corrupt (counted by the caller), else 0. */
int vni_pool_peek(struct vni_pool *p, uint32_t self, const void **frame);
int vni_pool_release(struct vni_pool *p, uint32_t self);

/* Ask for MINT_VEC_VNI on the next entry: 0 armed, 1 entries wait. */
int vni_pool_arm(struct vni_pool *p, uint32_t self);

/* Give back what dead nodes hold: the entries queued to each port Q with
 * LIVE[Q] == 0 (LIVE[Q]: the epoch of Q's live node, else 0), and the
 * owner's reference of buffers HELD by an owner whose LIVE[owner] is not
 * the buffer's epoch.  One caller at a time (others return 0 at once).
 * Returns references dropped; *ERRORS counts corrupt entries seen. */
uint32_t vni_pool_reclaim(struct vni_pool *p, const uint32_t live[MINT_VNI_MAX_PORTS],
			  uint32_t *errors);

/* Empty queue SELF (its node starts again): returns references dropped. */
uint32_t vni_pool_reset_queue(struct vni_pool *p, uint32_t self, uint32_t *errors);

/* The device id of VNI port PORT in the device table (its receive
 * interrupt), or a negative errno when it is not registered (vni.c). */
int vni_port_dev(struct mint_fabric *f, uint32_t port);

#endif
