/* SPDX-License-Identifier: MIT */
/* Named network namespaces, compatible with `ip netns` (/run/netns/NAME). */
#ifndef MINT_NETNS_H
#define MINT_NETNS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mint/fabric.h"

/* Move the calling thread into namespace NAME, creating it (with its
 * loopback up) if it does not exist.  Call before creating threads.
 * Returns 0 or a negative errno, with *WHAT naming the step that failed. */
int netns_enter(const char *name, const char **what);

/* A descriptor of the existing namespace NAME (for setns or
 * IFLA_NET_NS_FD), or -ENOENT if there is none, -EINVAL for a name
 * netns_name_ok refuses, or another negative errno. */
int netns_open(const char *name);

/* Move the calling thread into the existing namespace NAME: 0, -ENOENT
 * if there is none, -EINVAL for a name netns_name_ok refuses, or another
 * negative errno (-EPERM without root). */
int netns_join(const char *name);

/* Is NAME one a namespace of ours may have: letters, digits, '.', '_',
 * '-', not starting with '.', under 64 bytes?  Names read from the fabric
 * (any peer writes it) are checked before a path is made of them. */
bool netns_name_ok(const char *name);

/* Remove namespace NAME's name (it ends when its last user leaves).
 * -EINVAL for a name netns_name_ok refuses. */
int netns_remove(const char *name);

/* The interface ioctl REQ on IFNAME in the caller's namespace, through a
 * socket of its own; IFR's name is set to IFNAME, its other fields are
 * the caller's.  0 or -errno. */
int netif_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr);

/* The namespace mint gives node ID of fabric F, from the name its
 * header records. */
void netns_node_name(struct mint_fabric *f, uint32_t id, char *buf, size_t cap);

/* Is NAME (read from node ID's record: any peer writes the fabric) the
 * namespace name mint gives node ID on F?  Only such a name is entered or
 * removed. */
bool netns_node_ours(struct mint_fabric *f, uint32_t id, const char *name);

/* netns_node_name from the fabric's NAME (as given to --fabric), for a
 * fabric that cannot be attached. */
void netns_node_name_for(const char *fabric, uint32_t id, char *buf, size_t cap);

#endif
