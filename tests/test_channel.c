/* SPDX-License-Identifier: MIT */
/*
 * Duplex channels: opened from both sides by two processes; the header
 * and rings as the layout says; request/response; bad opens (-EADDRINUSE,
 * -EEXIST, -EINVAL, -EPROTO); and an interrupt-driven consumer: a node
 * whose dispatcher's MINT_VEC_CHANNEL handler drains its channels and
 * re-arms them (mint_ring_arm returning 1 means "drain again"), receiving
 * everything another process sends, with random pauses, and no lost
 * wake-up (a lost one would stall the stream: the producer's bounded waits
 * and the deadlines below turn that into a failure, not a hang).  A full
 * directory reclaims the channels of killed processes, never a live one's.
 */
#include <sched.h>

#define T_RNG_SEED 0xa4093822299f31d0ull
#include "testlib.h"

/* Messages: a seq, then bytes derived from it. */
static uint32_t make_msg(uint8_t *buf, uint64_t seq, uint32_t maxlen)
{
	uint32_t len = 8 + (uint32_t)((seq * 2654435761u) % (maxlen - 8 + 1));
	memcpy(buf, &seq, 8);
	for (uint32_t i = 8; i < len; i++)
		buf[i] = (uint8_t)(seq + i);
	return len;
}

static bool check_msg(const uint8_t *buf, int len, uint64_t want, uint32_t maxlen)
{
	uint64_t seq;
	if (len < 8)
		return false;
	memcpy(&seq, buf, 8);
	if (seq != want || (uint32_t)len != 8 + (uint32_t)((seq * 2654435761u) % (maxlen - 8 + 1)))
		return false;
	for (int i = 8; i < len; i++)
		if (buf[i] != (uint8_t)(seq + (uint64_t)i))
			return false;
	return true;
}

/* ==== both sides, request/response ==== */

#define REQS 3000

static void responder(void *arg)
{
	(void)arg;
	struct mint_fabric *f = t_child_attach();
	struct mint_channel ch;
	int rc = mint_channel_open(f, "rpc", 0, 1, 4096, MINT_SIDE_B, &ch);
	CHECK_EQ(rc, 0); /* found, not created */
	if (rc < 0)
		_exit(2);
	CHECK_EQ(ch.side, MINT_SIDE_B);
	CHECK_EQ(ch.node_a, 0);
	CHECK_EQ(ch.node_b, 1);
	for (int i = 0; i < REQS; i++) {
		uint64_t req[2];
		uint32_t type;
		int n = mint_ring_recv_wait(&ch.rx, req, sizeof(req), &type, 20000);
		if (n != (int)sizeof(req) || type != 10 || req[0] != (uint64_t)i) {
			fprintf(stderr, "responder: request %d: rc %d\n", i, n);
			_exit(4);
		}
		uint64_t resp[3] = {req[0], req[1] * 3 + 1, ~req[1]};
		if (mint_ring_send_wait(&ch.tx, resp, sizeof(resp), 11, 20000) != 0)
			_exit(5);
	}
	mint_fabric_detach(f);
}

