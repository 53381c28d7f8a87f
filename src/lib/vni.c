/* SPDX-License-Identifier: MIT */
/*
 * The virtual NIC.  Per-destination mode (configuration (1)): node S sends
 * to node D through ring "vni.S-D" (S the only producer, D the only
 * consumer), so the data path takes no lock.  Pool mode (configuration
 * (2), vni_pool.c): frames sit in buffers of one shared pool and their ids
 * go through an address queue per destination.  Routing, counters, ports
 * and the public calls are the same for both.  Each node's counters sit on
 * lines only it writes.
 */
#include "mint/vni.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "le.h"
#include "mint/dev.h"
#include "mint/doorbell.h"
#include "mint/node.h"
#include "mint/object.h"
#include "mint/ring.h"
#include "vni_pool.h"

#define VNI_OBJ "vni"
#define LIVENESS_EVERY_NS 100000000ull /* how often a sender re-checks a peer */
#define POLL_QUOTA 64u                 /* frames per source per pass */

struct peer {
	struct mint_ring tx, rx;
	bool tx_open, rx_open;
	bool alive;
	uint64_t checked_ns;
	uint32_t epoch; /* the port's epoch at that check */
};

struct mint_vni {
	struct mint_fabric *f;
	struct mint_vni_hdr *hdr;
	uint32_t self;
	uint64_t ring_size; /* validated copies of the header's geometry */
	uint8_t mac_base[6];
	uint32_t generation;
	struct peer peers[MINT_VNI_MAX_PORTS];
	uint32_t last_dst;   /* port of the last unicast frame sent */
	uint32_t tx_dst;     /* port whose ring holds the tx_begin buffer, or NONE */
	uint8_t *tx_buf;     /* the tx_begin buffer */
	uint8_t *scratch;    /* MINT_VNI_FRAME_MAX bytes when no ring has room */
	bool pooled;         /* pool mode: the fields below are in use */
	uint32_t pool_buffers;
	struct vni_pool pool;
	uint32_t tx_id;      /* pool buffer held for the next frame, or NONE */
	uint64_t reclaim_ns; /* when a full pool last made us reclaim */
};

struct vni_init_args {
	struct mint_vni_config cfg;
	const char *fabric_name;
};

/* Two bytes of FNV-1a of the fabric name: stable MACs per fabric. */
static uint16_t name_hash(const char *name, size_t cap)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < cap && name[i]; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	return (uint16_t)(h ^ (h >> 16));
}

static int vni_init(void *mem, uint64_t size, void *arg)
{
	const struct vni_init_args *a = arg;
	struct mint_vni_hdr *h = mem;
	if (size < sizeof(*h))
		return -EINVAL;
	uint16_t hash = name_hash(a->fabric_name, MINT_NAME_MAX);
	const uint8_t base[6] = {0x02, 0x6d, (uint8_t)(hash >> 8), (uint8_t)hash, 0, 0};
	wr32(&h->version, MINT_VNI_VERSION);
	wr32(&h->mode, a->cfg.mode);
	wr32(&h->max_ports, MINT_VNI_MAX_PORTS);
	wr64(&h->ring_size, a->cfg.ring_size);
	wr32(&h->pool_buffers, a->cfg.pool_buffers);
	wr32(&h->vnet_hdr_len, MINT_VNI_VNET_HDR);
	memcpy(h->mac_base, base, sizeof(base));
	wr32(&h->magic, MINT_VNI_MAGIC);
	return 0;
}

static int check_config(struct mint_vni_config *cfg)
{
	if (cfg->mode == 0)
		cfg->mode = MINT_VNI_PER_DEST;
	if (cfg->ring_size == 0)
		cfg->ring_size = MINT_VNI_DEFAULT_RING;
	if (cfg->mode == MINT_VNI_POOL && cfg->pool_buffers == 0)
		cfg->pool_buffers = MINT_VNI_POOL_DEFAULT;
	bool pool_ok = cfg->mode == MINT_VNI_POOL ? cfg->pool_buffers >= MINT_VNI_POOL_MIN &&
							    cfg->pool_buffers <= MINT_VNI_POOL_MAX
						  : cfg->pool_buffers == 0;
	if ((cfg->mode != MINT_VNI_PER_DEST && cfg->mode != MINT_VNI_POOL) || !pool_ok ||
	    cfg->ring_size < 4 * (uint64_t)MINT_VNI_FRAME_MAX ||
	    (cfg->ring_size & (cfg->ring_size - 1)))
		return -EINVAL;
	return 0;
}

int mint_vni_create(struct mint_fabric *f, const struct mint_vni_config *cfg)
{
	struct vni_init_args a = {{0, 0, 0}, mint_fabric_hdr(f)->name};
	if (cfg)
		a.cfg = *cfg;
	int rc = check_config(&a.cfg);
	/* The pool first: a header that says "pool" always has one. */
	if (rc == 0 && a.cfg.mode == MINT_VNI_POOL)
		rc = vni_pool_create(f, a.cfg.pool_buffers);
	if (rc < 0)
		return rc;
	uint64_t off;
	return mint_obj_open(f, VNI_OBJ, MINT_OBJ_VNI, sizeof(struct mint_vni_hdr), vni_init, &a,
			     &off);
}

