/* SPDX-License-Identifier: MIT */
/* Duplex channels: an object holding a header and two rings. */
#include "mint/channel.h"

#include <errno.h>
#include <string.h>

#include "internal.h"
#include "le.h"
#include "mint/doorbell.h"
#include "mint/object.h"

struct channel_geometry {
	uint32_t node_a, node_b;
	uint64_t ring_size;
};

static int channel_init(void *mem, uint64_t size, void *arg)
{
	const struct channel_geometry *g = arg;
	struct mint_channel_hdr *h = mem;
	uint64_t ring = mint_ring_footprint(g->ring_size);
	if (sizeof(*h) + 2 * ring > size)
		return -EINVAL;
	int rc = mint_ring_format((uint8_t *)mem + sizeof(*h), g->ring_size, g->node_a, g->node_b,
				  MINT_VEC_CHANNEL);
	if (rc == 0)
		rc = mint_ring_format((uint8_t *)mem + sizeof(*h) + ring, g->ring_size, g->node_b,
				      g->node_a, MINT_VEC_CHANNEL);
	if (rc)
		return rc;
	wr32(&h->version, MINT_CHANNEL_VERSION);
	wr32(&h->node_a, g->node_a);
	wr32(&h->node_b, g->node_b);
	wr64(&h->ring_size, g->ring_size);
	wr64(&h->a2b_off, sizeof(*h));
	wr64(&h->b2a_off, sizeof(*h) + ring);
	wr32(&h->magic, MINT_CHANNEL_MAGIC);
	return 0;
}

int mint_channel_open_at(struct mint_fabric *f, uint64_t off, enum mint_channel_side side,
			 struct mint_channel *ch)
{
	struct mint_channel_hdr *h = mint_fabric_at(f, off, sizeof(*h));
	if (!h || off % MINT_CACHELINE || (side != MINT_SIDE_A && side != MINT_SIDE_B))
		return -EINVAL;
	if (rd32(&h->magic) != MINT_CHANNEL_MAGIC || rd32(&h->version) != MINT_CHANNEL_VERSION)
		return -EPROTO;
	/* Offsets come from shared memory: mint_ring_open bounds-checks them. */
	uint64_t a2b = off + rd64(&h->a2b_off), b2a = off + rd64(&h->b2a_off);
	if (a2b < off || b2a < off)
		return -EPROTO;
	memset(ch, 0, sizeof(*ch));
	ch->node_a = rd32(&h->node_a);
	ch->node_b = rd32(&h->node_b);
	ch->side = side;
	int rc = mint_ring_open(f, side == MINT_SIDE_A ? a2b : b2a, &ch->tx);
	if (rc == 0)
		rc = mint_ring_open(f, side == MINT_SIDE_A ? b2a : a2b, &ch->rx);
	return rc;
}

int mint_channel_open(struct mint_fabric *f, const char *name, uint32_t node_a, uint32_t node_b,
		      uint64_t ring_size, enum mint_channel_side side, struct mint_channel *ch)
{
	struct channel_geometry g = {node_a, node_b, ring_size};
	uint64_t size = sizeof(struct mint_channel_hdr) + 2 * mint_ring_footprint(ring_size);
	uint64_t off;
	int created = mint_obj_open(f, name, MINT_OBJ_CHANNEL, size, channel_init, &g, &off);
	if (created < 0)
		return created;
	int rc = mint_channel_open_at(f, off, side, ch);
	if (rc == 0 && (ch->node_a != node_a || ch->node_b != node_b))
		rc = -EADDRINUSE;
	return rc < 0 ? rc : created;
}

int mint_channel_remove(struct mint_fabric *f, const char *name)
{
	return mint_obj_remove(f, name);
}
