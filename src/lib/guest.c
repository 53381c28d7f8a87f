/* SPDX-License-Identifier: MIT */
/* QEMU guest nodes: the fabric through mint_ivshmem.ko, and the host's
 * side of a guest (see mint/guest.h). */
#include "mint/guest.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "guest_internal.h"
#include "internal.h"
#include "le.h"
#include "mint/guest_abi.h"
#include "mint/node.h"

/* The driver's view of the layout must be this one. */
_Static_assert(MINT_ABI_NODE_TABLE == MINT_NODE_TABLE_OFF, "abi: node table");
_Static_assert(MINT_ABI_NODE_SIZE == sizeof(struct mint_node_entry), "abi: node size");
_Static_assert(MINT_ABI_NODE_PENDING == offsetof(struct mint_node_entry, pending), "abi");
_Static_assert(MINT_ABI_NODE_BELL == offsetof(struct mint_node_entry, bell), "abi: bell");
_Static_assert(MINT_ABI_NODE_KVEC_MASK == offsetof(struct mint_node_entry, kvec_mask), "abi");
_Static_assert(MINT_ABI_NODE_KPENDING == offsetof(struct mint_node_entry, kpending), "abi");
_Static_assert(MINT_ABI_NODE_KSEQ == offsetof(struct mint_node_entry, kseq), "abi: kseq");
_Static_assert(MINT_ABI_GUEST_WAKE_TAIL ==
		       offsetof(struct mint_node_entry, guest) +
			       offsetof(struct mint_guest_area, wake_tail), "abi: wake tail");
_Static_assert(MINT_ABI_GUEST_WAKE_FULL ==
		       offsetof(struct mint_node_entry, guest) +
			       offsetof(struct mint_guest_area, wake_full), "abi: wake full");
_Static_assert(MINT_ABI_GUEST_WAKE_SLOTS ==
		       offsetof(struct mint_node_entry, guest) + offsetof(struct mint_guest_area, wake),
	       "abi: wake slots");
_Static_assert(MINT_ABI_GUEST_WAKE_NSLOTS == MINT_GUEST_WAKE_SLOTS, "abi: wake slot count");

#define FABRIC_VEC_VNI 2u /* MINT_VEC_VNI -> MSI-X 1 */
#define FABRIC_VEC_NIC 3u /* MINT_VEC_NIC -> MSI-X 2 */

/* The fabric handles mapped through the driver (a process may map the
 * one device several times: the CLI, then the agent it runs).  A futex
 * wake or wait of the library gets only a word's address, hence a
 * process-wide table to find the mapping the word is in. */
#define GUEST_MAPS 8
static struct mint_fabric *_Atomic guest_maps[GUEST_MAPS];
static atomic_int guest_nmaps;

bool mint_in_guest(void)
{
	/* relaxed: set before any node of this process runs, and a process
	 * that ever mapped the device is inside a guest */
	return atomic_load_explicit(&guest_nmaps, memory_order_relaxed) > 0;
}

/* The guest mapping WORD is in (NULL: none, e.g. a private word). */
static struct mint_fabric *map_of(const void *word)
{
	for (unsigned i = 0; i < GUEST_MAPS; i++) {
		/* acquire: pairs with the release CAS publishing the handle */
		struct mint_fabric *f = atomic_load_explicit(&guest_maps[i], memory_order_acquire);
		if (f && (const uint8_t *)word >= f->base && (const uint8_t *)word < f->base + f->size)
			return f;
	}
	return NULL;
}

static struct mint_guest_area *area(struct mint_fabric *f, uint32_t id)
{
	struct mint_node_entry *e = mint_node_entry(f, id);
	return e ? &e->guest : NULL;
}

/* ---- inside the guest ---- */

