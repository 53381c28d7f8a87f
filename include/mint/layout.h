/* SPDX-License-Identifier: MIT */
/*
 * mint fabric layout: the ABI every node shares.
 *
 * Every field is fixed-width and stored little-endian, whatever the node's
 * own byte order; fields are located by offsets from the fabric base, never
 * by pointers.  Contended fields sit on their own 64-byte lines.  Every
 * offset and size below is pinned by a static assertion and mirrored in
 * docs/layout.md (tests/test_layout checks the two agree).  A node built
 * for aarch64, s390x (big-endian) or i386 compiles these same assertions.
 */
#ifndef MINT_LAYOUT_H
#define MINT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include "mint/api.h"

MINT_BEGIN_DECLS

#define MINT_CACHELINE 64u
#define MINT_PAGE 4096u

#define MINT_FABRIC_MAGIC 0x31424146544e494dull /* "MINTFAB1" as LE bytes */
#define MINT_FABRIC_VERSION 1u
#define MINT_MAX_NODES 64u
#define MINT_VECTORS 256u
#define MINT_MAX_OBJECTS 256u
#define MINT_NAME_MAX 32u     /* fabric, node and netns names, NUL included */
#define MINT_OBJ_NAME_MAX 64u /* object names, NUL included */
#define MINT_CPU_WORDS 4u     /* 256-bit core set */
#define MINT_NODE_NONE 0xffffffffu /* "no node": an external tool */

/*
 * A doorbell word pair.  `sleeping` is written by the waiter before it
 * sleeps and cleared by the one waker that finds it set; `seq` is the futex
 * word the waker bumps so a sleeper that raced with it never misses a wake.
 */
struct mint_bell {
	MINT_ATOMIC(uint32_t) sleeping; /* MINT_BELL_AWAKE / _FUTEX / _IRQ */
	MINT_ATOMIC(uint32_t) seq;
};
#define MINT_BELL_AWAKE 0u
#define MINT_BELL_FUTEX 1u /* waiter sleeps on seq: wake with futex */
#define MINT_BELL_IRQ 2u   /* waiter wants a doorbell vector instead */

/*
 * A cross-node lock.  `owner` is 0 when free, else the holder's tag:
 * bits 0-31 the holding thread's id, bits 32-39 node id + 1 (0: not a
 * node), bits 40-63 the low 24 bits of the node's epoch (of a non-node
 * thread's start time in clock ticks, 0 if unknown).  Ownership is per
 * thread and per identity: take and release it as the same node.  A waiter that finds the holder dead
 * takes the lock over and sets MINT_LOCK_NEEDS_CHECK in `flags`.
 */
struct mint_lock {
	MINT_ATOMIC(uint64_t) owner;
	MINT_ATOMIC(uint32_t) recoveries;
	MINT_ATOMIC(uint32_t) flags;
	uint8_t pad[48];
};
#define MINT_LOCK_NEEDS_CHECK 1u

/* Fabric header: page 0. Written once by `mint up`, read-only after. */
struct mint_fabric_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t size;            /* total bytes of the fabric file */
	uint32_t max_nodes;
	uint32_t max_vectors;
	uint32_t max_objects;
	uint32_t flags;           /* MINT_FABRIC_HUGETLB */
	uint64_t node_table_off;
	uint64_t objdir_off;
	uint64_t heap_off;
	/* line 1 */
	uint64_t heap_size;
	uint64_t created_ns;      /* CLOCK_REALTIME at creation */
	char name[MINT_NAME_MAX];
	uint8_t pad1[16];
	/* line 2: guards the object directory and node joins */
	struct mint_lock dir_lock;
	/* line 3 */
	MINT_ATOMIC(uint32_t) dir_generation; /* bumped on every directory change */
	MINT_ATOMIC(uint32_t) dir_repairs;    /* odd generations nobody was changing */
	MINT_ATOMIC(uint64_t) external_ipis;  /* doorbells sent by non-node tools */
	MINT_ATOMIC(uint32_t) dir_reclaims;   /* entries of dead creators freed */
	uint8_t pad4[44];
	uint8_t reserved[MINT_PAGE - 4 * MINT_CACHELINE];
};
#define MINT_FABRIC_HUGETLB 1u

/*
 * A QEMU guest node's part of its node entry.  Line 0 is written by the
 * host (`mint guest start`) before QEMU runs: the server identifies a
 * connecting QEMU by its pid, and peers judge the guest's liveness by
 * QEMU's.  Line 1 by the guest's agent.  The wake queue carries the
 * offsets of fabric futex words the guest wants woken (it cannot make a
 * host futex syscall): a bounded multi-producer queue (Vyukov): slot i's
 * `seq` is i when free for the producer at position i, i + 1 once filled;
 * the server, its only consumer, sets it to i + MINT_GUEST_WAKE_SLOTS
 * after taking it.  The server validates every offset (inside the fabric,
 * 4-aligned) and counts the refused ones.
 */
#define MINT_GUEST_MAGIC 0x30545347u /* "GST0" */
#define MINT_GUEST_VERSION 1u
#define MINT_GUEST_WAKE_SLOTS 64u
#define MINT_GUEST_KERNEL_MAX 64u
#define MINT_NODE_GUEST 1u /* mint_node_entry.flags: a QEMU guest node */

struct mint_wake_slot {
	MINT_ATOMIC(uint64_t) seq;
	MINT_ATOMIC(uint64_t) off;     /* fabric offset of a 32-bit futex word */
};

