/* SPDX-License-Identifier: MIT */
/*
 * The virtual NIC at library level, no TAP (so no root): three nodes on
 * separate fabric handles in this process (as three processes would have
 * them), a fourth in a child that is killed, frames built by hand (ten zero
 * bytes of virtio-net header, destination MAC, source MAC, ethertype, a
 * numbered payload).  Routing (unicast, broadcast, multicast, unknown,
 * down, dead), tail drop on a full ring without overwriting, sizes, arming,
 * a host that refuses frames, counters, garbage written straight into a
 * "vni.S-D" ring (the receiver counts and survives, and good frames still
 * arrive), and a two-way stream with a transmit and a receive thread on each
 * handle, received by the dispatcher on MINT_VEC_VNI as the agent does.
 */
#include <pthread.h>

#include "mint/vni.h"
#include "testlib.h"

#define NNODES 3
#define RING (512u * 1024u) /* the smallest per-destination ring */
#define ETHERTYPE 0x88b5u    /* IEEE local experimental */
#define HDR (MINT_VNI_VNET_HDR + 14u)

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t MCAST4[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}; /* mDNS */
static const uint8_t MCAST6[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};

/* ---- a small network: nodes 0..2, each on its own handle ---- */

struct net {
	struct mint_fabric *f[NNODES];
	struct mint_vni *v[NNODES];
};

static void beat(struct net *n)
{
	for (int i = 0; i < NNODES; i++)
		if (n->f[i])
			mint_node_heartbeat(n->f[i]);
}

/* Node ID's port: 10.77.0.<ID+1>/24. */
static int attach_id(struct mint_vni *v, uint32_t id)
{
	const uint8_t ip[4] = {10, 77, 0, (uint8_t)(id + 1)};
	return mint_vni_attach(v, ip, 24);
}

/* Leave the fabric as a node, and detach the handle. */
static void leave(struct mint_fabric *f)
{
	mint_node_leave(f);
	mint_fabric_detach(f);
}

static void net_down(struct net *n)
{
	for (int i = NNODES - 1; i >= 0; i--) {
		if (n->v[i])
			mint_vni_close(n->v[i]);
		if (n->f[i])
			leave(n->f[i]);
	}
	memset(n, 0, sizeof(*n));
	t_fabric_cleanup();
}

/* The configuration the tests' networks use (main runs them in both). */
static uint32_t g_mode = MINT_VNI_PER_DEST;
#define POOL_BUFS 128u                                    /* large buffers */
#define POOL_ALL (POOL_BUFS * (1 + MINT_VNI_SMALL_PER_BUF)) /* and small ones */
#define POOL_QLEN 2048u                                   /* POOL_ALL rounded up */

static bool net_join(struct net *n, uint64_t ring_size)
{
	memset(n, 0, sizeof(*n));
	n->f[0] = t_fabric(64ull << 20);
	if (ring_size) {
		struct mint_vni_config cfg = {g_mode, ring_size,
					      g_mode == MINT_VNI_POOL ? POOL_BUFS : 0};
		CHECK_EQ(mint_vni_create(n->f[0], &cfg), 1);
	}
	for (int i = 0; i < NNODES; i++) {
		if (i && !(n->f[i] = t_attach()))
			return false;
		CHECK_EQ(t_join(n->f[i], (uint32_t)i, NULL), 0);
		CHECK_EQ(mint_vni_open(n->f[i], &n->v[i]), 0);
		if (!n->v[i])
			return false;
		CHECK_EQ(attach_id(n->v[i], (uint32_t)i), 0);
	}
	return t_failures == 0;
}

/* The network up, or (false) down again after a failure. */
static bool net_up(struct net *n, uint64_t ring_size)
{
	if (net_join(n, ring_size))
		return true;
	net_down(n);
	return false;
}

static struct mint_vni_stats stats(struct mint_fabric *f, uint32_t id)
{
	struct mint_vni_stats st;
	memset(&st, 0, sizeof(st));
	CHECK_EQ(mint_vni_stats(f, id, &st), 0);
	return st;
}

/* The VNI object itself. */
static struct mint_vni_hdr *vni_hdr(struct mint_fabric *f)
{
	struct mint_obj_info info;
	if (mint_obj_find(f, "vni", &info) != 0)
		return NULL;
	return mint_fabric_at(f, info.offset, sizeof(struct mint_vni_hdr));
}

/* Ring "vni.SRC-DST": its header, or NULL. */
/* Pool mode: the pool's header, its descriptors, and how many are FREE. */
static struct mint_vni_pool_hdr *pool_hdr(struct mint_fabric *f)
{
	struct mint_obj_info info;
	CHECK_EQ(mint_obj_find(f, "vni.pool", &info), 0);
	return mint_fabric_at(f, info.offset, sizeof(struct mint_vni_pool_hdr));
}
static struct mint_vni_buf *pool_bufs(struct mint_fabric *f)
{
	return (struct mint_vni_buf *)(pool_hdr(f) + 1);
}
static uint32_t pool_free(struct mint_fabric *f)
{
	struct mint_vni_buf *b = pool_bufs(f);
	uint32_t n = 0;
	for (uint32_t i = 0; i < POOL_ALL; i++)
		n += atomic_load(&b[i].state) == MINT_VNI_BUF_FREE;
	return n;
}

static struct mint_ring_hdr *vni_ring(struct mint_fabric *f, uint32_t src, uint32_t dst, uint64_t *off)
{
	char name[32];
	snprintf(name, sizeof(name), "vni.%u-%u", src, dst);
	struct mint_obj_info info;
	if (mint_obj_find(f, name, &info) != 0 || info.type != MINT_OBJ_RING)
		return NULL;
	if (off)
		*off = info.offset;
	return mint_fabric_at(f, info.offset, info.size);
}

/* ---- frames ---- */

static uint8_t pattern(uint32_t seq, uint32_t i) { return (uint8_t)(seq * 31u + i * 7u + 1u); }

/*
 * Build a frame into BUF: vnet header (zeros), DST, source MAC of node SRC,
 * ethertype, then PLEN payload bytes: seq (4 bytes LE), SRC (4 bytes LE),
 * a pattern.  Returns its length.
 */
static uint32_t make_frame(uint8_t *buf, const struct mint_vni *v, uint32_t src, const uint8_t dst[6],
			   uint32_t seq, uint32_t plen)
{
	memset(buf, 0, MINT_VNI_VNET_HDR);
	uint8_t *eth = buf + MINT_VNI_VNET_HDR;
	memcpy(eth, dst, 6);
	mint_vni_mac(v, src, eth + 6);
	eth[12] = (uint8_t)(ETHERTYPE >> 8);
	eth[13] = (uint8_t)ETHERTYPE;
	uint8_t *p = eth + 14;
	for (uint32_t i = 0; i < plen; i++)
		p[i] = pattern(seq, i);
	if (plen >= 8) {
		for (int b = 0; b < 4; b++) {
			p[b] = (uint8_t)(seq >> (8 * b));
			p[4 + b] = (uint8_t)(src >> (8 * b));
		}
	}
	return HDR + plen;
}

static uint8_t txbuf[MINT_VNI_FRAME_MAX + 64];

/* Send a numbered frame of PLEN payload bytes from node SRC to DST. */
static int send_seq(struct net *n, uint32_t src, const uint8_t dst[6], uint32_t seq, uint32_t plen)
{
	uint32_t len = make_frame(txbuf, n->v[src], src, dst, seq, plen);
	return mint_vni_send(n->v[src], txbuf, len);
}

static int send_to_id(struct net *n, uint32_t src, uint32_t dst, uint32_t seq, uint32_t plen)
{
	uint8_t mac[6];
	mint_vni_mac(n->v[src], dst, mac);
	return send_seq(n, src, mac, seq, plen);
}

/* ---- receiving ---- */

#define RX_MAX 8192

struct rx {
	const struct mint_vni *v; /* for MACs */
	uint32_t self;
	uint32_t n;               /* frames the callback saw */
	uint32_t from[RX_MAX], seq[RX_MAX], len[RX_MAX];
	uint8_t dst0[RX_MAX];     /* first byte of the destination MAC */
	uint32_t bad;             /* frames that are not what was sent */
	uint32_t refused;
	int refuse;               /* 0: accept; 1: refuse odd seqs; 2: refuse all */
	bool junk_ok;             /* garbage expected: only touch the bytes */
	uint64_t bytes, checksum;
};

static void rx_init(struct rx *r, const struct mint_vni *v, uint32_t self)
{
	memset(r, 0, sizeof(*r));
	r->v = v;
	r->self = self;
}

/* RX[I] for node I of N. */
static void rx_init_all(struct rx *rx, const struct net *n)
{
	for (int i = 0; i < NNODES; i++)
		rx_init(&rx[i], n->v[i], (uint32_t)i);
}

