// SPDX-License-Identifier: GPL-2.0
/*
 * mint_nic: a guest kernel driver for mint's emulated NIC, the e1000-style
 * receive ring "nic.ID" in the fabric that `mint inject ID` fills (seed
 * 001: the target OS's NIC driver, its RX ring moved into shared memory).
 *
 * It is written to be copied: the receive path of a real NIC driver, in
 * the e1000's legacy terms, and nothing else.
 *
 *   hard irq (MSI-X)   read-to-clear ICR, mask IMS, schedule NAPI
 *   NAPI poll          consume descriptors while DD, in ring order: copy
 *                      each packet into an skb, netif_receive_skb, give
 *                      the descriptor back (DD clear, RDT past it)
 *   poll done          unmask IMS; a cause that came meanwhile: poll again
 *
 * The device is another machine's process: every word it wrote is read
 * once, checked, then used, and only ever inside BAR2.  A bad descriptor
 * is dropped and counted by reason (ethtool -S, debugfs), never trusted.
 *
 * The ivshmem device itself belongs to mint_ivshmem.ko (BAR2 = the fabric,
 * MSI-X vectors, our node id); this driver claims the NIC's vector there.
 * mint_fabric.ko finds or creates the ring "nic.ID" in the fabric's
 * directory.
 *
 * The module loads whether or not our node is up (the guest's init may
 * load it before its agent joins): the carrier stays off and a work item
 * checks the node every 100 ms, attaches the ring once the node is up,
 * and resets it with each new epoch the node joins with (the injector
 * takes a ring whose epoch is not its node's for stale).
 */
#include <linux/debugfs.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_vlan.h>
#include <linux/inet.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/seq_file.h>
#include <linux/u64_stats_sync.h>

#include "mint_fabric.h"
#include "mint_ivshmem.h"

static unsigned int ndesc = 256;
module_param(ndesc, uint, 0444);
MODULE_PARM_DESC(ndesc, "receive descriptors, a multiple of 8 in 8..4096");
static unsigned int buf_size = 2048;
module_param(buf_size, uint, 0444);
MODULE_PARM_DESC(buf_size, "bytes per receive buffer, a power of two in 256..16384");
static unsigned int itr_us;
module_param(itr_us, uint, 0444);
MODULE_PARM_DESC(itr_us, "interrupt moderation: at least this gap between interrupts");
static char *ipv4;
module_param(ipv4, charp, 0444);
MODULE_PARM_DESC(ipv4, "address published for the injector (default 10.78.0.<id+1>)");

/* Why a packet was not handed on: the counters ethtool -S shows. */
enum nic_stat {
	ST_PACKETS,  /* handed to the stack */
	ST_BYTES,
	ST_ERRORS,   /* error bits, no EOP on a short buffer, broken chain, too long */
	ST_BAD,      /* garbage length or buffer offset */
	ST_NOMEM,    /* no skb */
	ST_POLLS,    /* NAPI polls */
	ST_IRQS,     /* interrupts that found a cause; this one and the rest
		      * are the hard irq's to write, those above NAPI's */
	ST_SPURIOUS, /* interrupts that found none */
	ST_OVERRUNS, /* RXO causes: the device found no free descriptor */
	ST_COUNT
};

static const char nic_stat_names[ST_COUNT][ETH_GSTRING_LEN] = {
	"rx_packets", "rx_bytes",      "rx_drop_errors", "rx_drop_bad", "rx_drop_nomem",
	"napi_polls", "irqs",	       "irqs_spurious",	 "rx_overruns",
};

/* irq-to-NAPI latency, log2 buckets of nanoseconds: what this driver adds
 * between the interrupt and the first packet it hands on. */
#define LAT_BUCKETS 32

