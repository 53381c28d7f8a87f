/* SPDX-License-Identifier: MIT */
/*
 * The emulated NIC: e1000 legacy receive descriptors in the fabric.
 * Descriptor i always holds buffer i; the device fills from RDH up to
 * RDT - 1 and the driver consumes in ring order while DD is set, so each
 * side needs only its own index and the other's published one.  Whatever
 * the other side wrote is validated before use: geometry is copied at open
 * and never re-read, indices are range-checked, buffer offsets must match.
 */
#include "mint/nic.h"

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

#define STATUS_LEN(w) ((uint32_t)((w) & 0xffff))
#define STATUS_CSUM(w) ((uint16_t)((w) >> 16))
#define STATUS_BITS(w) ((uint8_t)((w) >> 32))
#define STATUS_ERRORS(w) ((uint8_t)((w) >> 40))
#define STATUS_VLAN(w) ((uint16_t)((w) >> 48))

/* Geometry both sides derive and validate the same way. */
struct geometry {
	uint32_t ndesc, buf_size;
	uint64_t desc_off, buf_off, size;
};

struct mint_nic {
	struct mint_fabric *f;
	uint32_t epoch; /* our node's, as we wrote it at attach */
	struct mint_nic_hdr *hdr;
	struct mint_nic_desc *desc;
	uint8_t *bufs;
	struct geometry g;
	uint32_t next;  /* next descriptor to clean (e1000 next_to_clean) */
	uint32_t rdt;   /* our own copy of what we published */
	int dev;        /* our device in the device table, or a negative errno */
	uint8_t frame[MINT_NIC_MAX_FRAME]; /* a chain that wraps, reassembled */
};

struct mint_nic_dev {
	struct mint_fabric *f;
	struct mint_nic_hdr *hdr;
	struct mint_nic_desc *desc;
	uint8_t *bufs;
	struct geometry g;
	uint32_t node, epoch;
	uint32_t rdh;   /* our own copy of what we published */
	uint32_t rdt;   /* the driver's RDT when we last loaded it */
	uint64_t last_irq_ns;
	int dev;        /* the NIC's device in the device table, or negative */
};

static void nic_name(uint32_t node, char *buf, size_t cap)
{
	snprintf(buf, cap, "nic.%u", node);
}

/* The NIC's interrupt: through the device table (owner, vector, mask)
 * when its driver registered it there, else MINT_VEC_NIC on NODE. */
static int raise_irq(struct mint_fabric *f, int dev, uint32_t node)
{
	int rc = dev >= 0 ? mint_dev_raise(f, (uint32_t)dev) : -ENODEV;
	return rc >= 0 ? rc : mint_ipi_send(f, node, MINT_VEC_NIC);
}

static uint64_t align64(uint64_t v)
{
	return (v + MINT_CACHELINE - 1) & ~(uint64_t)(MINT_CACHELINE - 1);
}

static int make_geometry(uint32_t ndesc, uint32_t buf_size, struct geometry *g)
{
	if (ndesc < MINT_NIC_MIN_DESC || ndesc > MINT_NIC_MAX_DESC || ndesc % 8 ||
	    buf_size < MINT_NIC_MIN_BUF || buf_size > MINT_NIC_MAX_BUF || (buf_size & (buf_size - 1)))
		return -EINVAL;
	g->ndesc = ndesc;
	g->buf_size = buf_size;
	g->desc_off = sizeof(struct mint_nic_hdr);
	g->buf_off = align64(g->desc_off + (uint64_t)ndesc * sizeof(struct mint_nic_desc));
	g->size = g->buf_off + (uint64_t)ndesc * buf_size;
	return 0;
}

/* Descriptor index I (below 2 * ndesc) in the ring: a compare, not a
 * division, on the per-packet paths. */
static uint32_t wrap(const struct geometry *g, uint32_t i)
{
	return i >= g->ndesc ? i - g->ndesc : i;
}

/* Header line 0 against the geometry this build would derive from it:
 * -EPROTONOSUPPORT for another layout version (a driver or device of
 * another build), -EPROTO for anything else wrong. */
static int check_header(const struct mint_nic_hdr *h, uint64_t obj_size, uint32_t node,
			struct geometry *g)
{
	if (rd32(&h->magic) != MINT_NIC_MAGIC)
		return -EPROTO;
	if (rd32(&h->version) != MINT_NIC_VERSION)
		return -EPROTONOSUPPORT;
	if (rd32(&h->node) != node || rd32(&h->vector) != MINT_VEC_NIC ||
	    make_geometry(rd32(&h->ndesc), rd32(&h->buf_size), g) ||
	    rd64(&h->desc_off) != g->desc_off || rd64(&h->buf_off) != g->buf_off ||
	    g->size > obj_size)
		return -EPROTO;
	return 0;
}

/* ---- the driver ---- */

struct attach_args {
	const struct geometry *g;
	uint32_t node;
};