/* Run BODY on a network up for it, with RX[I] ready for node I. */
static void with_net(void (*body)(struct net *n, struct rx *rx))
{
	struct net n;
	static struct rx rx[NNODES];
	if (!net_up(&n, RING))
		return;
	rx_init_all(rx, &n);
	body(&n, rx);
	net_down(&n);
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Is FRAME what make_frame built for this receiver? */
static bool frame_ok(const struct rx *r, const uint8_t *f, uint32_t len, uint32_t *src, uint32_t *seq)
{
	static const uint8_t zero[MINT_VNI_VNET_HDR];
	if (len < HDR + 8 || memcmp(f, zero, sizeof(zero)) != 0)
		return false;
	const uint8_t *eth = f + MINT_VNI_VNET_HDR;
	uint8_t me[6], base[6];
	mint_vni_mac(r->v, r->self, me);
	if (!(eth[0] & 1) && memcmp(eth, me, 6) != 0)
		return false; /* unicast for somebody else */
	mint_vni_mac(r->v, 0, base);
	if (memcmp(eth + 6, base, 5) != 0 || eth[12] != (uint8_t)(ETHERTYPE >> 8) ||
	    eth[13] != (uint8_t)ETHERTYPE)
		return false;
	const uint8_t *p = eth + 14;
	*seq = le32_at(p);
	*src = le32_at(p + 4);
	if (*src != eth[11])
		return false;
	for (uint32_t i = 8; i < len - HDR; i++)
		if (p[i] != pattern(*seq, i))
			return false;
	return true;
}

static int on_frame(void *arg, const void *frame, uint32_t len)
{
	struct rx *r = arg;
	const uint8_t *f = frame;
	/* Every byte is read, so that ASan sees any frame that is not
	 * wholly inside the ring. */
	for (uint32_t i = 0; i < len; i++)
		r->checksum = r->checksum * 131 + f[i];
	uint32_t src = ~0u, seq = ~0u;
	bool ok = frame_ok(r, f, len, &src, &seq);
	if (!ok && !r->junk_ok && r->bad++ < 5)
		fprintf(stderr, "  node %u: unexpected frame of %u bytes\n", r->self, len);
	if (r->n < RX_MAX) {
		r->from[r->n] = ok ? src : ~0u;
		r->seq[r->n] = ok ? seq : ~0u;
		r->len[r->n] = len;
		r->dst0[r->n] = len > MINT_VNI_VNET_HDR ? f[MINT_VNI_VNET_HDR] : 0;
	}
	r->n++;
	if (r->refuse == 2 || (r->refuse == 1 && ok && (seq & 1))) {
		r->refused++;
		return -1;
	}
	r->bytes += len;
	return 0;
}

/* Poll until nothing is left (bounded); returns the frames delivered. */
static int drain(struct mint_vni *v, struct rx *r)
{
	int total = 0;
	for (int i = 0; i < 100000; i++) {
		int got = mint_vni_poll(v, on_frame, r, 64);
		CHECK(got >= 0);
		if (got <= 0)
			return total;
		total += got;
	}
	CHECK(!"drain did not end");
	return total;
}

/* ==== configuration, errors, identity ==== */

static void test_config(void)
{
	struct mint_fabric *f = t_fabric(16ull << 20);
	struct mint_vni_stats st;
	CHECK_EQ(mint_vni_stats(f, 0, &st), -ENOENT);
	struct mint_vni_config bad[] = {
		{MINT_VNI_PER_DEST, 256 * 1024, 0},      /* below 4 frames */
		{MINT_VNI_PER_DEST, 3 * 1024 * 1024, 0}, /* not a power of two */
		{7, RING, 0},                            /* no such mode */
		{MINT_VNI_PER_DEST, RING, 64},           /* buffers without a pool */
		{MINT_VNI_POOL, 0, MINT_VNI_POOL_MIN - 1},
		{MINT_VNI_POOL, 0, MINT_VNI_POOL_MAX + 1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(mint_vni_create(f, &bad[i]), -EINVAL);
	/* A pool larger than the fabric's heap (16.7 MB of 16 MiB): no room,
	 * and no VNI header either. */
	struct mint_vni_config pool = {MINT_VNI_POOL, 0, 200};
	CHECK_EQ(mint_vni_create(f, &pool), -ENOSPC);
	struct mint_obj_info info;
	CHECK_EQ(mint_obj_find(f, "vni", &info), -ENOENT);
	struct mint_vni_config cfg = {MINT_VNI_PER_DEST, RING, 0};
	CHECK_EQ(mint_vni_create(f, &cfg), 1);
	CHECK_EQ(mint_vni_create(f, NULL), 0); /* exists: its configuration stays */
	CHECK_EQ(mint_obj_find(f, "vni", &info), 0);
	CHECK_EQ(info.type, MINT_OBJ_VNI);
	CHECK_EQ(info.size, sizeof(struct mint_vni_hdr));
	struct mint_vni_hdr *h = mint_fabric_at(f, info.offset, sizeof(*h));
	CHECK(h != NULL);
	CHECK_EQ(h->magic, MINT_VNI_MAGIC);
	CHECK_EQ(h->version, MINT_VNI_VERSION);
	CHECK_EQ(h->mode, MINT_VNI_PER_DEST);
	CHECK_EQ(h->max_ports, MINT_VNI_MAX_PORTS);
	CHECK_EQ(h->ring_size, RING);
	CHECK_EQ(h->vnet_hdr_len, MINT_VNI_VNET_HDR);

	struct mint_vni *v = NULL;
	CHECK_EQ(mint_vni_open(f, &v), 0);
	if (!v)
		return;
	struct mint_vni_config got;
	mint_vni_config(v, &got);
	CHECK_EQ(got.mode, MINT_VNI_PER_DEST);
	CHECK_EQ(got.ring_size, RING);
	/* MACs: locally administered unicast, mac_base with byte 5 = id. */
	uint8_t m3[6], m9[6];
	mint_vni_mac(v, 3, m3);
	mint_vni_mac(v, 9, m9);
	CHECK_EQ(m3[0], 0x02);
	CHECK_EQ(m3[1], 0x6d);
	CHECK_EQ(m3[5], 3);
	CHECK_EQ(m9[5], 9);
	CHECK(memcmp(m3, h->mac_base, 5) == 0 && memcmp(m3, m9, 5) == 0);

	/* Not a node yet. */
	const uint8_t ip[4] = {10, 77, 0, 1};
	CHECK_EQ(mint_vni_attach(v, ip, 24), -ENOTCONN);
	CHECK_EQ(mint_vni_send(v, txbuf, 64), -ENOTCONN);
	CHECK_EQ(mint_vni_stats(f, MINT_VNI_MAX_PORTS, &st), -ERANGE);
	CHECK_EQ(mint_vni_stats(f, MINT_NODE_NONE, &st), -ERANGE);

	CHECK_EQ(t_join(f, 4, NULL), 0);
	CHECK_EQ(mint_vni_send(v, txbuf, 64), -ENOTCONN); /* joined, not attached */
	st = stats(f, 4);
	CHECK(!st.up);
	CHECK_EQ(mint_vni_attach(v, ip, 24), 0);
	st = stats(f, 4);
	CHECK(st.up);
	CHECK(memcmp(st.mac, (uint8_t[]){m3[0], m3[1], m3[2], m3[3], m3[4], 4}, 6) == 0);
	CHECK(memcmp(st.ipv4, ip, 4) == 0);
	CHECK_EQ(st.prefix_len, 24);
	CHECK_EQ(h->ports[4].epoch, mint_node_entry(f, 4)->epoch);
	CHECK_EQ(st.tx_packets + st.rx_packets + st.rx_errors + st.tx_drop_error, 0);
	CHECK_EQ(mint_vni_detach(v), 0);
	CHECK(!stats(f, 4).up);
	CHECK_EQ(mint_vni_send(v, txbuf, 64), -ENOTCONN);
	mint_vni_close(v);

	/* A node whose id has no port. */
	struct mint_fabric *g = t_attach();
	if (g) {
		CHECK_EQ(t_join(g, MINT_VNI_MAX_PORTS, NULL), 0);
		CHECK_EQ(mint_vni_open(g, &v), 0);
		CHECK_EQ(mint_vni_attach(v, ip, 24), -ERANGE);
		mint_vni_close(v);
		leave(g);
	}
	/* A VNI object this build does not know is refused. */
	h->version = MINT_VNI_VERSION + 1;
	CHECK_EQ(mint_vni_open(f, &v), -EPROTO);
	h->version = MINT_VNI_VERSION;
	h->ring_size = RING + 1;
	CHECK_EQ(mint_vni_open(f, &v), -EPROTO);
	h->ring_size = RING;
	leave(f);
	t_fabric_cleanup();
}

/* ==== unicast ==== */

static void unicast(struct net *n, struct rx *rx)
{
	/* Nothing there yet. */
	for (int i = 0; i < NNODES; i++)
		CHECK_EQ(mint_vni_poll(n->v[i], on_frame, &rx[i], 64), 0);
	uint64_t bytes01 = 0, bytes12 = 0;
	const uint32_t N = 40;
	for (uint32_t s = 0; s < N; s++) {
		uint32_t plen = 8 + (uint32_t)(t_rnd() % 1500);
		CHECK_EQ(send_to_id(n, 0, 1, s, plen), 1);
		bytes01 += HDR + plen;
		if (s % 2 == 0) {
			CHECK_EQ(send_to_id(n, 1, 2, s, 100), 1);
			bytes12 += HDR + 100;
		}
	}
	CHECK_EQ(drain(n->v[0], &rx[0]), 0);
	CHECK_EQ(drain(n->v[1], &rx[1]), (int)N);
	CHECK_EQ(drain(n->v[2], &rx[2]), (int)N / 2);
	for (uint32_t k = 0; k < N && k < rx[1].n; k++) {
		CHECK_EQ(rx[1].from[k], 0);
		CHECK_EQ(rx[1].seq[k], k);
	}
	for (uint32_t k = 0; k < N / 2 && k < rx[2].n; k++) {
		CHECK_EQ(rx[2].from[k], 1);
		CHECK_EQ(rx[2].seq[k], 2 * k);
	}
	for (int i = 0; i < NNODES; i++)
		CHECK_EQ(rx[i].bad, 0);
	struct mint_obj_info info;
	if (g_mode == MINT_VNI_POOL) { /* no rings; every buffer back */
		CHECK_EQ(mint_obj_find(n->f[0], "vni.0-1", &info), -ENOENT);
		CHECK_EQ(pool_free(n->f[0]), POOL_ALL);
	}
	/* The rings: one per ordered pair of attached ports, named
	 * "vni.SRC-DST", made when the later of the two attached. */
	if (g_mode == MINT_VNI_PER_DEST) {
	CHECK_EQ(mint_obj_find(n->f[0], "vni.0-1", &info), 0);
	CHECK_EQ(info.type, MINT_OBJ_RING);
	CHECK_EQ(info.size, mint_ring_footprint(RING));
	struct mint_ring_hdr *rh = mint_fabric_at(n->f[0], info.offset, sizeof(*rh));
	CHECK_EQ(rh->prod_node, 0);
	CHECK_EQ(rh->cons_node, 1);
	CHECK_EQ(rh->cons_vector, MINT_VEC_VNI);
	CHECK_EQ(rh->size, RING);
	CHECK_EQ(rh->sent_records, N);
	CHECK_EQ(rh->recv_records, N);
	CHECK_EQ(rh->errors, 0);
	const char *pairs[] = {"vni.1-2", "vni.0-2", "vni.1-0", "vni.2-0", "vni.2-1"};
	for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++)
		CHECK_EQ(mint_obj_find(n->f[0], pairs[k], &info), 0);
	}
	/* Counters match what was sent and received. */
	struct mint_vni_stats s0 = stats(n->f[0], 0), s1 = stats(n->f[0], 1), s2 = stats(n->f[0], 2);
	CHECK_EQ(s0.tx_packets, N);
	CHECK_EQ(s0.tx_bytes, bytes01);
	CHECK_EQ(s1.rx_packets, N);
	CHECK_EQ(s1.rx_bytes, bytes01);
	CHECK_EQ(rx[1].bytes, bytes01);
	CHECK_EQ(s1.tx_packets, N / 2);
	CHECK_EQ(s1.tx_bytes, bytes12);
	CHECK_EQ(s2.rx_packets, N / 2);
	CHECK_EQ(s2.rx_bytes, bytes12);
	CHECK_EQ(s0.rx_packets + s2.tx_packets, 0);
	CHECK(s1.rx_polls >= 1 && s1.rx_polls <= N);
	CHECK_EQ(s0.rx_polls, 0);
	/* The first frame on a new ring found its receiver armed. */
	CHECK(s0.tx_irqs >= 1);
	CHECK_EQ(s0.tx_irqs + s0.tx_irqs_suppressed, N);
	for (int i = 0; i < NNODES; i++) {
		struct mint_vni_stats s = stats(n->f[0], (uint32_t)i);
		CHECK_EQ(s.tx_drop_full + s.tx_drop_unknown + s.tx_drop_down + s.tx_drop_error, 0);
		CHECK_EQ(s.rx_errors + s.rx_drop_host, 0);
	}
	/* To itself: its own MAC is nobody else's. */
	CHECK_EQ(send_to_id(n, 2, 2, 0, 8), 0);
	CHECK_EQ(stats(n->f[0], 2).tx_drop_unknown, 1);
	CHECK_EQ(drain(n->v[2], &rx[2]), 0);
}

/* A stray write into the VNI header's geometry (and the pool header's
 * constants) makes a later open fail, until a node that validated them
 * claims the VNI (every heartbeat) and writes them back. */
static void test_geometry_heal(void)
{
	struct mint_fabric *f = t_fabric(64ull << 20);
	struct mint_vni_config cfg = {g_mode, 0, 0};
	CHECK_EQ(mint_vni_create(f, &cfg), 1);
	struct mint_vni *v = NULL, *w = NULL;
	CHECK_EQ(mint_vni_open(f, &v), 0);
	if (!v)
		return;
	CHECK_EQ(mint_vni_claim(v), 0);
	struct mint_vni_hdr *h = vni_hdr(f);
	h->magic = 0;
	h->ring_size = 12345;
	h->mac_base[1] ^= 0xff;
	struct mint_obj_info info;
	if (g_mode == MINT_VNI_POOL && mint_obj_find(f, "vni.pool", &info) == 0) {
		struct mint_vni_pool_hdr *ph = mint_fabric_at(f, info.offset, sizeof(*ph));
		ph->qlen = 3;
		CHECK_EQ(mint_vni_claim(v), 1);
		CHECK_EQ(ph->qlen, 4096);
	}
	CHECK_EQ(mint_vni_open(f, &w), g_mode == MINT_VNI_POOL ? 0 : -EPROTO);
	mint_vni_close(w);
	w = NULL;
	CHECK_EQ(mint_vni_claim(v), g_mode == MINT_VNI_POOL ? 0 : 1);
	CHECK_EQ(mint_vni_claim(v), 0);
	CHECK_EQ(h->magic, MINT_VNI_MAGIC);
	CHECK_EQ(h->mac_base[1], 0x6d);
	CHECK_EQ(mint_vni_open(f, &w), 0);
	mint_vni_close(w);
	mint_vni_close(v);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_unicast(void) { with_net(unicast); }

/* ==== broadcast and multicast ==== */

static void broadcast_multicast(struct net *n, struct rx *rx)
{
	const uint8_t *macs[3] = {BCAST, MCAST4, MCAST6};
	uint32_t seq = 0;
	for (uint32_t src = 0; src < NNODES; src++)
		for (int m = 0; m < 3; m++)
			CHECK_EQ(send_seq(n, src, macs[m], seq++, 64), NNODES - 1);
	for (int i = 0; i < NNODES; i++) {
		CHECK_EQ(drain(n->v[i], &rx[i]), 3 * (NNODES - 1));
		CHECK_EQ(rx[i].bad, 0);
		/* From every other node, never from itself, in each source's order. */
		uint32_t last[NNODES] = {0, 0, 0};
		bool first[NNODES] = {true, true, true};
		for (uint32_t k = 0; k < rx[i].n; k++) {
			uint32_t src = rx[i].from[k];
			CHECK(src < NNODES && src != (uint32_t)i);
			if (src >= NNODES)
				continue;
			CHECK(first[src] || rx[i].seq[k] > last[src]);
			first[src] = false;
			last[src] = rx[i].seq[k];
			CHECK(rx[i].dst0[k] & 1);
		}
	}
	for (int i = 0; i < NNODES; i++) {
		struct mint_vni_stats s = stats(n->f[0], (uint32_t)i);
		CHECK_EQ(s.tx_packets, 3 * (NNODES - 1)); /* a copy per port */
		CHECK_EQ(s.tx_bytes, 3 * (NNODES - 1) * (HDR + 64));
		CHECK_EQ(s.rx_packets, 3 * (NNODES - 1));
		CHECK_EQ(s.tx_drop_down + s.tx_drop_unknown + s.tx_drop_full + s.tx_drop_error, 0);
	}
	/* A port that is down is not a destination: not counted as a drop. */
	CHECK_EQ(mint_vni_detach(n->v[2]), 0);
	CHECK_EQ(send_seq(n, 0, BCAST, seq++, 64), 1);
	CHECK_EQ(send_seq(n, 1, MCAST4, seq++, 64), 1);
	CHECK_EQ(stats(n->f[0], 0).tx_drop_down, 0);
	CHECK_EQ(drain(n->v[1], &rx[1]), 1);
	CHECK_EQ(drain(n->v[0], &rx[0]), 1);
	CHECK_EQ(attach_id(n->v[2], 2), 0);
	CHECK_EQ(drain(n->v[2], &rx[2]), 0);
	/* Alone on the wire: a broadcast reaches nobody, and nothing counts. */
	CHECK_EQ(mint_vni_detach(n->v[1]), 0);
	CHECK_EQ(mint_vni_detach(n->v[2]), 0);
	struct mint_vni_stats before = stats(n->f[0], 0);
	CHECK_EQ(send_seq(n, 0, BCAST, seq++, 64), 0);
	struct mint_vni_stats after = stats(n->f[0], 0);
	CHECK_EQ(after.tx_packets, before.tx_packets);
	CHECK_EQ(after.tx_drop_down + after.tx_drop_unknown, before.tx_drop_down + before.tx_drop_unknown);
}

static void test_broadcast_multicast(void) { with_net(broadcast_multicast); }

/* ==== unknown and down destinations ==== */

static void unknown_and_down(struct net *n, struct rx *rx)
{
	uint8_t mac[6];
	mint_vni_mac(n->v[0], 1, mac);
	uint8_t other[6];
	memcpy(other, mac, 6);
	other[2] ^= 0x40; /* another fabric's prefix, same id */
	CHECK_EQ(send_seq(n, 0, other, 1, 8), 0);
	memcpy(other, mac, 6);
	other[0] = 0x52; /* another locally administered unicast prefix */
	CHECK_EQ(send_seq(n, 0, other, 2, 8), 0);
	const uint8_t ids[] = {MINT_VNI_MAX_PORTS, MINT_VNI_MAX_PORTS + 1, 0x80, 0xff};
	for (size_t i = 0; i < sizeof(ids); i++) {
		memcpy(other, mac, 6);
		other[5] = ids[i];
		CHECK_EQ(send_seq(n, 0, other, 3, 8), 0);
	}
	struct mint_vni_stats s = stats(n->f[0], 0);
	CHECK_EQ(s.tx_drop_unknown, 2 + sizeof(ids));
	CHECK_EQ(s.tx_drop_down, 0);
	/* Ports that exist but are down: never attached, or detached. */
	CHECK_EQ(send_to_id(n, 0, 5, 4, 8), 0);
	CHECK_EQ(send_to_id(n, 0, MINT_VNI_MAX_PORTS - 1, 5, 8), 0);
	CHECK_EQ(mint_vni_detach(n->v[2]), 0);
	CHECK_EQ(send_to_id(n, 0, 2, 6, 8), 0);
	s = stats(n->f[0], 0);
	CHECK_EQ(s.tx_drop_down, 3);
	CHECK_EQ(s.tx_packets, 0);
	struct mint_obj_info info;
	CHECK_EQ(mint_obj_find(n->f[0], "vni.0-5", &info), -ENOENT);
	/* Per destination, node 2's ring was made when it attached; nothing
	 * went into it.  The pool has no rings. */
	if (g_mode == MINT_VNI_PER_DEST) {
		CHECK_EQ(mint_obj_find(n->f[0], "vni.0-2", &info), 0);
		struct mint_ring_hdr *rh = mint_fabric_at(n->f[0], info.offset, sizeof(*rh));
		CHECK(rh != NULL && rh->sent_records == 0);
	} else {
		CHECK_EQ(mint_obj_find(n->f[0], "vni.0-2", &info), -ENOENT);
	}
	/* Up again: frames flow again. */
	CHECK_EQ(attach_id(n->v[2], 2), 0);
	CHECK_EQ(send_to_id(n, 0, 2, 7, 8), 1);
	CHECK_EQ(drain(n->v[2], &rx[2]), 1);
	CHECK_EQ(rx[2].n >= 1 ? rx[2].seq[0] : 0, 7);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(drain(n->v[i], &rx[i]), 0);
}

static void test_unknown_and_down(void) { with_net(unknown_and_down); }

/* ==== a node that dies ==== */

struct dead_args {
	int ready[2];
	uint32_t id;
};

static void dead_child(void *arg)
{
	struct dead_args *a = arg;
	close(a->ready[0]);
	struct mint_fabric *f = t_child_attach();
	struct mint_vni *v = NULL;
	if (mint_node_join(f, a->id, NULL) != 0 || mint_vni_open(f, &v) != 0 || attach_id(v, a->id) != 0)
		_exit(2);
	char c = 'r';
	if (write(a->ready[1], &c, 1) != 1)
		_exit(2);
	for (;;)
		pause(); /* until SIGKILL */
}

/* Node 3 with its port up, in a child to be killed: its pid. */
static pid_t spawn_node3(void)
{
	struct dead_args a = {{-1, -1}, 3};
	CHECK_EQ(pipe(a.ready), 0);
	pid_t pid = t_spawn(dead_child, &a);
	close(a.ready[1]);
	char c = 0;
	CHECK_EQ(read(a.ready[0], &c, 1), 1);
	close(a.ready[0]);
	return pid;
}

static void dead_node(struct net *n, struct rx *rx)
{
	pid_t pid = spawn_node3();
	beat(n);
	CHECK(stats(n->f[0], 3).up);
	/* Alive: frames are queued (and the sender caches the verdict). */
	CHECK_EQ(send_to_id(n, 0, 3, 0, 64), 1);
	CHECK_EQ(send_seq(n, 0, BCAST, 1, 64), 3);
	CHECK_EQ(send_seq(n, 1, BCAST, 2, 64), 3);
	kill(pid, SIGKILL);
	/* Wait until the kernel says so (a zombie: not reaped yet). */
	for (int i = 0; i < 2000 && mint_pid_alive(pid, 0); i++)
		t_sleep_us(500);
	uint64_t t0 = t_now_ns(), drop_ns = 0;
	uint32_t queued_after = 0;
	for (uint32_t s = 10; t_now_ns() - t0 < 2000000000ull; s++) {
		int rc = send_to_id(n, 0, 3, s, 64);
		/* Pool mode: its queue holds half the pool, then drops as full. */
		if (rc == 0 && stats(n->f[0], 0).tx_drop_down == 0) {
			t_sleep_us(1000);
			continue;
		}
		if (rc == 0) {
			drop_ns = t_now_ns() - t0;
			break;
		}
		queued_after++;
		t_sleep_us(1000);
	}
	CHECK(drop_ns > 0);
	/* The liveness verdict is cached for 100 ms. */
	CHECK(drop_ns < (T_SANITIZED ? 400 : 250) * 1000000ull);
	if (drop_ns == 0 || drop_ns >= 250 * 1000000ull)
		fprintf(stderr, "  dead node noticed after %.1f ms (%u frames queued meanwhile)\n",
			(double)drop_ns / 1e6, queued_after);
	struct mint_vni_stats s0 = stats(n->f[0], 0);
	CHECK_EQ(s0.tx_drop_down, 1);
	/* Its port still says UP (nobody detached it); broadcasts count it as
	 * down, per copy, and still reach the others. */
	CHECK(stats(n->f[0], 3).up);
	CHECK_EQ(send_seq(n, 0, BCAST, 100, 64), 2);
	CHECK_EQ(stats(n->f[0], 0).tx_drop_down, 2);
	/* Node 1's sender had cached "alive" too: within 100 ms it knows. */
	t_sleep_ms(120);
	CHECK_EQ(send_seq(n, 1, MCAST4, 101, 64), 2);
	CHECK_EQ(stats(n->f[0], 1).tx_drop_down, 1);
	CHECK_EQ(t_wait_child(pid), 128 + SIGKILL);
	CHECK_EQ(drain(n->v[1], &rx[1]), 2); /* 1 and 100 from node 0 */
	CHECK_EQ(drain(n->v[2], &rx[2]), 4); /* 1, 100 from 0; 2, 101 from 1 */
	CHECK_EQ(rx[1].bad + rx[2].bad, 0);

	/*
	 * Node 3's id taken over by a process that has no VNI port: the port
	 * still says UP, but it is the dead incarnation's (its epoch is the
	 * old one), so the new node is no destination.
	 */
	struct mint_fabric *g = t_attach();
	if (g) {
		CHECK_EQ(t_join(g, 3, NULL), 0);
		CHECK(mint_node_alive(n->f[0], 3));
		t_sleep_ms(120); /* past the sender's cached verdict */
		uint64_t down0 = stats(n->f[0], 0).tx_drop_down;
		int rc = send_to_id(n, 0, 3, 200, 64);
		/* Refused as a node that is down, not queued to the dead
		 * incarnation's port. */
		CHECK_EQ(rc, 0);
		CHECK_EQ(stats(n->f[0], 0).tx_drop_down, down0 + 1);
		if (rc != 0)
			fprintf(stderr, "    (port epoch %u, node epoch %u)\n",
				(unsigned)vni_hdr(n->f[0])->ports[3].epoch,
				(unsigned)mint_node_entry(n->f[0], 3)->epoch);
		leave(g);
	}
}

static void test_dead_node(void) { with_net(dead_node); }

/* ==== a full ring: tail drop, never an overwrite ==== */

static uint32_t rec_bytes(uint32_t len) { return 8 + ((len + 7) & ~7u); }

static void ring_full(struct net *n, struct rx *rx)
{
	uint32_t seq = 0;
	for (int round = 0; round < 4; round++) {
		rx_init(&rx[1], n->v[1], 1);
		uint32_t first = seq, queued = 0;
		uint64_t bytes = 0, drops0 = stats(n->f[0], 0).tx_drop_full;
		uint32_t plens[RX_MAX];
		/* Fill 0->1 with frames of random sizes (a maximal one among
		 * them) until one is dropped, then with the smallest frames until
		 * even those are. */
		uint32_t drops = 0;
		for (int phase = 0; phase < 2; phase++) {
			for (;;) {
				uint32_t plen = phase ? 8
					: queued == 3 ? MINT_VNI_FRAME_MAX - HDR
						      : 8 + (uint32_t)(t_rnd() % (round % 2 ? 9000 : 1600));
				int rc = send_to_id(n, 0, 1, seq, plen);
				CHECK(rc == 0 || rc == 1);
				if (rc != 1) {
					drops++;
					break;
				}
				plens[queued] = plen;
				bytes += rec_bytes(HDR + plen);
				seq++;
				if (++queued >= RX_MAX) {
					CHECK(!"the ring never filled");
					break;
				}
			}
		}
		CHECK(bytes <= RING);
		/* Full indeed: what is left is less than a small record and a
		 * pad, after at most one pad shorter than the largest record. */
		CHECK(bytes + 2 * rec_bytes(HDR + 8) + rec_bytes(MINT_VNI_FRAME_MAX) > RING);
		CHECK_EQ(stats(n->f[0], 0).tx_drop_full, drops0 + drops);
		/* More frames: all dropped, nothing overwritten. */
		for (int k = 0; k < 20; k++)
			CHECK_EQ(send_to_id(n, 0, 1, 0xdead0000u + (uint32_t)k, 8 + (uint32_t)k * 300), 0);
		CHECK_EQ(stats(n->f[0], 0).tx_drop_full, drops0 + drops + 20);
		/* Other destinations are not affected. */
		CHECK_EQ(send_to_id(n, 0, 2, seq, 64), 1);
		CHECK_EQ(drain(n->v[2], &rx[2]), 1);
		/* The receiver gets exactly what was queued, in order, intact. */
		CHECK_EQ(drain(n->v[1], &rx[1]), (int)queued);
		CHECK_EQ(rx[1].bad, 0);
		for (uint32_t k = 0; k < queued && k < rx[1].n; k++) {
			CHECK_EQ(rx[1].seq[k], first + k);
			CHECK_EQ(rx[1].len[k], HDR + plens[k]);
		}
		/* And the ring takes frames again. */
		CHECK_EQ(send_to_id(n, 0, 1, seq, 8), 1);
		CHECK_EQ(drain(n->v[1], &rx[1]), 1);
		CHECK_EQ(rx[1].n == queued + 1 ? rx[1].seq[queued] : 0, seq);
		seq++;
		beat(n);
	}
	struct mint_vni_stats s1 = stats(n->f[0], 1);
	CHECK_EQ(s1.rx_errors, 0);
	CHECK_EQ(s1.rx_packets, stats(n->f[0], 0).tx_packets - stats(n->f[0], 2).rx_packets);
	struct mint_ring_hdr *rh = vni_ring(n->f[0], 0, 1, NULL);
	CHECK(rh != NULL);
	if (rh) {
		CHECK(rh->full_events >= 4 * 22);
		CHECK_EQ(rh->errors + rh->prod_errors, 0);
	}
}

static void test_ring_full(void) { with_net(ring_full); }

/* ==== sizes ==== */

static void sizes(struct net *n, struct rx *rx)
{
	rx[1].junk_ok = true; /* the 24-byte frame carries no seq */
	uint8_t mac[6];
	mint_vni_mac(n->v[0], 1, mac);
	uint32_t len = make_frame(txbuf, n->v[0], 0, mac, 0, 0);
	CHECK_EQ(len, HDR);
	CHECK_EQ(mint_vni_send(n->v[0], txbuf, 0), -EMSGSIZE);
	CHECK_EQ(mint_vni_send(n->v[0], txbuf, MINT_VNI_VNET_HDR), -EMSGSIZE);
	CHECK_EQ(mint_vni_send(n->v[0], txbuf, HDR - 1), -EMSGSIZE);
	make_frame(txbuf, n->v[0], 0, mac, 1, MINT_VNI_FRAME_MAX + 1 - HDR);
	CHECK_EQ(mint_vni_send(n->v[0], txbuf, MINT_VNI_FRAME_MAX + 1), -EMSGSIZE);
	CHECK_EQ(mint_vni_send(n->v[0], txbuf, UINT32_MAX), -EMSGSIZE);
	/* Too big for broadcast too, before any routing. */
	make_frame(txbuf, n->v[0], 0, BCAST, 1, 0);
	CHECK_EQ(mint_vni_send(n->v[0], txbuf, HDR - 1), -EMSGSIZE);
	struct mint_vni_stats s = stats(n->f[0], 0);
	CHECK_EQ(s.tx_drop_error, 6);
	CHECK_EQ(s.tx_packets, 0);
	/* The limits themselves pass. */
	make_frame(txbuf, n->v[0], 0, mac, 2, 0);
	CHECK_EQ(mint_vni_send(n->v[0], txbuf, HDR), 1);
	CHECK_EQ(send_to_id(n, 0, 1, 3, MINT_VNI_FRAME_MAX - HDR), 1);
	CHECK_EQ(drain(n->v[1], &rx[1]), 2);
	if (rx[1].n == 2) {
		CHECK_EQ(rx[1].len[0], HDR);
		CHECK_EQ(rx[1].len[1], MINT_VNI_FRAME_MAX);
		CHECK_EQ(rx[1].seq[1], 3); /* and intact */
	}
	s = stats(n->f[0], 1);
	CHECK_EQ(s.rx_packets, 2);
	CHECK_EQ(s.rx_bytes, HDR + MINT_VNI_FRAME_MAX);
	CHECK_EQ(s.rx_errors, 0);
}

static void test_sizes(void) { with_net(sizes); }

/* ==== arming, interrupts ==== */

static bool vec_pending(struct mint_fabric *f, uint32_t node, uint32_t vec)
{
	return (atomic_load(&mint_node_entry(f, node)->pending[vec / 64]) >> (vec % 64)) & 1;
}

static void clear_pending(struct mint_fabric *f, uint32_t node, uint32_t vec)
{
	atomic_fetch_and(&mint_node_entry(f, node)->pending[vec / 64], ~(1ull << (vec % 64)));
}

static void arm(struct net *n, struct rx *rx)
{
	/* Nothing anywhere: armed. */
	CHECK_EQ(mint_vni_poll(n->v[1], on_frame, &rx[1], 64), 0);
	CHECK_EQ(mint_vni_arm(n->v[1]), 0);
	CHECK(!vec_pending(n->f[0], 1, MINT_VEC_VNI));
	/* The first frame creates the ring (a directory change): arm says
	 * "poll again" even before the ring is looked at; the new ring starts
	 * armed, so the frame raised MINT_VEC_VNI on node 1. */
	CHECK_EQ(send_to_id(n, 0, 1, 0, 64), 1);
	CHECK(vec_pending(n->f[0], 1, MINT_VEC_VNI));
	CHECK_EQ(stats(n->f[0], 0).tx_irqs, 1);
	CHECK_EQ(mint_vni_arm(n->v[1]), 1);
	clear_pending(n->f[0], 1, MINT_VEC_VNI);
	CHECK_EQ(drain(n->v[1], &rx[1]), 1);
	CHECK_EQ(mint_vni_arm(n->v[1]), 0);
	/* Armed: the next frame interrupts, the one after does not. */
	CHECK_EQ(send_to_id(n, 0, 1, 1, 64), 1);
	CHECK(vec_pending(n->f[0], 1, MINT_VEC_VNI));
	clear_pending(n->f[0], 1, MINT_VEC_VNI);
	CHECK_EQ(send_to_id(n, 0, 1, 2, 64), 1);
	CHECK(!vec_pending(n->f[0], 1, MINT_VEC_VNI));
	struct mint_vni_stats s = stats(n->f[0], 0);
	CHECK_EQ(s.tx_irqs, 2);
	CHECK_EQ(s.tx_irqs_suppressed, 1);
	/* Data waiting: arming says so. */
	CHECK_EQ(mint_vni_arm(n->v[1]), 1);
	CHECK_EQ(drain(n->v[1], &rx[1]), 2);
	CHECK_EQ(mint_vni_arm(n->v[1]), 0);
	/* A frame that slips in between the drain and the arm. */
	CHECK_EQ(drain(n->v[1], &rx[1]), 0);
	CHECK_EQ(send_to_id(n, 0, 1, 3, 64), 1);
	CHECK_EQ(mint_vni_arm(n->v[1]), 1);
	CHECK_EQ(drain(n->v[1], &rx[1]), 1);
	CHECK_EQ(mint_vni_arm(n->v[1]), 0);
	/* Two sources, one vector. */
	clear_pending(n->f[0], 1, MINT_VEC_VNI);
	CHECK_EQ(send_to_id(n, 2, 1, 4, 64), 1);
	CHECK(vec_pending(n->f[0], 1, MINT_VEC_VNI));
	CHECK_EQ(mint_vni_arm(n->v[1]), 1);
	CHECK_EQ(drain(n->v[1], &rx[1]), 1);
	CHECK_EQ(mint_vni_arm(n->v[1]), 0);
	CHECK_EQ(rx[1].n, 5);
	CHECK_EQ(rx[1].bad, 0);
	for (uint32_t k = 0; k < rx[1].n && k < 5; k++)
		CHECK_EQ(rx[1].seq[k], k);
}

static void test_arm(void) { with_net(arm); }

/* ==== a host that refuses frames ==== */

static void rx_drop_host(struct net *n, struct rx *rx)
{
	rx[1].refuse = 1; /* odd seqs */
	for (uint32_t s = 0; s < 30; s++)
		CHECK_EQ(send_to_id(n, 0, 1, s, 100), 1);
	CHECK_EQ(drain(n->v[1], &rx[1]), 30); /* refused frames are consumed too */
	CHECK_EQ(rx[1].refused, 15);
	struct mint_vni_stats s1 = stats(n->f[0], 1);
	CHECK_EQ(s1.rx_drop_host, 15);
	CHECK_EQ(s1.rx_packets, 15);
	CHECK_EQ(s1.rx_bytes, 15 * (HDR + 100));
	CHECK_EQ(s1.rx_errors, 0);
	/* Not offered again. */
	CHECK_EQ(drain(n->v[1], &rx[1]), 0);
	rx[1].refuse = 2;
	CHECK_EQ(send_seq(n, 0, BCAST, 30, 100), 2);
	CHECK_EQ(drain(n->v[1], &rx[1]), 1);
	CHECK_EQ(stats(n->f[0], 1).rx_drop_host, 16);
	CHECK_EQ(drain(n->v[2], &rx[2]), 1);
	CHECK_EQ(stats(n->f[0], 2).rx_packets, 1);
}

static void test_rx_drop_host(void) { with_net(rx_drop_host); }

/* ==== garbage in the rings ==== */

struct gfix {
	struct net n;
	struct rx rx;             /* node 1's */
	struct mint_ring_hdr *h;  /* ring vni.2-1 */
	uint8_t *data;
	struct mint_ring g;       /* a second, hostile producer view of it */
	uint32_t seq0;            /* node 0's next seq to node 1 */
	uint32_t seq0_seen;       /* node 0's frames node 1 got, in order */
};

static uint64_t rx_errors(struct gfix *x) { return stats(x->n.f[0], 1).rx_errors; }

static uint64_t tail_of(struct gfix *x) { return atomic_load(&x->h->tail); }

/* Poll node 1 dry; node 0's frames among what arrived must be in order. */
static int gpoll(struct gfix *x)
{
	uint32_t before = x->rx.n;
	int got = drain(x->n.v[1], &x->rx);
	for (uint32_t k = before; k < x->rx.n && k < RX_MAX; k++)
		if (x->rx.from[k] == 0) {
			CHECK_EQ(x->rx.seq[k], x->seq0_seen);
			x->seq0_seen = x->rx.seq[k] + 1;
		}
	return got;
}

/* Node 0 keeps talking to node 1 through all of it, on its own ring. */
static void from0(struct gfix *x) { CHECK_EQ(send_to_id(&x->n, 0, 1, x->seq0++, 40), 1); }

/* The honest producer restarts: a fresh view of the ring, from its tail. */
static void reopen2(struct gfix *x)
{
	mint_vni_close(x->n.v[2]);
	x->n.v[2] = NULL;
	CHECK_EQ(mint_vni_open(x->n.f[2], &x->n.v[2]), 0);
	if (x->n.v[2])
		CHECK_EQ(attach_id(x->n.v[2], 2), 0);
}

/* Good frames from node 2 arrive, all of them, in order, with no error. */
static void good_frames_arrive(struct gfix *x, uint32_t first, uint32_t count, const char *after)
{
	uint64_t e0 = rx_errors(x);
	uint32_t start = x->rx.n;
	x->rx.junk_ok = false;
	for (uint32_t k = 0; k < count; k++) {
		CHECK_EQ(send_to_id(&x->n, 2, 1, first + k, 8 + k * 37), 1);
		if (k % 7 == 0)
			from0(x);
	}
	gpoll(x);
	uint32_t got = 0;
	for (uint32_t k = start; k < x->rx.n && k < RX_MAX; k++)
		if (x->rx.from[k] == 2) {
			CHECK_EQ(x->rx.seq[k], first + got);
			got++;
		}
	CHECK_EQ(got, count);
	CHECK_EQ(rx_errors(x), e0);
	CHECK_EQ(x->rx.bad, 0);
	if (got != count || rx_errors(x) != e0)
		fprintf(stderr, "  ^ after %s\n", after);
}

static void test_garbage(void)
{
	static struct gfix x;
	memset(&x, 0, sizeof(x));
	if (!net_up(&x.n, RING))
		return;
	rx_init(&x.rx, x.n.v[1], 1);
	CHECK_EQ(send_to_id(&x.n, 2, 1, 0, 64), 1);
	from0(&x);
	CHECK_EQ(gpoll(&x), 2);
	uint64_t off = 0;
	x.h = vni_ring(x.n.f[0], 2, 1, &off);
	CHECK(x.h != NULL);
	if (!x.h) {
		net_down(&x.n);
		return;
	}
	x.data = (uint8_t *)x.h + sizeof(*x.h);
	const uint64_t mask = RING - 1;

	/* 1. Impossible tails: each counted once, nothing delivered, and the
	 * honest producer's next publication is taken. */
	uint64_t T = tail_of(&x), e = rx_errors(&x);
	const uint64_t bogus[] = {T + 3, T + RING + 8, UINT64_MAX, 1ull << 62, T - 64, T - 2 * RING};
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		atomic_store(&x.h->tail, bogus[i]);
		CHECK_EQ(gpoll(&x), 0);
		CHECK_EQ(rx_errors(&x), ++e);
		if (bogus[i] > T) { /* a forged tail seen again: still nothing */
			CHECK_EQ(gpoll(&x), 0);
			CHECK_EQ(rx_errors(&x), e);
		}
		atomic_store(&x.h->tail, T); /* the producer's value comes back */
		from0(&x);
		CHECK_EQ(gpoll(&x), 1);
		CHECK_EQ(rx_errors(&x), e);
	}
	good_frames_arrive(&x, 100, 10, "impossible tails");

	/* 2. Records that are no frames, from a hostile producer view. */
	CHECK_EQ(mint_ring_open(x.n.f[2], off, &x.g), 0);
	e = rx_errors(&x);
	uint8_t mac[6];
	mint_vni_mac(x.n.v[2], 1, mac);
	uint32_t len = make_frame(txbuf, x.n.v[2], 2, mac, 500, 64);
	const uint32_t types[] = {0, 2, 7, 0x1000, MINT_REC_PAD - 1};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		CHECK_EQ(mint_ring_send(&x.g, txbuf, len, types[i]), 0);
	const uint32_t shorts[] = {0, 1, MINT_VNI_VNET_HDR, HDR - 1};
	for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++)
		CHECK_EQ(mint_ring_send(&x.g, txbuf, shorts[i], MINT_REC_FRAME), 0);
	CHECK_EQ(mint_ring_send(&x.g, txbuf, len, MINT_REC_FRAME), 0); /* a good one last */
	from0(&x);
	uint64_t ring_errors = x.h->errors;
	CHECK_EQ(gpoll(&x), 2); /* the good one and node 0's */
	CHECK_EQ(rx_errors(&x), e + 9);
	CHECK(x.rx.n >= 2 && x.rx.from[x.rx.n - 1] == 2 && x.rx.seq[x.rx.n - 1] == 500);
	CHECK_EQ(x.h->errors, ring_errors); /* valid ring records, invalid frames */
	reopen2(&x);
	good_frames_arrive(&x, 200, 10, "records that are no frames");

	/* 3. Random bytes published as records, over and over. */
	CHECK_EQ(mint_ring_open(x.n.f[2], off, &x.g), 0);
	x.rx.junk_ok = true;
	e = rx_errors(&x);
	uint32_t junk = 0, rounds = (uint32_t)t_scale(T_SANITIZED ? 300 : 1000);
	for (uint32_t r = 0; r < rounds; r++) {
		T = x.g.local_tail;
		uint32_t nbytes = 8 * (1 + (uint32_t)(t_rnd() % 300));
		for (uint32_t i = 0; i < nbytes; i++)
			x.data[(T + i) & mask] = (uint8_t)t_rnd();
		uint32_t hv[2] = {(uint32_t)t_rnd(), (uint32_t)t_rnd()};
		switch (t_rnd() % 5) {
		case 0: /* plausible: small length, small type */
			hv[0] %= nbytes;
			hv[1] %= 3;
			break;
		case 1: /* a frame-sized record of type FRAME: delivered as junk */
			hv[0] = HDR + (uint32_t)(t_rnd() % (nbytes > HDR + 8 ? nbytes - HDR - 8 : 1));
			hv[1] = MINT_REC_FRAME;
			break;
		case 2: /* a pad of any length */
			hv[0] %= RING;
			hv[1] = MINT_REC_PAD + (uint32_t)(t_rnd() % 3) - 1;
			break;
		case 3: /* a length past the tail or the end */
			hv[0] = nbytes + (uint32_t)(t_rnd() % RING);
			hv[1] = MINT_REC_FRAME;
			break;
		default: /* anything */
			break;
		}
		if ((T & mask) + 8 <= RING)
			memcpy(x.data + (T & mask), hv, sizeof(hv));
		x.g.local_tail = T + nbytes;
		atomic_store_explicit(&x.h->tail, T + nbytes, memory_order_release);
		uint32_t before = x.rx.n;
		if (r % 3 == 0)
			from0(&x);
		gpoll(&x);
		for (uint32_t k = before; k < x.rx.n && k < RX_MAX; k++)
			junk += x.rx.from[k] != 0;
		/* Consumed or skipped, up to exactly what was published. */
		CHECK_EQ(atomic_load(&x.h->head), T + nbytes);
		if (x.rx.n > RX_MAX / 2) { /* keep the log short */
			x.rx.n = 0;
		}
		if (r % 64 == 0)
			beat(&x.n);
	}
	CHECK(rx_errors(&x) > e);
	CHECK(x.h->errors > 0);
	struct mint_vni_stats s1 = stats(x.n.f[0], 1);
	CHECK_EQ(s1.rx_drop_host, 0);
	reopen2(&x);
	x.rx.n = 0;
	good_frames_arrive(&x, 300, 50, "random records");

	/* 4. A forged tail ahead, inside the ring: the receiver reads what
	 * is there and moves past the honest producer's tail.  The producer
	 * goes on publishing behind the receiver's head, and those frames are
	 * lost, until it catches up with the receiver or needs the space and
	 * refuses the impossible head (counted in prod_errors); then the
	 * receiver rewinds to it.  Either way, within a ring's worth of bytes
	 * frames arrive again. */
	for (int variant = 0; variant < 2; variant++) {
		T = tail_of(&x);
		uint64_t ahead = variant ? RING : 4096;
		if (variant)
			memset(x.data, 0, RING); /* a ring of empty records of type 0 */
		atomic_store(&x.h->tail, T + ahead);
		x.rx.junk_ok = true;
		uint64_t e1 = rx_errors(&x);
		int got = mint_vni_poll(x.n.v[1], on_frame, &x.rx, 1);
		CHECK(got >= 0 && got <= 1);
		uint64_t in_one_poll = rx_errors(&x) - e1;
		/* Bad records count against each poll's budget: a few polls. */
		for (int k = 0; k < 100000 && atomic_load(&x.h->head) != T + ahead; k++)
			gpoll(&x);
		CHECK_EQ(atomic_load(&x.h->head), T + ahead);
		uint32_t seq = 1000 + 100000 * (uint32_t)variant, lost = 0, run = 0;
		uint64_t sent_bytes = 0;
		uint64_t txerr0 = stats(x.n.f[0], 2).tx_drop_error;
		while (run < 20 && sent_bytes < 2ull * RING) {
			uint32_t start = x.rx.n;
			int rc = send_to_id(&x.n, 2, 1, seq, 8);
			sent_bytes += rec_bytes(HDR + 8);
			gpoll(&x);
			bool arrived = false;
			for (uint32_t k = start; k < x.rx.n && k < RX_MAX; k++)
				arrived |= x.rx.from[k] == 2 && x.rx.seq[k] == seq;
			if (arrived) {
				run++;
			} else {
				run = 0;
				lost++;
				CHECK(rc == 1 || stats(x.n.f[0], 2).tx_drop_error > txerr0);
			}
			seq++;
			if (x.rx.n > RX_MAX / 2)
				x.rx.n = 0;
		}
		CHECK_EQ(run, 20);
		CHECK(sent_bytes <= RING + 64 * rec_bytes(HDR + 8));
		if (run < 20 || t_failures || getenv("MINT_TEST_VERBOSE"))
			fprintf(stderr, "  forged tail +%llu: %u frames lost, %llu bytes sent\n",
				(unsigned long long)ahead, lost, (unsigned long long)sent_bytes);
		if (variant && in_one_poll > 64 && getenv("MINT_TEST_VERBOSE"))
			fprintf(stderr, "  note: one mint_vni_poll(budget 1) counted %llu rx_errors\n",
				(unsigned long long)in_one_poll);
		x.rx.n = 0;
		good_frames_arrive(&x, seq, 20, "a forged tail ahead");
	}

	/* 5. Junk in the directory and the VNI header. */
	x.rx.junk_ok = false;
	struct mint_vni_hdr *vh = vni_hdr(x.n.f[0]);
	CHECK(vh != NULL);
	if (vh) {
		uint64_t down = stats(x.n.f[0], 0).tx_drop_down;
		vh->ports[9].state = 0xdeadbeefu; /* neither UP nor DOWN */
		CHECK_EQ(send_to_id(&x.n, 0, 9, 0, 8), 0);
		CHECK_EQ(stats(x.n.f[0], 0).tx_drop_down, down + 1);
		CHECK_EQ(send_seq(&x.n, 0, BCAST, x.seq0++, 40), 2); /* 1 and 2, not 9 */
		vh->ports[9].state = MINT_VNI_DOWN;
	}
	/* A raw object where ring vni.1-2 should be (the ring node 2's
	 * attach made, removed): node 1 cannot send to 2 (and keeps trying, a
	 * drop each time). */
	uint64_t roff;
	CHECK_EQ(mint_obj_remove(x.n.f[0], "vni.1-2"), 0);
	CHECK_EQ(mint_obj_open(x.n.f[0], "vni.1-2", MINT_OBJ_RAW, 4096, NULL, NULL, &roff), 1);
	uint64_t err0 = stats(x.n.f[0], 1).tx_drop_error;
	CHECK_EQ(send_to_id(&x.n, 1, 2, 0, 8), 0);
	CHECK_EQ(send_seq(&x.n, 1, BCAST, 1, 8), 1); /* node 0 only */
	CHECK_EQ(stats(x.n.f[0], 1).tx_drop_error, err0 + 2);
	static struct rx rx0;
	rx_init(&rx0, x.n.v[0], 0);
	CHECK_EQ(drain(x.n.v[0], &rx0), 1);
	/* Rings towards node 1 that do not open: a raw object, a ring header
	 * with a bad magic, one with an absurd size. */
	CHECK_EQ(mint_obj_open(x.n.f[0], "vni.5-1", MINT_OBJ_RAW, 4096, NULL, NULL, &roff), 1);
	CHECK_EQ(mint_obj_open(x.n.f[0], "vni.6-1", MINT_OBJ_RING, mint_ring_footprint(4096), NULL,
			       NULL, &roff), 1);
	memset(mint_fabric_at(x.n.f[0], roff, 4096), 0xa5, 4096);
	CHECK_EQ(mint_obj_open(x.n.f[0], "vni.7-1", MINT_OBJ_RING, mint_ring_footprint(4096), NULL,
			       NULL, &roff), 1);
	struct mint_ring_hdr *bad = mint_fabric_at(x.n.f[0], roff, sizeof(*bad));
	CHECK_EQ(mint_ring_format(bad, 4096, 7, 1, MINT_VEC_VNI), 0);
	bad->size = 1ull << 40; /* past the fabric */
	from0(&x);
	CHECK_EQ(gpoll(&x), 1 + (vh != NULL));
	good_frames_arrive(&x, 600, 10, "junk objects");
	CHECK_EQ(x.seq0_seen, x.seq0);
	net_down(&x.n);
}

/* ==== a stream both ways, threads as in the agent ==== */

/*
 * Nodes 0 and 1 each run a transmit thread (mint_vni_send, retrying a
 * frame the full ring dropped) and a dispatcher thread whose MINT_VEC_VNI
 * handler polls and re-arms, both on the node's one handle, as the agent
 * does with a TAP.  Node 2 broadcasts now and then (no retries: a copy may
 * be dropped on one side and not the other).  Each receiver checks that
 * every source's frames come in order, the peer's with no gap.
 */
struct side {
	struct net *n;
	uint32_t id, peer;
	uint32_t target;                /* frames to send to the peer */
	struct mint_dispatcher *d;
	pthread_t tx, disp;
	/* receive side (dispatcher thread) */
	uint32_t next_from_peer, last_from2;
	bool seen2;
	_Atomic uint32_t got_peer, got2, bad, handler_runs;
	/* transmit side */
	_Atomic uint32_t sent, retries;
	_Atomic int stop;
	uint64_t deadline;
};

static int stream_rx(void *arg, const void *frame, uint32_t len)
{
	struct side *sd = arg;
	struct rx chk;
	chk.v = sd->n->v[sd->id];
	chk.self = sd->id;
	uint32_t src, seq;
	if (!frame_ok(&chk, frame, len, &src, &seq)) {
		if (atomic_fetch_add(&sd->bad, 1) < 3)
			fprintf(stderr, "  node %u: a bad frame of %u bytes\n", sd->id, len);
		return 0;
	}
	if (src == sd->peer) {
		if (seq != sd->next_from_peer && atomic_fetch_add(&sd->bad, 1) < 3)
			fprintf(stderr, "  node %u: frame %u from %u, expected %u\n", sd->id, seq, src,
				sd->next_from_peer);
		sd->next_from_peer = seq + 1;
		atomic_fetch_add(&sd->got_peer, 1);
	} else if (src == 2) {
		if (sd->seen2 && seq <= sd->last_from2 && atomic_fetch_add(&sd->bad, 1) < 3)
			fprintf(stderr, "  node %u: broadcast %u after %u\n", sd->id, seq, sd->last_from2);
		sd->seen2 = true;
		sd->last_from2 = seq;
		atomic_fetch_add(&sd->got2, 1);
	} else {
		atomic_fetch_add(&sd->bad, 1);
	}
	return 0;
}

static void on_vni(void *arg, uint32_t vector)
{
	struct side *sd = arg;
	(void)vector;
	atomic_fetch_add(&sd->handler_runs, 1);
	for (;;) {
		int got = mint_vni_poll(sd->n->v[sd->id], stream_rx, sd, 256);
		if (got < 0) {
			atomic_fetch_add(&sd->bad, 1);
			break;
		}
		if (got == 256)
			continue;
		int armed = mint_vni_arm(sd->n->v[sd->id]);
		if (armed == 0)
			break;
		if (armed != 1) {
			atomic_fetch_add(&sd->bad, 1);
			break;
		}
	}
	if (atomic_load(&sd->got_peer) >= sd->target)
		mint_dispatcher_stop(sd->d);
}

static void *disp_main(void *arg)
{
	struct side *sd = arg;
	on_vni(sd, MINT_VEC_VNI); /* whatever came before: drain and arm */
	if (atomic_load(&sd->got_peer) < sd->target)
		mint_dispatcher_run(sd->d);
	return NULL;
}

static void *tx_main(void *arg)
{
	struct side *sd = arg;
	uint8_t *buf = malloc(HDR + 2048);
	uint8_t mac[6];
	mint_vni_mac(sd->n->v[sd->id], sd->peer, mac);
	uint64_t rng = 0x1234567ull + sd->id;
	for (uint32_t seq = 0; buf && seq < sd->target && !atomic_load(&sd->stop);) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		uint32_t len = make_frame(buf, sd->n->v[sd->id], sd->id, mac, seq, 8 + (uint32_t)(rng % 1500));
		int rc = mint_vni_send(sd->n->v[sd->id], buf, len);
		if (rc == 1) {
			seq++;
			atomic_store(&sd->sent, seq);
		} else if (rc == 0) { /* the ring is full: as a TCP would, retry */
			atomic_fetch_add(&sd->retries, 1);
			if (t_now_ns() > sd->deadline)
				break;
			t_sleep_us(50);
		} else {
			atomic_fetch_add(&sd->bad, 1);
			break;
		}
	}
	free(buf);
	return NULL;
}

