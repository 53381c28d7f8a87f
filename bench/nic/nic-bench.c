/* SPDX-License-Identifier: MIT */
/*
 * nic-bench: the emulated NIC against anchors measured in the same run,
 * with a poll-mode driver in another process on another core, which
 * copies each packet out as the ring anchor's consumer copies each record:
 *   - interrupts: one packet and one interrupt at a time, flow-controlled
 *     (a full ring is retried, so nothing is lost), against raw doorbells
 *     (mint_ipi_send in a loop) to the same dispatcher;
 *   - 64-byte packets, 32 per interrupt (mint_nic_put_batch), against the raw ring
 *     (mint_ring_send_batch of 32 64-byte records, recv_batch on the
 *     other side).
 * Each figure is the median of ROUNDS timed segments of SEGMENT_NS,
 * alternating anchor and NIC.  Usage: nic-bench [--quick] [-j]
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "mint/mint.h"

#define BATCH 32u
#define PKT 64u
#define VEC_RAW 40u
#define RING_BYTES (1u << 20)

enum phase { IDLE, DOORBELL, NIC, RING, DONE };

/* The two processes' handshake, in the fabric.  phase: stored with release
 * by the device, loaded with acquire by the driver; ready: seq_cst; the
 * count is relaxed (a tally, read after the segment ends). */
struct ctl {
	_Atomic uint32_t phase;
	_Atomic uint32_t ready;
	_Atomic uint64_t consumed; /* packets or records the child took */
};

static int rounds = 5;
static uint64_t segment_ns = 300000000ull;
static char fab[64];

static uint64_t now(void) { return mint_now_ns(CLOCK_MONOTONIC); }

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

/* ---- the driver: a child process, node 1, polling ---- */

struct drv {
	struct ctl *ctl;
	struct mint_nic *nic;
};

/* The packet copied out, as the ring anchor's recv_batch copies records:
 * both sides pay for reading the bytes. */
static int count_pkt(void *arg, const struct mint_nic_rx *rx)
{
	static uint8_t copy[PKT];
	(void)arg;
	memcpy(copy, rx->data, rx->len < PKT ? rx->len : PKT);
	__asm__ __volatile__("" : : "r"(copy) : "memory");
	return 0;
}

static void on_nic(void *arg, uint32_t vector)
{
	struct drv *d = arg;
	(void)vector;
	mint_nic_cause(d->nic);
	int n;
	while ((n = mint_nic_rx(d->nic, count_pkt, NULL, 256)) > 0)
		atomic_fetch_add_explicit(&d->ctl->consumed, (uint64_t)n, memory_order_relaxed);
}

static void on_raw(void *arg, uint32_t vector)
{
	(void)arg, (void)vector;
}

static void drain_ring(struct mint_ring *r, struct ctl *ctl)
{
	static uint8_t bufs[BATCH][PKT];
	struct mint_msg m[BATCH];
	for (unsigned i = 0; i < BATCH; i++)
		m[i] = (struct mint_msg){bufs[i], 0, PKT, 0};
	int n = mint_ring_recv_batch(r, m, BATCH);
	if (n > 0)
		atomic_fetch_add_explicit(&ctl->consumed, (uint64_t)n, memory_order_relaxed);
}

static int child(int cpu, uint64_t ctl_off, uint64_t ring_off)
{
	pin(cpu);
	struct mint_fabric *f;
	struct mint_dispatcher *disp;
	struct mint_ring ring;
	struct drv d = {0};
	struct mint_nic_config cfg = {.ndesc = 1024, .buf_size = 256};
	if (mint_fabric_attach(fab, &f) || mint_node_join(f, 1, NULL) ||
	    mint_dispatcher_create(f, MINT_MODE_POLL, &disp) || mint_nic_attach(f, &cfg, &d.nic) ||
	    mint_ring_open(f, ring_off, &ring))
		return 2;
	d.ctl = mint_fabric_at(f, ctl_off, sizeof(struct ctl));
	mint_dispatcher_set_handler(disp, MINT_VEC_NIC, on_nic, &d);
	mint_dispatcher_set_handler(disp, VEC_RAW, on_raw, NULL);
	atomic_store(&d.ctl->ready, 1);
	uint32_t ph;
	uint64_t deadline = now() + 600000000000ull;
	while ((ph = atomic_load_explicit(&d.ctl->phase, memory_order_acquire)) != DONE &&
	       now() < deadline) {
		if (ph == RING)
			drain_ring(&ring, d.ctl);
		else
			mint_dispatcher_poll(disp);
	}
	mint_nic_detach(d.nic);
	mint_node_leave(f);
	return 0;
}

