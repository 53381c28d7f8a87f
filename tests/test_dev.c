/* SPDX-License-Identifier: MIT */
/*
 * The device table: registration, raise and consume, mask and unmask;
 * raises coalescing into an unconsumed doorbell, re-armed by consume,
 * move and unmask;
 * moves refused for an unknown device, an unknown or dead node, a VNI
 * port, or a device another live process is moving, each leaving the
 * table unchanged; a mover that dies after its intent (rolled back) or
 * after its switch (finished) by the next operation; an owner that dies
 * (orphaned, pending kept, movable); detach refused for a VNI port or
 * NIC ring, and an undone move of a detached device leaves it detached;
 * an owner killed inside its handler and restarted unseen does not block
 * later moves; and under load: one thread raises as
 * fast as it can while another moves the device between two dispatching
 * nodes 100 times: every interrupt handled once; and rounds of moves
 * under two raisers, each followed by spaced raises that must all reach
 * the owner (no device left coalescing into a doorbell nobody consumes).
 */
#include <pthread.h>

#include "testlib.h"

#define VEC 40u

static struct mint_fabric *node_handle(uint32_t id)
{
	struct mint_fabric *g = t_attach();
	if (!g || t_join(g, id, NULL) != 0) {
		fprintf(stderr, "cannot join node %u\n", id);
		exit(1);
	}
	return g;
}

static struct mint_dev_info info_of(struct mint_fabric *f, int id)
{
	struct mint_dev_info in;
	memset(&in, 0, sizeof(in));
	CHECK_EQ(mint_dev_info(f, (uint32_t)id, &in), 0);
	return in;
}

static void test_register_raise_consume(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct mint_fabric *n1 = node_handle(1);
	CHECK_EQ(mint_dev_find(f, "nic0"), -ENOENT);
	int id = mint_dev_register(f, MINT_DEV_HOSTIF, "nic0", 1, VEC);
	CHECK(id >= 0);
	CHECK_EQ(mint_dev_find(n1, "nic0"), id);
	CHECK_EQ(mint_dev_register(f, MINT_DEV_NIC, "nic0", 1, VEC), -EEXIST);
	CHECK_EQ(mint_dev_register(f, MINT_DEV_HOSTIF, "", 1, VEC), -EINVAL);
	CHECK_EQ(mint_dev_register(f, 9, "x", 1, VEC), -EINVAL);
	CHECK_EQ(mint_dev_register(f, MINT_DEV_HOSTIF, "x", 1, MINT_VECTORS), -EINVAL);
	CHECK_EQ(mint_dev_register(f, MINT_DEV_HOSTIF, "x", MINT_MAX_NODES, VEC), -ERANGE);
	CHECK_EQ(mint_dev_raise(f, MINT_DEV_MAX), -ENODEV);
	CHECK_EQ(mint_dev_raise(f, (uint32_t)id + 1), -ENODEV);

	/* Raised: the owner's vector is pending; only the owner consumes. */
	CHECK(mint_dev_raise(f, (uint32_t)id) >= 0);
	CHECK(mint_dev_raise(f, (uint32_t)id) >= 0);
	struct mint_node_entry *e1 = mint_node_entry(f, 1);
	CHECK(atomic_load(&e1->pending[VEC / 64]) & (1ull << (VEC % 64)));
	uint64_t first = 0;
	CHECK_EQ(mint_dev_consume(f, (uint32_t)id, &first), 0); /* not a node */
	CHECK_EQ(mint_dev_consume(n1, (uint32_t)id, &first), 2);
	CHECK_EQ(first, 1);
	CHECK_EQ(mint_dev_consume(n1, (uint32_t)id, &first), 0);

	/* Masked: raises accumulate, consume takes nothing; unmask rings. */
	atomic_store(&e1->pending[VEC / 64], 0);
	CHECK_EQ(mint_dev_mask(f, (uint32_t)id), 0);
	CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 0);
	CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 0);
	CHECK_EQ(mint_dev_consume(n1, (uint32_t)id, &first), 0);
	CHECK_EQ(atomic_load(&e1->pending[VEC / 64]), 0);
	struct mint_dev_info in = info_of(f, id);
	CHECK(in.masked);
	CHECK_EQ(in.pending, 2);
	CHECK_EQ(in.masked_raises, 2);
	CHECK_EQ(mint_dev_unmask(f, (uint32_t)id), 0);
	CHECK(atomic_load(&e1->pending[VEC / 64]) & (1ull << (VEC % 64)));
	CHECK_EQ(mint_dev_consume(n1, (uint32_t)id, &first), 2);
	CHECK_EQ(first, 3);
	in = info_of(f, id);
	CHECK_EQ(in.raised, 4);
	CHECK_EQ(in.handled, 4);
	CHECK_EQ(in.pending_delivered, 2);
	CHECK_EQ(in.delivered, 2);

	/* Re-routing, re-registering in place, unregistering. */
	CHECK_EQ(mint_dev_route(f, (uint32_t)id, VEC + 1), 0);
	CHECK_EQ(info_of(f, id).vector, VEC + 1);
	CHECK_EQ(mint_dev_register(f, MINT_DEV_HOSTIF, "nic0", 1, VEC), id);
	CHECK_EQ(info_of(f, id).raised, 4);
	struct mint_dev_info list[4];
	CHECK_EQ(mint_dev_list(f, list, 4), 1);
	CHECK_EQ(mint_dev_unregister(f, (uint32_t)id), 0);
	CHECK_EQ(mint_dev_list(f, list, 4), 0);
	CHECK_EQ(mint_dev_unregister(f, (uint32_t)id), -ENODEV);
	mint_fabric_detach(n1);
	mint_fabric_detach(f);
}