static void test_stream_threads(void)
{
	struct net n;
	if (!net_up(&n, RING))
		return;
	uint32_t N = (uint32_t)t_scale(T_SANITIZED ? 20000 : 100000);
	static struct side sd[2];
	uint64_t deadline = t_now_ns() + (T_SANITIZED ? 90 : 30) * 1000000000ull;
	for (int i = 0; i < 2; i++) {
		memset(&sd[i], 0, sizeof(sd[i]));
		sd[i].n = &n;
		sd[i].id = (uint32_t)i;
		sd[i].peer = (uint32_t)(1 - i);
		sd[i].target = N;
		sd[i].deadline = deadline;
		CHECK_EQ(mint_dispatcher_create(n.f[i], MINT_MODE_SLEEP, &sd[i].d), 0);
		if (!sd[i].d) {
			net_down(&n);
			return;
		}
		mint_dispatcher_set_handler(sd[i].d, MINT_VEC_VNI, on_vni, &sd[i]);
	}
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(pthread_create(&sd[i].disp, NULL, disp_main, &sd[i]), 0);
		CHECK_EQ(pthread_create(&sd[i].tx, NULL, tx_main, &sd[i]), 0);
	}
	/* Node 2 broadcasts from here, and everyone's counters are read while
	 * it all runs. */
	uint32_t bseq = 0, bcopies = 0;
	uint64_t last_beat = 0;
	while ((atomic_load(&sd[0].got_peer) < N || atomic_load(&sd[1].got_peer) < N) &&
	       t_now_ns() < deadline) {
		if (bseq < 2000) {
			int rc = send_seq(&n, 2, BCAST, bseq, 8 + bseq % 200);
			bseq++;
			CHECK(rc >= 0 && rc <= 2);
			bcopies += rc > 0 ? (uint32_t)rc : 0;
		}
		struct mint_vni_stats st;
		for (uint32_t id = 0; id < NNODES; id++)
			CHECK_EQ(mint_vni_stats(n.f[0], id, &st), 0);
		if (t_now_ns() - last_beat > 100000000ull) {
			beat(&n);
			last_beat = t_now_ns();
		}
		t_sleep_us(200);
	}
	for (int i = 0; i < 2; i++) {
		atomic_store(&sd[i].stop, 1);
		pthread_join(sd[i].tx, NULL);
	}
	/* Broadcast copies that are still in flight: the dispatchers may have
	 * stopped; take them here (the dispatcher threads are done first). */
	for (int i = 0; i < 2; i++)
		mint_dispatcher_stop(sd[i].d);
	for (int i = 0; i < 2; i++)
		pthread_join(sd[i].disp, NULL);
	for (int i = 0; i < 2; i++)
		on_vni(&sd[i], MINT_VEC_VNI);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(atomic_load(&sd[i].sent), N);
		CHECK_EQ(atomic_load(&sd[i].got_peer), N);
		CHECK_EQ(atomic_load(&sd[i].bad), 0);
		struct mint_vni_stats s = stats(n.f[0], (uint32_t)i);
		CHECK_EQ(s.tx_packets, N);
		/* A full queue or ring, or (pool mode) no free buffer. */
		CHECK_EQ(s.tx_drop_full + s.tx_drop_pool, atomic_load(&sd[i].retries));
		CHECK_EQ(s.rx_packets, N + atomic_load(&sd[i].got2));
		CHECK_EQ(s.rx_errors + s.rx_drop_host + s.tx_drop_error + s.tx_drop_down + s.tx_drop_unknown, 0);
		CHECK(atomic_load(&sd[i].handler_runs) >= 1);
	}
	struct mint_vni_stats s2 = stats(n.f[0], 2);
	CHECK_EQ(s2.tx_packets, bcopies);
	CHECK_EQ(atomic_load(&sd[0].got2) + atomic_load(&sd[1].got2), bcopies);
	/* An empty pool drops the frame before it is copied for each port. */
	CHECK_EQ(s2.tx_drop_full + s2.tx_packets + 2 * s2.tx_drop_pool, 2 * bseq);
	if (g_mode == MINT_VNI_POOL)
		CHECK_EQ(pool_free(n.f[0]), POOL_ALL);
	if (t_failures || getenv("MINT_TEST_VERBOSE"))
		fprintf(stderr, "  stream: sent %u/%u, got %u/%u, retries %u/%u, handler runs %u/%u, "
			"broadcasts %u (%u copies)\n",
			atomic_load(&sd[0].sent), atomic_load(&sd[1].sent), atomic_load(&sd[0].got_peer),
			atomic_load(&sd[1].got_peer), atomic_load(&sd[0].retries),
			atomic_load(&sd[1].retries), atomic_load(&sd[0].handler_runs),
			atomic_load(&sd[1].handler_runs), bseq, bcopies);
	for (int i = 0; i < 2; i++)
		mint_dispatcher_destroy(sd[i].d);
	net_down(&n);
}