static int nic_init(void *mem, uint64_t size, void *arg)
{
	const struct attach_args *a = arg;
	struct mint_nic_hdr *h = mem;
	if (size < a->g->size)
		return -EINVAL;
	wr32(&h->version, MINT_NIC_VERSION);
	wr32(&h->node, a->node);
	wr32(&h->vector, MINT_VEC_NIC);
	wr32(&h->ndesc, a->g->ndesc);
	wr32(&h->buf_size, a->g->buf_size);
	wr64(&h->desc_off, a->g->desc_off);
	wr64(&h->buf_off, a->g->buf_off);
	wr32(&h->magic, MINT_NIC_MAGIC);
	return 0;
}

static int attach_object(struct mint_fabric *f, uint32_t self, struct mint_nic *n)
{
	char name[MINT_OBJ_NAME_MAX];
	nic_name(self, name, sizeof(name));
	struct attach_args a = {&n->g, self};
	uint64_t off;
	int rc = mint_obj_open(f, name, MINT_OBJ_NIC, n->g.size, nic_init, &a, &off);
	if (rc < 0)
		return rc;
	struct mint_obj_info info;
	if ((rc = mint_obj_find(f, name, &info)) != 0)
		return rc;
	n->hdr = mint_fabric_at(f, off, info.size);
	struct geometry found;
	if (!n->hdr || check_header(n->hdr, info.size, self, &found) ||
	    found.ndesc != n->g.ndesc || found.buf_size != n->g.buf_size)
		return -EEXIST;
	n->desc = (struct mint_nic_desc *)((uint8_t *)n->hdr + n->g.desc_off);
	n->bufs = (uint8_t *)n->hdr + n->g.buf_off;
	return 0;
}

/* Every descriptor empty with its own buffer; all but one given to the
 * device.  The driver's line and ICR start over; the device's counters
 * stay (they are its history), but RDH restarts at 0 with the ring. */
static void reset_ring(struct mint_nic *n, const struct mint_nic_config *cfg, uint32_t epoch)
{
	struct mint_nic_hdr *h = n->hdr;
	/* The device is shut out (state DOWN) until the release store of UP
	 * below, which publishes all of this; the stores in between can be
	 * relaxed. */
	ast32(&h->state, MINT_NIC_DOWN, memory_order_release);
	for (uint32_t i = 0; i < n->g.ndesc; i++) {
		wr64(&n->desc[i].addr, (uint64_t)i * n->g.buf_size);
		ast64(&n->desc[i].status_word, 0, memory_order_relaxed);
	}
	memcpy(h->mac, cfg->mac, sizeof(h->mac));
	memcpy(h->ipv4, cfg->ipv4, sizeof(h->ipv4));
	wr32(&h->prefix_len, cfg->prefix_len);
	wr32(&h->epoch, epoch);
	ast32(&h->rdh, 0, memory_order_relaxed);
	n->next = 0;
	n->rdt = n->g.ndesc - 1;
	ast32(&h->rdt, n->rdt, memory_order_relaxed);
	ast32(&h->ims, cfg->ims ? cfg->ims : MINT_NIC_ICR_RXT0 | MINT_NIC_ICR_RXO,
	      memory_order_relaxed);
	ast64(&h->itr_ns, cfg->itr_ns, memory_order_relaxed);
	ast32(&h->icr, 0, memory_order_relaxed);
	/* release: pairs with the device's acquire load of state in
	 * mint_nic_dev_open and mint_nic_dev_alive. */
	ast32(&h->state, MINT_NIC_UP, memory_order_release);
}

int mint_nic_attach(struct mint_fabric *f, const struct mint_nic_config *cfg,
		    struct mint_nic **out)
{
	uint32_t self = mint_fabric_self(f);
	if (self == MINT_NODE_NONE)
		return -ENOTCONN;
	struct mint_nic_config def = {0};
	if (!cfg)
		cfg = &def;
	struct mint_nic *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->f = f;
	int rc = make_geometry(cfg->ndesc ? cfg->ndesc : MINT_NIC_DEFAULT_DESC,
			       cfg->buf_size ? cfg->buf_size : MINT_NIC_DEFAULT_BUF, &n->g);
	if (rc == 0)
		rc = attach_object(f, self, n);
	struct mint_node_info me;
	if (rc == 0)
		rc = mint_node_info(f, self, &me);
	if (rc) {
		free(n);
		return rc;
	}
	n->epoch = me.epoch;
	/* Before the ring is up: the device finds the entry when it opens. A
	 * full table leaves the interrupts direct. */
	char name[MINT_DEV_NAME_MAX];
	nic_name(self, name, sizeof(name));
	n->dev = mint_dev_register(f, MINT_DEV_NIC, name, self, MINT_VEC_NIC);
	reset_ring(n, cfg, me.epoch);
	*out = n;
	return 0;
}

void mint_nic_detach(struct mint_nic *n)
{
	if (!n)
		return;
	/* A newer agent of the node re-attached it: it is not ours to close.
	 * release: the device's acquire load sees the NIC gone. */
	if (rd32(&n->hdr->epoch) == n->epoch)
		ast32(&n->hdr->state, MINT_NIC_DOWN, memory_order_release);
	free(n);
}

uint32_t mint_nic_cause(struct mint_nic *n)
{
	/* acq_rel: acquire pairs with the device's release fetch_or, so the
	 * descriptors it completed before setting the cause are visible. */
	uint64_t first;
	if (n->dev >= 0) /* the descriptors are the work; the count is taken */
		mint_dev_consume(n->f, (uint32_t)n->dev, &first);
	uint32_t cause = axchg32(&n->hdr->icr, 0, memory_order_acq_rel);
	if (cause)
		own_inc64(&n->hdr->drv_irqs, 1);
	return cause;
}