static bool vec_pending(struct mint_node_entry *e, uint32_t vec)
{
	return atomic_load(&e->pending[vec / 64]) >> (vec % 64) & 1;
}

/* Raises coalesce into a doorbell until a consume re-arms the device; a
 * doorbell taken by a node that did not consume (it lost the device) does
 * not stop the raises after a move or an unmask. */
static void test_coalescing(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct mint_fabric *n1 = node_handle(1), *n2 = node_handle(2);
	struct mint_node_entry *e1 = mint_node_entry(f, 1), *e2 = mint_node_entry(f, 2);
	int id = mint_dev_register(f, MINT_DEV_HOSTIF, "coal0", 1, VEC);
	CHECK(id >= 0);
	uint64_t first;
	for (int i = 0; i < 5; i++)
		CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 1);
	struct mint_dev_info in = info_of(f, id);
	CHECK_EQ(in.doorbells, 1);
	CHECK_EQ(in.delivered, 5);
	CHECK(vec_pending(e1, VEC));
	atomic_store(&e1->pending[VEC / 64], 0); /* the dispatcher took it */
	CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 1);
	CHECK(!vec_pending(e1, VEC)); /* coalesced: no consume yet */
	CHECK_EQ(mint_dev_consume(n1, (uint32_t)id, &first), 6);
	CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 1); /* re-armed: rings */
	CHECK(vec_pending(e1, VEC));
	CHECK_EQ(info_of(f, id).doorbells, 2);

	/* Node 1 takes the doorbell but never consumes; the move to node 2
	 * re-arms the device and delivers the raise, later raises ring. */
	atomic_store(&e1->pending[VEC / 64], 0);
	CHECK_EQ(mint_node_heartbeat(n1), 0);
	CHECK_EQ(mint_node_heartbeat(n2), 0);
	CHECK_EQ(mint_dev_move(f, (uint32_t)id, 2), 0);
	CHECK(vec_pending(e2, VEC));
	atomic_store(&e2->pending[VEC / 64], 0);
	CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 1);
	CHECK(vec_pending(e2, VEC));
	CHECK_EQ(mint_dev_consume(n1, (uint32_t)id, &first), 0); /* not the owner */
	CHECK_EQ(mint_dev_consume(n2, (uint32_t)id, &first), 2);
	CHECK_EQ(first, 7);

	/* Masked raises ring nothing; the unmask delivers and re-arms. */
	atomic_store(&e2->pending[VEC / 64], 0);
	CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 1);
	atomic_store(&e2->pending[VEC / 64], 0); /* taken, not consumed */
	CHECK_EQ(mint_dev_mask(f, (uint32_t)id), 0);
	CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 0);
	CHECK_EQ(mint_dev_unmask(f, (uint32_t)id), 0);
	CHECK(vec_pending(e2, VEC));
	atomic_store(&e2->pending[VEC / 64], 0);
	CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 1);
	CHECK(vec_pending(e2, VEC));
	CHECK_EQ(mint_dev_consume(n2, (uint32_t)id, &first), 3);
	in = info_of(f, id);
	CHECK_EQ(in.raised, 11);
	CHECK_EQ(in.handled, 11);
	mint_fabric_detach(n2);
	mint_fabric_detach(n1);
	mint_fabric_detach(f);
}

