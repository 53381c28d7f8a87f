/* SPDX-License-Identifier: MIT */
/* The clock every mint timestamp is read from, and the spin-wait hint. */
#ifndef MINT_CLOCK_H
#define MINT_CLOCK_H

#include <stdint.h>
#include <time.h>
#include "mint/api.h"

MINT_BEGIN_DECLS

/* CLOCK's time in nanoseconds (CLOCK_MONOTONIC for intervals, heartbeats
 * and schedules; CLOCK_REALTIME for join times). */
static inline uint64_t mint_now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Inside a spin loop: tell the core it spins (x86 pause, arm64 yield). */
static inline void mint_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

MINT_END_DECLS

#endif