void mint_nic_set_mask(struct mint_nic *n, uint32_t ims)
{
	/* seq_cst store and load: either we see a cause the device set, or
	 * the device sees the new mask (a Dekker pair with mint_nic_kick). */
	ast32(&n->hdr->ims, ims, memory_order_seq_cst);
	if (ald32(&n->hdr->icr, memory_order_seq_cst) & ims)
		raise_irq(n->f, n->dev, mint_fabric_self(n->f));
}

void mint_nic_set_itr(struct mint_nic *n, uint64_t ns)
{
	ast64(&n->hdr->itr_ns, ns, memory_order_relaxed); /* a hint: no pair */
}

/* What one mint_nic_rx call did, published once at its end: the
 * counters share a line with RDT, which the device reads. */
struct tally {
	uint64_t packets, bytes, errors, bad, drops;
};

/* The packet whose first descriptor (at NEXT, word W, DD seen) starts a
 * chain: how far it reaches and what it is worth. */
enum verdict { GOOD, ERROR, BAD };
struct chain {
	uint32_t k;       /* descriptors it spans, >= 1 */
	uint32_t len;     /* bytes, when GOOD */
	uint64_t last;    /* the last descriptor's status word */
	enum verdict v;
};

/* Descriptor I of a chain (its word W, DD set): does it end the chain,
 * and is it sound?  A chain ends at EOP or at a descriptor that is not
 * full (the device stopped filling buffers, EOP or not); a garbage length
 * does not end it, so the rest of it is dropped with it. */
static bool chain_step(const struct mint_nic *n, uint32_t i, uint64_t w, struct chain *c)
{
	uint32_t len = STATUS_LEN(w), bs = n->g.buf_size;
	bool eop = STATUS_BITS(w) & MINT_NIC_STAT_EOP;
	if (rd64(&n->desc[i].addr) != (uint64_t)i * bs || len > bs)
		c->v = BAD;
	else if (c->v == GOOD && (STATUS_ERRORS(w) || (!eop && len != bs) ||
				  c->len + len > MINT_NIC_MAX_FRAME))
		c->v = ERROR; /* error bits, no EOP, or too long */
	c->len += len;
	c->last = w;
	return eop || len < bs;
}

/* Walk the chain from n->next, bounded by the ring: a descriptor not done
 * before its end breaks it (the device writes a chain's head last). */
static void walk_chain(const struct mint_nic *n, uint64_t w, struct chain *c)
{
	*c = (struct chain){0, 0, w, GOOD};
	for (;;) {
		uint32_t i = wrap(&n->g, n->next + c->k);
		c->k++;
		if (chain_step(n, i, w, c))
			return;
		if (c->k == n->g.ndesc) {
			c->v = c->v == GOOD ? ERROR : c->v;
			return;
		}
		/* acquire: pairs with the device's release store of this
		 * descriptor's word (its buffer is complete). */
		w = ald64(&n->desc[wrap(&n->g, i + 1)].status_word, memory_order_acquire);
		if (!(STATUS_BITS(w) & MINT_NIC_STAT_DD)) {
			c->v = c->v == GOOD ? ERROR : c->v; /* interrupted */
			return;
		}
	}
}

/* Hand FN the packet from descriptor I: LEN bytes at DATA over K
 * descriptors, the last one's word W. */
static void deliver(uint32_t i, const uint8_t *data, uint32_t len, uint64_t w, uint32_t k,
		    mint_nic_rx_fn fn, void *arg, struct tally *t)
{
	struct mint_nic_rx rx = {data, len, i, STATUS_CSUM(w), STATUS_BITS(w), 0, STATUS_VLAN(w), k};
	if (fn(arg, &rx) != 0) {
		t->drops++;
		return;
	}
	t->packets++;
	t->bytes += len;
}

/* A chain walked: deliver it, or say why not. */
static void consume(struct mint_nic *n, const struct chain *c, mint_nic_rx_fn fn, void *arg,
		    struct tally *t)
{
	if (c->v != GOOD) {
		c->v == BAD ? t->bad++ : t->errors++;
		return;
	}
	const uint8_t *data = n->bufs + (uint64_t)n->next * n->g.buf_size;
	if (n->next + c->k > n->g.ndesc) { /* it wraps: the buffers are not contiguous */
		uint32_t first = (n->g.ndesc - n->next) * n->g.buf_size;
		memcpy(n->frame, data, first);
		memcpy(n->frame + first, n->bufs, c->len - first);
		data = n->frame;
	}
	deliver(n->next, data, c->len, c->last, c->k, fn, arg, t);
}

/* Give descriptor n->next back: our buffer (rewritten only if the device
 * spoiled it: a store less per packet), DD clear; move on. */
static void rearm(struct mint_nic *n)
{
	struct mint_nic_desc *d = &n->desc[n->next];
	uint64_t mine = (uint64_t)n->next * n->g.buf_size;
	if (rd64(&d->addr) != mine)
		wr64(&d->addr, mine);
	ast64(&d->status_word, 0, memory_order_relaxed);
	n->next = wrap(&n->g, n->next + 1);
}

