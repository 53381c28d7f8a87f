// SPDX-License-Identifier: GPL-2.0
/*
 * mint_vni: the fabric's virtual NIC (seed 003) as a network device of a
 * guest kernel, on the same Ethernet segment as the process nodes' TAP
 * VNIs: the same object "vni", ports, MACs and counters (`mint vni stats`).
 *
 * Per-destination rings (the VNI's configuration (1)): node S sends to
 * node D on ring "vni.S-D", S its only producer and D its only consumer,
 * so neither side takes a lock.  A record is one frame: a virtio-net
 * header (checksum offload and GSO, as the TAP path carries them) and an
 * Ethernet frame.  The pool configuration (2) is refused (see attach_vni).
 *
 *   transmit   ndo_start_xmit writes the record straight into the ring of
 *              the destination port (every other up port for broadcast),
 *              then rings the receiver only if it said it sleeps: once per
 *              batch of the stack (xmit_more), and once per NAPI poll for
 *              what the stack sent from inside it (TCP's ACKs)
 *   receive    MSI-X vector 1: NAPI drains every ring to us, then re-arms
 *              them (the ring's data bell) and polls again if a frame came
 *              in between
 *   carrier    on while a peer port is up and its node's heartbeat moves,
 *              and our node is up: the module loads before our agent joins
 *              and follows it when it joins again (a new epoch)
 *
 * Whatever a peer wrote is read once and checked before use: ring
 * geometry at open, every record header against the bounds we derived,
 * every frame's virtio-net header by the kernel's own parser.  A bad one
 * is dropped and counted in our port's counters, never followed outside
 * the ring.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/inet.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/virtio_net.h>
#include <linux/workqueue.h>

#include "mint_fabric.h"
#include "mint_ivshmem.h"

static char *ipv4;
module_param(ipv4, charp, 0444);
MODULE_PARM_DESC(ipv4, "address shown in the port (default 10.77.0.<id+1>)");

#define VNI_RING_DEFAULT (4ull << 20)   /* as MINT_VNI_DEFAULT_RING */
#define RING_MIN 256u
#define HDR_BYTES 8u
#define LIVENESS_MS 100                 /* peers and rings looked at this often */
#define HEARTBEAT_STALE (3 * HZ)        /* a heartbeat that stopped: a dead node */

/* Our view of one ring: the shared header's geometry copied once. */
struct ring {
	struct mint_ring_hdr *hdr;
	u8 *data;
	u64 off;      /* of the header in the fabric: futex words are named by it */
	u64 size;
	u32 max_record;
	u64 pos;      /* producer: our tail; consumer: our head */
	u64 seen;     /* producer: the head last read; consumer: the tail */
	u64 bad_tail; /* consumer: the impossible tail last counted */
};

struct peer {
	struct ring tx, rx;
	bool tx_ready;      /* tx is open (set by the liveness work) */
	bool rx_open;       /* rx is open (NAPI's own) */
	bool alive;         /* port up, node up, heartbeat moving */
	u64 heartbeat;
	unsigned long moved; /* jiffies when the heartbeat last changed */
};

struct mint_vni {
	struct net_device *netdev;
	struct napi_struct napi;
	struct mint_ivshmem *iv;
	struct mint_fabric f;
	struct mint_vni_hdr *hdr;
	struct mint_vni_port *port; /* ours; NULL until our node first joined */
	int attach_rc;              /* attach_vni's last error, logged once */
	u64 ring_size;
	u8 mac_base[ETH_ALEN];
	u8 addr[4];
	u32 dir_gen; /* the directory's generation when NAPI last looked */
	__le32 *dev_armed; /* `armed` of device "vni.ID", if our node has one */
	int poll_cpu;                /* the CPU in vni_poll, else -1 */
	unsigned long bells_due;     /* peers whose doorbell waits for a batch's end */
	struct peer peers[MINT_VNI_MAX_PORTS];
	struct delayed_work liveness;
};

/* One of our port's counters: only this node writes its lines (transmit
 * counters from ndo_start_xmit, receive counters from NAPI). */
static void port_add(__le64 *c, u64 v)
{
	WRITE_ONCE(*c, cpu_to_le64(le64_to_cpu(READ_ONCE(*c)) + v));
}

static u64 rec_bytes(u32 len)
{
	return HDR_BYTES + ALIGN((u64)len, MINT_RING_ALIGN);
}

/* ---- rings ---- */

struct ring_ends {
	u32 prod, cons;
	u64 size;
};

static void ring_format(void *mem, void *arg)
{
	const struct ring_ends *e = arg;
	struct mint_ring_hdr *h = mem;

	h->version = cpu_to_le32(MINT_RING_VERSION);
	h->size = cpu_to_le64(e->size);
	h->max_record = cpu_to_le32(min_t(u64, e->size / 2 - HDR_BYTES, 1u << 30));
	h->prod_node = cpu_to_le32(e->prod);
	h->cons_node = cpu_to_le32(e->cons);
	h->cons_vector = cpu_to_le32(MINT_VEC_VNI);
	/* the consumer starts armed: the first record raises its vector */
	h->data_bell.sleeping = cpu_to_le32(MINT_BELL_IRQ);
	h->magic = cpu_to_le32(MINT_RING_MAGIC);
}

