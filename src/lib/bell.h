/* SPDX-License-Identifier: MIT */
/*
 * Flag-gated wake-ups (see struct mint_bell): a waiter announces that it
 * sleeps, re-checks its condition, and sleeps; a waker that published
 * something checks the announcement and makes a syscall only when it finds
 * one.  The two sides form a Dekker pair: waiter "store sleeping; fence;
 * load condition", waker "store data; fence; load sleeping", so at least
 * one of them sees the other.
 */
#ifndef MINT_BELL_H
#define MINT_BELL_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/doorbell.h"
#include "mint/layout.h"

typedef bool (*mint_ready_fn)(void *arg);

/*
 * Sleep on B until READY(ARG) holds, a wake-up arrives, or TIMEOUT_NS
 * passes (-1: no limit).  Returns 0 (re-check the condition: wake-ups are
 * hints), -ETIMEDOUT, or -EINTR.
 */
int mint_bell_wait(struct mint_bell *b, mint_ready_fn ready, void *arg, int64_t timeout_ns);

/*
 * mint_bell_wait, sleeping in WAIT(WARG, word, raw_expected, TIMEOUT_NS)
 * instead of FUTEX_WAIT, with the contract of mint_dispatcher_set_sleep's
 * hook (mint/doorbell.h): on an error other than -ETIMEDOUT or -EINTR it
 * has not slept, and this wait is a FUTEX_WAIT.
 */
int mint_bell_wait_by(struct mint_bell *b, mint_ready_fn ready, void *arg, int64_t timeout_ns,
		      mint_sleep_fn wait, void *warg);

/*
 * mint_bell_wait on two bells at once (futex_waitv): sleeps until READY(ARG)
 * holds (it looks at both bells' conditions), either bell rings, or
 * TIMEOUT_NS passes.  Returns 0, -ETIMEDOUT, -EINTR, or -ENOSYS where the
 * kernel (or an emulator) has no futex_waitv or refuses it; nothing is
 * left announced.
 */
int mint_bell_wait_pair(struct mint_bell *a, struct mint_bell *b, mint_ready_fn ready, void *arg,
			int64_t timeout_ns);

/*
 * Announce an interrupt-driven wait (MINT_BELL_IRQ) and re-check: returns
 * true if READY(ARG) already holds (the announcement is withdrawn).
 */
bool mint_bell_arm_irq(struct mint_bell *b, mint_ready_fn ready, void *arg);

/*
 * After publishing: wake B's waiter if it announced one.  Returns
 * MINT_BELL_AWAKE (nobody waited; no syscall), MINT_BELL_FUTEX (a futex
 * wake was made) or MINT_BELL_IRQ (the caller must raise the interrupt).
 */
uint32_t mint_bell_ring(struct mint_bell *b);

/* The same, for a caller that published with a seq_cst read-modify-write:
 * that RMW already orders the publication before our seq_cst load, so no
 * fence is needed (the doorbell fast path). */
uint32_t mint_bell_ring_after_rmw(struct mint_bell *b);

#endif
