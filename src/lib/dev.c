/* SPDX-License-Identifier: MIT */
/*
 * The device table: every interrupt source, its owner, vector and mask.
 *
 * Raise (lock-free): add 1 to `raised` (seq_cst), load `route` (seq_cst);
 * masked: count it; else ring the owner's vector.  Consume (the owner's
 * handler): add 1 to `busy` (seq_cst), load `route` (seq_cst); not the
 * owner or masked: leave; else take raised - handled by storing `handled`.
 * Move (under the table lock): store `route` masked (seq_cst), wait until
 * `busy` reads 0 (seq_cst), store `route` with the new owner unmasked
 * (seq_cst), load `raised` (seq_cst) and ring the new owner if it is ahead
 * of `handled`.  The seq_cst pairs are two Dekker handshakes:
 *  - consume/move on (busy, route): a handler that saw the old owner
 *    unmasked has raised busy before the mover reads it, so the mover
 *    waits for it; any later handler sees the mask and takes nothing;
 *  - raise/move on (raised, route): a raise that saw the route unmasked
 *    (the old owner) incremented raised before the mover reads it, so it
 *    is delivered to the new owner; one that saw the mask is delivered
 *    by the mover's unmask, one after it rings the new owner itself.
 * Coalescing: `armed` says whether the next raise rings.  A raise that
 * finds it 1 and exchanges it to 0 rings; one that finds it 0 rings
 * nothing: a doorbell is out and its consume has not run.  Consume stores
 * `armed` = 1 (seq_cst) before it loads `raised` (seq_cst), against the
 * raiser's increment of `raised` before its load of `armed` (both
 * seq_cst): a Dekker pair, so a coalesced raise is taken by that consume
 * and a raise after the store rings.  Every unmasked store of the route
 * arms it too (after storing the route), and the raise that wins the
 * exchange loads the route again before it rings, so its doorbell goes
 * where the latest re-arming route points, never to a node or vector that
 * will not consume the device.  The rule for every handler of a device's
 * vector follows: consume the device each time it runs.
 * The counts, not the doorbells, are the truth: a doorbell that reaches
 * the old owner after a move finds nothing to consume, and `handled` only
 * moves forward, by compare-and-swap, so nothing is taken twice.
 */
#include "mint/dev.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "le.h"
#include "mint/doorbell.h"
#include "mint/lock.h"
#include "mint/node.h"
#include "mint/object.h"

#define DEVTAB_OBJ "devtab"
#define ROUTE_OWNER(r) ((uint32_t)(r))
#define ROUTE_VECTOR(r) ((uint32_t)((r) >> 32) & 0xffu)
/* How long a move waits for the old owner's handler to leave. */
#define HANDLER_WAIT_NS 1000000000ull

static uint64_t route_of(uint32_t owner, uint32_t vector, bool masked)
{
	return owner | (uint64_t)vector << 32 | (masked ? MINT_DEV_MASKED : 0);
}

/* ---- finding the table ---- */

static int devtab_init(void *mem, uint64_t size, void *arg)
{
	struct mint_devtab_hdr *t = mem;
	(void)size;
	(void)arg;
	wr32(&t->version, MINT_DEVTAB_VERSION);
	wr32(&t->max_devs, MINT_DEV_MAX);
	wr32(&t->magic, MINT_DEVTAB_MAGIC);
	return 0;
}

int mint_dev_table_create(struct mint_fabric *f)
{
	uint64_t off;
	int created = mint_obj_open(f, DEVTAB_OBJ, MINT_OBJ_DEVTAB, sizeof(struct mint_devtab_hdr),
				    devtab_init, NULL, &off);
	if (created < 0)
		return created;
	struct mint_obj_info info;
	int rc = mint_obj_find(f, DEVTAB_OBJ, &info);
	if (rc < 0)
		return rc;
	struct mint_devtab_hdr *t = mint_fabric_at(f, off, sizeof(*t));
	if (!t || info.offset != off || info.size < sizeof(*t) || info.type != MINT_OBJ_DEVTAB)
		return -EPROTO;
	/* The header holds only constants: a stray write there is undone by
	 * writing them again, and the entries after it stay as they are. */
	if (rd32(&t->magic) != MINT_DEVTAB_MAGIC || rd32(&t->version) != MINT_DEVTAB_VERSION ||
	    rd32(&t->max_devs) != MINT_DEV_MAX)
		devtab_init(t, info.size, NULL);
	/* release: pairs with the acquire load in table(); the pointer is
	 * process-local, the table itself was published by the directory. */
	atomic_store_explicit(&f->devtab, t, memory_order_release);
	return created;
}

/* The table: found (or, with CREATE, made) on first use, then cached. */
static struct mint_devtab_hdr *table_get(struct mint_fabric *f, bool create)
{
	/* acquire: pairs with the release store in mint_dev_table_create. */
	struct mint_devtab_hdr *t = atomic_load_explicit(&f->devtab, memory_order_acquire);
	struct mint_obj_info info;
	if (!t && (create || mint_obj_find(f, DEVTAB_OBJ, &info) == 0) &&
	    mint_dev_table_create(f) >= 0)
		t = atomic_load_explicit(&f->devtab, memory_order_acquire);
	return t;
}

