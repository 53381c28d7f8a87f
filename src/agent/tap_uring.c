/* SPDX-License-Identifier: MIT */
/* A TAP device's I/O through io_uring: see tap_uring.h. */
#include "agent/tap_uring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MINT_WITH_URING
#include <liburing.h>

#define READ_TAG UINT64_MAX /* user_data of the posted read; writes carry their length,
			     * tap_uring_read_now's reads their index */
#define CANCEL_TAG (READ_TAG - 1)
#define FUTEX_TAG (READ_TAG - 2) /* tap_uring_sleep's futex waits */
#define FUTEX_WAITS_MAX 4u /* more posted: the word changed without a wake-up */
/* From Linux 6.7's uapi headers, which Debian 12's (6.1) and its liburing
 * (2.3) predate; a kernel without the operation says so in its probe. */
#define OP_FUTEX_WAIT 51
#define FUTEX2_SIZE_U32 0x02u /* and not FUTEX2_PRIVATE: the word is shared */
#define FUTEX_MATCH_ANY 0xffffffffu
#define READ_NOW_WAIT_MS 100 /* bound on a wait that never happens (see read_now) */
#define FIXED_MAX (1ull << 30) /* the kernel's limit for one registered buffer */

/* Why io_uring_queue_init failed, in words. */
static void explain(int rc, char *why, size_t cap)
{
	FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "re");
	int disabled = 0;
	if (f && fscanf(f, "%d", &disabled) != 1)
		disabled = 0;
	if (f)
		fclose(f);
	if (rc == -ENOSYS)
		snprintf(why, cap, "io_uring unavailable: the kernel has no io_uring_setup");
	else if (disabled)
		snprintf(why, cap, "io_uring unavailable: kernel.io_uring_disabled = %d (%s)", disabled,
			 strerror(-rc));
	else
		snprintf(why, cap, "io_uring unavailable: io_uring_setup: %s", strerror(-rc));
}

/* Register the fabric as buffer 0 when the kernel lets us: 0 or -errno. */
static int register_fixed(struct tap_uring *u, const void *fixed, uint64_t len)
{
	if (!fixed || len == 0 || len > FIXED_MAX)
		return -E2BIG;
	struct iovec iov = {(void *)fixed, (size_t)len};
	int rc = io_uring_register_buffers(u->ring, &iov, 1);
	if (rc == 0) {
		u->fixed = fixed;
		u->fixed_len = len;
	}
	return rc;
}

static bool has_futex_wait(struct io_uring *ring)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
	bool ok = probe && io_uring_opcode_supported(probe, OP_FUTEX_WAIT);
	io_uring_free_probe(probe);
	return ok;
}

int tap_uring_open(struct tap_uring *u, int fd, unsigned entries, const void *fixed, uint64_t len,
		   char *why, size_t cap)
{
	memset(u, 0, sizeof(*u));
	u->fd = fd;
	u->ring = malloc(sizeof(*u->ring));
	if (!u->ring) {
		snprintf(why, cap, "io_uring unavailable: out of memory");
		return -ENOMEM;
	}
	int rc = io_uring_queue_init(entries, u->ring, 0);
	if (rc < 0) {
		explain(rc, why, cap);
		free(u->ring);
		u->ring = NULL;
		return rc;
	}
	u->can_futex = has_futex_wait(u->ring);
	rc = register_fixed(u, fixed, len);
	if (rc == 0)
		snprintf(why, cap, "io_uring, the fabric registered (%llu MiB)",
			 (unsigned long long)(len >> 20));
	else
		snprintf(why, cap, "io_uring, fabric not registered (%s)", strerror(-rc));
	return 0;
}

/* Buffer index for BUF..BUF+LEN: 0 inside the registered fabric, -1 not. */
static int fixed_index(const struct tap_uring *u, const void *buf, uint32_t len)
{
	const uint8_t *b = buf;
	return u->fixed && b >= u->fixed && (uint64_t)(b - u->fixed) + len <= u->fixed_len ? 0 : -1;
}

void tap_uring_close(struct tap_uring *u)
{
	if (!u->ring)
		return;
	if (u->reading) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(u->ring);
		if (sqe) {
			io_uring_prep_cancel64(sqe, READ_TAG, 0);
			io_uring_sqe_set_data64(sqe, CANCEL_TAG);
			io_uring_submit(u->ring);
		}
		/* The read ends (cancelled or done) before the buffer it writes
		 * into may go away; bounded: a cancel completes at once. */
		for (int i = 0; i < 100 && u->reading; i++)
			tap_uring_read_done(u, 10);
	}
	io_uring_queue_exit(u->ring);
	free(u->ring);
	u->ring = NULL;
}

static struct io_uring_sqe *get_sqe(struct tap_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(u->ring);
	if (!sqe && io_uring_submit(u->ring) >= 0)
		sqe = io_uring_get_sqe(u->ring);
	return sqe;
}

