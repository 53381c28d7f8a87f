/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the emulated NIC with a hostile other side.  The NIC
 * is the last object of the fabric, so a read or write past it runs off
 * the mapping.  The first input byte picks the attacker: a device (the
 * rest of the input over the descriptors, the device's line and ICR, then
 * the driver consumes), a driver (over the driver's line and the
 * descriptors, then the device writes packets, one at a time and in
 * batches, and raises interrupts), or
 * anybody (over the whole header, then a device opens it and reads the
 * counters).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mint/mint.h"

#define NDESC 8u
#define BUF 256u

static struct mint_fabric *fabric;
static struct mint_nic *nic;
static struct mint_nic_dev *dev;
static uint8_t *obj, pristine[4096];
static uint64_t obj_size;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	char name[64];
	snprintf(name, sizeof(name), "fuzz-nic-%d", (int)getpid());
	if (mint_fabric_create(name, MINT_FABRIC_MIN_SIZE, &fabric) != 0)
		abort();
	mint_fabric_destroy(name); /* the mapping is all we need */
	obj_size = 256 + NDESC * 16 + NDESC * BUF;
	uint64_t filler_off, filler = mint_fabric_size(fabric) - MINT_HEAP_OFF - obj_size;
	struct mint_nic_config cfg = {.ndesc = NDESC, .buf_size = BUF};
	struct mint_obj_info info;
	if (mint_obj_open(fabric, "filler", MINT_OBJ_RAW, filler, NULL, NULL, &filler_off) < 0 ||
	    mint_node_join(fabric, 1, NULL) || mint_nic_attach(fabric, &cfg, &nic) ||
	    mint_obj_find(fabric, "nic.1", &info) || info.offset + obj_size != mint_fabric_size(fabric) ||
	    mint_nic_dev_open(fabric, 1, &dev))
		abort();
	obj = mint_fabric_at(fabric, info.offset, obj_size);
	memcpy(pristine, obj, obj_size);
	return 0;
}

static int sink(void *arg, const struct mint_nic_rx *rx)
{
	volatile uint8_t x = 0;
	for (uint32_t i = 0; i < rx->len; i++)
		x ^= ((const uint8_t *)rx->data)[i];
	(void)arg, (void)x;
	return rx->len & 1 ? -1 : 0;
}

static void overwrite(uint64_t from, uint64_t to, const uint8_t *data, size_t len)
{
	size_t n = len < to - from ? len : (size_t)(to - from);
	memcpy(obj + from, data, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len < 2)
		return 0;
	memcpy(obj, pristine, obj_size);
	uint8_t pkt[BUF * 3]; /* the longest: 255 * 3 bytes */
	memset(pkt, 0xab, sizeof(pkt));
	switch (data[0] % 3) {
	case 0: /* the device: descriptors, its line, ICR */
		overwrite(256, 256 + NDESC * 16, data + 1, len - 1);
		overwrite(64, 128, data + 1, len - 1);
		overwrite(192, 196, data + 1, len - 1);
		mint_nic_cause(nic);
		for (int i = 0; i < 4; i++)
			mint_nic_rx(nic, sink, NULL, 1u + data[1] % 16);
		break;
	case 1: /* the driver: its line and the descriptors' addresses */
		overwrite(128, 192, data + 1, len - 1);
		overwrite(256, 256 + NDESC * 16, data + 1, len - 1);
		for (uint32_t i = 0; i < 20; i++) {
			/* One packet, or a batch of up to three of different sizes. */
			struct mint_nic_pkt p[3];
			for (uint32_t j = 0; j < 3; j++) {
				uint32_t n = (uint32_t)data[1] * (3u - j);
				p[j] = (struct mint_nic_pkt){pkt, n, n, 0, MINT_NIC_STAT_EOP, 0, 0, 0};
			}
			if (i % 2)
				mint_nic_put_batch(dev, p, 1 + i % 3, NULL);
			else
				mint_nic_put(dev, p, NULL);
			mint_nic_kick(dev, MINT_NIC_ICR_RXT0);
		}
		break;
	default: { /* anybody: the whole header */
		overwrite(0, 256, data + 1, len - 1);
		struct mint_nic_dev *d2;
		struct mint_nic_stats st;
		if (mint_nic_dev_open(fabric, 1, &d2) == 0)
			mint_nic_dev_close(d2);
		mint_nic_stats(fabric, 1, &st);
	}
	}
	return 0;
}
