/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: a ring whose indices and data area come from the
 * input, as a malicious producer could leave them.  The consumer must
 * never read outside the ring (ASan watches) and must always terminate.
 * Input: 8 bytes tail, 8 bytes head, then the data area (up to 4 KiB).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mint/endian.h"
#include "mint/mint.h"

#define RING_SIZE 4096u

static struct mint_fabric *fabric;
static uint64_t ring_off;
static char name[64];

static int init_ring(void *mem, uint64_t size, void *arg)
{
	(void)size;
	(void)arg;
	return mint_ring_format(mem, RING_SIZE, 0, MINT_NODE_NONE, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(name, sizeof(name), "fuzz-ring-%d", (int)getpid());
	if (mint_fabric_create(name, MINT_FABRIC_MIN_SIZE, &fabric) != 0)
		abort();
	/* The mapping is all we need: no file is left behind, however the
	 * fuzzer ends. */
	mint_fabric_destroy(name);
	/* A filler first, so the ring is the last bytes of the fabric and an
	 * overread runs off the end of the mapping. */
	uint64_t size = mint_ring_footprint(RING_SIZE), filler_off;
	uint64_t filler = mint_fabric_size(fabric) - MINT_HEAP_OFF - size;
	if (mint_obj_open(fabric, "filler", MINT_OBJ_RAW, filler, NULL, NULL, &filler_off) < 0 ||
	    mint_obj_open(fabric, "fuzz", MINT_OBJ_RING, size, init_ring, NULL, &ring_off) < 0)
		abort();
	if (ring_off + size != mint_fabric_size(fabric))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len < 16)
		return 0;
	struct mint_ring_hdr *h = mint_fabric_at(fabric, ring_off, mint_ring_footprint(RING_SIZE));
	init_ring(h, 0, NULL);
	uint64_t tail, head;
	memcpy(&tail, data, 8);
	memcpy(&head, data + 8, 8);
	size_t n = len - 16 < RING_SIZE ? len - 16 : RING_SIZE;
	struct mint_ring r;
	if (mint_ring_open(fabric, ring_off, &r) != 0)
		abort();
	/* The peer writes after we opened: nothing it writes was checked. */
	memcpy((uint8_t *)h + sizeof(*h), data + 16, n);
	atomic_store_explicit(&h->head, mint_le64(head), memory_order_relaxed);
	atomic_store_explicit(&h->tail, mint_le64(tail), memory_order_relaxed);
	uint8_t buf[RING_SIZE];
	struct mint_msg msgs[4];
	for (int i = 0; i < 4; i++)
		msgs[i] = (struct mint_msg){buf + i * (RING_SIZE / 4), 0, RING_SIZE / 4, 0};
	/* Each call consumes a record, resynchronises, or finds the ring
	 * empty; 4096 calls is far more than a 4 KiB ring can hold. */
	for (int i = 0; i < 4096; i++) {
		int rc = mint_ring_recv_batch(&r, msgs, 4);
		if (rc == 0 || rc == -EMSGSIZE)
			break;
	}
	return 0;
}