/* Descriptors in a cache line (the descriptor area starts on one). */
#define DESC_PER_LINE (MINT_CACHELINE / sizeof(struct mint_nic_desc))

/* Ask for the next line of descriptors, for writing, as we enter a line:
 * we load its status words and then clear them, and a plain load would
 * fetch it shared and the clearing take it over a second time, two
 * cross-core transfers per line where one does.  A line ahead, so the
 * transfer overlaps the work on this one.  (Only the driver does this:
 * the same on the device's reads of a buffer offset made its side
 * slower, taking lines the driver polls while it is caught up.) */
static void fetch_ahead(const struct mint_nic *n, uint32_t next)
{
	if (next % DESC_PER_LINE == 0)
		mint_prefetch_w(&n->desc[wrap(&n->g, next + DESC_PER_LINE)]);
}

/* Is the packet at descriptor I (word W) the common one, done and sound
 * in one descriptor: DD, EOP, no error bits, a length that fits, our
 * buffer?  What walk_chain finds for a chain of one, without its loop. */
static bool one_buffer(const struct mint_nic *n, uint32_t i, uint64_t w)
{
	return (STATUS_BITS(w) & (MINT_NIC_STAT_DD | MINT_NIC_STAT_EOP)) ==
		       (MINT_NIC_STAT_DD | MINT_NIC_STAT_EOP) &&
	       !STATUS_ERRORS(w) && STATUS_LEN(w) <= n->g.buf_size &&
	       rd64(&n->desc[i].addr) == (uint64_t)i * n->g.buf_size;
}

/* Deliver the run of one_buffer packets from n->next, up to BUDGET, and
 * give their descriptors back (rearm's work: the buffer offset was just
 * checked); returns how many.  The index in a local, not n->next, so
 * that FN's calls do not make the compiler reload it: this loop is most
 * of the driver's instructions per packet. */
static unsigned rx_singles(struct mint_nic *n, mint_nic_rx_fn fn, void *arg, unsigned budget,
			   struct tally *t)
{
	uint32_t i = n->next;
	unsigned done = 0;
	for (; done < budget; done++, i = wrap(&n->g, i + 1)) {
		fetch_ahead(n, i);
		/* acquire: pairs with the device's release store of the status
		 * word, so the buffer written before it is complete. */
		uint64_t w = ald64(&n->desc[i].status_word, memory_order_acquire);
		if (!one_buffer(n, i, w))
			break;
		deliver(i, n->bufs + (uint64_t)i * n->g.buf_size, STATUS_LEN(w), w, 1, fn, arg, t);
		ast64(&n->desc[i].status_word, 0, memory_order_relaxed);
	}
	n->next = i;
	return done;
}

static void publish(struct mint_nic_hdr *h, const struct tally *t)
{
	own_inc64(&h->drv_packets, t->packets);
	own_inc64(&h->drv_bytes, t->bytes);
	own_inc64(&h->drv_errors, t->errors);
	own_inc64(&h->drv_bad, t->bad);
	own_inc64(&h->drv_drops, t->drops);
}

int mint_nic_rx(struct mint_nic *n, mint_nic_rx_fn fn, void *arg, unsigned budget)
{
	struct mint_nic_hdr *h = n->hdr;
	struct tally t = {0, 0, 0, 0, 0};
	unsigned done = 0;
	/* done < budget first: a chain may take it past the budget. */
	while (done < budget && (done += rx_singles(n, fn, arg, budget - done, &t)) < budget) {
		/* acquire: as in rx_singles; the head of a chain is written last,
		 * so the rest of it is complete too. */
		uint64_t w = ald64(&n->desc[n->next].status_word, memory_order_acquire);
		if (!(STATUS_BITS(w) & MINT_NIC_STAT_DD))
			break;
		struct chain c;
		walk_chain(n, w, &c);
		consume(n, &c, fn, arg, &t);
		for (uint32_t j = 0; j < c.k; j++)
			rearm(n);
		done += c.k;
	}
	if (done) {
		publish(h, &t);
		n->rdt = (n->rdt + done) % n->g.ndesc; /* done may pass ndesc: divide */
		/* release: pairs with the device's acquire load of RDT, so the
		 * descriptors cleared above are empty when it reuses them. */
		ast32(&h->rdt, n->rdt, memory_order_release);
	}
	return (int)done;
}

/* ---- the device ---- */

static int find_nic(struct mint_fabric *f, uint32_t node, struct mint_nic_hdr **h,
		    struct geometry *g)
{
	if (node >= MINT_MAX_NODES)
		return -ERANGE;
	char name[MINT_OBJ_NAME_MAX];
	nic_name(node, name, sizeof(name));
	struct mint_obj_info info;
	int rc = mint_obj_find(f, name, &info);
	if (rc)
		return rc;
	if (info.type != MINT_OBJ_NIC)
		return -EPROTO;
	*h = mint_fabric_at(f, info.offset, info.size);
	if (!*h)
		return -EPROTO;
	return check_header(*h, info.size, node, g);
}