struct mint_guest_area {
	/* line 0: the host's, written before QEMU starts */
	MINT_ATOMIC(uint32_t) magic;   /* MINT_GUEST_MAGIC while the id is a guest's */
	uint32_t version;
	int32_t qemu_pid;         /* host pid of the guest's QEMU */
	uint32_t arch;            /* the guest's ELF machine */
	uint64_t qemu_start;      /* its /proc start time */
	uint64_t start_ns;        /* CLOCK_REALTIME of `mint guest start` */
	uint8_t pad0[32];
	/* line 1: the guest agent's, at join */
	char kernel[MINT_GUEST_KERNEL_MAX]; /* uname -r of the guest kernel */
	/* line 2: the guest's producers */
	MINT_ATOMIC(uint64_t) wake_tail;  /* positions ever taken */
	MINT_ATOMIC(uint64_t) wake_full;  /* wakes dropped: queue full */
	uint8_t pad2[48];
	/* line 3: the server's */
	MINT_ATOMIC(uint64_t) wakes_done; /* futex wakes made for the guest */
	MINT_ATOMIC(uint64_t) wakes_bad;  /* offsets refused */
	MINT_ATOMIC(uint64_t) irqs_sent;  /* interrupts sent to the guest */
	MINT_ATOMIC(uint64_t) beat_seen_ns; /* host CLOCK_MONOTONIC: the guest's
					     * heartbeat last seen changing */
	uint8_t pad3[32];
	/* lines 4-19 */
	struct mint_wake_slot wake[MINT_GUEST_WAKE_SLOTS];
};

/* Node table entry: Mint's core management table, one page per node. */
struct mint_node_entry {
	/* line 0: identity, written by the owner at join under dir_lock */
	MINT_ATOMIC(uint32_t) state;   /* enum mint_node_state */
	uint32_t id;
	MINT_ATOMIC(uint32_t) epoch;   /* +1 at every join */
	int32_t pid;
	uint64_t pid_start;       /* /proc/PID/stat starttime: guards pid reuse */
	uint64_t join_ns;         /* CLOCK_REALTIME at join */
	uint64_t cores[MINT_CPU_WORDS];
	/* line 1 */
	char name[MINT_NAME_MAX];
	char netns[MINT_NAME_MAX];
	/* line 2 */
	uint32_t arch;            /* ELF e_machine of the node's build */
	uint32_t mode;            /* enum mint_dispatch_mode */
	uint32_t flags;
	uint32_t pad2;
	uint8_t pad2b[48];
	/* line 3: written by the owner only */
	MINT_ATOMIC(uint64_t) heartbeat_ns; /* CLOCK_MONOTONIC */
	uint8_t pad3[56];
	/* line 4: set by any sender, cleared by the owner's dispatcher.  The
	 * bell shares the line: a sender that just wrote `pending` already
	 * owns the line when it checks whether the dispatcher sleeps. */
	MINT_ATOMIC(uint64_t) pending[MINT_VECTORS / 64];
	struct mint_bell bell;
	/* A guest node's vectors owned by its kernel (bit V: vector V), set by
	 * its guest driver; a raise of such a vector sets its bit in kpending
	 * instead of pending, and on a 0->1 edge bumps and wakes kseq, which
	 * mint's ivshmem server turns into the vector's MSI-X interrupt. */
	MINT_ATOMIC(uint64_t) kvec_mask;
	MINT_ATOMIC(uint64_t) kpending;
	MINT_ATOMIC(uint32_t) kseq;
	uint32_t pad4;
	/* line 5 */
	uint8_t pad5[64];
	/* line 6: counters of this node as a sender */
	MINT_ATOMIC(uint64_t) ipi_sent;
	MINT_ATOMIC(uint64_t) wakes_sent;       /* sends that had to wake the target */
	MINT_ATOMIC(uint64_t) wakes_suppressed; /* sends that found the target awake */
	uint8_t pad6[40];
	/* line 7: dispatcher counters */
	MINT_ATOMIC(uint64_t) sleeps;
	MINT_ATOMIC(uint64_t) spurious;         /* pending vectors with no handler */
	MINT_ATOMIC(uint64_t) dispatch_passes;
	uint8_t pad7[40];
	/* lines 8-39: per-vector handled counts, written by the dispatcher */
	MINT_ATOMIC(uint64_t) handled[MINT_VECTORS];
	/* lines 40-59: a guest node's (MINT_NODE_GUEST) */
	struct mint_guest_area guest;
	uint8_t reserved[MINT_PAGE - 8 * MINT_CACHELINE - 8 * MINT_VECTORS -
			 sizeof(struct mint_guest_area)];
};

/* Object directory entry. */
struct mint_obj_entry {
	MINT_ATOMIC(uint32_t) state;   /* MINT_OBJ_FREE / MINT_OBJ_LIVE */
	uint32_t type;            /* enum mint_obj_type */
	uint64_t offset;          /* from the fabric base */
	uint64_t size;
	MINT_ATOMIC(uint32_t) flags;   /* MINT_OBJ_NEEDS_CHECK */
	uint32_t creator;         /* node id or MINT_NODE_NONE */
	char name[MINT_OBJ_NAME_MAX];
	uint64_t created_ns;
	/* The creating process, so that a full directory can reclaim the
	 * entries of the dead: its pid (0: not known, e.g. a guest's), the
	 * low 32 bits of its pid namespace's inode, its /proc start time. */
	int32_t creator_pid;
	uint32_t creator_pidns;
	uint64_t creator_start;
	uint8_t reserved[8];
};
#define MINT_OBJ_FREE 0u
#define MINT_OBJ_LIVE 1u
#define MINT_OBJ_NEEDS_CHECK 1u

/* Ring: a header of four lines, then `size` data bytes (a power of two). */
struct mint_ring_hdr {
	/* line 0: set at creation */
	uint32_t magic;           /* MINT_RING_MAGIC */
	uint32_t version;
	uint64_t size;            /* data bytes, power of two */
	uint32_t max_record;      /* largest payload accepted */
	uint32_t prod_node;       /* node ids, MINT_NODE_NONE for a tool */
	uint32_t cons_node;
	uint32_t cons_vector;     /* doorbell vector for MINT_BELL_IRQ waits */
	uint8_t pad0[32];
	/* line 1: producer-owned */
	MINT_ATOMIC(uint64_t) tail;    /* bytes ever published */
	struct mint_bell space_bell; /* producer waits here when full */
	MINT_ATOMIC(uint64_t) full_events;
	MINT_ATOMIC(uint64_t) sent_records;
	MINT_ATOMIC(uint64_t) prod_errors; /* impossible heads seen by the producer */
	uint8_t pad1[24];
	/* line 2: consumer-owned */
	MINT_ATOMIC(uint64_t) head;    /* bytes ever consumed */
	struct mint_bell data_bell;  /* consumer waits here when empty */
	MINT_ATOMIC(uint64_t) recv_records;
	MINT_ATOMIC(uint64_t) errors;  /* corrupt indices or records seen */
	uint8_t pad2[32];
	uint8_t pad3[64];
};
#define MINT_RING_MAGIC 0x474e4952u /* "RING" */
#define MINT_RING_VERSION 1u
#define MINT_RING_ALIGN 8u           /* records start 8-aligned */