/* Ring "vni.PROD-CONS" at OFF (object SIZE bytes) into R, if it is one. */
static int ring_check(struct mint_vni *v, u64 off, u64 size, u32 prod, u32 cons, struct ring *r)
{
	struct mint_ring_hdr *h = mint_fabric_at(&v->f, off, sizeof(*h));
	u64 rs, tail, head;

	if (!h || off % 64)
		return -EPROTO;
	rs = le64_to_cpu(READ_ONCE(h->size));
	r->max_record = le32_to_cpu(READ_ONCE(h->max_record));
	if (le32_to_cpu(READ_ONCE(h->magic)) != MINT_RING_MAGIC ||
	    le32_to_cpu(READ_ONCE(h->version)) != MINT_RING_VERSION || rs < RING_MIN ||
	    !is_power_of_2(rs) || rs > size - sizeof(*h) || r->max_record > rs / 2 - HDR_BYTES ||
	    le32_to_cpu(READ_ONCE(h->prod_node)) != prod || le32_to_cpu(READ_ONCE(h->cons_node)) != cons ||
	    le32_to_cpu(READ_ONCE(h->cons_vector)) != MINT_VEC_VNI)
		return -EPROTO;
	/* acquire: resume from what each side last published */
	tail = le64_to_cpu(smp_load_acquire(&h->tail));
	head = le64_to_cpu(smp_load_acquire(&h->head));
	if (tail - head > rs || (tail | head) % MINT_RING_ALIGN)
		return -EPROTO;
	r->hdr = h;
	r->data = (u8 *)(h + 1);
	r->off = off;
	r->size = rs;
	r->pos = prod == v->f.node ? tail : head;
	r->seen = prod == v->f.node ? head : tail;
	r->bad_tail = head;
	return 0;
}

static void ring_name(char *name, size_t cap, u32 prod, u32 cons)
{
	snprintf(name, cap, "vni.%u-%u", prod, cons);
}

/* Process context: our ring to DST, created if it does not exist. */
static int open_tx(struct mint_vni *v, u32 dst)
{
	struct ring_ends ends = { v->f.node, dst, v->ring_size };
	char name[MINT_OBJ_NAME_MAX];
	u64 off, size;
	int rc;

	ring_name(name, sizeof(name), v->f.node, dst);
	rc = mint_fabric_open(&v->f, name, MINT_OBJ_RING, sizeof(struct mint_ring_hdr) + v->ring_size,
			      ring_format, &ends, &off, &size);
	if (rc == 0)
		rc = ring_check(v, off, size, v->f.node, dst, &v->peers[dst].tx);
	return rc;
}

/* NAPI: SRC's ring to us, if SRC made one (never created here). */
static void open_rx(struct mint_vni *v, u32 src)
{
	struct peer *p = &v->peers[src];
	char name[MINT_OBJ_NAME_MAX];
	u64 off, size;

	ring_name(name, sizeof(name), src, v->f.node);
	if (mint_fabric_find(&v->f, name, MINT_OBJ_RING, &off, &size) == 0 &&
	    ring_check(v, off, size, src, v->f.node, &p->rx) == 0)
		p->rx_open = true;
}

/* Ring bell B: a sleeping waiter is woken; an armed consumer, node NODE,
 * interrupted (NO_IRQ: a producer's bell, where nobody waits for one).
 * Returns what the bell said. */
#define NO_IRQ U32_MAX
static u32 ring_bell(struct mint_vni *v, struct mint_bell *b, u32 node)
{
	u32 was;

	smp_mb(); /* our record before the load of `sleeping`: the Dekker pair */
	if (le32_to_cpu(READ_ONCE(b->sleeping)) == MINT_BELL_AWAKE)
		return MINT_BELL_AWAKE;
	was = le32_to_cpu(xchg(&b->sleeping, cpu_to_le32(MINT_BELL_AWAKE)));
	if (was == MINT_BELL_FUTEX) {
		/* a process waits on seq: bump it, have the host wake it */
		atomic_inc((atomic_t *)&b->seq);
		mint_ivshmem_wake(v->iv, (u8 *)&b->seq - (u8 *)v->f.base);
	} else if (was == MINT_BELL_IRQ && node != NO_IRQ) {
		mint_ivshmem_ipi(v->iv, node, MINT_VEC_VNI);
	}
	return was;
}

/* ---- transmit ---- */

/* Is there room for REC bytes at our tail (a pad before it included)? */
static int tx_room(struct ring *r, u64 rec)
{
	u64 contig = r->size - (r->pos & (r->size - 1)), need = contig < rec ? contig + rec : rec;
	u64 head;

	if (r->size - (r->pos - r->seen) >= need)
		return 0;
	/* acquire: the consumer is done with the bytes it released */
	head = le64_to_cpu(smp_load_acquire(&r->hdr->head));
	if (head % MINT_RING_ALIGN || r->pos - head > r->size) {
		port_add(&r->hdr->prod_errors, 1);
		return -EBADMSG; /* the consumer owns head: it repairs it */
	}
	r->seen = head;
	if (r->size - (r->pos - head) >= need)
		return 0;
	port_add(&r->hdr->full_events, 1);
	return -EAGAIN;
}