int mint_nic_dev_open(struct mint_fabric *f, uint32_t node, struct mint_nic_dev **out)
{
	struct mint_nic_hdr *h;
	struct geometry g;
	int rc = find_nic(f, node, &h, &g);
	if (rc)
		return rc;
	struct mint_nic_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	*d = (struct mint_nic_dev){f, h, (struct mint_nic_desc *)((uint8_t *)h + g.desc_off),
				   (uint8_t *)h + g.buf_off, g, node, rd32(&h->epoch), 0, 0, 0, -ENODEV};
	char name[MINT_DEV_NAME_MAX];
	nic_name(node, name, sizeof(name));
	d->dev = mint_dev_find(f, name);
	if (!mint_nic_dev_alive(d)) {
		free(d);
		return -ENODEV;
	}
	/* Map the ring now rather than in the first events (a page fault is
	 * tens of microseconds of lateness): a read of each page does it. */
	for (uint64_t at = 0; at < g.size; at += MINT_PAGE)
		(void)*(volatile const uint8_t *)((const uint8_t *)h + at);
	/* We own RDH from now on; a garbage one restarts the ring at 0. */
	uint32_t rdh = ald32(&h->rdh, memory_order_relaxed);
	d->rdh = rdh < g.ndesc ? rdh : 0;
	d->rdt = d->rdh; /* "no room known": the first put loads RDT */
	*out = d;
	return 0;
}

void mint_nic_dev_close(struct mint_nic_dev *d)
{
	free(d);
}

bool mint_nic_dev_alive(struct mint_nic_dev *d)
{
	struct mint_node_info info;
	/* acquire: pairs with the driver's release store of UP, after which
	 * the epoch and the ring are its. */
	if (ald32(&d->hdr->state, memory_order_acquire) != MINT_NIC_UP ||
	    rd32(&d->hdr->epoch) != d->epoch)
		return false;
	return mint_node_info(d->f, d->node, &info) == 0 && info.alive && info.epoch == d->epoch;
}

static uint64_t status_word(uint32_t len, const struct mint_nic_pkt *p, uint8_t status,
			    uint8_t errors)
{
	return (uint64_t)(len & 0xffff) | (uint64_t)p->csum << 16 | (uint64_t)status << 32 |
	       (uint64_t)errors << 40 | (uint64_t)p->vlan << 48;
}

/* A descriptor of a chain before its last: a full buffer, DD, no EOP;
 * the packet's fields (checksum, errors, VLAN) go on the last, as e1000. */
static uint64_t middle_word(uint32_t buf_size)
{
	return (uint64_t)(buf_size & 0xffff) | (uint64_t)MINT_NIC_STAT_DD << 32;
}

/* Descriptors packet P takes: a buffer's worth of its bytes each. */
static uint32_t descs_for(const struct mint_nic_dev *d, const struct mint_nic_pkt *p)
{
	uint32_t bs = d->g.buf_size;
	return p->copy_len <= bs ? 1 : (p->copy_len + bs - 1) / bs;
}

/* A driver that detached or re-attached (resetting the ring) is not
 * written to.  relaxed: line 0 is read-mostly, so this costs no transfer;
 * the acquire of mint_nic_dev_alive orders the rest. */
static bool attached(const struct mint_nic_dev *d)
{
	return ald32(&d->hdr->state, memory_order_relaxed) == MINT_NIC_UP &&
	       rd32(&d->hdr->epoch) == d->epoch;
}

static uint32_t free_descs(const struct mint_nic_dev *d)
{
	return wrap(&d->g, d->rdt + d->g.ndesc - d->rdh);
}

/* Room for K descriptors at RDH?  0, -ENOBUFS, or -EPROTO for a garbage
 * RDT (not counted: the caller counts what it reports). */
static int room(struct mint_nic_dev *d, uint32_t k)
{
	if (free_descs(d) >= k)
		return 0;
	/* Out of known room: look at RDT again (only then, so the driver's
	 * line is not pulled over for every packet).  acquire: pairs with the
	 * driver's release store of RDT, so the descriptors it gave back are
	 * cleared before we fill them. */
	uint32_t rdt = ald32(&d->hdr->rdt, memory_order_acquire);
	if (rdt >= d->g.ndesc)
		return -EPROTO;
	d->rdt = rdt;
	return free_descs(d) >= k ? 0 : -ENOBUFS;
}

static bool addr_ok(const struct mint_nic_dev *d, uint64_t addr)
{
	return addr <= (uint64_t)(d->g.ndesc - 1) * d->g.buf_size;
}

/* Descriptors a packet can take at most (check_put refuses more). */
#define CHAIN_MAX (MINT_NIC_MAX_FRAME / MINT_NIC_MIN_BUF + 1)

/* Read the buffer offsets of the K descriptors from RDH + FROM into
 * ADDRS, each once: the driver may rewrite them at any time, so the value
 * checked is the value used.  Are they all sound? */
static bool read_addrs(const struct mint_nic_dev *d, uint32_t from, uint32_t k, uint64_t *addrs)
{
	bool ok = true;
	for (uint32_t j = 0; j < k; j++) {
		uint32_t i = wrap(&d->g, d->rdh + from + j);
		addrs[j] = le64(*(const volatile uint64_t *)&d->desc[i].addr);
		ok = ok && addr_ok(d, addrs[j]);
	}
	return ok;
}