/* Record header in ring data: payload follows, padded to 8 bytes. */
struct mint_rec_hdr {
	uint32_t len;             /* payload bytes */
	uint32_t type;            /* < MINT_REC_PAD for users */
};
#define MINT_REC_PAD 0xffffff00u /* filler up to the end of the data area */

/* Channel: a header line and two rings (A->B, then B->A). */
struct mint_channel_hdr {
	uint32_t magic;           /* MINT_CHANNEL_MAGIC */
	uint32_t version;
	uint32_t node_a;
	uint32_t node_b;
	uint64_t ring_size;       /* data bytes of each ring */
	uint64_t a2b_off;         /* from the channel header */
	uint64_t b2a_off;
	uint8_t pad[24];
};
#define MINT_CHANNEL_MAGIC 0x4e414843u /* "CHAN" */
#define MINT_CHANNEL_VERSION 1u

/*
 * The virtual NIC (VNI): object "vni", a header line and a port per node
 * id below MINT_VNI_MAX_PORTS.  In per-destination mode every (src, dst)
 * pair has a ring object "vni.SRC-DST" of `ring_size` data bytes whose
 * records are one frame each: a virtio-net header (`vnet_hdr_len` bytes)
 * and an Ethernet frame.
 */
#define MINT_VNI_MAX_PORTS 16u
#define MINT_VNI_MAGIC 0x30494e56u /* "VNI0" */
#define MINT_VNI_VERSION 1u
#define MINT_VNI_PER_DEST 1u       /* a receive ring per (source, destination) */
#define MINT_VNI_POOL 2u           /* one buffer pool, address queues */
#define MINT_VNI_VNET_HDR 10u      /* struct virtio_net_hdr */
#define MINT_VNI_FRAME_MAX (MINT_VNI_VNET_HDR + 65536u + 64u)
#define MINT_VNI_DOWN 0u
#define MINT_VNI_UP 1u
#define MINT_REC_FRAME 1u          /* ring record type of a frame */

struct mint_vni_port {
	/* line 0: written by the port's node when it attaches or detaches */
	MINT_ATOMIC(uint32_t) state;   /* MINT_VNI_DOWN / MINT_VNI_UP */
	uint32_t epoch;           /* the node's epoch when it attached */
	uint8_t mac[6];
	uint8_t pad0[2];
	uint8_t ipv4[4];          /* network byte order */
	uint32_t prefix_len;
	uint8_t pad0b[40];
	/* line 1: transmit counters, written by the port's node */
	MINT_ATOMIC(uint64_t) tx_packets;
	MINT_ATOMIC(uint64_t) tx_bytes;
	MINT_ATOMIC(uint64_t) tx_drop_full;    /* destination ring full */
	MINT_ATOMIC(uint64_t) tx_drop_unknown; /* no port has that MAC */
	MINT_ATOMIC(uint64_t) tx_drop_down;    /* destination port down or node dead */
	MINT_ATOMIC(uint64_t) tx_drop_error;   /* too big, ring corrupt, no room */
	MINT_ATOMIC(uint64_t) tx_irqs;         /* frames that raised the receiver's vector */
	MINT_ATOMIC(uint64_t) tx_irqs_suppressed; /* frames that found it awake */
	/* line 2: receive counters, written by the port's node */
	MINT_ATOMIC(uint64_t) rx_packets;
	MINT_ATOMIC(uint64_t) rx_bytes;
	MINT_ATOMIC(uint64_t) rx_errors;       /* corrupt rings or records */
	MINT_ATOMIC(uint64_t) rx_drop_host;    /* the host stack refused the frame */
	MINT_ATOMIC(uint64_t) rx_polls;        /* drain passes that found frames */
	MINT_ATOMIC(uint64_t) tx_drop_queue;   /* the host dropped them before us: the
					   * TAP device's queue was full */
	MINT_ATOMIC(uint64_t) tx_drop_pool;    /* pool mode: no free buffer */
	MINT_ATOMIC(uint64_t) pool_reclaimed;  /* pool mode: references this node took
					   * back from dead nodes */
	/* line 3: pool mode, added to by any thread of the port's node */
	MINT_ATOMIC(uint64_t) pool_errors;     /* corrupt queue entries or buffer states
					   * found while reclaiming */
	uint8_t reserved[56];
};

struct mint_vni_hdr {
	uint32_t magic;           /* MINT_VNI_MAGIC */
	uint32_t version;
	uint32_t mode;            /* MINT_VNI_PER_DEST / MINT_VNI_POOL */
	uint32_t max_ports;
	uint64_t ring_size;       /* per-destination rings: data bytes */
	uint32_t vnet_hdr_len;
	uint8_t mac_base[6];      /* MAC of port N: mac_base with byte 5 = N */
	uint8_t pad[2];
	uint32_t pool_buffers;    /* pool mode: buffers in "vni.pool" */
	uint8_t pad2[24];
	struct mint_vni_port ports[MINT_VNI_MAX_PORTS];
};

/*
 * The device table (object "devtab", MINT_OBJ_DEVTAB): the neutral
 * interrupt layer.  A header line, the table lock, then MINT_DEV_MAX
 * entries.  An entry's `route` packs all the raise path needs into one
 * word, so a raiser reads a consistent owner, vector and mask without the
 * lock: owner node in bits 0-31, vector in bits 32-39, MINT_DEV_MASKED.
 * `raised` and `handled` count interrupts ever raised and ever consumed by
 * the owner's handler; raised - handled are pending.
 */
