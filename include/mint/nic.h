/* SPDX-License-Identifier: MIT */
/*
 * The emulated NIC: an RX descriptor ring in the fabric with the semantics
 * of e1000 legacy receive descriptors, an interrupt cause register (ICR,
 * read-to-clear), a mask (IMS) and interrupt moderation (ITR).  The target
 * node runs the driver (mint_nic_attach, mint_nic_cause, mint_nic_rx); any
 * process can be the device (mint_nic_dev_open, mint_nic_put,
 * mint_nic_kick), as `mint inject` is.  The fields are in layout.h.
 */
#ifndef MINT_NIC_H
#define MINT_NIC_H
#include <stdbool.h>
#include <stdint.h>
#include "mint/fabric.h"
#include "mint/api.h"

MINT_BEGIN_DECLS

#define MINT_VEC_NIC 3u            /* "your NIC has a cause set": read ICR */
#define MINT_NIC_DEFAULT_DESC 256u
#define MINT_NIC_DEFAULT_BUF 2048u
/* The longest packet, chained over several descriptors when it exceeds
 * a buffer (EOP on the last, as e1000). */
#define MINT_NIC_MAX_FRAME 16384u

/* ---- the driver: the target node ---- */

struct mint_nic;
struct mint_nic_config {
	uint32_t ndesc;      /* a multiple of 8 in 8..4096 (0: 256) */
	uint32_t buf_size;   /* a power of two in 256..16384 (0: 2048) */
	uint8_t mac[6];      /* the driver's addresses, published for the */
	uint8_t ipv4[4];     /* injector's defaults (network byte order) */
	uint32_t prefix_len;
	uint32_t ims;        /* causes that ring (0: RXT0 | RXO) */
	uint64_t itr_ns;     /* minimum gap between doorbells (0: none) */
};
/*
 * Create (or re-create) the NIC "nic.ID" of the node this fabric handle
 * joined as, give every buffer but one to the device (RDT = ndesc - 1),
 * and mark it up.  Install a handler for MINT_VEC_NIC before the device
 * sends.  -ENOTCONN if not a node, -EINVAL for a bad configuration, -EEXIST
 * if "nic.ID" exists with another geometry (remove it first), or an error
 * of mint_obj_open.
 */
int mint_nic_attach(struct mint_fabric *f, const struct mint_nic_config *cfg,
		    struct mint_nic **out);
/* Mark the NIC down (the device stops), unless a newer incarnation of
 * the node attached it since, and free the handle. */
void mint_nic_detach(struct mint_nic *n);
/* Read and clear ICR: the causes set since the last read. */
uint32_t mint_nic_cause(struct mint_nic *n);
/* Set IMS; a cause already set that the new mask lets through rings now. */
void mint_nic_set_mask(struct mint_nic *n, uint32_t ims);
/* Set ITR: the device keeps at least NS between two doorbells. */
void mint_nic_set_itr(struct mint_nic *n, uint64_t ns);

/* A received packet: DATA points into the fabric (or, for a chain that
 * wraps around the ring, the driver's copy), valid during the call. */
struct mint_nic_rx {
	const void *data;
	uint32_t len;
	uint32_t index;      /* its first descriptor */
	uint16_t csum;       /* csum, status and vlan: its last descriptor's */
	uint8_t status;      /* MINT_NIC_STAT_* */
	uint8_t errors;      /* always 0 here: packets with errors are dropped */
	uint16_t vlan;       /* the 802.1Q tag when status has VP */
	uint32_t descs;      /* descriptors it spanned (1 unless chained) */
};
/* Returns 0, or -1 if the packet could not be delivered (drv_drops). */
typedef int (*mint_nic_rx_fn)(void *arg, const struct mint_nic_rx *pkt);
/*
 * Consume descriptors while DD is set, in ring order, starting no packet
 * after BUDGET descriptors: reassemble each packet over its descriptors
 * up to the one with EOP (every one before it must be a full buffer) and
 * hand it to FN.  Dropped, a packet each: error bits, a descriptor
 * without EOP that is not full, a chain longer than MINT_NIC_MAX_FRAME or
 * whose next descriptor is not done (the device publishes a chain's head
 * last, so that is a broken chain, not one in progress) count in
 * drv_errors; a garbage length or buffer offset in drv_bad.  All are given
 * back to the device (RDT).  Returns the number of descriptors consumed.
 */
int mint_nic_rx(struct mint_nic *n, mint_nic_rx_fn fn, void *arg, unsigned budget);

/* ---- the device: the injector ---- */

struct mint_nic_dev;
/*
 * Open node NODE's NIC as its device.  -ENOENT if it has none, -ENODEV if
 * its driver is down or its node is not the one that attached it (dead or
 * restarted), -EPROTO if the header is not a NIC this build knows, -ERANGE.
 */