/* One record: the virtio-net header VH, then the frame in SKB. */
static int ring_put(struct ring *r, struct sk_buff *skb, const struct virtio_net_hdr *vh)
{
	u32 len = MINT_VNI_VNET_HDR + skb->len;
	u64 rec = rec_bytes(len), pos;
	struct mint_rec_hdr h;
	int rc;

	if (len > r->max_record || len > MINT_VNI_FRAME_MAX)
		return -EMSGSIZE;
	rc = tx_room(r, rec);
	if (rc)
		return rc;
	pos = r->pos & (r->size - 1);
	if (r->size - pos < rec) { /* records never wrap: pad to the end */
		h.len = cpu_to_le32(r->size - pos - HDR_BYTES);
		h.type = cpu_to_le32(MINT_REC_PAD);
		memcpy(r->data + pos, &h, sizeof(h));
		r->pos += r->size - pos;
		pos = 0;
	}
	h.len = cpu_to_le32(len);
	h.type = cpu_to_le32(MINT_REC_FRAME);
	memcpy(r->data + pos, &h, sizeof(h));
	memcpy(r->data + pos + HDR_BYTES, vh, MINT_VNI_VNET_HDR);
	skb_copy_bits(skb, 0, r->data + pos + HDR_BYTES + MINT_VNI_VNET_HDR, skb->len);
	r->pos += rec;
	/* release: the record before the tail that exposes it */
	smp_store_release(&r->hdr->tail, cpu_to_le64(r->pos));
	port_add(&r->hdr->sent_records, 1);
	return 0;
}

static void send_to(struct mint_vni *v, u32 dst, struct sk_buff *skb, const struct virtio_net_hdr *vh)
{
	struct peer *p = &v->peers[dst];
	struct mint_vni_port *me = v->port;
	int rc;

	/* acquire: pairs with the liveness work's release of tx_ready */
	if (!READ_ONCE(p->alive) || !smp_load_acquire(&p->tx_ready)) {
		port_add(&me->tx_drop_down, 1);
		return;
	}
	rc = ring_put(&p->tx, skb, vh);
	if (rc) {
		port_add(rc == -EAGAIN ? &me->tx_drop_full : &me->tx_drop_error, 1);
		return;
	}
	port_add(&me->tx_packets, 1);
	port_add(&me->tx_bytes, MINT_VNI_VNET_HDR + skb->len);
	set_bit(dst, &v->bells_due);
}

/* Ring every peer whose doorbell a batch left due: one check of its bell
 * for however many frames the batch put in its ring. */
static void ring_due_bells(struct mint_vni *v)
{
	u32 dst;

	for (dst = 0; dst < MINT_VNI_MAX_PORTS; dst++) {
		if (!test_and_clear_bit(dst, &v->bells_due))
			continue;
		if (ring_bell(v, &v->peers[dst].tx.hdr->data_bell, dst) == MINT_BELL_AWAKE)
			port_add(&v->port->tx_irqs_suppressed, 1);
		else
			port_add(&v->port->tx_irqs, 1);
	}
}

/* Does the batch this frame belongs to go on?  The stack says so with
 * xmit_more; and a frame sent from inside our own NAPI poll, on its CPU
 * (an ACK of what it delivers), waits for the poll's end, which rings. */
static bool batch_goes_on(struct mint_vni *v)
{
	return netdev_xmit_more() || READ_ONCE(v->poll_cpu) == smp_processor_id();
}

/* The port of a unicast MAC, or MINT_VNI_MAX_PORTS (another prefix, no
 * such port, or ourselves). */
static u32 unicast_port(struct mint_vni *v, const u8 *dmac)
{
	if (memcmp(dmac, v->mac_base, 5) || dmac[5] >= MINT_VNI_MAX_PORTS || dmac[5] == v->f.node)
		return MINT_VNI_MAX_PORTS;
	return dmac[5];
}

static netdev_tx_t vni_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct mint_vni *v = netdev_priv(dev);
	const u8 *dmac = eth_hdr(skb)->h_dest;
	struct virtio_net_hdr vh;
	u32 dst;

	/* acquire: pairs with the release of port in node_joined: the
	 * VNI's geometry before it */
	if (!smp_load_acquire(&v->port)) {
		dev_core_stats_tx_dropped_inc(dev); /* no port of ours yet */
	} else if (virtio_net_hdr_from_skb(skb, &vh, true, false, 0)) {
		port_add(&v->port->tx_drop_error, 1); /* a GSO type the header cannot say */
	} else if (is_multicast_ether_addr(dmac)) {
		for (dst = 0; dst < MINT_VNI_MAX_PORTS; dst++)
			if (dst != v->f.node &&
			    le32_to_cpu(READ_ONCE(v->hdr->ports[dst].state)) == MINT_VNI_UP)
				send_to(v, dst, skb, &vh);
	} else {
		dst = unicast_port(v, dmac);
		if (dst < MINT_VNI_MAX_PORTS)
			send_to(v, dst, skb, &vh);
		else
			port_add(&v->port->tx_drop_unknown, 1);
	}
	dev_consume_skb_any(skb);
	if (!batch_goes_on(v))
		ring_due_bells(v);
	return NETDEV_TX_OK;
}