#define MINT_DEV_MAX 64u
#define MINT_DEVTAB_MAGIC 0x30564544u /* "DEV0" */
#define MINT_DEVTAB_VERSION 2u
#define MINT_DEV_NAME_MAX 32u
#define MINT_DEV_MASKED (1ull << 40)  /* route: interrupts accumulate */
#define MINT_DEV_FREE 0u              /* state: slot unused */
#define MINT_DEV_ATTACHED 1u          /* state: owned by a live node */
#define MINT_DEV_DETACHED 2u          /* state: given back to the host */
#define MINT_DEV_ORPHANED 3u          /* state: its owner died */
#define MINT_DEV_MOVE_NONE 0u         /* move_phase: no move */
#define MINT_DEV_MOVE_MASKED 1u       /* move_phase: intent recorded, masked */
#define MINT_DEV_LINK_DOWN 0u
#define MINT_DEV_LINK_UP 1u

struct mint_dev_entry {
	/* line 0: identity and routing, written under the table lock */
	MINT_ATOMIC(uint32_t) state;   /* MINT_DEV_FREE / _ATTACHED / _DETACHED / _ORPHANED */
	uint32_t type;            /* enum mint_dev_type */
	MINT_ATOMIC(uint32_t) link;    /* MINT_DEV_LINK_DOWN / _UP */
	uint32_t ifindex;         /* host interface: index in its owner's netns */
	MINT_ATOMIC(uint64_t) route;   /* owner | vector << 32 | MINT_DEV_MASKED */
	uint32_t move_phase;      /* MINT_DEV_MOVE_NONE / _MASKED */
	uint32_t move_from;       /* intent of a move: the owner before */
	uint32_t move_to;         /* ... and after */
	int32_t mover_pid;        /* the process doing it */
	uint64_t mover_start;     /* its /proc start time */
	uint32_t owner_epoch;     /* the owner's node epoch when it took the
				   * device (0: unknown): a restart of that
				   * node id clears a dead handler's `busy` */
	uint8_t pad0[12];
	/* line 1 */
	char name[MINT_DEV_NAME_MAX];
	uint8_t pad1[32];
	/* line 2: written by raisers */
	MINT_ATOMIC(uint64_t) raised;            /* interrupts ever raised */
	MINT_ATOMIC(uint64_t) masked_raises;     /* ... that found it masked (the rest
					     * were delivered: rang or coalesced) */
	MINT_ATOMIC(uint64_t) pending_delivered; /* interrupts delivered at unmask or move */
	MINT_ATOMIC(uint32_t) armed;             /* 1: the next raise rings the owner; 0: a
					     * raise rang and no consume followed yet,
					     * so raises coalesce into that doorbell */
	uint32_t pad2;
	MINT_ATOMIC(uint64_t) doorbells;         /* raises that rang (the others coalesced) */
	uint8_t pad2b[24];
	/* line 3: written by the owner's handler */
	MINT_ATOMIC(uint64_t) handled;           /* interrupts ever consumed */
	MINT_ATOMIC(uint32_t) busy;              /* handlers inside mint_dev_consume */
	uint32_t pad3;
	uint8_t pad3b[48];
};

struct mint_devtab_hdr {
	uint32_t magic;           /* MINT_DEVTAB_MAGIC */
	uint32_t version;
	uint32_t max_devs;        /* MINT_DEV_MAX */
	uint32_t pad0;
	MINT_ATOMIC(uint32_t) generation; /* +1 on every change of the table */
	uint8_t pad1[44];
	struct mint_lock lock;    /* serializes every change */
	struct mint_dev_entry devs[MINT_DEV_MAX];
};

/*
 * VNI pool mode (configuration (2)): object "vni.pool" of type
 * MINT_OBJ_VNI_POOL: a header (three lines), `nbuf + nsmall` buffer
 * descriptors (the buffer-management area, a line each), MINT_VNI_MAX_PORTS
 * address queues (one per destination: three lines, then `qlen` 32-bit
 * buffer ids rounded up to a line), then `nbuf` large buffers of `buf_size`
 * bytes (ids 0..nbuf-1, any frame) and `nsmall` small ones of `small_size`
 * bytes (ids nbuf.., frames up to an MTU), each size on its own free stack.
 * Offsets follow from `nbuf` (see docs/layout.md); readers recompute and
 * check them.
 */
#define MINT_VNI_POOL_MAGIC 0x4c4f4f50u /* "POOL" */
#define MINT_VNI_POOL_VERSION 2u
#define MINT_VNI_BUF_SIZE ((MINT_VNI_FRAME_MAX + 63u) & ~63u)
#define MINT_VNI_SMALL_SIZE 2048u  /* a small buffer: a 1500-byte MTU frame and more */
#define MINT_VNI_SMALL_PER_BUF 8u  /* nsmall = nbuf * this */
#define MINT_VNI_POOL_MIN 16u
#define MINT_VNI_POOL_MAX 4096u
#define MINT_VNI_POOL_DEFAULT 256u
#define MINT_VNI_BUF_NONE 0xffffffffu /* no buffer: an empty stack or slot */
#define MINT_VNI_BUF_FREE 0u          /* on the free stack */
#define MINT_VNI_BUF_HELD 1u          /* its owner fills it and holds a reference */
#define MINT_VNI_BUF_SENT 2u          /* queued: the queue entries hold the references */

struct mint_vni_pool_hdr {
	/* line 0: set at creation */
	uint32_t magic;           /* MINT_VNI_POOL_MAGIC */
	uint32_t version;
	uint32_t nbuf;            /* buffers (and descriptors) */
	uint32_t buf_size;        /* MINT_VNI_BUF_SIZE */
	uint32_t qlen;            /* slots per address queue: a power of two >= nbuf + nsmall */
	uint32_t nsmall;          /* small buffers: nbuf * MINT_VNI_SMALL_PER_BUF */
	uint32_t small_size;      /* MINT_VNI_SMALL_SIZE */
	uint8_t pad0[36];
	/* line 1: the free stacks (lock-free) */
	MINT_ATOMIC(uint64_t) free_top; /* large buffers: bits 0-31 the top buffer id
				    * (NONE: empty), bits 32-63 a tag bumped at
				    * every change */
	MINT_ATOMIC(uint64_t) free_small; /* small buffers, as free_top */
	uint8_t pad1[48];
	/* line 2: one reclaimer at a time (only ever tried, never waited for) */
	struct mint_lock reclaim_lock;
};

