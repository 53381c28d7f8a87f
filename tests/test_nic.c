/* SPDX-License-Identifier: MIT */
/*
 * The emulated NIC: configuration errors; packets in ring order with their
 * bytes and descriptor fields; packets above a buffer chained over
 * descriptors and reassembled, broken chains dropped whole; the doorbell
 * only for an unmasked cause;
 * overrun counted and nothing overwritten; interrupt moderation; garbage
 * written by a hostile device or driver counted, never followed outside
 * the NIC, also when the driver rewrites its buffer offsets while the
 * device fills them; a driver in another process with its dispatcher receiving
 * every packet in order; a dead or re-attached driver refused; a batch
 * larger than the device writes in one go, and its stops, intact.
 */
#include <pthread.h>

#define T_RNG_SEED 0x452821e638d01377ull
#include "mint/nic.h"
#include "testlib.h"

#define DRIVER 1u

static bool vector_pending(struct mint_fabric *f, uint32_t node, uint32_t v)
{
	return atomic_load(&mint_node_entry(f, node)->pending[v / 64]) >> (v % 64) & 1;
}

static void clear_pending(struct mint_fabric *f, uint32_t node)
{
	for (int w = 0; w < 4; w++)
		atomic_store(&mint_node_entry(f, node)->pending[w], 0);
}

/* The driver as node DRIVER in this process, and a device handle from a
 * second, unjoined one (a tool, as `mint inject` is). */
struct rig {
	struct mint_fabric *f, *g;
	struct mint_nic *nic;
	struct mint_nic_dev *dev;
	struct mint_nic_hdr *hdr;
};

static void rig_up(struct rig *r, const struct mint_nic_config *cfg)
{
	r->f = t_fabric(8u << 20);
	CHECK_EQ(t_join(r->f, DRIVER, NULL), 0);
	CHECK_EQ(mint_nic_attach(r->f, cfg, &r->nic), 0);
	r->g = t_attach();
	CHECK_EQ(mint_nic_dev_open(r->g, DRIVER, &r->dev), 0);
	struct mint_obj_info info;
	CHECK_EQ(mint_obj_find(r->f, "nic.1", &info), 0);
	CHECK_EQ(info.type, MINT_OBJ_NIC);
	r->hdr = mint_fabric_at(r->f, info.offset, info.size);
}

static void rig_down(struct rig *r)
{
	mint_nic_dev_close(r->dev);
	mint_nic_detach(r->nic);
	mint_fabric_detach(r->g);
	mint_fabric_detach(r->f);
	t_fabric_cleanup();
}

static int put_bytes(struct mint_nic_dev *d, uint8_t fill, uint32_t len)
{
	uint8_t buf[MINT_NIC_MAX_BUF];
	memset(buf, fill, len);
	struct mint_nic_pkt p = {buf, len, len, 0, MINT_NIC_STAT_EOP, 0, 0, 0};
	return mint_nic_put(d, &p, NULL);
}

/* What a receive callback saw. */
struct seen {
	int n;
	uint8_t fill[64];
	uint32_t len[64];
	uint16_t vlan[64];
	uint8_t status[64];
	bool refuse;
};

static int record(void *arg, const struct mint_nic_rx *rx)
{
	struct seen *s = arg;
	if (s->n < 64) {
		s->fill[s->n] = rx->len ? ((const uint8_t *)rx->data)[0] : 0;
		s->len[s->n] = rx->len;
		s->vlan[s->n] = rx->vlan;
		s->status[s->n] = rx->status;
		for (uint32_t i = 1; i < rx->len; i++)
			if (((const uint8_t *)rx->data)[i] != s->fill[s->n])
				s->fill[s->n] = 0xee; /* torn or wrong bytes */
	}
	s->n++;
	return s->refuse ? -1 : 0;
}