/* Device ID's entry in the fabric, to forge what a dead process leaves. */
static struct mint_dev_entry *entry_of(struct mint_fabric *f, int id)
{
	struct mint_obj_info oi;
	CHECK_EQ(mint_obj_find(f, "devtab", &oi), 0);
	struct mint_devtab_hdr *t = mint_fabric_at(f, oi.offset, sizeof(*t));
	return &t->devs[id];
}

/* Everything of device ID a move may change, for "table unchanged". */
static bool same_entry(struct mint_dev_info a, struct mint_dev_info b)
{
	return a.owner == b.owner && a.vector == b.vector && a.masked == b.masked &&
	       a.state == b.state && a.moving == b.moving && a.raised == b.raised &&
	       a.handled == b.handled;
}

static void test_bad_moves(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct mint_fabric *n1 = node_handle(1), *n2 = node_handle(2);
	int id = mint_dev_register(f, MINT_DEV_HOSTIF, "nic0", 1, VEC);
	int vni = mint_dev_register(f, MINT_DEV_VNI, "vni.1", 1, MINT_VEC_VNI);
	int nic = mint_dev_register(f, MINT_DEV_NIC, "nic.1", 1, MINT_VEC_NIC);
	CHECK(id >= 0 && vni >= 0 && nic >= 0);
	CHECK(mint_dev_raise(f, (uint32_t)id) >= 0);
	struct mint_dev_info before = info_of(f, id);

	CHECK_EQ(mint_dev_move(f, MINT_DEV_MAX + 3, 2), -ENODEV);
	CHECK_EQ(mint_dev_move(f, (uint32_t)id + 5, 2), -ENODEV);
	CHECK_EQ(mint_dev_move(f, (uint32_t)id, MINT_MAX_NODES), -ERANGE);
	CHECK_EQ(mint_dev_move(f, (uint32_t)id, 7), -EHOSTDOWN); /* never joined */
	CHECK_EQ(mint_dev_move(f, (uint32_t)id, 1), -EALREADY);
	CHECK_EQ(mint_dev_move(f, (uint32_t)vni, 2), -EPERM);
	CHECK_EQ(mint_dev_move(f, (uint32_t)nic, 2), -EPERM);
	CHECK(same_entry(before, info_of(f, id)));

	/* Another live process is in the middle of a move. */
	int pipefd[2];
	CHECK_EQ(pipe(pipefd), 0);
	pid_t kid = t_fork(30);
	if (kid == 0) {
		struct mint_fabric *g = t_child_attach();
		char c = mint_dev_move_begin(g, (uint32_t)id, 2) == 0 ? 'y' : 'n';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	char c = 0;
	CHECK_EQ(read(pipefd[0], &c, 1), 1);
	CHECK_EQ(c, 'y');
	struct mint_dev_info mid = info_of(f, id);
	CHECK(mid.moving && mid.masked);
	CHECK_EQ(mint_dev_move(f, (uint32_t)id, 2), -EBUSY);
	CHECK_EQ(mint_dev_unregister(f, (uint32_t)id), -EBUSY);
	CHECK_EQ(mint_dev_move_finish(f, (uint32_t)id), -ESTALE); /* not our move */
	CHECK(same_entry(mid, info_of(f, id)));

	/* The mover dies after its intent: the next operation rolls back. */
	kill(kid, SIGKILL);
	t_wait_child(kid);
	struct mint_dev_info list[4];
	CHECK_EQ(mint_dev_list(f, list, 4), 3);
	struct mint_dev_info after = info_of(f, id);
	CHECK(!after.moving && !after.masked);
	CHECK_EQ(after.owner, 1);
	CHECK_EQ(after.state, MINT_DEV_ATTACHED);
	CHECK_EQ(after.raised, before.raised);
	close(pipefd[0]);
	close(pipefd[1]);

	/* The mover dies right after its switch (one store of the route):
	 * forged here, as a killed mover leaves it; the next operation
	 * finishes the move. */
	pid_t dead = t_fork(5);
	if (dead == 0)
		_exit(0);
	t_wait_child(dead);
	struct mint_dev_entry *e = entry_of(f, id);
	e->move_from = 1;
	e->move_to = 2;
	e->mover_pid = dead;
	e->mover_start = 0;
	e->move_phase = MINT_DEV_MOVE_MASKED;
	atomic_store(&e->route, 2ull | (uint64_t)VEC << 32);
	CHECK(info_of(f, id).moving);
	CHECK_EQ(mint_dev_list(f, list, 4), 3);
	after = info_of(f, id);
	CHECK(!after.moving && !after.masked);
	CHECK_EQ(after.owner, 2);
	/* ... and what was pending went to the new owner. */
	uint64_t first;
	CHECK_EQ(mint_dev_consume(n2, (uint32_t)id, &first), 1);
	mint_fabric_detach(n1);
	mint_fabric_detach(n2);
	mint_fabric_detach(f);
}

static void test_owner_dies(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct mint_fabric *n1 = node_handle(1);
	pid_t kid = t_fork(10);
	if (kid == 0) {
		struct mint_fabric *g = t_child_attach();
		_exit(t_join(g, 3, NULL) == 0 ? 0 : 2);
	}
	CHECK_EQ(t_wait_child(kid), 0); /* node 3 is dead now: it never left */
	int id = mint_dev_register(f, MINT_DEV_HOSTIF, "nic3", 3, VEC);
	CHECK(id >= 0);
	struct mint_dev_info list[2];
	CHECK_EQ(mint_dev_list(f, list, 2), 1);
	CHECK_EQ(list[0].state, MINT_DEV_ORPHANED);
	CHECK(list[0].masked);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 0);
	CHECK_EQ(info_of(f, id).pending, 5);
	CHECK_EQ(mint_dev_unmask(f, (uint32_t)id), -ENOTCONN);
	CHECK_EQ(mint_dev_move(f, (uint32_t)id, 1), 0);
	struct mint_dev_info in = info_of(f, id);
	CHECK_EQ(in.state, MINT_DEV_ATTACHED);
	CHECK_EQ(in.owner, 1);
	CHECK(!in.masked);
	uint64_t first;
	CHECK_EQ(mint_dev_consume(n1, (uint32_t)id, &first), 5);
	CHECK_EQ(first, 1);
	CHECK_EQ(mint_dev_move(f, (uint32_t)id, 3), -EHOSTDOWN); /* back to the dead one */
	CHECK_EQ(info_of(f, id).owner, 1);
	/* Detached: no owner, raises accumulate. */
	CHECK_EQ(mint_dev_detach(f, (uint32_t)id), 0);
	in = info_of(f, id);
	CHECK_EQ(in.state, MINT_DEV_DETACHED);
	CHECK_EQ(in.owner, MINT_NODE_NONE);
	CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 0);
	CHECK_EQ(mint_dev_move(f, (uint32_t)id, 1), 0);
	CHECK_EQ(mint_dev_consume(n1, (uint32_t)id, &first), 1);
	mint_fabric_detach(n1);
	mint_fabric_detach(f);
}

