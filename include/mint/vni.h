/* SPDX-License-Identifier: MIT */
/*
 * The virtual NIC: Ethernet frames between nodes through the fabric.  A
 * frame is a virtio-net header (MINT_VNI_VNET_HDR bytes, opaque here: it is
 * the TAP device's) followed by an Ethernet frame.  Each node's port has a
 * MAC derived from the fabric's name and the node id; frames go to the port
 * of their destination MAC, broadcast and multicast to every other port.
 */
#ifndef MINT_VNI_H
#define MINT_VNI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mint/fabric.h"
#include "mint/api.h"

MINT_BEGIN_DECLS

#define MINT_VEC_VNI 2u                       /* "frames for you": drain them */
#define MINT_VNI_DEFAULT_RING (4ull << 20)    /* per-destination ring bytes */

struct mint_vni;

struct mint_vni_config {
	uint32_t mode;       /* MINT_VNI_PER_DEST (0: the default) or MINT_VNI_POOL */
	uint64_t ring_size;  /* per-destination rings (0: MINT_VNI_DEFAULT_RING) */
	uint32_t pool_buffers; /* pool mode: buffers of MINT_VNI_BUF_SIZE bytes
				* (0: MINT_VNI_POOL_DEFAULT); 0 in per-destination mode */
};

/*
 * Create the fabric's VNI object with CFG (NULL: defaults) unless it
 * exists; in pool mode also its buffer pool, object "vni.pool"
 * (MINT_OBJ_VNI_POOL, about pool_buffers * 80 KiB: 64 KiB buffers and
 * eight 2 KiB ones each).  1 created, 0
 * existed, -EINVAL (bad mode, ring size: a power of two of at least
 * 4 * MINT_VNI_FRAME_MAX: 512 KiB, or pool_buffers outside
 * MINT_VNI_POOL_MIN..MINT_VNI_POOL_MAX), or an error of mint_obj_open
 * (-ENOSPC: the fabric has no room for the pool).
 */
int mint_vni_create(struct mint_fabric *f, const struct mint_vni_config *cfg);

/* The fabric's VNI as seen by this process (created with defaults if it
 * does not exist).  -EPROTO if the object is not a VNI this build knows. */
int mint_vni_open(struct mint_fabric *f, struct mint_vni **out);
void mint_vni_close(struct mint_vni *v);

/* The configuration it was created with. */
void mint_vni_config(const struct mint_vni *v, struct mint_vni_config *cfg);

/* MAC of node ID's port: locally administered, stable for a fabric name. */
void mint_vni_mac(const struct mint_vni *v, uint32_t id, uint8_t mac[6]);

/*
 * Bring up the port of the node this fabric handle joined as, with its
 * IPv4 address (network order) for display.  In per-destination mode the
 * rings to and from every port that is up are made first: -ENOSPC (no
 * room in the fabric) or -ENFILE (the directory is full) if one cannot
 * be, and then none of those this call made stays.  -ENOTCONN if not a
 * node, -ERANGE if its id has no port (>= MINT_VNI_MAX_PORTS).
 */
int mint_vni_attach(struct mint_vni *v, const uint8_t ipv4[4], uint32_t prefix_len);
int mint_vni_detach(struct mint_vni *v);

/*
 * Send FRAME (LEN bytes: virtio-net header + Ethernet frame) to the port of
 * its destination MAC, or to every other up port for broadcast and
 * multicast.  Returns the number of ports it was queued to; a full, down
 * or unknown destination drops the frame and counts the reason, as a NIC
 * does.  -EMSGSIZE if LEN is out of range, -ENOTCONN if not attached.
 */
int mint_vni_send(struct mint_vni *v, const void *frame, uint32_t len);

/*
 * Transmit without a copy: tx_begin gives a buffer of *CAP bytes for the
 * next frame, inside the ring of the port the last unicast frame went to
 * when it has room (else a private buffer); write the frame there (a read
 * from the TAP device), then tx_end sends its LEN bytes as mint_vni_send
 * would: in place when it goes to that port, else by copying.  Returns
 * as mint_vni_send.  One transmitting thread per port.
 */
int mint_vni_tx_begin(struct mint_vni *v, void **buf, uint32_t *cap);
int mint_vni_tx_end(struct mint_vni *v, uint32_t len);

/* Called for each received frame; FRAME points into the fabric (see
 * mint_ring_peek) and is valid during the call.  Returns 0, or -1 if the
 * frame could not be delivered (counted in rx_drop_host). */
typedef int (*mint_vni_rx_fn)(void *arg, const void *frame, uint32_t len);

/* Deliver up to BUDGET waiting frames to FN; returns how many. */
int mint_vni_poll(struct mint_vni *v, mint_vni_rx_fn fn, void *arg, unsigned budget);

/* Completes what FN started for the frames delivered since the last call
 * (writes submitted together); returns how many of them failed, and their
 * bytes in *FAILED_BYTES (counted in rx_drop_host). */
