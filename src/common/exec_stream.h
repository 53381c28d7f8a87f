/* SPDX-License-Identifier: MIT */
/* What both ends of an exec session do with their rings and descriptors. */
#ifndef MINT_EXEC_STREAM_H
#define MINT_EXEC_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mint/mint.h"

/* Asked between waits: false ends the wait with -ECANCELED. */
typedef bool (*exec_go_on_fn)(void *arg);

/* How long one wait lasts before GO_ON is asked again. */
#define EXEC_POLL_MS 100

/*
 * Send one record, waiting for space in slices of EXEC_POLL_MS while
 * GO_ON(ARG) says so.  0, -ECANCELED, or an error of mint_ring_send.
 */
int exec_send(struct mint_ring *tx, const void *data, uint32_t len, uint32_t type,
	      exec_go_on_fn go_on, void *arg);

/* Send a u32 (little-endian) record. */
int exec_send_u32(struct mint_ring *tx, uint32_t v, uint32_t type, exec_go_on_fn go_on, void *arg);

/*
 * Write all LEN bytes to FD (blocking or not), waiting for room in slices
 * of EXEC_POLL_MS while GO_ON(ARG) says so.  0, -ECANCELED or -errno.
 */
int exec_write_all(int fd, const void *buf, size_t len, exec_go_on_fn go_on, void *arg);

/*
 * Read up to MINT_EXEC_CHUNK bytes of FD into one record of TYPE: straight into
 * the ring when it has room for a whole chunk, else through BUF (which
 * holds MINT_EXEC_CHUNK bytes), waiting for room while GO_ON(ARG) says so.
 * Returns the bytes sent, 0 at the end of FD, -EAGAIN when FD had nothing,
 * or -errno (-ECANCELED, or an error of the ring).
 */
int exec_forward_fd(struct mint_ring *tx, int fd, uint32_t type, uint8_t *buf,
		    exec_go_on_fn go_on, void *arg);

/*
 * Wait up to EXEC_POLL_MS for the next record and peek at it without a
 * copy: its length, with *PAYLOAD in the ring until mint_ring_release (the
 * sender may still change those bytes: read each field once).  An empty
 * record is taken at once (*TAKEN: nothing to release).  -ETIMEDOUT (also
 * at once when a record arrives on ALSO, a ring the caller consumes too,
 * or NULL), -EINTR, or an error of mint_ring_peek.
 */
int exec_peek_wait(struct mint_ring *rx, struct mint_ring *also, const void **payload,
		   uint32_t *type, bool *taken);

/* A little-endian u32 at P (which may be unaligned). */
uint32_t exec_get_u32(const void *p);

/* Control characters in S become '?': a string from the other side
 * cannot forge log lines or send escape sequences to a terminal. */
void exec_printable(char *s);

#endif
