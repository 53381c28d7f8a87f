/* SPDX-License-Identifier: MIT */
/*
 * The user-space interface of the guest driver mint_ivshmem.ko
 * (guest/kmod/), shared by the driver and libmint: one header, so the two
 * cannot disagree.  It builds in the kernel and in user space (only
 * <linux/types.h> and <linux/ioctl.h>).
 *
 * /dev/mint_ivshmem is the fabric as seen by a QEMU guest: BAR2 of the
 * ivshmem-doorbell device.
 *   mmap     offset 0, up to `size` bytes: the fabric (write-back cached)
 *   read     8 bytes: a __u64 mask of MSI-X vectors that fired since this
 *            open file last read (vectors a kernel driver claimed never
 *            show); blocks unless O_NONBLOCK (then -EAGAIN)
 *   poll     POLLIN while read would not block
 *   ioctl    MINT_IVSHMEM_INFO, MINT_IVSHMEM_RING below
 * A vector fired means "look at the fabric": interrupts merge, they are
 * never a count.
 */
#ifndef MINT_GUEST_ABI_H
#define MINT_GUEST_ABI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define MINT_IVSHMEM_DEV "/dev/mint_ivshmem"
#define MINT_IVSHMEM_ABI 1u

/* MSI-X vector roles (the device has MINT_IVSHMEM_NVEC vectors). */
#define MINT_IVSHMEM_MSIX_NODE 0u /* node doorbell: the node agent */
#define MINT_IVSHMEM_MSIX_VNI 1u  /* mint_vni.ko */
#define MINT_IVSHMEM_MSIX_NIC 2u  /* mint_nic.ko */
#define MINT_IVSHMEM_NVEC 3u

/* The ivshmem peer id of mint's server (node ids are 0..63): a guest
 * rings it to have the host futex-wake what it queued (see layout.h,
 * struct mint_guest_area). */
#define MINT_IVSHMEM_SERVER_PEER 64u

struct mint_ivshmem_info {
	__u64 size;    /* BAR2 bytes: the fabric's size */
	__u32 id;      /* IVPosition: this guest's peer id = its node id */
	__u32 vectors; /* MSI-X vectors enabled */
	__u32 abi;     /* MINT_IVSHMEM_ABI */
	__u32 pad;
};

struct mint_ivshmem_ring {
	__u32 peer;    /* ivshmem peer id, < 65536 */
	__u32 vector;  /* the peer's vector, < MINT_IVSHMEM_NVEC */
};

/*
 * Offsets of the fabric words the guest kernel touches (no <stdatomic.h>
 * in the kernel, so not struct mint_node_entry itself): pinned against
 * include/mint/layout.h by src/lib/guest.c.  Node N's entry is at
 * MINT_ABI_NODE_TABLE + N * MINT_ABI_NODE_SIZE.
 */
#define MINT_ABI_NODE_TABLE 4096u
#define MINT_ABI_NODE_SIZE 4096u
#define MINT_ABI_NODE_PENDING 256u   /* __u64[4]: doorbell vectors pending */
#define MINT_ABI_NODE_BELL 288u      /* __u32 sleeping, __u32 seq */
#define MINT_ABI_NODE_KVEC_MASK 296u /* __u64: vectors a guest kernel owns */
#define MINT_ABI_NODE_KPENDING 304u  /* __u64: those vectors pending */
#define MINT_ABI_NODE_KSEQ 312u      /* __u32: bumped on a 0->1 of kpending */
#define MINT_ABI_GUEST_WAKE_TAIL 2688u  /* __u64: wake queue producers */
#define MINT_ABI_GUEST_WAKE_FULL 2696u  /* __u64: wakes dropped, queue full */
#define MINT_ABI_GUEST_WAKE_SLOTS 2816u /* {__u64 seq, __u64 off}[64] */
#define MINT_ABI_GUEST_WAKE_NSLOTS 64u

#define MINT_IVSHMEM_IOC_MAGIC 0xb7
#define MINT_IVSHMEM_INFO _IOR(MINT_IVSHMEM_IOC_MAGIC, 1, struct mint_ivshmem_info)
#define MINT_IVSHMEM_RING _IOW(MINT_IVSHMEM_IOC_MAGIC, 2, struct mint_ivshmem_ring)

#endif