struct mint_nic {
	struct net_device *netdev;
	struct napi_struct napi;
	struct mint_ivshmem *iv;
	struct mint_fabric f;
	/* the ring (NULL until our node first joined; set under rtnl with
	 * NAPI off), and our own copy of its geometry: never re-read */
	struct mint_nic_hdr *hdr;
	struct mint_nic_desc *desc;
	u8 *bufs;
	u32 ndesc, buf_size, ims;
	u32 next; /* next descriptor to clean (e1000 next_to_clean) */
	u32 rdt;  /* what we published */
	u64 irq_ns; /* when the last interrupt came: for the latency buckets */
	u8 addr[4];  /* published in the ring for the injector */
	int attach_rc; /* attach_ring's last error, logged once */
	struct delayed_work join; /* follow_node, every 100 ms */
	/* ST_IRQS.. are written by the hard irq, the rest by NAPI: one
	 * writer each, hence two syncs */
	u64 stats[ST_COUNT];
	struct u64_stats_sync rx_sync, irq_sync;
	u64 lat[LAT_BUCKETS];
	struct dentry *dbg;
};

/* ---- the ring ---- */

static u64 desc_area(u32 nd)
{
	return ALIGN(sizeof(struct mint_nic_hdr) + (u64)nd * sizeof(struct mint_nic_desc), 64);
}

static u64 ring_size(struct mint_nic *n)
{
	return desc_area(n->ndesc) + (u64)n->ndesc * n->buf_size;
}

static void nic_init(void *mem, void *arg)
{
	struct mint_nic *n = arg;
	struct mint_nic_hdr *h = mem;

	h->version = cpu_to_le32(MINT_NIC_VERSION);
	h->node = cpu_to_le32(n->f.node);
	h->vector = cpu_to_le32(MINT_VEC_NIC);
	h->ndesc = cpu_to_le32(n->ndesc);
	h->buf_size = cpu_to_le32(n->buf_size);
	h->desc_off = cpu_to_le64(sizeof(*h));
	h->buf_off = cpu_to_le64(desc_area(n->ndesc));
	h->magic = cpu_to_le32(MINT_NIC_MAGIC);
}

/* An existing "nic.ID": the geometry we would have made, and room for it. */
static bool ring_matches(struct mint_nic *n, struct mint_nic_hdr *h, u64 size)
{
	return size >= ring_size(n) &&
	       le32_to_cpu(READ_ONCE(h->magic)) == MINT_NIC_MAGIC &&
	       le32_to_cpu(READ_ONCE(h->version)) == MINT_NIC_VERSION &&
	       le32_to_cpu(READ_ONCE(h->node)) == n->f.node &&
	       le32_to_cpu(READ_ONCE(h->vector)) == MINT_VEC_NIC &&
	       le32_to_cpu(READ_ONCE(h->ndesc)) == n->ndesc &&
	       le32_to_cpu(READ_ONCE(h->buf_size)) == n->buf_size &&
	       le64_to_cpu(READ_ONCE(h->desc_off)) == sizeof(*h) &&
	       le64_to_cpu(READ_ONCE(h->buf_off)) == desc_area(n->ndesc);
}

/* Every descriptor empty with its own buffer, all but one given to the
 * device; then UP, which publishes the rest (the device reads UP with
 * acquire before it touches the ring). */
static void ring_reset(struct mint_nic *n)
{
	struct mint_nic_hdr *h = n->hdr;
	u32 i;

	smp_store_release(&h->state, cpu_to_le32(MINT_NIC_DOWN));
	for (i = 0; i < n->ndesc; i++) {
		WRITE_ONCE(n->desc[i].addr, cpu_to_le64((u64)i * n->buf_size));
		WRITE_ONCE(n->desc[i].status_word, 0);
	}
	memcpy(h->mac, n->netdev->dev_addr, ETH_ALEN);
	memcpy(h->ipv4, n->addr, 4);
	h->prefix_len = cpu_to_le32(24);
	h->epoch = cpu_to_le32(n->f.epoch);
	WRITE_ONCE(h->rdh, 0);
	n->next = 0;
	n->rdt = n->ndesc - 1;
	WRITE_ONCE(h->rdt, cpu_to_le32(n->rdt));
	WRITE_ONCE(h->ims, 0); /* no interrupt before ndo_open */
	WRITE_ONCE(h->itr_ns, cpu_to_le64((u64)itr_us * NSEC_PER_USEC));
	WRITE_ONCE(h->icr, 0);
	smp_store_release(&h->state, cpu_to_le32(MINT_NIC_UP));
}

static void count(struct mint_nic *n, enum nic_stat s, u64 v)
{
	struct u64_stats_sync *sync = s < ST_IRQS ? &n->rx_sync : &n->irq_sync;

	u64_stats_update_begin(sync);
	n->stats[s] += v;
	u64_stats_update_end(sync);
}

