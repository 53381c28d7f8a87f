/* SPDX-License-Identifier: MIT */
/* Doorbells: raising a vector on a node, and the node's dispatcher. */
#include "mint/doorbell.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>

#include "bell.h"
#include "guest_internal.h"
#include "internal.h"
#include "le.h"

#define PENDING_WORDS (MINT_VECTORS / 64)
/* A spinning dispatcher yields its core at most this often, and looks at
 * the clock every SPIN_CLOCK_EVERY idle turns to know (a clock read costs
 * tens of ns on a paravirtual clock, a yield a system call). */
#define SPIN_YIELD_NS 4000u
#define SPIN_CLOCK_EVERY 16u

/* A sleeping dispatcher also looks at its pending set this often.  The
 * handshake loses no wake-up between one dispatcher and its senders, but
 * for the moments a replaced agent still runs (it stalled, looked dead and
 * a new one took the node over), two dispatchers share one bell and the
 * old one can clear the new one's announcement. */
#define SAFETY_WAKE_NS (MINT_HEARTBEAT_PERIOD_MS * 1000000ll)

struct handler {
	mint_irq_handler fn;
	void *arg;
};

struct mint_dispatcher {
	struct mint_fabric *f;
	struct mint_node_entry *e;
	uint32_t id; /* our node id, never re-read from shared memory */
	enum mint_dispatch_mode mode;
	uint64_t spin_ns;
	uint64_t last_yield; /* CLOCK_MONOTONIC ns of spin_once's last yield */
	atomic_bool stop;
	mint_idle_fn idle_fn; /* busy-polled between vectors (poll mode, or with sleep_fn) */
	void *idle_arg;
	mint_sleep_fn sleep_fn; /* sleeps for the bell and the idle hook's device */
	void *sleep_arg;
	struct handler handlers[MINT_VECTORS];
};

int mint_ipi_send(struct mint_fabric *f, uint32_t node, uint32_t vector)
{
	struct mint_node_entry *e = mint_node_entry(f, node);
	if (!e || vector >= MINT_VECTORS)
		return -ERANGE;
	/* relaxed: the mask changes only when a guest driver (un)claims a
	 * vector; on the line the send writes anyway, so free for others. */
	uint64_t kmask = ald64(&e->kvec_mask, memory_order_relaxed);
	if (kmask && vector < 64 && (kmask >> vector & 1))
		return mint_guest_raise_kernel(e, vector);
	/* seq_cst: release for the data the sender wrote before raising the
	 * vector (pairs with the acquire exchange in take_pending), and the
	 * store half of the Dekker pair with a dispatcher going to sleep. */
	aor64(&e->pending[vector / 64], 1ull << (vector % 64), memory_order_seq_cst);
	bool woke = mint_bell_ring_after_rmw(&e->bell) == MINT_BELL_FUTEX;
	/* relaxed: statistics only. */
	struct mint_node_entry *me = mint_node_entry(f, f->self);
	if (me) {
		aadd64(&me->ipi_sent, 1, memory_order_relaxed);
		aadd64(woke ? &me->wakes_sent : &me->wakes_suppressed, 1, memory_order_relaxed);
	} else {
		aadd64(&mint_fabric_hdr(f)->external_ipis, 1, memory_order_relaxed);
	}
	return woke;
}

int mint_dispatcher_create(struct mint_fabric *f, enum mint_dispatch_mode mode,
			   struct mint_dispatcher **out)
{
	if (f->self == MINT_NODE_NONE)
		return -ENOTCONN;
	if (mode != MINT_MODE_POLL && mode != MINT_MODE_SLEEP && mode != MINT_MODE_ADAPTIVE)
		return -EINVAL;
	struct mint_dispatcher *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->f = f;
	d->id = f->self;
	d->e = mint_node_entry(f, f->self);
	d->mode = mode;
	d->spin_ns = 50000;
	atomic_init(&d->stop, false);
	*out = d;
	return 0;
}

void mint_dispatcher_destroy(struct mint_dispatcher *d) { free(d); }

void mint_dispatcher_set_spin(struct mint_dispatcher *d, uint64_t spin_ns) { d->spin_ns = spin_ns; }

int mint_dispatcher_set_handler(struct mint_dispatcher *d, uint32_t vector, mint_irq_handler fn,
				void *arg)
{
	if (vector >= MINT_VECTORS)
		return -ERANGE;
	d->handlers[vector].fn = fn;
	d->handlers[vector].arg = arg;
	return 0;
}

void mint_dispatcher_set_idle(struct mint_dispatcher *d, mint_idle_fn fn, void *arg)
{
	d->idle_fn = fn;
	d->idle_arg = arg;
}

void mint_dispatcher_set_sleep(struct mint_dispatcher *d, mint_sleep_fn fn, void *arg)
{
	d->sleep_fn = fn;
	d->sleep_arg = arg;
}

static bool any_pending(void *arg)
{
	struct mint_node_entry *e = arg;
	for (unsigned w = 0; w < PENDING_WORDS; w++)
		if (ald64(&e->pending[w], memory_order_relaxed))
			return true;
	return false;
}

/* Take word W's pending bits: a plain load first, so an idle poll loop
 * only reads the line and never steals it from senders. */
static uint64_t take_pending(struct mint_node_entry *e, unsigned w)
{
	if (!ald64(&e->pending[w], memory_order_relaxed))
		return 0;
	/* acquire: pairs with the release fetch_or in mint_ipi_send. */
	return axchg64(&e->pending[w], 0, memory_order_acquire);
}

