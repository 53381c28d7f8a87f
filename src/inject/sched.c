/* SPDX-License-Identifier: MIT */
/*
 * The injector's clock: event N is due at t0 + N * period (with jitter or
 * Poisson gaps if asked), never at "the last event + period", so delays do
 * not accumulate into drift.  Waits spin near the deadline and sleep
 * before it.
 */
#include "inject/sched.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "mint/clock.h"

uint64_t sched_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double unit(uint64_t *state)
{
	return (double)(sched_rand(state) >> 11) / 9007199254740992.0;
}

uint64_t sched_rel(struct sched *s, uint64_t n)
{
	if (s->poisson) {
		if (n > 0)
			s->cum_ns += (uint64_t)(-log1p(-unit(&s->rng)) * (double)s->period_ns);
		return s->cum_ns;
	}
	uint64_t t = n * s->period_ns;
	if (s->jitter_ns) {
		uint64_t j = sched_rand(&s->rng) % (2 * s->jitter_ns + 1);
		t = t + j >= s->jitter_ns ? t + j - s->jitter_ns : 0;
	}
	return t;
}

/* Sleep until CLOCK_MONOTONIC time WAKE; false if a signal set *STOP. */
static bool sleep_until(uint64_t wake, volatile sig_atomic_t *stop)
{
	struct timespec ts = {(time_t)(wake / 1000000000ull), (long)(wake % 1000000000ull)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
		if (*stop) /* else EINTR: sleep on to the same absolute time */
			return false;
	return true;
}

uint64_t sched_wait(struct sched *s, uint64_t abs_ns, volatile sig_atomic_t *stop)
{
	uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
	if (s->rt && now - s->awake_ns > SCHED_RT_RUN_NS) {
		if (!sleep_until(now + SCHED_RT_REST_NS, stop))
			return mint_now_ns(CLOCK_MONOTONIC);
		now = s->awake_ns = mint_now_ns(CLOCK_MONOTONIC);
	}
	if (abs_ns > now + SCHED_SPIN_NS) {
		if (!sleep_until(abs_ns - SCHED_SPIN_NS / 2, stop))
			return mint_now_ns(CLOCK_MONOTONIC);
		s->awake_ns = mint_now_ns(CLOCK_MONOTONIC);
	}
	while ((now = mint_now_ns(CLOCK_MONOTONIC)) < abs_ns)
		mint_cpu_relax();
	return now;
}

void sched_tight_timers(void)
{
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}

int sched_realtime(void)
{
	struct sched_param sp = {.sched_priority = 1};
	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0 || sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
		return -errno;
	return 0;
}

void sched_pin(const uint64_t set[4], bool onto)
{
	/* The cores this process was allowed at its first pin: later pins
	 * choose among them, not among what an earlier pin left. */
	static cpu_set_t allowed;
	static bool have_allowed;
	cpu_set_t cs;
	CPU_ZERO(&cs);
	if (!have_allowed && sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	have_allowed = true;
	for (unsigned c = 0; c < CPU_SETSIZE && c < 4 * 64; c++)
		if (CPU_ISSET(c, &allowed) && (bool)(set[c / 64] >> (c % 64) & 1) == onto)
			CPU_SET(c, &cs);
	if (CPU_COUNT(&cs))
		sched_setaffinity(0, sizeof(cs), &cs);
}

void sched_cores(uint64_t set[4])
{
	cpu_set_t cs;
	memset(set, 0, 4 * sizeof(*set));
	if (sched_getaffinity(0, sizeof(cs), &cs))
		return;
	for (unsigned c = 0; c < CPU_SETSIZE && c < 4 * 64; c++)
		if (CPU_ISSET(c, &cs))
			set[c / 64] |= 1ull << (c % 64);
}

uint64_t sched_preemptions(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_THREAD, &ru) == 0 ? (uint64_t)ru.ru_nivcsw : 0;
}

static const char *const policy_names[] = {"catch-up", "skip"};

int sched_parse_policy(const char *s, enum late_policy *p)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(s, policy_names[i]) == 0) {
			*p = (enum late_policy)i;
			return 0;
		}
	return -1;
}

const char *sched_policy_name(enum late_policy p)
{
	return policy_names[p];
}
