/* SPDX-License-Identifier: MIT */
/*
 * The VNI driver of a node agent.  Transmit: a thread reads frames (with
 * their virtio-net header) from mint0 straight into the fabric
 * (mint_vni_tx_begin/end).  In poll mode the dispatcher itself reads mint0
 * between vectors instead.  Receive: the MINT_VEC_VNI handler, run by the
 * node's dispatcher, writes each waiting frame from the fabric straight
 * into mint0, then re-arms.
 *
 * Through io_uring (tap_uring.h) when the kernel offers it: a read is
 * always posted into the next frame's place, and its completion is seen
 * in memory, so an idle poll-mode turn makes no system call; the writes
 * of a receive pass go in one submission per source.  Else, or with
 * MINT_VNI_IO=rw, plain read(2) and write(2).
 *
 * Where io_uring also waits on futexes (Linux 6.7), there is no transmit
 * thread in any mode: the dispatcher reads mint0 at every turn, and when
 * it sleeps, one io_uring wait covers its doorbell and the posted read
 * (tx_sleep).  A spinning adaptive dispatcher thus sends a ping-pong's
 * next frame without any thread being woken.
 */
#include "agent/vni_port.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/tap.h"
#include "agent/tap_uring.h"

#define RX_BUDGET 256u
#define RX_PASSES 16
#define TX_IDLE_POLL_MS 100
#define TX_BUDGET 64 /* frames a poll-mode dispatcher turn sends at most */
#define RX_ENTRIES 64u /* io_uring queue of the writes: a source's run is
			* POLL_QUOTA (64) frames at most (lib/vni.c) */
#define TX_BATCH 16u    /* reads of waiting small frames in one system call */
#define TX_BATCH_RUNS 4 /* ... at most this many in a row, then the posted read */
#define TX_SMALL 2048   /* a frame this small is likely one of a flood of them */
#define TX_ENTRIES (2 * TX_BATCH) /* those, the posted read, and a cancel */

static int write_to_host(void *arg, const void *frame, uint32_t len)
{
	struct vni_port *p = arg;
	return write(p->tap, frame, len) == (ssize_t)len ? 0 : -1;
}

/* io_uring: queue FRAME's write; the flush submits the run of them. */
static int queue_to_host(void *arg, const void *frame, uint32_t len)
{
	struct vni_port *p = arg;
	return tap_uring_write(&p->rx_io, frame, len);
}

static unsigned flush_to_host(void *arg, uint64_t *failed_bytes)
{
	struct vni_port *p = arg;
	return tap_uring_flush(&p->rx_io, failed_bytes);
}

/* Up to RX_BUDGET waiting frames into the TAP: how many. */
static int deliver(struct vni_port *p)
{
	if (p->rx_io.ring)
		return mint_vni_poll_batch(p->vni, queue_to_host, flush_to_host, p, RX_BUDGET);
	return mint_vni_poll(p->vni, write_to_host, p, RX_BUDGET);
}

/* Drain, re-arm, drain again if frames raced the arming.  Like NAPI, at
 * most RX_PASSES passes: under a flood, raise VECTOR again and return, so
 * the dispatcher still runs other vectors (and a stop request) in
 * between.  Returns the frames written into the TAP. */
static int drain(struct vni_port *p, uint32_t vector)
{
	int sent = 0;
	for (int pass = 0; pass < RX_PASSES; pass++) {
		int n = deliver(p);
		sent += n > 0 ? n : 0;
		if (n < (int)RX_BUDGET && mint_vni_arm(p->vni) == 0)
			return sent;
	}
	mint_ipi_send(p->f, mint_fabric_self(p->f), vector);
	return sent;
}

/* MINT_VEC_VNI: drain.  A spinning dispatcher then yields its core: the
 * frames just written woke their readers, often on this core, and they
 * run now rather than at the dispatcher's next yield. */
