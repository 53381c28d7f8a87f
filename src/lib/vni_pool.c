/* SPDX-License-Identifier: MIT */
/*
 * The VNI's buffer pool (configuration (2)).  Buffers come in two sizes:
 * large ones that hold any frame (a 64 KiB TSO/GSO segment) and, eight
 * times as many, small ones for frames up to an MTU, so that a flood of
 * MTU-sized frames does not take 64 KiB a frame.  The buffer-management area
 * is lock-free: a free stack per size whose top word carries a tag against ABA, and
 * per buffer a state (FREE/HELD/SENT) and a reference count changed by
 * compare-and-swap, so a double free or a loop in the free list shows as
 * a failed transition (counted) rather than as a buffer used twice.  The
 * address-management area is one queue per destination: senders add an
 * entry under the queue's lock (a crash-recoverable mint_lock: the tail
 * moves only after the slot is written, so a holder that died left
 * nothing half-done), the destination takes entries without one.
 */
#include "vni_pool.h"

#include <errno.h>
#include <string.h>

#include "bell.h"
#include "internal.h"
#include "le.h"
#include "mint/dev.h"
#include "mint/doorbell.h"
#include "mint/lock.h"
#include "mint/object.h"
#include "mint/vni.h"
#include "tsan.h"

#define STACK_TRIES 1024u /* compare-and-swap attempts on the free stack */
#define POP_CORRUPT_MAX 8u /* entries not FREE skipped before giving up */

struct geometry {
	uint32_t nsmall, qlen;
	uint64_t qstride, desc_off, queue_off, data_off, small_off, size;
};

static uint64_t line_up(uint64_t n) { return (n + MINT_CACHELINE - 1) & ~(uint64_t)(MINT_CACHELINE - 1); }

static void geometry_of(uint32_t nbuf, struct geometry *g)
{
	g->nsmall = nbuf * MINT_VNI_SMALL_PER_BUF;
	g->qlen = 1;
	while (g->qlen < nbuf + g->nsmall)
		g->qlen <<= 1;
	g->qstride = sizeof(struct mint_vni_addrq) + line_up((uint64_t)g->qlen * 4);
	g->desc_off = sizeof(struct mint_vni_pool_hdr);
	g->queue_off = g->desc_off + (uint64_t)(nbuf + g->nsmall) * sizeof(struct mint_vni_buf);
	g->data_off = g->queue_off + MINT_VNI_MAX_PORTS * g->qstride;
	g->small_off = g->data_off + (uint64_t)nbuf * MINT_VNI_BUF_SIZE;
	g->size = g->small_off + (uint64_t)g->nsmall * MINT_VNI_SMALL_SIZE;
}

static bool is_small(const struct vni_pool *p, uint32_t id) { return id >= p->nbuf; }

/* Bytes of buffer ID (a valid id): what an entry of it costs a queue. */
static uint32_t buf_bytes(const struct vni_pool *p, uint32_t id)
{
	return is_small(p, id) ? MINT_VNI_SMALL_SIZE : MINT_VNI_BUF_SIZE;
}

/* Buffer bytes a queue may hold: half the pool's, so that a receiver that
 * stops draining (alive, but stuck) leaves the other half to everyone
 * else.  Counted in buffer bytes, not entries, so that small buffers fill
 * a queue as little as they fill the pool. */
static uint64_t queue_bytes_limit(const struct vni_pool *p)
{
	return ((uint64_t)p->nbuf * MINT_VNI_BUF_SIZE + (uint64_t)p->nsmall * MINT_VNI_SMALL_SIZE) / 2;
}

/* The free stack of small buffers if SMALL, else of large ones. */
static _Atomic uint64_t *stack_of(const struct vni_pool *p, bool small)
{
	return small ? &p->hdr->free_small : &p->hdr->free_top;
}

static struct mint_vni_addrq *queue_of(const struct vni_pool *p, uint32_t dst)
{
	return (struct mint_vni_addrq *)(p->queues + dst * p->qstride);
}

static _Atomic uint32_t *slot_of(const struct vni_pool *p, struct mint_vni_addrq *q, uint64_t pos)
{
	return (_Atomic uint32_t *)(q + 1) + (pos & p->qmask);
}