/* Prepare a read into or a write from BUF (LEN bytes) tagged TAG, from
 * the registered fabric when BUF lies in it: false if the queue is full. */
static bool prep(struct tap_uring *u, bool write, void *buf, uint32_t len, uint64_t tag)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	if (!sqe)
		return false;
	int idx = fixed_index(u, buf, len);
	if (idx >= 0 && write)
		io_uring_prep_write_fixed(sqe, u->fd, buf, len, 0, idx);
	else if (idx >= 0)
		io_uring_prep_read_fixed(sqe, u->fd, buf, len, 0, idx);
	else if (write)
		io_uring_prep_write(sqe, u->fd, buf, len, 0);
	else
		io_uring_prep_read(sqe, u->fd, buf, len, 0);
	io_uring_sqe_set_data64(sqe, tag);
	return true;
}

int tap_uring_write(struct tap_uring *u, const void *frame, uint32_t len)
{
	/* A write's tag is its length, to know a short one. */
	if (!prep(u, true, (void *)frame, len, len))
		return -1;
	u->queued++;
	return 0;
}

unsigned tap_uring_flush(struct tap_uring *u, uint64_t *failed_bytes)
{
	unsigned failed = 0;
	*failed_bytes = 0;
	/* A TAP write completes within the submission: one system call for
	 * the batch; the wait is for one the kernel handed to a worker.
	 * Bounded: a pass per write, and two for signals. */
	for (unsigned tries = u->queued + 2; u->queued && tries; tries--) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		int rc = io_uring_submit_and_wait(u->ring, 1);
		if (rc == -EINTR)
			continue; /* a signal: wait again, within the bound */
		if (rc < 0)
			break;
		io_uring_for_each_cqe(u->ring, head, cqe) {
			uint64_t len = io_uring_cqe_get_data64(cqe);
			n++;
			if (cqe->res != (int)len) {
				failed++;
				*failed_bytes += len;
			}
		}
		io_uring_cq_advance(u->ring, n);
		u->queued -= n < u->queued ? n : u->queued;
	}
	failed += u->queued; /* never completed: counted lost */
	u->queued = 0;
	return failed;
}

int tap_uring_read(struct tap_uring *u, void *buf, uint32_t cap)
{
	if (!prep(u, false, buf, cap, READ_TAG))
		return -EBUSY;
	u->reading = true; /* submitted by tap_uring_read_done */
	return 0;
}

/* The posted read's completion, or another request's (see read_done):
 * 1 with it in *CQE, 0 when there is none after waiting up to WAIT_MS
 * (0: a look in memory), or a negative errno when the submission failed
 * (never -EAGAIN or -EINTR, which a read's own outcome may be).  A read
 * not yet submitted goes in the same system call as the wait. */
static int next_cqe(struct tap_uring *u, int wait_ms, struct io_uring_cqe **cqe)
{
	int rc = 0;
	*cqe = NULL;
	if (wait_ms > 0) {
		struct __kernel_timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000ll};
		rc = io_uring_submit_and_wait_timeout(u->ring, cqe, 1, &ts, NULL);
	} else if (io_uring_sq_ready(u->ring)) {
		rc = io_uring_submit(u->ring);
	}
	if (rc == -ETIME || rc == -EINTR)
		return 0; /* timed out, or a signal: the caller comes back */
	if (rc < 0)
		return rc == -EAGAIN ? -EBUSY : rc;
	if (!*cqe && io_uring_peek_cqe(u->ring, cqe) != 0)
		return 0; /* nothing: looked at in memory only */
	return 1;
}

/* A completion that is not a read's: a cancel's, or a futex wait's. */
static void seen_other(struct tap_uring *u, uint64_t tag)
{
	if (tag == FUTEX_TAG && u->futex_waits)
		u->futex_waits--;
}

int tap_uring_read_done(struct tap_uring *u, int wait_ms)
{
	struct io_uring_cqe *cqe = NULL;
	int rc = 0;
	while (u->reading && rc == 0) {
		int got = next_cqe(u, wait_ms, &cqe);
		if (got <= 0)
			return got;
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		if (tag == READ_TAG) {
			u->reading = false;
			rc = cqe->res != 0 ? cqe->res : -EIO; /* a TAP read is never empty */
		} else {
			seen_other(u, tag);
		}
		io_uring_cqe_seen(u->ring, cqe);
	}
	return rc;
}

/* Take the completions of read_now's N reads into LENS: how many read a
 * frame.  Should one not have completed, its buffer may still be written
 * and its frame come late: read_now is not used again. */