/* ---- the device and the anchors: this process ---- */

struct rig {
	struct mint_fabric *f;
	struct ctl *ctl;
	struct mint_nic_dev *dev;
	struct mint_ring ring;
};

/* Until the child consumed WANT (bounded). */
static void settle(struct rig *r, uint64_t want)
{
	uint64_t end = now() + 2000000000ull;
	while (atomic_load(&r->ctl->consumed) < want && now() < end)
		mint_cpu_relax();
}

static double seg_doorbell(struct rig *r)
{
	uint64_t n = 0, t0 = now(), t;
	while ((t = now()) - t0 < segment_ns)
		for (int i = 0; i < 64; i++, n++)
			mint_ipi_send(r->f, 1, VEC_RAW);
	return (double)n * 1e9 / (double)(t - t0);
}

/* One packet and one interrupt each; a full ring is retried. */
static double seg_nic(struct rig *r, unsigned batch)
{
	static uint8_t pkt[PKT];
	struct mint_nic_pkt p = {pkt, PKT, PKT, 0, MINT_NIC_STAT_EOP, 0, 0, 0}, pkts[BATCH];
	for (unsigned i = 0; i < BATCH; i++)
		pkts[i] = p;
	uint64_t base = atomic_load(&r->ctl->consumed), n = 0, t0 = now(), t;
	while ((t = now()) - t0 < segment_ns) {
		for (unsigned b = 0; b < batch;) {
			int k = batch > 1 ? mint_nic_put_batch(r->dev, pkts, batch - b, NULL)
					  : mint_nic_put(r->dev, &p, NULL) == 0;
			if (k > 0) {
				b += (unsigned)k;
				n += (uint64_t)k;
			} else {
				mint_cpu_relax();
			}
		}
		mint_nic_kick(r->dev, MINT_NIC_ICR_RXT0);
	}
	settle(r, base + n);
	t = now() - t0 > t - t0 ? t : now();
	return (double)n * 1e9 / (double)(t - t0);
}