static int format_pool(void *mem, uint64_t size, void *arg)
{
	uint32_t nbuf = *(const uint32_t *)arg;
	struct geometry g;
	geometry_of(nbuf, &g);
	if (size < g.size)
		return -EINVAL;
	struct mint_vni_pool_hdr *h = mem;
	wr32(&h->version, MINT_VNI_POOL_VERSION);
	wr32(&h->nbuf, nbuf);
	wr32(&h->buf_size, MINT_VNI_BUF_SIZE);
	wr32(&h->qlen, g.qlen);
	wr32(&h->nsmall, g.nsmall);
	wr32(&h->small_size, MINT_VNI_SMALL_SIZE);
	uint32_t total = nbuf + g.nsmall;
	struct mint_vni_buf *bufs = (struct mint_vni_buf *)((uint8_t *)mem + g.desc_off);
	for (uint32_t i = 0; i < total; i++) /* two stacks: 0..nbuf-1, nbuf..total-1 */
		ast32(&bufs[i].next, i + 1 != nbuf && i + 1 < total ? i + 1 : MINT_VNI_BUF_NONE,
		      memory_order_relaxed);
	ast64(&h->free_top, 0, memory_order_relaxed); /* tag 0, buffer 0 on top */
	ast64(&h->free_small, nbuf, memory_order_relaxed);
	for (uint32_t d = 0; d < MINT_VNI_MAX_PORTS; d++) {
		struct mint_vni_addrq *q =
			(struct mint_vni_addrq *)((uint8_t *)mem + g.queue_off + d * g.qstride);
		/* Armed from the start, as a ring's node consumer is. */
		ast32(&q->bell.sleeping, MINT_BELL_IRQ, memory_order_relaxed);
	}
	/* The directory lock publishes the object; the magic comes last anyway. */
	wr32(&h->magic, MINT_VNI_POOL_MAGIC);
	return 0;
}

uint64_t vni_pool_bytes(uint32_t nbuf)
{
	struct geometry g;
	geometry_of(nbuf, &g);
	return g.size;
}

int vni_pool_create(struct mint_fabric *f, uint32_t nbuf)
{
	struct geometry g;
	geometry_of(nbuf, &g);
	uint64_t off;
	return mint_obj_open(f, VNI_POOL_OBJ, MINT_OBJ_VNI_POOL, g.size, format_pool, &nbuf, &off);
}

int vni_pool_heal(struct vni_pool *p)
{
	struct geometry g;
	geometry_of(p->nbuf, &g);
	struct mint_vni_pool_hdr *h = p->hdr;
	uint32_t *field[] = {&h->magic, &h->version, &h->nbuf,	  &h->buf_size,
			     &h->qlen,	&h->nsmall,  &h->small_size};
	const uint32_t want[] = {MINT_VNI_POOL_MAGIC, MINT_VNI_POOL_VERSION, p->nbuf,
				 MINT_VNI_BUF_SIZE,   g.qlen,		     g.nsmall,
				 MINT_VNI_SMALL_SIZE};
	bool healed = false;
	/* relaxed (rfix32): constants; every user validated its own copy. */
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		healed |= rfix32(field[i], want[i]);
	return healed;
}