/* Validate the VNI header at OFF and copy its geometry into V. */
static int check_header(struct mint_vni *v, uint64_t off)
{
	struct mint_vni_hdr *h = mint_fabric_at(v->f, off, sizeof(*h));
	if (!h || rd32(&h->magic) != MINT_VNI_MAGIC || rd32(&h->version) != MINT_VNI_VERSION ||
	    rd32(&h->max_ports) != MINT_VNI_MAX_PORTS || rd32(&h->vnet_hdr_len) != MINT_VNI_VNET_HDR)
		return -EPROTO;
	struct mint_vni_config cfg = {rd32(&h->mode), rd64(&h->ring_size), rd32(&h->pool_buffers)};
	if (cfg.mode == 0 || (cfg.mode == MINT_VNI_POOL && cfg.pool_buffers == 0) ||
	    check_config(&cfg))
		return -EPROTO;
	if (cfg.mode == MINT_VNI_POOL && vni_pool_open(v->f, cfg.pool_buffers, &v->pool) != 0)
		return -EPROTO;
	v->hdr = h;
	v->ring_size = cfg.ring_size;
	v->pooled = cfg.mode == MINT_VNI_POOL;
	v->pool_buffers = cfg.pool_buffers;
	memcpy(v->mac_base, h->mac_base, sizeof(v->mac_base));
	return 0;
}

int mint_vni_open(struct mint_fabric *f, struct mint_vni **out)
{
	int rc = mint_vni_create(f, NULL);
	struct mint_obj_info info;
	if (rc >= 0)
		rc = mint_obj_find(f, VNI_OBJ, &info);
	if (rc < 0)
		return rc;
	struct mint_vni *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->f = f;
	v->self = mint_fabric_self(f);
	v->generation = ~0u;
	v->last_dst = v->tx_dst = MINT_NODE_NONE;
	v->tx_id = MINT_VNI_BUF_NONE;
	if (!(v->scratch = malloc(MINT_VNI_FRAME_MAX)))
		rc = -ENOMEM;
	else
		rc = check_header(v, info.offset);
	if (rc) {
		free(v->scratch);
		free(v);
		return rc;
	}
	*out = v;
	return 0;
}

/* Pool mode: give back the buffer held for the next frame. */
static void drop_tx_buffer(struct mint_vni *v)
{
	if (v->tx_id != MINT_VNI_BUF_NONE)
		vni_pool_sent(&v->pool, v->tx_id); /* queued nowhere: freed */
	v->tx_id = MINT_VNI_BUF_NONE;
}

void mint_vni_close(struct mint_vni *v)
{
	if (v) {
		if (v->pooled)
			drop_tx_buffer(v);
		free(v->scratch);
	}
	free(v);
}

void mint_vni_config(const struct mint_vni *v, struct mint_vni_config *cfg)
{
	cfg->mode = v->pooled ? MINT_VNI_POOL : MINT_VNI_PER_DEST;
	cfg->ring_size = v->ring_size;
	cfg->pool_buffers = v->pool_buffers;
}

void mint_vni_mac(const struct mint_vni *v, uint32_t id, uint8_t mac[6])
{
	memcpy(mac, v->mac_base, 6);
	mac[5] = (uint8_t)id;
}

static void count(_Atomic uint64_t *counter, uint64_t n) { own_inc64(counter, n); }

static struct mint_vni_port *my_port(struct mint_vni *v)
{
	return v->self < MINT_VNI_MAX_PORTS ? &v->hdr->ports[v->self] : NULL;
}

/* An object of SIZE bytes in the heap, rounded up as the allocator does. */
static uint64_t obj_bytes(uint64_t size) { return (size + MINT_CACHELINE - 1) & ~(uint64_t)63; }

uint64_t mint_vni_fabric_size(const struct mint_vni_config *cfg, uint32_t nodes)
{
	struct mint_vni_config c = *cfg;
	if (check_config(&c) != 0)
		return 0;
	uint64_t fixed = MINT_HEAP_OFF + obj_bytes(sizeof(struct mint_vni_hdr)) +
			 obj_bytes(sizeof(struct mint_devtab_hdr));
	if (c.mode == MINT_VNI_POOL)
		return fixed + obj_bytes(vni_pool_bytes(c.pool_buffers));
	return fixed + (uint64_t)nodes * (nodes - 1) * obj_bytes(mint_ring_footprint(c.ring_size));
}

static int open_ring(struct mint_vni *v, uint32_t src, uint32_t dst, bool create,
		     struct mint_ring *r);

/* Per-destination mode: the rings to and from every port that is up are
 * made now, so that a node either has all it needs or fails to attach
 * (-ENOSPC, -ENFILE), instead of coming up and dropping every frame.  A
 * failure removes the rings this call made. */
