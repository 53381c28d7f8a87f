/* SPDX-License-Identifier: MIT */
/*
 * Doorbells and dispatchers: a node in another process dispatching in
 * poll, sleep and adaptive mode while this one raises vectors; coalescing
 * bounds; a final marker proves nothing raised before it was lost; wake-ups
 * only for a sleeping target (and never for a polling one); irq counts;
 * stop from another thread; a sleep hook (the idle hook then runs in sleep
 * mode, each doorbell wakes it, and one that cannot wait falls back); -ERANGE; pending vectors kept for a dead or
 * absent node and delivered when the id rejoins; node join errors,
 * liveness of a node killed -9, rejoin with epoch + 1.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>

#define T_RNG_SEED 0x13198a2e03707344ull
#include "testlib.h"

/* What the test's processes share, in a fabric object. */
struct shared {
	_Atomic uint64_t calls[MINT_VECTORS]; /* handler invocations, per vector */
	_Atomic uint32_t ready;
	_Atomic uint32_t marker_seen;
	_Atomic uint32_t stopped_by_thread;
	_Atomic uint32_t go;
	_Atomic uint32_t result;
	_Atomic uint64_t wrong_vector;
};

static struct shared *shared_of(struct mint_fabric *f)
{
	struct shared *s = t_shared_object(f, "doorbell-test", sizeof(struct shared));
	if (!s)
		exit(1);
	return s;
}

static bool wait_flag(_Atomic uint32_t *flag, uint32_t want, int ms)
{
	uint64_t end = t_now_ns() + (uint64_t)ms * 1000000ull;
	while (atomic_load(flag) < want && t_now_ns() < end)
		t_sleep_us(500);
	return atomic_load(flag) >= want;
}

/* ==== a dispatcher in another process ==== */

#define MARKER 2u /* word 0, bit 2: a pass that takes it takes all words after */
static const uint32_t vecs[] = {32, 33, 63, 64, 100, 127, 128, 200, 254, 255};
#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

struct disp_ctx {
	struct shared *s;
	struct mint_dispatcher *d;
};

static void count_handler(void *arg, uint32_t vector)
{
	struct disp_ctx *c = arg;
	atomic_fetch_add(&c->s->calls[vector], 1);
}

static void marker_handler(void *arg, uint32_t vector)
{
	struct disp_ctx *c = arg;
	if (vector != MARKER)
		atomic_fetch_add(&c->s->wrong_vector, 1);
	atomic_fetch_add(&c->s->calls[vector], 1);
	atomic_store(&c->s->marker_seen, 1);
}

static void *stopper(void *arg)
{
	struct disp_ctx *c = arg;
	uint64_t end = t_now_ns() + 50000000000ull;
	while (!atomic_load(&c->s->marker_seen) && t_now_ns() < end)
		t_sleep_us(200);
	atomic_store(&c->s->stopped_by_thread, 1);
	mint_dispatcher_stop(c->d); /* from a thread that is not the dispatcher */
	return NULL;
}

static void dispatcher_child(void *arg)
{
	enum mint_dispatch_mode mode = *(enum mint_dispatch_mode *)arg;
	struct mint_fabric *f = t_child_attach();
	struct mint_node_opts o = {.name = "disp", .mode = mode};
	if (t_join(f, 1, &o) != 0)
		_exit(2);
	struct disp_ctx c = {shared_of(f), NULL};
	CHECK_EQ(mint_dispatcher_create(f, mode, &c.d), 0);
	if (!c.d)
		_exit(2);
	for (size_t i = 0; i < NVECS; i++)
		CHECK_EQ(mint_dispatcher_set_handler(c.d, vecs[i], count_handler, &c), 0);
	CHECK_EQ(mint_dispatcher_set_handler(c.d, MARKER, marker_handler, &c), 0);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, stopper, &c) == 0);
	atomic_store(&c.s->ready, 1);
	CHECK_EQ(mint_dispatcher_run(c.d), 0);
	pthread_join(th, NULL);
	CHECK(atomic_load(&c.s->stopped_by_thread));
	mint_dispatcher_destroy(c.d);
	mint_fabric_detach(f);
}

static bool pending_empty(struct mint_node_entry *e)
{
	for (int w = 0; w < 4; w++)
		if (atomic_load(&e->pending[w]))
			return false;
	return true;
}