int vni_pool_open(struct mint_fabric *f, uint32_t nbuf, struct vni_pool *p)
{
	struct mint_obj_info info;
	int rc = mint_obj_find(f, VNI_POOL_OBJ, &info);
	if (rc)
		return rc;
	struct geometry g;
	geometry_of(nbuf, &g);
	uint8_t *base = info.type == MINT_OBJ_VNI_POOL && info.size >= g.size
				? mint_fabric_at(f, info.offset, g.size)
				: NULL;
	struct mint_vni_pool_hdr *h = (struct mint_vni_pool_hdr *)base;
	if (!h || rd32(&h->magic) != MINT_VNI_POOL_MAGIC ||
	    rd32(&h->version) != MINT_VNI_POOL_VERSION || rd32(&h->nbuf) != nbuf ||
	    rd32(&h->buf_size) != MINT_VNI_BUF_SIZE || rd32(&h->qlen) != g.qlen ||
	    rd32(&h->nsmall) != g.nsmall || rd32(&h->small_size) != MINT_VNI_SMALL_SIZE)
		return -EPROTO;
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->hdr = h;
	p->bufs = (struct mint_vni_buf *)(base + g.desc_off);
	p->queues = base + g.queue_off;
	p->data = base + g.data_off;
	p->small_data = base + g.small_off;
	p->nbuf = nbuf;
	p->nsmall = g.nsmall;
	p->ntotal = nbuf + g.nsmall;
	p->qmask = g.qlen - 1;
	p->qstride = g.qstride;
	p->peek_id = MINT_VNI_BUF_NONE;
	for (uint32_t i = 0; i < MINT_VNI_MAX_PORTS; i++)
		p->dev[i] = -ENOENT;
	return 0;
}

uint8_t *vni_pool_data(struct vni_pool *p, uint32_t id)
{
	return is_small(p, id) ? p->small_data + (uint64_t)(id - p->nbuf) * MINT_VNI_SMALL_SIZE
			       : p->data + (uint64_t)id * MINT_VNI_BUF_SIZE;
}

/*
 * For TSan only: we get buffer ID (popped from the free stack, or peeked
 * from our queue), so every earlier holder's use of it, which ended in a
 * put, happens before ours.  The fabric's atomics give this ordering: a
 * put's acq_rel drop of refs, the last one's release push, the taker's
 * acquire pop, and the taker's release store of a queue's tail that the
 * receiver loads with acquire.  But that chain may pass through other
 * processes or mappings, which TSan does not see, so it is named here on
 * the buffer's data address in this mapping.  Only drops release: a
 * holder's writes while it still holds the buffer stay unordered, and a
 * race with them is still reported.
 */
static void get_buffer(struct vni_pool *p, uint32_t id) { tsan_acquire(vni_pool_data(p, id)); }

/* Put ID on its free stack: false if the top kept changing under us. */
static bool push(struct vni_pool *p, uint32_t id)
{
	_Atomic uint64_t *stack = stack_of(p, is_small(p, id));
	uint64_t top = ald64(stack, memory_order_relaxed);
	for (uint32_t i = 0; i < STACK_TRIES; i++) {
		ast32(&p->bufs[id].next, (uint32_t)top, memory_order_relaxed);
		/* release: next and the FREE state are written before the buffer
		 * is on the stack; pairs with the acquire load in vni_pool_alloc. */
		if (acas64(stack, &top, ((top >> 32) + 1) << 32 | id, memory_order_release))
			return true;
	}
	return false;
}

/* Drop one reference to ID; the last one frees it.  0, or -EIO for a bad
 * id, a count already zero (a double put) or a double free. */
static int put(struct vni_pool *p, uint32_t id)
{
	if (id >= p->ntotal)
		return -EIO;
	struct mint_vni_buf *b = &p->bufs[id];
	/* For TSan: our use of the buffer ends here, before whoever gets it
	 * next (see get_buffer). */
	tsan_release(vni_pool_data(p, id));
	uint32_t refs = ald32(&b->refs, memory_order_relaxed);
	do {
		if (refs == 0 || refs > MINT_VNI_MAX_PORTS)
			return -EIO;
		/* acq_rel: every holder's use of the buffer happens before the
		 * last one frees it; pairs with the other holders' decrements. */
	} while (!acas32(&b->refs, &refs, refs - 1, memory_order_acq_rel));
	if (refs != 1)
		return 0;
	/* relaxed: the acq_rel above orders the holders before us, the
	 * release in push orders us before the next taker. */
	uint32_t st = ald32(&b->state, memory_order_relaxed);
	if ((st != MINT_VNI_BUF_HELD && st != MINT_VNI_BUF_SENT) ||
	    !acas32(&b->state, &st, MINT_VNI_BUF_FREE, memory_order_relaxed))
		return -EIO; /* freed already: a double free */
	return push(p, id) ? 0 : -EIO;
}