static void test_request_response(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE + 64 * 1024);
	struct mint_channel ch;
	CHECK_EQ(mint_channel_open(f, "rpc", 0, 1, 4096, MINT_SIDE_A, &ch), 1);
	/* The object, header and rings, as laid out. */
	struct mint_obj_info info;
	CHECK_EQ(mint_obj_find(f, "rpc", &info), 0);
	CHECK_EQ(info.type, MINT_OBJ_CHANNEL);
	CHECK_EQ(info.size, sizeof(struct mint_channel_hdr) + 2 * mint_ring_footprint(4096));
	struct mint_channel_hdr *h = mint_fabric_at(f, info.offset, sizeof(*h));
	CHECK_EQ(h->magic, MINT_CHANNEL_MAGIC);
	CHECK_EQ(h->version, MINT_CHANNEL_VERSION);
	CHECK_EQ(h->node_a, 0);
	CHECK_EQ(h->node_b, 1);
	CHECK_EQ(h->ring_size, 4096);
	CHECK_EQ(h->a2b_off, sizeof(*h));
	CHECK_EQ(h->b2a_off, sizeof(*h) + mint_ring_footprint(4096));
	CHECK(ch.tx.hdr == (void *)((uint8_t *)h + h->a2b_off)); /* A sends on a2b */
	CHECK(ch.rx.hdr == (void *)((uint8_t *)h + h->b2a_off));
	CHECK_EQ(ch.tx.hdr->prod_node, 0);
	CHECK_EQ(ch.tx.hdr->cons_node, 1);
	CHECK_EQ(ch.tx.hdr->cons_vector, MINT_VEC_CHANNEL);
	CHECK_EQ(ch.rx.hdr->prod_node, 1);
	CHECK_EQ(ch.rx.hdr->cons_node, 0);
	CHECK_EQ(ch.tx.size, 4096);
	CHECK_EQ(ch.side, MINT_SIDE_A);
	/* Opening again from this side finds it. */
	struct mint_channel again;
	CHECK_EQ(mint_channel_open(f, "rpc", 0, 1, 4096, MINT_SIDE_A, &again), 0);
	CHECK(again.tx.hdr == ch.tx.hdr);
	/* By offset, as a server scanning the directory would. */
	struct mint_channel by_off;
	CHECK_EQ(mint_channel_open_at(f, info.offset, MINT_SIDE_B, &by_off), 0);
	CHECK(by_off.tx.hdr == ch.rx.hdr && by_off.rx.hdr == ch.tx.hdr);

	pid_t pid = t_spawn(responder, NULL);
	int bad = 0;
	for (int i = 0; i < REQS && bad < 3; i++) {
		uint64_t req[2] = {(uint64_t)i, t_rnd()};
		if (mint_ring_send_wait(&ch.tx, req, sizeof(req), 10, 20000) != 0) {
			bad++;
			break;
		}
		uint64_t resp[3];
		uint32_t type;
		int n = mint_ring_recv_wait(&ch.rx, resp, sizeof(resp), &type, 20000);
		if (n != (int)sizeof(resp) || type != 11 || resp[0] != req[0] ||
		    resp[1] != req[1] * 3 + 1 || resp[2] != ~req[1])
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(t_wait_child_for(pid, 30000), 0);
	CHECK_EQ(ch.tx.hdr->sent_records, REQS);
	CHECK_EQ(ch.tx.hdr->recv_records, REQS);
	CHECK_EQ(ch.rx.hdr->recv_records, REQS);
	CHECK_EQ(ch.tx.hdr->errors + ch.rx.hdr->errors, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ==== bad opens ==== */

static void test_open_errors(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE + 64 * 1024);
	struct mint_channel ch;
	CHECK_EQ(mint_channel_open(f, "c", 0, 1, 1024, MINT_SIDE_A, &ch), 1);
	/* Endpoints must match. */
	CHECK_EQ(mint_channel_open(f, "c", 0, 2, 1024, MINT_SIDE_A, &ch), -EADDRINUSE);
	CHECK_EQ(mint_channel_open(f, "c", 1, 0, 1024, MINT_SIDE_B, &ch), -EADDRINUSE);
	CHECK_EQ(mint_channel_open(f, "c", MINT_NODE_NONE, 1, 1024, MINT_SIDE_A, &ch), -EADDRINUSE);
	/* The existing geometry wins over the size asked for. */
	CHECK_EQ(mint_channel_open(f, "c", 0, 1, 4096, MINT_SIDE_B, &ch), 0);
	CHECK_EQ(ch.tx.size, 1024);
	/* Another kind of object under the name. */
	uint64_t off;
	CHECK_EQ(mint_obj_open(f, "raw", MINT_OBJ_RAW, 4096, NULL, NULL, &off), 1);
	CHECK_EQ(mint_channel_open(f, "raw", 0, 1, 1024, MINT_SIDE_A, &ch), -EEXIST);
	/* Bad ring sizes create nothing. */
	CHECK_EQ(mint_channel_open(f, "odd", 0, 1, 300, MINT_SIDE_A, &ch), -EINVAL);
	CHECK_EQ(mint_channel_open(f, "odd", 0, 1, 0, MINT_SIDE_A, &ch), -EINVAL);
	CHECK_EQ(mint_channel_open(f, "odd", 0, 1, 128, MINT_SIDE_A, &ch), -EINVAL);
	CHECK(mint_channel_open(f, "odd", 0, 1, 1ull << 40, MINT_SIDE_A, &ch) < 0);
	CHECK(mint_channel_open(f, "odd", 0, 1, 1ull << 62, MINT_SIDE_A, &ch) < 0);
	CHECK_EQ(mint_obj_find(f, "odd", NULL), -ENOENT);
	CHECK_EQ(mint_channel_open(f, "bad name", 0, 1, 1024, MINT_SIDE_A, &ch), -EINVAL);
	/* By offset: bad side, bad offsets, corrupt headers. */
	struct mint_obj_info info;
	CHECK_EQ(mint_obj_find(f, "c", &info), 0);
	CHECK_EQ(mint_channel_open_at(f, info.offset, (enum mint_channel_side)2, &ch), -EINVAL);
	CHECK_EQ(mint_channel_open_at(f, mint_fabric_size(f), MINT_SIDE_A, &ch), -EINVAL);
	CHECK_EQ(mint_channel_open_at(f, UINT64_MAX - 10, MINT_SIDE_A, &ch), -EINVAL);
	CHECK_EQ(mint_channel_open_at(f, off, MINT_SIDE_A, &ch), -EPROTO); /* the raw object */
	struct mint_channel_hdr *h = mint_fabric_at(f, info.offset, sizeof(*h));
	struct mint_channel_hdr saved = *h;
	uint64_t bad_offs[] = {UINT64_MAX, UINT64_MAX - info.offset + 1, 1ull << 50, 8, 0,
			       mint_fabric_size(f)};
	for (size_t i = 0; i < sizeof(bad_offs) / sizeof(bad_offs[0]); i++) {
		*h = saved;
		h->b2a_off = bad_offs[i];
		CHECK(mint_channel_open_at(f, info.offset, MINT_SIDE_A, &ch) < 0);
		CHECK(mint_channel_open_at(f, info.offset, MINT_SIDE_B, &ch) < 0);
	}
	*h = saved;
	h->version = 99;
	CHECK_EQ(mint_channel_open_at(f, info.offset, MINT_SIDE_A, &ch), -EPROTO);
	CHECK_EQ(mint_channel_open(f, "c", 0, 1, 1024, MINT_SIDE_A, &ch), -EPROTO);
	*h = saved;
	h->magic = 0;
	CHECK_EQ(mint_channel_open_at(f, info.offset, MINT_SIDE_A, &ch), -EPROTO);
	*h = saved;
	CHECK_EQ(mint_channel_open_at(f, info.offset, MINT_SIDE_A, &ch), 0);
	/* Remove, then a fresh one under the name. */
	CHECK_EQ(mint_channel_remove(f, "c"), 0);
	CHECK_EQ(mint_channel_remove(f, "c"), -ENOENT);
	CHECK_EQ(mint_channel_open(f, "c", 0, 2, 1024, MINT_SIDE_A, &ch), 1);
	/* Tools (not nodes) at both ends: no interrupts to arm. */
	CHECK_EQ(mint_channel_open(f, "tools", MINT_NODE_NONE, MINT_NODE_NONE, 1024, MINT_SIDE_A, &ch),
		 1);
	CHECK_EQ(mint_ring_arm(&ch.rx), -EINVAL);
	CHECK_EQ(mint_ring_send(&ch.tx, "x", 1, 1), 0);
	struct mint_channel other;
	CHECK_EQ(mint_channel_open(f, "tools", MINT_NODE_NONE, MINT_NODE_NONE, 1024, MINT_SIDE_B,
				   &other),
		 0);
	char c;
	CHECK_EQ(mint_ring_recv(&other.rx, &c, 1, NULL), 1);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ==== a full directory reclaims the channels of the dead ==== */

#define LIVE_CHANNELS 10

struct filler {
	const char *prefix;
	int max;       /* channels to make at most (until the directory is full) */
	int ready[2];  /* the child says how many it made */
	int hold[2];   /* the child stays alive until this pipe closes */
};

/* A client: PREFIX.0, PREFIX.1 ... until MAX or a full directory, then
 * waits (a live owner) until released or killed. */
static void fill_channels(void *arg)
{
	struct filler *fl = arg;
	struct mint_fabric *f = t_child_attach();
	close(fl->hold[1]);
	int n = 0;
	for (; n < fl->max; n++) {
		char name[MINT_OBJ_NAME_MAX];
		struct mint_channel ch;
		snprintf(name, sizeof(name), "%s.%d", fl->prefix, n);
		if (mint_channel_open(f, name, MINT_NODE_NONE, 1, 1024, MINT_SIDE_A, &ch) != 1)
			break;
	}
	CHECK(write(fl->ready[1], &n, sizeof(n)) == sizeof(n));
	char c;
	CHECK_EQ(read(fl->hold[0], &c, 1), 0);
	mint_fabric_detach(f);
}

/* Start a filler child; how many channels it made (its pid in *PID). */
static int start_filler(struct filler *fl, const char *prefix, int max, pid_t *pid)
{
	fl->prefix = prefix;
	fl->max = max;
	int n = -1;
	if (pipe(fl->ready) != 0 || pipe(fl->hold) != 0)
		return -1;
	*pid = t_spawn(fill_channels, fl);
	close(fl->hold[0]);
	close(fl->ready[1]);
	CHECK(read(fl->ready[0], &n, sizeof(n)) == sizeof(n));
	close(fl->ready[0]);
	return n;
}

static bool has(struct mint_fabric *f, const char *prefix, int i)
{
	char name[MINT_OBJ_NAME_MAX];
	snprintf(name, sizeof(name), "%s.%d", prefix, i);
	return mint_obj_find(f, name, NULL) == 0;
}

/* NAME's directory entry, or NULL. */
static struct mint_obj_entry *entry_named(struct mint_fabric *f, const char *name)
{
	for (uint32_t i = 0; i < MINT_MAX_OBJECTS; i++) {
		struct mint_obj_entry *e = mint_fabric_at(f, MINT_OBJDIR_OFF + i * sizeof(*e),
							  sizeof(*e));
		if (e->state == MINT_OBJ_LIVE && strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

static void test_reclaim_dead(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE + (2u << 20));
	struct mint_fabric_hdr *hdr = mint_fabric_hdr(f);
	struct filler live, dead;
	pid_t live_pid, dead_pid;
	CHECK_EQ(start_filler(&live, "live", LIVE_CHANNELS, &live_pid), LIVE_CHANNELS);
	int ndead = start_filler(&dead, "dead", (int)MINT_MAX_OBJECTS, &dead_pid);
	CHECK_EQ(ndead, (int)MINT_MAX_OBJECTS - LIVE_CHANNELS);
	struct mint_obj_usage u;
	mint_obj_usage(f, &u);
	CHECK_EQ(u.entries, MINT_MAX_OBJECTS);
	/* One of the dead one's entries names no creator we can judge (a
	 * guest's): it stays, as do the live one's. */
	struct mint_obj_entry *unknown = entry_named(f, "dead.0");
	CHECK(unknown && unknown->creator_pid == dead_pid && unknown->creator_start != 0);
	if (unknown)
		unknown->creator_pid = 0;
	kill(dead_pid, SIGKILL);
	CHECK_EQ(t_wait_child(dead_pid), 128 + SIGKILL);
	close(dead.hold[1]);

	struct mint_channel ch;
	CHECK_EQ(mint_channel_open(f, "new", MINT_NODE_NONE, 1, 1024, MINT_SIDE_A, &ch), 1);
	CHECK_EQ(hdr->dir_reclaims, (uint32_t)ndead - 1);
	CHECK(has(f, "dead", 0));
	for (int i = 1; i < ndead; i++)
		CHECK(!has(f, "dead", i));
	for (int i = 0; i < LIVE_CHANNELS; i++)
		CHECK(has(f, "live", i));

	/* Full again, with live owners only (us, the live child): refused. */
	int mine = 0;
	for (;; mine++) {
		char name[MINT_OBJ_NAME_MAX];
		snprintf(name, sizeof(name), "mine.%d", mine);
		if (mint_channel_open(f, name, MINT_NODE_NONE, 1, 1024, MINT_SIDE_A, &ch) != 1)
			break;
	}
	CHECK_EQ(mine, ndead - 2);
	CHECK_EQ(mint_channel_open(f, "more", MINT_NODE_NONE, 1, 1024, MINT_SIDE_A, &ch), -ENFILE);
	CHECK_EQ(hdr->dir_reclaims, (uint32_t)ndead - 1);
	for (int i = 0; i < LIVE_CHANNELS; i++)
		CHECK(has(f, "live", i));
	CHECK(has(f, "mine", 0));
	/* A live pid with another start time is a dead creator whose pid was
	 * reused: reclaimed. */
	struct mint_obj_entry *reused = entry_named(f, "mine.0");
	CHECK(reused != NULL);
	if (reused)
		reused->creator_start++;
	CHECK_EQ(mint_channel_open(f, "more", MINT_NODE_NONE, 1, 1024, MINT_SIDE_A, &ch), 1);
	CHECK(!has(f, "mine", 0));
	CHECK(has(f, "mine", 1));
	CHECK_EQ(hdr->dir_reclaims, (uint32_t)ndead);

	close(live.hold[1]);
	CHECK_EQ(t_wait_child(live_pid), 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ==== an interrupt-driven consumer ==== */

#define NCH 2
#define MAXLEN 120u

struct stream_shared {
	_Atomic uint64_t received[NCH];
	_Atomic uint32_t ready;
	_Atomic uint32_t bad;
	_Atomic uint64_t handler_runs;
	_Atomic uint64_t rearm_races; /* arm said "data arrived meanwhile" */
};

struct irq_ctx {
	struct mint_fabric *f;
	struct mint_dispatcher *d;
	struct stream_shared *s;
	struct mint_channel ch[NCH];
	uint64_t expect[NCH];
	uint64_t total, target;
	uint64_t beats;
};

static void drain(struct irq_ctx *c, int i)
{
	uint8_t buf[MAXLEN];
	for (;;) {
		uint32_t type;
		int n;
		if (c->expect[i] % 5 == 0) {
			struct mint_msg m = {buf, 0, sizeof(buf), 0};
			n = mint_ring_recv_batch(&c->ch[i].rx, &m, 1);
			if (n == 1) {
				n = (int)m.len;
				type = m.type;
			} else if (n == 0) {
				n = -EAGAIN;
			}
		} else {
			n = mint_ring_recv(&c->ch[i].rx, buf, sizeof(buf), &type);
		}
		if (n == -EAGAIN)
			return;
		if (n < 0 || type != (uint32_t)i + 1 || !check_msg(buf, n, c->expect[i], MAXLEN)) {
			if (atomic_fetch_add(&c->s->bad, 1) < 3)
				fprintf(stderr, "consumer: channel %d message %llu: rc %d\n", i,
					(unsigned long long)c->expect[i], n);
			if (n < 0)
				return;
		}
		c->expect[i]++;
		c->total++;
		atomic_store(&c->s->received[i], c->expect[i]);
		if (++c->beats % 1024 == 0)
			mint_node_heartbeat(c->f);
	}
}

static void on_channel(void *arg, uint32_t vector)
{
	struct irq_ctx *c = arg;
	(void)vector;
	atomic_fetch_add(&c->s->handler_runs, 1);
	/* One vector for all of this node's channels: drain each, then arm
	 * it; data that slipped in meanwhile means drain again. */
	for (int i = 0; i < NCH; i++) {
		for (int rounds = 0;; rounds++) {
			drain(c, i);
			int armed = mint_ring_arm(&c->ch[i].rx);
			if (armed == 0)
				break;
			if (armed != 1) {
				atomic_fetch_add(&c->s->bad, 1);
				break;
			}
			atomic_fetch_add(&c->s->rearm_races, 1);
		}
	}
	if (c->total >= c->target)
		mint_dispatcher_stop(c->d); /* safe from a handler */
}

struct irq_args {
	enum mint_dispatch_mode mode;
	uint64_t n; /* per channel */
};

static void irq_consumer(void *arg)
{
	struct irq_args *a = arg;
	static struct irq_ctx c;
	memset(&c, 0, sizeof(c));
	c.f = t_child_attach();
	struct mint_node_opts o = {.name = "consumer", .mode = a->mode};
	if (mint_node_join(c.f, 1, &o) != 0)
		_exit(2);
	uint64_t off = 0;
	if (mint_obj_open(c.f, "stream-shared", MINT_OBJ_RAW, sizeof(struct stream_shared), NULL,
			  NULL, &off) < 0)
		_exit(2);
	c.s = mint_fabric_at(c.f, off, sizeof(*c.s));
	for (int i = 0; i < NCH; i++) {
		char name[16];
		snprintf(name, sizeof(name), "irq%d", i);
		if (mint_channel_open(c.f, name, 0, 1, 4096, MINT_SIDE_B, &c.ch[i]) != 0)
			_exit(2);
	}
	c.target = a->n * NCH;
	if (mint_dispatcher_create(c.f, a->mode, &c.d) != 0)
		_exit(2);
	mint_dispatcher_set_handler(c.d, MINT_VEC_CHANNEL, on_channel, &c);
	/* Whatever came before the dispatcher existed: drain and arm once. */
	on_channel(&c, MINT_VEC_CHANNEL);
	atomic_store(&c.s->ready, 1);
	if (c.total < c.target)
		mint_dispatcher_run(c.d);
	/* Tell the producer it is all here, on the way back. */
	uint64_t done = c.total;
	for (int i = 0; i < NCH; i++)
		CHECK_EQ(mint_ring_send_wait(&c.ch[i].tx, &done, 8, 99, 20000), 0);
	CHECK_EQ(c.total, c.target);
	mint_dispatcher_destroy(c.d);
	mint_node_leave(c.f);
	mint_fabric_detach(c.f);
}

static void irq_case(enum mint_dispatch_mode mode, uint64_t n)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE + 64 * 1024);
	CHECK_EQ(mint_node_join(f, 0, NULL), 0);
	uint64_t off = 0;
	CHECK(mint_obj_open(f, "stream-shared", MINT_OBJ_RAW, sizeof(struct stream_shared), NULL, NULL,
			    &off) >= 0);
	struct stream_shared *s = mint_fabric_at(f, off, sizeof(*s));
	struct mint_channel ch[NCH];
	for (int i = 0; i < NCH; i++) {
		char name[16];
		snprintf(name, sizeof(name), "irq%d", i);
		CHECK_EQ(mint_channel_open(f, name, 0, 1, 4096, MINT_SIDE_A, &ch[i]), 1);
	}
	struct irq_args a = {mode, n};
	pid_t pid = t_spawn(irq_consumer, &a);
	/* Send some before the consumer is even up. */
	uint8_t buf[MAXLEN];
	uint64_t next[NCH] = {0};
	for (int i = 0; i < NCH; i++)
		for (int k = 0; k < 10; k++) {
			uint32_t len = make_msg(buf, next[i], MAXLEN);
			CHECK_EQ(mint_ring_send(&ch[i].tx, buf, len, (uint32_t)i + 1), 0);
			next[i]++;
		}
	uint64_t pause_at = 1 + t_rnd() % 2000;
	int failed = 0;
	while ((next[0] < n || next[1] < n) && !failed) {
		int i = (int)(t_rnd() % NCH);
		if (next[i] >= n)
			i ^= 1;
		uint32_t len = make_msg(buf, next[i], MAXLEN);
		int rc = mint_ring_send_wait(&ch[i].tx, buf, len, (uint32_t)i + 1, 15000);
		if (rc != 0) {
			fprintf(stderr, "  producer: channel %d message %llu: %d (%s); consumer got %llu\n",
				i, (unsigned long long)next[i], rc, mint_strerror(rc),
				(unsigned long long)atomic_load(&s->received[i]));
			failed = 1;
			break;
		}
		next[i]++;
		/* Random pauses: the consumer goes idle and sleeps, then must be
		 * woken by an interrupt; sometimes a burst right after. */
		if (--pause_at == 0) {
			pause_at = 1 + t_rnd() % 2000;
			long us = (long)(t_rnd() % 1500);
			if (us > 1000)
				sched_yield();
			else
				t_sleep_us(us);
		}
	}
	CHECK_EQ(failed, 0);
	/* The consumer's word that all arrived. */
	for (int i = 0; i < NCH && !failed; i++) {
		uint64_t done = 0;
		uint32_t type;
		int rc = mint_ring_recv_wait(&ch[i].rx, &done, 8, &type, 30000);
		CHECK_EQ(rc, 8);
		CHECK_EQ(type, 99);
		CHECK_EQ(done, n * NCH);
	}
	int st = t_wait_child_for(pid, 30000);
	CHECK_EQ(st, 0);
	for (int i = 0; i < NCH; i++) {
		CHECK_EQ(atomic_load(&s->received[i]), n);
		CHECK_EQ(ch[i].tx.hdr->recv_records, n);
		CHECK_EQ(ch[i].tx.hdr->errors, 0);
	}
	CHECK_EQ(atomic_load(&s->bad), 0);
	uint64_t counts[MINT_VECTORS];
	CHECK_EQ(mint_irq_counts(f, 1, counts), 0);
	CHECK(counts[MINT_VEC_CHANNEL] >= 1);
	CHECK_EQ(counts[MINT_VEC_CHANNEL] + 1, atomic_load(&s->handler_runs)); /* + the first call */
	CHECK_EQ(mint_node_entry(f, 1)->spurious, 0);
	if (t_failures)
		fprintf(stderr, "  mode %d: handler runs %llu, re-arm races %llu, sleeps %llu\n", mode,
			(unsigned long long)atomic_load(&s->handler_runs),
			(unsigned long long)atomic_load(&s->rearm_races),
			(unsigned long long)mint_node_entry(f, 1)->sleeps);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_irq_consumer_sleep(void) { irq_case(MINT_MODE_SLEEP, t_scale(T_SANITIZED ? 20000 : 50000)); }
static void test_irq_consumer_adaptive(void)
{
	irq_case(MINT_MODE_ADAPTIVE, t_scale(T_SANITIZED ? 10000 : 50000));
}
static void test_irq_consumer_poll(void) { irq_case(MINT_MODE_POLL, t_scale(T_SANITIZED ? 5000 : 20000)); }

int main(void)
{
	t_start("test_channel", T_SANITIZED ? 250 : 120);
	t_child_timeout = T_SANITIZED ? 150 : 80;
	RUN(test_open_errors);
	RUN(test_request_response);
	RUN(test_reclaim_dead);
	RUN(test_irq_consumer_sleep);
	RUN(test_irq_consumer_adaptive);
	RUN(test_irq_consumer_poll);
	return t_done();
}
