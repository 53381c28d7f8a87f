/* SPDX-License-Identifier: MIT */
/*
 * The neutral interrupt layer: one table of every interrupt source (a
 * node's VNI port, the injector's NIC ring, host network interfaces), its
 * owner node, vector, mask and counters.  A source raises its device, the
 * layer rings the owner's doorbell; devices are handed over between nodes
 * at run time with no interrupt lost or handled twice.
 *
 * The handler protocol: an owner's handler for the device's vector calls
 * mint_dev_consume, which hands it the interrupts raised since the last
 * consume (sequence numbers FIRST .. FIRST + n - 1).  It must call it
 * every time it runs: raises coalesce into a doorbell until a consume
 * re-arms the device.  A doorbell is only a hint; the counts are the
 * truth, so a handler that consumes 0 did nothing wrong (a doorbell that
 * raced a move).
 */
#ifndef MINT_DEV_H
#define MINT_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/fabric.h"
#include "mint/api.h"

MINT_BEGIN_DECLS

#define MINT_VEC_DEV 4u /* "a device of yours was attached, detached, or changed link" */

enum mint_dev_type {
	MINT_DEV_VNI = 1,    /* a node's VNI port (bound to its node: not movable) */
	MINT_DEV_NIC = 2,    /* the injector's emulated NIC ring */
	MINT_DEV_HOSTIF = 3, /* a host network interface given to a node */
};

struct mint_dev_info {
	uint32_t id;
	uint32_t type;       /* enum mint_dev_type */
	uint32_t state;      /* MINT_DEV_ATTACHED / _DETACHED / _ORPHANED */
	uint32_t link;       /* MINT_DEV_LINK_DOWN / _UP */
	uint32_t owner;      /* node id, MINT_NODE_NONE when detached */
	uint32_t vector;
	bool masked;
	bool moving;         /* a move is recorded and not finished */
	uint32_t move_to;
	uint32_t ifindex;
	char name[MINT_DEV_NAME_MAX];
	uint64_t raised, handled, delivered, masked_raises, pending_delivered;
	uint64_t pending;    /* raised - handled */
	uint64_t doorbells;  /* raises that rang: the rest of `delivered` coalesced */
};

/*
 * Create the fabric's device table unless it exists (the first
 * registration does it; before it, the other calls find no device: -ENODEV,
 * and mint_dev_list 0).  1 created, 0 existed, or an error of mint_obj_open;
 * -EPROTO if the object is not a table this build knows.
 */
int mint_dev_table_create(struct mint_fabric *f);

/*
 * Register device NAME of TYPE, owned by node OWNER, raising VECTOR there.
 * A device of that name and type is re-registered in place (a restarted
 * node takes its port back): its counters stay.  Returns the device id, or
 * -EINVAL (bad name, type or vector), -ERANGE (bad owner), -EEXIST (NAME
 * has another type), -EBUSY (NAME is attached to another live node: move
 * it), -ENOSPC (table full).
 */
int mint_dev_register(struct mint_fabric *f, uint32_t type, const char *name, uint32_t owner,
		      uint32_t vector);

/* Free device ID's slot, once its owner's handler is out of
 * mint_dev_consume.  -ENODEV if ID is no device, -EBUSY mid-move,
 * -ETIMEDOUT (the handler stayed: nothing changed). */
int mint_dev_unregister(struct mint_fabric *f, uint32_t id);

/* Device id of NAME, or -ENOENT. Lock-free. */
int mint_dev_find(struct mint_fabric *f, const char *name);

/* Raise device ID's interrupt: ring its owner's doorbell, or count it
 * pending while masked.  A raise while an earlier doorbell of the device
 * is not consumed yet rings nothing: that consume takes it too.
 * Lock-free.  1 delivered (rung or coalesced), 0 pending, -ENODEV. */
int mint_dev_raise(struct mint_fabric *f, uint32_t id);