int vni_pool_alloc(struct vni_pool *p, uint32_t self, uint32_t epoch, bool small, uint32_t *id)
{
	_Atomic uint64_t *stack = stack_of(p, small);
	/* acquire: what the pusher wrote (next, state); pairs with the
	 * release compare-and-swap in push. */
	uint64_t top = ald64(stack, memory_order_acquire);
	uint32_t corrupt = 0;
	for (uint32_t i = 0; i < STACK_TRIES && corrupt < POP_CORRUPT_MAX; i++) {
		uint32_t idx = (uint32_t)top;
		if (idx == MINT_VNI_BUF_NONE)
			return corrupt ? -EIO : -ENOBUFS;
		/* A forged top, or one of the other size (a frame would overrun
		 * a small buffer): nothing safe to pop. */
		if (idx >= p->ntotal || is_small(p, idx) != small)
			return -EIO;
		struct mint_vni_buf *b = &p->bufs[idx];
		uint32_t next = ald32(&b->next, memory_order_relaxed);
		/* The tag makes a top that was popped and pushed back meanwhile
		 * fail the swap (ABA).  acquire: as the load above. */
		if (!acas64(stack, &top, ((top >> 32) + 1) << 32 | next, memory_order_acquire))
			continue;
		/* Popped.  Not FREE: it was on the stack twice (a double free or
		 * a loop); it belongs to someone else, so leave it. */
		if (ald32(&b->state, memory_order_relaxed) != MINT_VNI_BUF_FREE) {
			corrupt++;
			top = ald64(stack, memory_order_acquire);
			continue;
		}
		ast32(&b->owner, self, memory_order_relaxed);
		ast32(&b->epoch, epoch, memory_order_relaxed);
		ast32(&b->refs, 1, memory_order_relaxed);
		/* release: owner and epoch before HELD; pairs with the acquire
		 * load of state in reclaim_held. */
		ast32(&b->state, MINT_VNI_BUF_HELD, memory_order_release);
		get_buffer(p, idx);
		*id = idx;
		return 0;
	}
	return corrupt ? -EIO : -ENOBUFS;
}

void vni_pool_sent(struct vni_pool *p, uint32_t id)
{
	uint32_t st = MINT_VNI_BUF_HELD;
	/* Only from HELD: a reclaimer that took it from us (we were thought
	 * dead) dropped our reference already. */
	if (id < p->ntotal && acas32(&p->bufs[id].state, &st, MINT_VNI_BUF_SENT, memory_order_relaxed))
		put(p, id);
}

/* The one place pool mode raises a receiver's interrupt, and only if DST
 * armed its queue (it sleeps): through the device table when DST's agent
 * registered its port there, as the rings of per-destination mode do,
 * else MINT_VEC_VNI on DST directly.  The device id is looked up by name
 * until found, then kept, as the rings keep theirs from their opening (a
 * restarted receiver re-registers in the same slot). */
static uint32_t raise_receiver(struct vni_pool *p, uint32_t dst)
{
	uint32_t was = mint_bell_ring(&queue_of(p, dst)->bell);
	if (was != MINT_BELL_IRQ)
		return was;
	if (p->dev[dst] < 0)
		p->dev[dst] = vni_port_dev(p->f, dst);
	int dev = p->dev[dst];
	if (dev < 0 || mint_dev_raise(p->f, (uint32_t)dev) < 0)
		mint_ipi_send(p->f, dst, MINT_VEC_VNI);
	return was;
}

/* Take queue Q's lock for adding; a holder that died left the queue whole. */
static int lock_queue(struct vni_pool *p, struct mint_vni_addrq *q)
{
	int rc = mint_lock_acquire(p->f, &q->lock);
	if (rc == MINT_LOCK_RECOVERED)
		mint_lock_checked(&q->lock);
	return rc < 0 ? rc : 0;
}