/* ---- receive ---- */

static void count_error(struct mint_vni *v, struct ring *r)
{
	port_add(&r->hdr->errors, 1);
	port_add(&v->port->rx_errors, 1);
}

/* Consumer: is the producer's TAIL possible from our head? */
static bool tail_possible(const struct ring *r, u64 tail)
{
	u64 avail = tail - r->pos;

	return avail <= r->size && !(avail % MINT_RING_ALIGN);
}

/* Read the producer's tail again; an impossible one is counted once and
 * taken as "nothing new" (the honest producer's next store replaces it). */
static void refresh_tail(struct mint_vni *v, struct ring *r)
{
	/* acquire: pairs with the producer's release store of tail */
	u64 tail = le64_to_cpu(smp_load_acquire(&r->hdr->tail));

	if (tail_possible(r, tail)) {
		r->seen = tail;
	} else if (tail != r->bad_tail) {
		r->bad_tail = tail;
		count_error(v, r);
	}
}

#define RX_LINEAR 128u /* bytes at least of a frame in its skb's head, as tun's GOODCOPY_LEN */

/*
 * FRAME (LEN bytes, at least ETH_HLEN) copied into a new skb: LINEAR
 * bytes (at least RX_LINEAR: the headers) into its head, the rest into
 * pages, so that a 64 KiB GSO frame takes 16 pages, not a 128 KiB block
 * whose truesize would halve the receiving socket's window, as tun does.
 * NULL: no memory.
 */
static struct sk_buff *frame_skb(struct mint_vni *v, const u8 *frame, u32 len, u32 linear)
{
	struct sk_buff *skb;
	u32 off;

	BUILD_BUG_ON(DIV_ROUND_UP(MINT_VNI_FRAME_MAX, PAGE_SIZE) > MAX_SKB_FRAGS);
	linear = min(max(linear, RX_LINEAR), len);
	skb = napi_alloc_skb(&v->napi, linear);
	if (!skb)
		return NULL;
	skb_put_data(skb, frame, linear);
	for (off = linear; off < len; off += PAGE_SIZE) {
		u32 n = min_t(u32, len - off, PAGE_SIZE);
		struct page *page = dev_alloc_page();

		if (!page) {
			kfree_skb(skb);
			return NULL;
		}
		memcpy(page_address(page), frame + off, n);
		skb_add_rx_frag(skb, skb_shinfo(skb)->nr_frags, page, 0, n, PAGE_SIZE);
	}
	return skb;
}

/* A frame record of LEN bytes at P, into the stack. */
static void deliver(struct mint_vni *v, const u8 *p, u32 len)
{
	struct virtio_net_hdr vh;
	struct sk_buff *skb;
	u32 linear = 0;

	if (len < MINT_VNI_VNET_HDR + ETH_HLEN || len > MINT_VNI_FRAME_MAX) {
		port_add(&v->port->rx_errors, 1);
		return;
	}
	memcpy(&vh, p, MINT_VNI_VNET_HDR); /* checked by the kernel's parser below */
	/* the parser wants the checksum field in the head: a hint only,
	 * bounded by the frame's length in frame_skb */
	if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		linear = __virtio16_to_cpu(true, vh.csum_start) +
			 __virtio16_to_cpu(true, vh.csum_offset) + 2;
	skb = frame_skb(v, p + MINT_VNI_VNET_HDR, len - MINT_VNI_VNET_HDR, linear);
	if (!skb) {
		port_add(&v->port->rx_drop_host, 1);
		return;
	}
	if (virtio_net_hdr_to_skb(skb, &vh, true)) {
		port_add(&v->port->rx_errors, 1);
		kfree_skb(skb);
		return;
	}
	skb->protocol = eth_type_trans(skb, v->netdev);
	port_add(&v->port->rx_packets, 1);
	port_add(&v->port->rx_bytes, len);
	napi_gro_receive(&v->napi, skb);
}

/*
 * Up to BUDGET frames of ring R.  Each record header is copied out once
 * and checked against our own bounds; a corrupt one drops everything the
 * producer has published (counted), as libmint's consumer does.
 */
static int ring_drain(struct mint_vni *v, struct ring *r, int budget)
{
	u64 start = r->pos;
	int got = 0;

	while (got < budget) {
		u64 pos = r->pos & (r->size - 1), contig = r->size - pos, avail;
		struct mint_rec_hdr h;
		u32 len, type;

		if (r->seen == r->pos)
			refresh_tail(v, r);
		avail = r->seen - r->pos;
		if (!avail)
			break;
		memcpy(&h, r->data + pos, sizeof(h));
		len = le32_to_cpu(h.len);
		type = le32_to_cpu(h.type);
		if (type == MINT_REC_PAD && (u64)len + HDR_BYTES == contig && contig <= avail) {
			r->pos += contig;
			continue;
		}
		if (type == MINT_REC_PAD || len > r->max_record || type > MINT_REC_PAD ||
		    rec_bytes(len) > contig || rec_bytes(len) > avail) {
			count_error(v, r);
			r->pos = r->seen;
			break;
		}
		if (type == MINT_REC_FRAME)
			deliver(v, r->data + pos + HDR_BYTES, len);
		else
			port_add(&v->port->rx_errors, 1);
		r->pos += rec_bytes(len);
		got++;
	}
	if (r->pos != start) {
		/* release: our reads of the records before the producer reuses them */
		smp_store_release(&r->hdr->head, cpu_to_le64(r->pos));
		port_add(&r->hdr->recv_records, got);
		if (ring_bell(v, &r->hdr->space_bell, NO_IRQ) == MINT_BELL_IRQ)
			count_error(v, r); /* producers never wait for interrupts */
	}
	return got;
}