/* Transmit without a copy: frames written into the tx_begin buffer arrive
 * the same, whether it lay in the ring of their destination (the last
 * unicast one), in another's, or was private; broadcast too. */
/* Pool mode, after small frames in place: each was copied into a small
 * buffer (all given back by now) and the large buffer they were read into
 * stays held for the next frame; a large frame goes in it, not copied. */
static void pool_copybreak(struct net *n, struct rx *rx, const uint8_t *mac1)
{
	struct mint_vni_buf *b = pool_bufs(n->f[0]);
	CHECK_EQ(pool_free(n->f[0]), POOL_ALL - 1);
	uint32_t held = POOL_ALL;
	for (uint32_t i = 0; i < POOL_ALL; i++)
		if (atomic_load(&b[i].state) == MINT_VNI_BUF_HELD)
			held = i;
	CHECK(held < POOL_BUFS);
	void *buf;
	uint32_t cap;
	CHECK_EQ(mint_vni_tx_begin(n->v[0], &buf, &cap), 0);
	uint32_t len = make_frame(buf, n->v[0], 0, mac1, 8, 3000);
	CHECK_EQ(mint_vni_tx_end(n->v[0], len), 1);
	CHECK(held < POOL_BUFS && atomic_load(&b[held].state) == MINT_VNI_BUF_SENT);
	rx[1].n = 0;
	CHECK_EQ(drain(n->v[1], &rx[1]), 1);
	CHECK_EQ(rx[1].seq[0], 8);
	CHECK_EQ(rx[1].len[0], len);
	CHECK_EQ(pool_free(n->f[0]), POOL_ALL);
}

