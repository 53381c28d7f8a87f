/* SPDX-License-Identifier: MIT */
/*
 * nic-icount: nic-bench's injection pair in one process, without
 * concurrency, for an instruction count per packet of each side that does
 * not depend on the machine's load (run it under callgrind; the method is
 * in docs/benchmarks.md).  The device writes 8 batches of 32 64-byte
 * packets, kicking after each, and the driver takes the cause and drains
 * them as nic-bench's handler does; then the raw ring carries as many
 * 64-byte records, 32 a batch, each batch sent and received; then the
 * model of the NIC's descriptor semantics (nic-model.h) as many packets,
 * as the NIC.
 * Usage: nic-icount [ROUNDS]   (each round: 256 packets, 256 records,
 * 256 packets)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mint/mint.h"

#include "nic/nic-model.h"
#include "nic/nic-pair.h"

#define IN_FLIGHT 8 /* batches a round */

struct rig {
	struct mint_fabric *f;
	struct mint_ring ring;
	struct mint_nic *nic;
	struct mint_nic_dev *dev;
};

static int setup(const char *fab, struct rig *r)
{
	uint64_t off, size = mint_ring_footprint(RING_BYTES);
	struct mint_nic_config cfg = {.ndesc = NIC_DESCS, .buf_size = NIC_BUF};
	if (mint_fabric_create(fab, 64ull << 20, &r->f))
		return -1;
	if (mint_node_join(r->f, 1, NULL) ||
	    mint_obj_open(r->f, "ring", MINT_OBJ_RAW, size, NULL, NULL, &off) < 0 ||
	    mint_ring_format(mint_fabric_at(r->f, off, size), RING_BYTES, MINT_NODE_NONE, 1,
			     MINT_VEC_CHANNEL) < 0 ||
	    mint_ring_open(r->f, off, &r->ring) || mint_nic_attach(r->f, &cfg, &r->nic) ||
	    mint_nic_dev_open(r->f, 1, &r->dev))
		return -1;
	return 0;
}

/* One round of the NIC: packets the driver consumed. */
static unsigned long nic_round(struct rig *r, const struct mint_nic_pkt *pkts)
{
	unsigned long got = 0;
	for (int b = 0; b < IN_FLIGHT; b++) {
		mint_nic_put_batch(r->dev, pkts, BATCH, NULL);
		mint_nic_kick(r->dev, MINT_NIC_ICR_RXT0);
	}
	mint_nic_cause(r->nic);
	int n;
	while ((n = mint_nic_rx(r->nic, nic_pair_copy, NULL, 256)) > 0)
		got += (unsigned)n;
	return got;
}

/* One round of the model of the NIC's descriptor semantics, as the NIC's. */
static unsigned long model_round(struct nic_model_dev *d, struct nic_model_drv *v)
{
	static uint8_t pkt[PKT];
	unsigned long got = 0;
	for (int b = 0; b < IN_FLIGHT; b++) {
		nic_model_put(d, pkt, BATCH);
		nic_model_kick(d);
	}
	unsigned n;
	if (nic_model_rang(v))
		while ((n = nic_model_rx(v, 256)) > 0)
			got += n;
	return got;
}

/* One round of the ring: records received. */
static unsigned long ring_round(struct rig *r, const struct mint_msg *out)
{
	static uint8_t bufs[BATCH][PKT];
	struct mint_msg in[BATCH];
	unsigned long got = 0;
	for (int b = 0; b < IN_FLIGHT; b++) {
		mint_ring_send_batch(&r->ring, out, BATCH);
		for (unsigned i = 0; i < BATCH; i++)
			in[i] = (struct mint_msg){bufs[i], 0, PKT, 0};
		int n = mint_ring_recv_batch(&r->ring, in, BATCH);
		got += n > 0 ? (unsigned)n : 0;
	}
	return got;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
	if (argc > 2 || rounds < 1) {
		fprintf(stderr, "usage: nic-icount [ROUNDS]\n");
		return 2;
	}
	char fab[64];
	snprintf(fab, sizeof(fab), "nicicount-%d", (int)getpid());
	struct rig r = {0};
	if (setup(fab, &r)) {
		fprintf(stderr, "nic-icount: cannot set up fabric %s\n", fab);
		mint_fabric_destroy(fab);
		return 1;
	}
	static uint8_t pkt[PKT];
	struct mint_nic_pkt pkts[BATCH];
	struct mint_msg out[BATCH];
	for (unsigned i = 0; i < BATCH; i++) {
		pkts[i] = (struct mint_nic_pkt){pkt, PKT, PKT, 0, MINT_NIC_STAT_EOP, 0, 0, 0};
		out[i] = (struct mint_msg){pkt, PKT, PKT, 1};
	}
	static struct nic_model m; /* in private memory: one process, no sharing */
	nic_model_init(&m);
	struct nic_model_dev md = {&m, 0, 0};
	struct nic_model_drv mv = {&m, 0, NIC_DESCS - 1, 0};
	unsigned long nic = 0, ring = 0, model = 0;
	for (long i = 0; i < rounds; i++) {
		nic += nic_round(&r, pkts);
		ring += ring_round(&r, out);
		model += model_round(&md, &mv);
	}
	mint_nic_dev_close(r.dev);
	mint_nic_detach(r.nic);
	mint_fabric_detach(r.f);
	mint_fabric_destroy(fab);
	unsigned long want = (unsigned long)rounds * IN_FLIGHT * BATCH;
	bool whole = nic == want && ring == want && model == want;
	printf("nic-icount: %lu packets through the NIC, %lu records through the ring, %lu "
	       "packets through the model%s\n",
	       nic, ring, model, whole ? "" : ": LOSS");
	return whole ? 0 : 1;
}
