/* SPDX-License-Identifier: MIT */
/*
 * The injection pair's geometry and driver-side copy, shared by nic-bench
 * (the timed pair) and nic-icount (the same pair counted under callgrind),
 * so that both measure the same thing.
 */
#ifndef MINT_BENCH_NIC_PAIR_H
#define MINT_BENCH_NIC_PAIR_H

#include <stdint.h>
#include <string.h>

#include "mint/mint.h"

#define BATCH 32u /* packets per interrupt, records per ring batch */
#define PKT 64u   /* bytes of each */
/* 1820 records of 64 bytes and an 8-byte header; the NIC has as many
 * descriptors (and one it keeps back), rounded up to a multiple of 8. */
#define RING_BYTES (128u << 10)
#define NIC_DESCS ((RING_BYTES / (PKT + 8) + 1 + 7) / 8 * 8)
#define NIC_BUF 256u /* bytes of each NIC buffer */

/* The packet copied out, as the ring anchor's recv_batch copies records:
 * both sides pay for reading the bytes.  Every packet is PKT bytes,
 * copied in one fixed-size memcpy as the ring's 64-byte records are: a
 * copy bounded only by a compare is turned by the compiler into a loop of
 * 8-byte moves, 3x the instructions of the anchor's copy for the same
 * bytes. */
static inline void nic_pair_take(const void *data)
{
	static uint8_t copy[PKT];
	memcpy(copy, data, PKT);
	__asm__ __volatile__("" : : "r"(copy) : "memory");
}

/* The NIC driver's consumer: any packet but a PKT-byte one is refused (a
 * drop, so the run reports loss). */
static inline int nic_pair_copy(void *arg, const struct mint_nic_rx *rx)
{
	(void)arg;
	if (rx->len != PKT)
		return -1;
	nic_pair_take(rx->data);
	return 0;
}

#endif
