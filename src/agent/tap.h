/* SPDX-License-Identifier: MIT */
/* TAP devices with a virtio-net header and offloads, as the VNI uses them. */
#ifndef MINT_TAP_H
#define MINT_TAP_H

#include <stdbool.h>
#include <net/if.h>
#include <stdint.h>

/*
 * Create TAP device NAME in the calling thread's network namespace with a
 * virtio-net header, checksum and TSO offloads, MAC, IPv4 address
 * (network order) / PREFIX_LEN, and bring it up.  *FD is non-blocking.
 * Returns 0 or a negative errno; *WHAT names the step that failed.
 */
int tap_open(const char *name, const uint8_t mac[6], const uint8_t ipv4[4], uint32_t prefix_len,
	     int *fd, const char **what);

/* A plain TAP (no virtio-net header, no address), up, IPv6 off, named
 * after NAME, which may be a pattern ("mintg%d"): the name it got is
 * written back.  *FD (blocking, close-on-exec) is its only descriptor, so
 * the device goes away when the last copy of it is closed.  0 or -errno. */
int tap_plain(char name[IFNAMSIZ], int *fd);

/* Carrier on or off (the link the host stack sees). */
int tap_set_carrier(int fd, bool on);

#endif