static void tx_in_place(struct net *n, struct rx *rx)
{
	uint8_t mac1[6], mac2[6], bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	mint_vni_mac(n->v[0], 1, mac1);
	mint_vni_mac(n->v[0], 2, mac2);
	/* seq 0: private buffer (no unicast yet); 1-3: in node 1's ring;
	 * 4: to node 2 from node 1's ring; 5: broadcast; 6: node 2 in place. */
	const uint8_t *dsts[] = {mac1, mac1, mac1, mac1, mac2, bcast, mac2, mac2};
	const uint32_t ndst = sizeof(dsts) / sizeof(dsts[0]);
	for (uint32_t s = 0; s < ndst; s++) {
		void *buf;
		uint32_t cap;
		CHECK_EQ(mint_vni_tx_begin(n->v[0], &buf, &cap), 0);
		CHECK(cap >= MINT_VNI_FRAME_MAX);
		uint32_t len = make_frame(buf, n->v[0], 0, dsts[s], s, 64 + s);
		CHECK_EQ(mint_vni_tx_end(n->v[0], len), dsts[s] == bcast ? 2 : 1);
	}
	CHECK_EQ(drain(n->v[1], &rx[1]), 5); /* 0-3 and the broadcast */
	CHECK_EQ(drain(n->v[2], &rx[2]), 4); /* 4, the broadcast, 6, 7 */
	const uint32_t want1[] = {0, 1, 2, 3, 5}, want2[] = {4, 5, 6, 7};
	for (uint32_t k = 0; k < 5 && k < rx[1].n; k++)
		CHECK_EQ(rx[1].seq[k], want1[k]);
	for (uint32_t k = 0; k < 4 && k < rx[2].n; k++)
		CHECK_EQ(rx[2].seq[k], want2[k]);
	CHECK_EQ(rx[1].bad + rx[2].bad, 0);
	struct mint_vni_stats st;
	CHECK_EQ(mint_vni_stats(n->f[0], 0, &st), 0);
	CHECK_EQ(st.tx_packets, 9);
	if (g_mode == MINT_VNI_POOL)
		pool_copybreak(n, rx, mac1);
}