int mint_guest_map(const char *path, int fd, struct mint_fabric **out)
{
	struct mint_ivshmem_info info;
	if (ioctl(fd, MINT_IVSHMEM_INFO, &info) != 0)
		return -EPROTO; /* a character device, but not ours */
	if (info.abi != MINT_IVSHMEM_ABI || info.size < MINT_FABRIC_MIN_SIZE ||
	    info.id >= MINT_MAX_NODES)
		return -EPROTO;
	struct mint_fabric *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	void *base = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		int err = -errno;
		free(f);
		return err;
	}
	*f = (struct mint_fabric){.base = base, .size = info.size, .fd = fd, .self = MINT_NODE_NONE,
				  .guest_id = info.id};
	snprintf(f->path, sizeof(f->path), "%s", path);
	/* BAR2 cannot shrink under us, but a peer may write the header:
	 * check a copy, and keep that copy for mint_fabric_heal. */
	struct mint_fabric_hdr h;
	memcpy(&h, base, sizeof(h));
	int rc = mint_fabric_check_header(&h, info.size);
	memcpy(f->hdr_copy, &h, HDR_CONST_BYTES);
	unsigned slot = 0;
	for (struct mint_fabric *none = NULL; rc == 0 && slot < GUEST_MAPS; slot++, none = NULL)
		if (atomic_compare_exchange_strong(&guest_maps[slot], &none, f))
			break;
	if (rc == 0 && slot == GUEST_MAPS)
		rc = -EMFILE;
	if (rc == 0)
		atomic_store_explicit(&guest_nmaps, 1, memory_order_relaxed);
	if (rc) {
		munmap(base, info.size);
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

void mint_guest_unmap(struct mint_fabric *f)
{
	for (unsigned i = 0; i < GUEST_MAPS; i++) {
		struct mint_fabric *me = f;
		atomic_compare_exchange_strong(&guest_maps[i], &me, NULL);
	}
}

/* Queue the wake of the futex word at OFF and ring the server. */
static int queue_wake(struct mint_fabric *f, uint64_t off)
{
	struct mint_guest_area *g = area(f, f->guest_id);
	int rc = -ENOSPC;
	for (unsigned tries = 0; tries < MINT_GUEST_WAKE_SLOTS; tries++) {
		uint64_t pos = ald64(&g->wake_tail, memory_order_relaxed);
		struct mint_wake_slot *s = &g->wake[pos % MINT_GUEST_WAKE_SLOTS];
		/* acquire: pairs with the server's release store freeing it */
		uint64_t seq = ald64(&s->seq, memory_order_acquire);
		if (seq == pos) {
			if (!acas64(&g->wake_tail, &pos, pos + 1, memory_order_relaxed))
				continue;
			ast64(&s->off, off, memory_order_relaxed);
			/* release: the offset before the seq that hands the slot
			 * to the server (its acquire load of seq) */
			ast64(&s->seq, pos + 1, memory_order_release);
			rc = 0;
			break;
		}
		if (seq < pos)
			break; /* full: the server has not taken the oldest yet */
	}
	if (rc)
		aadd64(&g->wake_full, 1, memory_order_relaxed);
	struct mint_ivshmem_ring r = {MINT_IVSHMEM_SERVER_PEER, MINT_IVSHMEM_MSIX_NODE};
	if (ioctl(f->fd, MINT_IVSHMEM_RING, &r) != 0)
		return -errno;
	return rc;
}

int mint_guest_wake(_Atomic uint32_t *word)
{
	struct mint_fabric *f = map_of(word);
	return f ? queue_wake(f, mint_fabric_off(f, (void *)word)) : -EFAULT;
}

/* Sleep on the driver until a vector fires or TIMEOUT_NS (-1: none). */
static int sleep_on_driver(struct mint_fabric *f, int64_t timeout_ns)
{
	struct pollfd p = {f->fd, POLLIN, 0};
	int ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);
	int n = poll(&p, 1, ms);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	uint64_t fired;
	/* Consume what fired: a fired vector means "look", never a count. */
	return read(f->fd, &fired, sizeof(fired)) < 0 && errno != EAGAIN ? -errno : 0;
}

int mint_guest_wait(_Atomic uint32_t *word, uint32_t raw_expected, int64_t timeout_ns)
{
	struct mint_fabric *f = map_of(word);
	if (!f)
		return -EFAULT;
	struct mint_node_entry *me = mint_node_entry(f, f->guest_id);
	/* Only the node's own bell is turned into an interrupt by the server;
	 * any other word is looked at again every slice. */
	bool interrupting = word == &me->bell.seq;
	int64_t slice = interrupting ? timeout_ns : MINT_GUEST_WAIT_SLICE_NS;
	if (timeout_ns >= 0 && timeout_ns < slice)
		slice = timeout_ns;
	/* relaxed: like the futex's own compare, a hint re-checked by the caller */
	if (atomic_load_explicit(word, memory_order_relaxed) != raw_expected)
		return 0;
	int rc = sleep_on_driver(f, slice);
	return rc == -ETIMEDOUT && slice != timeout_ns ? 0 : rc;
}