/* A counter of the fabric's driver line: we are its only writer. */
static void fabric_add(__le64 *c, u64 v)
{
	if (v)
		WRITE_ONCE(*c, cpu_to_le64(le64_to_cpu(READ_ONCE(*c)) + v));
}

#define W_LEN(w) ((u32)((w) & 0xffff))
#define W_STATUS(w) ((u8)((w) >> 32))
#define W_ERRORS(w) ((u8)((w) >> 40))
#define W_VLAN(w) ((u16)((w) >> 48))

enum verdict { GOOD, ERROR, BAD };

/* A packet: descriptors from n->next, each status word read once. */
struct chain {
	u32 k;    /* descriptors it spans */
	u32 len;  /* its bytes: k - 1 full buffers and the last's length */
	u64 last; /* the last descriptor's status word */
	enum verdict v;
};

/* Descriptor I (status word W, DD set) as part of chain C: does it end
 * the chain?  A short buffer ends it, EOP or not (no EOP is an error);
 * a garbage length or a buffer that is not ours does not, so the rest of
 * the packet is dropped with it. */
static bool chain_step(struct mint_nic *n, u32 i, u64 w, struct chain *c)
{
	u32 len = W_LEN(w);
	bool eop = W_STATUS(w) & MINT_NIC_STAT_EOP;

	if (le64_to_cpu(READ_ONCE(n->desc[i].addr)) != (u64)i * n->buf_size || len > n->buf_size)
		c->v = BAD;
	else if (c->v == GOOD && (W_ERRORS(w) || (!eop && len != n->buf_size) ||
				  c->len + len > MINT_NIC_MAX_FRAME))
		c->v = ERROR;
	c->len += len;
	c->last = w;
	return eop || len < n->buf_size;
}

static u64 load_status(struct mint_nic *n, u32 i)
{
	/* acquire: pairs with the device's release store of the status word,
	 * so the buffer it wrote before is complete. */
	return le64_to_cpu(smp_load_acquire(&n->desc[i].status_word));
}

/* The chain from n->next, whose first word W has DD.  The device writes a
 * chain's head last, so a later descriptor without DD breaks it. */
static void walk_chain(struct mint_nic *n, u64 w, struct chain *c)
{
	*c = (struct chain){ .v = GOOD };
	for (;;) {
		u32 i = (n->next + c->k) % n->ndesc;

		c->k++;
		if (chain_step(n, i, w, c))
			return;
		w = load_status(n, (i + 1) % n->ndesc);
		if (c->k == n->ndesc || !(W_STATUS(w) & MINT_NIC_STAT_DD)) {
			c->v = c->v == GOOD ? ERROR : c->v;
			return;
		}
	}
}

/* A good chain into an skb: the buffers are given back right after, so
 * the bytes are copied (as e1000's copybreak does for small packets). */
static struct sk_buff *chain_skb(struct mint_nic *n, const struct chain *c)
{
	struct sk_buff *skb = napi_alloc_skb(&n->napi, c->len);
	u32 j, left = c->len;

	if (!skb)
		return NULL;
	for (j = 0; j < c->k; j++) {
		u32 i = (n->next + j) % n->ndesc, len = min(left, n->buf_size);

		skb_put_data(skb, n->bufs + (u64)i * n->buf_size, len);
		left -= len;
	}
	skb->protocol = eth_type_trans(skb, n->netdev);
	if (W_STATUS(c->last) & MINT_NIC_STAT_VP) /* the device stripped an 802.1Q tag */
		__vlan_hwaccel_put_tag(skb, htons(ETH_P_8021Q), W_VLAN(c->last));
	return skb;
}

static void deliver(struct mint_nic *n, const struct chain *c, u64 *tally)
{
	struct sk_buff *skb;

	if (c->v != GOOD) {
		tally[c->v == BAD ? ST_BAD : ST_ERRORS]++;
		return;
	}
	skb = chain_skb(n, c);
	if (!skb) {
		tally[ST_NOMEM]++;
		return;
	}
	tally[ST_PACKETS]++;
	tally[ST_BYTES] += c->len;
	netif_receive_skb(skb);
}