static void test_config_errors(void)
{
	struct mint_fabric *f = t_fabric(8u << 20);
	struct mint_nic *n = NULL;
	struct mint_nic_dev *d = NULL;
	CHECK_EQ(mint_nic_attach(f, NULL, &n), -ENOTCONN);
	CHECK_EQ(mint_nic_dev_open(f, 1, &d), -ENOENT);
	CHECK_EQ(mint_nic_dev_open(f, MINT_MAX_NODES, &d), -ERANGE);
	CHECK_EQ(t_join(f, DRIVER, NULL), 0);
	const struct mint_nic_config bad[] = {
		{.ndesc = 4}, {.ndesc = 12}, {.ndesc = 8192}, {.buf_size = 100},
		{.buf_size = 3000}, {.buf_size = 32768},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(mint_nic_attach(f, &bad[i], &n), -EINVAL);
	struct mint_nic_config small = {.ndesc = 8, .buf_size = 256};
	CHECK_EQ(mint_nic_attach(f, &small, &n), 0);
	mint_nic_detach(n);
	/* Another geometry while "nic.1" exists: refused, not resized. */
	struct mint_nic_config other = {.ndesc = 16, .buf_size = 256};
	CHECK_EQ(mint_nic_attach(f, &other, &n), -EEXIST);
	CHECK_EQ(mint_nic_dev_open(f, DRIVER, &d), -ENODEV); /* detached: down */
	CHECK_EQ(mint_nic_attach(f, &small, &n), 0);
	CHECK_EQ(mint_nic_dev_open(f, DRIVER, &d), 0);
	struct mint_nic_stats st;
	CHECK_EQ(mint_nic_stats(f, DRIVER, &st), 0);
	CHECK(st.up);
	CHECK_EQ(st.ndesc, 8);
	CHECK_EQ(st.rdt, 7);
	CHECK_EQ(st.ims, MINT_NIC_ICR_RXT0 | MINT_NIC_ICR_RXO);
	CHECK_EQ(mint_nic_stats(f, 2, &st), -ENOENT);
	mint_nic_dev_close(d);
	mint_nic_detach(n);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

/* Descriptor fields, bytes, order; the doorbell after the cause. */
static void test_order(void)
{
	struct rig r;
	struct mint_nic_config cfg = {.ndesc = 16, .buf_size = 2048, .mac = {2, 0, 0, 0, 0, 9},
				      .ipv4 = {10, 78, 0, 2}, .prefix_len = 24};
	rig_up(&r, &cfg);
	uint8_t mac[6], ip[4];
	mint_nic_dev_addr(r.dev, mac, ip);
	CHECK_EQ(memcmp(mac, cfg.mac, 6), 0);
	CHECK_EQ(memcmp(ip, cfg.ipv4, 4), 0);
	clear_pending(r.f, DRIVER);
	for (uint32_t i = 0; i < 10; i++) {
		uint8_t buf[2048];
		memset(buf, (int)(i + 1), sizeof(buf));
		struct mint_nic_pkt p = {buf, 60 + i * 100, 60 + i * 100, 0x1234,
					 MINT_NIC_STAT_EOP | (i % 2 ? MINT_NIC_STAT_VP : 0), 0,
					 (uint16_t)(i % 2 ? 100 + i : 0), 0};
		struct mint_nic_desc_image img;
		CHECK_EQ(mint_nic_put(r.dev, &p, &img), 0);
		CHECK_EQ(img.index, i);
		CHECK_EQ(img.rdh, i);
		CHECK_EQ(img.rdt, 15);
		CHECK(img.status_word >> 32 & MINT_NIC_STAT_DD);
	}
	/* Written but not kicked: no doorbell yet, no cause. */
	CHECK(!vector_pending(r.f, DRIVER, MINT_VEC_NIC));
	CHECK_EQ(mint_nic_kick(r.dev, MINT_NIC_ICR_RXT0), 1);
	CHECK(vector_pending(r.f, DRIVER, MINT_VEC_NIC));
	CHECK_EQ(mint_nic_cause(r.nic), MINT_NIC_ICR_RXT0);
	CHECK_EQ(mint_nic_cause(r.nic), 0); /* read-to-clear */
	struct seen s = {0};
	CHECK_EQ(mint_nic_rx(r.nic, record, &s, 4), 4); /* the budget */
	CHECK_EQ(mint_nic_rx(r.nic, record, &s, 64), 6);
	CHECK_EQ(mint_nic_rx(r.nic, record, &s, 64), 0);
	CHECK_EQ(s.n, 10);
	for (int i = 0; i < 10; i++) {
		CHECK_EQ(s.fill[i], i + 1);
		CHECK_EQ(s.len[i], 60 + (uint32_t)i * 100);
		CHECK_EQ(s.vlan[i], i % 2 ? 100 + i : 0);
		CHECK(s.status[i] & MINT_NIC_STAT_DD);
	}
	struct mint_nic_stats st;
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.rdh, 10);
	CHECK_EQ(st.rdt, (15 + 10) % 16);
	CHECK_EQ(st.rx_packets, 10);
	CHECK_EQ(st.drv_packets, 10);
	CHECK_EQ(st.irqs, 1);
	CHECK_EQ(st.drv_irqs, 1);
	/* Wrap around the ring several times. */
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 7; i++)
			CHECK_EQ(put_bytes(r.dev, (uint8_t)(round * 7 + i), 64), 0);
		struct seen t = {0};
		CHECK_EQ(mint_nic_rx(r.nic, record, &t, 64), 7);
		for (int i = 0; i < 7; i++)
			CHECK_EQ(t.fill[i], (uint8_t)(round * 7 + i));
	}
	rig_down(&r);
}

