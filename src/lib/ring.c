/* SPDX-License-Identifier: MIT */
/*
 * SPSC record rings.  `tail` and `head` count bytes ever published and
 * consumed; positions are those counts masked by size-1.  A record is an
 * 8-byte header and its payload padded to 8 bytes, and never wraps: when
 * it does not fit before the end, the producer fills the end with a PAD
 * record.  The consumer copies every header out once, checks it against
 * the bounds it derived itself, and only then copies the payload.
 */
#include "mint/ring.h"

#include <errno.h>
#include <string.h>

#include "bell.h"
#include "internal.h"
#include "le.h"
#include "mint/dev.h"
#include "mint/doorbell.h"

#define HDR_BYTES ((uint64_t)sizeof(struct mint_rec_hdr))

static uint64_t rec_bytes(uint32_t len)
{
	return HDR_BYTES + (((uint64_t)len + MINT_RING_ALIGN - 1) & ~(uint64_t)(MINT_RING_ALIGN - 1));
}

uint64_t mint_ring_footprint(uint64_t size)
{
	return sizeof(struct mint_ring_hdr) + size;
}

static bool size_ok(uint64_t size)
{
	return size >= MINT_RING_MIN_SIZE && (size & (size - 1)) == 0 && size <= (1ull << 40);
}

int mint_ring_format(void *mem, uint64_t size, uint32_t prod_node, uint32_t cons_node,
		     uint32_t cons_vector)
{
	if (!size_ok(size) || ((uintptr_t)mem & (MINT_CACHELINE - 1)))
		return -EINVAL;
	struct mint_ring_hdr *h = mem;
	memset(h, 0, sizeof(*h));
	wr32(&h->version, MINT_RING_VERSION);
	wr64(&h->size, size);
	/* Half the ring: a record plus the largest pad always fit when empty. */
	uint64_t max = size / 2 - HDR_BYTES;
	wr32(&h->max_record, max > (1u << 30) ? (1u << 30) : (uint32_t)max);
	wr32(&h->prod_node, prod_node);
	wr32(&h->cons_node, cons_node);
	wr32(&h->cons_vector, cons_vector);
	/* A node consumer starts armed: the first record raises its vector,
	 * which is how it learns of a ring it has never seen. */
	if (cons_node != MINT_NODE_NONE)
		ast32(&h->data_bell.sleeping, MINT_BELL_IRQ, memory_order_relaxed);
	wr32(&h->magic, MINT_RING_MAGIC);
	return 0;
}

int mint_ring_open(struct mint_fabric *f, uint64_t off, struct mint_ring *r)
{
	struct mint_ring_hdr *h = mint_fabric_at(f, off, sizeof(*h));
	if (!h || (off & (MINT_CACHELINE - 1)))
		return -EINVAL;
	/* Copy the geometry once; the shared copy is never trusted again. */
	uint64_t size = rd64(&h->size);
	uint32_t max = rd32(&h->max_record);
	if (rd32(&h->magic) != MINT_RING_MAGIC || rd32(&h->version) != MINT_RING_VERSION ||
	    !size_ok(size) || max > size / 2 - HDR_BYTES ||
	    !mint_fabric_at(f, off, mint_ring_footprint(size)))
		return -EPROTO;
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->hdr = h;
	r->data = (uint8_t *)h + sizeof(*h);
	r->size = size;
	r->max_record = max;
	r->cons_node = rd32(&h->cons_node);
	r->cons_vector = rd32(&h->cons_vector);
	/* acquire: resume from what the other side last published. */
	uint64_t tail = ald64(&h->tail, memory_order_acquire) & ~(uint64_t)(MINT_RING_ALIGN - 1);
	uint64_t head = ald64(&h->head, memory_order_acquire);
	/* An impossible pair is no reason to refuse the ring: its consumer
	 * restarting is what heals it.  That one starts at the tail (what
	 * lay between is lost anyway); anyone else takes the indices as they
	 * are, and the two ends agree again through refresh_tail. */
	if (r->cons_node == f->self && r->cons_node != MINT_NODE_NONE &&
	    (tail - head > size || (head & (MINT_RING_ALIGN - 1)))) {
		own_inc64(&h->errors, 1);
		head = tail;
		/* release: pairs with the acquire load of head in refresh_space. */
		ast64(&h->head, head, memory_order_release);
	}
	r->local_tail = r->seen_tail = tail;
	r->local_head = r->seen_head = head;
	r->bad_tail = head; /* never impossible: reports the first bad one */
	r->seen_prod_errors = ald64(&h->prod_errors, memory_order_relaxed);
	return 0;
}

