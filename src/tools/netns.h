/* SPDX-License-Identifier: MIT */
/* Named network namespaces, compatible with `ip netns` (/run/netns/NAME). */
#ifndef MINT_NETNS_H
#define MINT_NETNS_H

/* Move the calling thread into namespace NAME, creating it (with its
 * loopback up) if it does not exist.  Call before creating threads.
 * Returns 0 or a negative errno, with *WHAT naming the step that failed. */
int netns_enter(const char *name, const char **what);

/* Remove namespace NAME's name (it ends when its last user leaves). */
int netns_remove(const char *name);

#endif
