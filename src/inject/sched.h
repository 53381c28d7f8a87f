/* SPDX-License-Identifier: MIT */
/* mint inject's schedule: absolute, drift-free event times. */
#ifndef MINT_INJECT_SCHED_H
#define MINT_INJECT_SCHED_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* Closer than this to an event time, the injector spins on the clock;
 * farther, it sleeps (1 ns timer slack) until this much before it. */
#define SCHED_SPIN_NS 100000ull
/* With --rt the thread is SCHED_FIFO and must not run more than the
 * kernel's real-time budget (95 % of each second), or it is throttled for
 * 50 ms at a time.  A schedule that spins through every gap (10 us) would:
 * so after SCHED_RT_RUN_NS without a sleep it rests SCHED_RT_REST_NS (6 %),
 * a few events late by tens of us instead of 5000 late by 50 ms. */
#define SCHED_RT_RUN_NS 1000000ull
#define SCHED_RT_REST_NS 60000ull
/* The shortest interval the schedule promises to keep on this kind of
 * host (a clock read, a descriptor and a doorbell take a few hundred ns);
 * shorter ones run late and the --late policy decides. */
#define SCHED_MIN_INTERVAL_NS 1000ull

enum late_policy {
	LATE_CATCH_UP, /* send late events at once, keep the absolute times */
	LATE_SKIP,     /* drop events more than one interval late (counted) */
};

struct sched {
	uint64_t period_ns;  /* mean gap */
	uint64_t jitter_ns;  /* each time moves by a uniform -J..+J */
	bool poisson;        /* exponential gaps of mean period_ns instead */
	enum late_policy late;
	uint64_t rng;        /* state of the generator, from --seed */
	uint64_t cum_ns;     /* Poisson: the last event's time */
	bool rt;             /* --rt: SCHED_FIFO, memory locked, rests */
	uint64_t awake_ns;   /* --rt: when the thread last woke from a sleep */
};

/* A 64-bit generator (splitmix64): the same seed, the same run. */
uint64_t sched_rand(uint64_t *state);

/* Event N's time from t0, in order N = 0, 1, ... (Poisson accumulates). */
uint64_t sched_rel(struct sched *s, uint64_t n);

/* Wait until CLOCK_MONOTONIC time ABS_NS, or a signal that set *STOP,
 * spinning the last SCHED_SPIN_NS (with --rt, resting first when it has run
 * too long without a sleep); returns the time it woke. */
uint64_t sched_wait(struct sched *s, uint64_t abs_ns, volatile sig_atomic_t *stop);

/* --rt: lock the process's memory (no page fault in the schedule) and run
 * this thread SCHED_FIFO at priority 1, above every ordinary process.
 * 0, or a negative errno (-EPERM without CAP_SYS_NICE). */
int sched_realtime(void);

/* Ask for 1 ns timer slack for this thread (prctl PR_SET_TIMERSLACK). */
void sched_tight_timers(void);

/* Run this thread on the cores it was allowed at its first pin that are
 * in SET (ONTO) or not in it; when that leaves none, it stays where it
 * is.  SET: a mint core set. */
void sched_pin(const uint64_t set[4], bool onto);

/* The cores this thread may run on, as a mint core set. */
void sched_cores(uint64_t set[4]);

/* Involuntary context switches of this thread so far (preemptions). */
uint64_t sched_preemptions(void);

int sched_parse_policy(const char *s, enum late_policy *p);
const char *sched_policy_name(enum late_policy p);

#endif