/* A VNI port and a NIC ring stay with their node: detach refuses them as
 * move does (a detached port would never interrupt its node again, and
 * nothing can give it back).  A detached device whose move is undone
 * (aborted, or its mover died) is detached again, not orphaned. */
static void test_detach_rules(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct mint_fabric *n1 = node_handle(1);
	int vni = mint_dev_register(f, MINT_DEV_VNI, "vni.1", 1, MINT_VEC_VNI);
	int nic = mint_dev_register(f, MINT_DEV_NIC, "nic.1", 1, MINT_VEC_NIC);
	int id = mint_dev_register(f, MINT_DEV_HOSTIF, "nic0", 1, VEC);
	CHECK(vni >= 0 && nic >= 0 && id >= 0);
	struct mint_dev_info before = info_of(f, vni);
	CHECK_EQ(mint_dev_detach(f, (uint32_t)vni), -EPERM);
	CHECK_EQ(mint_dev_detach(f, (uint32_t)nic), -EPERM);
	CHECK(same_entry(before, info_of(f, vni)));
	CHECK_EQ(info_of(f, nic).state, MINT_DEV_ATTACHED);

	CHECK_EQ(mint_dev_detach(f, (uint32_t)id), 0);
	CHECK_EQ(mint_dev_move_begin(f, (uint32_t)id, 1), 0);
	CHECK_EQ(mint_dev_move_abort(f, (uint32_t)id), 0);
	struct mint_dev_info in = info_of(f, id);
	CHECK_EQ(in.state, MINT_DEV_DETACHED);
	CHECK_EQ(in.owner, MINT_NODE_NONE);
	CHECK(in.masked);

	/* The mover dies after its intent: rolled back to detached too. */
	pid_t kid = t_fork(10);
	if (kid == 0) {
		struct mint_fabric *g = t_child_attach();
		_exit(mint_dev_move_begin(g, (uint32_t)id, 1) == 0 ? 0 : 2);
	}
	CHECK_EQ(t_wait_child(kid), 0);
	struct mint_dev_info list[4];
	CHECK_EQ(mint_dev_list(f, list, 4), 3);
	in = info_of(f, id);
	CHECK(!in.moving);
	CHECK_EQ(in.state, MINT_DEV_DETACHED);
	CHECK_EQ(in.owner, MINT_NODE_NONE);

	/* Unregistering waits, as detach does, for the owner's handler to
	 * leave consume: else it would store its count into whatever device
	 * takes the slot next. */
	struct mint_dev_info was = info_of(f, nic);
	atomic_fetch_add(&entry_of(f, nic)->busy, 1); /* node 1's handler, inside */
	CHECK_EQ(mint_dev_unregister(f, (uint32_t)nic), -ETIMEDOUT);
	CHECK(same_entry(was, info_of(f, nic)));
	atomic_fetch_sub(&entry_of(f, nic)->busy, 1);
	CHECK_EQ(mint_dev_unregister(f, (uint32_t)nic), 0);
	CHECK_EQ(mint_dev_info(f, (uint32_t)nic, &in), -ENODEV);
	mint_fabric_detach(n1);
	mint_fabric_detach(f);
}

