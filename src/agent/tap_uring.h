/* SPDX-License-Identifier: MIT */
/*
 * A TAP device's I/O through io_uring: frame writes queued and submitted
 * together (one system call a batch), and a read posted ahead whose
 * completion is seen in shared memory (no system call while nothing
 * arrives).  One tap_uring per thread: it is not thread-safe.
 */
#ifndef MINT_TAP_URING_H
#define MINT_TAP_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct io_uring;

struct tap_uring {
	struct io_uring *ring; /* NULL: not open */
	int fd;
	const uint8_t *fixed;  /* registered buffer (the fabric), or NULL */
	uint64_t fixed_len;
	unsigned queued;       /* writes prepared since the last flush */
	bool reading;          /* a read is posted */
	bool no_read_now;      /* tap_uring_read_now lost track of a read */
	bool can_futex;        /* the kernel has IORING_OP_FUTEX_WAIT (6.7) */
	unsigned futex_waits;  /* tap_uring_sleep's futex waits posted */
	uint32_t futex_val;    /* ... the last one's expected value */
};

/*
 * Open an io_uring for FD with room for ENTRIES requests; when FIXED (LEN
 * bytes: the fabric) can be registered, I/O inside it uses the registered
 * buffer.  Returns 0, or a negative errno with a sentence in WHY (CAP
 * bytes) saying why io_uring cannot serve (disabled by sysctl, too old a
 * kernel, built without liburing).  On success WHY says how it serves.
 */
int tap_uring_open(struct tap_uring *u, int fd, unsigned entries, const void *fixed, uint64_t len,
		   char *why, size_t cap);
/* Cancel a posted read, wait for it and close. */
void tap_uring_close(struct tap_uring *u);

/* Queue a write of FRAME (LEN bytes), submitting what is queued first
 * when the queue is full: 0, or -1 if it cannot be queued. */
int tap_uring_write(struct tap_uring *u, const void *frame, uint32_t len);
/* Submit the queued writes and wait for them: how many failed, their
 * bytes in *FAILED_BYTES. */
unsigned tap_uring_flush(struct tap_uring *u, uint64_t *failed_bytes);

/* Post a read into BUF (CAP bytes), submitted by the next
 * tap_uring_read_done: 0 or a negative errno. */
int tap_uring_read(struct tap_uring *u, void *buf, uint32_t cap);
/* The posted read's outcome: its length (> 0), 0 if it has not
 * completed (after waiting up to WAIT_MS; 0: a look in memory, no system
 * call), a negative errno if it failed (the read is no longer posted) or
 * could not be submitted (-EBUSY or another errno but -EAGAIN and -EINTR:
 * it stays posted, and reading again is useless). */
int tap_uring_read_done(struct tap_uring *u, int wait_ms);
/* Read the frames that wait in the TAP now, up to N, into BUF + i * CAP,
 * in one system call that never waits (not while a read is posted: it
 * would take frames out of order).  LENS[i] is the i-th read's length, 0
 * if it found nothing or failed; the frames are in LENS' order.  Returns
 * how many were read, or a negative errno. */
int tap_uring_read_now(struct tap_uring *u, uint8_t *buf, uint32_t cap, uint32_t lens[], unsigned n);

/* Sleep until the posted read (or any other request) completes, the
 * shared futex word WORD no longer holds EXPECTED, or TIMEOUT_NS pass
 * (the dispatcher's sleep hook: the TAP and the doorbell in one wait).
 * The futex wait stays posted until a wake-up completes it.  Returns 0,
 * or a negative errno when it could not wait: -ENOSYS without
 * IORING_OP_FUTEX_WAIT, -EBUSY while too many futex waits are posted (the
 * word changed without wake-ups: a stale futex wait is cancelled). */
int tap_uring_sleep(struct tap_uring *u, const void *word, uint32_t expected, int64_t timeout_ns);

#endif
