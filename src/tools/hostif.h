/* SPDX-License-Identifier: MIT */
/* Host network interfaces handed between namespaces (rtnetlink). */
#ifndef MINT_HOSTIF_H
#define MINT_HOSTIF_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/layout.h"

/*
 * Move interface IFNAME from namespace FROM to namespace TO (named as by
 * `ip netns`; NULL: the namespace this process started in), keeping its
 * IPv4 addresses and its up state, as a NIC handed to another OS keeps its
 * configuration.  *IFINDEX receives its index in TO, *UP its link state.
 * Returns 0 or a negative errno with *WHAT naming the failed step.  The
 * calling thread is back in its own namespace on return.
 */
int hostif_move(const char *ifname, const char *from, const char *to, uint32_t *ifindex,
		bool *up, const char **what);

/* Is IFNAME present in namespace NS (NULL: ours)?  0 yes, -ENODEV, or an
 * errno of entering NS. */
int hostif_exists(const char *ifname, const char *ns);

/*
 * Point the hardware interrupts of IFNAME (the lines of /proc/interrupts
 * that name it; veth and dummy have none) at CORES, through
 * /proc/irq/N/smp_affinity_list.  Returns how many it pointed, or a
 * negative errno.
 */
int hostif_irq_affinity(const char *ifname, const uint64_t cores[MINT_CPU_WORDS]);

/*
 * Watch link changes in the calling thread's namespace: an rtnetlink
 * socket subscribed to RTNLGRP_LINK (non-blocking).  hostif_watch_read
 * calls FN for each change waiting (a link gone counts as down) and
 * returns how many, 0 if none, or a negative errno.
 */
typedef void (*hostif_link_fn)(void *arg, uint32_t ifindex, bool running);
int hostif_watch_open(void);
int hostif_watch_read(int fd, hostif_link_fn fn, void *arg);

#endif
