/* SPDX-License-Identifier: MIT */
/* An agent's guard against its fabric file being cut short under it. */
#ifndef MINT_FABRIC_GUARD_H
#define MINT_FABRIC_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/fabric.h"

/*
 * Watch F's file: keep a descriptor of it of our own and catch SIGBUS.  A
 * SIGBUS while the file is shorter than F's mapping (another process
 * truncated it: every access past its end faults) writes one line naming
 * node ID to stderr and ends the process with status 1; any other SIGBUS
 * is left to kill it as usual.  0 or a negative errno.
 */
int fabric_guard_start(const struct mint_fabric *f, uint32_t id);

/* Is the file shorter than the mapping now?  *SIZE gets its size. */
bool fabric_guard_cut(uint64_t *size);

#endif
