/* SPDX-License-Identifier: MIT */
/*
 * The VNI driver of a node agent.  Transmit: a thread reads frames (with
 * their virtio-net header) from mint0 and hands them to mint_vni_send.
 * In poll mode the dispatcher itself reads mint0 between vectors instead.
 * Receive: the MINT_VEC_VNI handler, run by the node's dispatcher, writes
 * each waiting frame from the fabric straight into mint0, then re-arms.
 */
#include "agent/vni_port.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/tap.h"

#define RX_BUDGET 256u
#define RX_PASSES 16
#define TX_IDLE_POLL_MS 100
#define TX_BUDGET 64 /* frames a poll-mode dispatcher turn sends at most */

static int write_to_host(void *arg, const void *frame, uint32_t len)
{
	struct vni_port *p = arg;
	return write(p->tap, frame, len) == (ssize_t)len ? 0 : -1;
}

/* MINT_VEC_VNI: drain, re-arm, drain again if frames raced the arming.
 * Like NAPI, at most RX_PASSES passes: under a flood, raise the vector
 * again and return, so the dispatcher still runs other vectors (and a
 * stop request) in between. */
static void on_vni_irq(void *arg, uint32_t vector)
{
	struct vni_port *p = arg;
	uint64_t first;
	/* relaxed: the id alone; the table has its own ordering. */
	mint_dev_consume(p->f, atomic_load_explicit(&p->dev, memory_order_relaxed), &first);
	/* the frames are the work */
	for (int pass = 0; pass < RX_PASSES; pass++) {
		int n = mint_vni_poll(p->vni, write_to_host, p, RX_BUDGET);
		if (n < (int)RX_BUDGET && mint_vni_arm(p->vni) == 0)
			return;
	}
	mint_ipi_send(p->f, mint_fabric_self(p->f), vector);
}

/* Read one frame from the TAP, straight into the destination's ring when
 * it is the same as the last one's (mint_vni_tx_begin), and send it: 1,
 * 0 if none is waiting, -1 if the TAP failed. */
static int tx_one(struct vni_port *p)
{
	void *frame;
	uint32_t cap;
	mint_vni_tx_begin(p->vni, &frame, &cap);
	ssize_t n = read(p->tap, frame, cap);
	if (n > 0) {
		mint_vni_tx_end(p->vni, (uint32_t)n);
		return 1;
	}
	return n < 0 && errno != EAGAIN && errno != EINTR ? -1 : 0;
}

/* Poll mode: the dispatcher sends what waits in the TAP between vectors
 * (mint_dispatcher_set_idle), up to TX_BUDGET frames a turn. */
static int tx_poll(void *arg)
{
	int sent = 0;
	while (sent < TX_BUDGET && tx_one(arg) == 1)
		sent++;
	return sent;
}

/* Sleep and adaptive modes: a thread of its own sleeps until frames wait. */
static void *tx_main(void *arg)
{
	struct vni_port *p = arg;
	struct pollfd pfd = {p->tap, POLLIN, 0};
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		int rc = tx_one(p);
		if (rc == 0)
			poll(&pfd, 1, TX_IDLE_POLL_MS); /* idle: sleep until a frame */
		else if (rc < 0)
			break;
	}
	return NULL;
}

/* Senders raise the port's interrupt through the device table: register
 * it there (again, after a restart) before the port comes up. */
static int register_port(struct vni_port *p)
{
	char name[MINT_DEV_NAME_MAX];
	uint32_t self = mint_fabric_self(p->f);
	mint_vni_dev_name(self, name, sizeof(name));
	int id = mint_dev_register(p->f, MINT_DEV_VNI, name, self, MINT_VEC_VNI);
	atomic_store_explicit(&p->dev, (uint32_t)id, memory_order_relaxed);
	return id < 0 ? id : 0;
}

/* What to change when the port's rings found no room (-ENOSPC: the size
 * a fabric needs for one more VNI node than are up; -ENFILE: the
 * directory), for the agent's one line. */
static const char *no_room(struct vni_port *p, int rc)
{
	static char why[256];
	if (rc == -ENFILE)
		return "make its VNI rings: the fabric's object directory is full "
		       "(mint status counts its entries; stop nodes or clients to free them)";
	struct mint_vni_config cfg;
	uint32_t nodes = 1;
	mint_vni_config(p->vni, &cfg);
	for (uint32_t id = 0; id < MINT_VNI_MAX_PORTS; id++)
		nodes += id != mint_fabric_self(p->f) && mint_vni_peer_up(p->vni, id);
	uint64_t mib = (mint_vni_fabric_size(&cfg, nodes) + (1u << 20) - 1) >> 20;
	snprintf(why, sizeof(why), "make its VNI rings: %u VNI nodes need a fabric of %llu MiB "
		 "(mint up --size %lluM, fewer nodes, or mint up --vni-buffers pool)", nodes,
		 (unsigned long long)mib, (unsigned long long)mib);
	return why;
}