static void test_tx_in_place(void) { with_net(tx_in_place); }

/* ==== pool mode ==== */

static void test_pool_config(void)
{
	struct mint_fabric *f = t_fabric(64ull << 20);
	struct mint_vni_config cfg = {MINT_VNI_POOL, 0, 0};
	CHECK_EQ(mint_vni_create(f, &cfg), 1);
	struct mint_obj_info info;
	CHECK_EQ(mint_obj_find(f, "vni.pool", &info), 0);
	CHECK_EQ(info.type, MINT_OBJ_VNI_POOL);
	CHECK(info.size >= (uint64_t)MINT_VNI_POOL_DEFAULT * MINT_VNI_BUF_SIZE);
	struct mint_vni_pool_hdr *ph = mint_fabric_at(f, info.offset, sizeof(*ph));
	CHECK(ph != NULL);
	if (!ph)
		return;
	CHECK_EQ(ph->magic, MINT_VNI_POOL_MAGIC);
	CHECK_EQ(ph->nbuf, MINT_VNI_POOL_DEFAULT);
	CHECK_EQ(ph->qlen, 4096);
	CHECK_EQ(ph->nsmall, MINT_VNI_POOL_DEFAULT * MINT_VNI_SMALL_PER_BUF);
	CHECK_EQ(ph->small_size, MINT_VNI_SMALL_SIZE);
	CHECK_EQ(vni_hdr(f)->pool_buffers, MINT_VNI_POOL_DEFAULT);
	struct mint_vni *v = NULL;
	CHECK_EQ(mint_vni_open(f, &v), 0);
	struct mint_vni_config got = {0, 0, 0};
	if (v)
		mint_vni_config(v, &got);
	CHECK_EQ(got.mode, MINT_VNI_POOL);
	CHECK_EQ(got.pool_buffers, MINT_VNI_POOL_DEFAULT);
	mint_vni_close(v);
	/* A pool that does not match its header is refused. */
	ph->nbuf = MINT_VNI_POOL_DEFAULT + 1;
	CHECK_EQ(mint_vni_open(f, &v), -EPROTO);
	ph->nbuf = MINT_VNI_POOL_DEFAULT;
	ph->nsmall--;
	CHECK_EQ(mint_vni_open(f, &v), -EPROTO);
	ph->nsmall++;
	ph->small_size = MINT_VNI_BUF_SIZE;
	CHECK_EQ(mint_vni_open(f, &v), -EPROTO);
	ph->small_size = MINT_VNI_SMALL_SIZE;
	ph->magic = 0;
	CHECK_EQ(mint_vni_open(f, &v), -EPROTO);
	ph->magic = MINT_VNI_POOL_MAGIC;
	CHECK_EQ(mint_obj_remove(f, "vni.pool"), 0);
	CHECK_EQ(mint_vni_open(f, &v), -EPROTO);
	leave(f);
}

