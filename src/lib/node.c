/* SPDX-License-Identifier: MIT */
/* The node table: joining, leaving, heartbeats and the liveness verdict. */
#include "mint/node.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bell.h"
#include "guest_internal.h"
#include "internal.h"
#include "le.h"
#include "mint/lock.h"

uint32_t mint_arch_self(void)
{
#if defined(__x86_64__)
	return EM_X86_64;
#elif defined(__aarch64__)
	return EM_AARCH64;
#elif defined(__s390x__)
	return EM_S390;
#elif defined(__i386__)
	return EM_386;
#else
	return EM_NONE;
#endif
}

const char *mint_arch_name(uint32_t arch)
{
	switch (arch) {
	case EM_X86_64: return "x86_64";
	case EM_AARCH64: return "aarch64";
	case EM_S390: return "s390x";
	case EM_386: return "i386";
	default: return "unknown";
	}
}

/* Fields of /proc/PID/stat: STATE and STARTTIME; -1 if PID is gone. */
static int read_stat(int32_t pid, char *state, uint64_t *start)
{
	char path[64], buf[1024];
	/* Relative to a /proc directory descriptor: qemu-user fakes
	 * "/proc/<own pid>/stat" (zero start time) but not this path, so a
	 * node under emulation records the same start time its peers read. */
	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = dir < 0 ? -1 : openat(dir, path, O_RDONLY | O_CLOEXEC);
	if (dir >= 0)
		close(dir);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -1;
	*state = p[2];
	/* starttime is field 22; p + 2 is field 3. */
	p += 2;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	*start = p ? strtoull(p, NULL, 10) : 0;
	return 0;
}

uint64_t mint_pid_start(int32_t pid)
{
	char state;
	uint64_t start;
	return read_stat(pid, &state, &start) == 0 ? start : 0;
}

bool mint_pid_alive(int32_t pid, uint64_t start)
{
	char state;
	uint64_t now_start;
	if (pid <= 0)
		return false;
	if (read_stat(pid, &state, &now_start) != 0)
		return kill(pid, 0) == 0 || errno == EPERM;
	if (state == 'Z' || state == 'X' || state == 'x')
		return false;
	return start == 0 || now_start == 0 || now_start == start;
}

struct mint_node_entry *mint_node_entry(struct mint_fabric *f, uint32_t id)
{
	if (id >= MINT_MAX_NODES)
		return NULL;
	return (struct mint_node_entry *)(f->base + MINT_NODE_TABLE_OFF) + id;
}

bool mint_node_same_kernel(const struct mint_node_entry *e)
{
	return !mint_in_guest() && !(rd32(&e->flags) & MINT_NODE_GUEST);
}

static bool entry_alive(const struct mint_node_entry *e)
{
	/* acquire: pairs with the release store of state at join, so pid and
	 * pid_start below are the joined node's. */
	if (ald32(&e->state, memory_order_acquire) != MINT_NODE_UP)
		return false;
	/* Another kernel's clock and pids are not ours: a guest node's pid is
	 * its QEMU's (the host judges by it alone), and inside a guest an UP
	 * entry of another kernel is taken as alive. */
	if (mint_in_guest())
		return mint_guest_sees_alive(e);
	if (!mint_node_same_kernel(e))
		return mint_pid_alive((int32_t)rd32((const uint32_t *)&e->pid), rd64(&e->pid_start));
	uint64_t beat = ald64(&e->heartbeat_ns, memory_order_relaxed);
	uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
	if (now > beat && now - beat > MINT_HEARTBEAT_TIMEOUT_MS * 1000000ull)
		return false;
	return mint_pid_alive((int32_t)rd32((const uint32_t *)&e->pid), rd64(&e->pid_start));
}

bool mint_node_alive(struct mint_fabric *f, uint32_t id)
{
	struct mint_node_entry *e = mint_node_entry(f, id);
	return e && entry_alive(e);
}

static void fill_identity(struct mint_node_entry *e, uint32_t id,
			  const struct mint_node_opts *opts)
{
	int32_t pid = (int32_t)getpid();
	wr32(&e->id, id);
	wr32((uint32_t *)&e->pid, (uint32_t)pid);
	wr64(&e->pid_start, mint_pid_start(pid));
	wr64(&e->join_ns, mint_now_ns(CLOCK_REALTIME));
	for (uint32_t w = 0; w < MINT_CPU_WORDS; w++)
		wr64(&e->cores[w], opts ? opts->cores[w] : 0);
	memset(e->name, 0, sizeof(e->name));
	memset(e->netns, 0, sizeof(e->netns));
	if (opts && opts->name)
		snprintf(e->name, sizeof(e->name), "%s", opts->name);
	else
		snprintf(e->name, sizeof(e->name), "node%u", id);
	if (opts && opts->netns)
		snprintf(e->netns, sizeof(e->netns), "%s", opts->netns);
	wr32(&e->arch, mint_arch_self());
	wr32(&e->mode, opts ? (uint32_t)opts->mode : MINT_MODE_SLEEP);
	wr32(&e->flags, 0);
	ast64(&e->heartbeat_ns, mint_now_ns(CLOCK_MONOTONIC), memory_order_relaxed);
	ast32(&e->bell.sleeping, MINT_BELL_AWAKE, memory_order_relaxed);
}

