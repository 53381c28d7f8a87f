/* SPDX-License-Identifier: MIT */
/* Round trips through a channel to a node's echo service. */
#ifndef MINT_PING_H
#define MINT_PING_H

#include <signal.h>
#include <stdint.h>

#include "mint/mint.h"
#include "mint/proto.h"

struct ping_opts {
	uint32_t count;
	uint32_t size;        /* payload bytes, >= 16 */
	uint64_t interval_ns;
	uint32_t timeout_ms;  /* per round trip */
};

typedef void (*ping_report_fn)(void *arg, const struct mint_ping_result *r);

/*
 * Ping node DST through channel CHAN (created as SRC -> DST, removed at
 * the end), calling REPORT after each round trip.  Stops early when *STOP
 * becomes nonzero.  Returns replies received, -EHOSTDOWN if DST died, or
 * another negative errno.
 */
int ping_run(struct mint_fabric *f, const char *chan, uint32_t src, uint32_t dst,
	     const struct ping_opts *o, ping_report_fn report, void *arg,
	     volatile sig_atomic_t *stop);

#endif