int mint_nic_dev_open(struct mint_fabric *f, uint32_t node, struct mint_nic_dev **out);
void mint_nic_dev_close(struct mint_nic_dev *d);
/* Is the driver still up and its node the one that attached it? */
bool mint_nic_dev_alive(struct mint_nic_dev *d);

#define MINT_NIC_PKT_CUT 0x1u /* malformed: a chain whose last descriptor is never written */
struct mint_nic_pkt {
	const void *data;
	uint32_t len;        /* the packet's length field: may lie */
	uint32_t copy_len;   /* the bytes copied: over ceil(copy_len / buf_size)
			      * descriptors when above a buffer */
	uint16_t csum;       /* csum, status, errors, vlan: on the last descriptor */
	uint8_t status;      /* written with DD added; EOP is the caller's */
	uint8_t errors;
	uint16_t vlan;
	uint8_t flags;       /* MINT_NIC_PKT_CUT */
};
/* What the device wrote and the ring it saw, for a record. */
struct mint_nic_desc_image {
	uint32_t index;      /* the first descriptor */
	uint64_t addr;
	uint64_t status_word; /* the packet's: its whole length, the last's fields */
	uint32_t rdh, rdt;   /* before the write */
	uint32_t descs;      /* descriptors written */
};
/*
 * Write one packet into the descriptors from RDH, one buffer's worth of
 * its bytes each (EOP only on the last, where the caller's status goes):
 * each buffer and length first, DD last with release, the first
 * descriptor last of all; then advance RDH.  No interrupt: see
 * mint_nic_kick.  0, or -ENOBUFS when there are not enough free
 * descriptors (an overrun: counted, RXO set in ICR, nothing written),
 * -EPROTO when the driver's RDT or a descriptor's buffer offset is garbage
 * (counted in dev_errors; a bad offset still completes the first
 * descriptor, empty with RXE, so the ring goes on), -ENODEV when the
 * driver detached or re-attached since the open, -EMSGSIZE for a packet
 * above MINT_NIC_MAX_FRAME or more descriptors than the ring has less
 * one, -EINVAL for a packet without data or a cut one that fits a buffer.
 * With MINT_NIC_PKT_CUT the last descriptor is not written and RDH stops
 * before it.  IMG (may be NULL) receives what was written.
 */
int mint_nic_put(struct mint_nic_dev *d, const struct mint_nic_pkt *p,
		 struct mint_nic_desc_image *img);
/*
 * Write up to N packets as mint_nic_put does, publishing RDH and the
 * counters once.  Stops before the first packet it cannot write cleanly
 * (no room, a garbage RDT or buffer offset, no data, too long, cut):
 * mint_nic_put that one to have it counted.  Returns how many it wrote, or -ENODEV.  IMG
 * (may be NULL) receives N descriptor images.
 */
int mint_nic_put_batch(struct mint_nic_dev *d, const struct mint_nic_pkt *p, unsigned n,
		       struct mint_nic_desc_image *img);
/*
 * Set CAUSE in ICR, then raise MINT_VEC_NIC on the target if ICR & IMS is
 * not empty and the ITR gap since the last doorbell has passed.  CAUSE 0
 * only re-checks (a moderated cause rings once the gap is over).  Returns 1
 * if it rang, 0 if masked, moderated or nothing set.
 */
int mint_nic_kick(struct mint_nic_dev *d, uint32_t cause);
/* The ring as the device sees it. */
struct mint_nic_ring_state {
	uint32_t ndesc, buf_size;
	uint32_t rdh, rdt, icr, ims;
	uint64_t itr_ns;
	uint64_t consumed;    /* packets the driver consumed (a chain once), all outcomes */
};
void mint_nic_dev_ring(struct mint_nic_dev *d, struct mint_nic_ring_state *rs);
/* The driver's addresses as it published them. */
void mint_nic_dev_addr(struct mint_nic_dev *d, uint8_t mac[6], uint8_t ipv4[4]);

/* ---- both ---- */

struct mint_nic_stats {
	bool up;
	uint32_t ndesc, buf_size, rdh, rdt, icr, ims;
	uint64_t itr_ns;
	uint64_t rx_packets, rx_bytes, overruns, irqs, irqs_masked, dev_errors;
	uint64_t drv_packets, drv_bytes, drv_errors, drv_bad, drv_irqs, drv_drops;
};
/* Node NODE's NIC counters.  -ENOENT if it has none, -EPROTO, -ERANGE. */
int mint_nic_stats(struct mint_fabric *f, uint32_t node, struct mint_nic_stats *st);
MINT_END_DECLS

#endif