/* The owner is killed inside its handler (busy stays raised) and its node
 * id is started again before any operation saw it dead: the new
 * incarnation's handlers are not the old one's, so a move does not wait
 * for the dead handler (it timed out for ever before). */
static void test_owner_restarts(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct mint_fabric *n1 = node_handle(1);
	pid_t kid = t_fork(10);
	if (kid == 0) {
		struct mint_fabric *g = t_child_attach();
		if (t_join(g, 3, NULL) != 0)
			_exit(2);
		int id = mint_dev_register(g, MINT_DEV_HOSTIF, "nic3", 3, VEC);
		if (id < 0)
			_exit(3);
		atomic_fetch_add(&entry_of(g, id)->busy, 1); /* killed in consume */
		_exit(0);
	}
	CHECK_EQ(t_wait_child(kid), 0);
	struct mint_fabric *n3 = node_handle(3); /* node 3 again */
	int id = mint_dev_find(f, "nic3");
	CHECK(id >= 0);
	CHECK_EQ(mint_dev_raise(f, (uint32_t)id), 1);
	CHECK_EQ(mint_dev_move(f, (uint32_t)id, 1), 0);
	struct mint_dev_info in = info_of(f, id);
	CHECK_EQ(in.owner, 1);
	CHECK_EQ(in.state, MINT_DEV_ATTACHED);
	uint64_t first;
	CHECK_EQ(mint_dev_consume(n1, (uint32_t)id, &first), 1);
	/* A live owner's handler inside consume is still waited for. */
	atomic_fetch_add(&entry_of(f, id)->busy, 1);
	CHECK_EQ(mint_dev_move(f, (uint32_t)id, 3), -ETIMEDOUT);
	CHECK_EQ(info_of(f, id).owner, 1);
	atomic_fetch_sub(&entry_of(f, id)->busy, 1);
	CHECK_EQ(mint_dev_move(f, (uint32_t)id, 3), 0);

	/* Node 4 takes a doorbell of its device and dies before consuming;
	 * restarted unseen, the next table operation re-arms the device and
	 * rings the new node 4 for what is pending. */
	kid = t_fork(10);
	if (kid == 0) {
		struct mint_fabric *g = t_child_attach();
		if (t_join(g, 4, NULL) != 0)
			_exit(2);
		int d = mint_dev_register(g, MINT_DEV_HOSTIF, "nic4", 4, VEC);
		if (d < 0 || mint_dev_raise(g, (uint32_t)d) != 1)
			_exit(3);
		atomic_store(&mint_node_entry(g, 4)->pending[VEC / 64], 0); /* taken */
		_exit(0);
	}
	CHECK_EQ(t_wait_child(kid), 0);
	struct mint_fabric *n4 = node_handle(4);
	id = mint_dev_find(f, "nic4");
	CHECK(id >= 0);
	struct mint_dev_info list[MINT_DEV_MAX];
	CHECK(mint_dev_list(f, list, MINT_DEV_MAX) > 0); /* a table operation */
	CHECK(vec_pending(mint_node_entry(f, 4), VEC));
	CHECK_EQ(mint_dev_consume(n4, (uint32_t)id, &first), 1);
	mint_fabric_detach(n4);
	mint_fabric_detach(n3);
	mint_fabric_detach(n1);
	mint_fabric_detach(f);
}

