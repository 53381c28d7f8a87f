/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The parts of the fabric layout (include/mint/layout.h, docs/layout.md)
 * that mint's guest kernel drivers read and write, in kernel types.  The
 * user-space header cannot be included here (it needs <stdatomic.h>), so
 * this is a mirror of it: every offset below is asserted with the same
 * number layout.h asserts, and tests/t_kdrv_layout.sh compares the two.
 * All fields are little-endian in the fabric, whatever the guest's order.
 */
#ifndef MINT_FABRIC_H
#define MINT_FABRIC_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/stddef.h>
#else
#include <stddef.h> /* tests/t_kdrv_layout.sh compiles it in user space */
#endif

#define MINT_PAGE 4096u
#define MINT_FABRIC_MAGIC 0x31424146544e494dull
#define MINT_FABRIC_VERSION 1u
#define MINT_MAX_NODES 64u
#define MINT_MAX_OBJECTS 256u
#define MINT_OBJ_NAME_MAX 64u
#define MINT_NODE_TABLE_OFF 0x1000ull
#define MINT_OBJDIR_OFF 0x41000ull
#define MINT_HEAP_OFF 0x49000ull
#define MINT_NODE_UP 1u
#define MINT_OBJ_LIVE 1u
#define MINT_OBJ_NIC 5u

struct mint_lock {
	__le64 owner; /* 0 free, else tid | (node + 1) << 32 | epoch << 40 */
	__le32 recoveries;
	__le32 flags;
	__u8 pad[48];
};

struct mint_fabric_hdr {
	__le64 magic;
	__le32 version;
	__le32 header_size;
	__le64 size;
	__u8 pad0[56];
	char name[32];
	__u8 pad1[16];
	struct mint_lock dir_lock; /* line 2 */
	__le32 dir_generation;     /* line 3: a seqlock over the directory */
	__u8 pad3[MINT_PAGE - 196];
};

struct mint_node_entry {
	__le32 state;
	__le32 id;
	__le32 epoch;
	__le32 pid; /* a guest's: its QEMU's pid on the host */
	__u8 pad0[176];
	__le64 heartbeat_ns; /* line 3 */
	__u8 pad3[56];
	__le64 pending[4]; /* line 4 */
	__u8 rest[MINT_PAGE - 288];
};

struct mint_obj_entry {
	__le32 state;
	__le32 type;
	__le64 offset;
	__le64 size;
	__le32 flags;
	__le32 creator;
	char name[MINT_OBJ_NAME_MAX];
	__le64 created_ns;
	__le32 creator_pid; /* 0: a guest's creation, never reclaimed */
	__le32 creator_pidns;
	__le64 creator_start;
	__u8 reserved[8];
};

/* The emulated NIC ("nic.ID"): e1000 legacy receive, see nic.h. */
#define MINT_NIC_MAGIC 0x3043494eu
#define MINT_NIC_VERSION 2u
#define MINT_NIC_DOWN 0u
#define MINT_NIC_UP 1u
#define MINT_VEC_NIC 3u
#define MINT_NIC_MIN_DESC 8u
#define MINT_NIC_MAX_DESC 4096u
#define MINT_NIC_MIN_BUF 256u
#define MINT_NIC_MAX_BUF 16384u
#define MINT_NIC_MAX_FRAME 16384u
#define MINT_NIC_STAT_DD 0x01u
#define MINT_NIC_STAT_EOP 0x02u
#define MINT_NIC_STAT_VP 0x08u
#define MINT_NIC_ICR_RXO 0x40u
#define MINT_NIC_ICR_RXT0 0x80u

struct mint_nic_desc {
	__le64 addr;        /* buffer offset in the buffer area: i * buf_size */
	__le64 status_word; /* len | csum << 16 | status << 32 | errors << 40 | vlan << 48 */
};