void mint_guest_fill_identity(struct mint_node_entry *e)
{
	struct mint_guest_area *g = &e->guest;
	/* The pid peers judge us by is QEMU's, recorded by the host. */
	wr32((uint32_t *)&e->pid, (uint32_t)g->qemu_pid);
	wr64(&e->pid_start, rd64(&g->qemu_start));
	wr32(&e->flags, MINT_NODE_GUEST);
	struct utsname u;
	memset(g->kernel, 0, sizeof(g->kernel));
	if (uname(&u) == 0)
		mint_copy_name(g->kernel, u.release, sizeof(g->kernel));
}

bool mint_guest_sees_alive(const struct mint_node_entry *e)
{
	if (!(rd32(&e->flags) & MINT_NODE_GUEST))
		return true;
	const struct mint_guest_area *g = &e->guest;
	/* acquire: pairs with the release store of magic in prepare */
	int32_t qemu = (int32_t)ald32((const _Atomic uint32_t *)&g->qemu_pid, memory_order_acquire);
	return ald32(&g->magic, memory_order_acquire) == MINT_GUEST_MAGIC && qemu != 0 &&
	       (int32_t)rd32((const uint32_t *)&e->pid) == qemu;
}

/* ---- on the host ---- */

int mint_guest_prepare(struct mint_fabric *f, uint32_t id, int32_t qemu_pid, uint32_t arch)
{
	struct mint_guest_area *g = area(f, id);
	if (!g)
		return -ERANGE;
	if (mint_node_alive(f, id))
		return -EBUSY;
	wr32((uint32_t *)&g->qemu_pid, (uint32_t)qemu_pid);
	wr64(&g->qemu_start, mint_pid_start(qemu_pid));
	wr32(&g->arch, arch);
	wr32(&g->version, MINT_GUEST_VERSION);
	wr64(&g->start_ns, mint_now_ns(CLOCK_REALTIME));
	memset(g->kernel, 0, sizeof(g->kernel));
	ast64(&g->beat_seen_ns, 0, memory_order_relaxed);
	ast64(&g->wake_tail, 0, memory_order_relaxed);
	for (uint64_t i = 0; i < MINT_GUEST_WAKE_SLOTS; i++)
		ast64(&g->wake[i].seq, i, memory_order_relaxed);
	/* release: the fields above before the magic the server looks for
	 * (its acquire load in mint_guest_by_pid) */
	ast32(&g->magic, MINT_GUEST_MAGIC, memory_order_release);
	return 0;
}

int mint_guest_forget(struct mint_fabric *f, uint32_t id)
{
	struct mint_guest_area *g = area(f, id);
	if (!g)
		return -ERANGE;
	ast32(&g->magic, 0, memory_order_relaxed);
	return 0;
}

int mint_guest_gone(struct mint_fabric *f, uint32_t id, int32_t qemu_pid)
{
	struct mint_guest_area *g = area(f, id);
	if (!g)
		return -ERANGE;
	/* Only that QEMU's record: a new one may have been prepared already.
	 * release: pairs with the acquire load in mint_guest_sees_alive. */
	uint32_t was = (uint32_t)qemu_pid;
	return acas32((_Atomic uint32_t *)&g->qemu_pid, &was, 0, memory_order_release) ? 0 : -ESTALE;
}

int mint_guest_info(struct mint_fabric *f, uint32_t id, struct mint_guest_info *info)
{
	struct mint_guest_area *g = area(f, id);
	if (!g)
		return -ERANGE;
	memset(info, 0, sizeof(*info));
	/* acquire: pairs with the release store of magic in prepare */
	info->guest = ald32(&g->magic, memory_order_acquire) == MINT_GUEST_MAGIC;
	if (!info->guest)
		return 0;
	info->qemu_pid = (int32_t)rd32((const uint32_t *)&g->qemu_pid);
	info->qemu_start = rd64(&g->qemu_start);
	info->arch = rd32(&g->arch);
	mint_copy_name(info->kernel, g->kernel, sizeof(info->kernel));
	info->wakes_done = ald64(&g->wakes_done, memory_order_relaxed);
	info->wakes_bad = ald64(&g->wakes_bad, memory_order_relaxed);
	info->wake_full = ald64(&g->wake_full, memory_order_relaxed);
	info->irqs_sent = ald64(&g->irqs_sent, memory_order_relaxed);
	return 0;
}

void mint_guest_note_beat(struct mint_fabric *f, uint32_t id, uint64_t *last)
{
	struct mint_node_entry *e = mint_node_entry(f, id);
	if (!e)
		return;
	/* relaxed: only compared; a timestamp the guest writes on its own */
	uint64_t beat = ald64(&e->heartbeat_ns, memory_order_relaxed);
	if (beat == *last)
		return;
	*last = beat;
	ast64(&e->guest.beat_seen_ns, mint_now_ns(CLOCK_MONOTONIC), memory_order_relaxed);
}