static void dispatch_mode_case(enum mint_dispatch_mode mode)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	CHECK_EQ(t_join(f, 0, NULL), 0);
	pid_t pid = t_spawn(dispatcher_child, &mode);
	CHECK(wait_flag(&s->ready, 1, 20000));
	struct mint_node_entry *me = mint_node_entry(f, 0), *tgt = mint_node_entry(f, 1);
	CHECK_EQ(tgt->mode, mode);

	uint64_t sent[MINT_VECTORS] = {0}, woke = 0, total = 0, sync_sends = 0, sync_woke = 0;
	int n = (int)t_scale(T_SANITIZED ? 10000 : 40000);
	for (int i = 0; i < n; i++) {
		uint32_t v = vecs[t_rnd() % NVECS];
		bool sync = i % 2000 == 1999;
		if (sync) {
			/* Let the target go idle: in poll mode it never announces
			 * sleep; otherwise wait until it sleeps, when the send must
			 * wake it. */
			uint64_t end = t_now_ns() + 10000000000ull;
			bool asleep = false;
			while (t_now_ns() < end) {
				bool idle = pending_empty(tgt);
				asleep = idle && atomic_load(&tgt->bell.sleeping) == MINT_BELL_FUTEX;
				if (mode == MINT_MODE_POLL ? idle : asleep)
					break;
				t_sleep_us(200);
			}
			if (mode != MINT_MODE_POLL)
				CHECK(asleep);
			else
				t_sleep_us(2000);
		} else if (t_rnd() % 500 == 0) {
			t_sleep_us((long)(t_rnd() % 300));
		}
		int rc = mint_ipi_send(f, 1, v);
		CHECK(rc == 0 || rc == 1);
		if (mode == MINT_MODE_POLL)
			CHECK_EQ(rc, 0); /* a polling target never needs a wake-up */
		if (sync) {
			sync_sends++;
			sync_woke += rc == 1;
		}
		sent[v]++;
		woke += rc == 1;
		total++;
	}
	/* The marker: when its pass is done, everything raised before was handled. */
	int rc = mint_ipi_send(f, 1, MARKER);
	CHECK(rc == 0 || rc == 1);
	woke += rc == 1;
	total++;
	sent[MARKER]++;
	CHECK_EQ(t_wait_child_for(pid, 30000), 0);

	uint64_t counts[MINT_VECTORS];
	CHECK_EQ(mint_irq_counts(f, 1, counts), 0);
	int lost = 0, over = 0, mismatch = 0, stray = 0;
	for (uint32_t v = 0; v < MINT_VECTORS; v++) {
		if (sent[v]) {
			lost += counts[v] < 1;
			over += counts[v] > sent[v];
			mismatch += atomic_load(&s->calls[v]) != counts[v];
		} else if (v != MINT_VEC_KICK) {
			stray += counts[v] != 0;
		}
	}
	CHECK_EQ(lost, 0);
	CHECK_EQ(over, 0);
	CHECK_EQ(mismatch, 0);
	CHECK_EQ(stray, 0);
	CHECK_EQ(counts[MARKER], 1);
	CHECK_EQ(atomic_load(&s->wrong_vector), 0);
	/* Sender counters (this node) and dispatcher counters (node 1). */
	CHECK_EQ(me->ipi_sent, total);
	CHECK_EQ(me->wakes_sent + me->wakes_suppressed, total);
	CHECK_EQ(me->wakes_sent, woke);
	CHECK_EQ(tgt->spurious, 0);
	CHECK(tgt->dispatch_passes >= 1);
	CHECK(tgt->ipi_sent >= 1); /* the stopper's kick */
	/* A wake-up needs a sleep to end: never more wakes than sleeps. */
	CHECK(me->wakes_sent <= tgt->sleeps);
	if (mode == MINT_MODE_POLL) {
		CHECK_EQ(woke, 0);
		CHECK_EQ(tgt->sleeps, 0);
	} else {
		CHECK_EQ(sync_woke, sync_sends); /* asleep: each of those woke it */
		CHECK(tgt->sleeps >= sync_sends);
		/* Most sends found it awake: wake-ups are not per send. */
		CHECK(me->wakes_suppressed > 0);
	}
	if (t_failures)
		fprintf(stderr,
			"  mode %d: sent %llu woke %llu (sync %llu/%llu) suppressed %llu sleeps %llu passes %llu\n",
			mode, (unsigned long long)total, (unsigned long long)woke,
			(unsigned long long)sync_woke, (unsigned long long)sync_sends,
			(unsigned long long)me->wakes_suppressed, (unsigned long long)tgt->sleeps,
			(unsigned long long)tgt->dispatch_passes);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_dispatch_poll(void) { dispatch_mode_case(MINT_MODE_POLL); }
