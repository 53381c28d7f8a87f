/* SPDX-License-Identifier: MIT */
/* Doorbell interrupts: the IPI between nodes, and each node's dispatcher. */
#ifndef MINT_DOORBELL_H
#define MINT_DOORBELL_H

#include <stdint.h>

#include "mint/fabric.h"
#include "mint/node.h"
#include "mint/api.h"

MINT_BEGIN_DECLS

/* Vectors below 32 are mint's own. */
#define MINT_VEC_KICK 0u     /* no-op: wakes the dispatcher */
#define MINT_VEC_CHANNEL 1u  /* "a channel of yours has data": drain them */
#define MINT_VEC_USER 32u    /* first vector free for applications */

/*
 * Raise VECTOR on node NODE: set it pending and wake the node's dispatcher
 * only if it said it sleeps.  Returns 1 if a wake-up syscall was made, 0 if
 * not, -ERANGE for a bad node or vector.  The target need not be alive:
 * the vector stays pending until a node with that id dispatches.
 */
int mint_ipi_send(struct mint_fabric *f, uint32_t node, uint32_t vector);

typedef void (*mint_irq_handler)(void *arg, uint32_t vector);

struct mint_dispatcher;

/* A dispatcher for the node this fabric handle joined as: -ENOTCONN if
 * none, -EINVAL for a bad mode, -ENOMEM. */
int mint_dispatcher_create(struct mint_fabric *f, enum mint_dispatch_mode mode,
			   struct mint_dispatcher **out);
void mint_dispatcher_destroy(struct mint_dispatcher *d);

/* Spin budget of adaptive mode before it sleeps (default 50 us). */
void mint_dispatcher_set_spin(struct mint_dispatcher *d, uint64_t spin_ns);

/* Handler for VECTOR (NULL: count only).  Not thread-safe against run. */
int mint_dispatcher_set_handler(struct mint_dispatcher *d, uint32_t vector, mint_irq_handler fn,
				void *arg);

/* Poll mode, or with a sleep hook (below): FN(ARG) runs in the
 * dispatcher's thread at every turn, after the pending vectors, so that a
 * device is busy-polled there instead of by a thread of its own that would
 * have to be woken; it returns how much work it found (0: none).  NULL
 * removes it.  Not thread-safe against run. */
typedef int (*mint_idle_fn)(void *arg);
void mint_dispatcher_set_idle(struct mint_dispatcher *d, mint_idle_fn fn, void *arg);

/* Sleep and adaptive modes: FN(ARG, WORD, EXPECTED, TIMEOUT_NS) sleeps in
 * place of the dispatcher's own FUTEX_WAIT, so that one wait covers the
 * doorbell and the idle hook's device (which then runs in these modes too).
 * FN returns when the shared 32-bit futex word at WORD no longer holds
 * EXPECTED (a doorbell rang: FUTEX_WAIT's contract), when the device has
 * work, or after TIMEOUT_NS: 0, -ETIMEDOUT or -EINTR; any other negative
 * errno means it did not sleep, and the dispatcher waits on the doorbell
 * alone this time.  NULL removes it.  Not thread-safe against run. */
typedef int (*mint_sleep_fn)(void *arg, const void *word, uint32_t expected, int64_t timeout_ns);
void mint_dispatcher_set_sleep(struct mint_dispatcher *d, mint_sleep_fn fn, void *arg);

/* Handle whatever is pending now; returns the number of vectors handled. */
int mint_dispatcher_poll(struct mint_dispatcher *d);

/* Dispatch in the calling thread until mint_dispatcher_stop. Returns 0. */
int mint_dispatcher_run(struct mint_dispatcher *d);

/* Make run return soon; safe from any thread or handler. */
void mint_dispatcher_stop(struct mint_dispatcher *d);

/* Node ID's per-vector handled counts. -ERANGE. */
int mint_irq_counts(struct mint_fabric *f, uint32_t node, uint64_t counts[MINT_VECTORS]);

/* Node ID's doorbell counters (see struct mint_node_entry). -ERANGE. */
struct mint_irq_stats {
	uint64_t ipi_sent;         /* doorbells this node sent */
	uint64_t wakes_sent;       /* ... that had to wake their target */
	uint64_t wakes_suppressed; /* ... that found their target awake */
	uint64_t sleeps;           /* times its dispatcher went to sleep */
	uint64_t spurious;         /* vectors raised with no handler */
	uint64_t dispatch_passes;  /* dispatcher passes that handled something */
};
int mint_irq_stats(struct mint_fabric *f, uint32_t node, struct mint_irq_stats *st);

/* Doorbells sent by processes that are not nodes (tools). */
uint64_t mint_irq_external(struct mint_fabric *f);

MINT_END_DECLS

#endif