/* Rings made since we last looked: the directory's generation moved. */
static void find_rx_rings(struct mint_vni *v)
{
	u32 g = le32_to_cpu(READ_ONCE(mint_fabric_hdr(&v->f)->dir_generation)), src;

	if (g == v->dir_gen)
		return;
	v->dir_gen = g;
	for (src = 0; src < MINT_VNI_MAX_PORTS; src++)
		if (src != v->f.node && !v->peers[src].rx_open)
			open_rx(v, src);
}

/* Arm every ring's data bell; true if a frame came meanwhile. */
static bool arm_rings(struct mint_vni *v)
{
	bool again = false;
	u32 src;

	/* as mint_dev_consume re-arms it: else raises through the device
	 * table would coalesce into one we already took, forever */
	if (v->dev_armed)
		WRITE_ONCE(*v->dev_armed, cpu_to_le32(1));

	for (src = 0; src < MINT_VNI_MAX_PORTS; src++) {
		struct ring *r = &v->peers[src].rx;
		u64 tail;

		if (!v->peers[src].rx_open)
			continue;
		WRITE_ONCE(r->hdr->data_bell.sleeping, cpu_to_le32(MINT_BELL_IRQ));
		smp_mb(); /* the Dekker pair with the producer's ring_bell */
		tail = le64_to_cpu(READ_ONCE(r->hdr->tail));
		/* an impossible tail is "nothing new", as in ring_drain: a
		 * hostile producer must not keep NAPI polling */
		if (tail != r->pos && tail_possible(r, tail)) {
			WRITE_ONCE(r->hdr->data_bell.sleeping, cpu_to_le32(MINT_BELL_AWAKE));
			again = true;
		}
	}
	return again;
}

static int vni_poll(struct napi_struct *napi, int budget)
{
	struct mint_vni *v = container_of(napi, struct mint_vni, napi);
	bool done;
	int work = 0;
	u32 src;

	/* acquire: as in vni_xmit; no port: nobody can have sent to us */
	if (!smp_load_acquire(&v->port)) {
		napi_complete_done(napi, 0);
		return 0;
	}
	find_rx_rings(v);
	WRITE_ONCE(v->poll_cpu, smp_processor_id());
	for (src = 0; src < MINT_VNI_MAX_PORTS && work < budget; src++)
		if (v->peers[src].rx_open)
			work += ring_drain(v, &v->peers[src].rx, budget - work);
	/* completing flushes GRO: the stack takes the frames, and answers */
	done = work < budget && napi_complete_done(napi, work);
	WRITE_ONCE(v->poll_cpu, -1);
	ring_due_bells(v); /* once for whatever the stack answered */
	if (work)
		port_add(&v->port->rx_polls, 1);
	if (done && arm_rings(v))
		napi_schedule(napi);
	return work;
}

static irqreturn_t vni_irq(struct mint_ivshmem *iv, void *arg)
{
	struct mint_vni *v = arg;

	/* the bit first, so the next raise interrupts again */
	mint_ivshmem_kvec_take(iv, MINT_VEC_VNI);
	napi_schedule_irqoff(&v->napi);
	return IRQ_HANDLED;
}

/* ---- peers and carrier ---- */

/* Peer ID: its port up, its node up with the epoch that brought the port
 * up, and its heartbeat moving (a guest cannot see host processes: a
 * heartbeat that stood still for 3 s is a dead node). */
static bool peer_alive(struct mint_vni *v, u32 id)
{
	struct mint_vni_port *port = &v->hdr->ports[id];
	struct mint_node_entry *e = mint_fabric_node(&v->f, id);
	struct peer *p = &v->peers[id];
	u64 hb;

	/* acquire: pairs with the release store of UP at the port's attach */
	if (!e || le32_to_cpu(smp_load_acquire(&port->state)) != MINT_VNI_UP ||
	    le32_to_cpu(smp_load_acquire(&e->state)) != MINT_NODE_UP ||
	    READ_ONCE(e->epoch) != READ_ONCE(port->epoch))
		return false;
	hb = le64_to_cpu(READ_ONCE(e->heartbeat_ns));
	if (hb != p->heartbeat || !p->moved) {
		p->heartbeat = hb;
		p->moved = jiffies;
	}
	return time_before(jiffies, p->moved + HEARTBEAT_STALE);
}

static bool node_joined(struct mint_vni *v);

