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

/* Run FN(ARG) with the calling thread in namespace NS (NULL: the one it
 * started in), then come back.  FN's result, or a negative errno of
 * entering or leaving NS. */
int hostif_in_ns(const char *ns, int (*fn)(void *arg), void *arg);

/*
 * The hardware interrupts of IFNAME in namespace NS (NULL: ours), sorted,
 * without repeats: the MSI/MSI-X vectors and the legacy line of the bus
 * device behind it (its ethtool bus-info, e.g. a PCI address, under
 * /sys/bus/pci/devices: virtio-net names its vectors after the virtio
 * device, not the interface); for a bus device sysfs lists none for (not
 * PCI), the lines of /proc/interrupts whose action names the interface
 * (IFNAME or IFNAME-<queue>); none for an interface with no bus (veth).  Up to CAP
 * into IRQS; returns how many (0: none, as for veth), or a negative errno
 * (-EINVAL for a name that is no interface name).
 */
int hostif_irqs(const char *ifname, const char *ns, unsigned *irqs, int cap);

/*
 * Point the hardware interrupts of IFNAME in NS (hostif_irqs) at CORES,
 * through /proc/irq/N/smp_affinity_list, every one it can.  *RES says how
 * many it found and pointed, and the first error of those it could not.
 * Returns 0, or a negative errno if they could not be looked for.
 */
struct hostif_irq_result {
	int found, pointed;
	int error; /* negative errno, 0 if every one was pointed */
};
int hostif_irq_affinity(const char *ifname, const char *ns, const uint64_t cores[MINT_CPU_WORDS],
			struct hostif_irq_result *res);

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