static int make_rings(struct mint_vni *v)
{
	uint32_t made[2 * MINT_VNI_MAX_PORTS][2], n = 0;
	int rc = 0;
	for (uint32_t peer = 0; peer < MINT_VNI_MAX_PORTS && rc >= 0; peer++) {
		if (peer == v->self || !mint_vni_peer_up(v, peer))
			continue;
		const uint32_t ends[2][2] = {{v->self, peer}, {peer, v->self}};
		for (int k = 0; k < 2 && rc >= 0; k++) {
			struct mint_ring r;
			if ((rc = open_ring(v, ends[k][0], ends[k][1], true, &r)) == 1)
				memcpy(made[n++], ends[k], sizeof(ends[k]));
		}
	}
	for (uint32_t i = 0; rc < 0 && i < n; i++) {
		char name[MINT_OBJ_NAME_MAX];
		snprintf(name, sizeof(name), VNI_OBJ ".%u-%u", made[i][0], made[i][1]);
		mint_obj_remove(v->f, name);
	}
	return rc < 0 ? rc : 0;
}

int mint_vni_attach(struct mint_vni *v, const uint8_t ipv4[4], uint32_t prefix_len)
{
	v->self = mint_fabric_self(v->f);
	if (v->self == MINT_NODE_NONE)
		return -ENOTCONN;
	struct mint_vni_port *p = my_port(v);
	if (!p)
		return -ERANGE;
	struct mint_node_info me;
	mint_node_info(v->f, v->self, &me);
	int rc = v->pooled ? 0 : make_rings(v);
	if (rc < 0)
		return rc;
	if (v->pooled) { /* what a dead predecessor left queued to us goes back */
		uint32_t errors = 0;
		uint32_t n = vni_pool_reset_queue(&v->pool, v->self, &errors);
		/* relaxed: counters; atomic adds, as in reclaim. */
		aadd64(&p->pool_reclaimed, n, memory_order_relaxed);
		aadd64(&p->pool_errors, errors, memory_order_relaxed);
	}
	wr32(&p->epoch, me.epoch);
	mint_vni_mac(v, v->self, p->mac);
	memcpy(p->ipv4, ipv4, 4);
	wr32(&p->prefix_len, prefix_len);
	/* release: the port's identity is visible before UP; pairs with the
	 * acquire load of state in peer_up and mint_vni_stats. */
	ast32(&p->state, MINT_VNI_UP, memory_order_release);
	return 0;
}

int mint_vni_detach(struct mint_vni *v)
{
	struct mint_vni_port *p = my_port(v);
	if (!p)
		return -ENOTCONN;
	/* Only the attaching incarnation of the node takes its port down. */
	struct mint_node_info me;
	if (mint_node_info(v->f, v->self, &me) != 0 || me.epoch != rd32(&p->epoch))
		return -ESTALE;
	if (v->pooled)
		drop_tx_buffer(v);
	ast32(&p->state, MINT_VNI_DOWN, memory_order_release);
	return 0;
}

struct ring_ends {
	uint32_t prod, cons;
	uint64_t size;
};

static int format_ring(void *mem, uint64_t size, void *arg)
{
	const struct ring_ends *e = arg;
	(void)size;
	return mint_ring_format(mem, e->size, e->prod, e->cons, MINT_VEC_VNI);
}

/* Open (creating it if CREATE) ring "vni.SRC-DST": 1 if it was created,
 * 0 if it existed, or a negative errno. */
static int open_ring(struct mint_vni *v, uint32_t src, uint32_t dst, bool create,
		     struct mint_ring *r)
{
	char name[MINT_OBJ_NAME_MAX];
	snprintf(name, sizeof(name), VNI_OBJ ".%u-%u", src, dst);
	uint64_t off;
	int rc;
	int created = 0;
	if (create) {
		struct ring_ends ends = {src, dst, v->ring_size};
		rc = created = mint_obj_open(v->f, name, MINT_OBJ_RING,
					     mint_ring_footprint(v->ring_size), format_ring, &ends, &off);
	} else {
		struct mint_obj_info info;
		rc = mint_obj_find(v->f, name, &info);
		if (rc == 0 && info.type != MINT_OBJ_RING)
			rc = -EPROTO;
		off = rc == 0 ? info.offset : 0;
	}
	if (rc < 0)
		return rc;
	rc = mint_ring_open(v->f, off, r);
	return rc < 0 ? rc : created;
}

static bool port_state_up(const struct mint_vni *v, uint32_t id)
{
	/* acquire: pairs with the release store of UP in mint_vni_attach. */
	return ald32(&v->hdr->ports[id].state, memory_order_acquire) == MINT_VNI_UP;
}

/* Its node alive, and still the node that brought the port up (a node
 * restarted without its VNI leaves a stale UP behind). */
static bool port_node_alive(const struct mint_vni *v, uint32_t id)
{
	struct mint_node_info info;
	return mint_node_alive(v->f, id) && mint_node_info(v->f, id, &info) == 0 &&
	       info.epoch == rd32(&v->hdr->ports[id].epoch);
}

bool mint_vni_peer_up(const struct mint_vni *v, uint32_t id)
{
	return id < MINT_VNI_MAX_PORTS && port_state_up(v, id) && port_node_alive(v, id);
}

/* We created ring "vni.SELF-DST" and send into it: its directory entry
 * is ours to keep (a receiver that starts finds the ring by it). */
