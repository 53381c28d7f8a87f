/* SPDX-License-Identifier: MIT */
/*
 * Single-producer / single-consumer message rings in the fabric: variable
 * length records, batches, and blocking waits woken by doorbells.  The
 * consumer treats everything in the ring as untrusted and returns -EBADMSG
 * (counted in `errors`) for: a corrupt record (dropped with everything
 * published after it: the consumer resynchronises at the producer's tail);
 * an impossible tail (reported once, then read as "nothing new" until the
 * producer publishes a possible one).  A consumer that finds its own
 * published head overwritten publishes it again.
 */
#ifndef MINT_RING_H
#define MINT_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/fabric.h"
#include "mint/api.h"

MINT_BEGIN_DECLS

/* A process-local view of one ring (one side uses it). */
struct mint_ring {
	struct mint_fabric *f;
	struct mint_ring_hdr *hdr;
	uint8_t *data;
	uint64_t size;        /* validated copy of hdr->size */
	uint32_t max_record;  /* validated copy */
	uint32_t cons_node;   /* validated copies, for notifications */
	uint32_t cons_vector;
	uint64_t local_head;  /* consumer: its own progress */
	uint64_t local_tail;  /* producer: its own progress */
	uint64_t seen_head;   /* producer: last head it read */
	uint64_t seen_tail;   /* consumer: last tail it read */
	uint64_t bad_tail;    /* consumer: last impossible tail (reported once) */
	uint64_t res_tail;    /* producer: where the reserved record goes */
	uint32_t res_max;     /* producer: bytes reserved + 1 (0: none) */
	uint32_t last_bell;   /* producer: MINT_BELL_* found by the last publication */
	uint64_t peeked;      /* consumer: bytes of the record peeked at (0: none) */
	uint64_t seen_prod_errors; /* consumer: producer refusals already acted on */
	uint32_t dev;         /* producer: with via_dev, the consumer's device */
	bool via_dev;         /* producer: notify through the device table */
	bool held;            /* consumer: mint_ring_hold is on */
};

/* A message of a batch: DATA holds LEN bytes (send) or up to CAP (receive). */
struct mint_msg {
	void *data;
	uint32_t len;
	uint32_t cap;
	uint32_t type;
};

#define MINT_RING_MIN_SIZE 256u

/* Bytes a ring of SIZE data bytes occupies (header included). */
uint64_t mint_ring_footprint(uint64_t size);

/*
 * Lay out a ring at MEM (64-byte aligned, mint_ring_footprint(SIZE)
 * bytes).  SIZE: a power of two >= MINT_RING_MIN_SIZE.  CONS_VECTOR:
 * the vector raised on CONS_NODE when the consumer waits for interrupts
 * (MINT_VEC_CHANNEL is the usual one).
 */
int mint_ring_format(void *mem, uint64_t size, uint32_t prod_node, uint32_t cons_node,
		     uint32_t cons_vector);

/* Open the ring at offset OFF of F: validates the header (-EPROTO). */
int mint_ring_open(struct mint_fabric *f, uint64_t off, struct mint_ring *r);

/* Largest payload one record may carry. */
uint32_t mint_ring_max_record(const struct mint_ring *r);

/*
 * Producer.  send: 0, -EAGAIN if full, -EMSGSIZE if LEN is too large or
 * TYPE >= MINT_REC_PAD, -EBADMSG if the consumer's head is impossible.
 * DATA may be NULL when LEN is 0 (an empty record: its type is the message).
 * send_batch: publishes as many of N as fit with one index update and one
 * notification; returns how many (0: full), or one of those errors when
 * the first message could not be sent.
 */
int mint_ring_send(struct mint_ring *r, const void *data, uint32_t len, uint32_t type);
int mint_ring_send_batch(struct mint_ring *r, const struct mint_msg *msgs, unsigned n);