/* A buffer descriptor. */
struct mint_vni_buf {
	MINT_ATOMIC(uint32_t) state;   /* MINT_VNI_BUF_FREE / _HELD / _SENT */
	MINT_ATOMIC(uint32_t) refs;    /* the owner's while HELD, one per queue entry */
	MINT_ATOMIC(uint32_t) next;    /* the next free buffer while on the free stack */
	MINT_ATOMIC(uint32_t) len;     /* frame bytes, set by the owner before queueing */
	MINT_ATOMIC(uint32_t) owner;   /* node id of the sender that took it */
	MINT_ATOMIC(uint32_t) epoch;   /* that node's epoch */
	uint8_t pad[40];
};

/* A per-destination address queue; `qlen` slots of buffer ids follow it. */
struct mint_vni_addrq {
	/* line 0: senders take it to add an entry (multi-producer) */
	struct mint_lock lock;
	/* line 1: written under the lock */
	MINT_ATOMIC(uint64_t) tail;    /* entries ever added */
	MINT_ATOMIC(uint64_t) bytes_in; /* buffer bytes ever added (each entry: its buffer's size) */
	uint8_t pad1[48];
	/* line 2: the destination's (single consumer, no lock) */
	MINT_ATOMIC(uint64_t) head;    /* entries ever taken */
	struct mint_bell bell;    /* MINT_BELL_IRQ: raise MINT_VEC_VNI on the next entry */
	MINT_ATOMIC(uint64_t) bytes_out; /* buffer bytes ever taken */
	uint8_t pad2[40];
};

/*
 * The emulated NIC (issue 4): object "nic.ID" of node ID, an RX descriptor
 * ring with e1000 legacy receive semantics.  The target node (the driver)
 * creates it and owns lines 0 and 2; the injector (the device) owns line 1;
 * ICR, on line 3, is set by the device and read-to-clear by the driver,
 * beside the driver's IMS and ITR, which the device reads at every kick.
 * After the header: `ndesc` descriptors at `desc_off`, then `ndesc`
 * buffers of `buf_size` bytes at `buf_off` (both from the header).
 */
#define MINT_NIC_MAGIC 0x3043494eu /* "NIC0" */
#define MINT_NIC_VERSION 2u /* 2: ims and itr_ns moved to line 3 */
#define MINT_NIC_DOWN 0u
#define MINT_NIC_UP 1u
#define MINT_NIC_MIN_DESC 8u
#define MINT_NIC_MAX_DESC 4096u
#define MINT_NIC_MIN_BUF 256u
#define MINT_NIC_MAX_BUF 16384u
/* Descriptor status bits (e1000 RDESC.STATUS). */
#define MINT_NIC_STAT_DD 0x01u    /* descriptor done */
#define MINT_NIC_STAT_EOP 0x02u   /* end of packet */
#define MINT_NIC_STAT_IXSM 0x04u  /* ignore checksum indication */
#define MINT_NIC_STAT_VP 0x08u    /* 802.1Q: `special` holds the tag */
#define MINT_NIC_STAT_TCPCS 0x20u /* TCP/UDP checksum calculated */
#define MINT_NIC_STAT_IPCS 0x40u  /* IP checksum calculated */
/* Descriptor error bits (e1000 RDESC.ERRORS): the driver drops the packet. */
#define MINT_NIC_ERR_CE 0x01u     /* CRC error */
#define MINT_NIC_ERR_SE 0x02u     /* symbol error */
#define MINT_NIC_ERR_SEQ 0x04u    /* sequence error */
#define MINT_NIC_ERR_CXE 0x10u    /* carrier extension error */
#define MINT_NIC_ERR_TCPE 0x20u   /* TCP/UDP checksum error */
#define MINT_NIC_ERR_IPE 0x40u    /* IP checksum error */
#define MINT_NIC_ERR_RXE 0x80u    /* RX data error */
/* Interrupt causes (ICR/IMS bits, e1000 numbering). */
#define MINT_NIC_ICR_RXDMT0 0x10u /* free descriptors below a quarter */
#define MINT_NIC_ICR_RXO 0x40u    /* receiver overrun: a packet was missed */
#define MINT_NIC_ICR_RXT0 0x80u   /* receiver timer: packets were written */

/* A legacy receive descriptor.  The driver writes `addr`; the device
 * writes the second word (length .. special) in one release store, DD
 * set, after the buffer. */
struct mint_nic_desc {
	uint64_t addr;            /* buffer offset within the buffer area */
	MINT_ATOMIC(uint64_t) status_word; /* length | csum << 16 | status << 32 |
				       * errors << 40 | special << 48 */
};

struct mint_nic_hdr {
	/* line 0: the driver's, written at attach before `state` */
	uint32_t magic;           /* MINT_NIC_MAGIC */
	uint32_t version;
	uint32_t node;            /* the target node's id */
	uint32_t vector;          /* doorbell vector: MINT_VEC_NIC */
	uint32_t ndesc;
	uint32_t buf_size;        /* bytes per buffer, power of two */
	uint64_t desc_off;        /* from this header */
	uint64_t buf_off;         /* from this header */
	uint8_t mac[6];           /* the driver's MAC, for the injector's defaults */
	uint8_t pad0[2];
	uint8_t ipv4[4];          /* its IPv4 address, network byte order */
	uint32_t prefix_len;
	MINT_ATOMIC(uint32_t) state;   /* MINT_NIC_DOWN / MINT_NIC_UP */
	uint32_t epoch;           /* the driver node's epoch at attach */
	/* line 1: the device's (the injector) */
	MINT_ATOMIC(uint32_t) rdh;     /* next descriptor the device fills */
	uint32_t pad1;
	MINT_ATOMIC(uint64_t) rx_packets;  /* packets written (a chain once) */
	MINT_ATOMIC(uint64_t) rx_bytes;
	MINT_ATOMIC(uint64_t) overruns;    /* packets missed: no free descriptor */
	MINT_ATOMIC(uint64_t) irqs;        /* doorbells raised */
	MINT_ATOMIC(uint64_t) irqs_masked; /* causes set while masked or moderated */
	MINT_ATOMIC(uint64_t) last_irq_ns; /* CLOCK_MONOTONIC of the last doorbell under ITR */
	MINT_ATOMIC(uint64_t) dev_errors;  /* bad RDT or buffer offsets seen */
	/* line 2: the driver's */
	MINT_ATOMIC(uint32_t) rdt;     /* one past the last descriptor given to the device */
	uint32_t pad2;
	uint64_t pad2b;
	MINT_ATOMIC(uint64_t) drv_packets; /* packets handed on */
	MINT_ATOMIC(uint64_t) drv_bytes;
	MINT_ATOMIC(uint64_t) drv_errors;  /* dropped: error bits, no EOP, broken chain */
	MINT_ATOMIC(uint64_t) drv_bad;     /* dropped: garbage length or offset */
	MINT_ATOMIC(uint64_t) drv_irqs;    /* handler runs that found a cause */
	MINT_ATOMIC(uint64_t) drv_drops;   /* the consumer refused the packet */
	/* line 3: icr set by the device (fetch_or), cleared by the driver
	 * (exchange); ims and itr_ns written by the driver (rarely) and read
	 * at every kick, on the line the kick's fetch_or takes anyway: beside
	 * rdt, which the driver stores at every pass, they cost the device
	 * another cross-core transfer a kick. */
	MINT_ATOMIC(uint32_t) icr;
	MINT_ATOMIC(uint32_t) ims;     /* interrupt mask: causes that ring */
	MINT_ATOMIC(uint64_t) itr_ns;  /* minimum gap between doorbells (0: none) */
	uint8_t pad3[48];
};