/* ==== under load ==== */

struct load {
	struct mint_fabric *f;
	int id;
	uint64_t cap;               /* raises at most (size of seen) */
	uint64_t total;             /* raised: the raiser's count, read after it ended */
	_Atomic uint8_t *seen;      /* times each sequence number was handled */
	_Atomic uint64_t handled;
	_Atomic uint64_t twice;
	_Atomic uint64_t beyond;    /* sequence numbers never raised */
	_Atomic int raising;
};

struct node_ctx {
	struct load *l;
	struct mint_fabric *f;
	struct mint_dispatcher *d;
	pthread_t thread;
};

static void on_dev_irq(void *arg, uint32_t vector)
{
	struct node_ctx *c = arg;
	(void)vector;
	uint64_t first;
	int n = mint_dev_consume(c->f, (uint32_t)c->l->id, &first);
	for (int i = 0; i < n; i++) {
		uint64_t seq = first + (uint64_t)i;
		if (seq == 0 || seq > c->l->cap) {
			atomic_fetch_add(&c->l->beyond, 1);
			continue;
		}
		if (atomic_fetch_add(&c->l->seen[seq - 1], 1) != 0)
			atomic_fetch_add(&c->l->twice, 1);
	}
	if (n > 0)
		atomic_fetch_add(&c->l->handled, (uint64_t)n);
}