static void run_handler(struct mint_dispatcher *d, uint32_t vector)
{
	own_inc64(&d->e->handled[vector], 1);
	struct handler *h = &d->handlers[vector];
	if (h->fn)
		h->fn(h->arg, vector);
	else if (vector != MINT_VEC_KICK)
		own_inc64(&d->e->spurious, 1);
}

int mint_dispatcher_poll(struct mint_dispatcher *d)
{
	int handled = 0;
	for (unsigned w = 0; w < PENDING_WORDS; w++) {
		uint64_t bits = take_pending(d->e, w);
		while (bits) {
			unsigned bit = (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			run_handler(d, w * 64 + bit);
			handled++;
		}
	}
	if (handled)
		own_inc64(&d->e->dispatch_passes, 1);
	return handled;
}

static bool stopping(struct mint_dispatcher *d)
{
	/* relaxed: the stop request is itself followed by a kick doorbell. */
	return atomic_load_explicit(&d->stop, memory_order_relaxed);
}

/* Idle: decide whether to keep spinning; SPIN_START is when idling began. */
static bool keep_spinning(struct mint_dispatcher *d, uint64_t *spin_start, unsigned idle)
{
	if (d->mode == MINT_MODE_POLL)
		return true;
	if (d->mode == MINT_MODE_SLEEP)
		return false;
	if ((idle & 63) != 0)
		return true;
	uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
	if (*spin_start == 0)
		*spin_start = now;
	return now - *spin_start < d->spin_ns;
}

/* One idle turn of a spinning dispatcher.  Every SPIN_YIELD_NS it yields
 * the core: a thread woken on this core (the node's transmit thread, an
 * application) runs within microseconds instead of waiting for the
 * scheduler to preempt the spinner, up to a time slice (milliseconds)
 * later.  With nothing else to run, sched_yield returns at once; but it is
 * a system call, and a doorbell that rings during one waits for its end:
 * yielding every 16 turns (~0.5 us) put a poll-mode doorbell at 1.5-3x a
 * bare one, every 4 us at 1.2x (docs/benchmarks.md). */
static void spin_once(struct mint_dispatcher *d, unsigned idle)
{
	if (idle % SPIN_CLOCK_EVERY == 0) {
		uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
		if (now - d->last_yield >= SPIN_YIELD_NS) {
			d->last_yield = now;
			sched_yield();
			return;
		}
	}
	mint_cpu_relax();
}

/* One turn: the pending vectors, then (poll mode, or when a sleep hook
 * covers its device while we sleep) the idle hook, at every turn so that a
 * stream of vectors cannot starve it (a node receiving a TCP stream still
 * sends its ACKs). */
static int poll_turn(struct mint_dispatcher *d)
{
	int work = mint_dispatcher_poll(d);
	if ((d->mode == MINT_MODE_POLL || d->sleep_fn) && d->idle_fn) {
		int found = d->idle_fn(d->idle_arg);
		work += found > 0 ? found : 0;
	}
	return work;
}

int mint_dispatcher_run(struct mint_dispatcher *d)
{
	uint64_t spin_start = 0;
	unsigned idle = 0;
	while (!stopping(d)) {
		if (poll_turn(d) > 0) {
			spin_start = 0;
			idle = 0;
			continue;
		}
		if (keep_spinning(d, &spin_start, ++idle)) {
			spin_once(d, idle);
			continue;
		}
		own_inc64(&d->e->sleeps, 1);
		mint_bell_wait_by(&d->e->bell, any_pending, d->e, SAFETY_WAKE_NS, d->sleep_fn,
				  d->sleep_arg);
		spin_start = 0;
		idle = 0;
	}
	return 0;
}

void mint_dispatcher_stop(struct mint_dispatcher *d)
{
	atomic_store_explicit(&d->stop, true, memory_order_relaxed);
	mint_ipi_send(d->f, d->id, MINT_VEC_KICK);
}

int mint_irq_counts(struct mint_fabric *f, uint32_t node, uint64_t counts[MINT_VECTORS])
{
	struct mint_node_entry *e = mint_node_entry(f, node);
	if (!e)
		return -ERANGE;
	for (uint32_t v = 0; v < MINT_VECTORS; v++)
		counts[v] = ald64(&e->handled[v], memory_order_relaxed);
	return 0;
}

int mint_irq_stats(struct mint_fabric *f, uint32_t node, struct mint_irq_stats *st)
{
	struct mint_node_entry *e = mint_node_entry(f, node);
	if (!e)
		return -ERANGE;
	/* relaxed: statistics, each read on its own. */
	st->ipi_sent = ald64(&e->ipi_sent, memory_order_relaxed);
	st->wakes_sent = ald64(&e->wakes_sent, memory_order_relaxed);
	st->wakes_suppressed = ald64(&e->wakes_suppressed, memory_order_relaxed);
	st->sleeps = ald64(&e->sleeps, memory_order_relaxed);
	st->spurious = ald64(&e->spurious, memory_order_relaxed);
	st->dispatch_passes = ald64(&e->dispatch_passes, memory_order_relaxed);
	return 0;
}

uint64_t mint_irq_external(struct mint_fabric *f)
{
	return ald64(&mint_fabric_hdr(f)->external_ipis, memory_order_relaxed);
}