uint32_t mint_ring_max_record(const struct mint_ring *r) { return r->max_record; }

/* ---- producer ---- */

/* Bytes needed at TAIL for a record of REC bytes (a pad included). */
static uint64_t need_at(const struct mint_ring *r, uint64_t tail, uint64_t rec)
{
	uint64_t contig = r->size - (tail & (r->size - 1));
	return contig < rec ? contig + rec : rec;
}

static void notify_consumer(struct mint_ring *r);

static bool head_possible(const struct mint_ring *r, uint64_t tail, uint64_t head)
{
	return !(head & (MINT_RING_ALIGN - 1)) && tail - head <= r->size;
}

/* Say that we refuse the consumer's head (prod_errors is what it watches),
 * put back our own tail if someone overwrote it, and wake the consumer:
 * it repairs the head or moves to our tail (see refresh_tail). */
static void refuse_head(struct mint_ring *r)
{
	own_inc64(&r->hdr->prod_errors, 1);
	if (ald64(&r->hdr->tail, memory_order_relaxed) != r->local_tail)
		/* release: pairs with the acquire load of tail in refresh_tail. */
		ast64(&r->hdr->tail, r->local_tail, memory_order_release);
	notify_consumer(r);
}

/*
 * Free bytes at *TAIL, reading the consumer's head again.  The producer
 * owns the tail and never moves it for anyone: an impossible head (ahead
 * of our tail, more than a ring behind, unaligned) is counted and refused
 * with -EBADMSG, and the consumer, which owns the head, repairs it (it
 * republishes its own, or rewinds to our tail if it had skipped ahead).
 */
static int64_t refresh_space(struct mint_ring *r, uint64_t *tail)
{
	/* acquire: the consumer finished reading the bytes it released before
	 * we overwrite them; pairs with the release store of head in publish_head. */
	uint64_t head = ald64(&r->hdr->head, memory_order_acquire);
	if (!head_possible(r, *tail, head)) {
		refuse_head(r);
		return -EBADMSG;
	}
	r->seen_head = head;
	return (int64_t)(r->size - (*tail - head));
}

/*
 * Is there room at *TAIL for a record of REC bytes?  *SPACE is what the
 * producer last knew to be free; only when that is too little is the
 * consumer's head read again.  0, -EAGAIN (full: counted), or -EBADMSG.
 */
static int room_for(struct mint_ring *r, uint64_t *tail, int64_t *space, uint64_t rec)
{
	if ((uint64_t)*space >= need_at(r, *tail, rec))
		return 0;
	if ((*space = refresh_space(r, tail)) < 0)
		return (int)*space;
	if ((uint64_t)*space >= need_at(r, *tail, rec))
		return 0;
	own_inc64(&r->hdr->full_events, 1);
	return -EAGAIN;
}

/* Where a record of REC bytes goes at *TAIL: fills the end of the data
 * area with a PAD record first when the record would not fit before it. */
static uint64_t place(struct mint_ring *r, uint64_t *tail, uint64_t rec)
{
	uint64_t pos = *tail & (r->size - 1);
	if (r->size - pos < rec) {
		struct mint_rec_hdr pad = {le32((uint32_t)(r->size - pos - HDR_BYTES)), le32(MINT_REC_PAD)};
		memcpy(r->data + pos, &pad, sizeof(pad));
		*tail += r->size - pos;
		pos = 0;
	}
	return pos;
}