static void *dispatch(void *arg)
{
	struct node_ctx *c = arg;
	mint_dispatcher_run(c->d);
	return NULL;
}

/* Raise until the mover is done (at most l->cap times). */
static void *raise_all(void *arg)
{
	struct load *l = arg;
	uint64_t n = 0;
	while (n < l->cap && atomic_load_explicit(&l->raising, memory_order_relaxed) &&
	       mint_dev_raise(l->f, (uint32_t)l->id) >= 0)
		n++;
	l->total = n;
	return NULL;
}

/* Node C (joined) dispatches the device's vector in a thread of its own. */
static void start_node(struct node_ctx *c, struct load *l)
{
	c->l = l;
	CHECK_EQ(mint_dispatcher_create(c->f, MINT_MODE_ADAPTIVE, &c->d), 0);
	mint_dispatcher_set_handler(c->d, VEC, on_dev_irq, c);
	pthread_create(&c->thread, NULL, dispatch, c);
}

/* The end of a load test: both nodes stopped and gone, the rest freed. */
static void stop_nodes(struct node_ctx *a, struct node_ctx *b, struct load *l,
		       struct mint_fabric *f)
{
	struct node_ctx *nodes[] = {a, b};
	for (int i = 0; i < 2; i++) {
		mint_dispatcher_stop(nodes[i]->d);
		pthread_join(nodes[i]->thread, NULL);
		mint_dispatcher_destroy(nodes[i]->d);
		mint_fabric_detach(nodes[i]->f);
	}
	free((void *)l->seen);
	mint_fabric_detach(f);
}

static void test_moves_under_load(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct load l = {.f = f, .cap = 50000000};
	l.seen = calloc(l.cap, 1);
	struct node_ctx a = {.f = node_handle(1)}, b = {.f = node_handle(2)};
	l.id = mint_dev_register(f, MINT_DEV_HOSTIF, "loaded", 1, VEC);
	CHECK(l.id >= 0);
	start_node(&a, &l);
	start_node(&b, &l);
	atomic_store(&l.raising, 1);
	t_sleep_ms(1); /* the dispatchers are running */
	pthread_t raiser;
	pthread_create(&raiser, NULL, raise_all, &l);
	/* 100 moves; every other one in two halves with a pause between (as
	 * a host interface's move has work there), so that the raiser, which
	 * may share the mover's core, does meet masked windows. */
	int moves = 0, failed = 0;
	for (int i = 0; i < 100; i++) {
		mint_node_heartbeat(a.f); /* alive however slow a sanitizer makes this */
		mint_node_heartbeat(b.f);
		uint32_t to = i % 2 ? 1 : 2;
		int rc = i % 4 < 2 ? mint_dev_move(f, (uint32_t)l.id, to)
				   : mint_dev_move_begin(f, (uint32_t)l.id, to);
		if (rc == 0 && i % 4 >= 2) {
			t_sleep_us(50);
			rc = mint_dev_move_finish(f, (uint32_t)l.id);
		}
		moves += rc == 0;
		failed += rc != 0;
		if (rc)
			fprintf(stderr, "move %d: %s\n", i, mint_strerror(rc));
		t_sleep_us(100);
	}
	atomic_store(&l.raising, 0);
	pthread_join(raiser, NULL);
	uint64_t end = t_now_ns() + 10000000000ull;
	while (atomic_load(&l.handled) < l.total && t_now_ns() < end)
		t_sleep_ms(1);
	struct mint_dev_info in = info_of(f, l.id);
	printf("raised %llu handled %llu, %d moves, delivered at moves %llu, masked raises %llu\n",
	       (unsigned long long)in.raised, (unsigned long long)atomic_load(&l.handled), moves,
	       (unsigned long long)in.pending_delivered, (unsigned long long)in.masked_raises);
	CHECK_EQ(moves, 100);
	CHECK_EQ(failed, 0);
	CHECK_EQ(in.raised, l.total);
	CHECK_EQ(atomic_load(&l.handled), l.total);
	CHECK_EQ(in.handled, l.total);
	CHECK(in.masked_raises > 0); /* raises did meet masked windows */
	CHECK_EQ(atomic_load(&l.twice), 0);
	CHECK_EQ(atomic_load(&l.beyond), 0);
	uint64_t missing = 0;
	for (uint64_t i = 0; i < l.total; i++)
		missing += atomic_load(&l.seen[i]) == 0;
	CHECK_EQ(missing, 0);
	stop_nodes(&a, &b, &l, f);
}