int vni_pool_enqueue(struct vni_pool *p, uint32_t dst, uint32_t id, uint32_t len, uint32_t *bell)
{
	struct mint_vni_addrq *q = queue_of(p, dst);
	if (lock_queue(p, q))
		return -EIO;
	uint64_t tail = ald64(&q->tail, memory_order_relaxed); /* ours, under the lock */
	/* acquire: the consumer is done with the slots it gave back, and its
	 * bytes_out is stored; pairs with the release store of head in
	 * vni_pool_release. */
	uint64_t used = tail - ald64(&q->head, memory_order_acquire);
	uint64_t bytes_in = ald64(&q->bytes_in, memory_order_relaxed); /* ours */
	if (used == 0) /* empty: whatever the byte counts say (garbage heals here) */
		bytes_in = ald64(&q->bytes_out, memory_order_relaxed);
	uint64_t bytes = bytes_in - ald64(&q->bytes_out, memory_order_relaxed);
	uint64_t limit = queue_bytes_limit(p);
	int rc = used > p->qmask + 1ull || bytes > limit ? -EIO
		 : used > p->qmask || bytes + buf_bytes(p, id) > limit ? -EAGAIN
									 : 0;
	if (rc == 0) {
		/* relaxed: published by the release store of tail below. */
		ast64(&q->bytes_in, bytes_in + buf_bytes(p, id), memory_order_relaxed);
		ast32(&p->bufs[id].len, len, memory_order_relaxed);
		aadd32(&p->bufs[id].refs, 1, memory_order_relaxed);
		ast32(slot_of(p, q, tail), id, memory_order_relaxed);
		/* release: slot, len and reference before the entry is visible;
		 * pairs with the acquire load of tail in vni_pool_peek. */
		ast64(&q->tail, tail + 1, memory_order_release);
	}
	mint_lock_release(p->f, &q->lock);
	if (rc == 0)
		*bell = raise_receiver(p, dst);
	return rc;
}

int vni_pool_peek(struct vni_pool *p, uint32_t self, const void **frame)
{
	struct mint_vni_addrq *q = queue_of(p, self);
	uint64_t head = ald64(&q->head, memory_order_relaxed); /* ours */
	/* acquire: the slot, len and reference; pairs with the release store
	 * of tail in vni_pool_enqueue. */
	uint64_t tail = ald64(&q->tail, memory_order_acquire);
	if (tail == head)
		return -EAGAIN;
	uint64_t skip_to = head + 1;
	if (tail - head > p->qmask + 1ull) {
		skip_to = tail; /* a forged tail (or head): give up what is there */
	} else {
		uint32_t id = ald32(slot_of(p, q, head), memory_order_relaxed);
		if (id < p->ntotal && ald32(&p->bufs[id].state, memory_order_relaxed) != MINT_VNI_BUF_FREE) {
			uint32_t len = ald32(&p->bufs[id].len, memory_order_relaxed);
			p->peek_id = id;
			get_buffer(p, id);
			*frame = vni_pool_data(p, id);
			/* Too long for its buffer: a length no frame has. */
			return (int)(len > buf_bytes(p, id) ? MINT_VNI_BUF_SIZE + 1 : len);
		}
	}
	/* release: as in vni_pool_release. */
	ast64(&q->head, skip_to, memory_order_release);
	return -EPROTO;
}

int vni_pool_release(struct vni_pool *p, uint32_t self)
{
	struct mint_vni_addrq *q = queue_of(p, self);
	uint64_t head = ald64(&q->head, memory_order_relaxed);
	/* The exchange decides who drops the entry's reference: we, or a
	 * reclaimer that thought us dead and emptied the slot first. */
	uint32_t id = axchg32(slot_of(p, q, head), MINT_VNI_BUF_NONE, memory_order_relaxed);
	int rc = id == p->peek_id ? put(p, id) : 0;
	if (p->peek_id != MINT_VNI_BUF_NONE) /* relaxed: published by the store of head */
		ast64(&q->bytes_out,
		      ald64(&q->bytes_out, memory_order_relaxed) + buf_bytes(p, p->peek_id),
		      memory_order_relaxed);
	p->peek_id = MINT_VNI_BUF_NONE;
	/* release: we are done with the slot; pairs with the acquire load of
	 * head in vni_pool_enqueue. */
	ast64(&q->head, head + 1, memory_order_release);
	return rc;
}

static bool has_entries(void *arg)
{
	struct mint_vni_addrq *q = arg;
	return ald64(&q->tail, memory_order_relaxed) != ald64(&q->head, memory_order_relaxed);
}