static void put_header(struct mint_ring *r, uint64_t pos, uint32_t len, uint32_t type)
{
	struct mint_rec_hdr h = {le32(len), le32(type)};
	memcpy(r->data + pos, &h, sizeof(h));
}

static void put_record(struct mint_ring *r, uint64_t *tail, const void *data, uint32_t len,
		       uint32_t type)
{
	uint64_t pos = place(r, tail, rec_bytes(len));
	put_header(r, pos, len, type);
	if (len) /* an empty record may come from NULL: memcpy must not see it */
		memcpy(r->data + pos + HDR_BYTES, data, len);
	*tail += rec_bytes(len);
}

/* Tell the consumer: a futex wake if it sleeps, its vector if it is armed. */
static void notify_consumer(struct mint_ring *r)
{
	r->last_bell = mint_bell_ring(&r->hdr->data_bell);
	if (r->last_bell == MINT_BELL_IRQ && r->cons_node != MINT_NODE_NONE &&
	    (!r->via_dev || mint_dev_raise(r->f, r->dev) < 0))
		mint_ipi_send(r->f, r->cons_node, r->cons_vector);
}

void mint_ring_route_dev(struct mint_ring *r, uint32_t dev)
{
	r->dev = dev;
	r->via_dev = true;
}

static void publish_tail(struct mint_ring *r, uint64_t tail, unsigned records)
{
	r->local_tail = tail;
	r->res_max = 0; /* a reservation made before is overwritten now */
	/* release: the record bytes are visible before the tail that exposes
	 * them; pairs with the acquire load of tail in refresh_tail. */
	ast64(&r->hdr->tail, tail, memory_order_release);
	own_inc64(&r->hdr->sent_records, records);
	notify_consumer(r);
	/* The head shares the line the bell was just read from: checking it
	 * here costs nothing, and a consumer that went by a forged tail
	 * learns at once that we are behind it.  relaxed: only compared. */
	if (!head_possible(r, tail, ald64(&r->hdr->head, memory_order_relaxed)))
		own_inc64(&r->hdr->prod_errors, 1);
}

int mint_ring_send_batch(struct mint_ring *r, const struct mint_msg *msgs, unsigned n)
{
	uint64_t tail = r->local_tail;
	int64_t space = (int64_t)(r->size - (tail - r->seen_head));
	int rc = 0;
	unsigned i;
	for (i = 0; i < n; i++) {
		if (msgs[i].len > r->max_record || msgs[i].type >= MINT_REC_PAD) {
			rc = -EMSGSIZE;
			break;
		}
		if ((rc = room_for(r, &tail, &space, rec_bytes(msgs[i].len))) != 0) {
			rc = rc == -EAGAIN ? 0 : rc;
			break;
		}
		uint64_t before = tail;
		put_record(r, &tail, msgs[i].data, msgs[i].len, msgs[i].type);
		space -= (int64_t)(tail - before);
	}
	if (i)
		publish_tail(r, tail, i);
	return i ? (int)i : rc;
}

int mint_ring_reserve(struct mint_ring *r, uint32_t max, void **payload)
{
	if (max > r->max_record)
		return -EMSGSIZE;
	uint64_t tail = r->local_tail, rec = rec_bytes(max);
	int64_t space = (int64_t)(r->size - (tail - r->seen_head));
	int rc = room_for(r, &tail, &space, rec);
	if (rc)
		return rc;
	/* A pad written here lies in free space: nobody sees it unless the
	 * commit publishes it. */
	uint64_t pos = place(r, &tail, rec);
	r->res_tail = tail;
	r->res_max = max + 1; /* 0 means no reservation */
	*payload = r->data + pos + HDR_BYTES;
	return 0;
}