/* Raise until told to stop, counting into l->total (atomically: two run). */
static void *raise_more(void *arg)
{
	struct load *l = arg;
	uint64_t n = 0;
	while (atomic_load_explicit(&l->raising, memory_order_relaxed) && n < 10000000 &&
	       mint_dev_raise(l->f, (uint32_t)l->id) >= 0)
		n++;
	__atomic_fetch_add(&l->total, n, __ATOMIC_RELAXED);
	return NULL;
}

/* Rounds of moves under two raisers, then a quiet spell: a few raises,
 * spaced, must reach the owner with no table operation to help them (a
 * raise that read the route before a move and won the re-armed doorbell
 * after it must ring the new owner, else the device coalesces forever). */
static void test_no_stall_after_moves(void)
{
	struct mint_fabric *f = t_fabric(MINT_FABRIC_MIN_SIZE);
	struct load l = {.f = f, .cap = 1};
	l.seen = calloc(1, 1);
	struct node_ctx a = {.f = node_handle(1)}, b = {.f = node_handle(2)};
	l.id = mint_dev_register(f, MINT_DEV_HOSTIF, "quiet", 1, VEC);
	CHECK(l.id >= 0);
	start_node(&a, &l);
	start_node(&b, &l);
	int stalls = 0, rounds = (int)t_scale(60);
	uint32_t to = 2;
	for (int r = 0; r < rounds; r++) {
		atomic_store(&l.raising, 1);
		pthread_t raisers[2];
		for (int i = 0; i < 2; i++)
			pthread_create(&raisers[i], NULL, raise_more, &l);
		for (int m = 0; m < 20; m++) {
			mint_node_heartbeat(a.f);
			mint_node_heartbeat(b.f);
			if (mint_dev_move(f, (uint32_t)l.id, to) == 0)
				to = to == 1 ? 2 : 1;
		}
		atomic_store(&l.raising, 0);
		for (int i = 0; i < 2; i++)
			pthread_join(raisers[i], NULL);
		for (int i = 0; i < 3; i++) {
			CHECK(mint_dev_raise(f, (uint32_t)l.id) >= 0);
			t_sleep_ms(1);
		}
		uint64_t end = t_now_ns() + 2000000000ull;
		while (info_of(f, l.id).pending && t_now_ns() < end)
			t_sleep_ms(1);
		if (info_of(f, l.id).pending) {
			stalls++;
			mint_dev_mask(f, (uint32_t)l.id); /* unstick it for the next round */
			mint_dev_unmask(f, (uint32_t)l.id);
		}
	}
	printf("%d rounds of 20 moves under 2 raisers: %d stalled\n", rounds, stalls);
	CHECK_EQ(stalls, 0);
	stop_nodes(&a, &b, &l, f);
}

int main(void)
{
	t_start("test_dev", 120);
	RUN(test_register_raise_consume);
	RUN(test_coalescing);
	RUN(test_bad_moves);
	RUN(test_owner_dies);
	RUN(test_detach_rules);
	RUN(test_owner_restarts);
	RUN(test_moves_under_load);
	RUN(test_no_stall_after_moves);
	return t_failures ? 1 : 0;
}