struct mint_nic_hdr {
	/* line 0: the driver's */
	__le32 magic;
	__le32 version;
	__le32 node;
	__le32 vector;
	__le32 ndesc;
	__le32 buf_size;
	__le64 desc_off;
	__le64 buf_off;
	__u8 mac[6];
	__u8 pad0[2];
	__u8 ipv4[4];
	__le32 prefix_len;
	__le32 state;
	__le32 epoch;
	/* line 1: the device's */
	__le32 rdh;
	__le32 pad1;
	__le64 rx_packets, rx_bytes, overruns, irqs, irqs_masked, last_irq_ns, dev_errors;
	/* line 2: the driver's */
	__le32 rdt;
	__le32 pad2;
	__le64 pad2b;
	__le64 drv_packets, drv_bytes, drv_errors, drv_bad, drv_irqs, drv_drops;
	/* line 3: icr set by the device, read-to-clear by the driver; the
	 * driver's ims and itr_ns, which the device reads at every kick */
	__le32 icr;
	__le32 ims;
	__le64 itr_ns;
	__u8 pad3[48];
};

/* A doorbell word pair (struct mint_bell): who sleeps, and the futex word. */
#define MINT_BELL_AWAKE 0u
#define MINT_BELL_FUTEX 1u
#define MINT_BELL_IRQ 2u
struct mint_bell {
	__le32 sleeping;
	__le32 seq;
};

/* A record ring (ring.h): a header of four lines, then `size` bytes. */
#define MINT_OBJ_RING 2u
#define MINT_RING_MAGIC 0x474e4952u
#define MINT_RING_VERSION 1u
#define MINT_RING_ALIGN 8u
#define MINT_REC_FRAME 1u
#define MINT_REC_PAD 0xffffff00u
struct mint_ring_hdr {
	__le32 magic;
	__le32 version;
	__le64 size;
	__le32 max_record;
	__le32 prod_node;
	__le32 cons_node;
	__le32 cons_vector;
	__u8 pad0[32];
	__le64 tail; /* line 1: the producer's */
	struct mint_bell space_bell;
	__le64 full_events, sent_records, prod_errors;
	__u8 pad1[24];
	__le64 head; /* line 2: the consumer's */
	struct mint_bell data_bell;
	__le64 recv_records, errors;
	__u8 pad2[32];
	__u8 pad3[64];
};
struct mint_rec_hdr {
	__le32 len;
	__le32 type;
};

/* The device table (dev.h): object "devtab", a header of two lines, then
 * MINT_DEV_MAX entries.  A raise rings the owner only while `armed`, and
 * clears it: the owner's handler sets it again (mint_dev_consume). */
#define MINT_OBJ_DEVTAB 7u
#define MINT_DEVTAB_MAGIC 0x30564544u
#define MINT_DEV_MAX 64u
#define MINT_DEV_FREE 0u
struct mint_dev_entry {
	__le32 state;
	__le32 type;
	__le32 link;
	__le32 ifindex;
	__le64 route; /* owner | vector << 32 | MINT_DEV_MASKED */
	__u8 pad0[40];
	char name[32];
	__u8 pad1[56];
	__le32 armed;
	__u8 pad2[100];
};
struct mint_devtab_hdr {
	__le32 magic;
	__le32 version;
	__le32 max_devs;
	__u8 pad[116];
	struct mint_dev_entry devs[MINT_DEV_MAX];
};

