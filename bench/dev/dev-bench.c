/* SPDX-License-Identifier: MIT */
/*
 * mint-dev-bench: the device table's costs, against an anchor measured in
 * the same run.
 *
 *   routing   mint_dev_raise (table lookup, counts, doorbell unless one is
 *             still unconsumed) against mint_ipi_send to the same node
 *             and vector (the direct doorbell), node 1 dispatching in
 *             poll mode on core 1, the raiser on core 0: ns per interrupt
 *             and their ratio; then the same with node 1's dispatcher run
 *             in the raiser's thread after every raise (every raise rings)
 *   hand-over mint_dev_move between two dispatching nodes: the call's
 *             duration, an upper bound of the masked window (mask to
 *             unmask), p50 and p99, idle and while a thread raises the
 *             device as fast as it can; then raised == handled
 *
 * Rounds of the two routing loops alternate, medians are reported, so
 * that drift on a shared machine hits both alike.  Every loop is bounded.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mint/mint.h"

#include "verdict/verdict.h"

#define VEC 40u
#define DIRECT_VEC 41u
#define ROUNDS 7
#define RAISES 1000000u
#define MOVES 1000u

static char fab_name[64];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "mint-dev-bench: %s: %s\n", what, mint_strerror(rc));
	mint_fabric_destroy(fab_name);
	exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The Pth percentile of N sorted values. */
static uint64_t pct(const uint64_t *v, unsigned n, unsigned p) { return v[(n - 1) * p / 100]; }

static struct mint_fabric *node(uint32_t id)
{
	struct mint_fabric *g;
	int rc = mint_fabric_attach(fab_name, &g);
	if (rc == 0)
		rc = mint_node_join(g, id, NULL);
	if (rc)
		die("join a node", rc);
	return g;
}

/* ---- routing: raise through the table against a direct doorbell ---- */

/* Node 1's side of the routing loops: a dispatcher whose handler for the
 * device's vector consumes the device (all_consumed checks the count) and
 * whose handler for the direct vector has nothing to take.  Neither writes
 * memory the raiser reads, which would be a cost of the bench. */
struct target {
	struct mint_fabric *f;
	struct mint_dispatcher *d;
	int dev;
};

static void on_routed(void *arg, uint32_t vector)
{
	const struct target *t = arg;
	uint64_t first;
	(void)vector;
	mint_dev_consume(t->f, (uint32_t)t->dev, &first);
}

static void on_direct(void *arg, uint32_t vector)
{
	(void)arg;
	(void)vector;
}

/* ns per interrupt: RAISES raises (DIRECT: doorbells); with SYNC, node 1's
 * dispatcher runs in this thread after every one of them, so every raise
 * finds the vector taken and rings. */
static double per_op(struct mint_fabric *f, struct target *t, bool direct, bool sync)
{
	const uint32_t dev = (uint32_t)t->dev;
	struct mint_dispatcher *d = t->d;
	uint64_t t0 = now_ns();
	for (unsigned i = 0; i < RAISES; i++) {
		if (direct)
			mint_ipi_send(f, 1, DIRECT_VEC);
		else
			mint_dev_raise(f, dev);
		if (sync)
			mint_dispatcher_poll(d);
	}
	return (double)(now_ns() - t0) / RAISES;
}

/* The table against direct doorbells, ROUNDS rounds alternating; with
 * SYNC for information only (no target). */