/* Copy LEN bytes (none: SRC may be NULL) into a buffer: whole cache
 * lines in fixed-size copies the compiler inlines, the rest with memcpy.
 * A call to memcpy for a 64-byte packet costs more than the copy. */
static void copy_in(uint8_t *dst, const uint8_t *src, uint32_t len)
{
	for (; len >= MINT_CACHELINE; len -= MINT_CACHELINE) {
		memcpy(dst, src, MINT_CACHELINE);
		dst += MINT_CACHELINE;
		src += MINT_CACHELINE;
	}
	if (len)
		memcpy(dst, src, len);
}

/* Copy P into the buffers of its first WRITTEN (of K) descriptors, one
 * buffer's worth each, at the offsets ADDRS (read_addrs). */
static void copy_packet(const struct mint_nic_dev *d, const struct mint_nic_pkt *p, uint32_t k,
			uint32_t written, const uint64_t *addrs)
{
	uint32_t bs = d->g.buf_size, left = p->copy_len < k * bs ? p->copy_len : k * bs;
	const uint8_t *data = p->data;
	for (uint32_t j = 0; j < written; j++)
		copy_in(d->bufs + addrs[j], data + j * bs, j == k - 1 ? left - j * bs : bs);
}

/* Complete the WRITTEN (of K) descriptors of P from ring index AT, whose
 * buffers are filled: the rest of the chain first, its head last, so the
 * driver, which reads the head first, sees a chain whole or not at all (a
 * head whose successor is not done is a broken chain, never one still
 * being written).  EOP and the packet's fields go on its last.  release,
 * each: pairs with the driver's acquire loads of the status words in
 * mint_nic_rx: the buffer is complete before DD is seen.  (One release
 * fence and relaxed stores would be the same on x86 and cheaper on arm64,
 * but ThreadSanitizer does not follow fences.) */
static void mark_packet(struct mint_nic_dev *d, const struct mint_nic_pkt *p, uint32_t k,
			uint32_t written, uint32_t at)
{
	uint32_t bs = d->g.buf_size, before = (k - 1) * bs;
	uint8_t status = (uint8_t)(p->status | MINT_NIC_STAT_DD);
	uint64_t last = status_word(p->len > before ? p->len - before : 0, p, status, p->errors);
	for (uint32_t j = 1; j < written; j++)
		ast64(&d->desc[wrap(&d->g, at + j)].status_word, j == k - 1 ? last : middle_word(bs),
		      memory_order_release);
	ast64(&d->desc[at].status_word, k == 1 ? last : middle_word(bs), memory_order_release);
}

/* What mark_packet wrote for P at AT, for a record. */
static void image(const struct mint_nic_dev *d, const struct mint_nic_pkt *p, uint32_t at,
		  uint64_t addr, uint32_t written, struct mint_nic_desc_image *img)
{
	uint8_t status = (uint8_t)(p->status | MINT_NIC_STAT_DD);
	*img = (struct mint_nic_desc_image){at, addr, status_word(p->len, p, status, p->errors),
					    at, d->rdt, written};
}

/* Complete P's descriptors at RDH, whose buffers are filled (ADDR0: its
 * head's buffer offset), and move RDH past them privately; the caller
 * publishes RDH. */
static void finish(struct mint_nic_dev *d, const struct mint_nic_pkt *p, uint32_t k,
		   uint32_t written, uint64_t addr0, struct mint_nic_desc_image *img)
{
	mark_packet(d, p, k, written, d->rdh);
	if (img)
		image(d, p, d->rdh, addr0, written, img);
	d->rdh = wrap(&d->g, d->rdh + written);
}

/* Write P over WRITTEN of its K descriptors at RDH (fewer than K for a
 * cut chain), from the buffer offsets ADDRS (read_addrs). */
static void complete(struct mint_nic_dev *d, const struct mint_nic_pkt *p, uint32_t k,
		     uint32_t written, const uint64_t *addrs, struct mint_nic_desc_image *img)
{
	copy_packet(d, p, k, written, addrs);
	finish(d, p, k, written, addrs[0], img);
}

/* The head at RDH completed empty with RXE (a buffer offset was garbage),
 * so the ring goes on. */
static void complete_empty(struct mint_nic_dev *d, const struct mint_nic_pkt *p,
			   const uint64_t *addrs, struct mint_nic_desc_image *img)
{
	struct mint_nic_pkt none = {NULL, 0, 0, p->csum, MINT_NIC_STAT_EOP, MINT_NIC_ERR_RXE,
				    p->vlan, 0};
	complete(d, &none, 1, 1, addrs, img); /* no byte goes to its buffer */
}

/* Can P (K descriptors) be written at RDH + AHEAD as it is?  0, or the
 * error mint_nic_put gives. */
static int check_put(struct mint_nic_dev *d, const struct mint_nic_pkt *p, uint32_t k,
		     uint32_t ahead)
{
	if ((!p->data && p->copy_len) || ((p->flags & MINT_NIC_PKT_CUT) && k < 2))
		return -EINVAL;
	if (p->copy_len > MINT_NIC_MAX_FRAME || k > d->g.ndesc - 1)
		return -EMSGSIZE;
	return room(d, ahead + k);
}