static void claim_tx_ring(struct mint_vni *v, uint32_t dst)
{
	char name[MINT_OBJ_NAME_MAX];
	snprintf(name, sizeof(name), VNI_OBJ ".%u-%u", v->self, dst);
	mint_obj_claim(v->f, name, MINT_OBJ_RING, mint_fabric_off(v->f, v->peers[dst].tx.hdr),
		       mint_ring_footprint(v->ring_size));
}

/* mint_vni_peer_up for the transmit path: the process check is cached,
 * and done with it, the check of our ring's directory entry. */
static bool peer_up(struct mint_vni *v, uint32_t dst)
{
	struct peer *p = &v->peers[dst];
	if (!port_state_up(v, dst))
		return false;
	/* A port attached since the last check (a node that just started)
	 * is checked at once: its first frames must not be dropped. */
	uint32_t epoch = rd32(&v->hdr->ports[dst].epoch);
	uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
	if (now - p->checked_ns > LIVENESS_EVERY_NS || epoch != p->epoch) {
		p->alive = port_node_alive(v, dst);
		p->checked_ns = now;
		p->epoch = epoch;
		if (p->tx_open)
			claim_tx_ring(v, dst);
	}
	return p->alive;
}

/* The header's geometry written back as check_header validated it, so that
 * a node attaching later finds it sound: true if a stray write changed it.
 * relaxed: the geometry is constant; every user validated its own copy. */
static bool heal_geometry(struct mint_vni *v)
{
	struct mint_vni_hdr *h = v->hdr;
	bool healed = rfix32(&h->magic, MINT_VNI_MAGIC) | rfix32(&h->version, MINT_VNI_VERSION) |
		      rfix32(&h->mode, v->pooled ? MINT_VNI_POOL : MINT_VNI_PER_DEST) |
		      rfix32(&h->max_ports, MINT_VNI_MAX_PORTS) |
		      rfix32(&h->vnet_hdr_len, MINT_VNI_VNET_HDR) |
		      rfix32(&h->pool_buffers, v->pool_buffers);
	if (rld64(&h->ring_size) != v->ring_size) {
		rst64(&h->ring_size, v->ring_size);
		healed = true;
	}
	for (size_t i = 0; i < sizeof(v->mac_base); i++) {
		if (__atomic_load_n(&h->mac_base[i], __ATOMIC_RELAXED) != v->mac_base[i]) {
			__atomic_store_n(&h->mac_base[i], v->mac_base[i], __ATOMIC_RELAXED);
			healed = true;
		}
	}
	return healed;
}

int mint_vni_claim(struct mint_vni *v)
{
	int rc = mint_obj_claim(v->f, VNI_OBJ, MINT_OBJ_VNI, mint_fabric_off(v->f, v->hdr),
				sizeof(*v->hdr));
	bool healed = heal_geometry(v);
	if (v->pooled)
		healed |= vni_pool_heal(&v->pool) == 1;
	return rc < 0 ? rc : rc == 1 || healed;
}

static void count_sent(struct mint_vni *v, uint32_t len, uint32_t bell)
{
	struct mint_vni_port *me = my_port(v);
	count(&me->tx_packets, 1);
	count(&me->tx_bytes, len);
	count(bell == MINT_BELL_AWAKE ? &me->tx_irqs_suppressed : &me->tx_irqs, 1);
}

int vni_port_dev(struct mint_fabric *f, uint32_t port)
{
	char name[MINT_DEV_NAME_MAX];
	mint_vni_dev_name(port, name, sizeof(name));
	return mint_dev_find(f, name);
}

/* The receiver's interrupt goes through the device table when its agent
 * registered its port there (device "vni.DST", see mint_vni_dev_name). */
static void route_through_dev(struct mint_vni *v, uint32_t dst, struct mint_ring *r)
{
	int id = vni_port_dev(v->f, dst);
	if (id >= 0)
		mint_ring_route_dev(r, (uint32_t)id);
}

void mint_vni_dev_name(uint32_t id, char *name, size_t cap)
{
	snprintf(name, cap, VNI_OBJ ".%u", id);
}

/* Per-destination mode: queue FRAME on the ring to DST: 1 queued, 0
 * dropped (counted). */
static int ring_send_to(struct mint_vni *v, uint32_t dst, const void *frame, uint32_t len)
{
	struct mint_vni_port *me = my_port(v);
	struct peer *p = &v->peers[dst];
	int rc = p->tx_open ? 0 : open_ring(v, v->self, dst, true, &p->tx);
	rc = rc > 0 ? 0 : rc; /* made now or before: the same */
	if (rc == 0 && !p->tx_open)
		route_through_dev(v, dst, &p->tx);
	p->tx_open = rc == 0;
	if (rc == 0)
		rc = mint_ring_send(&p->tx, frame, len, MINT_REC_FRAME);
	if (rc) {
		count(rc == -EAGAIN ? &me->tx_drop_full : &me->tx_drop_error, 1);
		return 0;
	}
	count_sent(v, len, p->tx.last_bell);
	return 1;
}