static int reaped_now(struct tap_uring *u, uint32_t lens[], unsigned n)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0, mine = 0;
	int got = 0;
	io_uring_for_each_cqe(u->ring, head, cqe) {
		uint64_t i = io_uring_cqe_get_data64(cqe);
		seen++;
		mine += i < n;
		if (i >= n)
			seen_other(u, i);
		if (i < n && cqe->res > 0) {
			lens[i] = (uint32_t)cqe->res;
			got++;
		}
	}
	io_uring_cq_advance(u->ring, seen);
	u->no_read_now = mine != n;
	return got;
}

int tap_uring_read_now(struct tap_uring *u, uint8_t *buf, uint32_t cap, uint32_t lens[], unsigned n)
{
	if (u->reading || u->no_read_now)
		return -EBUSY;
	for (unsigned i = 0; i < n; i++) {
		lens[i] = 0;
		struct io_uring_sqe *sqe = get_sqe(u);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_read(sqe, u->fd, buf + (size_t)i * cap, cap, 0);
		/* An empty TAP answers -EAGAIN at once instead of the read
		 * being armed to wait: each completes within the submission. */
		sqe->rw_flags = RWF_NOWAIT;
		io_uring_sqe_set_data64(sqe, i);
	}
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = {0, READ_NOW_WAIT_MS * 1000000ll};
	int rc = io_uring_submit_and_wait_timeout(u->ring, &cqe, n, &ts, NULL);
	if (rc < 0 && rc != -ETIME)
		return rc;
	return reaped_now(u, lens, n);
}

/* Post a futex wait on WORD for EXPECTED, unless the last one posted
 * waits for it still: 0, or -EBUSY. */
static int post_futex_wait(struct tap_uring *u, const void *word, uint32_t expected)
{
	if (u->futex_waits > 0 && u->futex_val == expected)
		return 0;
	struct io_uring_sqe *sqe = get_sqe(u);
	if (u->futex_waits >= FUTEX_WAITS_MAX && sqe) {
		/* Someone changed the word without waking its waiters: they
		 * would never complete.  Cancel them all, this time unused. */
		io_uring_prep_cancel64(sqe, FUTEX_TAG, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, CANCEL_TAG);
		io_uring_submit(u->ring);
		return -EBUSY;
	}
	if (!sqe)
		return -EBUSY;
	io_uring_prep_rw(OP_FUTEX_WAIT, sqe, (int)FUTEX2_SIZE_U32, word, 0, expected);
	sqe->addr3 = FUTEX_MATCH_ANY;
	io_uring_sqe_set_data64(sqe, FUTEX_TAG);
	u->futex_waits++;
	u->futex_val = expected;
	return 0;
}

int tap_uring_sleep(struct tap_uring *u, const void *word, uint32_t expected, int64_t timeout_ns)
{
	if (!u->ring || !u->can_futex)
		return -ENOSYS;
	int rc = post_futex_wait(u, word, expected);
	if (rc)
		return rc;
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = {timeout_ns / 1000000000, timeout_ns % 1000000000};
	/* Any completion ends it; the idle hook then takes them in order. */
	rc = io_uring_submit_and_wait_timeout(u->ring, &cqe, 1, timeout_ns >= 0 ? &ts : NULL, NULL);
	if (rc == -ETIME)
		return -ETIMEDOUT;
	return rc < 0 ? rc : 0;
}

#else /* built without liburing */

int tap_uring_open(struct tap_uring *u, int fd, unsigned entries, const void *fixed, uint64_t len,
		   char *why, size_t cap)
{
	(void)entries, (void)fixed, (void)len;
	memset(u, 0, sizeof(*u));
	u->fd = fd;
	snprintf(why, cap, "io_uring unavailable: built without liburing");
	return -ENOSYS;
}

void tap_uring_close(struct tap_uring *u) { (void)u; }
int tap_uring_write(struct tap_uring *u, const void *frame, uint32_t len)
{
	(void)u, (void)frame, (void)len;
	return -1;
}
unsigned tap_uring_flush(struct tap_uring *u, uint64_t *failed_bytes)
{
	(void)u;
	*failed_bytes = 0;
	return 0;
}
int tap_uring_read(struct tap_uring *u, void *buf, uint32_t cap)
{
	(void)u, (void)buf, (void)cap;
	return -ENOSYS;
}
int tap_uring_read_done(struct tap_uring *u, int wait_ms)
{
	(void)u, (void)wait_ms;
	return -ENOSYS;
}
int tap_uring_read_now(struct tap_uring *u, uint8_t *buf, uint32_t cap, uint32_t lens[], unsigned n)
{
	(void)u, (void)buf, (void)cap, (void)lens, (void)n;
	return -ENOSYS;
}
int tap_uring_sleep(struct tap_uring *u, const void *word, uint32_t expected, int64_t timeout_ns)
{
	(void)u, (void)word, (void)expected, (void)timeout_ns;
	return -ENOSYS;
}

#endif