static void routing_rounds(struct mint_fabric *f, struct target *t, bool sync, const char *label)
{
	struct vrow row;
	vrow_init(&row, sync ? "dev-routing (every raise rings)" : "dev-routing", "ns",
		  sync ? "-" : "<=", 1.1);
	per_op(f, t, true, sync); /* warm-up */
	per_op(f, t, false, sync);
	for (int r = 0; r < ROUNDS; r++) {
		double d = per_op(f, t, true, sync);
		vrow_round(&row, d, per_op(f, t, false, sync));
	}
	double d, tb, q, lo, hi;
	int met;
	vrow_medians(&row, &d, &tb);
	vrow_ratios(&row, &q, &lo, &hi);
	enum verdict v = vrow_verdict(&row, &met);
	printf("routing    %-22s mint_dev_raise %.1f ns, direct mint_ipi_send %.1f ns (anchor): "
	       "ratio %.2fx (rounds %.2f-%.2fx)", label, tb, d, q, lo, hi);
	if (v == VERDICT_NONE)
		printf(" (for information)\n");
	else
		printf(" target <= 1.1x: %s (%d/%d)\n", verdict_name(v), met, row.n);
	vrow_record(&row);
}

/* Coalesced raises are delivered too: the consumer ends with every one. */
static void all_consumed(struct mint_fabric *f, int dev)
{
	struct mint_dev_info d;
	uint64_t end = now_ns() + 2000000000ull;
	while (mint_dev_info(f, (uint32_t)dev, &d) == 0 && d.pending && now_ns() < end)
		usleep(1000);
	printf("routing    %llu raised through the table, %llu consumed%s\n",
	       (unsigned long long)d.raised, (unsigned long long)d.handled,
	       d.pending ? "  MISMATCH" : "");
}

static void *dispatch(void *arg)
{
	mint_dispatcher_run(arg);
	return NULL;
}

/* As nodes own their cores: the raiser (node 0's side) on core 0, node
 * 1's dispatcher thread TH on core 1.  False, nothing changed, when there
 * are not two cores to have; else *ALL is the mask to go back to. */
static bool pin_apart(pthread_t th, cpu_set_t *all)
{
	cpu_set_t one;
	if (sched_getaffinity(0, sizeof(*all), all) || !CPU_ISSET(0, all) || !CPU_ISSET(1, all))
		return false;
	CPU_ZERO(&one);
	CPU_SET(1, &one);
	if (pthread_setaffinity_np(th, sizeof(one), &one))
		return false;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	return pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0;
}

/* Two ways: node 1 dispatching in poll mode on its own thread (the
 * target: a raise may find the vector still pending and coalesce), and
 * raise-then-dispatch in one thread (every raise rings its doorbell). */
static void routing(struct mint_fabric *f, struct mint_fabric *n1, int dev)
{
	struct target t = {.f = n1, .dev = dev};
	int rc = mint_dispatcher_create(n1, MINT_MODE_POLL, &t.d);
	if (rc)
		die("dispatcher", rc);
	mint_dispatcher_set_handler(t.d, VEC, on_routed, &t);
	mint_dispatcher_set_handler(t.d, DIRECT_VEC, on_direct, &t);
	pthread_t th;
	pthread_create(&th, NULL, dispatch, t.d);
	cpu_set_t all;
	bool pinned = pin_apart(th, &all);
	routing_rounds(f, &t, false, pinned ? "live consumer, core 1" : "live poll consumer");
	if (pinned)
		pthread_setaffinity_np(pthread_self(), sizeof(all), &all);
	all_consumed(f, dev);
	mint_dispatcher_stop(t.d);
	pthread_join(th, NULL);
	/* the same dispatcher and handlers, now run by this thread */
	mint_dispatcher_poll(t.d);
	routing_rounds(f, &t, true, "every raise rings");
	mint_dispatcher_destroy(t.d);
}

/* ---- hand-over under a live raiser ---- */

struct side {
	struct mint_fabric *f;
	struct mint_dispatcher *d;
	pthread_t thread;
	int dev;
	_Atomic uint64_t *handled;
};

static void on_irq(void *arg, uint32_t vector)
{
	struct side *s = arg;
	uint64_t first;
	(void)vector;
	int n = mint_dev_consume(s->f, (uint32_t)s->dev, &first);
	if (n > 0)
		atomic_fetch_add(s->handled, (uint64_t)n);
}