/* The port a unicast MAC belongs to, or MINT_NODE_NONE (another prefix,
 * no such port, or ourselves). */
static uint32_t unicast_port(const struct mint_vni *v, const uint8_t *dmac)
{
	if (memcmp(dmac, v->mac_base, 5) != 0 || dmac[5] >= MINT_VNI_MAX_PORTS || dmac[5] == v->self)
		return MINT_NODE_NONE;
	return dmac[5];
}

/* The ports FRAME goes to, a bit each: the port of its unicast MAC, or
 * every other up port for broadcast and multicast.  An unknown MAC and
 * each port found down are counted as drops. */
static uint32_t route(struct mint_vni *v, const uint8_t *frame)
{
	struct mint_vni_port *me = my_port(v);
	const uint8_t *dmac = frame + MINT_VNI_VNET_HDR;
	uint32_t want = 0, mask = 0;
	if (dmac[0] & 1) { /* broadcast and multicast: every other port */
		for (uint32_t dst = 0; dst < MINT_VNI_MAX_PORTS; dst++)
			if (dst != v->self &&
			    ald32(&v->hdr->ports[dst].state, memory_order_relaxed) == MINT_VNI_UP)
				want |= 1u << dst;
	} else {
		uint32_t dst = unicast_port(v, dmac);
		if (dst == MINT_NODE_NONE) {
			count(&me->tx_drop_unknown, 1);
			return 0;
		}
		v->last_dst = dst;
		want = 1u << dst;
	}
	for (uint32_t dst = 0; dst < MINT_VNI_MAX_PORTS; dst++) {
		if (!(want & (1u << dst)))
			continue;
		if (peer_up(v, dst))
			mask |= 1u << dst;
		else
			count(&me->tx_drop_down, 1);
	}
	return mask;
}

/* A frame of LEN bytes may go: 0, -ENOTCONN, or -EMSGSIZE (counted). */
static int check_frame(struct mint_vni *v, uint32_t len)
{
	struct mint_vni_port *me = my_port(v);
	if (!me || ald32(&me->state, memory_order_relaxed) != MINT_VNI_UP)
		return -ENOTCONN;
	if (len < MINT_VNI_VNET_HDR + 14 || len > MINT_VNI_FRAME_MAX) {
		count(&me->tx_drop_error, 1);
		return -EMSGSIZE;
	}
	return 0;
}

/* Pool mode: what dead nodes hold goes back to the pool. */
static int reclaim(struct mint_vni *v)
{
	struct mint_vni_port *me = my_port(v);
	uint32_t live[MINT_VNI_MAX_PORTS];
	for (uint32_t id = 0; id < MINT_VNI_MAX_PORTS; id++)
		live[id] = mint_vni_peer_up(v, id) ? rd32(&v->hdr->ports[id].epoch) : 0;
	uint32_t errors = 0;
	uint32_t n = vni_pool_reclaim(&v->pool, live, &errors);
	/* relaxed: counters; atomic adds, as several threads of the node reclaim. */
	aadd64(&me->pool_reclaimed, n, memory_order_relaxed);
	aadd64(&me->pool_errors, errors, memory_order_relaxed);
	return (int)n;
}

int mint_vni_reclaim(struct mint_vni *v)
{
	return v->pooled && my_port(v) ? reclaim(v) : 0;
}

/* Pool mode: a free buffer for a frame of LEN bytes: a small one if it
 * fits and one is free, else a large one. */
static int alloc_fit(struct mint_vni *v, uint32_t epoch, uint32_t len, uint32_t *id)
{
	int rc = len <= MINT_VNI_SMALL_SIZE ? vni_pool_alloc(&v->pool, v->self, epoch, true, id)
					    : -ENOBUFS;
	return rc == -ENOBUFS ? vni_pool_alloc(&v->pool, v->self, epoch, false, id) : rc;
}

/* Pool mode: a free buffer for LEN bytes into *ID, reclaiming from dead
 * nodes first when there is none (at most every LIVENESS_EVERY_NS).  0,
 * or -ENOBUFS / -EIO, counted as a drop if COUNT_DROP. */
static int take_buffer(struct mint_vni *v, uint32_t len, uint32_t *id, bool count_drop)
{
	struct mint_vni_port *me = my_port(v);
	uint32_t epoch = rd32(&me->epoch);
	int rc = alloc_fit(v, epoch, len, id);
	uint64_t now = rc == -ENOBUFS ? mint_now_ns(CLOCK_MONOTONIC) : 0;
	if (rc == -ENOBUFS && now - v->reclaim_ns > LIVENESS_EVERY_NS) {
		v->reclaim_ns = now;
		if (reclaim(v) > 0)
			rc = alloc_fit(v, epoch, len, id);
	}
	if (rc && count_drop)
		count(rc == -ENOBUFS ? &me->tx_drop_pool : &me->tx_drop_error, 1);
	return rc;
}

/* Pool mode: queue buffer ID (LEN bytes, ours) to the ports of MASK, then
 * drop our reference; returns the number of ports it was queued to. */