int mint_ring_commit(struct mint_ring *r, uint32_t len, uint32_t type)
{
	if (r->res_max == 0 || len >= r->res_max || type >= MINT_REC_PAD)
		return -EINVAL;
	put_header(r, r->res_tail & (r->size - 1), len, type);
	r->res_max = 0;
	publish_tail(r, r->res_tail + rec_bytes(len), 1);
	return 0;
}

int mint_ring_send(struct mint_ring *r, const void *data, uint32_t len, uint32_t type)
{
	struct mint_msg m = {(void *)data, len, len, type};
	int rc = mint_ring_send_batch(r, &m, 1);
	return rc == 1 ? 0 : rc == 0 ? -EAGAIN : rc;
}

/* ---- consumer ---- */

static void count_error(struct mint_ring *r)
{
	own_inc64(&r->hdr->errors, 1);
}

static void publish_head(struct mint_ring *r);

static bool tail_possible(const struct mint_ring *r, uint64_t tail)
{
	uint64_t avail = tail - r->local_head;
	return avail <= r->size && (avail & (MINT_RING_ALIGN - 1)) == 0;
}

/*
 * Is TAIL impossible for us (more than a ring ahead of our head, or behind
 * it) while the producer says it refuses our head?  Then the two ends
 * disagree about where the ring is (a forged head let the producer run
 * over what we had not read, or we skipped ahead past a forged tail), and
 * the consumer, owning the head, gives in: it moves to the producer's
 * (aligned) tail, dropping whatever lay between.
 */
static bool producer_disowns_head(struct mint_ring *r, uint64_t tail)
{
	return tail != r->local_head && !(tail & (MINT_RING_ALIGN - 1)) &&
	       ald64(&r->hdr->prod_errors, memory_order_relaxed) != r->seen_prod_errors;
}

/*
 * Read the producer's tail again.  An impossible one is reported once and
 * otherwise taken as "nothing new": the honest producer's next publication
 * overwrites it, and nothing is lost meanwhile.  If our published head was
 * overwritten too, it is published again, so that a producer which went by
 * the forged head finds ours impossible and says so; when the producer
 * refuses our head (see above), we move to its tail.
 */
static int refresh_tail(struct mint_ring *r)
{
	/* acquire: pairs with the release store of tail in publish_tail. */
	uint64_t tail = ald64(&r->hdr->tail, memory_order_acquire);
	if (tail_possible(r, tail)) {
		r->seen_tail = tail;
		return 0;
	}
	if (producer_disowns_head(r, tail)) {
		count_error(r);
		r->seen_prod_errors = ald64(&r->hdr->prod_errors, memory_order_relaxed);
		r->local_head = r->seen_tail = tail;
		publish_head(r);
		return -EBADMSG;
	}
	if (ald64(&r->hdr->head, memory_order_relaxed) != r->local_head)
		publish_head(r);
	if (tail == r->bad_tail)
		return 0;
	r->bad_tail = tail;
	count_error(r);
	return -EBADMSG;
}

static void publish_head(struct mint_ring *r)
{
	if (r->held)
		return; /* mint_ring_hold: the bytes are still in use */
	/* release: our reads of the consumed bytes are done before the
	 * producer may reuse them; pairs with the acquire in refresh_space. */
	ast64(&r->hdr->head, r->local_head, memory_order_release);
	if (mint_bell_ring(&r->hdr->space_bell) == MINT_BELL_IRQ)
		count_error(r); /* producers never wait for interrupts */
}

/* Drop everything up to the producer's (validated) tail after a corrupt
 * record. */
static int resync(struct mint_ring *r)
{
	count_error(r);
	r->local_head = r->seen_tail;
	publish_head(r);
	return -EBADMSG;
}

/* Idle: if someone overwrote our published head, publish it again so the
 * producer is not left refusing a bogus one. */
static void repair_head(struct mint_ring *r)
{
	if (!r->held && ald64(&r->hdr->head, memory_order_relaxed) != r->local_head) {
		count_error(r);
		publish_head(r);
	}
}