static double seg_ring(struct rig *r)
{
	static uint8_t pkt[PKT];
	struct mint_msg m[BATCH];
	for (unsigned i = 0; i < BATCH; i++)
		m[i] = (struct mint_msg){pkt, PKT, PKT, 1};
	uint64_t base = atomic_load(&r->ctl->consumed), n = 0, t0 = now(), t;
	while ((t = now()) - t0 < segment_ns) {
		int k = mint_ring_send_batch(&r->ring, m, BATCH);
		if (k > 0)
			n += (uint64_t)k;
		else
			mint_cpu_relax();
	}
	settle(r, base + n);
	return (double)n * 1e9 / (double)(t - t0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void set_phase(struct rig *r, enum phase ph)
{
	atomic_store_explicit(&r->ctl->phase, ph, memory_order_release);
}

int main(int argc, char **argv)
{
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			rounds = 3, segment_ns = 100000000ull;
		else if (!strcmp(argv[i], "-j"))
			json = true;
		else {
			fprintf(stderr, "usage: nic-bench [--quick] [-j]\n");
			return 2;
		}
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int cpu_dev = 0, cpu_drv = ncpu > 1 ? 1 : 0;
	snprintf(fab, sizeof(fab), "nicbench-%d", (int)getpid());
	struct rig r = {0};
	uint64_t ctl_off, ring_off;
	int rc = mint_fabric_create(fab, 64ull << 20, &r.f);
	if (rc == 0)
		rc = mint_obj_open(r.f, "ctl", MINT_OBJ_RAW, sizeof(struct ctl), NULL, NULL, &ctl_off);
	if (rc >= 0)
		rc = mint_obj_open(r.f, "ring", MINT_OBJ_RAW, mint_ring_footprint(RING_BYTES), NULL,
				   NULL, &ring_off);
	if (rc >= 0)
		rc = mint_ring_format(mint_fabric_at(r.f, ring_off, mint_ring_footprint(RING_BYTES)),
				      RING_BYTES, MINT_NODE_NONE, 1, MINT_VEC_CHANNEL);
	if (rc < 0 || mint_ring_open(r.f, ring_off, &r.ring)) {
		fprintf(stderr, "nic-bench: cannot set up fabric %s: %s\n", fab, mint_strerror(rc));
		mint_fabric_destroy(fab);
		return 1;
	}
	r.ctl = mint_fabric_at(r.f, ctl_off, sizeof(struct ctl));
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(child(cpu_drv, ctl_off, ring_off));
	pin(cpu_dev);
	uint64_t end = now() + 10000000000ull;
	while (!atomic_load(&r.ctl->ready) && now() < end)
		usleep(1000);
	if (!atomic_load(&r.ctl->ready) || mint_nic_dev_open(r.f, 1, &r.dev)) {
		fprintf(stderr, "nic-bench: the driver process did not come up\n");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		mint_fabric_destroy(fab);
		return 1;
	}
	double db[16], irq[16], ring[16], inj[16];
	for (int i = 0; i < rounds; i++) {
		set_phase(&r, DOORBELL);
		db[i] = seg_doorbell(&r);
		set_phase(&r, NIC);
		irq[i] = seg_nic(&r, 1);
		set_phase(&r, RING);
		ring[i] = seg_ring(&r);
		set_phase(&r, NIC);
		inj[i] = seg_nic(&r, BATCH);
	}
	set_phase(&r, DONE);
	int st;
	waitpid(pid, &st, 0);
	struct mint_nic_stats ns;
	mint_nic_stats(r.f, 1, &ns);
	double mdb = median(db, rounds), mirq = median(irq, rounds), mring = median(ring, rounds),
	       minj = median(inj, rounds);
	mint_nic_dev_close(r.dev);
	mint_fabric_detach(r.f);
	mint_fabric_destroy(fab);
	bool lossless = ns.drv_packets == ns.rx_packets;
	if (json) {
		printf("{\"doorbell_per_s\":%.0f,\"nic_irq_per_s\":%.0f,\"ring_64B_pps\":%.0f,"
		       "\"nic_64B_batch_pps\":%.0f,\"irq_vs_doorbell\":%.3f,\"inject_vs_ring\":%.3f,"
		       "\"lossless\":%s}\n",
		       mdb, mirq, mring, minj, mirq / mdb, minj / mring, lossless ? "true" : "false");
		return lossless ? 0 : 1;
	}
	printf("nic-bench: poll-mode driver on core %d, device on core %d, median of %d x %.0f ms\n",
	       cpu_drv, cpu_dev, rounds, (double)segment_ns / 1e6);
	printf("  %-40s %12.2f M/s\n", "raw doorbells (anchor)", mdb / 1e6);
	printf("  %-40s %12.2f M/s   %.2fx the anchor (target >= 1 M/s)\n",
	       "NIC interrupts, 1 packet each, 0 loss", mirq / 1e6, mirq / mdb);
	printf("  %-40s %12.2f Mpps\n", "raw ring, 64 B x 32 (anchor)", mring / 1e6);
	printf("  %-40s %12.2f Mpps  %.2fx the anchor (target >= 0.8x)\n",
	       "NIC injection, 64 B x 32 per interrupt", minj / 1e6, minj / mring);
	printf("  %llu packets written, %llu consumed by the driver: %s\n",
	       (unsigned long long)ns.rx_packets, (unsigned long long)ns.drv_packets,
	       lossless ? "no loss" : "LOSS");
	return lossless ? 0 : 1;
}