/* Only registering makes the table; everything else finds it or not. */
static struct mint_devtab_hdr *table(struct mint_fabric *f) { return table_get(f, false); }

/* Device ID's entry if ID is in range and the slot is in use. */
static struct mint_dev_entry *live_entry(struct mint_devtab_hdr *t, uint32_t id)
{
	if (!t || id >= MINT_DEV_MAX)
		return NULL;
	struct mint_dev_entry *e = &t->devs[id];
	/* acquire: pairs with the release store of the state in
	 * mint_dev_register, so name and type are complete. */
	return ald32(&e->state, memory_order_acquire) == MINT_DEV_FREE ? NULL : e;
}

/* ---- small pieces of the protocol ---- */

static void notify(struct mint_fabric *f, uint32_t owner)
{
	if (owner < MINT_MAX_NODES)
		mint_ipi_send(f, owner, MINT_VEC_DEV);
}

static void changed(struct mint_devtab_hdr *t)
{
	/* release: pairs with the acquire load in mint_dev_generation, so a
	 * node that sees the new count sees the change. */
	aadd32(&t->generation, 1, memory_order_release);
}

/* The next raise of E rings its owner.  seq_cst: the store half of the
 * coalescing handshake (header comment), before any load of `raised` that
 * follows it. */
static void arm(struct mint_dev_entry *e) { ast32(&e->armed, 1, memory_order_seq_cst); }

/* Store ROUTE; if it is unmasked and interrupts are outstanding, ring the
 * owner for them (the second half of the raise/move handshake). */
static void set_route(struct mint_fabric *f, struct mint_dev_entry *e, uint64_t route)
{
	/* seq_cst: the store of the raise/move handshake (header comment). */
	ast64(&e->route, route, memory_order_seq_cst);
	if (route & MINT_DEV_MASKED)
		return;
	/* a doorbell some node took without consuming (it lost the device,
	 * or died) must not stop later raises */
	arm(e);
	/* seq_cst: the load of the same handshake. */
	uint64_t raised = ald64(&e->raised, memory_order_seq_cst);
	/* acquire: pairs with the release store of handled in consume. */
	uint64_t handled = ald64(&e->handled, memory_order_acquire);
	if (raised == handled)
		return;
	/* relaxed: statistics only. */
	aadd64(&e->pending_delivered, raised - handled, memory_order_relaxed);
	mint_ipi_send(f, ROUTE_OWNER(route), ROUTE_VECTOR(route));
}

static void mask(struct mint_dev_entry *e)
{
	uint64_t route = ald64(&e->route, memory_order_relaxed); /* ours: lock held */
	/* seq_cst: the store of the consume/move and raise/move handshakes. */
	ast64(&e->route, route | MINT_DEV_MASKED, memory_order_seq_cst);
}

/* A handler leaving consume: busy - 1, never below 0 (a mover may have
 * cleared the count of a dead owner meanwhile). */
static void leave_handler(struct mint_dev_entry *e)
{
	uint32_t raw = atomic_load_explicit(&e->busy, memory_order_relaxed);
	/* release: pairs with the seq_cst load of busy in wait_handler, so the
	 * mover sees our store of handled. */
	while (le32(raw) != 0 &&
	       !atomic_compare_exchange_weak_explicit(&e->busy, &raw, le32(le32(raw) - 1),
						      memory_order_release, memory_order_relaxed))
		;
}

/* Wait until no handler of FROM is inside consume (the route is masked).
 * A dead owner will never leave: its count is cleared. */
static int wait_handler(struct mint_fabric *f, struct mint_dev_entry *e, uint32_t from)
{
	uint64_t end = 0;
	/* seq_cst: the load of the consume/move handshake. */
	while (ald32(&e->busy, memory_order_seq_cst) != 0) {
		uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
		if (!end) {
			end = now + HANDLER_WAIT_NS;
		} else if (from >= MINT_MAX_NODES || !mint_node_alive(f, from)) {
			/* relaxed: no one else writes it now but visitors,
			 * which never take it below 0. */
			ast32(&e->busy, 0, memory_order_relaxed);
			return 0;
		} else if (now > end) {
			return -ETIMEDOUT;
		}
		sched_yield();
	}
	return 0;
}

/* ---- the mover's identity and repairs ---- */

static void mover_self(int32_t *pid, uint64_t *start)
{
	static _Atomic int32_t cached_pid;
	static _Atomic uint64_t cached_start;
	*pid = (int32_t)getpid();
	/* relaxed: a per-process cache; a forked child recomputes it. */
	if (atomic_load_explicit(&cached_pid, memory_order_relaxed) != *pid) {
		atomic_store_explicit(&cached_start, mint_pid_start(*pid), memory_order_relaxed);
		atomic_store_explicit(&cached_pid, *pid, memory_order_relaxed);
	}
	*start = atomic_load_explicit(&cached_start, memory_order_relaxed);
}