/* Node DST's address queue and its slots (see docs/layout.md). */
static struct mint_vni_addrq *pool_queue(struct mint_fabric *f, uint32_t dst)
{
	uint64_t stride = sizeof(struct mint_vni_addrq) + POOL_QLEN * 4;
	return (struct mint_vni_addrq *)((uint8_t *)(pool_bufs(f) + POOL_ALL) + dst * stride);
}
/* Add entry ID to node DST's queue as a hostile peer would: no lock, no
 * reference. */
static void forge_entry(struct mint_fabric *f, uint32_t dst, uint32_t id)
{
	struct mint_vni_addrq *q = pool_queue(f, dst);
	uint64_t tail = atomic_load(&q->tail);
	((_Atomic uint32_t *)(q + 1))[tail % POOL_QLEN] = id;
	atomic_store(&q->tail, tail + 1);
}

/* Garbage in the queues and in the buffer-management area: drops and
 * counts, never a crash (ASan sees every byte delivered), a hang or a
 * buffer used twice; good frames still arrive. */
static void pool_garbage(struct net *n, struct rx *rx)
{
	struct mint_fabric *f = n->f[0];
	struct mint_vni_buf *b = pool_bufs(f);
	rx[1].junk_ok = true;
	uint64_t err0 = stats(f, 1).rx_errors;
	/* Ids out of range, a FREE buffer, NONE. */
	forge_entry(f, 1, POOL_ALL);
	forge_entry(f, 1, 0xfffffffeu);
	forge_entry(f, 1, MINT_VNI_BUF_NONE);
	forge_entry(f, 1, 5); /* FREE */
	CHECK_EQ(drain(n->v[1], &rx[1]), 0);
	CHECK_EQ(stats(f, 1).rx_errors, err0 + 4);
	CHECK_EQ(pool_free(f), POOL_ALL);
	/* A length too large, in a buffer really queued: dropped, and the
	 * buffer goes back. */
	CHECK_EQ(send_to_id(n, 0, 1, 1, 100), 1);
	struct mint_vni_addrq *q1 = pool_queue(f, 1);
	uint32_t id = ((_Atomic uint32_t *)(q1 + 1))[atomic_load(&q1->head) % POOL_QLEN];
	CHECK(id >= POOL_BUFS && id < POOL_ALL); /* a small frame: a small buffer */
	if (id < POOL_ALL)
		atomic_store(&b[id].len, MINT_VNI_BUF_SIZE * 4u);
	CHECK_EQ(drain(n->v[1], &rx[1]), 0);
	CHECK_EQ(stats(f, 1).rx_errors, err0 + 5);
	CHECK_EQ(pool_free(f), POOL_ALL);
	/* A length a large buffer could hold, in a small one: dropped too. */
	CHECK_EQ(send_to_id(n, 0, 1, 1, 100), 1);
	id = ((_Atomic uint32_t *)(q1 + 1))[atomic_load(&q1->head) % POOL_QLEN];
	if (id < POOL_ALL)
		atomic_store(&b[id].len, MINT_VNI_SMALL_SIZE + 1);
	CHECK_EQ(drain(n->v[1], &rx[1]), 0);
	CHECK_EQ(stats(f, 1).rx_errors, err0 + 6);
	CHECK_EQ(pool_free(f), POOL_ALL);
	err0++;
	/* The same buffer queued twice (a double free once both are taken):
	 * the second entry finds it FREE and is skipped. */
	CHECK_EQ(send_to_id(n, 0, 1, 2, 100), 1);
	id = ((_Atomic uint32_t *)(q1 + 1))[atomic_load(&q1->head) % POOL_QLEN];
	forge_entry(f, 1, id);
	rx[1].n = 0;
	CHECK_EQ(drain(n->v[1], &rx[1]), 1);
	CHECK_EQ(stats(f, 1).rx_errors, err0 + 6);
	CHECK_EQ(pool_free(f), POOL_ALL);
	/* A forged tail far ahead: everything there is given up, once. */
	atomic_store(&q1->tail, atomic_load(&q1->head) + 1000000);
	CHECK_EQ(drain(n->v[1], &rx[1]), 0);
	CHECK_EQ(stats(f, 1).rx_errors, err0 + 7);
	/* A reference count out of range: the receiver drops its entry's
	 * reference in vain (counted) rather than wrapping the count. */
	CHECK_EQ(send_to_id(n, 0, 1, 3, 100), 1);
	id = ((_Atomic uint32_t *)(q1 + 1))[atomic_load(&q1->head) % POOL_QLEN];
	atomic_store(&b[id].refs, 1000);
	CHECK_EQ(drain(n->v[1], &rx[1]), 1);
	CHECK_EQ(stats(f, 1).rx_errors, err0 + 8);
	atomic_store(&b[id].refs, 1); /* what it should have been: put it back */
	atomic_store(&b[id].state, MINT_VNI_BUF_SENT);
	forge_entry(f, 1, id);
	rx[1].n = 0;
	CHECK_EQ(drain(n->v[1], &rx[1]), 1);
	CHECK_EQ(pool_free(f), POOL_ALL);
	/* Good frames after all that. */
	rx[1].n = 0;
	for (uint32_t s = 10; s < 20; s++)
		CHECK_EQ(send_to_id(n, 0, 1, s, 200), 1);
	CHECK_EQ(drain(n->v[1], &rx[1]), 10);
	CHECK_EQ(pool_free(f), POOL_ALL);

	/* Byte counts that say the queue holds more than the pool (bytes_out
	 * ahead of bytes_in): the queue is corrupt, frames to it are dropped
	 * and counted until it is empty, where the counts start over. */
	uint64_t terr = stats(f, 0).tx_drop_error;
	CHECK_EQ(send_to_id(n, 0, 1, 20, 100), 1);
	atomic_store(&q1->bytes_out, atomic_load(&q1->bytes_in) + 4096);
	CHECK_EQ(send_to_id(n, 0, 1, 21, 100), 0);
	CHECK_EQ(stats(f, 0).tx_drop_error, terr + 1);
	rx[1].n = 0;
	CHECK_EQ(drain(n->v[1], &rx[1]), 1);
	atomic_store(&q1->bytes_in, atomic_load(&q1->bytes_in) + (1ull << 40)); /* empty: no matter */
	CHECK_EQ(send_to_id(n, 0, 1, 22, 100), 1);
	CHECK_EQ(drain(n->v[1], &rx[1]), 1);
	CHECK_EQ(pool_free(f), POOL_ALL);

	/* A loop in the free stack of small buffers: the top links to
	 * itself.  The first frame takes it; then every pop finds it HELD:
	 * the sender drops and counts (tx_drop_error), nothing hangs, nobody
	 * writes into the buffer in use. */
	struct mint_vni_pool_hdr *ph = pool_hdr(f);
	uint64_t top = atomic_load(&ph->free_small);
	uint32_t t = (uint32_t)top;
	CHECK(t >= POOL_BUFS && t < POOL_ALL);
	if (t < POOL_ALL)
		atomic_store(&b[t].next, t);
	terr = stats(f, 0).tx_drop_error;
	CHECK_EQ(send_to_id(n, 0, 1, 30, 100), 1);
	CHECK_EQ(send_to_id(n, 0, 1, 31, 100), 0);
	CHECK_EQ(stats(f, 0).tx_drop_error, terr + 1);
	/* A forged top out of range: the same. */
	atomic_store(&ph->free_small, (top & ~0xffffffffull) | (POOL_ALL + 7));
	CHECK_EQ(send_to_id(n, 0, 1, 32, 100), 0);
	CHECK_EQ(stats(f, 0).tx_drop_error, terr + 2);
	/* A large buffer on top of the small stack (a frame could overrun a
	 * small one the other way round): refused, not popped. */
	atomic_store(&ph->free_small, (top & ~0xffffffffull) | 3);
	CHECK_EQ(send_to_id(n, 0, 1, 33, 100), 0);
	CHECK_EQ(stats(f, 0).tx_drop_error, terr + 3);
	/* And a small one on top of the large stack. */
	uint64_t ltop = atomic_load(&ph->free_top);
	atomic_store(&ph->free_top, (ltop & ~0xffffffffull) | (POOL_BUFS + 1));
	CHECK_EQ(send_to_id(n, 0, 1, 34, 3000), 0);
	CHECK_EQ(stats(f, 0).tx_drop_error, terr + 4);
	rx[1].n = 0;
	CHECK_EQ(drain(n->v[1], &rx[1]), 1); /* frame 30 */
	CHECK_EQ(rx[1].bad, 0);
}

