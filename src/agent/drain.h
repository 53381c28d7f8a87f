/* SPDX-License-Identifier: MIT */
/* Waiting for an agent's worker threads to finish before it frees what
 * they use. */
#ifndef MINT_DRAIN_H
#define MINT_DRAIN_H

#include <pthread.h>
#include <stdbool.h>

/* Wait up to MS milliseconds, in 10 ms steps, for *COUNT (read under
 * LOCK) to reach 0; true if it did. */
bool drain_wait(pthread_mutex_t *lock, const int *count, int ms);

#endif