static bool mover_is_self(const struct mint_dev_entry *e)
{
	int32_t pid;
	uint64_t start;
	mover_self(&pid, &start);
	return rd32((const uint32_t *)&e->mover_pid) == (uint32_t)pid &&
	       rd64(&e->mover_start) == start;
}

static bool mover_alive(const struct mint_dev_entry *e)
{
	return mint_pid_alive((int32_t)rd32((const uint32_t *)&e->mover_pid), rd64(&e->mover_start));
}

static bool owner_alive(struct mint_fabric *f, uint32_t owner)
{
	return owner < MINT_MAX_NODES && mint_node_alive(f, owner);
}

/* Record that OWNER (alive) holds E now.  If E's route still names the
 * same node id under an earlier epoch, that incarnation died, maybe
 * inside mint_dev_consume: its handlers will never leave, so their count
 * is cleared (else every later move and detach waits for them in vain).
 * True in that case: OWNER restarted under the same id. */
static bool hold(struct mint_fabric *f, struct mint_dev_entry *e, uint32_t owner)
{
	if (!owner_alive(f, owner))
		return false;
	/* relaxed: read after owner_alive's acquire load of the node's
	 * state, which publishes the epoch stored before it. */
	uint32_t epoch = ald32(&mint_node_entry(f, owner)->epoch, memory_order_relaxed);
	uint32_t had = rd32(&e->owner_epoch);
	uint64_t route = ald64(&e->route, memory_order_relaxed); /* ours: lock held */
	if (had == epoch)
		return false;
	bool restarted = had != 0 && ROUTE_OWNER(route) == owner;
	if (restarted)
		/* relaxed: as in wait_handler, for a dead owner's count. */
		ast32(&e->busy, 0, memory_order_relaxed);
	wr32(&e->owner_epoch, epoch);
	return restarted;
}

/* A device's owner died: keep its interrupts pending, masked. */
static void orphan(struct mint_devtab_hdr *t, struct mint_dev_entry *e)
{
	mask(e);
	/* release: pairs with the acquire load in live_entry. */
	ast32(&e->state, MINT_DEV_ORPHANED, memory_order_release);
	changed(t);
}

/* End the recorded move of E: routed to TO, unmasked (an owner found dead
 * leaves it orphaned instead; no owner, the undone move of a detached
 * device, leaves it detached), intent cleared. */
static void end_move(struct mint_fabric *f, struct mint_devtab_hdr *t, struct mint_dev_entry *e,
		     uint32_t to)
{
	uint64_t route = ald64(&e->route, memory_order_relaxed); /* ours: lock held */
	bool alive = owner_alive(f, to);
	hold(f, e, to);
	uint32_t state = alive ? MINT_DEV_ATTACHED
			 : to == MINT_NODE_NONE ? MINT_DEV_DETACHED : MINT_DEV_ORPHANED;
	/* release: pairs with the acquire load in live_entry. */
	ast32(&e->state, state, memory_order_release);
	set_route(f, e, route_of(to, ROUTE_VECTOR(route), !alive));
	rst32(&e->move_phase, MINT_DEV_MOVE_NONE);
	changed(t);
}

/* A move whose mover died: the switch is one store of `route`, so a route
 * unmasked to the new owner means it happened (finish it), anything else
 * means it did not (roll back to the old owner). */
static void settle_move(struct mint_fabric *f, struct mint_devtab_hdr *t, struct mint_dev_entry *e)
{
	uint64_t route = ald64(&e->route, memory_order_relaxed); /* ours: lock held */
	uint32_t to = rd32(&e->move_to);
	bool switched = !(route & MINT_DEV_MASKED) && ROUTE_OWNER(route) == to;
	end_move(f, t, e, switched ? to : rd32(&e->move_from));
}

/* A name as registration writes it: printable, NUL-terminated, not empty. */
static bool printable_name(const char name[MINT_DEV_NAME_MAX])
{
	for (uint32_t i = 0; i < MINT_DEV_NAME_MAX; i++) {
		/* relaxed: the bytes rname_out stores a word at a time. */
		char c = __atomic_load_n(&name[i], __ATOMIC_RELAXED);
		if (c == '\0')
			return i > 0;
		if (c < 0x20 || c > 0x7e)
			return false;
	}
	return false;
}

/* Could the protocol have made E?  A known state and type, a name, and
 * (attached) a node id as owner.  What no operation writes is a stray
 * write's, and nobody can own it: the slot is freed. */
static bool plausible(struct mint_dev_entry *e)
{
	/* relaxed: written only under the lock, which we hold. */
	uint32_t state = ald32(&e->state, memory_order_relaxed), type = rd32(&e->type);
	uint32_t owner = ROUTE_OWNER(ald64(&e->route, memory_order_relaxed));
	return state <= MINT_DEV_ORPHANED && type >= MINT_DEV_VNI && type <= MINT_DEV_HOSTIF &&
	       printable_name(e->name) && (state != MINT_DEV_ATTACHED || owner < MINT_MAX_NODES);
}

