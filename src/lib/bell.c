/* SPDX-License-Identifier: MIT */
#include "bell.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/time_types.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guest_internal.h"
#include "internal.h"
#include "le.h"

int mint_futex_wait(_Atomic uint32_t *word, uint32_t raw_expected, int64_t timeout_ns)
{
	if (mint_in_guest())
		return mint_guest_wait(word, raw_expected, timeout_ns);
	struct timespec ts, *tsp = NULL;
	if (timeout_ns >= 0) {
		ts.tv_sec = (time_t)(timeout_ns / 1000000000);
		ts.tv_nsec = (long)(timeout_ns % 1000000000);
		tsp = &ts;
	}
	/* Not FUTEX_PRIVATE: the word is shared between processes. */
	if (syscall(SYS_futex, word, FUTEX_WAIT, raw_expected, tsp, NULL, 0) == 0)
		return 0;
	if (errno == EAGAIN)
		return 0;
	return -errno;
}

int mint_futex_wake(_Atomic uint32_t *word)
{
	if (mint_in_guest())
		return mint_guest_wake(word);
	long n = syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return n < 0 ? -errno : (int)n;
}

/* Announce a wait of kind HOW, then re-check READY after a full fence. */
static bool announce(struct mint_bell *b, uint32_t how, mint_ready_fn ready, void *arg)
{
	ast32(&b->sleeping, how, memory_order_relaxed);
	/* seq_cst fence: orders our store of `sleeping` before the loads in
	 * READY; pairs with the fence in mint_bell_ring (Dekker). */
	atomic_thread_fence(memory_order_seq_cst);
	if (!ready(arg))
		return false;
	ast32(&b->sleeping, MINT_BELL_AWAKE, memory_order_relaxed);
	return true;
}

int mint_bell_wait_by(struct mint_bell *b, mint_ready_fn ready, void *arg, int64_t timeout_ns,
		      mint_sleep_fn wait, void *warg)
{
	/* acquire: a waker's seq bump after our read makes the futex fail with
	 * EAGAIN instead of sleeping; pairs with the release add in ring. */
	uint32_t raw_seq = atomic_load_explicit(&b->seq, memory_order_acquire);
	if (announce(b, MINT_BELL_FUTEX, ready, arg))
		return 0;
	int rc = wait ? wait(warg, &b->seq, raw_seq, timeout_ns) : -ENOSYS;
	if (rc < 0 && rc != -ETIMEDOUT && rc != -EINTR)
		rc = mint_futex_wait(&b->seq, raw_seq, timeout_ns);
	ast32(&b->sleeping, MINT_BELL_AWAKE, memory_order_relaxed);
	return rc;
}

int mint_bell_wait(struct mint_bell *b, mint_ready_fn ready, void *arg, int64_t timeout_ns)
{
	return mint_bell_wait_by(b, ready, arg, timeout_ns, NULL, NULL);
}

/* futex_waitv's absolute CLOCK_MONOTONIC deadline TIMEOUT_NS from now
 * (64-bit seconds on every architecture). */
static struct __kernel_timespec deadline_in(int64_t timeout_ns)
{
	uint64_t at = mint_now_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ns;
	return (struct __kernel_timespec){(long long)(at / 1000000000u), (long long)(at % 1000000000u)};
}

int mint_bell_wait_pair(struct mint_bell *a, struct mint_bell *b, mint_ready_fn ready, void *arg,
			int64_t timeout_ns)
{
	if (mint_in_guest())
		return -ENOSYS; /* no futex shared with the host: one bell at a time */
	/* acquire: as in mint_bell_wait, for each bell's seq. */
	uint32_t raw_a = atomic_load_explicit(&a->seq, memory_order_acquire);
	uint32_t raw_b = atomic_load_explicit(&b->seq, memory_order_acquire);
	ast32(&b->sleeping, MINT_BELL_FUTEX, memory_order_relaxed);
	/* announce's seq_cst fence orders both stores of `sleeping` before
	 * READY's loads; pairs with the fence in mint_bell_ring (Dekker). */
	if (announce(a, MINT_BELL_FUTEX, ready, arg)) {
		ast32(&b->sleeping, MINT_BELL_AWAKE, memory_order_relaxed);
		return 0;
	}
	/* Shared (not private) futexes: the words are in the fabric. */
	struct futex_waitv w[2] = {{raw_a, (uintptr_t)&a->seq, FUTEX_32, 0},
				   {raw_b, (uintptr_t)&b->seq, FUTEX_32, 0}};
	struct __kernel_timespec at;
	if (timeout_ns >= 0)
		at = deadline_in(timeout_ns);
	long n = syscall(SYS_futex_waitv, w, 2u, 0u, timeout_ns >= 0 ? &at : NULL,
			 CLOCK_MONOTONIC);
	/* Any other failure (ENOSYS, or an emulator's EINVAL) would fail again
	 * at once: the caller falls back instead of spinning. */
	int rc = n >= 0 || errno == EAGAIN		? 0
		 : errno == ETIMEDOUT || errno == EINTR ? -errno
							: -ENOSYS;
	ast32(&a->sleeping, MINT_BELL_AWAKE, memory_order_relaxed);
	ast32(&b->sleeping, MINT_BELL_AWAKE, memory_order_relaxed);
	return rc;
}

bool mint_bell_arm_irq(struct mint_bell *b, mint_ready_fn ready, void *arg)
{
	return announce(b, MINT_BELL_IRQ, ready, arg);
}

uint32_t mint_bell_ring(struct mint_bell *b)
{
	/* seq_cst fence: our published data is ordered before the load of
	 * `sleeping`; pairs with the fence in announce (Dekker). */
	atomic_thread_fence(memory_order_seq_cst);
	return mint_bell_ring_after_rmw(b);
}

uint32_t mint_bell_ring_after_rmw(struct mint_bell *b)
{
	/* seq_cst: with the caller's seq_cst RMW (or the fence above) before
	 * it, pairs with the seq_cst fence in announce (Dekker). */
	if (ald32(&b->sleeping, memory_order_seq_cst) == MINT_BELL_AWAKE)
		return MINT_BELL_AWAKE;
	/* Only the waker that clears the announcement pays for the wake-up. */
	uint32_t was = axchg32(&b->sleeping, MINT_BELL_AWAKE, memory_order_acq_rel);
	if (was == MINT_BELL_FUTEX) {
		/* release: pairs with the waiter's acquire load of seq. */
		aadd32(&b->seq, 1, memory_order_release);
		mint_futex_wake(&b->seq);
	}
	return was == MINT_BELL_FUTEX || was == MINT_BELL_IRQ ? was : MINT_BELL_AWAKE;
}
