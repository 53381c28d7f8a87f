/* SPDX-License-Identifier: MIT */
/* Cross-node locks: the owner word names the holder, so a waiter can tell
 * a slow holder from a dead one and take the lock over. */
#include "mint/lock.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "le.h"
#include "mint/node.h"

/* How many waits pass between two checks of the holder's health. */
#define HOLDER_CHECK_EVERY 64u

/* Bits 40-63 of a tag: the node's epoch, or the thread's start time. */
#define TAG_STAMP(x) ((uint64_t)((x) & 0xffffff) << 40)

/* The calling thread's start time, read once per thread id (a forked
 * child has a new one).  0 when /proc does not tell. */
static uint64_t self_start(int32_t tid)
{
	static _Thread_local int32_t cached_tid;
	static _Thread_local uint64_t cached_start;
	if (cached_tid != tid) {
		cached_start = mint_pid_start(tid);
		cached_tid = tid;
	}
	return cached_start;
}

/* The owner tag of the calling thread (see struct mint_lock).  A process
 * that is not a node stamps its thread's start time, so that a dead
 * holder's thread id reused by a new thread does not look alive. */
static uint64_t self_tag(const struct mint_fabric *f)
{
	int32_t tid = (int32_t)gettid();
	uint64_t tag = (uint32_t)tid;
	if (f->self != MINT_NODE_NONE)
		return tag | (uint64_t)(f->self + 1) << 32 | TAG_STAMP(f->self_epoch);
	return tag | TAG_STAMP(self_start(tid));
}

/* Does a line of /proc/PID/maps map the file DEV:INO? */
static bool maps_line_is(const char *line, unsigned maj, unsigned min, unsigned long long ino)
{
	unsigned lmaj, lmin;
	unsigned long long lino;
	return sscanf(line, "%*x-%*x %*s %*x %x:%x %llu", &lmaj, &lmin, &lino) == 3 &&
	       lmaj == maj && lmin == min && lino == ino;
}