/* What every locked operation does first. */
static void repair(struct mint_fabric *f, struct mint_devtab_hdr *t)
{
	for (uint32_t id = 0; id < MINT_DEV_MAX; id++) {
		struct mint_dev_entry *e = live_entry(t, id);
		if (!e)
			continue;
		if (!plausible(e)) {
			/* release: pairs with the acquire load in live_entry. */
			ast32(&e->state, MINT_DEV_FREE, memory_order_release);
			changed(t);
			continue;
		}
		/* relaxed: written only under the lock, which we hold. */
		uint32_t state = ald32(&e->state, memory_order_relaxed);
		uint32_t owner = ROUTE_OWNER(ald64(&e->route, memory_order_relaxed));
		if (rd32(&e->move_phase) != MINT_DEV_MOVE_NONE) {
			if (!mover_alive(e))
				settle_move(f, t, e);
		} else if (state == MINT_DEV_ATTACHED && !owner_alive(f, owner)) {
			orphan(t, e);
		} else if (state == MINT_DEV_ORPHANED && owner_alive(f, owner)) {
			end_move(f, t, e, owner); /* the owner is back (same id) */
		} else if (state == MINT_DEV_ATTACHED && hold(f, e, owner)) {
			/* it restarted unseen: a doorbell its predecessor took
			 * and never consumed must not silence the device */
			set_route(f, e, ald64(&e->route, memory_order_relaxed));
		}
	}
}

static int lock_table(struct mint_fabric *f, struct mint_devtab_hdr **out, bool create)
{
	struct mint_devtab_hdr *t = table_get(f, create);
	if (!t)
		return -ENODEV;
	int rc = mint_lock_acquire(f, &t->lock);
	if (rc < 0)
		return rc;
	repair(f, t);
	if (rc == MINT_LOCK_RECOVERED)
		mint_lock_checked(&t->lock);
	*out = t;
	return 0;
}

static int unlock_table(struct mint_fabric *f, struct mint_devtab_hdr *t, int rc)
{
	mint_lock_release(f, &t->lock);
	return rc;
}

/* Under the lock: device ID, live and not being moved, or an error. */
static int settled_entry(struct mint_devtab_hdr *t, uint32_t id, struct mint_dev_entry **e)
{
	*e = live_entry(t, id);
	if (!*e)
		return -ENODEV;
	return rd32(&(*e)->move_phase) == MINT_DEV_MOVE_NONE ? 0 : -EBUSY;
}

/* ---- registration ---- */

static bool name_ok(const char *name)
{
	size_t n = name ? strnlen(name, MINT_DEV_NAME_MAX) : 0;
	return n > 0 && n < MINT_DEV_NAME_MAX;
}

static int find_locked(struct mint_devtab_hdr *t, const char *name)
{
	for (uint32_t id = 0; id < MINT_DEV_MAX; id++) {
		struct mint_dev_entry *e = live_entry(t, id);
		char have[MINT_DEV_NAME_MAX];
		if (!e)
			continue;
		mint_copy_name(have, e->name, sizeof(have));
		if (strcmp(have, name) == 0)
			return (int)id;
	}
	return -ENOENT;
}

static int free_slot(struct mint_devtab_hdr *t)
{
	for (uint32_t id = 0; id < MINT_DEV_MAX; id++)
		/* relaxed: ours, lock held. */
		if (ald32(&t->devs[id].state, memory_order_relaxed) == MINT_DEV_FREE)
			return (int)id;
	return -ENOSPC;
}

/* A fresh entry: identity and zeroed counters, then the state (release). */
static void fill_entry(struct mint_dev_entry *e, uint32_t type, const char *name, uint64_t route)
{
	/* rst*: a lock-free reader may still be reading the slot's last use. */
	rst32(&e->type, type);
	rst32(&e->ifindex, 0);
	rst32(&e->move_phase, MINT_DEV_MOVE_NONE);
	rname_out(e->name, name, sizeof(e->name));
	/* relaxed: the release store of the state below publishes them. */
	ast32(&e->link, MINT_DEV_LINK_UP, memory_order_relaxed);
	ast64(&e->raised, 0, memory_order_relaxed);
	ast64(&e->handled, 0, memory_order_relaxed);
	ast64(&e->masked_raises, 0, memory_order_relaxed);
	ast64(&e->pending_delivered, 0, memory_order_relaxed);
	ast64(&e->doorbells, 0, memory_order_relaxed);
	ast32(&e->busy, 0, memory_order_relaxed);
	/* seq_cst: the route, then armed, as set_route stores them, so that
	 * a raise that read a freed slot's old route re-reads this one. */
	ast64(&e->route, route, memory_order_seq_cst);
	arm(e);
	/* release: pairs with the acquire load in live_entry. */
	ast32(&e->state, MINT_DEV_ATTACHED, memory_order_release);
}

