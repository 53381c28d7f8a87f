/* SPDX-License-Identifier: MIT */
/* What the library's files share and users do not see. */
#ifndef MINT_INTERNAL_H
#define MINT_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "mint/fabric.h"
#include "mint/layout.h"

struct mint_fabric {
	uint8_t *base;
	uint64_t size;
	int fd;
	uint32_t self;        /* node id or MINT_NODE_NONE */
	uint32_t self_epoch;
	char path[256];
	/* The device table, found on first use (dev.c); NULL until then. */
	struct mint_devtab_hdr *_Atomic devtab;
};

static inline uint64_t mint_now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

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

/* Shared (cross-process) futex on a 32-bit fabric word. */
int mint_futex_wait(_Atomic uint32_t *word, uint32_t raw_expected, int64_t timeout_ns);
int mint_futex_wake(_Atomic uint32_t *word);

/* Take the fabric's directory lock (joins, object changes), repairing what
 * a dead holder left: 0 or a negative errno. */
int mint_dir_lock(struct mint_fabric *f);

/* Copy a NUL-terminated name out of shared memory (never trusting it). */
void mint_copy_name(char *dst, const char *src, size_t cap);


#endif
