/* SPDX-License-Identifier: MIT */
/* OS nodes: the node table, joining, leaving, liveness. */
#ifndef MINT_NODE_H
#define MINT_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/fabric.h"
#include "mint/api.h"

MINT_BEGIN_DECLS

/* What the table stores.  Whether an UP node is really alive (its process
 * exists and its heartbeat is fresh) is a verdict each reader makes. */
enum mint_node_state {
	MINT_NODE_FREE = 0, /* never started, or stopped cleanly */
	MINT_NODE_UP = 1,   /* joined; see mint_node_alive */
};

enum mint_dispatch_mode {
	MINT_MODE_POLL = 0,     /* spin on the pending set, no syscalls */
	MINT_MODE_SLEEP = 1,    /* futex sleep whenever idle */
	MINT_MODE_ADAPTIVE = 2, /* spin a while, then sleep */
};

/* A node is declared dead when its process is gone, or when its heartbeat
 * is older than this (a hung agent). */
#define MINT_HEARTBEAT_PERIOD_MS 100u
#define MINT_HEARTBEAT_TIMEOUT_MS 3000u

struct mint_node_opts {
	const char *name;               /* shown in status; default "node<ID>" */
	const char *netns;              /* its network namespace, or NULL */
	uint64_t cores[MINT_CPU_WORDS]; /* bit set of owned cores */
	enum mint_dispatch_mode mode;
};

struct mint_node_info {
	uint32_t id;
	uint32_t state;                 /* enum mint_node_state as stored */
	bool alive;                     /* verdict of mint_node_alive */
	bool hung;                      /* alive, but its heartbeat stood still
					 * for MINT_HEARTBEAT_TIMEOUT_MS: a guest
					 * whose QEMU runs and whose agent does
					 * not (judged on the host only) */
	uint32_t epoch;
	int32_t pid;
	uint64_t pid_start;             /* its /proc start time (0: unknown) */
	uint32_t arch;
	uint32_t mode;
	uint64_t cores[MINT_CPU_WORDS];
	uint64_t heartbeat_age_ns;      /* a guest's, on the host: since the
					 * fabric's ivshmem server saw it move */
	uint64_t join_ns;
	char name[MINT_NAME_MAX];
	char netns[MINT_NAME_MAX];
};

/*
 * Make this process node ID: -ERANGE if ID >= MINT_MAX_NODES, -EBUSY if
 * node ID is alive, -EALREADY if this handle already joined, -EDEADLK if
 * this thread holds the directory lock (as do leave and evict).  A node found
 * dead is taken over (epoch + 1), keeping its pending interrupts.
 */
int mint_node_join(struct mint_fabric *f, uint32_t id, const struct mint_node_opts *opts);

/* Mark this process's node FREE.  -ESTALE if a newer join took the entry
 * over meanwhile (this process looked dead): the entry is left alone. */
int mint_node_leave(struct mint_fabric *f);

/* Mark node ID, found dead, FREE (its pending interrupts stay).  -EBUSY if
 * it is alive, -ERANGE. */
int mint_node_evict(struct mint_fabric *f, uint32_t id);

/* What mint_node_heartbeat repaired in our entry (bits of its result). */
#define MINT_HEALED_IDENTITY 1  /* state, id, epoch or pid: written back */
#define MINT_HEALED_DOORBELL 2  /* a process node's kvec_mask or kpending
				   not 0: cleared, the raises they held
				   made pending */

/* Publish this node's heartbeat (every MINT_HEARTBEAT_PERIOD_MS) and check
 * our entry: 0, or the MINT_HEALED_* bits of what a peer's write had broken.
 * -ESTALE once a newer join took the entry over (a later epoch, UP, naming
 * another live process that maps this fabric): stop acting as the node.
 * An entry overwritten in any other way (state, id, epoch, pid) is a
 * forgery: the identity is written back. */
int mint_node_heartbeat(struct mint_fabric *f);

/* Is node ID joined, its process there, and its heartbeat fresh? */
bool mint_node_alive(struct mint_fabric *f, uint32_t id);

/* Snapshot of node ID's entry (with the liveness verdict). -ERANGE. */
int mint_node_info(struct mint_fabric *f, uint32_t id, struct mint_node_info *info);

/* Is E's node a process of the kernel we run on (its pid and clock ours)?
 * Not for a guest node seen from the host, nor for anything seen from a
 * guest. */
bool mint_node_same_kernel(const struct mint_node_entry *e);

/* The table entry itself, or NULL if ID is out of range. */
struct mint_node_entry *mint_node_entry(struct mint_fabric *f, uint32_t id);

/* The running build's ELF machine number (62 x86_64, 183 aarch64, ...). */
uint32_t mint_arch_self(void);
const char *mint_arch_name(uint32_t arch);

/* Is process PID, started at START (0: any), alive and not a zombie? */
bool mint_pid_alive(int32_t pid, uint64_t start);

/* /proc/PID/stat starttime of PID, or 0. */
uint64_t mint_pid_start(int32_t pid);

MINT_END_DECLS

#endif
