/* SPDX-License-Identifier: MIT */
/* A node agent's NIC driver: the emulated NIC's ring -> TAP device nic0. */
#ifndef MINT_NIC_PORT_H
#define MINT_NIC_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/mint.h"

/* Its own TAP, not the VNI's mint0: injected traffic comes from outside
 * the fabric's LAN (node 0 plays the wire), and keeping it apart keeps
 * both devices' counters and routes honest. */
#define NIC_TAP_NAME "nic0"

struct nic_port {
	struct mint_fabric *f;
	struct mint_nic *nic;
	int tap;
};

/*
 * Create nic0 (in the calling thread's namespace) with MAC 02:6e:00:00:00:ID
 * and IPV4/PREFIX_LEN, attach the node's NIC with those addresses and
 * interrupt moderation ITR_NS (0: none) and install the receive handler on
 * D for MINT_VEC_NIC.  Returns 0 or a negative errno with *WHAT naming the
 * failed step.
 */
int nic_port_start(struct nic_port *p, struct mint_fabric *f, struct mint_dispatcher *d,
		   const uint8_t ipv4[4], uint32_t prefix_len, uint64_t itr_ns, const char **what);

/* Stop the driver and mark the NIC down (unless a newer agent of the node
 * attached it since). */
void nic_port_stop(struct nic_port *p);

#endif