int vni_port_start(struct vni_port *p, struct mint_fabric *f, struct mint_dispatcher *d,
		   enum mint_dispatch_mode mode, const uint8_t ipv4[4], uint32_t prefix_len,
		   const char **what)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->tap = -1;
	p->carrier = -1;
	*what = "open the fabric's VNI";
	int rc = mint_vni_open(f, &p->vni);
	if (rc)
		return rc;
	uint8_t mac[6];
	mint_vni_mac(p->vni, mint_fabric_self(f), mac);
	rc = tap_open(VNI_TAP_NAME, mac, ipv4, prefix_len, &p->tap, what);
	if (rc == 0) {
		*what = "register its port in the device table";
		rc = register_port(p);
	}
	if (rc == 0) {
		*what = "attach its port";
		rc = mint_vni_attach(p->vni, ipv4, prefix_len);
		if (rc == -ENOSPC || rc == -ENFILE)
			*what = no_room(p, rc);
	}
	if (rc == 0)
		mint_dispatcher_set_handler(d, MINT_VEC_VNI, on_vni_irq, p);
	if (rc == 0 && mode == MINT_MODE_POLL) {
		mint_dispatcher_set_idle(d, tx_poll, p);
	} else if (rc == 0) {
		*what = "start its transmit thread";
		rc = -pthread_create(&p->tx_thread, NULL, tx_main, p);
		p->tx_running = rc == 0;
	}
	if (rc)
		vni_port_stop(p, true);
	else
		vni_port_watch(p);
	return rc;
}

/* The TAP's transmit drops (frames the host queued for us and dropped
 * when we were behind), from /proc/self/net/dev: the calling thread's
 * namespace, which is the node's. */
static void read_queue_drops(struct vni_port *p)
{
	FILE *dev = fopen("/proc/self/net/dev", "re");
	char line[512];
	while (dev && fgets(line, sizeof(line), dev)) {
		char *colon = strchr(line, ':');
		const char *name = line + strspn(line, " ");
		unsigned long long v[12];
		if (!colon || (size_t)(colon - name) != strlen(VNI_TAP_NAME) ||
		    strncmp(name, VNI_TAP_NAME, strlen(VNI_TAP_NAME)) != 0)
			continue;
		/* Receive: bytes packets errs drop fifo frame compressed
		 * multicast; transmit: bytes packets errs drop ... */
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &v[10], &v[11]) == 12)
			mint_vni_set_queue_drops(p->vni, v[11]);
		break;
	}
	if (dev)
		fclose(dev);
}

/* The port's device entry as registered, and no receive left stalled by
 * a doorbell somebody suppressed: VNI_HEALED_* bits. */
static int heal(struct vni_port *p)
{
	char name[MINT_DEV_NAME_MAX];
	uint32_t self = mint_fabric_self(p->f);
	uint32_t dev = atomic_load_explicit(&p->dev, memory_order_relaxed);
	mint_vni_dev_name(self, name, sizeof(name));
	int rc = mint_dev_heal(p->f, &dev, MINT_DEV_VNI, name, MINT_VEC_VNI, &p->dev_seen);
	/* relaxed: see on_vni_irq. */
	atomic_store_explicit(&p->dev, dev, memory_order_relaxed);
	int healed = rc == 1 ? VNI_HEALED_DEV : rc == 2 ? VNI_HEALED_KICK : 0;
	if (mint_vni_claim(p->vni) == 1)
		healed |= VNI_HEALED_DIR;
	if (mint_vni_rx_stalled(p->vni, p->rx_heads) > 0) {
		mint_ipi_send(p->f, self, MINT_VEC_VNI);
		healed |= VNI_HEALED_KICK;
	}
	return healed;
}

int vni_port_watch(struct vni_port *p)
{
	read_queue_drops(p);
	mint_vni_reclaim(p->vni); /* pool mode: what dead nodes held */
	bool peers = false;
	uint32_t self = mint_fabric_self(p->f);
	for (uint32_t id = 0; id < MINT_VNI_MAX_PORTS && !peers; id++)
		peers = id != self && mint_vni_peer_up(p->vni, id);
	if ((int)peers != p->carrier && tap_set_carrier(p->tap, peers) == 0)
		p->carrier = peers;
	return heal(p);
}

void vni_port_stop(struct vni_port *p, bool detach)
{
	atomic_store(&p->stop, true);
	if (p->tx_running)
		pthread_join(p->tx_thread, NULL);
	p->tx_running = false;
	if (p->vni) {
		if (detach)
			mint_vni_detach(p->vni);
		mint_vni_close(p->vni);
		p->vni = NULL;
	}
	if (p->tap >= 0)
		close(p->tap);
	p->tap = -1;
}