/*
 * Producer, without a copy: reserve room for a record of up to MAX bytes
 * and get a pointer to its payload in the ring (0, -EAGAIN if full,
 * -EMSGSIZE, -EBADMSG); write the payload there (a read(2) straight into
 * the ring, say), then commit LEN <= MAX bytes of it as one record of TYPE
 * (-EINVAL if LEN exceeds the reservation).  A reservation not committed
 * is simply dropped by the next reserve or send.
 */
int mint_ring_reserve(struct mint_ring *r, uint32_t max, void **payload);
int mint_ring_commit(struct mint_ring *r, uint32_t len, uint32_t type);

/*
 * Consumer.  recv: payload length, -EAGAIN if empty, -EMSGSIZE if CAP is
 * too small (the record stays), -EBADMSG on corruption (see above).  BUF
 * may be NULL when CAP is 0: only an empty record is taken then.
 * recv_batch: fills up to N messages and returns how many (0 if empty), or
 * -EMSGSIZE / -EBADMSG when it could take none.
 */
int mint_ring_recv(struct mint_ring *r, void *buf, uint32_t cap, uint32_t *type);
int mint_ring_recv_batch(struct mint_ring *r, struct mint_msg *msgs, unsigned n);

/*
 * Consumer, without a copy: a pointer to the next record's payload inside
 * the ring and its length (-EAGAIN if empty, -EBADMSG), valid until
 * mint_ring_release consumes it.  The header was validated; the payload is
 * the producer's memory, which a hostile producer may still be changing:
 * use it where torn bytes do no harm (a write(2) to a TAP device), copy it
 * out (mint_ring_recv) where they would.
 */
int mint_ring_peek(struct mint_ring *r, const void **payload, uint32_t *type);
void mint_ring_release(struct mint_ring *r);

/*
 * Consumer: while HOLD is on, records taken (released, received, skipped)
 * stay the consumer's: the head is not published, so the producer cannot
 * reuse their bytes and peeked payloads stay valid after their release.
 * Turning it off publishes the head.  For batches that the kernel reads
 * after the fact (writes submitted together through io_uring).
 */
void mint_ring_hold(struct mint_ring *r, bool hold);

/*
 * Blocking forms: wait up to TIMEOUT_MS (-1: forever; 0: do not wait) for
 * space or data, sleeping on the ring's doorbell; -ETIMEDOUT, -EINTR on a
 * signal, else as above.
 */
int mint_ring_send_wait(struct mint_ring *r, const void *data, uint32_t len, uint32_t type,
			int timeout_ms);
int mint_ring_recv_wait(struct mint_ring *r, void *buf, uint32_t cap, uint32_t *type,
			int timeout_ms);

/*
 * Consumer of two rings (one thread consuming both A and B; B may be
 * NULL): wait up to TIMEOUT_MS (-1: forever) until either has data,
 * sleeping on both doorbells at once.  0 (then receive from the one that
 * has data), -ETIMEDOUT, -EINTR on a signal.
 */
int mint_ring_wait_either(struct mint_ring *a, struct mint_ring *b, int timeout_ms);

/*
 * Interrupt-driven consumers (a node's dispatcher): after draining, arm
 * the ring so the next send raises cons_vector on the consumer's node.
 * Returns 0 when armed and empty, 1 when data arrived meanwhile (drain
 * again), -EINVAL if the consumer is not a node.
 */
int mint_ring_arm(struct mint_ring *r);

/* Producer: raise the armed consumer's interrupt through device DEV of
 * the device table (mint_dev_raise: its owner, vector and mask) instead of
 * cons_vector on cons_node; directly again if DEV is unregistered. */
void mint_ring_route_dev(struct mint_ring *r, uint32_t dev);

/* Bytes published and not yet consumed (record headers, padding and pad
 * records included), as the consumer sees them; 0 for an impossible tail. */
uint64_t mint_ring_pending_bytes(const struct mint_ring *r);

MINT_END_DECLS

#endif