/* Fabric geometry. */
#define MINT_NODE_TABLE_OFF ((uint64_t)MINT_PAGE)
#define MINT_OBJDIR_OFF (MINT_NODE_TABLE_OFF + MINT_MAX_NODES * (uint64_t)MINT_PAGE)
#define MINT_HEAP_OFF (MINT_OBJDIR_OFF + MINT_MAX_OBJECTS * (uint64_t)sizeof(struct mint_obj_entry))
#define MINT_FABRIC_MIN_SIZE (MINT_HEAP_OFF + 64u * 1024u)

/* The assertions that make this an ABI. */
#define MINT_AT(type, field, off) MINT_STATIC_ASSERT(offsetof(type, field) == (off), #type "." #field)
MINT_STATIC_ASSERT(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
MINT_STATIC_ASSERT(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");
MINT_STATIC_ASSERT(sizeof(MINT_ATOMIC(uint64_t)) == 8 && MINT_ALIGNOF(MINT_ATOMIC(uint64_t)) == 8, "atomic u64");
MINT_STATIC_ASSERT(sizeof(struct mint_bell) == 8, "bell");
MINT_STATIC_ASSERT(sizeof(struct mint_lock) == 64, "lock");
MINT_AT(struct mint_lock, recoveries, 8);
MINT_AT(struct mint_lock, flags, 12);
MINT_STATIC_ASSERT(sizeof(struct mint_fabric_hdr) == MINT_PAGE, "fabric header");
MINT_AT(struct mint_fabric_hdr, version, 8);
MINT_AT(struct mint_fabric_hdr, header_size, 12);
MINT_AT(struct mint_fabric_hdr, size, 16);
MINT_AT(struct mint_fabric_hdr, max_nodes, 24);
MINT_AT(struct mint_fabric_hdr, max_vectors, 28);
MINT_AT(struct mint_fabric_hdr, max_objects, 32);
MINT_AT(struct mint_fabric_hdr, flags, 36);
MINT_AT(struct mint_fabric_hdr, node_table_off, 40);
MINT_AT(struct mint_fabric_hdr, objdir_off, 48);
MINT_AT(struct mint_fabric_hdr, heap_off, 56);
MINT_AT(struct mint_fabric_hdr, heap_size, 64);
MINT_AT(struct mint_fabric_hdr, created_ns, 72);
MINT_AT(struct mint_fabric_hdr, name, 80);
MINT_AT(struct mint_fabric_hdr, dir_lock, 128);
MINT_AT(struct mint_fabric_hdr, dir_generation, 192);
MINT_AT(struct mint_fabric_hdr, dir_repairs, 196);
MINT_AT(struct mint_fabric_hdr, external_ipis, 200);
MINT_AT(struct mint_fabric_hdr, dir_reclaims, 208);
MINT_STATIC_ASSERT(sizeof(struct mint_node_entry) == MINT_PAGE, "node entry");
MINT_AT(struct mint_node_entry, id, 4);
MINT_AT(struct mint_node_entry, epoch, 8);
MINT_AT(struct mint_node_entry, pid, 12);
MINT_AT(struct mint_node_entry, pid_start, 16);
MINT_AT(struct mint_node_entry, join_ns, 24);
MINT_AT(struct mint_node_entry, cores, 32);
MINT_AT(struct mint_node_entry, name, 64);
MINT_AT(struct mint_node_entry, netns, 96);
MINT_AT(struct mint_node_entry, arch, 128);
MINT_AT(struct mint_node_entry, mode, 132);
MINT_AT(struct mint_node_entry, flags, 136);
MINT_AT(struct mint_node_entry, heartbeat_ns, 192);
MINT_AT(struct mint_node_entry, pending, 256);
MINT_AT(struct mint_node_entry, bell, 288);
MINT_AT(struct mint_node_entry, ipi_sent, 384);
MINT_AT(struct mint_node_entry, wakes_sent, 392);
MINT_AT(struct mint_node_entry, wakes_suppressed, 400);
MINT_AT(struct mint_node_entry, sleeps, 448);
MINT_AT(struct mint_node_entry, spurious, 456);
MINT_AT(struct mint_node_entry, dispatch_passes, 464);
MINT_AT(struct mint_node_entry, kvec_mask, 296);
MINT_AT(struct mint_node_entry, kpending, 304);
MINT_AT(struct mint_node_entry, kseq, 312);
MINT_AT(struct mint_node_entry, handled, 512);
MINT_AT(struct mint_node_entry, guest, 2560);
MINT_STATIC_ASSERT(sizeof(struct mint_guest_area) == 20 * MINT_CACHELINE, "guest area");
MINT_AT(struct mint_guest_area, version, 4);
MINT_AT(struct mint_guest_area, qemu_pid, 8);
MINT_AT(struct mint_guest_area, arch, 12);
MINT_AT(struct mint_guest_area, qemu_start, 16);
MINT_AT(struct mint_guest_area, start_ns, 24);
MINT_AT(struct mint_guest_area, kernel, 64);
MINT_AT(struct mint_guest_area, wake_tail, 128);
MINT_AT(struct mint_guest_area, wake_full, 136);
MINT_AT(struct mint_guest_area, wakes_done, 192);
MINT_AT(struct mint_guest_area, wakes_bad, 200);
MINT_AT(struct mint_guest_area, irqs_sent, 208);
MINT_AT(struct mint_guest_area, beat_seen_ns, 216);
MINT_AT(struct mint_guest_area, wake, 256);
MINT_STATIC_ASSERT(sizeof(struct mint_wake_slot) == 16, "wake slot");
MINT_AT(struct mint_wake_slot, off, 8);
MINT_STATIC_ASSERT(sizeof(struct mint_obj_entry) == 128, "object entry");
MINT_AT(struct mint_obj_entry, type, 4);
MINT_AT(struct mint_obj_entry, offset, 8);
MINT_AT(struct mint_obj_entry, size, 16);
MINT_AT(struct mint_obj_entry, flags, 24);
MINT_AT(struct mint_obj_entry, creator, 28);
MINT_AT(struct mint_obj_entry, name, 32);
MINT_AT(struct mint_obj_entry, created_ns, 96);
MINT_AT(struct mint_obj_entry, creator_pid, 104);
MINT_AT(struct mint_obj_entry, creator_pidns, 108);
MINT_AT(struct mint_obj_entry, creator_start, 112);
MINT_AT(struct mint_obj_entry, reserved, 120);
MINT_STATIC_ASSERT(sizeof(struct mint_ring_hdr) == 4 * MINT_CACHELINE, "ring header");
MINT_AT(struct mint_ring_hdr, version, 4);
MINT_AT(struct mint_ring_hdr, size, 8);
MINT_AT(struct mint_ring_hdr, max_record, 16);
MINT_AT(struct mint_ring_hdr, prod_node, 20);
MINT_AT(struct mint_ring_hdr, cons_node, 24);
MINT_AT(struct mint_ring_hdr, cons_vector, 28);
MINT_AT(struct mint_ring_hdr, tail, 64);
MINT_AT(struct mint_ring_hdr, space_bell, 72);
MINT_AT(struct mint_ring_hdr, full_events, 80);
MINT_AT(struct mint_ring_hdr, sent_records, 88);
MINT_AT(struct mint_ring_hdr, prod_errors, 96);
MINT_AT(struct mint_ring_hdr, head, 128);
MINT_AT(struct mint_ring_hdr, data_bell, 136);
MINT_AT(struct mint_ring_hdr, recv_records, 144);
MINT_AT(struct mint_ring_hdr, errors, 152);
MINT_STATIC_ASSERT(sizeof(struct mint_rec_hdr) == 8, "record header");
MINT_STATIC_ASSERT(sizeof(struct mint_channel_hdr) == MINT_CACHELINE, "channel header");
MINT_AT(struct mint_channel_hdr, node_a, 8);
MINT_AT(struct mint_channel_hdr, node_b, 12);
MINT_AT(struct mint_channel_hdr, ring_size, 16);
MINT_AT(struct mint_channel_hdr, a2b_off, 24);
MINT_AT(struct mint_channel_hdr, b2a_off, 32);
MINT_STATIC_ASSERT(MINT_HEAP_OFF == 0x49000, "heap offset");
MINT_STATIC_ASSERT(sizeof(struct mint_vni_port) == 4 * MINT_CACHELINE, "vni port");
MINT_AT(struct mint_vni_port, epoch, 4);
MINT_AT(struct mint_vni_port, mac, 8);
MINT_AT(struct mint_vni_port, ipv4, 16);
MINT_AT(struct mint_vni_port, prefix_len, 20);
MINT_AT(struct mint_vni_port, tx_packets, 64);
MINT_AT(struct mint_vni_port, tx_bytes, 72);
MINT_AT(struct mint_vni_port, tx_drop_full, 80);
MINT_AT(struct mint_vni_port, tx_drop_unknown, 88);
MINT_AT(struct mint_vni_port, tx_drop_down, 96);
MINT_AT(struct mint_vni_port, tx_drop_error, 104);
MINT_AT(struct mint_vni_port, tx_irqs, 112);
MINT_AT(struct mint_vni_port, tx_irqs_suppressed, 120);
MINT_AT(struct mint_vni_port, rx_packets, 128);
MINT_AT(struct mint_vni_port, rx_bytes, 136);
MINT_AT(struct mint_vni_port, rx_errors, 144);
MINT_AT(struct mint_vni_port, rx_drop_host, 152);
MINT_AT(struct mint_vni_port, rx_polls, 160);
MINT_AT(struct mint_vni_port, tx_drop_queue, 168);
MINT_AT(struct mint_vni_port, tx_drop_pool, 176);
MINT_AT(struct mint_vni_port, pool_reclaimed, 184);
MINT_AT(struct mint_vni_port, pool_errors, 192);
MINT_AT(struct mint_vni_hdr, version, 4);
MINT_AT(struct mint_vni_hdr, mode, 8);
MINT_AT(struct mint_vni_hdr, max_ports, 12);
MINT_AT(struct mint_vni_hdr, ring_size, 16);
MINT_AT(struct mint_vni_hdr, vnet_hdr_len, 24);
MINT_AT(struct mint_vni_hdr, mac_base, 28);
MINT_AT(struct mint_vni_hdr, pool_buffers, 36);
MINT_AT(struct mint_vni_hdr, ports, 64);
MINT_STATIC_ASSERT(sizeof(struct mint_vni_hdr) == 64 + MINT_VNI_MAX_PORTS * 256, "vni header");

MINT_STATIC_ASSERT(sizeof(struct mint_dev_entry) == 4 * MINT_CACHELINE, "device entry");
MINT_AT(struct mint_dev_entry, type, 4);
MINT_AT(struct mint_dev_entry, link, 8);
MINT_AT(struct mint_dev_entry, ifindex, 12);
MINT_AT(struct mint_dev_entry, route, 16);
MINT_AT(struct mint_dev_entry, move_phase, 24);
MINT_AT(struct mint_dev_entry, move_from, 28);
MINT_AT(struct mint_dev_entry, move_to, 32);
MINT_AT(struct mint_dev_entry, owner_epoch, 48);
MINT_AT(struct mint_dev_entry, mover_pid, 36);
MINT_AT(struct mint_dev_entry, mover_start, 40);
MINT_AT(struct mint_dev_entry, name, 64);
MINT_AT(struct mint_dev_entry, raised, 128);
MINT_AT(struct mint_dev_entry, masked_raises, 136);
MINT_AT(struct mint_dev_entry, pending_delivered, 144);
MINT_AT(struct mint_dev_entry, armed, 152);
MINT_AT(struct mint_dev_entry, doorbells, 160);
MINT_AT(struct mint_dev_entry, handled, 192);
MINT_AT(struct mint_dev_entry, busy, 200);
MINT_AT(struct mint_devtab_hdr, version, 4);
MINT_AT(struct mint_devtab_hdr, max_devs, 8);
MINT_AT(struct mint_devtab_hdr, generation, 16);
MINT_AT(struct mint_devtab_hdr, lock, 64);
MINT_AT(struct mint_devtab_hdr, devs, 128);
MINT_STATIC_ASSERT(sizeof(struct mint_devtab_hdr) == 128 + MINT_DEV_MAX * 256, "device table");
MINT_STATIC_ASSERT(sizeof(struct mint_vni_pool_hdr) == 3 * MINT_CACHELINE, "vni pool header");
MINT_AT(struct mint_vni_pool_hdr, version, 4);
MINT_AT(struct mint_vni_pool_hdr, nbuf, 8);
MINT_AT(struct mint_vni_pool_hdr, buf_size, 12);
MINT_AT(struct mint_vni_pool_hdr, qlen, 16);
MINT_AT(struct mint_vni_pool_hdr, nsmall, 20);
MINT_AT(struct mint_vni_pool_hdr, small_size, 24);
MINT_AT(struct mint_vni_pool_hdr, free_top, 64);
MINT_AT(struct mint_vni_pool_hdr, free_small, 72);
MINT_AT(struct mint_vni_pool_hdr, reclaim_lock, 128);
MINT_STATIC_ASSERT(sizeof(struct mint_vni_buf) == MINT_CACHELINE, "vni buffer descriptor");
MINT_AT(struct mint_vni_buf, refs, 4);
MINT_AT(struct mint_vni_buf, next, 8);
MINT_AT(struct mint_vni_buf, len, 12);
MINT_AT(struct mint_vni_buf, owner, 16);
MINT_AT(struct mint_vni_buf, epoch, 20);
MINT_STATIC_ASSERT(sizeof(struct mint_vni_addrq) == 3 * MINT_CACHELINE, "vni address queue");
MINT_AT(struct mint_vni_addrq, tail, 64);
MINT_AT(struct mint_vni_addrq, bytes_in, 72);
MINT_AT(struct mint_vni_addrq, head, 128);
MINT_AT(struct mint_vni_addrq, bell, 136);
MINT_AT(struct mint_vni_addrq, bytes_out, 144);
MINT_STATIC_ASSERT(MINT_VNI_BUF_SIZE == 65664, "vni pool buffer size");
MINT_STATIC_ASSERT(MINT_VNI_SMALL_SIZE % MINT_CACHELINE == 0 &&
		       MINT_VNI_SMALL_SIZE >= MINT_VNI_VNET_HDR + 14 + 1500 + 4,
	       "vni pool small buffer: whole lines, a 1500-byte MTU frame");
MINT_STATIC_ASSERT(sizeof(struct mint_nic_desc) == 16, "nic descriptor");
MINT_AT(struct mint_nic_desc, status_word, 8);
MINT_STATIC_ASSERT(sizeof(struct mint_nic_hdr) == 4 * MINT_CACHELINE, "nic header");
MINT_AT(struct mint_nic_hdr, version, 4);
MINT_AT(struct mint_nic_hdr, node, 8);
MINT_AT(struct mint_nic_hdr, vector, 12);
MINT_AT(struct mint_nic_hdr, ndesc, 16);
MINT_AT(struct mint_nic_hdr, buf_size, 20);
MINT_AT(struct mint_nic_hdr, desc_off, 24);
MINT_AT(struct mint_nic_hdr, buf_off, 32);
MINT_AT(struct mint_nic_hdr, mac, 40);
MINT_AT(struct mint_nic_hdr, ipv4, 48);
MINT_AT(struct mint_nic_hdr, prefix_len, 52);
MINT_AT(struct mint_nic_hdr, state, 56);
MINT_AT(struct mint_nic_hdr, epoch, 60);
MINT_AT(struct mint_nic_hdr, rdh, 64);
MINT_AT(struct mint_nic_hdr, rx_packets, 72);
MINT_AT(struct mint_nic_hdr, rx_bytes, 80);
MINT_AT(struct mint_nic_hdr, overruns, 88);
MINT_AT(struct mint_nic_hdr, irqs, 96);
MINT_AT(struct mint_nic_hdr, irqs_masked, 104);
MINT_AT(struct mint_nic_hdr, last_irq_ns, 112);
MINT_AT(struct mint_nic_hdr, dev_errors, 120);
MINT_AT(struct mint_nic_hdr, rdt, 128);
MINT_AT(struct mint_nic_hdr, ims, 196);
MINT_AT(struct mint_nic_hdr, itr_ns, 200);
MINT_AT(struct mint_nic_hdr, drv_packets, 144);
MINT_AT(struct mint_nic_hdr, drv_bytes, 152);
MINT_AT(struct mint_nic_hdr, drv_errors, 160);
MINT_AT(struct mint_nic_hdr, drv_bad, 168);
MINT_AT(struct mint_nic_hdr, drv_irqs, 176);
MINT_AT(struct mint_nic_hdr, drv_drops, 184);
MINT_AT(struct mint_nic_hdr, icr, 192);

MINT_END_DECLS

#endif