static void test_dispatch_sleep(void) { dispatch_mode_case(MINT_MODE_SLEEP); }
static void test_dispatch_adaptive(void) { dispatch_mode_case(MINT_MODE_ADAPTIVE); }

/* ==== in one process: a dispatcher thread, stop from the main thread ==== */

struct thread_disp {
	struct mint_dispatcher *d;
	_Atomic uint64_t calls[MINT_VECTORS];
	_Atomic uint64_t idle_calls;
	_Atomic uint64_t sleeps; /* calls of thread_sleep */
	int sleep_rc;            /* ... which returns this (0: it waited) */
	_Atomic int running;
	int rc;
};

/* An idle hook that says it found work every other call. */
static int thread_idle(void *arg)
{
	struct thread_disp *t = arg;
	return (int)(atomic_fetch_add(&t->idle_calls, 1) & 1);
}

/* A sleep hook that waits as the dispatcher itself would (FUTEX_WAIT),
 * or fails without waiting (then the dispatcher waits itself). */
static int thread_sleep(void *arg, const void *word, uint32_t expected, int64_t timeout_ns)
{
	struct thread_disp *t = arg;
	atomic_fetch_add(&t->sleeps, 1);
	if (t->sleep_rc)
		return t->sleep_rc;
	struct timespec ts = {(time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000)};
	syscall(SYS_futex, word, FUTEX_WAIT, expected, &ts, NULL, 0);
	return 0;
}

static void thread_handler(void *arg, uint32_t vector)
{
	struct thread_disp *t = arg;
	atomic_fetch_add(&t->calls[vector], 1);
}

static void *run_thread(void *arg)
{
	struct thread_disp *t = arg;
	atomic_store(&t->running, 1);
	t->rc = mint_dispatcher_run(t->d);
	atomic_store(&t->running, 2);
	return NULL;
}

/* A fabric with node 0 joined through the attachment returned and node
 * 2 through *G, a second one (as another process would hold): *G is NULL
 * if it could not be made. */
static struct mint_fabric *nodes_0_and_2(struct mint_fabric **g)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	*g = t_attach();
	if (*g) {
		CHECK_EQ(t_join(f, 0, NULL), 0);
		CHECK_EQ(t_join(*g, 2, NULL), 0);
	}
	return f;
}