/* Give descriptor n->next back: our buffer (rewritten only when the device
 * spoiled it), DD clear. */
static void rearm(struct mint_nic *n)
{
	struct mint_nic_desc *d = &n->desc[n->next];
	__le64 mine = cpu_to_le64((u64)n->next * n->buf_size);

	if (READ_ONCE(d->addr) != mine)
		WRITE_ONCE(d->addr, mine);
	WRITE_ONCE(d->status_word, 0);
	n->next = (n->next + 1) % n->ndesc;
}

/* The fabric's counters and RDT, once per poll: they share the line the
 * device reads RDT from. */
static void publish(struct mint_nic *n, const u64 *tally, u32 done)
{
	struct mint_nic_hdr *h = n->hdr;
	int s;

	fabric_add(&h->drv_packets, tally[ST_PACKETS]);
	fabric_add(&h->drv_bytes, tally[ST_BYTES]);
	fabric_add(&h->drv_errors, tally[ST_ERRORS]);
	fabric_add(&h->drv_bad, tally[ST_BAD]);
	fabric_add(&h->drv_drops, tally[ST_NOMEM]);
	for (s = ST_PACKETS; s <= ST_NOMEM; s++)
		count(n, s, tally[s]);
	n->rdt = (n->rdt + done) % n->ndesc;
	/* release: pairs with the device's acquire load of RDT, so the
	 * descriptors cleared above are empty when it reuses them. */
	smp_store_release(&h->rdt, cpu_to_le32(n->rdt));
}

static void note_latency(struct mint_nic *n)
{
	u64 ns = ktime_get_ns() - n->irq_ns;

	n->lat[min_t(u32, ilog2(ns | 1), LAT_BUCKETS - 1)]++;
	n->irq_ns = 0;
}

static int rx_clean(struct mint_nic *n, int budget)
{
	u64 tally[ST_COUNT] = { 0 };
	u32 done = 0;
	int packets = 0;

	while (packets < budget) {
		u64 w = load_status(n, n->next);
		struct chain c;
		u32 j;

		if (!(W_STATUS(w) & MINT_NIC_STAT_DD))
			break;
		walk_chain(n, w, &c);
		deliver(n, &c, tally);
		if (n->irq_ns && tally[ST_PACKETS])
			note_latency(n);
		for (j = 0; j < c.k; j++)
			rearm(n);
		done += c.k;
		packets++;
	}
	if (done)
		publish(n, tally, done);
	return packets;
}

/* IMS back on.  Then ICR again: a cause the device set while we were
 * masked rang nobody (it saw IMS 0), so we poll again ourselves. */
static bool unmask(struct mint_nic *n)
{
	WRITE_ONCE(n->hdr->ims, cpu_to_le32(n->ims));
	smp_mb(); /* the Dekker pair with the device: its ICR, then IMS */
	if (!(le32_to_cpu(READ_ONCE(n->hdr->icr)) & n->ims))
		return false;
	WRITE_ONCE(n->hdr->ims, 0);
	xchg(&n->hdr->icr, 0);
	return true;
}

static int nic_poll(struct napi_struct *napi, int budget)
{
	struct mint_nic *n = container_of(napi, struct mint_nic, napi);
	int work;

	/* acquire: pairs with the release of hdr in ring_up: the geometry
	 * before it; no ring: nothing can have come in */
	if (!smp_load_acquire(&n->hdr)) {
		napi_complete_done(napi, 0);
		return 0;
	}
	work = rx_clean(n, budget);
	count(n, ST_POLLS, 1);
	if (work < budget && napi_complete_done(napi, work) && unmask(n))
		napi_schedule(napi);
	return work;
}