/* The VNI (vni.h): object "vni", a port per node id below 16. */
#define MINT_OBJ_VNI 4u
#define MINT_VNI_MAX_PORTS 16u
#define MINT_VNI_MAGIC 0x30494e56u
#define MINT_VNI_VERSION 1u
#define MINT_VNI_PER_DEST 1u
#define MINT_VNI_VNET_HDR 10u
#define MINT_VNI_FRAME_MAX (MINT_VNI_VNET_HDR + 65536u + 64u)
#define MINT_VNI_DOWN 0u
#define MINT_VNI_UP 1u
#define MINT_VEC_VNI 2u
struct mint_vni_port {
	__le32 state;
	__le32 epoch;
	__u8 mac[6];
	__u8 pad0[2];
	__u8 ipv4[4];
	__le32 prefix_len;
	__u8 pad0b[40];
	/* line 1: transmit counters; line 2: receive counters (the port's) */
	__le64 tx_packets, tx_bytes, tx_drop_full, tx_drop_unknown, tx_drop_down, tx_drop_error;
	__le64 tx_irqs, tx_irqs_suppressed;
	__le64 rx_packets, rx_bytes, rx_errors, rx_drop_host, rx_polls, tx_drop_queue;
	__le64 tx_drop_pool, pool_reclaimed;
	__le64 pool_errors;
	__u8 reserved[56];
};
struct mint_vni_hdr {
	__le32 magic;
	__le32 version;
	__le32 mode;
	__le32 max_ports;
	__le64 ring_size;
	__le32 vnet_hdr_len;
	__u8 mac_base[6];
	__u8 pad[2];
	__le32 pool_buffers;
	__u8 pad2[24];
	struct mint_vni_port ports[MINT_VNI_MAX_PORTS];
};

_Static_assert(sizeof(struct mint_lock) == 64, "layout.h");
_Static_assert(sizeof(struct mint_fabric_hdr) == MINT_PAGE, "layout.h");
_Static_assert(offsetof(struct mint_fabric_hdr, size) == 16, "layout.h");
_Static_assert(offsetof(struct mint_fabric_hdr, name) == 80, "layout.h");
_Static_assert(offsetof(struct mint_fabric_hdr, dir_lock) == 128, "layout.h");
_Static_assert(offsetof(struct mint_fabric_hdr, dir_generation) == 192, "layout.h");
_Static_assert(sizeof(struct mint_node_entry) == MINT_PAGE, "layout.h");
_Static_assert(offsetof(struct mint_node_entry, pid) == 12, "layout.h");
_Static_assert(offsetof(struct mint_node_entry, heartbeat_ns) == 192, "layout.h");
_Static_assert(offsetof(struct mint_node_entry, pending) == 256, "layout.h");
_Static_assert(sizeof(struct mint_obj_entry) == 128, "layout.h");
_Static_assert(offsetof(struct mint_obj_entry, name) == 32, "layout.h");
_Static_assert(offsetof(struct mint_obj_entry, created_ns) == 96, "layout.h");
_Static_assert(offsetof(struct mint_obj_entry, creator_pid) == 104, "layout.h");
_Static_assert(offsetof(struct mint_obj_entry, creator_start) == 112, "layout.h");
_Static_assert(MINT_OBJDIR_OFF == MINT_NODE_TABLE_OFF + MINT_MAX_NODES * MINT_PAGE, "layout.h");
_Static_assert(MINT_HEAP_OFF == MINT_OBJDIR_OFF + MINT_MAX_OBJECTS * 128, "layout.h");
_Static_assert(sizeof(struct mint_nic_desc) == 16, "layout.h");
_Static_assert(sizeof(struct mint_nic_hdr) == 256, "layout.h");
_Static_assert(offsetof(struct mint_nic_hdr, mac) == 40, "layout.h");
_Static_assert(offsetof(struct mint_nic_hdr, state) == 56, "layout.h");
_Static_assert(offsetof(struct mint_nic_hdr, rdh) == 64, "layout.h");
_Static_assert(offsetof(struct mint_nic_hdr, last_irq_ns) == 112, "layout.h");
_Static_assert(offsetof(struct mint_nic_hdr, rdt) == 128, "layout.h");
_Static_assert(offsetof(struct mint_nic_hdr, ims) == 196, "layout.h");
_Static_assert(offsetof(struct mint_nic_hdr, itr_ns) == 200, "layout.h");
_Static_assert(offsetof(struct mint_nic_hdr, drv_packets) == 144, "layout.h");
_Static_assert(offsetof(struct mint_nic_hdr, drv_drops) == 184, "layout.h");
_Static_assert(offsetof(struct mint_nic_hdr, icr) == 192, "layout.h");