bool mint_pid_maps_fabric(const struct mint_fabric *f, int32_t pid)
{
	struct stat st;
	char path[64], line[512];
	if (pid <= 0 || fstat(f->fd, &st) != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *maps = fopen(path, "re");
	/* Not allowed to look: another user's process, which may be ours
	 * if we are not root; root may look at every process mint starts. */
	if (!maps)
		return (errno == EACCES || errno == EPERM) && geteuid() != 0;
	bool found = false;
	while (!found && fgets(line, sizeof(line), maps))
		found = maps_line_is(line, major(st.st_dev), minor(st.st_dev),
				     (unsigned long long)st.st_ino);
	fclose(maps);
	return found;
}

/* A holder that is not a node: its thread must exist, not be a zombie,
 * have started when the tag says (0: the holder could not tell), and
 * have this fabric mapped: any other process (pid 1, say, written there
 * by a peer) holds nothing of ours. */
static bool tool_dead(struct mint_fabric *f, int32_t tid, uint32_t stamp)
{
	if (!mint_pid_alive(tid, 0))
		return true;
	uint64_t start = mint_pid_start(tid);
	if (stamp != 0 && start != 0 && (start & 0xffffff) != stamp)
		return true;
	return !mint_pid_maps_fabric(f, tid);
}

static bool tag_dead(struct mint_fabric *f, uint64_t tag)
{
	int32_t tid = (int32_t)(tag & 0xffffffffu);
	uint32_t node_plus1 = (uint32_t)(tag >> 32) & 0xff;
	if (!node_plus1)
		return tool_dead(f, tid, (uint32_t)(tag >> 40));
	struct mint_node_entry *e = mint_node_entry(f, node_plus1 - 1);
	if (!e)
		return true; /* garbage tag: nobody can hold it */
	/* acquire: pairs with the release store of state at join.  A node
	 * that left, rejoined (new epoch) or died holds nothing, even if its
	 * thread id was reused since. */
	if (ald32(&e->state, memory_order_acquire) != MINT_NODE_UP ||
	    (ald32(&e->epoch, memory_order_relaxed) & 0xffffff) != (uint32_t)(tag >> 40) ||
	    !mint_node_alive(f, node_plus1 - 1))
		return true;
	/* A holder in another kernel: its node being alive is all we know. */
	return mint_node_same_kernel(e) && !mint_pid_alive(tid, 0);
}

bool mint_lock_holder_dead(struct mint_fabric *f, const struct mint_lock *l)
{
	uint64_t tag = ald64(&l->owner, memory_order_relaxed);
	return tag != 0 && tag_dead(f, tag);
}

/* One attempt: 0 taken, MINT_LOCK_RECOVERED, -EBUSY, -EDEADLK. */
static int attempt(struct mint_fabric *f, struct mint_lock *l, uint64_t me, bool check_holder)
{
	uint64_t cur = ald64(&l->owner, memory_order_relaxed);
	if (cur == me)
		return -EDEADLK;
	/* acquire on success: what the previous holder wrote under the lock is
	 * visible to us; pairs with the release store in mint_lock_release. */
	if (cur == 0)
		return acas64(&l->owner, &cur, me, memory_order_acquire) ? 0 : -EBUSY;
	if (!check_holder || !tag_dead(f, cur))
		return -EBUSY;
	/* The CAS names the dead tag, so of several waiters only one wins. */
	if (!acas64(&l->owner, &cur, me, memory_order_acquire))
		return -EBUSY;
	aadd32(&l->recoveries, 1, memory_order_relaxed);
	/* relaxed: the flag is read by whoever holds the lock next, and the
	 * lock's own acquire/release orders it. */
	ast32(&l->flags, ald32(&l->flags, memory_order_relaxed) | MINT_LOCK_NEEDS_CHECK,
	      memory_order_relaxed);
	return MINT_LOCK_RECOVERED;
}

int mint_lock_try(struct mint_fabric *f, struct mint_lock *l)
{
	return attempt(f, l, self_tag(f), true);
}

/* Pause before attempt WAITS + 1: 0, or -EINTR when a signal handler ran
 * (the caller's command is being stopped). */
static int pause_for(uint32_t waits)
{
	if (waits < 64) {
		mint_cpu_relax();
	} else if (waits < 256) {
		sched_yield();
	} else {
		struct timespec ts = {0, 50000};
		if (nanosleep(&ts, NULL) != 0 && errno == EINTR)
			return -EINTR;
	}
	return 0;
}

int mint_lock_acquire(struct mint_fabric *f, struct mint_lock *l)
{
	uint64_t me = self_tag(f);
	uint64_t deadline = mint_now_ns(CLOCK_MONOTONIC) + MINT_LOCK_WAIT_MS * 1000000ull;
	for (uint32_t waits = 0;; waits++) {
		int rc = attempt(f, l, me, waits % HOLDER_CHECK_EVERY == HOLDER_CHECK_EVERY - 1);
		if (rc != -EBUSY)
			return rc;
		/* A live holder that keeps it this long is stuck (stopped, or
		 * a peer's forgery we cannot tell from a live node): give up
		 * rather than wait on a shared word for ever. */
		if (waits % HOLDER_CHECK_EVERY == 0 && mint_now_ns(CLOCK_MONOTONIC) > deadline)
			return -ETIMEDOUT;
		if ((rc = pause_for(waits)) != 0)
			return rc;
	}
}

int mint_lock_release(struct mint_fabric *f, struct mint_lock *l)
{
	uint64_t me = self_tag(f);
	/* release: everything written under the lock is visible to the next
	 * holder; pairs with the acquire CAS in attempt. */
	return acas64(&l->owner, &me, 0, memory_order_release) ? 0 : -EPERM;
}

void mint_lock_checked(struct mint_lock *l)
{
	ast32(&l->flags, ald32(&l->flags, memory_order_relaxed) & ~MINT_LOCK_NEEDS_CHECK,
	      memory_order_relaxed);
}
