/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mint_ivshmem.ko's in-kernel API: what the other guest drivers of the
 * fabric (mint_vni.ko, mint_nic.ko) build on.  One ivshmem-doorbell
 * device per guest; its BAR2 is the whole fabric, this guest is node
 * `mint_ivshmem_id()`.
 *
 * MSI-X vector roles (include/mint/guest_abi.h):
 *   MINT_IVSHMEM_MSIX_NODE (0)  the node agent in user space (read/poll)
 *   MINT_IVSHMEM_MSIX_VNI  (1)  mint_vni.ko
 *   MINT_IVSHMEM_MSIX_NIC  (2)  mint_nic.ko
 *
 * How a fabric doorbell reaches a kernel-owned MSI-X vector.  Fabric
 * vectors MINT_VEC_VNI (2) and MINT_VEC_NIC (3) of a node are normally
 * dispatched by its agent.  When a driver claims MSI-X vector 1 (or 2),
 * this module sets bit 2 (or 3) in the node entry's `kvec_mask`; from then
 * on mint_ipi_send() of that fabric vector, on the host or in any guest,
 * does not touch the agent's pending set.  Instead it sets the bit in
 * `kpending` and, only when the bit was clear (a 0->1 edge: raises merge
 * until the driver takes the bit), bumps `kseq` and wakes it: a futex wake
 * on the host, or from a guest through its wake queue and the server.
 * mint's ivshmem server futex-waits on every guest's `kseq`; on a change
 * it writes the eventfd of MSI-X vector 1 for bit 2 and of vector 2 for
 * bit 3 (for each bit set in kpending & kvec_mask).  The claimed handler
 * runs in hard-irq context; it must call mint_ivshmem_kvec_take() for its
 * fabric vector (which clears the bit, so the next raise interrupts
 * again) before looking at its rings, then drain them (NAPI).
 */
#ifndef MINT_IVSHMEM_H
#define MINT_IVSHMEM_H

#include <linux/interrupt.h>
#include <linux/types.h>

#include "mint/guest_abi.h"

struct mint_ivshmem;

/* Hard-irq handler of a claimed MSI-X vector. */
typedef irqreturn_t (*mint_ivshmem_handler_t)(struct mint_ivshmem *iv, void *arg);

/* A reference to the bound device, or ERR_PTR(-ENODEV) if none is bound
 * yet (modules loaded before the device probed: retry or fail). */
struct mint_ivshmem *mint_ivshmem_get(void);
void mint_ivshmem_put(struct mint_ivshmem *iv);

/* The fabric: BAR2 mapped write-back, and its size. */
void *mint_ivshmem_base(struct mint_ivshmem *iv);
size_t mint_ivshmem_size(struct mint_ivshmem *iv);

/* This guest's node id (the device's IVPosition). */
u32 mint_ivshmem_id(struct mint_ivshmem *iv);

/* Ring ivshmem peer PEER (a node id, or MINT_IVSHMEM_SERVER_PEER) on its
 * MSI-X vector VECTOR through the BAR0 doorbell: -EINVAL if out of range.
 * Any context. */
int mint_ivshmem_ring(struct mint_ivshmem *iv, u32 peer, u32 vector);

/* Route MSI-X vector VECTOR (MINT_IVSHMEM_MSIX_VNI or _NIC) to FN(ARG)
 * and mark its fabric vector kernel-owned (see above).  -EINVAL for
 * another vector, -EBUSY if claimed, -ENXIO if the device enabled fewer
 * vectors.  Process context. */
int mint_ivshmem_claim(struct mint_ivshmem *iv, u32 vector, mint_ivshmem_handler_t fn,
		       void *arg);
/* Undo it; on return FN runs nowhere.  Process context. */
void mint_ivshmem_release(struct mint_ivshmem *iv, u32 vector);

/* Take this node's kernel-pending bit of FABRIC_VECTOR (2 or 3): true if
 * it was set.  Any context. */
bool mint_ivshmem_kvec_take(struct mint_ivshmem *iv, u32 fabric_vector);

/* mint_ipi_send() from the guest kernel: raise fabric vector VECTOR
 * (< 256) on node NODE (< 64), waking it only if it sleeps.  0, or
 * -EINVAL.  Any context. */
int mint_ivshmem_ipi(struct mint_ivshmem *iv, u32 node, u32 vector);

/* Have the host futex-wake the 32-bit fabric word at OFF (4-aligned):
 * what a guest does where a host process would call futex(FUTEX_WAKE).
 * 0, -EINVAL, or -ENOSPC when the wake queue is full (counted in the
 * fabric; waiters re-check on their own timeouts).  Any context. */
int mint_ivshmem_wake(struct mint_ivshmem *iv, u64 off);

#endif