static int register_locked(struct mint_fabric *f, struct mint_devtab_hdr *t, uint32_t type,
			   const char *name, uint32_t owner, uint32_t vector)
{
	int id = find_locked(t, name);
	struct mint_dev_entry *e;
	if (id >= 0) {
		int rc = settled_entry(t, (uint32_t)id, &e);
		if (rc < 0)
			return rc;
		if (rd32(&e->type) != type)
			return -EEXIST;
		uint64_t route = ald64(&e->route, memory_order_relaxed); /* ours: lock held */
		/* relaxed: written only under the lock, which we hold. */
		if (ald32(&e->state, memory_order_relaxed) == MINT_DEV_ATTACHED &&
		    ROUTE_OWNER(route) != owner && owner_alive(f, ROUTE_OWNER(route)))
			return -EBUSY; /* another live node's: that is a move */
		hold(f, e, owner);
		/* release: pairs with the acquire load in live_entry. */
		ast32(&e->state, MINT_DEV_ATTACHED, memory_order_release);
		set_route(f, e, route_of(owner, vector, false));
	} else {
		if ((id = free_slot(t)) < 0)
			return id;
		wr32(&t->devs[id].owner_epoch, 0);
		fill_entry(&t->devs[id], type, name, route_of(owner, vector, false));
		hold(f, &t->devs[id], owner);
	}
	changed(t);
	notify(f, owner);
	return id;
}

int mint_dev_register(struct mint_fabric *f, uint32_t type, const char *name, uint32_t owner,
		      uint32_t vector)
{
	if (!name_ok(name) || type < MINT_DEV_VNI || type > MINT_DEV_HOSTIF || vector >= MINT_VECTORS)
		return -EINVAL;
	if (owner >= MINT_MAX_NODES)
		return -ERANGE;
	struct mint_devtab_hdr *t;
	int rc = lock_table(f, &t, true);
	if (rc < 0)
		return rc;
	return unlock_table(f, t, register_locked(f, t, type, name, owner, vector));
}

int mint_dev_find(struct mint_fabric *f, const char *name)
{
	if (!name_ok(name))
		return -EINVAL;
	struct mint_devtab_hdr *t = table(f);
	return t ? find_locked(t, name) : -ENOENT;
}

/* ---- raise and consume ---- */

int mint_dev_raise(struct mint_fabric *f, uint32_t id)
{
	struct mint_dev_entry *e = live_entry(table(f), id);
	if (!e)
		return -ENODEV;
	/* seq_cst: the raise/move handshake (header comment). */
	aadd64(&e->raised, 1, memory_order_seq_cst);
	uint64_t route = ald64(&e->route, memory_order_seq_cst);
	if (route & MINT_DEV_MASKED) {
		/* relaxed: statistics only. */
		aadd64(&e->masked_raises, 1, memory_order_relaxed);
		return 0;
	}
	/* seq_cst: the coalescing handshake with consume (header comment);
	 * the load first, so that coalesced raises write no shared line. */
	if (!ald32(&e->armed, memory_order_seq_cst) ||
	    !axchg32(&e->armed, 0, memory_order_seq_cst))
		return 1; /* a doorbell is out: its consume takes this one too */
	/* seq_cst: the route again, after the exchange.  The one loaded above
	 * may be stale by now (a move or re-route that re-armed in between:
	 * its doorbell would reach a handler that never consumes this device,
	 * and nothing would re-arm it); a route stored before the exchange is
	 * seen here, one stored after it re-arms and delivers by itself. */
	route = ald64(&e->route, memory_order_seq_cst);
	if (route & MINT_DEV_MASKED)
		return 0; /* its unmask re-arms and delivers */
	/* relaxed: statistics only. */
	aadd64(&e->doorbells, 1, memory_order_relaxed);
	int rc = mint_ipi_send(f, ROUTE_OWNER(route), ROUTE_VECTOR(route));
	if (rc < 0) /* nobody was rung: the next raise must try again */
		arm(e);
	return rc < 0 ? rc : 1;
}

/* Take the interrupts raised and not handled: move `handled` up to
 * `raised` by compare-and-swap, so that two consumers on the owner's side
 * (a replaced agent still running, a handler whose `busy` a repair
 * cleared) never take the same ones, nor move `handled` back. */
static int take_raised(struct mint_dev_entry *e, uint64_t *first)
{
	/* acquire: pairs with the release of the previous consumer's CAS
	 * (through the mover's handshake when it was another node). */
	uint64_t handled = ald64(&e->handled, memory_order_acquire);
	for (;;) {
		/* seq_cst: the load of the coalescing handshake. */
		uint64_t raised = ald64(&e->raised, memory_order_seq_cst);
		if (raised <= handled)
			return 0; /* nothing new (or a corrupt count: never go back) */
		uint64_t take = raised - handled > INT32_MAX ? INT32_MAX : raised - handled;
		/* acq_rel: release pairs with the acquire loads of handled here
		 * and in set_route; acquire as the load above. */
		if (acas64(&e->handled, &handled, handled + take, memory_order_acq_rel)) {
			*first = handled + 1;
			return (int)take;
		}
	}
}

