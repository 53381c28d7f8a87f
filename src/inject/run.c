/* SPDX-License-Identifier: MIT */
/*
 * mint inject's run: for each event, wait for its absolute time, write its
 * packets into the target's ring, raise the interrupt, note how late it
 * was; then wait for the driver and print what happened.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "inject/inject.h"
#include "inject/hist.h"
#include "inject/record.h"
#include "mint/clock.h"

/* Target liveness and progress.  The liveness check reads the agent's
 * /proc entry, 25 us on this kind of VM: every 10 ms it made the next
 * two or three events of a 10 us schedule late, 0.3 % of them. */
#define CHECK_EVERY_NS 200000000ull
#define PROGRESS_EVERY_NS 500000000ull
#define PROGRESS_AFTER_NS 1000000000ull
#define HANDLER_WAIT_NS 10000000ull    /* --latency: per event */
#define DRAIN_WAIT_NS 2000000000ull    /* the driver catching up at the end */
#define TARGET_GONE "the target node died (or its NIC went down) mid-run"
#define PLOT_MAX_EVENTS 1000000u       /* --plot: lateness of the first ones */

struct run {
	struct inject_opts *o;
	struct mint_fabric *f;
	struct mint_nic_dev *dev;
	FILE *rec;
	uint64_t t0, wall_off, end_ns;
	struct mint_nic_stats st0;
	struct inject_result *res;
	uint64_t checked_ns, progress_ns;
	bool progress;
	size_t at;                          /* next trace packet */
	uint32_t cap;                       /* packets an event may have */
	uint8_t *arena;                     /* generated frames of one event */
	struct mint_nic_pkt *pkts;
	struct mint_nic_desc_image *imgs;
	int *rcs;
};

/* The packets of event N into r->pkts; returns how many. */
static uint32_t event_packets(struct run *r, uint64_t n)
{
	struct inject_opts *o = r->o;
	if (o->trace.n) {
		uint32_t k = 0;
		uint64_t ev = o->trace.p[r->at].event;
		while (r->at < o->trace.n && o->trace.p[r->at].event == ev && k < r->cap)
			r->pkts[k++] = o->trace.p[r->at++].pkt;
		return k;
	}
	for (uint32_t b = 0; b < o->burst; b++)
		pkt_build(&o->spec, n * o->burst + b, r->arena + (size_t)b * PKT_MAX, &r->pkts[b]);
	return o->burst;
}

/* The driver has consumed what we wrote (or TIMEOUT passed): when. */
static uint64_t wait_handled(struct run *r, uint64_t want, uint64_t timeout_ns)
{
	uint64_t start = mint_now_ns(CLOCK_MONOTONIC), now = start;
	struct mint_nic_ring_state rs;
	for (;;) {
		mint_nic_dev_ring(r->dev, &rs);
		uint64_t st0 = r->st0.drv_packets + r->st0.drv_errors + r->st0.drv_bad + r->st0.drv_drops;
		if (rs.consumed - st0 >= want || now - start > timeout_ns)
			return now;
		mint_cpu_relax();
		now = mint_now_ns(CLOCK_MONOTONIC);
	}
}

/* The event's packets, stamped with the time they went into the ring. */
static int record_event(struct run *r, uint64_t n, uint64_t rel, int64_t late, uint32_t k,
			int irq, uint64_t put_ns)
{
	struct mint_nic_ring_state rs;
	mint_nic_dev_ring(r->dev, &rs);
	for (uint32_t b = 0; b < k; b++) {
		struct rec_event e = {r->wall_off + put_ns, n, b, rel, late,
				      MINT_VEC_NIC, r->rcs[b], irq, &r->pkts[b], &r->imgs[b],
				      rs.icr, rs.ims};
		if (rec_write(r->rec, &e))
			return -1;
	}
	return 0;
}