static void on_vni_irq(void *arg, uint32_t vector)
{
	struct vni_port *p = arg;
	uint64_t first;
	/* relaxed: the id alone; the table has its own ordering. */
	mint_dev_consume(p->f, atomic_load_explicit(&p->dev, memory_order_relaxed), &first);
	/* the frames are the work */
	if (drain(p, vector) && p->spins)
		sched_yield();
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

/* io_uring: post the read of the next frame into its place. */
static int tx_post(struct vni_port *p)
{
	void *frame;
	uint32_t cap;
	mint_vni_tx_begin(p->vni, &frame, &cap);
	return tap_uring_read(&p->tx_io, frame, cap);
}

/* io_uring: what else waits in the TAP, TX_BATCH reads in one system
 * call, into the staging buffers and copied from there into the fabric:
 * how many frames.  For small frames (a UDP flood, ACKs), a copy costs
 * far less than the system call per frame it saves; big frames keep
 * going straight into the ring, a read each (tx_posted). */
static int tx_waiting(struct vni_port *p)
{
	int sent = 0, got = TX_BATCH;
	for (int run = 0; run < TX_BATCH_RUNS && got == (int)TX_BATCH; run++) {
		uint32_t lens[TX_BATCH];
		got = tap_uring_read_now(&p->tx_io, p->stage, MINT_VNI_FRAME_MAX, lens, TX_BATCH);
		for (unsigned i = 0; i < TX_BATCH && got > 0; i++)
			if (lens[i])
				mint_vni_send(p->vni, p->stage + (size_t)i * MINT_VNI_FRAME_MAX, lens[i]);
		sent += got > 0 ? got : 0;
	}
	return sent;
}

/* io_uring: as tx_one, from the posted read (waiting up to WAIT_MS for
 * it; 0: a look in memory), then after a small frame what else waits,
 * then post the next read: how many frames, or -1 if the TAP failed. */
static int tx_posted(struct vni_port *p, int wait_ms)
{
	if (!p->tx_io.reading && tx_post(p) < 0)
		return -1;
	int n = tap_uring_read_done(&p->tx_io, wait_ms);
	if (n == 0)
		return 0;
	if (n > 0)
		mint_vni_tx_end(p->vni, (uint32_t)n);
	else if (n != -EAGAIN && n != -EINTR)
		return -1;
	int sent = n > 0;
	if (n > 0 && n <= TX_SMALL && p->stage)
		sent += tx_waiting(p);
	return tx_post(p) < 0 ? -1 : sent;
}

/* Poll mode, or one wait (tx_sleep): the dispatcher sends what waits in
 * the TAP between vectors (mint_dispatcher_set_idle), up to about
 * TX_BUDGET frames a turn.  A TAP that failed is read no more, as the
 * transmit thread ends: each read would fail at once, a busy loop. */
static int tx_poll(void *arg)
{
	struct vni_port *p = arg;
	int sent = 0, n = 1;
	while (sent < TX_BUDGET && n > 0 && !p->tx_failed) {
		n = p->tx_io.ring ? tx_posted(p, 0) : tx_one(p);
		sent += n > 0 ? n : 0;
		p->tx_failed = n < 0;
	}
	return sent;
}

/* The dispatcher's sleep hook (mint_dispatcher_set_sleep): until its
 * doorbell rings (WORD changes) or the posted read of mint0 completes. */
static int tx_sleep(void *arg, const void *word, uint32_t expected, int64_t timeout_ns)
{
	struct vni_port *p = arg;
	if (p->tx_failed || (!p->tx_io.reading && tx_post(p) < 0))
		return -EIO; /* the doorbell alone */
	return tap_uring_sleep(&p->tx_io, word, expected, timeout_ns);
}

/* Sleep and adaptive modes: a thread of its own sleeps until frames wait. */
static void *tx_main(void *arg)
{
	struct vni_port *p = arg;
	struct pollfd pfd = {p->tap, POLLIN, 0};
	int rc = 0;
	while (rc >= 0 && !atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		if (p->tx_io.ring) {
			rc = tx_posted(p, TX_IDLE_POLL_MS);
		} else if ((rc = tx_one(p)) == 0) {
			poll(&pfd, 1, TX_IDLE_POLL_MS); /* idle: sleep until a frame */
		}
	}
	return NULL;
}

/* Who reads mint0 outside poll mode, for the log: sets p->one_wait. */
static const char *tx_side(struct vni_port *p, bool force_thread)
{
	p->one_wait = p->tx_io.can_futex && !force_thread;
	if (p->one_wait)
		return "the dispatcher, one wait for its doorbell and mint0";
	return force_thread ? "a thread (MINT_VNI_IO=thread)"
			    : "a thread (io_uring has no FUTEX_WAIT before Linux 6.7)";
}

/* io_uring for both directions, or read/write; p->io_path says which. */
static void open_io(struct vni_port *p)
{
	const char *force = getenv("MINT_VNI_IO");
	char why[128];
	if (force && strcmp(force, "rw") == 0) {
		snprintf(p->io_path, sizeof(p->io_path), "TAP I/O by read/write (MINT_VNI_IO=rw)");
		return;
	}
	uint64_t size = mint_fabric_size(p->f);
	const void *base = mint_fabric_at(p->f, 0, size);
	if (tap_uring_open(&p->rx_io, p->tap, RX_ENTRIES, base, size, why, sizeof(why)) == 0 &&
	    tap_uring_open(&p->tx_io, p->tap, TX_ENTRIES, base, size, why, sizeof(why)) == 0) {
		/* Without staging buffers, every frame is read on its own. */
		p->stage = malloc((size_t)TX_BATCH * MINT_VNI_FRAME_MAX);
		const char *tx = tx_side(p, force && strcmp(force, "thread") == 0);
		snprintf(p->io_path, sizeof(p->io_path), "TAP I/O through %s%s; transmit: %s", why,
			 p->stage ? "" : ", no staging buffers (out of memory)", tx);
		return;
	}
	tap_uring_close(&p->rx_io);
	snprintf(p->io_path, sizeof(p->io_path), "TAP I/O by read/write: %s", why);
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
	if (rc == 0) {
		open_io(p);
		p->spins = mode != MINT_MODE_SLEEP;
		mint_dispatcher_set_handler(d, MINT_VEC_VNI, on_vni_irq, p);
	}
	if (rc == 0 && (mode == MINT_MODE_POLL || p->one_wait)) {
		mint_dispatcher_set_idle(d, tx_poll, p);
		mint_dispatcher_set_sleep(d, p->one_wait ? tx_sleep : NULL, p);
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
	tap_uring_close(&p->tx_io); /* its read goes into the fabric: first */
	tap_uring_close(&p->rx_io);
	free(p->stage);
	p->stage = NULL;
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