/*
 * Validate the record at the head, skipping pads: 1 with its position,
 * length and type; 0 if the ring is empty; -EBADMSG if it is corrupt
 * (counted; a bad record is dropped with everything published after it).
 */
static int next_record(struct mint_ring *r, uint64_t *pos_out, uint32_t *len_out,
		       uint32_t *type_out)
{
	for (;;) {
		int rc = r->seen_tail == r->local_head ? refresh_tail(r) : 0;
		if (rc)
			return rc;
		uint64_t avail = r->seen_tail - r->local_head;
		if (avail == 0)
			return 0;
		uint64_t pos = r->local_head & (r->size - 1);
		uint64_t contig = r->size - pos;
		struct mint_rec_hdr h;
		memcpy(&h, r->data + pos, sizeof(h)); /* the one read of the header */
		uint32_t len = le32(h.len), type = le32(h.type);
		if (type == MINT_REC_PAD) {
			if ((uint64_t)len + HDR_BYTES != contig || contig > avail)
				return resync(r);
			r->local_head += contig;
			continue;
		}
		uint64_t rec = rec_bytes(len);
		if (len > r->max_record || type > MINT_REC_PAD || rec > contig || rec > avail)
			return resync(r);
		*pos_out = pos;
		*len_out = len;
		*type_out = type;
		return 1;
	}
}

/* Take the next record into M: 1, 0 if empty, -EMSGSIZE if M is too small
 * (nothing consumed), -EBADMSG. */
static int take_one(struct mint_ring *r, struct mint_msg *m)
{
	uint64_t pos;
	uint32_t len, type;
	int rc = next_record(r, &pos, &len, &type);
	if (rc != 1)
		return rc;
	if (len > m->cap)
		return -EMSGSIZE;
	if (len) /* an empty record may go to a NULL buffer */
		memcpy(m->data, r->data + pos + HDR_BYTES, len);
	m->len = len;
	m->type = type;
	r->local_head += rec_bytes(len);
	return 1;
}

int mint_ring_recv_batch(struct mint_ring *r, struct mint_msg *msgs, unsigned n)
{
	r->peeked = 0; /* a peek not released is simply read again */
	unsigned got = 0;
	int rc = 0;
	uint64_t start = r->local_head;
	while (got < n && (rc = take_one(r, &msgs[got])) == 1)
		got++;
	if (got)
		own_inc64(&r->hdr->recv_records, got);
	if (r->local_head != start)
		publish_head(r);
	else if (!got && rc == 0)
		repair_head(r);
	return got ? (int)got : rc;
}

int mint_ring_recv(struct mint_ring *r, void *buf, uint32_t cap, uint32_t *type)
{
	struct mint_msg m = {buf, 0, cap, 0};
	int rc = mint_ring_recv_batch(r, &m, 1);
	if (rc == 1 && type)
		*type = m.type;
	return rc == 1 ? (int)m.len : rc == 0 ? -EAGAIN : rc;
}

int mint_ring_peek(struct mint_ring *r, const void **payload, uint32_t *type)
{
	uint64_t start = r->local_head, pos;
	uint32_t len, t;
	int rc = next_record(r, &pos, &len, &t);
	if (r->local_head != start && rc != -EBADMSG)
		publish_head(r); /* pads skipped on the way */
	if (rc == 0) {
		repair_head(r);
		return -EAGAIN;
	}
	if (rc < 0)
		return rc;
	*payload = r->data + pos + HDR_BYTES;
	if (type)
		*type = t;
	r->peeked = rec_bytes(len);
	return (int)len;
}

void mint_ring_release(struct mint_ring *r)
{
	if (!r->peeked)
		return;
	r->local_head += r->peeked;
	r->peeked = 0;
	own_inc64(&r->hdr->recv_records, 1);
	publish_head(r);
}