int mint_nic_put(struct mint_nic_dev *d, const struct mint_nic_pkt *p,
		 struct mint_nic_desc_image *img)
{
	struct mint_nic_hdr *h = d->hdr;
	if (!attached(d))
		return -ENODEV;
	uint32_t k = descs_for(d, p);
	int rc = check_put(d, p, k, 0);
	if (rc == -ENOBUFS) {
		own_inc64(&h->overruns, 1);
		aor32(&h->icr, MINT_NIC_ICR_RXO, memory_order_release); /* pairs: mint_nic_cause */
		return rc;
	}
	if (rc == -EINVAL || rc == -EMSGSIZE)
		return rc;
	uint64_t addrs[CHAIN_MAX];
	if (rc == 0 && !read_addrs(d, 0, k, addrs)) {
		complete_empty(d, p, addrs, img);
		rc = -EPROTO;
	} else if (rc == 0) {
		complete(d, p, k, p->flags & MINT_NIC_PKT_CUT ? k - 1 : k, addrs, img);
		own_inc64(&h->rx_packets, 1);
		own_inc64(&h->rx_bytes, p->len);
	}
	if (rc == -EPROTO)
		own_inc64(&h->dev_errors, 1);
	ast32(&h->rdh, d->rdh, memory_order_relaxed); /* informational: no pair */
	return rc;
}

/* Descriptors one stage of mint_nic_put_batch takes at most: any packet
 * fits in one. */
#define STAGE_DESCS (2 * CHAIN_MAX)

/* One stage of mint_nic_put_batch, in three passes over up to N packets:
 * read and check every buffer offset (the loads overlap, where a store
 * between them would hold them up), copy every packet into its buffers,
 * then complete every descriptor, so that the driver finds the stage's
 * status words together instead of taking each descriptor's line back and
 * forth while it is written.  Returns the packets written; *MORE when it
 * stopped for the stage's size only. */
static unsigned put_stage(struct mint_nic_dev *d, const struct mint_nic_pkt *p, unsigned n,
			  struct mint_nic_desc_image *img, uint64_t *bytes, bool *more)
{
	uint64_t addrs[STAGE_DESCS];
	uint32_t descs[STAGE_DESCS], used = 0;
	unsigned m = 0;
	*more = false;
	for (; m < n; used += descs[m++]) {
		uint32_t k = descs_for(d, &p[m]);
		if (used + k > STAGE_DESCS) {
			*more = m > 0; /* one that fits no stage is too long */
			break;
		}
		if ((p[m].flags & MINT_NIC_PKT_CUT) || check_put(d, &p[m], k, used) ||
		    !read_addrs(d, used, k, addrs + used))
			break;
		descs[m] = k;
	}
	for (unsigned i = 0, at = 0; i < m; at += descs[i++])
		copy_packet(d, &p[i], descs[i], descs[i], addrs + at);
	for (unsigned i = 0, at = 0; i < m; at += descs[i++]) {
		finish(d, &p[i], descs[i], descs[i], addrs[at], img ? &img[i] : NULL);
		*bytes += p[i].len;
	}
	return m;
}

/* Can P go in one descriptor as it is (the common case)? */
static bool single(const struct mint_nic_dev *d, const struct mint_nic_pkt *p)
{
	return p->copy_len <= d->g.buf_size && (p->data || !p->copy_len) &&
	       !(p->flags & MINT_NIC_PKT_CUT);
}

/* put_stage for a run of packets of one descriptor each: the same three
 * passes and checks, without the chains' loops and calls, which were
 * most of the device's instructions per packet (250 where the ring's
 * producer takes 60).  Returns the packets written: 0 when the first is
 * not such a packet or cannot be written cleanly (put_stage decides). */
static unsigned put_singles(struct mint_nic_dev *d, const struct mint_nic_pkt *p, unsigned n,
			    struct mint_nic_desc_image *img, uint64_t *bytes)
{
	uint64_t addrs[STAGE_DESCS];
	n = n < STAGE_DESCS ? n : STAGE_DESCS;
	if (room(d, n) == -EPROTO)
		return 0;
	uint32_t avail = free_descs(d);
	unsigned m = 0;
	for (; m < n && m < avail && single(d, &p[m]); m++)
		if (!read_addrs(d, m, 1, &addrs[m]))
			break;
	for (unsigned i = 0; i < m; i++)
		copy_in(d->bufs + addrs[i], p[i].data, p[i].copy_len);
	/* RDH and the byte count in locals: the compiler would reload and
	 * store them around each status word's store. */
	uint32_t at = d->rdh;
	uint64_t sum = 0;
	for (unsigned i = 0; i < m; i++, at = wrap(&d->g, at + 1)) {
		uint8_t status = (uint8_t)(p[i].status | MINT_NIC_STAT_DD);
		/* release: as in mark_packet. */
		ast64(&d->desc[at].status_word, status_word(p[i].len, &p[i], status, p[i].errors),
		      memory_order_release);
		if (img)
			image(d, &p[i], at, addrs[i], 1, &img[i]);
		sum += p[i].len;
	}
	d->rdh = at;
	*bytes += sum;
	return m;
}