static irqreturn_t nic_irq(struct mint_ivshmem *iv, void *arg)
{
	struct mint_nic *n = arg;
	u32 cause;

	/* First the fabric vector's pending bit, so the next raise interrupts
	 * again; then ICR.  xchg is a full barrier: the descriptors the device
	 * completed before it set the cause are visible below (its fetch_or is
	 * a release). */
	mint_ivshmem_kvec_take(iv, MINT_VEC_NIC);
	/* acquire: as in nic_poll; no ring yet: nobody can have a cause */
	cause = smp_load_acquire(&n->hdr) ? le32_to_cpu(xchg(&n->hdr->icr, 0)) : 0;

	if (!cause) {
		count(n, ST_SPURIOUS, 1);
		return IRQ_NONE;
	}
	count(n, ST_IRQS, 1);
	if (cause & MINT_NIC_ICR_RXO)
		count(n, ST_OVERRUNS, 1);
	fabric_add(&n->hdr->drv_irqs, 1);
	if (!n->irq_ns)
		n->irq_ns = ktime_get_ns();
	/* masked until the poll is done, as e1000 writes IMC */
	WRITE_ONCE(n->hdr->ims, 0);
	napi_schedule_irqoff(&n->napi);
	return IRQ_HANDLED;
}

/* ---- the network device ---- */

static int nic_open(struct net_device *dev)
{
	struct mint_nic *n = netdev_priv(dev);
	int rc = mint_ivshmem_claim(n->iv, MINT_IVSHMEM_MSIX_NIC, nic_irq, n);

	if (rc)
		return rc;
	napi_enable(&n->napi);
	/* packets that came while we were down: a poll takes them.  No ring
	 * yet (our node never joined): ring_up does this when it attaches. */
	if (n->hdr) {
		WRITE_ONCE(n->hdr->ims, 0);
		netif_carrier_on(dev);
	}
	napi_schedule(&n->napi);
	return 0;
}

static int nic_stop(struct net_device *dev)
{
	struct mint_nic *n = netdev_priv(dev);

	netif_carrier_off(dev);
	mint_ivshmem_release(n->iv, MINT_IVSHMEM_MSIX_NIC);
	napi_disable(&n->napi);
	if (n->hdr)
		WRITE_ONCE(n->hdr->ims, 0); /* after the last poll, which unmasks */
	return 0;
}

/* Receive only, as the emulated NIC: what the stack sends is dropped. */
static netdev_tx_t nic_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev->stats.tx_dropped++;
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

static void snapshot(struct mint_nic *n, u64 *out)
{
	unsigned int rx, irq;

	do {
		rx = u64_stats_fetch_begin(&n->rx_sync);
		irq = u64_stats_fetch_begin(&n->irq_sync);
		memcpy(out, n->stats, sizeof(n->stats));
	} while (u64_stats_fetch_retry(&n->rx_sync, rx) || u64_stats_fetch_retry(&n->irq_sync, irq));
}

static void nic_get_stats64(struct net_device *dev, struct rtnl_link_stats64 *s)
{
	struct mint_nic *n = netdev_priv(dev);
	u64 st[ST_COUNT];

	snapshot(n, st);
	s->rx_packets = st[ST_PACKETS];
	s->rx_bytes = st[ST_BYTES];
	s->rx_errors = st[ST_ERRORS] + st[ST_BAD];
	s->rx_dropped = st[ST_NOMEM];
	s->rx_over_errors = st[ST_OVERRUNS];
	s->tx_dropped = dev->stats.tx_dropped;
}

static const struct net_device_ops nic_netdev_ops = {
	.ndo_open = nic_open,
	.ndo_stop = nic_stop,
	.ndo_start_xmit = nic_xmit,
	.ndo_get_stats64 = nic_get_stats64,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

static void nic_get_drvinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->bus_info, "mint-fabric", sizeof(info->bus_info));
}

static int nic_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? ST_COUNT : -EOPNOTSUPP;
}

static void nic_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	if (sset == ETH_SS_STATS)
		memcpy(data, nic_stat_names, sizeof(nic_stat_names));
}

static void nic_get_ethtool_stats(struct net_device *dev, struct ethtool_stats *es, u64 *data)
{
	snapshot(netdev_priv(dev), data);
}

static const struct ethtool_ops nic_ethtool_ops = {
	.get_drvinfo = nic_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_sset_count = nic_sset_count,
	.get_strings = nic_get_strings,
	.get_ethtool_stats = nic_get_ethtool_stats,
};

/* ---- debugfs: the counters and the latency buckets, for scripts ---- */