int mint_node_join(struct mint_fabric *f, uint32_t id, const struct mint_node_opts *opts)
{
	struct mint_node_entry *e = mint_node_entry(f, id);
	if (!e)
		return -ERANGE;
	if (f->self != MINT_NODE_NONE)
		return -EALREADY;
	if (mint_in_guest() && id != f->guest_id)
		return -EINVAL; /* a guest is the node its device says */
	struct mint_fabric_hdr *h = mint_fabric_hdr(f);
	int rc = mint_dir_lock(f);
	if (rc < 0)
		return rc;
	if (entry_alive(e)) {
		mint_lock_release(f, &h->dir_lock);
		return -EBUSY;
	}
	uint32_t epoch = ald32(&e->epoch, memory_order_relaxed) + 1;
	fill_identity(e, id, opts);
	if (mint_in_guest())
		mint_guest_fill_identity(e);
	else /* a process node: none of its vectors goes to a guest kernel */
		ast64(&e->kvec_mask, 0, memory_order_relaxed);
	ast32(&e->epoch, epoch, memory_order_relaxed);
	/* release: the identity above is visible to whoever sees UP; pairs
	 * with the acquire loads of state in entry_alive and tag_dead. */
	ast32(&e->state, MINT_NODE_UP, memory_order_release);
	/* Released under the identity that took it; only then are we the node. */
	mint_lock_release(f, &h->dir_lock);
	f->self = id;
	f->self_epoch = epoch;
	f->self_start = rd64(&e->pid_start);
	f->self_pid = (int32_t)rd32((const uint32_t *)&e->pid); /* a guest's is QEMU's */
	return 0;
}

/* Is the entry still ours, or did a newer join take it over (we were
 * stalled long enough to look dead)? */
static bool still_ours(struct mint_fabric *f, const struct mint_node_entry *e)
{
	return ald32(&e->epoch, memory_order_relaxed) == f->self_epoch &&
	       (int32_t)rd32((const uint32_t *)&e->pid) == f->self_pid;
}

/* Every identity word as our join wrote it: a stray write to any of them
 * makes peers think us dead or someone else. */
static bool intact(struct mint_fabric *f, const struct mint_node_entry *e)
{
	return still_ours(f, e) && rd32(&e->id) == f->self && rd64(&e->pid_start) == f->self_start &&
	       ald32(&e->state, memory_order_relaxed) == MINT_NODE_UP;
}

/* A takeover we can verify: a later epoch, UP, naming a live process
 * other than us that has this fabric mapped.  Anything else in the entry
 * is a forgery or garbage, not a newer agent. */
static bool taken_over(struct mint_fabric *f, const struct mint_node_entry *e)
{
	int32_t pid = (int32_t)rd32((const uint32_t *)&e->pid);
	/* acquire: pairs with the release store of state at join, so pid,
	 * epoch and pid_start are the joiner's. */
	if (ald32(&e->state, memory_order_acquire) != MINT_NODE_UP || pid == f->self_pid ||
	    (int32_t)(ald32(&e->epoch, memory_order_relaxed) - f->self_epoch) <= 0)
		return false;
	/* Inside a guest host pids cannot be checked; and our id is our
	 * device's, so another joiner of it is a new QEMU's agent: ours died. */
	return mint_in_guest() ||
	       (mint_pid_alive(pid, rd64(&e->pid_start)) && mint_pid_maps_fabric(f, pid));
}

/* Under the directory lock (a genuine joiner takes it too): write our
 * identity back, unless a takeover happened meanwhile.  MINT_HEALED_IDENTITY,
 * -ESTALE, or an error of the lock. */
static int restore_identity(struct mint_fabric *f, struct mint_node_entry *e)
{
	int rc = mint_dir_lock(f);
	if (rc < 0)
		return rc;
	if (taken_over(f, e)) {
		rc = -ESTALE;
	} else {
		wr32(&e->id, f->self);
		wr32((uint32_t *)&e->pid, (uint32_t)f->self_pid);
		wr64(&e->pid_start, f->self_start);
		ast32(&e->epoch, f->self_epoch, memory_order_relaxed);
		/* release: pairs with the acquire loads of state, as at join. */
		ast32(&e->state, MINT_NODE_UP, memory_order_release);
		rc = MINT_HEALED_IDENTITY;
	}
	mint_lock_release(f, &mint_fabric_hdr(f)->dir_lock);
	return rc;
}