static int pool_deliver(struct mint_vni *v, uint32_t id, uint32_t len, uint32_t mask)
{
	struct mint_vni_port *me = my_port(v);
	int sent = 0;
	for (uint32_t dst = 0; dst < MINT_VNI_MAX_PORTS; dst++) {
		uint32_t bell;
		int rc = mask & (1u << dst) ? vni_pool_enqueue(&v->pool, dst, id, len, &bell) : 1;
		if (rc == 0) {
			count_sent(v, len, bell);
			sent++;
		} else if (rc < 0) {
			count(rc == -EAGAIN ? &me->tx_drop_full : &me->tx_drop_error, 1);
		}
	}
	vni_pool_sent(&v->pool, id);
	return sent;
}

int mint_vni_send(struct mint_vni *v, const void *frame, uint32_t len)
{
	int rc = check_frame(v, len);
	uint32_t mask = rc == 0 ? route(v, frame) : 0;
	if (rc || !mask)
		return rc;
	if (v->pooled) {
		uint32_t id;
		if (take_buffer(v, len, &id, true))
			return 0;
		memcpy(vni_pool_data(&v->pool, id), frame, len);
		return pool_deliver(v, id, len, mask);
	}
	int sent = 0;
	for (uint32_t dst = 0; dst < MINT_VNI_MAX_PORTS; dst++)
		if (mask & (1u << dst))
			sent += ring_send_to(v, dst, frame, len);
	return sent;
}

/* Pool mode: the buffer held for the next frame (taken now if none). */
static void pool_tx_begin(struct mint_vni *v)
{
	struct mint_vni_port *me = my_port(v);
	if (v->tx_id == MINT_VNI_BUF_NONE && me &&
	    ald32(&me->state, memory_order_relaxed) == MINT_VNI_UP)
		/* a large one: the frame's size is not known yet.  None: the
		 * frame goes by scratch. */
		take_buffer(v, MINT_VNI_FRAME_MAX, &v->tx_id, false);
	v->tx_buf = v->tx_id != MINT_VNI_BUF_NONE ? vni_pool_data(&v->pool, v->tx_id) : v->scratch;
}

/* Pool mode: send the held buffer; it stays held if the frame goes nowhere.
 * A frame that fits a small buffer is copied into one (as a NIC driver's
 * rx copybreak does) and the large buffer stays held for the next frame:
 * an MTU-sized frame then ties up 2 KiB of the pool, not 64. */
static int pool_tx_end(struct mint_vni *v, uint32_t len)
{
	uint32_t id = v->tx_id;
	if (id == MINT_VNI_BUF_NONE)
		return mint_vni_send(v, v->scratch, len);
	int rc = check_frame(v, len);
	uint32_t mask = rc == 0 ? route(v, vni_pool_data(&v->pool, id)) : 0;
	if (rc || !mask)
		return rc;
	uint32_t small;
	if (len <= MINT_VNI_SMALL_SIZE &&
	    vni_pool_alloc(&v->pool, v->self, rd32(&my_port(v)->epoch), true, &small) == 0) {
		memcpy(vni_pool_data(&v->pool, small), vni_pool_data(&v->pool, id), len);
		return pool_deliver(v, small, len, mask);
	}
	v->tx_id = MINT_VNI_BUF_NONE;
	return pool_deliver(v, id, len, mask);
}

int mint_vni_tx_begin(struct mint_vni *v, void **buf, uint32_t *cap)
{
	uint32_t dst = v->last_dst;
	struct peer *p = dst < MINT_VNI_MAX_PORTS ? &v->peers[dst] : NULL;
	v->tx_dst = MINT_NODE_NONE;
	v->tx_buf = v->scratch;
	if (v->pooled)
		pool_tx_begin(v);
	else if (p && p->tx_open && peer_up(v, dst) &&
		 mint_ring_reserve(&p->tx, MINT_VNI_FRAME_MAX, (void **)&v->tx_buf) == 0)
		v->tx_dst = dst;
	else
		v->tx_buf = v->scratch;
	*buf = v->tx_buf;
	*cap = MINT_VNI_FRAME_MAX;
	return 0;
}

int mint_vni_tx_end(struct mint_vni *v, uint32_t len)
{
	if (v->pooled)
		return pool_tx_end(v, len);
	uint32_t dst = v->tx_dst;
	v->tx_dst = MINT_NODE_NONE;
	if (dst == MINT_NODE_NONE)
		return mint_vni_send(v, v->scratch, len);
	const uint8_t *dmac = v->tx_buf + MINT_VNI_VNET_HDR;
	if (len >= MINT_VNI_VNET_HDR + 14 && !(dmac[0] & 1) && unicast_port(v, dmac) == dst &&
	    mint_ring_commit(&v->peers[dst].tx, len, MINT_REC_FRAME) == 0) {
		count_sent(v, len, v->peers[dst].tx.last_bell);
		return 1;
	}
	/* Another destination, or several: out of the ring, then as usual. */
	memcpy(v->scratch, v->tx_buf, len <= MINT_VNI_FRAME_MAX ? len : MINT_VNI_FRAME_MAX);
	return mint_vni_send(v, v->scratch, len);
}

