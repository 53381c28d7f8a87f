/* SPDX-License-Identifier: MIT */
/*
 * A fabric's agents found on the host, trusting nothing the fabric holds:
 * a process is node N's agent when the kernel shows it holding both the
 * fabric file and node N's marker in the fabric's run directory open
 * (/proc/PID/fd).  A pid the fabric names proves nothing: any process
 * that can write the file can write one there.
 */
#ifndef MINT_FABRIC_PROCS_H
#define MINT_FABRIC_PROCS_H

#include <stdint.h>
#include <sys/types.h>

#include "mint/layout.h"

#define FABRIC_PROCS_MAX 256

struct fabric_procs {
	/* What proves it: the fabric file and each node's marker, by their
	 * identity, or (once removed) by the name the kernel shows for them. */
	struct fabric_procs_file {
		int have;
		dev_t dev;
		ino_t ino;
		char deleted[300];
	} file, marker[MINT_MAX_NODES];
	/* The agents found: pid and node. */
	uint32_t n;
	pid_t pid[FABRIC_PROCS_MAX];
	uint32_t id[FABRIC_PROCS_MAX];
};

/* Find fabric FABRIC's (a name or path) agents into FP: their number, or
 * a negative errno.  Processes the caller may not inspect are not seen. */
int fabric_procs_find(const char *fabric, struct fabric_procs *fp);

/* Stop FP's agents of node ONLY (MINT_MAX_NODES: all): SIGTERM, SIGKILL
 * after GRACE_MS, each signalled only while still proven (through a pidfd,
 * so never a process that took a dead agent's pid).  Returns how many
 * were stopped, or -EBUSY if one is still running. */
int fabric_procs_stop(const struct fabric_procs *fp, uint32_t only, int grace_ms);

/* Is PID one of FP's agents? */
int fabric_procs_has(const struct fabric_procs *fp, pid_t pid);

#endif