static void liveness(struct work_struct *w)
{
	struct mint_vni *v = container_of(to_delayed_work(w), struct mint_vni, liveness);
	bool joined = node_joined(v), any = false;
	u32 id;

	for (id = 0; joined && id < MINT_VNI_MAX_PORTS; id++) {
		struct peer *p = &v->peers[id];

		if (id == v->f.node)
			continue;
		WRITE_ONCE(p->alive, peer_alive(v, id));
		/* release: the ring's fields before tx_ready (ndo_start_xmit) */
		if (p->alive && !p->tx_ready && open_tx(v, id) == 0)
			smp_store_release(&p->tx_ready, true);
		any |= p->alive;
	}
	if (any && !netif_carrier_ok(v->netdev))
		netif_carrier_on(v->netdev);
	else if (!any && netif_carrier_ok(v->netdev))
		netif_carrier_off(v->netdev);
	schedule_delayed_work(&v->liveness, msecs_to_jiffies(LIVENESS_MS));
}

/* ---- the network device ---- */

/*
 * A user-space VNI of this node id (an agent with --vni, before we were
 * loaded) registered its port in the device table as "vni.ID", and
 * senders raise our vector through that entry while it exists: find its
 * `armed` word, which NAPI sets again as the entry's owner would.  Only
 * an entry of ours, owner in its route, is touched.
 */
static void find_dev(struct mint_vni *v)
{
	struct mint_devtab_hdr *t;
	char name[32];
	u64 off, size;
	u32 i;

	v->dev_armed = NULL;
	if (mint_fabric_find(&v->f, "devtab", MINT_OBJ_DEVTAB, &off, &size) || size < sizeof(*t))
		return;
	t = v->f.base + off;
	if (le32_to_cpu(READ_ONCE(t->magic)) != MINT_DEVTAB_MAGIC)
		return;
	snprintf(name, sizeof(name), "vni.%u", v->f.node);
	for (i = 0; i < MINT_DEV_MAX; i++) {
		struct mint_dev_entry *e = &t->devs[i];

		if (le32_to_cpu(READ_ONCE(e->state)) != MINT_DEV_FREE &&
		    (u32)le64_to_cpu(READ_ONCE(e->route)) == v->f.node &&
		    !strncmp(e->name, name, sizeof(e->name)))
			v->dev_armed = &e->armed;
	}
}

/* Our port up: peers send to us from now on. */
static void port_up(struct mint_vni *v, bool up)
{
	struct mint_vni_port *p = v->port;

	if (!p)
		return; /* our node never joined: no port to bring up or down */
	if (!up) {
		if (le32_to_cpu(READ_ONCE(p->epoch)) == v->f.epoch)
			smp_store_release(&p->state, cpu_to_le32(MINT_VNI_DOWN));
		return;
	}
	p->epoch = cpu_to_le32(v->f.epoch);
	memcpy(p->mac, v->netdev->dev_addr, ETH_ALEN);
	memcpy(p->ipv4, v->addr, 4);
	p->prefix_len = cpu_to_le32(24);
	smp_store_release(&p->state, cpu_to_le32(MINT_VNI_UP));
}

static int vni_open(struct net_device *dev)
{
	struct mint_vni *v = netdev_priv(dev);
	int rc = mint_ivshmem_claim(v->iv, MINT_IVSHMEM_MSIX_VNI, vni_irq, v);

	if (rc)
		return rc;
	napi_enable(&v->napi);
	find_dev(v);
	v->f.epoch = 0; /* node_joined brings our port up with the node's epoch */
	netif_carrier_off(dev);
	liveness(&v->liveness.work); /* our node, peers and our rings now, then every 100 ms */
	napi_schedule(&v->napi);     /* what came while we were down */
	return 0;
}

static int vni_stop(struct net_device *dev)
{
	struct mint_vni *v = netdev_priv(dev);

	cancel_delayed_work_sync(&v->liveness); /* before it could bring the port up again */
	port_up(v, false);
	mint_ivshmem_release(v->iv, MINT_IVSHMEM_MSIX_VNI);
	napi_disable(&v->napi);
	netif_carrier_off(dev);
	return 0;
}

static void vni_get_stats64(struct net_device *dev, struct rtnl_link_stats64 *s)
{
	/* acquire: as in vni_xmit */
	struct mint_vni_port *p = smp_load_acquire(&((struct mint_vni *)netdev_priv(dev))->port);

	if (!p)
		return; /* no port yet: S is zeros, plus the core's drops */
	s->rx_packets = le64_to_cpu(READ_ONCE(p->rx_packets));
	s->rx_bytes = le64_to_cpu(READ_ONCE(p->rx_bytes));
	s->rx_errors = le64_to_cpu(READ_ONCE(p->rx_errors));
	s->rx_dropped = le64_to_cpu(READ_ONCE(p->rx_drop_host));
	s->tx_packets = le64_to_cpu(READ_ONCE(p->tx_packets));
	s->tx_bytes = le64_to_cpu(READ_ONCE(p->tx_bytes));
	s->tx_dropped = le64_to_cpu(READ_ONCE(p->tx_drop_full)) + le64_to_cpu(READ_ONCE(p->tx_drop_down)) +
			le64_to_cpu(READ_ONCE(p->tx_drop_unknown));
	s->tx_errors = le64_to_cpu(READ_ONCE(p->tx_drop_error));
}