/* Head == tail: the packet is missed and counted, nothing overwritten. */
static void test_overrun(void)
{
	struct rig r;
	struct mint_nic_config cfg = {.ndesc = 8, .buf_size = 256};
	rig_up(&r, &cfg);
	for (int i = 0; i < 7; i++)
		CHECK_EQ(put_bytes(r.dev, (uint8_t)(i + 1), 100), 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(put_bytes(r.dev, 0x77, 100), -ENOBUFS);
	struct mint_nic_stats st;
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.overruns, 5);
	CHECK_EQ(st.rx_packets, 7);
	CHECK_EQ(mint_nic_cause(r.nic), MINT_NIC_ICR_RXO);
	struct seen s = {0};
	CHECK_EQ(mint_nic_rx(r.nic, record, &s, 64), 7);
	for (int i = 0; i < 7; i++)
		CHECK_EQ(s.fill[i], i + 1);
	/* Room again: the ring goes on where it was. */
	CHECK_EQ(put_bytes(r.dev, 9, 100), 0);
	s.n = 0;
	CHECK_EQ(mint_nic_rx(r.nic, record, &s, 64), 1);
	CHECK_EQ(s.fill[0], 9);
	/* A length field beyond the buffer: the driver drops it as garbage;
	 * only a buffer's worth was copied. */
	CHECK_EQ(put_bytes(r.dev, 3, 256), 0);
	uint8_t big[600];
	memset(big, 4, sizeof(big));
	struct mint_nic_pkt p = {big, 600, 200, 0, MINT_NIC_STAT_EOP, 0, 0, 0};
	CHECK_EQ(mint_nic_put(r.dev, &p, NULL), 0);
	s.n = 0;
	CHECK_EQ(mint_nic_rx(r.nic, record, &s, 64), 2);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.drv_bad, 1);
	/* A batch stops where the ring is full; what it wrote is intact. */
	uint8_t bufs[10][64];
	struct mint_nic_pkt pk[10];
	struct mint_nic_desc_image img[10];
	for (int i = 0; i < 10; i++) {
		memset(bufs[i], 20 + i, sizeof(bufs[i]));
		pk[i] = (struct mint_nic_pkt){bufs[i], 64, 64, 0, MINT_NIC_STAT_EOP, 0, 0, 0};
	}
	uint64_t overruns = st.overruns, rx = st.rx_packets;
	CHECK_EQ(mint_nic_put_batch(r.dev, pk, 10, img), 7);
	CHECK_EQ(img[6].index, (img[0].index + 6) % 8);
	CHECK_EQ(mint_nic_put_batch(r.dev, pk + 7, 3, NULL), 0);
	CHECK_EQ(mint_nic_put(r.dev, &pk[7], NULL), -ENOBUFS);
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.overruns, overruns + 1);
	CHECK_EQ(st.rx_packets, rx + 7);
	CHECK_EQ(st.rdh, (img[6].index + 1) % 8);
	s.n = 0;
	CHECK_EQ(mint_nic_rx(r.nic, record, &s, 64), 7);
	for (int i = 0; i < 7; i++)
		CHECK_EQ(s.fill[i], 20 + i);
	/* ... and before a descriptor the driver spoiled (left to put). */
	struct mint_nic_desc *desc = (struct mint_nic_desc *)((uint8_t *)r.hdr + 256);
	desc[(img[6].index + 3) % 8].addr = 1ull << 40;
	CHECK_EQ(mint_nic_put_batch(r.dev, pk, 5, NULL), 2);
	CHECK_EQ(mint_nic_put(r.dev, pk, NULL), -EPROTO);
	rig_down(&r);
}

/* The last packet a receive callback saw, whole. */
struct frame {
	int n;
	uint8_t data[MINT_NIC_MAX_FRAME];
	struct mint_nic_rx rx;
};

static int keep(void *arg, const struct mint_nic_rx *rx)
{
	struct frame *fr = arg;
	memcpy(fr->data, rx->data, rx->len);
	fr->rx = *rx;
	fr->n++;
	return 0;
}

/* A LEN-byte packet whose byte i is SEED + i * 7 (so a misplaced buffer
 * shows), with STATUS and FLAGS. */
static int put_chain(struct mint_nic_dev *d, uint32_t len, uint8_t seed, uint8_t status,
		     uint8_t flags, struct mint_nic_desc_image *img)
{
	static uint8_t buf[MINT_NIC_MAX_FRAME + 256];
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
	struct mint_nic_pkt p = {buf, len, len, 0xbeef, status, 0, 42, flags};
	return mint_nic_put(d, &p, img);
}

static bool frame_is(const struct frame *fr, uint32_t len, uint8_t seed)
{
	if (fr->rx.len != len)
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (fr->data[i] != (uint8_t)(seed + i * 7))
			return false;
	return true;
}

/* Packets above a buffer: chained over descriptors with EOP on the last,
 * reassembled by the driver (across the ring's end too); broken chains
 * (no EOP on a partial buffer, cut, never ending, too long, a garbage
 * length inside) dropped as one packet each, the ring going on intact. */
