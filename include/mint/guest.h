/* SPDX-License-Identifier: MIT */
/*
 * QEMU guest nodes: a separate kernel that maps the fabric as its
 * ivshmem-doorbell BAR2 through the guest driver mint_ivshmem.ko.
 *
 * Inside a guest, mint_fabric_attach("/dev/mint_ivshmem") maps the fabric
 * through the driver; the same library then works unchanged, except that
 * it cannot make host futex calls: a futex wake is queued in the guest's
 * wake queue and the server is rung (its BAR0 doorbell) to make it, and a
 * wait sleeps on the driver (MSI-X vector 0, which the server raises when
 * the node's bell is woken) or, for other bells, in slices of
 * MINT_GUEST_WAIT_SLICE_NS.  On the host, the functions below serve
 * `mint guest` and mint's ivshmem server.
 */
#ifndef MINT_GUEST_H
#define MINT_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/api.h"
#include "mint/fabric.h"

MINT_BEGIN_DECLS

/* A guest's wait on a bell other than its node's: nobody interrupts it,
 * so it re-checks this often. */
#define MINT_GUEST_WAIT_SLICE_NS 1000000ll

/* Is this process's fabric mapped through the guest driver? */
bool mint_in_guest(void);

/* Host: make node ID's entry a guest's before its QEMU (pid QEMU_PID,
 * architecture ARCH as an ELF machine) connects: records the pid (the
 * server identifies the QEMU by it, peers judge liveness by it) and
 * empties the wake queue.  -ERANGE, -EBUSY if node ID is alive. */
int mint_guest_prepare(struct mint_fabric *f, uint32_t id, int32_t qemu_pid, uint32_t arch);

/* Host: forget that node ID is a guest (its QEMU is gone).  -ERANGE. */
int mint_guest_forget(struct mint_fabric *f, uint32_t id);

/* Server: guest ID's QEMU QEMU_PID is gone (its connection closed), so
 * that guests, which cannot look at host pids, see the node dead.
 * -ESTALE if the entry already records another QEMU, -ERANGE. */
int mint_guest_gone(struct mint_fabric *f, uint32_t id, int32_t qemu_pid);

struct mint_guest_info {
	bool guest;              /* the entry is a guest's (prepared or joined) */
	int32_t qemu_pid;
	uint64_t qemu_start;
	uint32_t arch;
	char kernel[64];         /* the guest kernel's release, once joined */
	uint64_t wakes_done, wakes_bad, wake_full, irqs_sent;
};
int mint_guest_info(struct mint_fabric *f, uint32_t id, struct mint_guest_info *info);

/* Server (and `mint guest start` at the join): if node ID's heartbeat
 * word differs from *LAST (UINT64_MAX: always), remember it in *LAST and
 * record the host's CLOCK_MONOTONIC as the time it was last seen
 * changing.  The host measures a guest's heartbeat age from that record
 * (mint_node_info), never from the word itself, which the guest writes
 * with its own clock. */
void mint_guest_note_beat(struct mint_fabric *f, uint32_t id, uint64_t *last);

/* Host: the node whose entry records QEMU pid PID, or -ENOENT. */
int mint_guest_by_pid(struct mint_fabric *f, int32_t pid);

/* Server: make the futex wakes guest ID queued (at most a queue's worth),
 * refusing offsets outside the fabric or not 4-aligned.  *HEAD is the
 * server's own queue position (0 when the guest's QEMU connected, after
 * mint_guest_prepare).  Returns the number of entries taken, or -ERANGE. */
int mint_guest_serve_wakes(struct mint_fabric *f, uint32_t id, uint64_t *head);

/* Server: the words a guest's interrupts come from: node ID's bell
 * sequence (MSI-X vector 0) and its kernel sequence (kseq).  NULL for a
 * bad id. */
MINT_ATOMIC(uint32_t) *mint_guest_bell_seq(struct mint_fabric *f, uint32_t id);
MINT_ATOMIC(uint32_t) *mint_guest_kseq(struct mint_fabric *f, uint32_t id);

/* Server: the MSI-X vectors whose kernel-owned fabric vectors are pending
 * on node ID now (bit 1: VNI, bit 2: NIC); counts INTERRUPTS sent. */
uint32_t mint_guest_kernel_vectors(struct mint_fabric *f, uint32_t id);
void mint_guest_count_irqs(struct mint_fabric *f, uint32_t id, uint64_t interrupts);

MINT_END_DECLS

#endif