/* Open the rings other nodes created towards us since the last look. */
static void find_rx_rings(struct mint_vni *v)
{
	uint32_t gen = ald32(&mint_fabric_hdr(v->f)->dir_generation, memory_order_acquire);
	if (gen == v->generation)
		return;
	v->generation = gen;
	for (uint32_t src = 0; src < MINT_VNI_MAX_PORTS; src++) {
		struct peer *p = &v->peers[src];
		if (src != v->self && !p->rx_open)
			p->rx_open = open_ring(v, src, v->self, false, &p->rx) == 0;
	}
}

/* A receive queue is a source's ring R (per-destination mode) or, with R
 * NULL, our address queue (pool mode); both read as peek, then release.
 * A bad record comes back as -EPROTO, already skipped. */
static int rx_peek(struct mint_vni *v, struct mint_ring *r, const void **frame)
{
	if (!r)
		return vni_pool_peek(&v->pool, v->self, frame);
	uint32_t type;
	int len = mint_ring_peek(r, frame, &type);
	if (len >= 0 && type != MINT_REC_FRAME) {
		mint_ring_release(r);
		return -EPROTO;
	}
	return len;
}

/* 0, or -EIO if the pool's management of the buffer was corrupt. */
static int rx_release(struct mint_vni *v, struct mint_ring *r)
{
	if (!r)
		return vni_pool_release(&v->pool, v->self);
	mint_ring_release(r);
	return 0;
}

/* Frames handed to the host, waiting for their outcome (a flush). */
struct rx_batch {
	mint_vni_rx_fn fn;
	mint_vni_flush_fn flush; /* NULL: FN's answer is the outcome */
	void *arg;
	uint64_t frames, bytes;  /* handed on since the last settle */
};

/* Count what the host took of the frames handed on since the last call. */
static void settle(struct mint_vni *v, struct rx_batch *b)
{
	struct mint_vni_port *me = my_port(v);
	uint64_t failed_bytes = 0, failed = b->flush ? b->flush(b->arg, &failed_bytes) : 0;
	if (failed > b->frames)
		failed = b->frames;
	count(&me->rx_drop_host, failed);
	count(&me->rx_packets, b->frames - failed);
	count(&me->rx_bytes, b->bytes - (failed_bytes < b->bytes ? failed_bytes : b->bytes));
	b->frames = b->bytes = 0;
}

/* Hand one frame on; one the host refuses at once is dropped. */
static void hand_on(struct mint_vni *v, struct rx_batch *b, const void *frame, uint32_t len)
{
	if (b->fn(b->arg, frame, len) < 0) {
		count(&my_port(v)->rx_drop_host, 1);
		return;
	}
	b->frames++;
	b->bytes += len;
	if (!b->flush)
		settle(v, b);
}

/* Deliver frames from one receive queue, looking at QUOTA records at most
 * (bad ones included, so garbage cannot keep us here); returns how many
 * were delivered.  With a flush, a ring is held (mint_ring_hold) until
 * the flush is done, so the frames stay valid until then; a pool buffer
 * goes back at its release, so there each frame is flushed on its own. */
static unsigned drain(struct mint_vni *v, struct mint_ring *r, struct rx_batch *b, unsigned quota)
{
	struct mint_vni_port *me = my_port(v);
	bool hold = b->flush && r;
	unsigned delivered = 0;
	if (hold)
		mint_ring_hold(r, true);
	for (unsigned seen = 0; seen < quota; seen++) {
		const void *frame;
		int len = rx_peek(v, r, &frame);
		if (len == -EAGAIN)
			break;
		if (len < 0 || (uint32_t)len < MINT_VNI_VNET_HDR + 14 ||
		    (uint32_t)len > MINT_VNI_FRAME_MAX) {
			count(&me->rx_errors, 1);
			if (len >= 0 && rx_release(v, r))
				count(&me->rx_errors, 1);
			continue;
		}
		hand_on(v, b, frame, (uint32_t)len);
		if (b->flush && !r)
			settle(v, b);
		if (rx_release(v, r))
			count(&me->rx_errors, 1);
		delivered++;
	}
	if (hold) {
		settle(v, b);
		mint_ring_hold(r, false);
	}
	return delivered;
}

int mint_vni_poll_batch(struct mint_vni *v, mint_vni_rx_fn fn, mint_vni_flush_fn flush, void *arg,
			unsigned budget)
{
	struct mint_vni_port *me = my_port(v);
	if (!me)
		return -ENOTCONN;
	struct rx_batch b = {fn, flush, arg, 0, 0};
	unsigned total = v->pooled ? drain(v, NULL, &b, budget) : 0;
	if (!v->pooled)
		find_rx_rings(v);
	for (uint32_t src = 0; !v->pooled && src < MINT_VNI_MAX_PORTS && total < budget; src++) {
		unsigned quota = budget - total < POLL_QUOTA ? budget - total : POLL_QUOTA;
		if (v->peers[src].rx_open)
			total += drain(v, &v->peers[src].rx, &b, quota);
	}
	if (total)
		count(&me->rx_polls, 1);
	return (int)total;
}

