/* SPDX-License-Identifier: MIT */
/*
 * Cross-node locks: acquire/release, -EDEADLK, -EPERM; the owner tag;
 * mutual exclusion across processes and threads; recovery from a holder
 * killed with SIGKILL (a node, and a plain process), from a node that
 * left or rejoined (epoch change), from garbage owner tags and from live
 * processes that do not map the fabric; a live holder makes a waiter give
 * up after MINT_LOCK_WAIT_MS; only one of several waiters recovers.
 */
#include <pthread.h>
#include <sched.h>

#include "testlib.h"

/* The shared things the cases use: locks and counters in one object. */
struct shared {
	struct mint_lock lock;
	struct mint_lock lock2;
	uint64_t counter;   /* guarded by lock; deliberately not atomic */
	uint64_t inside;    /* guarded by lock: 1 while someone is inside */
	uint64_t overlaps;  /* times someone found another inside */
	_Atomic uint32_t go;
	_Atomic uint32_t ready;
	_Atomic uint32_t results[8];
};

static struct shared *shared_of(struct mint_fabric *f)
{
	return t_shared_object(f, "lock-test", sizeof(struct shared));
}

/* A node's tag stamps its epoch, a plain process's its start time. */
static uint64_t tag_of(uint32_t tid, uint32_t node, uint32_t epoch)
{
	uint64_t tag = tid;
	if (node != MINT_NODE_NONE)
		return tag | (uint64_t)(node + 1) << 32 | (uint64_t)(epoch & 0xffffff) << 40;
	return tag | (mint_pid_start((int32_t)tid) & 0xffffff) << 40;
}

/* ==== cases ==== */