/*
 * The owner's handler side: take the interrupts raised and not yet
 * consumed.  Returns how many (0 if this handle's node is not the owner or
 * the device is masked: a move is under way), *FIRST the sequence number of
 * the first.  -ENODEV.
 */
int mint_dev_consume(struct mint_fabric *f, uint32_t id, uint64_t *first);

/* Change device ID's vector.  -EINVAL, -ENODEV, -EBUSY mid-move. */
int mint_dev_route(struct mint_fabric *f, uint32_t id, uint32_t vector);

/* Mask: raises accumulate.  Unmask: what accumulated is delivered. */
int mint_dev_mask(struct mint_fabric *f, uint32_t id);
int mint_dev_unmask(struct mint_fabric *f, uint32_t id);

/*
 * Hand device ID over to node TO: mask, wait until the old owner's handler
 * is out of mint_dev_consume, switch the owner, unmask, deliver what
 * accumulated.  -ENODEV (no such device), -ERANGE (no such node),
 * -EHOSTDOWN (TO is not alive), -EBUSY (another live process is moving
 * it), -EPERM (a VNI port or NIC ring), -EALREADY (TO owns it), -ETIMEDOUT (the old
 * owner stayed in its handler: rolled back).  The table is unchanged on
 * every error.
 *
 * In two halves for a caller with work between them (a host interface
 * moves to the new owner's namespace): begin records the intent in the
 * entry and masks; finish switches and unmasks.  If the caller dies in
 * between, the next operation on the table rolls the move back (a
 * detached device stays detached).
 */
int mint_dev_move(struct mint_fabric *f, uint32_t id, uint32_t to);
int mint_dev_move_begin(struct mint_fabric *f, uint32_t id, uint32_t to);
int mint_dev_move_finish(struct mint_fabric *f, uint32_t id);
/* Undo a begun move: back to the old owner, unmasked. */
int mint_dev_move_abort(struct mint_fabric *f, uint32_t id);

/* Take device ID from its owner (state DETACHED, masked, no owner).  The
 * old owner is told by MINT_VEC_DEV.  -ENODEV, -EBUSY mid-move, -EPERM (a
 * VNI port or NIC ring stays with its node). */
int mint_dev_detach(struct mint_fabric *f, uint32_t id);

/* Record device ID's link state and ifindex (0: keep) and tell the owner
 * (MINT_VEC_DEV) if the link changed.  -ENODEV. */
int mint_dev_set_link(struct mint_fabric *f, uint32_t id, bool up, uint32_t ifindex);

/* Snapshot of device ID.  -ENODEV. */
int mint_dev_info(struct mint_fabric *f, uint32_t id, struct mint_dev_info *info);

/*
 * Repair the table and fill up to CAP entries of INFOS; returns the number
 * of devices.  Repairs are what every locked operation does first: a move
 * whose mover died is finished or rolled back, and devices whose owner
 * died are marked ORPHANED and masked (their interrupts stay pending).
 */
int mint_dev_list(struct mint_fabric *f, struct mint_dev_info *infos, int cap);

/*
 * The owner's periodic check of its device *ID, registered as NAME of TYPE
 * on VECTOR (the calling node's).  An entry that is no longer that (a
 * stray write changed its route, name or state) is registered again (*ID
 * may change): 1.  Counts that cannot be (more than 2^32 pending, fewer
 * raised than handled) are written off, handled := raised: 1.  Interrupts pending with no doorbell out and nothing
 * consumed since the previous check (*SEEN, 0 before the first) mean a
 * lost doorbell: the owner's vector is raised, so its handler consumes
 * and re-arms: 2.  Healthy: 0.  Or a negative errno.
 */
int mint_dev_heal(struct mint_fabric *f, uint32_t *id, uint32_t type, const char *name,
		  uint32_t vector, uint64_t *seen);

/* The table's change count: a node compares it to spot changes. */
uint32_t mint_dev_generation(struct mint_fabric *f);

MINT_END_DECLS

#endif