static void test_chains(void)
{
	struct rig r;
	struct mint_nic_config cfg = {.ndesc = 16, .buf_size = 256};
	rig_up(&r, &cfg);
	static struct frame fr;
	struct mint_nic_desc_image img;
	struct mint_nic_stats st;
	const uint8_t eop = MINT_NIC_STAT_EOP | MINT_NIC_STAT_VP;
	/* 600 bytes: 256 + 256 + 88, the fields on the last. */
	CHECK_EQ(put_chain(r.dev, 600, 1, eop, 0, &img), 0);
	CHECK_EQ(img.descs, 3);
	CHECK_EQ(img.status_word & 0xffff, 600);
	struct mint_nic_desc *desc = (struct mint_nic_desc *)((uint8_t *)r.hdr + 256);
	CHECK_EQ(desc[0].status_word, 256ull | (uint64_t)MINT_NIC_STAT_DD << 32);
	CHECK_EQ(desc[2].status_word & 0xffff, 88);
	CHECK_EQ(desc[2].status_word >> 48, 42);
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 1), 3); /* a chain is taken whole */
	CHECK_EQ(fr.n, 1);
	CHECK(frame_is(&fr, 600, 1));
	CHECK_EQ(fr.rx.descs, 3);
	CHECK_EQ(fr.rx.index, 0);
	CHECK_EQ(fr.rx.vlan, 42);
	CHECK_EQ(fr.rx.csum, 0xbeef);
	CHECK(fr.rx.status & MINT_NIC_STAT_VP);
	/* Exactly two buffers: two descriptors, the last full with EOP. */
	CHECK_EQ(put_chain(r.dev, 512, 2, eop, 0, &img), 0);
	CHECK_EQ(img.descs, 2);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(put_bytes(r.dev, 9, 60), 0);
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 64), 8);
	CHECK_EQ(fr.rx.len, 60);
	/* Not enough free descriptors for the whole chain: an overrun. */
	CHECK_EQ(put_bytes(r.dev, 9, 60), 0);
	CHECK_EQ(put_chain(r.dev, 3700, 3, eop, 0, &img), -ENOBUFS); /* 15 needed, 14 free */
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 64), 1);
	/* Across the ring's end (descriptors 12..15, 0..5): reassembled. */
	CHECK_EQ(put_chain(r.dev, 2500, 3, eop, 0, &img), 0);
	CHECK_EQ(img.index, 12);
	CHECK_EQ(img.descs, 10);
	fr.n = 0;
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 64), 10);
	CHECK_EQ(fr.n, 1);
	CHECK(frame_is(&fr, 2500, 3));
	CHECK_EQ(fr.rx.index, 12);
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.drv_packets, 10);
	CHECK_EQ(st.rx_packets, 10);
	CHECK_EQ(st.overruns, 1);
	CHECK_EQ(st.drv_errors + st.drv_bad, 0);
	/* Malformed, each one packet dropped, the next intact:
	 * a partial buffer without EOP (the chain ends there); */
	CHECK_EQ(put_chain(r.dev, 100, 4, 0, 0, NULL), 0);
	CHECK_EQ(put_chain(r.dev, 300, 5, eop, 0, NULL), 0);
	fr.n = 0;
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 64), 3);
	CHECK_EQ(fr.n, 1);
	CHECK(frame_is(&fr, 300, 5));
	/* a cut chain: its next descriptor is never done; */
	CHECK_EQ(put_chain(r.dev, 100, 6, eop, MINT_NIC_PKT_CUT, NULL), -EINVAL);
	CHECK_EQ(put_chain(r.dev, 700, 6, eop, MINT_NIC_PKT_CUT, &img), 0);
	CHECK_EQ(img.descs, 2);
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 64), 2);
	/* a chain that never ends: full buffers, no EOP, nothing after; */
	CHECK_EQ(put_chain(r.dev, 512, 7, 0, 0, NULL), 0);
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 64), 2);
	/* a garbage length inside a chain; */
	CHECK_EQ(put_chain(r.dev, 400, 8, eop, 0, NULL), 0);
	desc[(img.index + 4) % 16].status_word |= 0x8000; /* its first (after the cut 2 + 2) */
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 64), 2);
	CHECK_EQ(put_chain(r.dev, 256, 9, eop, 0, NULL), 0);
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 64), 1);
	CHECK_EQ(fr.n, 2);
	CHECK(frame_is(&fr, 256, 9));
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.drv_errors, 3);
	CHECK_EQ(st.drv_bad, 1);
	CHECK_EQ(st.drv_packets, 12);
	/* Too big for the ring or for any frame: refused, not counted. */
	CHECK_EQ(put_chain(r.dev, 16 * 256, 1, eop, 0, NULL), -EMSGSIZE);
	CHECK_EQ(put_chain(r.dev, MINT_NIC_MAX_FRAME + 1, 1, eop, 0, NULL), -EMSGSIZE);
	rig_down(&r);
	/* Too long: two chains without EOP run into a third past the frame. */
	struct mint_nic_config wide = {.ndesc = 128, .buf_size = 256};
	rig_up(&r, &wide);
	CHECK_EQ(put_chain(r.dev, 8192, 1, 0, 0, NULL), 0);
	CHECK_EQ(put_chain(r.dev, 8192, 2, 0, 0, NULL), 0);
	CHECK_EQ(put_chain(r.dev, 300, 3, eop, 0, NULL), 0);
	CHECK_EQ(put_chain(r.dev, 1000, 4, eop, 0, NULL), 0);
	fr.n = 0;
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 256), 64 + 2 + 4);
	CHECK_EQ(fr.n, 1);
	CHECK(frame_is(&fr, 1000, 4));
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.drv_errors, 1);
	/* A batch chains too, and stops before a cut packet. */
	static uint8_t bb[2][1000];
	memset(bb, 5, sizeof(bb));
	struct mint_nic_pkt pk[3] = {{bb[0], 1000, 1000, 0, MINT_NIC_STAT_EOP, 0, 0, 0},
				     {bb[1], 1000, 1000, 0, MINT_NIC_STAT_EOP, 0, 0, 0},
				     {bb[1], 1000, 1000, 0, MINT_NIC_STAT_EOP, 0, 0, MINT_NIC_PKT_CUT}};
	struct mint_nic_desc_image imgs[3];
	CHECK_EQ(mint_nic_put_batch(r.dev, pk, 3, imgs), 2);
	CHECK_EQ(imgs[1].index, (imgs[0].index + 4) % 128);
	fr.n = 0;
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 256), 8);
	CHECK_EQ(fr.n, 2);
	rig_down(&r);
}

