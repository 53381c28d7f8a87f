/* SPDX-License-Identifier: MIT */
/* Duplex channels: a pair of rings between two endpoints, found by name. */
#ifndef MINT_CHANNEL_H
#define MINT_CHANNEL_H

#include <stdint.h>

#include "mint/fabric.h"
#include "mint/ring.h"
#include "mint/api.h"

MINT_BEGIN_DECLS

enum mint_channel_side { MINT_SIDE_A = 0, MINT_SIDE_B = 1 };

struct mint_channel {
	struct mint_ring tx;
	struct mint_ring rx;
	uint32_t node_a, node_b;
	enum mint_channel_side side;
};

/*
 * Open channel NAME as SIDE, creating it if absent with rings of RING_SIZE
 * data bytes between NODE_A and NODE_B (node ids, or MINT_NODE_NONE for a
 * tool that is not a node).  When it exists, its endpoints must match
 * (-EADDRINUSE otherwise).  Each ring notifies its consumer's node on
 * MINT_VEC_CHANNEL when that consumer is armed.  Returns 1 when it created
 * the channel, 0 when it opened an existing one, or a negative errno (those
 * of mint_obj_open and mint_ring_open).
 */
int mint_channel_open(struct mint_fabric *f, const char *name, uint32_t node_a, uint32_t node_b,
		      uint64_t ring_size, enum mint_channel_side side, struct mint_channel *ch);

/* Open an existing channel by its object offset (used by servers that scan
 * the directory). */
int mint_channel_open_at(struct mint_fabric *f, uint64_t off, enum mint_channel_side side,
			 struct mint_channel *ch);

/* Remove channel NAME from the fabric. */
int mint_channel_remove(struct mint_fabric *f, const char *name);

MINT_END_DECLS

#endif