_Static_assert(sizeof(struct mint_ring_hdr) == 256, "layout.h");
_Static_assert(offsetof(struct mint_ring_hdr, tail) == 64, "layout.h");
_Static_assert(offsetof(struct mint_ring_hdr, head) == 128, "layout.h");
_Static_assert(offsetof(struct mint_ring_hdr, errors) == 152, "layout.h");
_Static_assert(sizeof(struct mint_dev_entry) == 256, "layout.h");
_Static_assert(offsetof(struct mint_dev_entry, route) == 16, "layout.h");
_Static_assert(offsetof(struct mint_dev_entry, name) == 64, "layout.h");
_Static_assert(offsetof(struct mint_dev_entry, armed) == 152, "layout.h");
_Static_assert(offsetof(struct mint_devtab_hdr, devs) == 128, "layout.h");
_Static_assert(sizeof(struct mint_vni_port) == 256, "layout.h");
_Static_assert(offsetof(struct mint_vni_port, tx_packets) == 64, "layout.h");
_Static_assert(offsetof(struct mint_vni_port, rx_packets) == 128, "layout.h");
_Static_assert(offsetof(struct mint_vni_port, pool_errors) == 192, "layout.h");
_Static_assert(offsetof(struct mint_vni_hdr, mac_base) == 28, "layout.h");
_Static_assert(offsetof(struct mint_vni_hdr, ports) == 64, "layout.h");

#ifdef __KERNEL__
/* ---- mint_fabric.ko: the fabric as the guest drivers use it ---- */

struct mint_ivshmem;

/* BAR2 as the fabric, with our node id and the epoch we joined with. */
struct mint_fabric {
	void *base;
	u64 size; /* the fabric's, never more than the BAR */
	u32 node, epoch;
};

/* LEN bytes at OFF of the fabric, or NULL if any of them is outside it. */
static inline void *mint_fabric_at(const struct mint_fabric *f, u64 off, u64 len)
{
	if (off > f->size || len > f->size - off)
		return NULL;
	return f->base + off;
}

static inline struct mint_fabric_hdr *mint_fabric_hdr(const struct mint_fabric *f)
{
	return f->base;
}

/* Node ID's entry, or NULL for an id out of range. */
static inline struct mint_node_entry *mint_fabric_node(const struct mint_fabric *f, u32 id)
{
	if (id >= MINT_MAX_NODES)
		return NULL;
	return mint_fabric_at(f, MINT_NODE_TABLE_OFF + (u64)id * MINT_PAGE, MINT_PAGE);
}

/* Fill F from the ivshmem device: -ENODEV if BAR2 is not a fabric,
 * -ENOTCONN if our node's entry is not UP (its agent joins first: the
 * epoch we take is the one peers check our objects against); F's base,
 * size and node are set then all the same (the drivers wait for the
 * join with mint_fabric_joined). */
int mint_fabric_bind(struct mint_ivshmem *iv, struct mint_fabric *f);

/* The epoch our node joined with while its entry is UP, else 0 (epochs
 * start at 1): the drivers poll it to attach at the join and to follow
 * each rejoin.  A peer could write any epoch: it only names our objects. */
u32 mint_fabric_joined(const struct mint_fabric *f);

/* Object NAME of TYPE: its offset and size.  -ENOENT, -EPROTO (another
 * type, or a corrupt entry), -EBUSY (the directory kept changing). */
int mint_fabric_find(struct mint_fabric *f, const char *name, u32 type, u64 *off, u64 *size);

/* Called on a new object's zeroed memory before it becomes visible. */
typedef void (*mint_fabric_init_fn)(void *mem, void *arg);

/* Find object NAME, or create it with SIZE bytes and INIT: its offset and
 * size (an existing object keeps its own: check it).  -EINVAL, -EEXIST
 * (another type), -EPROTO, -ENOSPC, -ENFILE, -EBUSY (the lock). */
int mint_fabric_open(struct mint_fabric *f, const char *name, u32 type, u64 size,
		     mint_fabric_init_fn init, void *arg, u64 *off, u64 *found_size);
#endif /* __KERNEL__ */

#endif /* MINT_FABRIC_H */