int mint_dev_consume(struct mint_fabric *f, uint32_t id, uint64_t *first)
{
	struct mint_dev_entry *e = live_entry(table(f), id);
	if (!e)
		return -ENODEV;
	/* seq_cst: the consume/move handshake (header comment). */
	aadd32(&e->busy, 1, memory_order_seq_cst);
	uint64_t route = ald64(&e->route, memory_order_seq_cst);
	int n = 0;
	if (!(route & MINT_DEV_MASKED) && ROUTE_OWNER(route) == f->self) {
		arm(e); /* before the load of raised (the coalescing handshake) */
		n = take_raised(e, first);
	}
	leave_handler(e);
	return n;
}

/* ---- routing changes ---- */

/* Run OP on settled device ID under the table lock. */
static int locked_op(struct mint_fabric *f, uint32_t id,
		     int (*op)(struct mint_fabric *, struct mint_devtab_hdr *, struct mint_dev_entry *,
			       uint64_t),
		     uint64_t arg)
{
	struct mint_devtab_hdr *t;
	struct mint_dev_entry *e;
	int rc = lock_table(f, &t, false);
	if (rc < 0)
		return rc;
	if ((rc = settled_entry(t, id, &e)) == 0)
		rc = op(f, t, e, arg);
	return unlock_table(f, t, rc);
}

static int op_route(struct mint_fabric *f, struct mint_devtab_hdr *t, struct mint_dev_entry *e,
		    uint64_t vector)
{
	uint64_t route = ald64(&e->route, memory_order_relaxed); /* ours: lock held */
	set_route(f, e, route_of(ROUTE_OWNER(route), (uint32_t)vector, route & MINT_DEV_MASKED));
	changed(t);
	return 0;
}

int mint_dev_route(struct mint_fabric *f, uint32_t id, uint32_t vector)
{
	if (vector >= MINT_VECTORS)
		return -EINVAL;
	return locked_op(f, id, op_route, vector);
}

static int op_mask(struct mint_fabric *f, struct mint_devtab_hdr *t, struct mint_dev_entry *e,
		   uint64_t masked)
{
	uint64_t route = ald64(&e->route, memory_order_relaxed); /* ours: lock held */
	/* relaxed: ours, lock held. */
	if (!masked && ald32(&e->state, memory_order_relaxed) != MINT_DEV_ATTACHED)
		return -ENOTCONN; /* orphaned or detached: nobody to deliver to */
	set_route(f, e, route_of(ROUTE_OWNER(route), ROUTE_VECTOR(route), masked));
	changed(t);
	return 0;
}

int mint_dev_mask(struct mint_fabric *f, uint32_t id) { return locked_op(f, id, op_mask, 1); }
int mint_dev_unmask(struct mint_fabric *f, uint32_t id) { return locked_op(f, id, op_mask, 0); }

/* A VNI port or a NIC ring: its rings are its node's objects, so it is
 * neither moved nor detached (nothing could give it back). */
static bool bound_to_node(const struct mint_dev_entry *e)
{
	uint32_t type = rd32(&e->type);
	return type == MINT_DEV_VNI || type == MINT_DEV_NIC;
}

/* Mask E and wait until its owner's handler is out of consume; on a
 * timeout, E is routed as before.  *ROUTE: the route before. */
static int quiesce(struct mint_fabric *f, struct mint_dev_entry *e, uint64_t *route)
{
	*route = ald64(&e->route, memory_order_relaxed); /* ours: lock held */
	mask(e);
	int rc = wait_handler(f, e, ROUTE_OWNER(*route));
	if (rc < 0)
		set_route(f, e, *route);
	return rc;
}

/* Free the slot once no handler is inside consume: one still there would
 * store its count into whatever device takes the slot next. */
static int op_unregister(struct mint_fabric *f, struct mint_devtab_hdr *t,
			 struct mint_dev_entry *e, uint64_t unused)
{
	(void)unused;
	uint64_t route;
	int rc = quiesce(f, e, &route);
	if (rc < 0)
		return rc;
	/* release: pairs with the acquire load in live_entry. */
	ast32(&e->state, MINT_DEV_FREE, memory_order_release);
	changed(t);
	notify(f, ROUTE_OWNER(route));
	return 0;
}

static int op_detach(struct mint_fabric *f, struct mint_devtab_hdr *t, struct mint_dev_entry *e,
		     uint64_t unused)
{
	(void)unused;
	if (bound_to_node(e))
		return -EPERM;
	uint64_t route;
	int rc = quiesce(f, e, &route);
	if (rc < 0)
		return rc;
	set_route(f, e, route_of(MINT_NODE_NONE, ROUTE_VECTOR(route), true));
	/* release: pairs with the acquire load in live_entry. */
	ast32(&e->state, MINT_DEV_DETACHED, memory_order_release);
	changed(t);
	notify(f, ROUTE_OWNER(route));
	return 0;
}

int mint_dev_detach(struct mint_fabric *f, uint32_t id) { return locked_op(f, id, op_detach, 0); }