/* A chain that takes mint_nic_rx past its budget ends the call: the
 * single packets behind it wait for the next one. */
static void test_budget_after_chain(void)
{
	struct rig r;
	struct mint_nic_config cfg = {.ndesc = 16, .buf_size = 256};
	rig_up(&r, &cfg);
	static struct frame fr;
	struct mint_nic_desc_image img;
	CHECK_EQ(put_bytes(r.dev, 9, 60), 0);
	CHECK_EQ(put_chain(r.dev, 512, 2, MINT_NIC_STAT_EOP, 0, &img), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(put_bytes(r.dev, 9, 60), 0);
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 2), 3);
	CHECK_EQ(fr.n, 2);
	CHECK_EQ(mint_nic_rx(r.nic, keep, &fr, 64), 3);
	CHECK_EQ(fr.n, 5);
	rig_down(&r);
}

/* A NIC of another layout version (another build's driver) is refused
 * as such, not as garbage. */
static void test_other_version(void)
{
	struct rig r;
	struct mint_nic_config cfg = {.ndesc = 16, .buf_size = 256};
	rig_up(&r, &cfg);
	struct mint_nic_dev *d;
	r.hdr->version = MINT_NIC_VERSION - 1;
	CHECK_EQ(mint_nic_dev_open(r.g, DRIVER, &d), -EPROTONOSUPPORT);
	r.hdr->version = MINT_NIC_VERSION;
	CHECK_EQ(mint_nic_dev_open(r.g, DRIVER, &d), 0);
	mint_nic_dev_close(d);
	rig_down(&r);
}

static void test_mask_and_moderation(void)
{
	struct rig r;
	rig_up(&r, NULL);
	clear_pending(r.f, DRIVER);
	mint_nic_set_mask(r.nic, 0);
	CHECK_EQ(put_bytes(r.dev, 1, 60), 0);
	CHECK_EQ(mint_nic_kick(r.dev, MINT_NIC_ICR_RXT0), 0);
	CHECK(!vector_pending(r.f, DRIVER, MINT_VEC_NIC));
	/* Unmasking a cause already set rings at once (as IMS does). */
	mint_nic_set_mask(r.nic, MINT_NIC_ICR_RXT0);
	CHECK(vector_pending(r.f, DRIVER, MINT_VEC_NIC));
	CHECK_EQ(mint_nic_cause(r.nic), MINT_NIC_ICR_RXT0);
	clear_pending(r.f, DRIVER);
	/* A cause not in the mask does not ring. */
	CHECK_EQ(mint_nic_kick(r.dev, MINT_NIC_ICR_RXDMT0), 0);
	CHECK_EQ(mint_nic_cause(r.nic), MINT_NIC_ICR_RXDMT0);
	/* ITR: a second doorbell within the gap waits for the gap. */
	mint_nic_set_itr(r.nic, 200000000ull);
	CHECK_EQ(mint_nic_kick(r.dev, MINT_NIC_ICR_RXT0), 1);
	clear_pending(r.f, DRIVER);
	CHECK_EQ(mint_nic_cause(r.nic), MINT_NIC_ICR_RXT0); /* the handler ran */
	CHECK_EQ(mint_nic_kick(r.dev, MINT_NIC_ICR_RXT0), 0);
	CHECK_EQ(mint_nic_kick(r.dev, MINT_NIC_ICR_RXT0), 0);
	CHECK(!vector_pending(r.f, DRIVER, MINT_VEC_NIC));
	struct mint_nic_stats st;
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.irqs_masked, 2);
	CHECK_EQ(st.icr, MINT_NIC_ICR_RXT0); /* the cause waits in ICR */
	t_sleep_ms(250);
	CHECK_EQ(mint_nic_kick(r.dev, 0), 1); /* the gap is over: it rings */
	CHECK(vector_pending(r.f, DRIVER, MINT_VEC_NIC));
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.irqs, 2);
	rig_down(&r);
}