int mint_node_leave(struct mint_fabric *f)
{
	struct mint_node_entry *e = mint_node_entry(f, f->self);
	if (!e)
		return -ENOTCONN;
	struct mint_fabric_hdr *h = mint_fabric_hdr(f);
	int rc = mint_dir_lock(f);
	if (rc < 0)
		return rc;
	rc = still_ours(f, e) ? 0 : -ESTALE;
	if (rc == 0) /* release: pairs with the acquire loads of state. */
		ast32(&e->state, MINT_NODE_FREE, memory_order_release);
	mint_lock_release(f, &h->dir_lock);
	f->self = MINT_NODE_NONE;
	return rc;
}

int mint_node_evict(struct mint_fabric *f, uint32_t id)
{
	struct mint_node_entry *e = mint_node_entry(f, id);
	if (!e)
		return -ERANGE;
	struct mint_fabric_hdr *h = mint_fabric_hdr(f);
	int rc = mint_dir_lock(f);
	if (rc < 0)
		return rc;
	rc = entry_alive(e) ? -EBUSY : 0;
	if (rc == 0) /* release: pairs with the acquire loads of state. */
		ast32(&e->state, MINT_NODE_FREE, memory_order_release);
	mint_lock_release(f, &h->dir_lock);
	return rc;
}

/*
 * A process node's vectors all go to its pending set: a kvec_mask (or a
 * kpending) that is not 0 is a peer's write, and would route raises to a
 * guest kernel that is not there, losing them for good.  Clear both and
 * hand the raises that went astray to the dispatcher.  kpending is checked
 * on its own too: a sender that read the bad mask just before we cleared
 * it sets its bit after our look, and the next heartbeat finds it.  A
 * guest's mask belongs to its kernel driver, which we cannot second-guess.
 */
static bool heal_doorbell(struct mint_node_entry *e)
{
	if (mint_in_guest() || (!ald64(&e->kvec_mask, memory_order_relaxed) &&
				!ald64(&e->kpending, memory_order_relaxed)))
		return false;
	ast64(&e->kvec_mask, 0, memory_order_relaxed);
	/* acquire: pairs with the senders' seq_cst fetch_or of kpending. */
	uint64_t astray = axchg64(&e->kpending, 0, memory_order_acquire);
	/* seq_cst: as a sender's raise (mint_ipi_send). */
	aor64(&e->pending[0], astray, memory_order_seq_cst);
	mint_bell_ring_after_rmw(&e->bell);
	return true;
}

int mint_node_heartbeat(struct mint_fabric *f)
{
	struct mint_node_entry *e = mint_node_entry(f, f->self);
	if (!e)
		return -ENOTCONN;
	int rc = 0;
	if (!intact(f, e))
		rc = taken_over(f, e) ? -ESTALE : restore_identity(f, e);
	if (rc < 0)
		return rc;
	if (heal_doorbell(e))
		rc |= MINT_HEALED_DOORBELL;
	/* relaxed: a timestamp, read on its own by observers. */
	ast64(&e->heartbeat_ns, mint_now_ns(CLOCK_MONOTONIC), memory_order_relaxed);
	return rc;
}

int mint_node_info(struct mint_fabric *f, uint32_t id, struct mint_node_info *info)
{
	struct mint_node_entry *e = mint_node_entry(f, id);
	if (!e)
		return -ERANGE;
	memset(info, 0, sizeof(*info));
	info->id = id;
	info->alive = entry_alive(e);
	info->state = ald32(&e->state, memory_order_acquire);
	info->epoch = ald32(&e->epoch, memory_order_relaxed);
	info->pid = (int32_t)rd32((const uint32_t *)&e->pid);
	info->pid_start = rd64(&e->pid_start);
	info->arch = rd32(&e->arch);
	info->mode = rd32(&e->mode);
	for (uint32_t w = 0; w < MINT_CPU_WORDS; w++)
		info->cores[w] = rd64(&e->cores[w]);
	uint64_t beat = ald64(&e->heartbeat_ns, memory_order_relaxed);
	uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
	info->heartbeat_age_ns = now > beat ? now - beat : 0;
	if (!mint_in_guest() && (rd32(&e->flags) & MINT_NODE_GUEST)) {
		/* the guest's clock is not ours: the server's record is */
		info->heartbeat_age_ns = mint_guest_beat_age(e);
		info->hung = info->alive &&
			     info->heartbeat_age_ns > MINT_HEARTBEAT_TIMEOUT_MS * 1000000ull;
	}
	info->join_ns = rd64(&e->join_ns);
	mint_copy_name(info->name, e->name, sizeof(info->name));
	mint_copy_name(info->netns, e->netns, sizeof(info->netns));
	return 0;
}