int mint_dev_unregister(struct mint_fabric *f, uint32_t id)
{
	return locked_op(f, id, op_unregister, 0);
}

static int op_link(struct mint_fabric *f, struct mint_devtab_hdr *t, struct mint_dev_entry *e,
		   uint64_t arg)
{
	uint32_t up = (uint32_t)(arg >> 32), ifindex = (uint32_t)arg;
	if (ifindex)
		rst32(&e->ifindex, ifindex); /* read lock-free by read_info */
	/* relaxed: the table's generation publishes it. */
	uint32_t was = axchg32(&e->link, up, memory_order_relaxed);
	changed(t);
	if (was != up)
		notify(f, ROUTE_OWNER(ald64(&e->route, memory_order_relaxed))); /* ours: lock held */
	return 0;
}

int mint_dev_set_link(struct mint_fabric *f, uint32_t id, bool up, uint32_t ifindex)
{
	uint64_t arg = (uint64_t)(up ? MINT_DEV_LINK_UP : MINT_DEV_LINK_DOWN) << 32 | ifindex;
	return locked_op(f, id, op_link, arg);
}

/* ---- moves ---- */

static int op_move_begin(struct mint_fabric *f, struct mint_devtab_hdr *t,
			 struct mint_dev_entry *e, uint64_t to64)
{
	uint32_t to = (uint32_t)to64;
	uint64_t route = ald64(&e->route, memory_order_relaxed); /* ours: lock held */
	uint32_t from = ROUTE_OWNER(route);
	if (bound_to_node(e))
		return -EPERM;
	if (to >= MINT_MAX_NODES)
		return -ERANGE;
	if (!mint_node_alive(f, to))
		return -EHOSTDOWN;
	/* relaxed: ours, lock held. */
	if (from == to && ald32(&e->state, memory_order_relaxed) == MINT_DEV_ATTACHED)
		return -EALREADY;
	int32_t pid;
	uint64_t start;
	mover_self(&pid, &start);
	/* The intent first: a mover that dies after this is settled by the
	 * next operation (repair).  The lock's release publishes it. */
	wr32(&e->move_from, from);
	rst32(&e->move_to, to); /* move_to and move_phase: read lock-free by read_info */
	wr32((uint32_t *)&e->mover_pid, (uint32_t)pid);
	wr64(&e->mover_start, start);
	rst32(&e->move_phase, MINT_DEV_MOVE_MASKED);
	mask(e);
	changed(t);
	int rc = wait_handler(f, e, from);
	if (rc < 0) {
		rst32(&e->move_phase, MINT_DEV_MOVE_NONE);
		set_route(f, e, route);
		changed(t);
	}
	return rc;
}

int mint_dev_move_begin(struct mint_fabric *f, uint32_t id, uint32_t to)
{
	return locked_op(f, id, op_move_begin, to);
}

/* Under the lock: device ID with a move this process began. */
static int my_move(struct mint_fabric *f, uint32_t id, bool forward)
{
	struct mint_devtab_hdr *t;
	int rc = lock_table(f, &t, false);
	if (rc < 0)
		return rc;
	struct mint_dev_entry *e = live_entry(t, id);
	if (!e)
		return unlock_table(f, t, -ENODEV);
	if (rd32(&e->move_phase) != MINT_DEV_MOVE_MASKED || !mover_is_self(e))
		return unlock_table(f, t, -ESTALE);
	uint32_t from = rd32(&e->move_from), to = rd32(&e->move_to);
	end_move(f, t, e, forward ? to : from);
	notify(f, from);
	notify(f, to);
	return unlock_table(f, t, 0);
}

int mint_dev_move_finish(struct mint_fabric *f, uint32_t id) { return my_move(f, id, true); }
int mint_dev_move_abort(struct mint_fabric *f, uint32_t id) { return my_move(f, id, false); }

int mint_dev_move(struct mint_fabric *f, uint32_t id, uint32_t to)
{
	int rc = mint_dev_move_begin(f, id, to);
	return rc < 0 ? rc : mint_dev_move_finish(f, id);
}

/* ---- reading ---- */

static void read_info(struct mint_dev_entry *e, uint32_t id, struct mint_dev_info *in)
{
	memset(in, 0, sizeof(*in));
	in->id = id;
	/* rld*: read without the lock, which a writer may hold (see le.h). */
	in->type = rld32(&e->type);
	/* relaxed: a snapshot, its fields not taken together (the route
	 * word is one load). */
	in->state = ald32(&e->state, memory_order_relaxed);
	in->link = ald32(&e->link, memory_order_relaxed);
	uint64_t route = ald64(&e->route, memory_order_relaxed);
	in->owner = ROUTE_OWNER(route);
	in->vector = ROUTE_VECTOR(route);
	in->masked = route & MINT_DEV_MASKED;
	in->moving = rld32(&e->move_phase) != MINT_DEV_MOVE_NONE;
	in->move_to = rld32(&e->move_to);
	in->ifindex = rld32(&e->ifindex);
	rname_in(in->name, e->name, sizeof(e->name));
	/* relaxed: a snapshot of counters; handled first, so pending is
	 * never negative. */
	in->handled = ald64(&e->handled, memory_order_relaxed);
	in->raised = ald64(&e->raised, memory_order_relaxed);
	in->masked_raises = ald64(&e->masked_raises, memory_order_relaxed);
	in->pending_delivered = ald64(&e->pending_delivered, memory_order_relaxed);
	in->delivered = in->raised - in->masked_raises;
	in->doorbells = ald64(&e->doorbells, memory_order_relaxed);
	in->pending = in->raised >= in->handled ? in->raised - in->handled : 0;
}

