/* SPDX-License-Identifier: MIT */
/*
 * The host side of guest nodes, without QEMU: a guest entry prepared for
 * a QEMU pid is found by it and judged alive by it; the server's drain
 * of a guest's wake queue wakes a real futex waiter, refuses offsets
 * outside the fabric or unaligned, and stops at a slot a hostile guest
 * left inconsistent; a vector a guest kernel owns is routed to kpending
 * with one kseq bump per 0->1 edge, never to the agent's pending set; a
 * process node joining the id clears the ownership.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "testlib.h"

/* The guest's side of the queue, as the guest library writes it. */
static void guest_queue(struct mint_fabric *f, uint32_t id, uint64_t off)
{
	struct mint_guest_area *g = &mint_node_entry(f, id)->guest;
	uint64_t pos = atomic_load(&g->wake_tail);
	struct mint_wake_slot *s = &g->wake[pos % MINT_GUEST_WAKE_SLOTS];
	CHECK_EQ(atomic_load(&s->seq), pos);
	atomic_store(&g->wake_tail, pos + 1);
	atomic_store(&s->off, mint_le64(off));
	atomic_store(&s->seq, mint_le64(pos + 1));
}

static void sleep_long(void *arg)
{
	(void)arg;
	pause();
}

static void test_prepare_and_liveness(void)
{
	struct mint_fabric *f = t_fabric(0);
	pid_t kid = t_spawn(sleep_long, NULL); /* stands for QEMU */
	CHECK_EQ(mint_guest_prepare(f, 3, kid, 183), 0);
	CHECK_EQ(mint_guest_by_pid(f, kid), 3);
	CHECK_EQ(mint_guest_by_pid(f, kid + 100000), -ENOENT);
	struct mint_guest_info gi;
	CHECK_EQ(mint_guest_info(f, 3, &gi), 0);
	CHECK(gi.guest && gi.qemu_pid == kid && gi.arch == 183);
	/* The guest's agent joins as it does inside the guest: QEMU's pid. */
	struct mint_node_entry *e = mint_node_entry(f, 3);
	e->pid = kid;
	e->pid_start = gi.qemu_start;
	e->flags = MINT_NODE_GUEST;
	e->heartbeat_ns = 1; /* another kernel's clock: never looked at */
	atomic_store(&e->state, MINT_NODE_UP);
	CHECK(!mint_node_same_kernel(e));
	CHECK(mint_node_alive(f, 3));
	kill(kid, SIGKILL);
	t_wait_child(kid);
	CHECK(!mint_node_alive(f, 3));
	CHECK_EQ(mint_guest_forget(f, 3), 0);
	CHECK_EQ(mint_guest_info(f, 3, &gi), 0);
	CHECK(!gi.guest);
	CHECK_EQ(mint_guest_prepare(f, MINT_MAX_NODES, 1, 62), -ERANGE);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

struct waiter {
	_Atomic uint32_t *word;
	atomic_int woke;
};

static void *wait_word(void *arg)
{
	struct waiter *w = arg;
	syscall(SYS_futex, w->word, FUTEX_WAIT, 0, NULL, NULL, 0);
	atomic_store(&w->woke, 1);
	return NULL;
}

static void test_wake_queue(void)
{
	struct mint_fabric *f = t_fabric(0);
	CHECK_EQ(mint_guest_prepare(f, 1, getpid(), 62), 0);
	_Atomic uint32_t *word = mint_fabric_at(f, MINT_HEAP_OFF, 4);
	struct waiter w = {word, 0};
	pthread_t th;
	pthread_create(&th, NULL, wait_word, &w);
	t_sleep_us(50000);
	uint64_t head = 0;
	guest_queue(f, 1, MINT_HEAP_OFF + 1);        /* unaligned */
	guest_queue(f, 1, mint_fabric_size(f));      /* past the end */
	guest_queue(f, 1, ~0ull - 2);                /* wraps */
	guest_queue(f, 1, MINT_HEAP_OFF);            /* the real one */
	CHECK_EQ(mint_guest_serve_wakes(f, 1, &head), 4);
	CHECK_EQ(head, 4);
	/* The word never changed: only the server's futex wake ends the wait. */
	for (int ms = 0; ms < 2000 && !atomic_load(&w.woke); ms++)
		t_sleep_us(1000);
	CHECK_EQ(atomic_load(&w.woke), 1);
	atomic_store(word, 1);
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
	pthread_join(th, NULL);
	struct mint_guest_info gi;
	mint_guest_info(f, 1, &gi);
	CHECK_EQ(gi.wakes_bad, 3);
	CHECK_EQ(gi.wakes_done, 1);
	/* Nothing queued: nothing taken.  A slot whose seq a hostile guest
	 * scribbled on stops the drain there, and only there. */
	CHECK_EQ(mint_guest_serve_wakes(f, 1, &head), 0);
	struct mint_guest_area *g = &mint_node_entry(f, 1)->guest;
	atomic_store(&g->wake[head % MINT_GUEST_WAKE_SLOTS].seq, mint_le64(12345));
	CHECK_EQ(mint_guest_serve_wakes(f, 1, &head), 0);
	CHECK_EQ(head, 4);
	/* A full queue's worth, then more: one pass takes at most a queue. */
	mint_guest_prepare(f, 1, getpid(), 62);
	head = 0;
	for (unsigned i = 0; i < MINT_GUEST_WAKE_SLOTS; i++)
		guest_queue(f, 1, MINT_HEAP_OFF);
	CHECK_EQ(mint_guest_serve_wakes(f, 1, &head), (int)MINT_GUEST_WAKE_SLOTS);
	CHECK_EQ(mint_guest_serve_wakes(f, 99, &head), -ERANGE);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

static void test_kernel_vectors(void)
{
	struct mint_fabric *f = t_fabric(0);
	struct mint_node_entry *e = mint_node_entry(f, 2);
	/* As mint_ivshmem_claim does for MSI-X vector 1 (the VNI driver). */
	atomic_store(&e->kvec_mask, mint_le64(1ull << MINT_VEC_VNI));
	uint32_t k0 = mint_le32(atomic_load(&e->kseq));
	CHECK_EQ(mint_ipi_send(f, 2, MINT_VEC_VNI), 1);
	CHECK_EQ(mint_ipi_send(f, 2, MINT_VEC_VNI), 0); /* merged: still pending */
	CHECK_EQ(mint_le32(atomic_load(&e->kseq)), k0 + 1);
	CHECK_EQ(mint_le64(atomic_load(&e->pending[0])), 0);
	CHECK_EQ(mint_guest_kernel_vectors(f, 2), 1u << 1);
	/* Not owned: the agent's vector as before. */
	CHECK_EQ(mint_ipi_send(f, 2, MINT_VEC_NIC), 0);
	CHECK(mint_le64(atomic_load(&e->pending[0])) & (1ull << MINT_VEC_NIC));
	CHECK_EQ(mint_guest_kernel_vectors(f, 2), 1u << 1);
	/* The driver takes the bit; the next raise is an edge again. */
	atomic_fetch_and(&e->kpending, ~mint_le64(1ull << MINT_VEC_VNI));
	CHECK_EQ(mint_ipi_send(f, 2, MINT_VEC_VNI), 1);
	CHECK_EQ(mint_le32(atomic_load(&e->kseq)), k0 + 2);
	/* A process node joining the id owns all its vectors again. */
	CHECK_EQ(t_join(f, 2, NULL), 0);
	CHECK_EQ(mint_le64(atomic_load(&e->kvec_mask)), 0);
	mint_node_leave(f);
	mint_fabric_detach(f);
	t_fabric_cleanup();
}

int main(void)
{
	t_start("test_guest", 60);
	RUN(test_prepare_and_liveness);
	RUN(test_wake_queue);
	RUN(test_kernel_vectors);
	return t_done();
}