static const struct net_device_ops vni_netdev_ops = {
	.ndo_open = vni_open,
	.ndo_stop = vni_stop,
	.ndo_start_xmit = vni_xmit,
	.ndo_get_stats64 = vni_get_stats64,
	.ndo_validate_addr = eth_validate_addr,
};

/* ethtool -S: our port's counters in the fabric, as `mint vni stats`. */
static const char vni_stat_names[][ETH_GSTRING_LEN] = {
	"tx_packets",	 "tx_bytes",	    "tx_drop_full", "tx_drop_unknown",
	"tx_drop_down",	 "tx_drop_error",   "tx_irqs",	    "tx_irqs_suppressed",
	"rx_packets",	 "rx_bytes",	    "rx_errors",    "rx_drop_host",
	"rx_polls",
};

static void vni_get_drvinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->bus_info, "mint-fabric", sizeof(info->bus_info));
}

static int vni_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? ARRAY_SIZE(vni_stat_names) : -EOPNOTSUPP;
}

static void vni_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	if (sset == ETH_SS_STATS)
		memcpy(data, vni_stat_names, sizeof(vni_stat_names));
}

static void vni_get_ethtool_stats(struct net_device *dev, struct ethtool_stats *es, u64 *data)
{
	/* acquire: as in vni_xmit */
	struct mint_vni_port *p = smp_load_acquire(&((struct mint_vni *)netdev_priv(dev))->port);
	size_t i;

	/* the counters sit in the order of the names, from tx_packets on */
	for (i = 0; i < ARRAY_SIZE(vni_stat_names); i++)
		data[i] = p ? le64_to_cpu(READ_ONCE((&p->tx_packets)[i])) : 0;
}

static const struct ethtool_ops vni_ethtool_ops = {
	.get_drvinfo = vni_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_sset_count = vni_sset_count,
	.get_strings = vni_get_strings,
	.get_ethtool_stats = vni_get_ethtool_stats,
};

/* ---- load and unload ---- */

/* Two bytes of FNV-1a of the fabric's name, as libmint: stable MACs. */
static u16 name_hash(const char *name, size_t cap)
{
	u32 h = 2166136261u;
	size_t i;

	for (i = 0; i < cap && name[i]; i++)
		h = (h ^ (u8)name[i]) * 16777619u;
	return (u16)(h ^ (h >> 16));
}

static void vni_init(void *mem, void *arg)
{
	struct mint_vni *v = arg;
	struct mint_vni_hdr *h = mem;

	h->version = cpu_to_le32(MINT_VNI_VERSION);
	h->mode = cpu_to_le32(MINT_VNI_PER_DEST);
	h->max_ports = cpu_to_le32(MINT_VNI_MAX_PORTS);
	h->ring_size = cpu_to_le64(VNI_RING_DEFAULT);
	h->vnet_hdr_len = cpu_to_le32(MINT_VNI_VNET_HDR);
	memcpy(h->mac_base, v->mac_base, ETH_ALEN);
	h->magic = cpu_to_le32(MINT_VNI_MAGIC);
}

/*
 * The fabric's "vni", created with libmint's defaults if no node made it:
 * -EPROTO if it is not a VNI we know (or has MACs other than the ones its
 * fabric's name gives, which our device took at load), -EOPNOTSUPP in
 * the pool configuration: its free stacks and address queues take a lock
 * with dead-owner recovery and reclaim buffers by owner epochs, which this
 * driver does not implement (the per-destination rings need neither).
 * Our node must be up: creating takes the directory lock in its name.
 */
static int attach_vni(struct mint_vni *v)
{
	struct mint_vni_hdr *h;
	u64 off, size, rs;
	int rc = mint_fabric_open(&v->f, "vni", MINT_OBJ_VNI, sizeof(*h), vni_init, v, &off, &size);

	if (rc)
		return rc;
	h = v->f.base + off;
	rs = le64_to_cpu(READ_ONCE(h->ring_size));
	if (size < sizeof(*h) || le32_to_cpu(READ_ONCE(h->magic)) != MINT_VNI_MAGIC ||
	    le32_to_cpu(READ_ONCE(h->version)) != MINT_VNI_VERSION ||
	    le32_to_cpu(READ_ONCE(h->max_ports)) != MINT_VNI_MAX_PORTS ||
	    le32_to_cpu(READ_ONCE(h->vnet_hdr_len)) != MINT_VNI_VNET_HDR ||
	    !is_power_of_2(rs) || rs < 4ull * MINT_VNI_FRAME_MAX || rs > v->f.size ||
	    memcmp(h->mac_base, v->mac_base, ETH_ALEN))
		return -EPROTO;
	if (le32_to_cpu(READ_ONCE(h->mode)) != MINT_VNI_PER_DEST)
		return -EOPNOTSUPP;
	v->hdr = h;
	v->ring_size = rs;
	/* release: the geometry above before the port that xmit and NAPI
	 * take as "attached" */
	smp_store_release(&v->port, &h->ports[v->f.node]);
	return 0;
}

