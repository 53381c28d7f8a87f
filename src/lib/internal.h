/* SPDX-License-Identifier: MIT */
/* What the library's files share and users do not see. */
#ifndef MINT_INTERNAL_H
#define MINT_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "mint/clock.h"
#include "mint/fabric.h"
#include "mint/layout.h"

struct mint_fabric {
	uint8_t *base;
	uint64_t size;
	int fd;
	uint32_t self;        /* node id or MINT_NODE_NONE */
	uint32_t self_epoch;
	int32_t self_pid;     /* the pid our node entry records */
	uint32_t guest_id;    /* inside a guest: the driver's node id */
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

/* Copy a NUL-terminated name out of shared memory (never trusting it). */
void mint_copy_name(char *dst, const char *src, size_t cap);


#endif