/* Garbage from either side: counted, the other side stays inside. */
static void test_garbage(void)
{
	struct rig r;
	struct mint_nic_config cfg = {.ndesc = 8, .buf_size = 256};
	rig_up(&r, &cfg);
	struct mint_nic_desc *desc = (struct mint_nic_desc *)((uint8_t *)r.hdr + 256);
	/* A hostile device: lengths beyond the buffer, error bits, DD without
	 * EOP, a foreign buffer offset, random status words. */
	const uint64_t dd = (uint64_t)MINT_NIC_STAT_DD << 32, eop = (uint64_t)MINT_NIC_STAT_EOP << 32;
	atomic_store(&desc[0].status_word, dd | eop | 0xffff);
	atomic_store(&desc[1].status_word, dd | eop | 60 | (uint64_t)MINT_NIC_ERR_CE << 40);
	atomic_store(&desc[2].status_word, dd | 60);
	desc[3].addr = 0x7fffffffffffull;
	atomic_store(&desc[3].status_word, dd | eop | 60);
	atomic_store(&desc[4].status_word, dd | eop | 60);
	struct seen s = {0};
	CHECK_EQ(mint_nic_rx(r.nic, record, &s, 64), 5);
	CHECK_EQ(s.n, 1); /* only the fourth, desc 4, was a packet */
	struct mint_nic_stats st;
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.drv_bad, 2);
	CHECK_EQ(st.drv_errors, 2);
	CHECK_EQ(desc[3].addr, 3 * 256); /* the driver put its buffer back */
	for (int i = 0; i < 2000; i++) {
		uint32_t k = (uint32_t)(t_rnd() % 8);
		desc[k].addr = t_rnd() % 4 ? t_rnd() : k * 256u;
		atomic_store(&desc[k].status_word, t_rnd());
		mint_nic_rx(r.nic, record, &s, (unsigned)(t_rnd() % 9));
	}
	/* A hostile driver: a garbage RDT, then a garbage buffer offset. */
	atomic_store(&r.hdr->rdt, 9999);
	CHECK_EQ(put_bytes(r.dev, 1, 60), -EPROTO);
	atomic_store(&r.hdr->rdt, (atomic_load(&r.hdr->rdh) + 7) % 8);
	for (int k = 0; k < 8; k++) {
		desc[k].addr = 1ull << 40;
		atomic_store(&desc[k].status_word, 0);
	}
	CHECK_EQ(put_bytes(r.dev, 1, 60), -EPROTO);
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.dev_errors, 2);
	/* A corrupt header: the device refuses the NIC. */
	struct mint_nic_dev *d2;
	r.hdr->ndesc = 5;
	CHECK_EQ(mint_nic_dev_open(r.g, DRIVER, &d2), -EPROTO);
	r.hdr->ndesc = 8;
	r.hdr->buf_off = 1ull << 50;
	CHECK_EQ(mint_nic_dev_open(r.g, DRIVER, &d2), -EPROTO);
	r.hdr->buf_off = 256 + 8 * 16;
	CHECK_EQ(mint_nic_dev_open(r.g, DRIVER, &d2), 0);
	mint_nic_dev_close(d2);
	rig_down(&r);
}

/* A hostile driver that rewrites its buffer offsets while the device
 * fills them: the device reads each offset once, so the one it checked
 * is the one it writes to (else a checked offset swapped for a wild one
 * sends the packet's bytes anywhere in the device's memory).  The device
 * runs in a child, which this process watches while flipping offsets. */
static void test_offset_flips(void)
{
	struct rig r;
	struct mint_nic_config cfg = {.ndesc = 8, .buf_size = 256};
	rig_up(&r, &cfg);
	struct mint_nic_desc *desc = (struct mint_nic_desc *)((uint8_t *)r.hdr + 256);
	pid_t kid = t_fork(30);
	if (kid == 0) {
		struct mint_fabric *g = t_child_attach();
		struct mint_nic_dev *d;
		if (mint_nic_dev_open(g, DRIVER, &d) != 0)
			_exit(2);
		uint8_t buf[200];
		memset(buf, 0xab, sizeof(buf));
		struct mint_nic_pkt p = {buf, sizeof(buf), sizeof(buf), 0, MINT_NIC_STAT_EOP, 0, 0, 0};
		uint64_t end = t_now_ns() + 1500000000ull;
		for (uint32_t i = 0; i < 3000000 && t_now_ns() < end; i++) {
			/* The driver's part: every descriptor but one free. */
			atomic_store(&r.hdr->rdt, (atomic_load(&r.hdr->rdh) + 7) % 8);
			if (i % 2)
				mint_nic_put(d, &p, NULL);
			else
				mint_nic_put_batch(d, &p, 1, NULL);
		}
		_exit(0);
	}
	int status = -1;
	for (uint64_t i = 0;; i++) {
		for (uint32_t k = 0; k < 8; k++)
			desc[k].addr = i % 2 ? 1ull << 44 : k * 256u;
		if (waitpid(kid, &status, WNOHANG) == kid)
			break;
	}
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	rig_down(&r);
}

/* ==== a driver in another process, interrupt-driven ==== */

#define SEQ_PACKETS 20000

struct drv_state {
	_Atomic uint32_t ready, done;
	_Atomic uint64_t got, out_of_order, bad_bytes;
};

struct drv_ctx {
	struct drv_state *s;
	struct mint_nic *nic;
	struct mint_dispatcher *d;
	uint64_t expect;
};

static int check_seq(void *arg, const struct mint_nic_rx *rx)
{
	struct drv_ctx *c = arg;
	uint64_t seq;
	if (rx->len < sizeof(seq)) {
		atomic_fetch_add(&c->s->bad_bytes, 1);
		return 0;
	}
	memcpy(&seq, rx->data, sizeof(seq));
	if (seq != c->expect)
		atomic_fetch_add(&c->s->out_of_order, 1);
	c->expect = seq + 1;
	if (atomic_fetch_add(&c->s->got, 1) + 1 == SEQ_PACKETS)
		mint_dispatcher_stop(c->d);
	return 0;
}

static void on_nic(void *arg, uint32_t vector)
{
	struct drv_ctx *c = arg;
	(void)vector;
	mint_nic_cause(c->nic);
	while (mint_nic_rx(c->nic, check_seq, c, 64) > 0)
		;
}