int vni_pool_arm(struct vni_pool *p, uint32_t self)
{
	return mint_bell_arm_irq(&queue_of(p, self)->bell, has_entries, queue_of(p, self)) ? 1 : 0;
}

/* Drop the references of every entry in Q (its lock held): their number. */
static uint32_t drain_queue(struct vni_pool *p, struct mint_vni_addrq *q, uint32_t *errors)
{
	/* acquire: pairs with the release store of head by the consumer. */
	uint64_t head = ald64(&q->head, memory_order_acquire);
	uint64_t tail = ald64(&q->tail, memory_order_relaxed);
	uint32_t n = 0;
	if (tail - head > p->qmask + 1ull) {
		(*errors)++;
		head = tail;
	}
	for (; head != tail; head++) {
		/* As in vni_pool_release: whoever empties the slot drops the
		 * reference (relaxed: the exchange only arbitrates). */
		uint32_t id = axchg32(slot_of(p, q, head), MINT_VNI_BUF_NONE, memory_order_relaxed);
		if (id == MINT_VNI_BUF_NONE)
			continue;
		if (put(p, id))
			(*errors)++;
		else
			n++;
	}
	/* release: as in vni_pool_release. */
	ast64(&q->head, tail, memory_order_release);
	return n;
}

uint32_t vni_pool_reset_queue(struct vni_pool *p, uint32_t self, uint32_t *errors)
{
	struct mint_vni_addrq *q = queue_of(p, self);
	if (lock_queue(p, q))
		return 0;
	uint32_t n = drain_queue(p, q, errors);
	mint_lock_release(p->f, &q->lock);
	return n;
}

/* Take back the owner's reference of buffers HELD by a node not live. */
static uint32_t reclaim_held(struct vni_pool *p, const uint32_t live[MINT_VNI_MAX_PORTS],
			     uint32_t *errors)
{
	uint32_t n = 0;
	for (uint32_t id = 0; id < p->ntotal; id++) {
		struct mint_vni_buf *b = &p->bufs[id];
		/* acquire: owner and epoch as the taker wrote them; pairs with
		 * the release store of HELD in vni_pool_alloc. */
		uint32_t st = ald32(&b->state, memory_order_acquire);
		if (st != MINT_VNI_BUF_HELD)
			continue;
		uint32_t owner = ald32(&b->owner, memory_order_relaxed);
		uint32_t epoch = ald32(&b->epoch, memory_order_relaxed);
		if (owner < MINT_VNI_MAX_PORTS && epoch != 0 && live[owner] == epoch)
			continue;
		/* relaxed: only arbitrates with the owner's own HELD -> SENT;
		 * put's acq_rel orders the buffer's uses. */
		if (!acas32(&b->state, &st, MINT_VNI_BUF_SENT, memory_order_relaxed))
			continue;
		if (put(p, id))
			(*errors)++;
		else
			n++;
	}
	return n;
}

uint32_t vni_pool_reclaim(struct vni_pool *p, const uint32_t live[MINT_VNI_MAX_PORTS],
			  uint32_t *errors)
{
	/* One reclaimer at a time (so a HELD buffer is taken back once); the
	 * others skip this round rather than wait. */
	int rc = mint_lock_try(p->f, &p->hdr->reclaim_lock);
	if (rc < 0)
		return 0;
	if (rc == MINT_LOCK_RECOVERED)
		mint_lock_checked(&p->hdr->reclaim_lock); /* every step is whole on its own */
	uint32_t n = 0;
	for (uint32_t dst = 0; dst < MINT_VNI_MAX_PORTS; dst++) {
		struct mint_vni_addrq *q = queue_of(p, dst);
		if (live[dst] || !has_entries(q) || mint_lock_try(p->f, &q->lock) < 0)
			continue;
		mint_lock_checked(&q->lock);
		n += drain_queue(p, q, errors);
		mint_lock_release(p->f, &q->lock);
	}
	n += reclaim_held(p, live, errors);
	mint_lock_release(p->f, &p->hdr->reclaim_lock);
	return n;
}