static void test_pool_garbage(void) { with_net(pool_garbage); }

/* A queue holds half the pool's bytes: small frames fill the small buffers
 * (2 KiB each), then large ones, then the sender drops (tx_drop_full);
 * all of it comes out in order and goes back. */
static void pool_queue_bytes(struct net *n, struct rx *rx)
{
	uint64_t half = ((uint64_t)POOL_BUFS * MINT_VNI_BUF_SIZE +
			 (uint64_t)POOL_BUFS * MINT_VNI_SMALL_PER_BUF * MINT_VNI_SMALL_SIZE) / 2;
	uint32_t small = POOL_BUFS * MINT_VNI_SMALL_PER_BUF;
	uint32_t fits = small + (uint32_t)((half - (uint64_t)small * MINT_VNI_SMALL_SIZE) /
					   MINT_VNI_BUF_SIZE);
	uint32_t sent = 0;
	for (uint32_t s = 0; s < fits + 10; s++)
		sent += (uint32_t)send_to_id(n, 0, 1, s, 100);
	CHECK_EQ(sent, fits);
	CHECK_EQ(stats(n->f[0], 0).tx_drop_full, 10);
	CHECK_EQ(pool_free(n->f[0]), POOL_ALL - fits);
	CHECK_EQ(drain(n->v[1], &rx[1]), (int)fits);
	for (uint32_t k = 0; k < fits && k < rx[1].n; k++)
		CHECK_EQ(rx[1].seq[k], k);
	CHECK_EQ(pool_free(n->f[0]), POOL_ALL);
}

static void test_pool_queue_bytes(void) { with_net(pool_queue_bytes); }

/* A node that dies holding a buffer and with frames queued to it: a
 * reclaim gives both back; its successor's attach empties its queue. */
static void pool_dead_node(struct net *n, struct rx *rx)
{
	(void)rx;
	pid_t pid = spawn_node3();
	for (uint32_t s = 0; s < 10; s++)
		CHECK_EQ(send_to_id(n, 0, 3, s, 64), 1);
	/* A buffer held for a next frame (tx_begin), handed to node 3 as if
	 * its agent had taken it. */
	struct mint_vni_buf *b = pool_bufs(n->f[0]);
	void *buf;
	uint32_t cap, held = POOL_BUFS;
	CHECK_EQ(mint_vni_tx_begin(n->v[0], &buf, &cap), 0);
	for (uint32_t i = 0; i < POOL_BUFS; i++)
		if (atomic_load(&b[i].state) == MINT_VNI_BUF_HELD)
			held = i;
	CHECK(held < POOL_BUFS);
	if (held >= POOL_BUFS)
		return;
	atomic_store(&b[held].owner, 3);
	atomic_store(&b[held].epoch, mint_node_entry(n->f[0], 3)->epoch);
	CHECK_EQ(pool_free(n->f[0]), POOL_ALL - 11);
	CHECK_EQ(mint_vni_reclaim(n->v[0]), 0); /* alive: nothing to take */
	kill(pid, SIGKILL);
	CHECK_EQ(t_wait_child(pid), 128 + SIGKILL);
	beat(n);
	CHECK_EQ(mint_vni_reclaim(n->v[0]), 11);
	CHECK_EQ(stats(n->f[0], 0).pool_reclaimed, 11);
	CHECK_EQ(pool_free(n->f[0]), POOL_ALL);
	CHECK_EQ(mint_vni_reclaim(n->v[1]), 0);      /* once only */
}

static void test_pool_dead_node(void) { with_net(pool_dead_node); }

int main(void)
{
	t_start("test_vni", T_SANITIZED ? 240 : 120);
	t_child_timeout = T_SANITIZED ? 120 : 60;
	t_mode = "per-dest";
	RUN(test_config);
	RUN(test_geometry_heal);
	RUN(test_unicast);
	RUN(test_tx_in_place);
	RUN(test_broadcast_multicast);
	RUN(test_unknown_and_down);
	RUN(test_dead_node);
	RUN(test_ring_full);
	RUN(test_sizes);
	RUN(test_arm);
	RUN(test_rx_drop_host);
	RUN(test_garbage);
	RUN(test_stream_threads);
	/* Configuration (2): the same routing, counting and streaming tests
	 * on the pool, then what only the pool has.  The three nodes map the
	 * fabric at three addresses in this one process, so a pool buffer's
	 * way from node 0's sender back to node 0's receiver passes atomics
	 * TSan does not know alias: vni_pool.c names that ordering for it
	 * (tsan.h in the library). */
	g_mode = MINT_VNI_POOL;
	t_mode = "pool";
	RUN(test_pool_config);
	RUN(test_geometry_heal);
	RUN(test_unicast);
	RUN(test_tx_in_place);
	RUN(test_broadcast_multicast);
	RUN(test_unknown_and_down);
	RUN(test_dead_node);
	RUN(test_sizes);
	RUN(test_rx_drop_host);
	RUN(test_stream_threads);
	RUN(test_pool_garbage);
	RUN(test_pool_queue_bytes);
	RUN(test_pool_dead_node);
	return t_done();
}