static void driver_child(void *arg)
{
	enum mint_dispatch_mode mode = *(enum mint_dispatch_mode *)arg;
	struct mint_fabric *f = t_child_attach();
	struct mint_node_opts o = {.name = "drv", .mode = mode};
	if (t_join(f, DRIVER, &o) != 0)
		_exit(2);
	struct drv_ctx c = {t_shared_object(f, "nic-test", sizeof(struct drv_state)), NULL, NULL, 0};
	struct mint_nic_config cfg = {.ndesc = 64, .buf_size = 256};
	if (!c.s || mint_nic_attach(f, &cfg, &c.nic) || mint_dispatcher_create(f, mode, &c.d))
		_exit(2);
	mint_dispatcher_set_handler(c.d, MINT_VEC_NIC, on_nic, &c);
	atomic_store(&c.s->ready, 1);
	mint_dispatcher_run(c.d);
	atomic_store(&c.s->done, 1);
	mint_dispatcher_destroy(c.d);
	mint_nic_detach(c.nic);
	mint_fabric_detach(f);
}

static void driver_case(enum mint_dispatch_mode mode)
{
	struct mint_fabric *f = t_fabric(8u << 20);
	struct drv_state *s = t_shared_object(f, "nic-test", sizeof(*s));
	pid_t pid = t_spawn(driver_child, &mode);
	uint64_t end = t_now_ns() + 20000000000ull;
	while (!atomic_load(&s->ready) && t_now_ns() < end)
		t_sleep_us(500);
	struct mint_nic_dev *d = NULL;
	CHECK_EQ(mint_nic_dev_open(f, DRIVER, &d), 0);
	if (!d)
		exit(1);
	uint64_t overruns = 0;
	for (uint64_t seq = 0; seq < SEQ_PACKETS && t_now_ns() < end;) {
		uint8_t buf[64];
		memset(buf, 0x5a, sizeof(buf));
		memcpy(buf, &seq, sizeof(seq));
		struct mint_nic_pkt p = {buf, sizeof(buf), sizeof(buf), 0, MINT_NIC_STAT_EOP, 0, 0, 0};
		int rc = mint_nic_put(d, &p, NULL);
		if (rc == 0 && (++seq % 8 == 0 || seq == SEQ_PACKETS))
			mint_nic_kick(d, MINT_NIC_ICR_RXT0);
		if (rc == -ENOBUFS) {
			overruns++;
			mint_nic_kick(d, MINT_NIC_ICR_RXT0);
			sched_yield();
		}
		CHECK(rc == 0 || rc == -ENOBUFS);
	}
	CHECK_EQ(t_wait_child_for(pid, 30000), 0);
	CHECK_EQ(atomic_load(&s->got), SEQ_PACKETS);
	CHECK_EQ(atomic_load(&s->out_of_order), 0);
	CHECK_EQ(atomic_load(&s->bad_bytes), 0);
	struct mint_nic_stats st;
	CHECK_EQ(mint_nic_stats(f, DRIVER, &st), 0);
	CHECK_EQ(st.overruns, overruns);
	CHECK_EQ(st.drv_packets, SEQ_PACKETS);
	CHECK(!st.up); /* the child detached */
	CHECK(!mint_nic_dev_alive(d));
	mint_nic_dev_close(d);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_driver_poll(void) { driver_case(MINT_MODE_POLL); }
static void test_driver_sleep(void) { driver_case(MINT_MODE_SLEEP); }

/* A receive callback that expects packet i to be filled with FIRST + i
 * (mod 251) and LEN bytes long; counts what was not. */
struct sequence {
	uint32_t n, len, wrong;
	uint8_t first;
};

static int in_sequence(void *arg, const struct mint_nic_rx *rx)
{
	struct sequence *q = arg;
	uint8_t want = (uint8_t)((q->first + q->n++) % 251);
	bool ok = rx->len == q->len;
	for (uint32_t i = 0; ok && i < rx->len; i++)
		ok = ((const uint8_t *)rx->data)[i] == want;
	q->wrong += !ok;
	return 0;
}

/* N packets of LEN bytes, packet i filled with FIRST + i (mod 251), from
 * the static arena (N <= 400, N * LEN <= 400 KiB). */
static struct mint_nic_pkt *numbered(uint32_t n, uint32_t len, uint8_t first)
{
	static uint8_t arena[400u << 10];
	static struct mint_nic_pkt pk[400];
	for (uint32_t i = 0; i < n; i++) {
		memset(arena + (size_t)i * len, (first + i) % 251, len);
		pk[i] = (struct mint_nic_pkt){arena + (size_t)i * len, len, len, 0,
					      MINT_NIC_STAT_EOP, 0, 0, 0};
	}
	return pk;
}

/* A batch larger than the device writes in one go (mint_nic_put_batch
 * works in stages of 130 descriptors): every packet in order and whole,
 * chains across a stage's end, the images right; a spoiled buffer offset
 * in a later stage stops the batch just before it. */
static void test_batch_stages(void)
{
	struct rig r;
	struct mint_nic_config cfg = {.ndesc = 512, .buf_size = 256};
	rig_up(&r, &cfg);
	struct mint_nic_desc_image img[400];
	CHECK_EQ(mint_nic_put_batch(r.dev, numbered(400, 64, 1), 400, img), 400);
	for (uint32_t i = 0; i < 400; i++)
		CHECK_EQ(img[i].index, i);
	struct sequence q = {0, 64, 0, 1};
	CHECK_EQ(mint_nic_rx(r.nic, in_sequence, &q, 512), 400);
	CHECK_EQ(q.n, 400);
	CHECK_EQ(q.wrong, 0);
	/* Three 16 KiB chains of 64 descriptors: the third crosses a stage
	 * and the ring's end. */
	CHECK_EQ(mint_nic_put_batch(r.dev, numbered(3, MINT_NIC_MAX_FRAME, 7), 3, img), 3);
	CHECK_EQ(img[1].index, 400 + 64);
	CHECK_EQ(img[2].index, (400 + 128) % 512);
	CHECK_EQ(img[2].descs, 64);
	q = (struct sequence){0, MINT_NIC_MAX_FRAME, 0, 7};
	CHECK_EQ(mint_nic_rx(r.nic, in_sequence, &q, 512), 3 * 64);
	CHECK_EQ(q.n, 3);
	CHECK_EQ(q.wrong, 0);
	/* A garbage offset 140 descriptors on, in the second stage. */
	struct mint_nic_desc *desc = (struct mint_nic_desc *)((uint8_t *)r.hdr + 256);
	uint32_t rdh = (400 + 192) % 512;
	desc[(rdh + 140) % 512].addr = 1ull << 40;
	CHECK_EQ(mint_nic_put_batch(r.dev, numbered(200, 64, 9), 200, NULL), 140);
	q = (struct sequence){0, 64, 0, 9};
	CHECK_EQ(mint_nic_rx(r.nic, in_sequence, &q, 512), 140);
	CHECK_EQ(q.wrong, 0);
	struct mint_nic_stats st;
	CHECK_EQ(mint_nic_stats(r.f, DRIVER, &st), 0);
	CHECK_EQ(st.rx_packets, 400 + 3 + 140);
	CHECK_EQ(st.dev_errors, 0); /* left to mint_nic_put to count */
	rig_down(&r);
}

/* One-descriptor packets, chains and one-descriptor packets again in one
 * batch (the device writes runs of the first kind its own way): every
 * packet whole and in order, the images right. */
static void test_batch_mixed(void)
{
	struct rig r;
	struct mint_nic_config cfg = {.ndesc = 64, .buf_size = 256};
	rig_up(&r, &cfg);
	const uint32_t len[6] = {64, 600, 64, 256, 600, 0}, descs[6] = {1, 3, 1, 1, 3, 1};
	struct mint_nic_pkt *pk = numbered(6, 600, 1);
	for (int i = 0; i < 6; i++)
		pk[i].len = pk[i].copy_len = len[i];
	struct mint_nic_desc_image img[6];
	CHECK_EQ(mint_nic_put_batch(r.dev, pk, 6, img), 6);
	struct seen s = {0};
	CHECK_EQ(mint_nic_rx(r.nic, record, &s, 64), 10);
	CHECK_EQ(s.n, 6);
	for (uint32_t i = 0, at = 0; i < 6; at += descs[i++]) {
		CHECK_EQ(img[i].index, at);
		CHECK_EQ(img[i].descs, descs[i]);
		CHECK_EQ(s.len[i], len[i]);
		CHECK_EQ(s.fill[i], len[i] ? 1 + i : 0);
	}
	rig_down(&r);
}

/* A driver that re-attaches (a new agent, a new epoch) is a new device. */
static void test_reattach(void)
{
	struct rig r;
	rig_up(&r, NULL);
	CHECK(mint_nic_dev_alive(r.dev));
	mint_nic_detach(r.nic);
	CHECK(!mint_nic_dev_alive(r.dev));
	CHECK_EQ(put_bytes(r.dev, 1, 60), -ENODEV); /* nothing written to a detached NIC */
	CHECK_EQ(mint_node_leave(r.f), 0);
	CHECK_EQ(t_join(r.f, DRIVER, NULL), 0);
	CHECK_EQ(mint_nic_attach(r.f, NULL, &r.nic), 0);
	CHECK(!mint_nic_dev_alive(r.dev)); /* old epoch */
	CHECK_EQ(put_bytes(r.dev, 1, 60), -ENODEV);
	struct mint_nic_dev *d2;
	CHECK_EQ(mint_nic_dev_open(r.g, DRIVER, &d2), 0);
	CHECK(mint_nic_dev_alive(d2));
	mint_nic_dev_close(d2);
	rig_down(&r);
}

int main(void)
{
	t_start("test_nic", T_SANITIZED ? 200 : 100);
	RUN(test_config_errors);
	RUN(test_order);
	RUN(test_overrun);
	RUN(test_chains);
	RUN(test_budget_after_chain);
	RUN(test_other_version);
	RUN(test_batch_stages);
	RUN(test_batch_mixed);
	RUN(test_mask_and_moderation);
	RUN(test_garbage);
	RUN(test_offset_flips);
	RUN(test_reattach);
	RUN(test_driver_poll);
	RUN(test_driver_sleep);
	return t_done();
}