static void test_dispatch_thread(void)
{
	struct mint_fabric *g, *f = nodes_0_and_2(&g);
	if (!g)
		return;
	enum mint_dispatch_mode modes[] = {MINT_MODE_SLEEP, MINT_MODE_ADAPTIVE, MINT_MODE_POLL};
	for (int m = 0; m < 3; m++) {
		static struct thread_disp t;
		memset(&t, 0, sizeof(t));
		CHECK_EQ(mint_dispatcher_create(g, modes[m], &t.d), 0);
		if (!t.d)
			break;
		if (modes[m] == MINT_MODE_ADAPTIVE)
			mint_dispatcher_set_spin(t.d, 20000);
		for (uint32_t v = 32; v < 40; v++)
			CHECK_EQ(mint_dispatcher_set_handler(t.d, v, thread_handler, &t), 0);
		mint_dispatcher_set_idle(t.d, thread_idle, &t);
		uint64_t base[MINT_VECTORS];
		mint_irq_counts(f, 2, base);
		pthread_t th;
		CHECK(pthread_create(&th, NULL, run_thread, &t) == 0);
		for (int i = 0; i < 5000; i++) {
			CHECK(mint_ipi_send(f, 2, 32 + (uint32_t)(i % 8)) >= 0);
			if (i % 1000 == 999)
				t_sleep_us(1000);
		}
		/* Everything handled at least once: poll the counts, bounded. */
		uint64_t end = t_now_ns() + 10000000000ull;
		bool all = false;
		while (!all && t_now_ns() < end) {
			all = true;
			for (uint32_t v = 32; v < 40; v++)
				all &= atomic_load(&t.calls[v]) >= 1;
			if (!all)
				t_sleep_us(500);
		}
		CHECK(all);
		mint_dispatcher_stop(t.d); /* from another thread */
		end = t_now_ns() + 10000000000ull;
		while (atomic_load(&t.running) != 2 && t_now_ns() < end)
			t_sleep_us(500);
		CHECK_EQ(atomic_load(&t.running), 2);
		pthread_join(th, NULL);
		CHECK_EQ(t.rc, 0);
		uint64_t counts[MINT_VECTORS];
		CHECK_EQ(mint_irq_counts(f, 2, counts), 0);
		for (uint32_t v = 32; v < 40; v++) {
			CHECK_EQ(counts[v] - base[v], atomic_load(&t.calls[v]));
			CHECK(counts[v] - base[v] <= 625);
		}
		/* The idle hook runs in poll mode only, and vectors are
		 * handled (above) while it reports work. */
		if (modes[m] == MINT_MODE_POLL)
			CHECK(atomic_load(&t.idle_calls) > 0);
		else
			CHECK_EQ(atomic_load(&t.idle_calls), 0);
		mint_dispatcher_destroy(t.d);
	}
	/* Poll by hand: handled counts and the return value. */
	struct mint_dispatcher *d = NULL;
	CHECK_EQ(mint_dispatcher_create(g, MINT_MODE_POLL, &d), 0);
	if (d) {
		while (mint_dispatcher_poll(d) > 0)
			;
		CHECK_EQ(mint_dispatcher_poll(d), 0);
		mint_ipi_send(f, 2, 50);
		mint_ipi_send(f, 2, 50);
		mint_ipi_send(f, 2, 51);
		mint_ipi_send(f, 2, 0);
		uint64_t spur = mint_node_entry(f, 2)->spurious;
		CHECK_EQ(mint_dispatcher_poll(d), 3); /* 50 coalesced */
		CHECK_EQ(mint_node_entry(f, 2)->spurious, spur + 2); /* 50, 51: no handler; kick is not */
		CHECK_EQ(mint_dispatcher_poll(d), 0);
		mint_dispatcher_destroy(d);
	}
	mint_fabric_detach(g);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ==== a sleep hook: the idle hook runs in sleep mode, doorbells wake ==== */

/* Until T's dispatcher went to sleep more than N times (10 s at most). */
static bool slept_more(struct thread_disp *t, uint64_t n)
{
	uint64_t end = t_now_ns() + 10000000000ull;
	while (atomic_load(&t->sleeps) <= n && t_now_ns() < end)
		t_sleep_us(100);
	return atomic_load(&t->sleeps) > n;
}

static void test_sleep_hook(void)
{
	struct mint_fabric *g, *f = nodes_0_and_2(&g);
	if (!g)
		return;
	int rcs[] = {0, -ENOSYS}; /* the hook waits; it cannot */
	for (int c = 0; c < 2; c++) {
		static struct thread_disp t;
		memset(&t, 0, sizeof(t));
		t.sleep_rc = rcs[c];
		CHECK_EQ(mint_dispatcher_create(g, MINT_MODE_SLEEP, &t.d), 0);
		if (!t.d)
			break;
		mint_dispatcher_set_handler(t.d, 40, thread_handler, &t);
		mint_dispatcher_set_idle(t.d, thread_idle, &t);
		mint_dispatcher_set_sleep(t.d, thread_sleep, &t);
		pthread_t th;
		CHECK(pthread_create(&th, NULL, run_thread, &t) == 0);
		/* Each doorbell rings for a dispatcher asleep in the hook (or
		 * after it, waiting itself): each must wake it. */
		for (uint64_t i = 0; i < 20; i++) {
			CHECK(slept_more(&t, i));
			t_sleep_us(1000);
			CHECK(mint_ipi_send(f, 2, 40) >= 0);
			uint64_t end = t_now_ns() + 10000000000ull;
			while (atomic_load(&t.calls[40]) <= i && t_now_ns() < end)
				t_sleep_us(100);
			CHECK_EQ(atomic_load(&t.calls[40]), i + 1);
		}
		CHECK(atomic_load(&t.idle_calls) >= 20); /* in sleep mode too */
		mint_dispatcher_stop(t.d);
		pthread_join(th, NULL);
		CHECK_EQ(t.rc, 0);
		mint_dispatcher_destroy(t.d);
	}
	mint_fabric_detach(g);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ==== poll mode: a stream of vectors does not starve the idle hook ==== */

struct stream {
	struct mint_fabric *f;
	struct mint_dispatcher *d;
	unsigned raised, idle;
};

/* Raise our own vector again at once, so that one is always pending;
 * the bound ends the run should the idle hook never get a turn. */
static void stream_handler(void *arg, uint32_t vector)
{
	struct stream *s = arg;
	if (++s->raised < 100000)
		mint_ipi_send(s->f, mint_fabric_self(s->f), vector);
	else
		mint_dispatcher_stop(s->d);
}

static int stream_idle(void *arg)
{
	struct stream *s = arg;
	if (++s->idle == 100)
		mint_dispatcher_stop(s->d);
	return 1;
}

static void test_idle_not_starved(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	CHECK_EQ(t_join(f, 3, NULL), 0);
	struct stream s = {f, NULL, 0, 0};
	CHECK_EQ(mint_dispatcher_create(f, MINT_MODE_POLL, &s.d), 0);
	if (!s.d)
		return;
	mint_dispatcher_set_handler(s.d, 40, stream_handler, &s);
	mint_dispatcher_set_idle(s.d, stream_idle, &s);
	mint_ipi_send(f, 3, 40);
	CHECK_EQ(mint_dispatcher_run(s.d), 0);
	CHECK_EQ(s.idle, 100);     /* the hook ran at every turn ... */
	CHECK(s.raised >= 99);     /* ... while the vector kept coming */
	CHECK(s.raised < 100000);
	mint_dispatcher_destroy(s.d);
	mint_node_leave(f);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ==== errors ==== */

static void test_errors(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	uint64_t counts[MINT_VECTORS];
	CHECK_EQ(mint_ipi_send(f, MINT_MAX_NODES, 32), -ERANGE);
	CHECK_EQ(mint_ipi_send(f, MINT_NODE_NONE, 32), -ERANGE);
	CHECK_EQ(mint_ipi_send(f, 0, MINT_VECTORS), -ERANGE);
	CHECK_EQ(mint_ipi_send(f, 0, 0xffffffffu), -ERANGE);
	CHECK_EQ(mint_irq_counts(f, MINT_MAX_NODES, counts), -ERANGE);
	CHECK_EQ(mint_irq_counts(f, 0, counts), 0);
	struct mint_dispatcher *d = NULL;
	CHECK_EQ(mint_dispatcher_create(f, MINT_MODE_POLL, &d), -ENOTCONN);
	/* Sends by a tool (not a node) are counted in the header. */
	uint64_t ext = mint_fabric_hdr(f)->external_ipis;
	CHECK_EQ(mint_ipi_send(f, 3, 40), 0);
	CHECK_EQ(mint_fabric_hdr(f)->external_ipis, ext + 1);
	CHECK_EQ(t_join(f, 1, NULL), 0);
	CHECK_EQ(mint_dispatcher_create(f, (enum mint_dispatch_mode)7, &d), -EINVAL);
	CHECK_EQ(mint_dispatcher_create(f, MINT_MODE_SLEEP, &d), 0);
	if (d) {
		CHECK_EQ(mint_dispatcher_set_handler(d, MINT_VECTORS, NULL, NULL), -ERANGE);
		CHECK_EQ(mint_dispatcher_set_handler(d, MINT_VECTORS - 1, NULL, NULL), 0);
		mint_dispatcher_destroy(d);
	}
	CHECK_EQ(mint_ipi_send(f, 3, 41), 0);
	CHECK_EQ(mint_fabric_hdr(f)->external_ipis, ext + 1);
	CHECK_EQ(mint_node_entry(f, 1)->ipi_sent, 1);
	CHECK_EQ(mint_node_leave(f), 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ==== pending vectors survive the node's absence ==== */

struct late_args {
	uint32_t node;
	uint32_t expect[4];
	int nexpect;
	bool then_wait; /* stay joined until killed */
};

static void late_joiner(void *arg)
{
	struct late_args *a = arg;
	struct mint_fabric *f = t_child_attach();
	struct shared *s = shared_of(f);
	if (t_join(f, a->node, NULL) != 0)
		_exit(2);
	if (a->then_wait) {
		atomic_store(&s->ready, 1);
		for (int i = 0; i < 60000; i++)
			t_sleep_us(1000);
		_exit(0);
	}
	struct mint_dispatcher *d = NULL;
	if (mint_dispatcher_create(f, MINT_MODE_POLL, &d) != 0)
		_exit(2);
	struct disp_ctx c = {s, d};
	for (int i = 0; i < a->nexpect; i++)
		mint_dispatcher_set_handler(d, a->expect[i], count_handler, &c);
	int n = mint_dispatcher_poll(d);
	CHECK_EQ(n, a->nexpect);
	for (int i = 0; i < a->nexpect; i++)
		CHECK_EQ(atomic_load(&s->calls[a->expect[i]]), 1);
	CHECK_EQ(mint_dispatcher_poll(d), 0);
	mint_dispatcher_destroy(d);
	mint_node_leave(f);
	mint_fabric_detach(f);
}

static void test_pending_kept(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	/* Node 5 never joined: the vectors wait for it. */
	CHECK_EQ(mint_ipi_send(f, 5, 40), 0);
	CHECK_EQ(mint_ipi_send(f, 5, 41), 0);
	CHECK_EQ(mint_ipi_send(f, 5, 41), 0);
	CHECK_EQ(mint_ipi_send(f, 5, 200), 0);
	struct late_args a = {5, {40, 41, 200}, 3, false};
	CHECK_EQ(t_wait_child_for(t_spawn(late_joiner, &a), 20000), 0);
	uint64_t counts[MINT_VECTORS];
	CHECK_EQ(mint_irq_counts(f, 5, counts), 0);
	CHECK_EQ(counts[40], 1);
	CHECK_EQ(counts[41], 1);
	CHECK_EQ(counts[200], 1);

	/* Node 6 dies with SIGKILL; vectors raised on it after its death are
	 * delivered to the node that takes its id over. */
	memset((void *)s->calls, 0, sizeof(s->calls));
	atomic_store(&s->ready, 0);
	struct late_args b = {6, {0}, 0, true};
	pid_t pid = t_spawn(late_joiner, &b);
	CHECK(wait_flag(&s->ready, 1, 20000));
	uint32_t epoch = mint_node_entry(f, 6)->epoch;
	kill(pid, SIGKILL);
	CHECK_EQ(t_wait_child(pid), 128 + SIGKILL);
	CHECK(!mint_node_alive(f, 6));
	CHECK_EQ(mint_node_entry(f, 6)->state, MINT_NODE_UP); /* as stored: nobody cleaned up */
	CHECK_EQ(mint_ipi_send(f, 6, 77), 0);
	CHECK_EQ(mint_ipi_send(f, 6, 99), 0);
	struct late_args c = {6, {77, 99}, 2, false};
	CHECK_EQ(t_wait_child_for(t_spawn(late_joiner, &c), 20000), 0);
	CHECK_EQ(mint_node_entry(f, 6)->epoch, epoch + 1);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* A peer's write into a process node's guest vector mask routes raises
 * to a guest kernel that is not there: the owner's heartbeat clears it
 * and the raises it held are dispatched after all. */
static void test_kvec_forged(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct mint_fabric *g = t_attach();
	if (!g)
		return;
	CHECK_EQ(t_join(f, 0, NULL), 0);
	struct mint_dispatcher *d;
	CHECK_EQ(mint_dispatcher_create(f, MINT_MODE_POLL, &d), 0);
	struct mint_node_entry *me = mint_node_entry(f, 0);
	me->kvec_mask = ~0ull;
	CHECK(mint_ipi_send(g, 0, 10) >= 0);
	CHECK_EQ(mint_dispatcher_poll(d), 0); /* gone astray */
	CHECK_EQ(mint_node_heartbeat(f), MINT_HEALED_DOORBELL);
	CHECK_EQ(me->kvec_mask, 0);
	CHECK_EQ(me->kpending, 0);
	CHECK_EQ(mint_dispatcher_poll(d), 1);
	uint64_t counts[MINT_VECTORS];
	CHECK_EQ(mint_irq_counts(f, 0, counts), 0);
	CHECK_EQ(counts[10], 1);
	CHECK_EQ(mint_node_heartbeat(f), 0);
	/* A raise that read the bad mask before it was cleared lands in
	 * kpending later: the next heartbeat hands it over too. */
	me->kpending = 1ull << 12;
	CHECK_EQ(mint_node_heartbeat(f), MINT_HEALED_DOORBELL);
	CHECK_EQ(mint_dispatcher_poll(d), 1);
	CHECK_EQ(mint_irq_counts(f, 0, counts), 0);
	CHECK_EQ(counts[12], 1);
	mint_dispatcher_destroy(d);
	CHECK_EQ(mint_node_leave(f), 0);
	mint_fabric_detach(g);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ==== joining, liveness ==== */

static void test_node_join(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	struct mint_fabric *g = t_attach();
	if (!g)
		return;
	struct mint_fabric_hdr *h = mint_fabric_hdr(f);
	CHECK_EQ(mint_node_join(f, MINT_MAX_NODES, NULL), -ERANGE);
	CHECK_EQ(mint_node_join(f, MINT_NODE_NONE, NULL), -ERANGE);
	CHECK_EQ(mint_node_leave(f), -ENOTCONN);
	CHECK_EQ(mint_node_heartbeat(f), -ENOTCONN);
	CHECK(!mint_node_alive(f, 0));
	CHECK(!mint_node_alive(f, MINT_MAX_NODES));
	struct mint_node_info info;
	CHECK_EQ(mint_node_info(f, MINT_MAX_NODES, &info), -ERANGE);
	CHECK(mint_node_entry(f, MINT_MAX_NODES) == NULL);

	/* Join with options; the entry and the info say so. */
	struct mint_node_opts o = {.name = "alpha", .netns = "ns-a", .mode = MINT_MODE_ADAPTIVE};
	o.cores[0] = 0x5;
	o.cores[3] = 1ull << 63;
	CHECK_EQ(t_join(f, 0, &o), 0);
	CHECK_EQ(h->dir_lock.owner, 0); /* a join leaves the directory unlocked */
	CHECK_EQ(mint_fabric_self(f), 0);
	CHECK_EQ(mint_node_join(f, 1, NULL), -EALREADY);
	CHECK_EQ(mint_node_join(f, 0, NULL), -EALREADY);
	CHECK_EQ(mint_node_info(f, 0, &info), 0);
	CHECK_EQ(info.id, 0);
	CHECK_EQ(info.state, MINT_NODE_UP);
	CHECK(info.alive);
	CHECK_EQ(info.epoch, 1);
	CHECK_EQ(info.pid, getpid());
	CHECK_EQ(info.arch, mint_arch_self());
	CHECK_EQ(info.mode, MINT_MODE_ADAPTIVE);
	CHECK_EQ(info.cores[0], 0x5);
	CHECK_EQ(info.cores[3], 1ull << 63);
	CHECK(strcmp(info.name, "alpha") == 0);
	CHECK(strcmp(info.netns, "ns-a") == 0);
	CHECK(info.join_ns > 0);
	CHECK(info.heartbeat_age_ns < 60000000000ull);
	CHECK_EQ(mint_node_heartbeat(f), 0);
	/* A peer's stray writes into our identity are no takeover: the next
	 * heartbeat writes it back and says so. */
	struct mint_node_entry *me = mint_node_entry(f, 0);
	const uint64_t forgeries[][2] = {{offsetof(struct mint_node_entry, state), 0},
					 {offsetof(struct mint_node_entry, epoch), 77},
					 {offsetof(struct mint_node_entry, pid), 1},
					 {offsetof(struct mint_node_entry, id), 5}};
	for (size_t i = 0; i < sizeof(forgeries) / sizeof(forgeries[0]); i++) {
		uint32_t v = (uint32_t)forgeries[i][1];
		memcpy((uint8_t *)me + forgeries[i][0], &v, sizeof(v));
		CHECK_EQ(mint_node_heartbeat(f), MINT_HEALED_IDENTITY);
		CHECK_EQ(mint_node_heartbeat(f), 0);
		CHECK(mint_node_alive(f, 0));
		CHECK_EQ(me->epoch, 1);
		CHECK_EQ(me->pid, getpid());
	}
	CHECK(strcmp(mint_arch_name(mint_arch_self()), "unknown") != 0);
	CHECK(strcmp(mint_arch_name(62), "x86_64") == 0);
	CHECK(strcmp(mint_arch_name(12345), "unknown") == 0);
	/* The same id from another handle: busy while alive. */
	CHECK_EQ(mint_node_join(g, 0, NULL), -EBUSY);
	CHECK_EQ(h->dir_lock.owner, 0);
	/* Default name. */
	CHECK_EQ(t_join(g, 9, NULL), 0);
	CHECK_EQ(mint_node_info(g, 9, &info), 0);
	CHECK(strcmp(info.name, "node9") == 0);
	CHECK_EQ(mint_node_leave(g), 0);
	CHECK_EQ(mint_node_info(g, 9, &info), 0);
	CHECK_EQ(info.state, MINT_NODE_FREE);
	CHECK(!info.alive);
	CHECK_EQ(mint_fabric_self(g), MINT_NODE_NONE);
	CHECK_EQ(mint_node_leave(g), -ENOTCONN);
	/* Leave and rejoin: epoch + 1. */
	CHECK_EQ(mint_node_leave(f), 0);
	CHECK(!mint_node_alive(f, 0));
	CHECK_EQ(t_join(f, 0, NULL), 0);
	CHECK_EQ(mint_node_entry(f, 0)->epoch, 2);
	CHECK_EQ(mint_node_leave(f), 0);

	/* A stale heartbeat is a dead (hung) node: its id can be taken. */
	CHECK_EQ(t_join(f, 7, NULL), 0);
	CHECK(mint_node_alive(g, 7));
	mint_node_entry(f, 7)->heartbeat_ns = t_now_ns() - (MINT_HEARTBEAT_TIMEOUT_MS + 1000) * 1000000ull;
	CHECK(!mint_node_alive(g, 7));
	CHECK_EQ(t_join(g, 7, NULL), 0);
	CHECK_EQ(mint_node_entry(f, 7)->epoch, 2);
	CHECK(mint_node_alive(f, 7));
	CHECK_EQ(mint_node_leave(g), 0);

	/* Pid checks. */
	CHECK(mint_pid_alive(getpid(), 0));
	CHECK(mint_pid_alive(getpid(), mint_pid_start(getpid())));
	CHECK(!mint_pid_alive(getpid(), mint_pid_start(getpid()) + 12345));
	CHECK(!mint_pid_alive(0, 0));
	CHECK(!mint_pid_alive(-5, 0));
	CHECK(mint_pid_start(getpid()) > 0);

	/* A node killed -9: seen dead within 1 s, then rejoined (epoch + 1). */
	struct late_args a = {3, {0}, 0, true};
	atomic_store(&s->ready, 0);
	pid_t pid = t_spawn(late_joiner, &a);
	CHECK(wait_flag(&s->ready, 1, 20000));
	CHECK(mint_node_alive(f, 3));
	CHECK_EQ(mint_node_join(g, 3, NULL), -EBUSY);
	uint32_t epoch = mint_node_entry(f, 3)->epoch;
	CHECK_EQ(mint_node_entry(f, 3)->pid, pid);
	kill(pid, SIGKILL);
	uint64_t t0 = t_now_ns();
	while (mint_node_alive(f, 3) && t_now_ns() - t0 < 1000000000ull)
		t_sleep_us(2000);
	CHECK(!mint_node_alive(f, 3)); /* a zombie is dead */
	CHECK_EQ(t_wait_child(pid), 128 + SIGKILL);
	CHECK(!mint_node_alive(f, 3));
	CHECK_EQ(mint_node_info(f, 3, &info), 0);
	CHECK(!info.alive);
	CHECK_EQ(t_join(g, 3, NULL), 0);
	CHECK_EQ(mint_node_entry(f, 3)->epoch, epoch + 1);
	CHECK_EQ(mint_node_entry(f, 3)->pid, getpid());
	CHECK(mint_node_alive(f, 3));
	CHECK_EQ(mint_node_leave(g), 0);
	CHECK_EQ(h->dir_lock.owner, 0);
	mint_fabric_detach(g);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

int main(void)
{
	t_start("test_doorbell", T_SANITIZED ? 200 : 100);
	RUN(test_errors);
	RUN(test_node_join);
	RUN(test_pending_kept);
	RUN(test_kvec_forged);
	RUN(test_dispatch_poll);
	RUN(test_dispatch_sleep);
	RUN(test_dispatch_adaptive);
	RUN(test_idle_not_starved);
	RUN(test_dispatch_thread); /* last: threads, no fork after */
	RUN(test_sleep_hook);
	return t_done();
}