/* One event: its packets, then one interrupt. */
static void fire(struct run *r, uint64_t n, uint64_t rel, int64_t late)
{
	uint32_t k = event_packets(r, n), ok = 0;
	uint64_t put_ns = mint_now_ns(CLOCK_MONOTONIC);
	/* The burst in one go; what that could not write cleanly, one by one,
	 * so that each overrun or error is counted and recorded. */
	int done = mint_nic_put_batch(r->dev, r->pkts, k, r->imgs);
	for (uint32_t b = 0; b < k; b++) {
		r->rcs[b] = (int)b < done ? 0 : mint_nic_put(r->dev, &r->pkts[b], &r->imgs[b]);
		ok += r->rcs[b] == 0;
		r->res->overruns += r->rcs[b] == -ENOBUFS;
		r->res->dev_errors += r->rcs[b] == -EPROTO;
		if (r->rcs[b] == -ENODEV)
			r->res->stopped = TARGET_GONE;
	}
	r->res->injected += ok;
	uint64_t kicked = mint_now_ns(CLOCK_MONOTONIC);
	int irq = mint_nic_kick(r->dev, ok ? MINT_NIC_ICR_RXT0 : 0);
	r->res->irqs += irq == 1;
	if (r->o->latency && ok)
		hist_add(&r->res->lat, wait_handled(r, r->res->injected, HANDLER_WAIT_NS) - kicked);
	if (r->rec && !r->res->stopped && record_event(r, n, rel, late, k, irq, put_ns))
		r->res->stopped = "cannot write the record";
}

static void progress_line(struct run *r, uint64_t now)
{
	struct mint_nic_stats st;
	if (mint_nic_stats(r->f, r->o->node, &st))
		return;
	double secs = (double)(now - r->t0) / 1e9;
	fprintf(stderr, "\rmint: inject: sent %llu, handled %llu, dropped %llu, %.0f/s   ",
		(unsigned long long)r->res->injected,
		(unsigned long long)(st.drv_packets - r->st0.drv_packets),
		(unsigned long long)r->res->overruns, secs > 0 ? (double)r->res->injected / secs : 0.0);
}

/* Every CHECK_EVERY_NS: is the target still there?  Progress. */
static void check(struct run *r, uint64_t now)
{
	if (now - r->checked_ns < CHECK_EVERY_NS)
		return;
	r->checked_ns = now;
	if (!mint_nic_dev_alive(r->dev))
		r->res->stopped = TARGET_GONE;
	if (r->progress && now - r->t0 > PROGRESS_AFTER_NS && now - r->progress_ns > PROGRESS_EVERY_NS) {
		r->progress_ns = now;
		progress_line(r, now);
	}
}

static void schedule(struct run *r, volatile sig_atomic_t *stop)
{
	struct inject_opts *o = r->o;
	r->t0 = mint_now_ns(CLOCK_MONOTONIC) + 1000000; /* a millisecond to settle */
	r->wall_off = mint_now_ns(CLOCK_REALTIME) - mint_now_ns(CLOCK_MONOTONIC);
	r->checked_ns = r->progress_ns = r->t0;
	for (uint64_t n = 0; n < o->count && !r->res->stopped && !*stop; n++) {
		if (o->trace.n && r->at >= o->trace.n)
			r->at = 0; /* --count beyond the trace: play it again */
		uint64_t rel = o->trace.n ? o->trace.p[r->at].rel_ns : sched_rel(&o->sched, n);
		uint64_t due = r->t0 + rel, now;
		if (o->sched.late == LATE_SKIP &&
		    (now = mint_now_ns(CLOCK_MONOTONIC)) > due + o->sched.period_ns) {
			r->res->skipped++;
			event_packets(r, n); /* a trace moves on past it */
			check(r, now);
			continue;
		}
		now = sched_wait(&o->sched, due, stop);
		if (*stop)
			break;
		hist_add(&r->res->late, now - due);
		if (r->res->series_n < r->res->series_cap)
			r->res->series_late[r->res->series_n++] = now - due;
		r->res->events++;
		if (!o->floor)
			fire(r, n, rel, (int64_t)(now - due));
		else if (o->trace.n)
			event_packets(r, n); /* nothing written, but a trace moves on */
		check(r, now);
	}
	r->end_ns = mint_now_ns(CLOCK_MONOTONIC);
	if (!r->res->stopped)
		r->res->stopped = *stop ? "interrupted" : NULL;
}

/* A moderated cause still waiting in ICR rings once the ITR gap is over;
 * then the driver gets time to consume the rest. */
