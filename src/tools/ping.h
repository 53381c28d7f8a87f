/* SPDX-License-Identifier: MIT */
/* Round trips through a channel to a node's echo service. */
#ifndef MINT_PING_H
#define MINT_PING_H

#include <signal.h>
#include <stdint.h>

#include "mint/mint.h"

/* Record types on echo and control channels. */
enum ping_type {
	PING_REQUEST = 1,
	PING_REPLY = 2,
	CTL_PING = 16,   /* client -> agent: struct ctl_ping */
	CTL_RESULT = 17, /* agent -> client: struct ping_result */
	CTL_DONE = 18,   /* agent -> client: struct ping_result, seq = status */
};

#define ECHO_PREFIX "echo."
#define CTL_PREFIX "ctl."
#define PING_RING_SIZE (256u * 1024u)
#define PING_MAX_SIZE 65536u

struct ping_opts {
	uint32_t count;
	uint32_t size;        /* payload bytes, >= 16 */
	uint64_t interval_ns;
	uint32_t timeout_ms;  /* per round trip */
};

/* One round trip (little-endian on the wire, as everything in the fabric). */
struct ping_result {
	uint32_t seq;
	int32_t status;       /* 0 or a negative errno (-ETIMEDOUT: lost) */
	uint64_t rtt_ns;
};

/* A control request (all fields little-endian). */
struct ctl_ping {
	uint32_t dst;
	uint32_t count;
	uint32_t size;
	uint32_t timeout_ms;
	uint64_t interval_ns;
};

typedef void (*ping_report_fn)(void *arg, const struct ping_result *r);

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