struct raiser {
	struct mint_fabric *f;
	int dev;
	atomic_bool stop;
	uint64_t raised;
};

static void *raise_loop(void *arg)
{
	struct raiser *r = arg;
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed) && r->raised < 1000000000ull)
		r->raised += mint_dev_raise(r->f, (uint32_t)r->dev) >= 0;
	return NULL;
}

static void moves(struct mint_fabric *f, struct side *s, int dev, const char *label)
{
	static uint64_t t[MOVES];
	for (unsigned i = 0; i < MOVES; i++) {
		mint_node_heartbeat(s[0].f);
		mint_node_heartbeat(s[1].f);
		uint64_t t0 = now_ns();
		int rc = mint_dev_move(f, (uint32_t)dev, i % 2 ? 1 : 2);
		t[i] = now_ns() - t0;
		if (rc)
			die("mint_dev_move", rc);
	}
	qsort(t, MOVES, sizeof(t[0]), cmp_u64);
	printf("hand-over  %-14s %u moves: p50 %.1f us, p99 %.1f us, max %.1f us\n", label, MOVES,
	       pct(t, MOVES, 50) / 1e3, pct(t, MOVES, 99) / 1e3, t[MOVES - 1] / 1e3);
}

static void hand_over(struct mint_fabric *f, struct mint_fabric *n1, struct mint_fabric *n2)
{
	_Atomic uint64_t handled = 0;
	int dev = mint_dev_register(f, MINT_DEV_HOSTIF, "bench.moved", 1, VEC);
	if (dev < 0)
		die("register", dev);
	struct side s[2] = {{.f = n1, .dev = dev, .handled = &handled},
			    {.f = n2, .dev = dev, .handled = &handled}};
	for (int i = 0; i < 2; i++) {
		int rc = mint_dispatcher_create(s[i].f, MINT_MODE_ADAPTIVE, &s[i].d);
		if (rc)
			die("dispatcher", rc);
		mint_dispatcher_set_handler(s[i].d, VEC, on_irq, &s[i]);
		pthread_create(&s[i].thread, NULL, dispatch, s[i].d);
	}
	moves(f, s, dev, "idle");
	struct raiser r = {.f = f, .dev = dev};
	atomic_init(&r.stop, false);
	pthread_t rt;
	pthread_create(&rt, NULL, raise_loop, &r);
	moves(f, s, dev, "under raises");
	atomic_store(&r.stop, true);
	pthread_join(rt, NULL);
	uint64_t end = now_ns() + 5000000000ull;
	while (atomic_load(&handled) < r.raised && now_ns() < end)
		usleep(1000);
	printf("correctness %llu raised during the moves, %llu handled%s\n",
	       (unsigned long long)r.raised, (unsigned long long)atomic_load(&handled),
	       atomic_load(&handled) == r.raised ? "" : "  MISMATCH");
	for (int i = 0; i < 2; i++) {
		mint_dispatcher_stop(s[i].d);
		pthread_join(s[i].thread, NULL);
		mint_dispatcher_destroy(s[i].d);
	}
}

int main(void)
{
	snprintf(fab_name, sizeof(fab_name), "devbench-%d", (int)getpid());
	struct mint_fabric *f;
	int rc = mint_fabric_create(fab_name, MINT_FABRIC_MIN_SIZE, &f);
	if (rc)
		die("create the fabric", rc);
	struct mint_fabric *n1 = node(1), *n2 = node(2);
	int dev = mint_dev_register(f, MINT_DEV_HOSTIF, "bench.routed", 1, VEC);
	if (dev < 0)
		die("register", dev);
	printf("mint-dev-bench: the device table (the interrupt layer)\n");
	routing(f, n1, dev);
	hand_over(f, n1, n2);
	mint_fabric_detach(n1);
	mint_fabric_detach(n2);
	mint_fabric_detach(f);
	mint_fabric_destroy(fab_name);
	return 0;
}