static void finish(struct run *r)
{
	if (r->progress && r->end_ns - r->t0 > PROGRESS_AFTER_NS)
		fputs("\r\033[K", stderr);
	struct mint_nic_ring_state rs;
	mint_nic_dev_ring(r->dev, &rs);
	uint64_t until = mint_now_ns(CLOCK_MONOTONIC) + DRAIN_WAIT_NS / 2;
	while (rs.itr_ns && (rs.icr & rs.ims) && mint_nic_kick(r->dev, 0) == 0 &&
	       mint_now_ns(CLOCK_MONOTONIC) < until) {
		usleep(50);
		mint_nic_dev_ring(r->dev, &rs);
	}
	if (!r->res->stopped || strcmp(r->res->stopped, "interrupted") == 0)
		wait_handled(r, r->res->injected, DRAIN_WAIT_NS);
}

/* The driver's side, from its counters' growth since the start. */
static void driver_side(struct run *r)
{
	struct inject_result *res = r->res;
	struct mint_nic_stats st = r->st0;
	mint_nic_stats(r->f, r->o->node, &st);
	res->delivered = st.drv_packets - r->st0.drv_packets;
	res->drv_errors = st.drv_errors - r->st0.drv_errors;
	res->drv_bad = st.drv_bad - r->st0.drv_bad;
	res->drv_drops = st.drv_drops - r->st0.drv_drops;
	res->drv_irqs = st.drv_irqs - r->st0.drv_irqs;
	res->handled = res->delivered + res->drv_errors + res->drv_bad + res->drv_drops;
	res->lost = res->injected > res->handled ? res->injected - res->handled : 0;
	res->seconds = (double)(r->end_ns - r->t0) / 1e9;
}

static int run_alloc(struct run *r)
{
	struct inject_opts *o = r->o;
	r->cap = o->burst;
	for (size_t i = 0, k = 0; i < o->trace.n; i++) {
		k = i && o->trace.p[i].event == o->trace.p[i - 1].event ? k + 1 : 1;
		r->cap = k > r->cap ? (uint32_t)k : r->cap;
	}
	if (!o->trace.n)
		r->arena = malloc((size_t)o->burst * PKT_MAX);
	r->pkts = calloc(r->cap, sizeof(*r->pkts));
	r->imgs = calloc(r->cap, sizeof(*r->imgs));
	r->rcs = calloc(r->cap, sizeof(*r->rcs));
	if ((!o->trace.n && !r->arena) || !r->pkts || !r->imgs || !r->rcs)
		return -ENOMEM;
	return 0;
}

static void run_free(struct run *r)
{
	free(r->arena);
	free(r->pkts);
	free(r->imgs);
	free(r->rcs);
}

void inject_result_free(struct inject_result *res)
{
	free(res->series_late);
	hist_free(&res->late);
	hist_free(&res->lat);
}

int inject_schedule(struct inject_opts *o, struct mint_fabric *f, struct mint_nic_dev *dev,
		    volatile sig_atomic_t *stop, bool progress, struct inject_result *res)
{
	memset(res, 0, sizeof(*res));
	struct run r = {.o = o, .f = f, .dev = dev, .res = res, .progress = progress};
	if (o->plot) {
		res->series_cap = o->count < PLOT_MAX_EVENTS ? o->count : PLOT_MAX_EVENTS;
		res->series_late = malloc(res->series_cap * sizeof(*res->series_late));
		if (res->series_late) /* faulted in now, not one page per 512 events */
			memset(res->series_late, 0, res->series_cap * sizeof(*res->series_late));
	}
	if (hist_init(&res->late) || hist_init(&res->lat) || run_alloc(&r) ||
	    (o->plot && !res->series_late)) {
		run_free(&r);
		return -ENOMEM;
	}
	if (o->record && !(r.rec = rec_create(o->record, o->node))) {
		int err = -errno;
		run_free(&r);
		return err;
	}
	mint_nic_stats(f, o->node, &r.st0);
	sched_tight_timers();
	sched_cores(res->cores);
	res->preempted = sched_preemptions();
	schedule(&r, stop);
	res->preempted = sched_preemptions() - res->preempted;
	finish(&r);
	if (r.rec && rec_close(r.rec) && !res->stopped)
		res->stopped = "cannot write the record";
	driver_side(&r);
	run_free(&r);
	return 0;
}