int mint_vni_poll(struct mint_vni *v, mint_vni_rx_fn fn, void *arg, unsigned budget)
{
	return mint_vni_poll_batch(v, fn, NULL, arg, budget);
}

int mint_vni_arm(struct mint_vni *v)
{
	if (v->pooled)
		return my_port(v) ? vni_pool_arm(&v->pool, v->self) : -ENOTCONN;
	uint32_t gen = ald32(&mint_fabric_hdr(v->f)->dir_generation, memory_order_acquire);
	int again = gen != v->generation; /* a new ring to pick up */
	for (uint32_t src = 0; src < MINT_VNI_MAX_PORTS; src++)
		if (v->peers[src].rx_open && mint_ring_arm(&v->peers[src].rx) == 1)
			again = 1;
	return again;
}

/* Ring "vni.SRC-DST"'s header, found through the directory (no state of
 * V that the dispatcher changes), or NULL. */
static struct mint_ring_hdr *ring_hdr_of(const struct mint_vni *v, uint32_t src, uint32_t dst)
{
	char name[MINT_OBJ_NAME_MAX];
	struct mint_obj_info info;
	snprintf(name, sizeof(name), VNI_OBJ ".%u-%u", src, dst);
	if (mint_obj_find(v->f, name, &info) != 0 || info.type != MINT_OBJ_RING)
		return NULL;
	return mint_fabric_at(v->f, info.offset, sizeof(struct mint_ring_hdr));
}

int mint_vni_rx_stalled(const struct mint_vni *v, uint64_t heads[MINT_VNI_MAX_PORTS])
{
	int stalled = 0;
	for (uint32_t src = 0; !v->pooled && src < MINT_VNI_MAX_PORTS; src++) {
		struct mint_ring_hdr *h = src == v->self ? NULL : ring_hdr_of(v, src, v->self);
		/* relaxed: compared with the previous look only; the consumer
		 * reads the ring with its own ordering. */
		uint64_t tail = h ? ald64(&h->tail, memory_order_relaxed) : 0;
		uint64_t head = h ? ald64(&h->head, memory_order_relaxed) : 0;
		bool waiting = tail != head;
		stalled += waiting && heads[src] == head + 1;
		heads[src] = waiting ? head + 1 : 0;
	}
	return stalled;
}

void mint_vni_set_queue_drops(struct mint_vni *v, uint64_t total)
{
	struct mint_vni_port *me = my_port(v);
	if (me) /* relaxed: a counter, read on its own */
		ast64(&me->tx_drop_queue, total, memory_order_relaxed);
}

int mint_vni_stats(struct mint_fabric *f, uint32_t id, struct mint_vni_stats *st)
{
	if (id >= MINT_VNI_MAX_PORTS)
		return -ERANGE;
	struct mint_obj_info info;
	int rc = mint_obj_find(f, VNI_OBJ, &info);
	if (rc)
		return rc;
	struct mint_vni_hdr *h = mint_fabric_at(f, info.offset, sizeof(*h));
	if (!h || info.type != MINT_OBJ_VNI || rd32(&h->magic) != MINT_VNI_MAGIC)
		return -EPROTO;
	struct mint_vni_port *p = &h->ports[id];
	memset(st, 0, sizeof(*st));
	/* acquire: pairs with the release store of UP in mint_vni_attach. */
	st->up = ald32(&p->state, memory_order_acquire) == MINT_VNI_UP;
	memcpy(st->mac, p->mac, 6);
	memcpy(st->ipv4, p->ipv4, 4);
	st->prefix_len = rd32(&p->prefix_len);
	/* relaxed: counters, each read on its own. */
	st->tx_packets = ald64(&p->tx_packets, memory_order_relaxed);
	st->tx_bytes = ald64(&p->tx_bytes, memory_order_relaxed);
	st->tx_drop_full = ald64(&p->tx_drop_full, memory_order_relaxed);
	st->tx_drop_unknown = ald64(&p->tx_drop_unknown, memory_order_relaxed);
	st->tx_drop_down = ald64(&p->tx_drop_down, memory_order_relaxed);
	st->tx_drop_error = ald64(&p->tx_drop_error, memory_order_relaxed);
	st->tx_irqs = ald64(&p->tx_irqs, memory_order_relaxed);
	st->tx_irqs_suppressed = ald64(&p->tx_irqs_suppressed, memory_order_relaxed);
	st->rx_packets = ald64(&p->rx_packets, memory_order_relaxed);
	st->rx_bytes = ald64(&p->rx_bytes, memory_order_relaxed);
	st->rx_errors = ald64(&p->rx_errors, memory_order_relaxed);
	st->rx_drop_host = ald64(&p->rx_drop_host, memory_order_relaxed);
	st->rx_polls = ald64(&p->rx_polls, memory_order_relaxed);
	st->tx_drop_queue = ald64(&p->tx_drop_queue, memory_order_relaxed);
	st->tx_drop_pool = ald64(&p->tx_drop_pool, memory_order_relaxed);
	st->pool_reclaimed = ald64(&p->pool_reclaimed, memory_order_relaxed);
	st->pool_errors = ald64(&p->pool_errors, memory_order_relaxed);
	return 0;
}
