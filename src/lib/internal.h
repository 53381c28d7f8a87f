/* SPDX-License-Identifier: MIT */
/* What the library's files share and users do not see. */
#ifndef MINT_INTERNAL_H
#define MINT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "mint/clock.h"
#include "mint/fabric.h"
#include "mint/layout.h"

/* Lines 0 and 1 of the fabric header: written once by `mint up`. */
#define HDR_CONST_BYTES (2 * MINT_CACHELINE)

struct mint_fabric {
	uint8_t *base;
	uint64_t size;
	int fd;
	uint32_t self;        /* node id or MINT_NODE_NONE */
	uint32_t self_epoch;
	int32_t self_pid;     /* the pid our node entry records */
	uint32_t guest_id;    /* inside a guest: the driver's node id */
	uint64_t self_start;  /* the pid_start our join recorded */
	/* The header's constant lines as validated at attach (or written at
	 * creation): mint_fabric_heal puts them back. */
	uint8_t hdr_copy[HDR_CONST_BYTES];
	char path[256];
	/* The device table, found on first use (dev.c); NULL until then. */
	struct mint_devtab_hdr *_Atomic devtab;
};

/* Shared (cross-process) futex on a 32-bit fabric word. */
int mint_futex_wait(_Atomic uint32_t *word, uint32_t raw_expected, int64_t timeout_ns);
int mint_futex_wake(_Atomic uint32_t *word);

/* Take the fabric's directory lock (joins, object changes), repairing what
 * a dead holder left: 0 or a negative errno. */
int mint_dir_lock(struct mint_fabric *f);

/* Has process PID the fabric F's file mapped?  True too when /proc does
 * not let a caller that is not root look (another user's process). */
bool mint_pid_maps_fabric(const struct mint_fabric *f, int32_t pid);

/* Ask for the line at P in a state we may write, ahead of a load and a
 * store to it: one transfer from the core that wrote it last, instead of
 * a transfer for the load and an invalidation for the store.  A hint
 * only (a no-op where the CPU has none). */
static inline void mint_prefetch_w(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

/* Copy a NUL-terminated name out of shared memory (never trusting it). */
void mint_copy_name(char *dst, const char *src, size_t cap);

#endif