/* attach_vni, its error logged once (it is tried again every 100 ms). */
static int try_attach(struct mint_vni *v)
{
	int rc = attach_vni(v);

	if (rc == -EOPNOTSUPP && rc != v->attach_rc)
		pr_err("mint_vni: node %u: the fabric's VNI uses the shared buffer pool, which this driver does not speak: no port\n",
		       v->f.node);
	else if (rc && rc != v->attach_rc)
		pr_err("mint_vni: node %u: cannot attach to the fabric's VNI (%d): no port\n", v->f.node, rc);
	v->attach_rc = rc;
	return rc;
}

/*
 * Our node up, and our port up with the epoch it joined with (peers take
 * a port whose epoch is not its node's for a stale one): at its first
 * join we attach to the VNI; when our agent joins again (a new epoch), the
 * port is brought up again with it.  False while our node is not up or
 * the VNI cannot be attached (its error logged once).
 */
static bool node_joined(struct mint_vni *v)
{
	u32 epoch = mint_fabric_joined(&v->f);

	if (!epoch)
		return false;
	if (v->port && epoch == v->f.epoch)
		return true;
	v->f.epoch = epoch; /* the directory lock is taken in its name */
	if (!v->port && try_attach(v))
		return false;
	port_up(v, true);
	netdev_info(v->netdev, "node %u joined (epoch %u): port %pM up\n", v->f.node, epoch,
		    v->netdev->dev_addr);
	return true;
}

/*
 * The fabric in BAR2, our node id, address and MAC (the VNI's MACs come
 * from the fabric's name, as libmint makes them).  Our node need not be
 * up yet: node_joined attaches when it is.  A VNI that already exists in
 * the pool configuration is refused here, so that insmod says so.
 */
static int setup(struct mint_vni *v)
{
	int rc = mint_fabric_bind(v->iv, &v->f);
	u16 hash;

	if (rc && rc != -ENOTCONN)
		return rc;
	if (v->f.node >= MINT_VNI_MAX_PORTS)
		return -ERANGE;
	v->addr[0] = 10, v->addr[1] = 77, v->addr[2] = 0, v->addr[3] = v->f.node + 1;
	if (ipv4 && !in4_pton(ipv4, -1, v->addr, -1, NULL))
		return -EINVAL;
	hash = name_hash(mint_fabric_hdr(&v->f)->name, sizeof(mint_fabric_hdr(&v->f)->name));
	v->mac_base[0] = 0x02; /* locally administered, then "m" */
	v->mac_base[1] = 0x6d;
	v->mac_base[2] = hash >> 8;
	v->mac_base[3] = hash & 0xff;
	eth_hw_addr_gen(v->netdev, v->mac_base, v->f.node);
	v->dir_gen = ~0u;
	v->poll_cpu = -1;
	return rc ? 0 : try_attach(v); /* node up: a VNI we cannot speak is refused now */
}

static struct net_device *the_netdev;

static int __init mint_vni_init(void)
{
	netdev_features_t offloads = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_TSO | NETIF_F_TSO6;
	struct net_device *dev = alloc_etherdev(sizeof(struct mint_vni));
	struct mint_vni *v;
	int rc;

	if (!dev)
		return -ENOMEM;
	v = netdev_priv(dev);
	v->netdev = dev;
	strscpy(dev->name, "mint%d", sizeof(dev->name));
	dev->netdev_ops = &vni_netdev_ops;
	dev->ethtool_ops = &vni_ethtool_ops;
	dev->hw_features = offloads;
	dev->features = offloads;
	dev->max_mtu = 65535 - ETH_HLEN;
	/* a frame and its virtio-net header in one record of the VNI */
	netif_set_tso_max_size(dev, MINT_VNI_FRAME_MAX - MINT_VNI_VNET_HDR - 64);
	netif_napi_add(dev, &v->napi, vni_poll);
	INIT_DELAYED_WORK(&v->liveness, liveness);
	v->iv = mint_ivshmem_get();
	rc = IS_ERR(v->iv) ? PTR_ERR(v->iv) : setup(v);
	if (rc == 0)
		rc = register_netdev(dev);
	if (rc) {
		if (!IS_ERR(v->iv))
			mint_ivshmem_put(v->iv);
		free_netdev(dev);
		return rc;
	}
	the_netdev = dev;
	if (v->port)
		netdev_info(dev, "node %u, port %pM, rings of %llu bytes\n", v->f.node, dev->dev_addr,
			    v->ring_size);
	else
		netdev_info(dev, "node %u, port %pM: waiting for the node to join\n", v->f.node,
			    dev->dev_addr);
	return 0;
}

static void __exit mint_vni_exit(void)
{
	struct mint_vni *v = netdev_priv(the_netdev);

	unregister_netdev(the_netdev);
	mint_ivshmem_put(v->iv);
	free_netdev(the_netdev);
}

module_init(mint_vni_init);
module_exit(mint_vni_exit);
MODULE_DESCRIPTION("mint: the fabric's virtual NIC as a network device");
MODULE_LICENSE("GPL");