static void test_basic(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	struct mint_lock *l = &s->lock;
	CHECK_EQ(l->owner, 0);
	CHECK(!mint_lock_holder_dead(f, l));
	CHECK_EQ(mint_lock_acquire(f, l), 0);
	CHECK_EQ(l->owner, tag_of((uint32_t)gettid(), MINT_NODE_NONE, 0));
	CHECK(!mint_lock_holder_dead(f, l));
	CHECK_EQ(mint_lock_acquire(f, l), -EDEADLK);
	CHECK_EQ(mint_lock_try(f, l), -EDEADLK);
	CHECK_EQ(mint_lock_release(f, l), 0);
	CHECK_EQ(l->owner, 0);
	CHECK_EQ(mint_lock_release(f, l), -EPERM);
	CHECK_EQ(mint_lock_try(f, l), 0);
	CHECK_EQ(mint_lock_try(f, l), -EDEADLK);
	/* Two locks at once are fine. */
	CHECK_EQ(mint_lock_acquire(f, &s->lock2), 0);
	CHECK_EQ(mint_lock_release(f, l), 0);
	CHECK_EQ(mint_lock_release(f, &s->lock2), 0);
	CHECK_EQ(l->recoveries, 0);
	CHECK_EQ(l->flags, 0);
	mint_lock_checked(l); /* harmless on a clean lock */
	CHECK_EQ(l->flags, 0);
	CHECK_EQ(l->owner, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_node_tag(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	CHECK_EQ(t_join(f, 2, NULL), 0);
	uint32_t epoch = mint_node_entry(f, 2)->epoch;
	CHECK_EQ(mint_lock_acquire(f, &s->lock), 0);
	uint64_t own = s->lock.owner;
	CHECK_EQ(own, tag_of((uint32_t)gettid(), 2, epoch));
	CHECK_EQ(own & 0xffffffffu, (uint32_t)gettid());
	CHECK_EQ((own >> 32) & 0xff, 3);
	CHECK_EQ(own >> 40, epoch & 0xffffff);
	CHECK(!mint_lock_holder_dead(f, &s->lock));
	CHECK_EQ(mint_lock_release(f, &s->lock), 0);
	CHECK_EQ(mint_node_leave(f), 0);
	CHECK_EQ(mint_fabric_hdr(f)->dir_lock.owner, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ---- someone else holds it ---- */

struct holder_thread {
	struct mint_fabric *f;
	struct shared *s;
	_Atomic int state; /* 1 holding, 2 release now, 3 released */
};

static void *hold_then_release(void *arg)
{
	struct holder_thread *h = arg;
	CHECK_EQ(mint_lock_acquire(h->f, &h->s->lock), 0);
	atomic_store(&h->state, 1);
	for (int i = 0; i < 20000 && atomic_load(&h->state) != 2; i++)
		t_sleep_ms(1);
	CHECK_EQ(mint_lock_release(h->f, &h->s->lock), 0);
	atomic_store(&h->state, 3);
	return NULL;
}

static void hold_in_child(void *arg)
{
	(void)arg;
	struct mint_fabric *f = t_child_attach();
	struct shared *s = shared_of(f);
	if (mint_lock_acquire(f, &s->lock) != 0)
		_exit(2);
	atomic_store(&s->ready, 1);
	for (int i = 0; i < 20000 && !atomic_load(&s->go); i++)
		t_sleep_ms(1);
	if (mint_lock_release(f, &s->lock) != 0)
		_exit(2);
	mint_fabric_detach(f);
}

static bool wait_flag(_Atomic uint32_t *flag, int ms)
{
	for (int i = 0; i < ms && !atomic_load(flag); i++)
		t_sleep_ms(1);
	return atomic_load(flag) != 0;
}

static void test_other_holder(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	/* Another thread of this process. */
	struct holder_thread h = {f, s, 0};
	pthread_t th;
	CHECK(pthread_create(&th, NULL, hold_then_release, &h) == 0);
	for (int i = 0; i < 20000 && atomic_load(&h.state) != 1; i++)
		t_sleep_ms(1);
	uint64_t own = atomic_load(&s->lock.owner);
	CHECK(own != 0 && own != tag_of((uint32_t)gettid(), MINT_NODE_NONE, 0));
	CHECK_EQ(mint_lock_try(f, &s->lock), -EBUSY);
	CHECK_EQ(mint_lock_release(f, &s->lock), -EPERM);
	CHECK_EQ(s->lock.owner, own);
	CHECK(!mint_lock_holder_dead(f, &s->lock));
	atomic_store(&h.state, 2);
	CHECK_EQ(mint_lock_acquire(f, &s->lock), 0); /* waits for the thread */
	CHECK_EQ(atomic_load(&h.state), 3);
	CHECK_EQ(mint_lock_release(f, &s->lock), 0);
	pthread_join(th, NULL);

	/* Another process. */
	pid_t pid = t_spawn(hold_in_child, NULL);
	CHECK(wait_flag(&s->ready, 20000));
	own = s->lock.owner;
	CHECK_EQ(own, tag_of((uint32_t)pid, MINT_NODE_NONE, 0));
	CHECK_EQ(mint_lock_try(f, &s->lock), -EBUSY);
	CHECK_EQ(mint_lock_release(f, &s->lock), -EPERM);
	CHECK_EQ(s->lock.owner, own);
	CHECK(!mint_lock_holder_dead(f, &s->lock));
	atomic_store(&s->go, 1);
	CHECK_EQ(t_wait_child(pid), 0);
	CHECK_EQ(s->lock.owner, 0);
	CHECK_EQ(mint_lock_try(f, &s->lock), 0);
	CHECK_EQ(mint_lock_release(f, &s->lock), 0);
	CHECK_EQ(s->lock.recoveries, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ---- mutual exclusion ---- */

static int iterations(void) { return T_SANITIZED ? 4000 : 20000; }

static void critical_section(struct shared *s, int i)
{
	volatile uint64_t *inside = &s->inside, *counter = &s->counter;
	if (*inside)
		s->overlaps++;
	*inside = 1;
	uint64_t c = *counter;
	/* Widen the window a little, now and then. */
	for (int k = 0; k < (i % 16 == 0 ? 200 : 2); k++)
		__asm__ __volatile__("" ::: "memory");
	*counter = c + 1;
	*inside = 0;
}

static void hammer_child(void *arg)
{
	int node = *(int *)arg;
	struct mint_fabric *f = t_child_attach();
	if (node >= 0 && t_join(f, (uint32_t)node, NULL) != 0)
		_exit(2);
	struct shared *s = shared_of(f);
	atomic_fetch_add(&s->ready, 1);
	while (!atomic_load(&s->go))
		sched_yield();
	for (int i = 0; i < iterations(); i++) {
		if (mint_lock_acquire(f, &s->lock) != 0)
			_exit(4);
		critical_section(s, i);
		if (mint_lock_release(f, &s->lock) != 0)
			_exit(5);
	}
	mint_fabric_detach(f);
}

static void test_mutex_processes(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	int node_a = 1, node_b = -1; /* one node, one plain process */
	pid_t a = t_spawn(hammer_child, &node_a);
	pid_t b = t_spawn(hammer_child, &node_b);
	for (int i = 0; i < 20000 && atomic_load(&s->ready) < 2; i++)
		t_sleep_ms(1);
	atomic_store(&s->go, 1);
	CHECK_EQ(t_wait_child(a), 0);
	CHECK_EQ(t_wait_child(b), 0);
	CHECK_EQ(s->counter, 2 * (uint64_t)iterations());
	CHECK_EQ(s->overlaps, 0);
	CHECK_EQ(s->lock.owner, 0);
	CHECK_EQ(s->lock.recoveries, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

struct thread_arg {
	struct mint_fabric *f;
	struct shared *s;
	int errors;
};

static void *hammer_thread(void *arg)
{
	struct thread_arg *t = arg;
	for (int i = 0; i < iterations() / 2; i++) {
		if (mint_lock_acquire(t->f, &t->s->lock) != 0) {
			t->errors++;
			break;
		}
		critical_section(t->s, i);
		if (mint_lock_release(t->f, &t->s->lock) != 0)
			t->errors++;
	}
	return NULL;
}

static void test_mutex_threads(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	enum { T = 4 };
	pthread_t th[T];
	struct thread_arg ta[T];
	for (int i = 0; i < T; i++) {
		ta[i] = (struct thread_arg){f, s, 0};
		CHECK(pthread_create(&th[i], NULL, hammer_thread, &ta[i]) == 0);
	}
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(ta[i].errors, 0);
	}
	CHECK_EQ(s->counter, T * (uint64_t)(iterations() / 2));
	CHECK_EQ(s->overlaps, 0);
	CHECK_EQ(s->lock.owner, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* ---- dead holders ---- */

struct die_args {
	int node; /* -1: not a node */
	bool leave_rejoin;
	bool leave_only;
};

static void hold_forever(void *arg)
{
	struct die_args *a = arg;
	struct mint_fabric *f = t_child_attach();
	if (a->node >= 0 && t_join(f, (uint32_t)a->node, NULL) != 0)
		_exit(2);
	struct shared *s = shared_of(f);
	if (!s || mint_lock_acquire(f, &s->lock) != 0)
		_exit(2);
	s->counter = 12345; /* a half-made update */
	if (a->leave_rejoin || a->leave_only) {
		if (mint_node_leave(f) != 0)
			_exit(2);
		if (a->leave_rejoin && t_join(f, (uint32_t)a->node, NULL) != 0)
			_exit(2);
	}
	atomic_store(&s->ready, 1);
	for (int i = 0; i < 60000 && !atomic_load(&s->go); i++)
		t_sleep_ms(1);
	mint_fabric_detach(f);
}

/* Kill a child holding the lock; REAP first or leave it a zombie. */
static void dead_holder_case(int node, bool reap)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	struct die_args a = {node, false, false};
	pid_t pid = t_spawn(hold_forever, &a);
	CHECK(wait_flag(&s->ready, 20000));
	uint32_t epoch = node >= 0 ? mint_node_entry(f, (uint32_t)node)->epoch : 0;
	CHECK_EQ(s->lock.owner, tag_of((uint32_t)pid, node >= 0 ? (uint32_t)node : MINT_NODE_NONE,
				       epoch));
	CHECK_EQ(mint_lock_try(f, &s->lock), -EBUSY);
	CHECK(!mint_lock_holder_dead(f, &s->lock));
	CHECK_EQ(kill(pid, SIGKILL), 0);
	int rc;
	uint64_t t0 = t_now_ns();
	if (reap) {
		CHECK_EQ(t_wait_child(pid), 128 + SIGKILL);
		t0 = t_now_ns();
		rc = mint_lock_acquire(f, &s->lock);
	} else {
		/* A zombie holder is dead too: try polls, for up to 1 s. */
		do {
			rc = mint_lock_try(f, &s->lock);
			if (rc == -EBUSY)
				t_sleep_ms(5);
		} while (rc == -EBUSY && t_now_ns() - t0 < 1000000000ull);
	}
	uint64_t el = t_now_ns() - t0;
	CHECK_EQ(rc, MINT_LOCK_RECOVERED);
	CHECK(el < 1000000000ull);
	CHECK_EQ(s->lock.owner, tag_of((uint32_t)gettid(), MINT_NODE_NONE, 0));
	CHECK(s->lock.flags & MINT_LOCK_NEEDS_CHECK);
	CHECK_EQ(s->lock.recoveries, 1);
	CHECK_EQ(s->counter, 12345);
	/* The flag outlives a plain release and re-acquire... */
	CHECK_EQ(mint_lock_release(f, &s->lock), 0);
	CHECK_EQ(mint_lock_acquire(f, &s->lock), 0);
	CHECK(s->lock.flags & MINT_LOCK_NEEDS_CHECK);
	/* ...until the guarded object is declared checked. */
	mint_lock_checked(&s->lock);
	CHECK_EQ(s->lock.flags & MINT_LOCK_NEEDS_CHECK, 0);
	CHECK_EQ(mint_lock_release(f, &s->lock), 0);
	CHECK_EQ(s->lock.recoveries, 1);
	if (!reap)
		CHECK_EQ(t_wait_child(pid), 128 + SIGKILL);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_killed_node_holder(void) { dead_holder_case(1, true); }
static void test_killed_node_holder_zombie(void) { dead_holder_case(1, false); }
static void test_killed_plain_holder(void) { dead_holder_case(-1, true); }
static void test_killed_plain_holder_zombie(void) { dead_holder_case(-1, false); }

/* A node that left, or left and rejoined, no longer holds what its old
 * incarnation took, although its process is alive. */
static void epoch_case(bool rejoin)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	struct die_args a = {1, rejoin, !rejoin};
	pid_t pid = t_spawn(hold_forever, &a);
	CHECK(wait_flag(&s->ready, 20000));
	struct mint_node_entry *e = mint_node_entry(f, 1);
	if (rejoin) {
		CHECK_EQ(e->state, MINT_NODE_UP);
		CHECK_EQ(e->epoch, 2);
		CHECK(mint_node_alive(f, 1));
		CHECK_EQ(s->lock.owner, tag_of((uint32_t)pid, 1, 1)); /* the old epoch */
	} else {
		CHECK_EQ(e->state, MINT_NODE_FREE);
	}
	CHECK(mint_pid_alive(pid, 0));
	CHECK(mint_lock_holder_dead(f, &s->lock));
	CHECK_EQ(mint_lock_try(f, &s->lock), MINT_LOCK_RECOVERED);
	CHECK(s->lock.flags & MINT_LOCK_NEEDS_CHECK);
	mint_lock_checked(&s->lock);
	CHECK_EQ(mint_lock_release(f, &s->lock), 0);
	atomic_store(&s->go, 1);
	CHECK_EQ(t_wait_child(pid), 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_node_rejoined(void) { epoch_case(true); }
static void test_node_left(void) { epoch_case(false); }

/* The same handle across a leave and rejoin: its old hold is recovered,
 * not reported as -EDEADLK. */
static void test_rejoin_same_handle(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	struct mint_fabric *g = t_attach();
	if (!g)
		return;
	CHECK_EQ(t_join(g, 4, NULL), 0);
	CHECK_EQ(mint_lock_acquire(g, &s->lock), 0);
	CHECK_EQ(mint_node_leave(g), 0);
	CHECK_EQ(t_join(g, 4, NULL), 0);
	CHECK_EQ(mint_node_entry(f, 4)->epoch, 2);
	CHECK_EQ(mint_lock_acquire(g, &s->lock), MINT_LOCK_RECOVERED);
	CHECK_EQ(s->lock.owner, tag_of((uint32_t)gettid(), 4, 2));
	CHECK_EQ(mint_lock_release(g, &s->lock), 0);
	CHECK_EQ(mint_node_leave(g), 0);
	mint_fabric_detach(g);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* Owner words no live holder could have written. */
static void test_garbage_owner(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	uint32_t me = (uint32_t)getpid();
	struct {
		uint64_t tag;
		bool dead;
		const char *what;
	} cases[] = {
		{(200ull << 32) | me, true, "node id out of range"},
		{(0xffull << 32) | me, true, "node id 254"},
		{tag_of(me, 10, 1), true, "a node that never joined"},
		{0x7ffffff0u, true, "a pid that does not exist"},
		{0xffffffffu, true, "pid -1"},
		{1ull << 40, true, "pid 0 with epoch bits"},
		{0xffffffffffffffffull, true, "all ones"},
		{tag_of(1, MINT_NODE_NONE, 0), true, "pid 1: alive, but not mapping this fabric"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s->lock.owner = cases[i].tag;
		bool dead = mint_lock_holder_dead(f, &s->lock);
		if (dead != cases[i].dead)
			fprintf(stderr, "  owner %#llx (%s): dead %d\n",
				(unsigned long long)cases[i].tag, cases[i].what, dead);
		CHECK(dead == cases[i].dead);
		CHECK_EQ(mint_lock_try(f, &s->lock), MINT_LOCK_RECOVERED);
		CHECK_EQ(mint_lock_release(f, &s->lock), 0);
		mint_lock_checked(&s->lock);
	}
	/* A live, non-node holder: a child that exists. */
	pid_t pid = t_fork(30);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	s->lock.owner = tag_of((uint32_t)pid, MINT_NODE_NONE, 0);
	CHECK(!mint_lock_holder_dead(f, &s->lock));
	CHECK_EQ(mint_lock_try(f, &s->lock), -EBUSY);
	/* A live holder that never lets go: the wait ends, with a reason. */
	uint64_t t0 = t_now_ns();
	CHECK_EQ(mint_lock_acquire(f, &s->lock), -ETIMEDOUT);
	uint64_t waited_ms = (t_now_ns() - t0) / 1000000u;
	CHECK(waited_ms >= MINT_LOCK_WAIT_MS && waited_ms < MINT_LOCK_WAIT_MS + 1000);
	/* No start stamp (a holder that could not read it): the id decides. */
	s->lock.owner = (uint32_t)pid;
	CHECK(!mint_lock_holder_dead(f, &s->lock));
	/* The same id with another start time: a dead holder whose thread id
	 * the child reused. */
	s->lock.owner = tag_of((uint32_t)pid, MINT_NODE_NONE, 0) ^ 1ull << 40;
	CHECK(mint_lock_holder_dead(f, &s->lock));
	s->lock.owner = tag_of((uint32_t)pid, MINT_NODE_NONE, 0);
	kill(pid, SIGKILL);
	t_wait_child(pid);
	CHECK(mint_lock_holder_dead(f, &s->lock));
	CHECK_EQ(mint_lock_try(f, &s->lock), MINT_LOCK_RECOVERED);
	CHECK_EQ(mint_lock_release(f, &s->lock), 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* Several waiters on one dead holder: exactly one recovers. */
static void waiter_child(void *arg)
{
	int idx = *(int *)arg;
	struct mint_fabric *f = t_child_attach();
	struct shared *s = shared_of(f);
	atomic_fetch_add(&s->ready, 1);
	while (!atomic_load(&s->go))
		sched_yield();
	int rc = mint_lock_acquire(f, &s->lock);
	atomic_store(&s->results[idx], (uint32_t)(rc + 100));
	if (rc >= 0) {
		s->counter++;
		t_sleep_ms(2);
		mint_lock_release(f, &s->lock);
	}
	mint_fabric_detach(f);
}

static void test_one_recovers(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct shared *s = shared_of(f);
	enum { W = 4 };
	/* A dead holder: a child that took it and was killed. */
	struct die_args a = {-1, false, false};
	pid_t holder = t_spawn(hold_forever, &a);
	CHECK(wait_flag(&s->ready, 20000));
	kill(holder, SIGKILL);
	CHECK_EQ(t_wait_child(holder), 128 + SIGKILL);
	atomic_store(&s->ready, 0);
	s->counter = 0;
	int idx[W];
	pid_t w[W];
	for (int i = 0; i < W; i++) {
		idx[i] = i;
		w[i] = t_spawn(waiter_child, &idx[i]);
	}
	for (int i = 0; i < 20000 && atomic_load(&s->ready) < W; i++)
		t_sleep_ms(1);
	atomic_store(&s->go, 1);
	int recovered = 0, plain = 0;
	for (int i = 0; i < W; i++) {
		CHECK_EQ(t_wait_child(w[i]), 0);
		uint32_t r = atomic_load(&s->results[i]);
		recovered += r == 100 + MINT_LOCK_RECOVERED;
		plain += r == 100;
	}
	CHECK_EQ(recovered, 1);
	CHECK_EQ(plain, W - 1);
	CHECK_EQ(s->lock.recoveries, 1);
	CHECK_EQ(s->counter, W);
	CHECK_EQ(s->lock.owner, 0);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

int main(void)
{
	t_start("test_lock", T_SANITIZED ? 150 : 60);
	RUN(test_basic);
	RUN(test_node_tag);
	RUN(test_other_holder);
	RUN(test_mutex_processes);
	RUN(test_killed_node_holder);
	RUN(test_killed_node_holder_zombie);
	RUN(test_killed_plain_holder);
	RUN(test_killed_plain_holder_zombie);
	RUN(test_node_rejoined);
	RUN(test_node_left);
	RUN(test_rejoin_same_handle);
	RUN(test_garbage_owner);
	RUN(test_one_recovers);
	RUN(test_mutex_threads); /* last: no fork after threads */
	return t_done();
}