typedef unsigned (*mint_vni_flush_fn)(void *arg, uint64_t *failed_bytes);

/*
 * As mint_vni_poll, but a frame FN accepted (0) stays valid until the next
 * FLUSH returns: FN may queue it and FLUSH finish the work for the whole
 * run.  FLUSH is called once per source's run of frames (per-destination
 * rings: the ring's head waits for it, see mint_ring_hold) and, in pool
 * mode, after each frame.  FN returning -1 drops the frame at once.
 */
int mint_vni_poll_batch(struct mint_vni *v, mint_vni_rx_fn fn, mint_vni_flush_fn flush, void *arg,
			unsigned budget);

/* Is node ID's port up, its node alive and the one that brought it up?
 * Reads only the fabric: any thread may ask. */
bool mint_vni_peer_up(const struct mint_vni *v, uint32_t id);

/* After draining: ask for MINT_VEC_VNI on the next frame.  0 armed, 1 if
 * frames arrived meanwhile (poll again). */
int mint_vni_arm(struct mint_vni *v);

/*
 * Pool mode: give back to the pool what dead nodes hold (frames queued to
 * a port whose node died or stopped, buffers a dead sender had taken).
 * Any node may call it at any time (the agent does at every heartbeat;
 * senders do when the pool is empty); one reclaimer runs at a time, the
 * others return at once.  Returns the references taken back (counted in
 * pool_reclaimed); 0 in per-destination mode or if not attached.
 */
int mint_vni_reclaim(struct mint_vni *v);

/*
 * Bytes a fabric needs so that NODES nodes all have a VNI port in
 * configuration CFG (zeros: the defaults): the fabric's head (header, node
 * table, directory), the VNI header and the device table, then in
 * per-destination mode a ring of CFG->ring_size data bytes per ordered
 * pair of nodes, NODES * (NODES - 1) of them, and in pool mode the pool
 * (any number of nodes up to MINT_VNI_MAX_PORTS).  Channels (mint ping,
 * mint exec) need room of their own on top.  0 for a bad CFG.
 */
uint64_t mint_vni_fabric_size(const struct mint_vni_config *cfg, uint32_t nodes);

/* Put the VNI header's directory entry (see mint_obj_claim), its geometry
 * and, in pool mode, the pool header's constants back as this node
 * validated them at open, if a stray write changed them (a node attaching
 * later would be refused): 0, 1 if it did, or a negative errno.  Senders
 * claim the rings they created the same way, each time they re-check a
 * peer. */
int mint_vni_claim(struct mint_vni *v);

/*
 * Per-destination mode: how many rings towards this node hold frames whose
 * head has not moved since the previous call (HEADS keeps the call's
 * memory, zeroed before the first): a receive stalled by a lost or
 * suppressed doorbell (a peer overwrote a bell or an armed flag).  The
 * caller raises MINT_VEC_VNI on itself, whose handler drains them.
 * Reads only the fabric: any thread may ask.  0 in pool mode.
 */
int mint_vni_rx_stalled(const struct mint_vni *v, uint64_t heads[MINT_VNI_MAX_PORTS]);

struct mint_vni_stats {
	bool up;
	uint8_t mac[6];
	uint8_t ipv4[4];
	uint32_t prefix_len;
	uint64_t tx_packets, tx_bytes, tx_drop_full, tx_drop_unknown, tx_drop_down, tx_drop_error;
	uint64_t tx_irqs, tx_irqs_suppressed;
	uint64_t rx_packets, rx_bytes, rx_errors, rx_drop_host, rx_polls;
	uint64_t tx_drop_queue;
	uint64_t tx_drop_pool;   /* pool mode: no free buffer */
	uint64_t pool_reclaimed; /* pool mode: references taken back from dead nodes */
	uint64_t pool_errors;    /* pool mode: corrupt entries seen while reclaiming */
};

/* The device-table name of node ID's port ("vni.ID"): a node's agent
 * registers its port under it (mint_dev_register, MINT_DEV_VNI,
 * MINT_VEC_VNI) before attaching, and senders then raise the port's
 * receive interrupt through the table (mint_dev_raise).  The receiver's
 * MINT_VEC_VNI handler must then call mint_dev_consume on that device
 * each time it runs: raises coalesce until a consume re-arms it. */
void mint_vni_dev_name(uint32_t id, char *name, size_t cap);

/* Record how many frames the node's host stack dropped at the TAP
 * device's transmit queue before the VNI could read them (a running total,
 * as the host counts it). */
void mint_vni_set_queue_drops(struct mint_vni *v, uint64_t total);

/* Node ID's port and counters.  -ENOENT if the fabric has no VNI, -ERANGE. */
int mint_vni_stats(struct mint_fabric *f, uint32_t id, struct mint_vni_stats *st);

MINT_END_DECLS

#endif