int mint_dev_info(struct mint_fabric *f, uint32_t id, struct mint_dev_info *info)
{
	struct mint_dev_entry *e = live_entry(table(f), id);
	if (!e)
		return -ENODEV;
	read_info(e, id, info);
	return 0;
}

int mint_dev_list(struct mint_fabric *f, struct mint_dev_info *infos, int cap)
{
	struct mint_devtab_hdr *t;
	int rc = lock_table(f, &t, false);
	if (rc < 0)
		return rc == -ENODEV ? 0 : rc; /* no table yet: no devices */
	int n = 0;
	for (uint32_t id = 0; id < MINT_DEV_MAX; id++) {
		struct mint_dev_entry *e = live_entry(t, id);
		if (e && n < cap)
			read_info(e, id, &infos[n]);
		n += e != NULL;
	}
	return unlock_table(f, t, n);
}

uint32_t mint_dev_generation(struct mint_fabric *f)
{
	struct mint_devtab_hdr *t = table(f);
	/* acquire: pairs with the release add in changed(). */
	return t ? ald32(&t->generation, memory_order_acquire) : 0;
}

/* ---- the owner's periodic check ---- */

/* Is device ID the one the owner registered: NAME, TYPE, ours, attached,
 * on VECTOR (masked or not: a mask is somebody's decision)? */
static bool registered_as(struct mint_fabric *f, uint32_t id, uint32_t type, const char *name,
			  uint32_t vector)
{
	struct mint_dev_info d;
	return mint_dev_info(f, id, &d) == 0 && d.type == type && d.state == MINT_DEV_ATTACHED &&
	       d.owner == f->self && d.vector == vector && !d.moving && strcmp(d.name, name) == 0;
}

/* Interrupts pending, none on the way (disarmed) and none consumed since
 * the last look (*SEEN: handled + 1 then, 0 at first): a doorbell that
 * was never rung or got lost. */
static bool stalled(struct mint_fabric *f, uint32_t id, uint64_t *seen)
{
	struct mint_dev_entry *e = live_entry(table(f), id);
	if (!e)
		return false;
	/* relaxed: a periodic look; a consume racing it only moves handled,
	 * and the worst outcome is one extra doorbell. */
	uint64_t handled = ald64(&e->handled, memory_order_relaxed);
	uint64_t raised = ald64(&e->raised, memory_order_relaxed);
	bool stuck = raised > handled && !ald32(&e->armed, memory_order_relaxed) &&
		     *seen == handled + 1;
	*seen = handled + 1;
	return stuck;
}

/* More pending than could ever be raised between two heartbeats, or
 * fewer raised than handled: a count somebody overwrote.  The owner
 * writes off what lies between (handled := raised): 1 if it did. */
#define PENDING_POSSIBLE (1ull << 32)
static int rebase_counts(struct mint_fabric *f, uint32_t id)
{
	struct mint_dev_entry *e = live_entry(table(f), id);
	if (!e)
		return 0;
	/* acquire: as in take_raised. */
	uint64_t handled = ald64(&e->handled, memory_order_acquire);
	uint64_t raised = ald64(&e->raised, memory_order_seq_cst);
	if (raised - handled <= PENDING_POSSIBLE)
		return 0;
	/* acq_rel: as the CAS in take_raised; a consume racing us wins. */
	return acas64(&e->handled, &handled, raised, memory_order_acq_rel) ? 1 : 0;
}

int mint_dev_heal(struct mint_fabric *f, uint32_t *id, uint32_t type, const char *name,
		  uint32_t vector, uint64_t *seen)
{
	if (f->self == MINT_NODE_NONE)
		return -ENOTCONN;
	struct mint_devtab_hdr *t = table(f);
	if (t) /* we hold the table: its directory entry is ours to keep */
		mint_obj_claim(f, DEVTAB_OBJ, MINT_OBJ_DEVTAB, mint_fabric_off(f, t), sizeof(*t));
	if (!registered_as(f, *id, type, name, vector)) {
		int rc = mint_dev_register(f, type, name, f->self, vector);
		if (rc < 0)
			return rc;
		*id = (uint32_t)rc;
		*seen = 0;
		return 1;
	}
	if (rebase_counts(f, *id))
		return 1;
	if (!stalled(f, *id, seen))
		return 0;
	int rc = mint_ipi_send(f, f->self, vector); /* our handler consumes and re-arms */
	return rc < 0 ? rc : 2;
}