int mint_nic_put_batch(struct mint_nic_dev *d, const struct mint_nic_pkt *p, unsigned n,
		       struct mint_nic_desc_image *img)
{
	struct mint_nic_hdr *h = d->hdr;
	if (!attached(d))
		return -ENODEV;
	unsigned done = 0;
	uint64_t bytes = 0;
	bool more = true;
	while (more && done < n) {
		struct mint_nic_desc_image *at = img ? img + done : NULL;
		unsigned k = put_singles(d, p + done, n - done, at, &bytes);
		done += k ? k : put_stage(d, p + done, n - done, at, &bytes, &more);
	}
	if (done) {
		own_inc64(&h->rx_packets, done);
		own_inc64(&h->rx_bytes, bytes);
		ast32(&h->rdh, d->rdh, memory_order_relaxed); /* informational: no pair */
	}
	return (int)done;
}

/* The one place the device raises the NIC's interrupt. */
static int nic_raise(struct mint_nic_dev *d)
{
	return raise_irq(d->f, d->dev, d->node);
}

int mint_nic_kick(struct mint_nic_dev *d, uint32_t cause)
{
	struct mint_nic_hdr *h = d->hdr;
	/* seq_cst: a release for the descriptors written before (pairs with
	 * the driver's acq_rel exchange in mint_nic_cause) and the other half
	 * of the Dekker pair with mint_nic_set_mask. */
	uint32_t icr = aor32(&h->icr, cause, memory_order_seq_cst) | cause;
	if (!(icr & ald32(&h->ims, memory_order_seq_cst)))
		return 0;
	/* The clock only under moderation: a read costs 46 ns on a host with
	 * a paravirtual clock, a third of a kick. */
	uint64_t itr = ald64(&h->itr_ns, memory_order_relaxed);
	if (itr) {
		uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
		if (d->last_irq_ns && now - d->last_irq_ns < itr) {
			if (cause)
				own_inc64(&h->irqs_masked, 1);
			return 0;
		}
		d->last_irq_ns = now;
		ast64(&h->last_irq_ns, now, memory_order_relaxed);
	}
	own_inc64(&h->irqs, 1);
	nic_raise(d);
	return 1;
}

void mint_nic_dev_ring(struct mint_nic_dev *d, struct mint_nic_ring_state *rs)
{
	struct mint_nic_hdr *h = d->hdr;
	rs->ndesc = d->g.ndesc;
	rs->buf_size = d->g.buf_size;
	rs->rdh = d->rdh;
	/* relaxed: a snapshot for display and records. */
	rs->rdt = ald32(&h->rdt, memory_order_relaxed);
	rs->icr = ald32(&h->icr, memory_order_relaxed);
	rs->ims = ald32(&h->ims, memory_order_relaxed);
	rs->itr_ns = ald64(&h->itr_ns, memory_order_relaxed);
	rs->consumed = ald64(&h->drv_packets, memory_order_relaxed) +
		       ald64(&h->drv_errors, memory_order_relaxed) +
		       ald64(&h->drv_bad, memory_order_relaxed) +
		       ald64(&h->drv_drops, memory_order_relaxed);
}

void mint_nic_dev_addr(struct mint_nic_dev *d, uint8_t mac[6], uint8_t ipv4[4])
{
	memcpy(mac, d->hdr->mac, 6);
	memcpy(ipv4, d->hdr->ipv4, 4);
}

/* ---- both ---- */

int mint_nic_stats(struct mint_fabric *f, uint32_t node, struct mint_nic_stats *st)
{
	struct mint_nic_hdr *h;
	struct geometry g;
	int rc = find_nic(f, node, &h, &g);
	if (rc)
		return rc;
	memset(st, 0, sizeof(*st));
	/* relaxed throughout: counters for display (acquire for state, as
	 * mint_nic_dev_alive). */
	st->up = ald32(&h->state, memory_order_acquire) == MINT_NIC_UP;
	st->ndesc = g.ndesc;
	st->buf_size = g.buf_size;
	st->rdh = ald32(&h->rdh, memory_order_relaxed);
	st->rdt = ald32(&h->rdt, memory_order_relaxed);
	st->icr = ald32(&h->icr, memory_order_relaxed);
	st->ims = ald32(&h->ims, memory_order_relaxed);
	st->itr_ns = ald64(&h->itr_ns, memory_order_relaxed);
	const _Atomic uint64_t *src[] = {&h->rx_packets, &h->rx_bytes, &h->overruns, &h->irqs,
					 &h->irqs_masked, &h->dev_errors, &h->drv_packets,
					 &h->drv_bytes, &h->drv_errors, &h->drv_bad, &h->drv_irqs,
					 &h->drv_drops};
	uint64_t *dst[] = {&st->rx_packets, &st->rx_bytes, &st->overruns, &st->irqs,
			   &st->irqs_masked, &st->dev_errors, &st->drv_packets, &st->drv_bytes,
			   &st->drv_errors, &st->drv_bad, &st->drv_irqs, &st->drv_drops};
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
		*dst[i] = ald64(src[i], memory_order_relaxed);
	return 0;
}
