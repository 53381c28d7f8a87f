/* SPDX-License-Identifier: MIT */
/* Named network namespaces, compatible with `ip netns` (/run/netns/NAME). */
#ifndef MINT_NETNS_H
#define MINT_NETNS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mint/fabric.h"

/* Move the calling thread into namespace NAME of fabric FABRIC (its
 * path), creating it (with its loopback up) if it does not exist, and
 * record FABRIC as its maker (netns_owner).  Call before creating threads.
 * Returns 0 or a negative errno, with *WHAT naming the step that failed:
 * -EEXIST when another fabric's namespace has that name, -ENOENT when one
 * that no fabric claims does. */
int netns_enter(const char *name, const char *fabric, const char **what);

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

/* Remove namespace NAME's name (it ends when its last user leaves) and
 * its claim.  -EINVAL for a name netns_name_ok refuses. */
int netns_remove(const char *name);

/* Does namespace NAME exist? */
bool netns_exists(const char *name);

/* The path of the fabric recorded as namespace NAME's maker into FABRIC
 * (CAP bytes): 0, -ENOENT when none is recorded. */
int netns_owner(const char *name, char *fabric, size_t cap);

/* May fabric FABRIC (its path) have namespace NAME?  0 yes (it is its
 * maker, or no namespace has that name), -EEXIST when another fabric's
 * has (OWNER: that fabric's path), -ENOENT when one of no known maker
 * has, or another negative errno. */
int netns_check_owner(const char *name, const char *fabric, char *owner, size_t cap);

/* The interface ioctl REQ on IFNAME in the caller's namespace, through a
 * socket of its own; IFR's name is set to IFNAME, its other fields are
 * the caller's.  0 or -errno. */
int netif_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr);

/* Room for netns_fabric_tag; the longest tag kept whole, and how much
 * of a longer name is kept before its hash, so that "mint-TAG-ID" fits
 * MINT_NAME_MAX with any node ID. */
#define NETNS_TAG_MAX 24
#define NETNS_TAG_PLAIN_MAX 23
#define NETNS_TAG_CUT 14

/* The short name mint derives from fabric FABRIC (as given to --fabric,
 * or its path), unique per fabric: NAME for /dev/shm/mint-NAME when NAME
 * has at most NETNS_TAG_PLAIN_MAX characters, else its first
 * NETNS_TAG_CUT characters, '-' and 8 hex digits of a hash of the whole
 * path.  0, or -EINVAL for no valid fabric name. */
int netns_fabric_tag(const char *fabric, char *buf, size_t cap);

/* The namespace mint gives node ID of fabric F: "mint-TAG-ID", derived
 * from the path F was attached by, never from what the fabric holds. */
void netns_node_name(struct mint_fabric *f, uint32_t id, char *buf, size_t cap);

/* Is NAME (read from node ID's record: any peer writes the fabric) the
 * namespace name mint gives node ID on F?  Only such a name is entered or
 * removed. */
bool netns_node_ours(struct mint_fabric *f, uint32_t id, const char *name);

/* netns_node_name from the fabric's NAME (as given to --fabric, or its
 * path), for a fabric that cannot be attached; "" for no valid name. */
void netns_node_name_for(const char *fabric, uint32_t id, char *buf, size_t cap);

#endif