uint64_t mint_guest_beat_age(const struct mint_node_entry *e)
{
	uint64_t seen = ald64(&e->guest.beat_seen_ns, memory_order_relaxed);
	uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
	return seen && now > seen ? now - seen : 0;
}

int mint_guest_by_pid(struct mint_fabric *f, int32_t pid)
{
	struct mint_guest_info info;
	for (uint32_t id = 0; id < MINT_MAX_NODES; id++)
		if (mint_guest_info(f, id, &info) == 0 && info.guest && info.qemu_pid == pid)
			return (int)id;
	return -ENOENT;
}

/* Is OFF a futex word the server may wake for a guest? */
static bool wake_ok(struct mint_fabric *f, uint64_t off)
{
	return off % 4 == 0 && mint_fabric_at(f, off, 4) != NULL;
}

int mint_guest_serve_wakes(struct mint_fabric *f, uint32_t id, uint64_t *head)
{
	struct mint_guest_area *g = area(f, id);
	if (!g)
		return -ERANGE;
	/* The position is the server's own (never read back from the
	 * fabric): a guest scribbling on its queue only stalls its wakes. */
	int taken = 0;
	for (; taken < (int)MINT_GUEST_WAKE_SLOTS; taken++) {
		uint64_t pos = *head;
		struct mint_wake_slot *s = &g->wake[pos % MINT_GUEST_WAKE_SLOTS];
		/* acquire: pairs with the producer's release store of seq */
		if (ald64(&s->seq, memory_order_acquire) != pos + 1)
			break;
		uint64_t off = ald64(&s->off, memory_order_relaxed);
		/* release: our read of off before the slot is reused (the
		 * producer's acquire load of seq) */
		ast64(&s->seq, pos + MINT_GUEST_WAKE_SLOTS, memory_order_release);
		*head = pos + 1;
		if (!wake_ok(f, off)) {
			own_inc64(&g->wakes_bad, 1);
			continue;
		}
		mint_futex_wake((_Atomic uint32_t *)mint_fabric_at(f, off, 4));
		own_inc64(&g->wakes_done, 1);
	}
	return taken;
}

_Atomic uint32_t *mint_guest_bell_seq(struct mint_fabric *f, uint32_t id)
{
	struct mint_node_entry *e = mint_node_entry(f, id);
	return e ? &e->bell.seq : NULL;
}

_Atomic uint32_t *mint_guest_kseq(struct mint_fabric *f, uint32_t id)
{
	struct mint_node_entry *e = mint_node_entry(f, id);
	return e ? &e->kseq : NULL;
}

uint32_t mint_guest_kernel_vectors(struct mint_fabric *f, uint32_t id)
{
	struct mint_node_entry *e = mint_node_entry(f, id);
	if (!e)
		return 0;
	/* acquire: pairs with the senders' seq_cst fetch_or of kpending, so
	 * what they published is visible to the guest we interrupt next */
	uint64_t k = ald64(&e->kpending, memory_order_acquire) &
		     ald64(&e->kvec_mask, memory_order_relaxed);
	uint32_t msix = 0;
	if (k & (1ull << FABRIC_VEC_VNI))
		msix |= 1u << MINT_IVSHMEM_MSIX_VNI;
	if (k & (1ull << FABRIC_VEC_NIC))
		msix |= 1u << MINT_IVSHMEM_MSIX_NIC;
	return msix;
}

void mint_guest_count_irqs(struct mint_fabric *f, uint32_t id, uint64_t interrupts)
{
	struct mint_guest_area *g = area(f, id);
	if (g)
		own_inc64(&g->irqs_sent, interrupts);
}

/* A raise of a vector node E's guest kernel owns: the kpending bit, and a
 * wake of kseq on its 0->1 edge only (see guest/kmod/mint_ivshmem.h). */
int mint_guest_raise_kernel(struct mint_node_entry *e, uint32_t vector)
{
	/* seq_cst: publishes the sender's data before the bit the server
	 * reads (acquire in mint_guest_kernel_vectors) */
	if (aor64(&e->kpending, 1ull << vector, memory_order_seq_cst) & (1ull << vector))
		return 0;
	/* release: pairs with the server's acquire load of kseq */
	aadd32(&e->kseq, 1, memory_order_release);
	mint_futex_wake(&e->kseq);
	return 1;
}
