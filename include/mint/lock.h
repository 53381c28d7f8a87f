/* SPDX-License-Identifier: MIT */
/* Cross-node locks that survive the death of their holder. */
#ifndef MINT_LOCK_H
#define MINT_LOCK_H

#include <stdbool.h>

#include "mint/fabric.h"
#include "mint/api.h"

MINT_BEGIN_DECLS

#define MINT_LOCK_RECOVERED 1

/* How long mint_lock_acquire waits for a live holder. */
#define MINT_LOCK_WAIT_MS 2000u

/*
 * Take L (a struct mint_lock inside F's fabric) as this process's identity.
 * Spins, then yields, then sleeps briefly; while waiting it checks the
 * holder and, if the holder is dead, takes the lock over.  A holder is
 * dead unless it is a live thread that has F's file mapped (and, for a
 * node, the live node of the epoch its tag names).  Returns 0, or
 * MINT_LOCK_RECOVERED when taken from a dead holder: the guarded object
 * may be half-updated and MINT_LOCK_NEEDS_CHECK stays set on the lock
 * until mint_lock_checked.  -EDEADLK if this identity already holds it;
 * -ETIMEDOUT after MINT_LOCK_WAIT_MS on a live holder; -EINTR when a
 * signal handler ran while it slept.
 */
int mint_lock_acquire(struct mint_fabric *f, struct mint_lock *l);

/* Take L only if free (or held by the dead): 0, MINT_LOCK_RECOVERED, -EBUSY. */
int mint_lock_try(struct mint_fabric *f, struct mint_lock *l);

/* Release L; -EPERM if this identity does not hold it. */
int mint_lock_release(struct mint_fabric *f, struct mint_lock *l);

/* The guarded object was checked after a recovery: clear the flag. */
void mint_lock_checked(struct mint_lock *l);

/* Is the holder of L dead (false when L is free)? */
bool mint_lock_holder_dead(struct mint_fabric *f, const struct mint_lock *l);

MINT_END_DECLS

#endif
