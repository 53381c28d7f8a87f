/* SPDX-License-Identifier: MIT */
/* A node agent's VNI driver: TAP device mint0 <-> the fabric. */
#ifndef MINT_VNI_PORT_H
#define MINT_VNI_PORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/tap_uring.h"
#include "mint/mint.h"
#include "mint/vni.h"

#define VNI_TAP_NAME "mint0"

struct vni_port {
	struct mint_fabric *f;
	struct mint_vni *vni;
	int tap;
	pthread_t tx_thread;
	bool tx_running;
	atomic_bool stop;
	int carrier; /* -1 unknown, else 0/1 */
	_Atomic uint32_t dev; /* the port's device in the device table: the
			       * heartbeat re-registers it, the handler reads it */
	uint64_t dev_seen;    /* the heartbeat's memory for mint_dev_heal */
	uint64_t rx_heads[MINT_VNI_MAX_PORTS]; /* ... and for mint_vni_rx_stalled */
	/* The TAP's I/O through io_uring (when rx_io.ring is set): writes
	 * by the dispatcher, reads by the transmitting side. */
	struct tap_uring rx_io, tx_io;
	uint8_t *stage; /* tx_io's reads of waiting small frames land here */
	bool one_wait;  /* the dispatcher reads mint0 in every mode (tx_sleep) */
	bool spins;     /* the dispatcher spins when idle (poll, adaptive) */
	bool tx_failed; /* ... and mint0 failed: it reads no more */
	char io_path[256]; /* which TAP I/O it uses and why, for the log */
};

/* What a vni_port_watch repaired, a bit each. */
#define VNI_HEALED_DEV 1    /* the port's device entry was registered again */
#define VNI_HEALED_KICK 2   /* a stalled receive: MINT_VEC_VNI raised */
#define VNI_HEALED_DIR 4    /* the VNI's directory entry was written again */

/*
 * Create mint0 (in the calling thread's namespace) with the node's MAC and
 * IPV4/PREFIX_LEN, attach the node's port, install the receive handler on
 * D for MINT_VEC_VNI and start the transmit side: a poll of mint0 at each
 * of D's turns in MODE poll (D's mode) or where io_uring waits on futexes
 * (then D sleeps in one wait for its doorbell and mint0), else a thread of
 * its own.  The TAP's I/O goes through io_uring unless it is unavailable
 * or MINT_VNI_IO=rw is in the environment (then read/write); with
 * MINT_VNI_IO=thread, io_uring and a transmit thread.  p->io_path says
 * which and why.
 * Returns 0 or a negative errno with *WHAT naming the failed step.
 */
int vni_port_start(struct vni_port *p, struct mint_fabric *f, struct mint_dispatcher *d,
		   enum mint_dispatch_mode mode, const uint8_t ipv4[4], uint32_t prefix_len,
		   const char **what);

/* The heartbeat's look: carrier follows the peers (on while another port
 * is up and alive); the port's device entry and its receive rings are
 * checked and repaired.  Returns the VNI_HEALED_* bits of what it did. */
int vni_port_watch(struct vni_port *p);

/* Stop the driver; DETACH takes the port down too (not when a newer agent
 * of the node owns it now). */
void vni_port_stop(struct vni_port *p, bool detach);

#endif