void mint_ring_hold(struct mint_ring *r, bool hold)
{
	r->held = hold;
	if (!hold)
		publish_head(r);
}

uint64_t mint_ring_pending_bytes(const struct mint_ring *r)
{
	/* acquire: pairs with the release store of tail in publish_tail. */
	uint64_t tail = ald64(&r->hdr->tail, memory_order_acquire);
	return tail_possible(r, tail) ? tail - r->local_head : 0;
}

/* ---- waiting ---- */

static bool has_data(void *arg)
{
	struct mint_ring *r = arg;
	/* acquire: pairs with the release store of tail in publish_tail. */
	uint64_t tail = ald64(&r->hdr->tail, memory_order_acquire);
	/* A producer that refuses our head is work too: refresh_tail gives in. */
	return (tail != r->local_head && tail_possible(r, tail)) || producer_disowns_head(r, tail);
}

struct space_query {
	struct mint_ring *r;
	uint64_t need;
};

static bool has_space(void *arg)
{
	struct space_query *q = arg;
	uint64_t tail = q->r->local_tail;
	int64_t space = refresh_space(q->r, &tail);
	return space < 0 || (uint64_t)space >= q->need;
}

static int64_t remaining_ns(uint64_t deadline)
{
	if (deadline == 0)
		return -1;
	uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
	return now >= deadline ? 0 : (int64_t)(deadline - now);
}

static uint64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? 0 : mint_now_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000ull;
}

int mint_ring_send_wait(struct mint_ring *r, const void *data, uint32_t len, uint32_t type,
			int timeout_ms)
{
	uint64_t deadline = deadline_of(timeout_ms);
	struct space_query q = {r, need_at(r, r->local_tail, rec_bytes(len))};
	for (;;) {
		int rc = mint_ring_send(r, data, len, type);
		if (rc != -EAGAIN)
			return rc;
		int64_t left = remaining_ns(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		rc = mint_bell_wait(&r->hdr->space_bell, has_space, &q, left);
		if (rc == -EINTR)
			return rc;
	}
}

int mint_ring_recv_wait(struct mint_ring *r, void *buf, uint32_t cap, uint32_t *type,
			int timeout_ms)
{
	uint64_t deadline = deadline_of(timeout_ms);
	for (;;) {
		int rc = mint_ring_recv(r, buf, cap, type);
		if (rc != -EAGAIN)
			return rc;
		int64_t left = remaining_ns(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		rc = mint_bell_wait(&r->hdr->data_bell, has_data, r, left);
		if (rc == -EINTR)
			return rc;
	}
}

static bool either_has_data(void *arg)
{
	struct mint_ring *const *pair = arg;
	return has_data(pair[0]) || has_data(pair[1]);
}

#define WAIT_PAIR_FALLBACK_NS 10000000 /* without futex_waitv: B's latency */

int mint_ring_wait_either(struct mint_ring *a, struct mint_ring *b, int timeout_ms)
{
	uint64_t deadline = deadline_of(timeout_ms);
	struct mint_ring *pair[2] = {a, b ? b : a};
	while (!either_has_data(pair)) {
		int64_t left = remaining_ns(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		int rc = -ENOSYS;
		if (b)
			rc = mint_bell_wait_pair(&a->hdr->data_bell, &b->hdr->data_bell,
						 either_has_data, pair, left);
		if (rc == -ENOSYS) /* A's bell alone, B looked at between slices */
			rc = mint_bell_wait(&a->hdr->data_bell, either_has_data, pair,
					    b && (left < 0 || left > WAIT_PAIR_FALLBACK_NS)
						    ? WAIT_PAIR_FALLBACK_NS : left);
		if (rc == -EINTR)
			return rc;
	}
	return 0;
}

int mint_ring_arm(struct mint_ring *r)
{
	if (r->cons_node == MINT_NODE_NONE)
		return -EINVAL;
	return mint_bell_arm_irq(&r->hdr->data_bell, has_data, r) ? 1 : 0;
}