static int stats_show(struct seq_file *m, void *unused)
{
	struct mint_nic *n = m->private;
	u64 st[ST_COUNT];
	int i;

	snapshot(n, st);
	for (i = 0; i < ST_COUNT; i++)
		seq_printf(m, "%s %llu\n", nic_stat_names[i], st[i]);
	seq_printf(m, "rdt %u next %u\n", n->rdt, n->next);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/* "lat_ns_ge_2^B count": interrupts whose first packet went to the stack
 * between 2^B and 2^(B+1) ns after the hard irq. */
static int latency_show(struct seq_file *m, void *unused)
{
	struct mint_nic *n = m->private;
	int b;

	for (b = 0; b < LAT_BUCKETS; b++)
		if (READ_ONCE(n->lat[b]))
			seq_printf(m, "%d %llu\n", b, READ_ONCE(n->lat[b]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(latency);

/* ---- load and unload ---- */

static int check_params(void)
{
	if (ndesc < MINT_NIC_MIN_DESC || ndesc > MINT_NIC_MAX_DESC || ndesc % 8 ||
	    buf_size < MINT_NIC_MIN_BUF || buf_size > MINT_NIC_MAX_BUF || !is_power_of_2(buf_size))
		return -EINVAL;
	return 0;
}

/* Our ring "nic.ID", found or created, into *HP (not yet n->hdr: ring_up
 * publishes it).  Our node must be up: creating takes the directory lock
 * in its name.  -EEXIST for a ring of another geometry, which `mint` must
 * remove first. */
static int attach_ring(struct mint_nic *n, struct mint_nic_hdr **hp)
{
	char name[MINT_OBJ_NAME_MAX];
	struct mint_nic_hdr *h;
	u64 off, size;
	int rc;

	snprintf(name, sizeof(name), "nic.%u", n->f.node);
	rc = mint_fabric_open(&n->f, name, MINT_OBJ_NIC, ring_size(n), nic_init, n, &off, &size);
	if (rc)
		return rc;
	h = n->f.base + off;
	if (!ring_matches(n, h, size))
		return -EEXIST;
	n->desc = (struct mint_nic_desc *)(h + 1);
	n->bufs = (u8 *)h + desc_area(n->ndesc);
	*hp = h;
	return 0;
}

/* attach_ring, its error logged once (it is tried again every 100 ms). */
static int try_attach(struct mint_nic *n, struct mint_nic_hdr **hp)
{
	int rc = attach_ring(n, hp);

	if (rc && rc != n->attach_rc)
		pr_err("mint_nic: node %u: cannot attach ring nic.%u (%d): no carrier\n", n->f.node,
		       n->f.node, rc);
	n->attach_rc = rc;
	return rc;
}

/* Ring H reset for our node's epoch and published: under rtnl, so that
 * the device stays open or closed, with NAPI off if it is open (the poll
 * owns next and rdt); then a poll unmasks and takes what is there. */
static void ring_up(struct mint_nic *n, struct mint_nic_hdr *h)
{
	bool running;

	rtnl_lock();
	running = netif_running(n->netdev);
	if (running)
		napi_disable(&n->napi);
	/* release: the geometry attach_ring set before the ring that the
	 * poll and the irq take as "attached" */
	smp_store_release(&n->hdr, h);
	ring_reset(n);
	if (running) {
		napi_enable(&n->napi);
		napi_schedule(&n->napi);
		netif_carrier_on(n->netdev);
	}
	rtnl_unlock();
}

/*
 * Our node up with an epoch our ring does not carry yet: at its first
 * join we attach the ring, and at every join reset it with the epoch.
 * 0, also while the node is not up; else attach_ring's error.
 */
static int follow_node(struct mint_nic *n)
{
	u32 epoch = mint_fabric_joined(&n->f);
	struct mint_nic_hdr *h = n->hdr;
	int rc;

	if (!epoch || (h && epoch == n->f.epoch))
		return 0;
	n->f.epoch = epoch; /* the directory lock is taken in its name */
	rc = h ? 0 : try_attach(n, &h);
	if (rc)
		return rc;
	ring_up(n, h);
	netdev_info(n->netdev, "node %u joined (epoch %u): ring nic.%u up\n", n->f.node, epoch,
		    n->f.node);
	return 0;
}

static void join_work(struct work_struct *w)
{
	struct mint_nic *n = container_of(to_delayed_work(w), struct mint_nic, join);

	follow_node(n);
	schedule_delayed_work(&n->join, HZ / 10);
}

static int parse_addr(u32 node, u8 addr[4])
{
	u8 def[4] = { 10, 78, 0, node + 1 };

	if (!ipv4) {
		memcpy(addr, def, 4);
		return 0;
	}
	return in4_pton(ipv4, -1, addr, -1, NULL) ? 0 : -EINVAL;
}

static struct net_device *the_netdev;

/* The fabric in BAR2, our node id, address and MAC.  Our node need not
 * be up yet: follow_node attaches the ring when it is. */
static int setup(struct mint_nic *n)
{
	u8 mac[ETH_ALEN] = { 0x02, 0x6e, 0, 0, 0, 0 };
	int rc = mint_fabric_bind(n->iv, &n->f);

	if (rc && rc != -ENOTCONN)
		return rc;
	n->f.epoch = 0; /* follow_node attaches with the node's epoch */
	rc = parse_addr(n->f.node, n->addr);
	if (rc)
		return rc;
	mac[5] = n->f.node; /* as the agent's user-space driver: 02:6e:00:00:00:ID */
	eth_hw_addr_set(n->netdev, mac);
	n->ndesc = ndesc;
	n->buf_size = buf_size;
	n->ims = MINT_NIC_ICR_RXT0 | MINT_NIC_ICR_RXO;
	return 0;
}

static int __init mint_nic_init(void)
{
	struct net_device *dev;
	struct mint_nic *n;
	int rc = check_params();

	if (rc)
		return rc;
	dev = alloc_etherdev(sizeof(*n));
	if (!dev)
		return -ENOMEM;
	n = netdev_priv(dev);
	n->netdev = dev;
	u64_stats_init(&n->rx_sync);
	u64_stats_init(&n->irq_sync);
	strscpy(dev->name, "nic%d", sizeof(dev->name));
	dev->netdev_ops = &nic_netdev_ops;
	dev->ethtool_ops = &nic_ethtool_ops;
	dev->max_mtu = MINT_NIC_MAX_FRAME - ETH_HLEN;
	netif_napi_add(dev, &n->napi, nic_poll);
	n->iv = mint_ivshmem_get();
	INIT_DELAYED_WORK(&n->join, join_work);
	netif_carrier_off(dev); /* on once the ring is ours (nic_open, ring_up) */
	rc = IS_ERR(n->iv) ? PTR_ERR(n->iv) : setup(n);
	if (rc == 0)
		rc = register_netdev(dev);
	/* our node up: a ring we cannot use is refused now, so insmod says so */
	if (rc == 0) {
		rc = follow_node(n);
		if (rc)
			unregister_netdev(dev);
	}
	if (rc) {
		if (!IS_ERR(n->iv))
			mint_ivshmem_put(n->iv);
		free_netdev(dev);
		return rc;
	}
	n->dbg = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0444, n->dbg, n, &stats_fops);
	debugfs_create_file("latency", 0444, n->dbg, n, &latency_fops);
	the_netdev = dev;
	netdev_info(dev, "node %u, ring nic.%u: %u descriptors of %u bytes%s\n", n->f.node, n->f.node,
		    n->ndesc, n->buf_size, n->hdr ? "" : ": waiting for the node to join");
	schedule_delayed_work(&n->join, HZ / 10);
	return 0;
}

static void __exit mint_nic_exit(void)
{
	struct mint_nic *n = netdev_priv(the_netdev);

	cancel_delayed_work_sync(&n->join); /* outside rtnl, which it takes */
	debugfs_remove_recursive(n->dbg);
	unregister_netdev(the_netdev);
	/* down unless the node re-attached it since: then it is not ours */
	if (n->hdr && le32_to_cpu(READ_ONCE(n->hdr->epoch)) == n->f.epoch)
		smp_store_release(&n->hdr->state, cpu_to_le32(MINT_NIC_DOWN));
	mint_ivshmem_put(n->iv);
	free_netdev(the_netdev);
}

module_init(mint_nic_init);
module_exit(mint_nic_exit);
MODULE_DESCRIPTION("mint: driver of the fabric's emulated e1000-style NIC");
MODULE_LICENSE("GPL");
