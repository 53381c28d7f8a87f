/* SPDX-License-Identifier: MIT */
/*
 * nic-bench: the emulated NIC against anchors measured in the same run,
 * with a poll-mode driver in another process on another core, which
 * copies each packet out as the ring anchor's consumer copies each record:
 *   - interrupts: one packet and one interrupt at a time, flow-controlled
 *     (a full ring is retried, so nothing is lost), against raw doorbells
 *     (mint_ipi_send in a loop) to the same dispatcher;
 *   - 64-byte packets, 32 per interrupt (mint_nic_put_batch), against the
 *     raw ring (mint_ring_send_batch of 32 64-byte records, recv_batch on
 *     the other side), the two holding the same number of packets in
 *     flight (a deeper queue absorbs more of the other side's stalls);
 *     and beside them, context without a verdict, the NIC's descriptor
 *     semantics alone without libmint (nic-model.h) on the same
 *     descriptors, buffers and harness: what those semantics allow.
 * Each segment of SEGMENT_NS counts what the consumer took by its end (a
 * producer's lead still queued is not throughput).  A round runs each
 * pair's segments back to back, the order reversed every other round; a
 * ratio is the median of the rounds' ratios, a rate the median of its
 * segments.
 * Usage: nic-bench [--quick] [--only irq|inject] [-j]
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

#include "mint/clock.h"
#include "mint/mint.h"

#include "nic/nic-model.h"
#include "nic/nic-pair.h"
#include "verdict/verdict.h"

#define VEC_RAW 40u

enum phase { IDLE, DOORBELL, NIC, RING, MODEL, DONE };

/* The two processes' handshake, in the fabric.  phase: stored with release
 * by the device, loaded with acquire by the driver; ready: seq_cst; the
 * count is relaxed (a tally, read after the segment ends). */
struct ctl {
	_Atomic uint32_t phase;
	_Atomic uint32_t ready;
	_Atomic uint64_t consumed; /* packets or records the child took */
};

static int rounds = 7;
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

static void on_nic(void *arg, uint32_t vector)
{
	struct drv *d = arg;
	(void)vector;
	mint_nic_cause(d->nic);
	int n;
	while ((n = mint_nic_rx(d->nic, nic_pair_copy, NULL, 256)) > 0)
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

/* The model's driver, as on_nic: the cause, then every packet there is. */
static void drain_model(struct nic_model_drv *v, struct ctl *ctl)
{
	unsigned n;
	if (nic_model_rang(v))
		while ((n = nic_model_rx(v, 256)) > 0)
			atomic_fetch_add_explicit(&ctl->consumed, n, memory_order_relaxed);
}

/* Offsets in the fabric of what the two processes share. */
struct shared {
	uint64_t ctl, ring, model;
};

static int child(int cpu, const struct shared *sh)
{
	pin(cpu);
	struct mint_fabric *f;
	struct mint_dispatcher *disp;
	struct mint_ring ring;
	struct drv d = {0};
	struct mint_nic_config cfg = {.ndesc = NIC_DESCS, .buf_size = NIC_BUF};
	if (mint_fabric_attach(fab, &f) || mint_node_join(f, 1, NULL) ||
	    mint_dispatcher_create(f, MINT_MODE_POLL, &disp) || mint_nic_attach(f, &cfg, &d.nic) ||
	    mint_ring_open(f, sh->ring, &ring))
		return 2;
	d.ctl = mint_fabric_at(f, sh->ctl, sizeof(struct ctl));
	struct nic_model_drv model = {mint_fabric_at(f, sh->model, sizeof(struct nic_model)), 0,
				      NIC_DESCS - 1, 0};
	/* Mapped now, as mint_nic_dev_open maps the NIC's ring. */
	for (size_t at = 0; at < sizeof(struct nic_model); at += MINT_PAGE)
		(void)*(volatile const uint8_t *)((const uint8_t *)model.m + at);
	mint_dispatcher_set_handler(disp, MINT_VEC_NIC, on_nic, &d);
	mint_dispatcher_set_handler(disp, VEC_RAW, on_raw, NULL);
	atomic_store(&d.ctl->ready, 1);
	uint32_t ph;
	uint64_t deadline = now() + 600000000000ull;
	/* The clock is read every 4096 passes: a read per pass would be most
	 * of what an idle pass costs, and slow the consumer down. */
	for (unsigned pass = 1;
	     (ph = atomic_load_explicit(&d.ctl->phase, memory_order_acquire)) != DONE &&
	     (pass % 4096 || now() < deadline);
	     pass++) {
		if (ph == RING)
			drain_ring(&ring, d.ctl);
		else if (ph == MODEL)
			drain_model(&model, d.ctl);
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
	struct nic_model_dev model;
};

/* The rate of N items sent from T0: once the child consumed them all
 * (bounded), so that both sides' work is in the time. */
static double settled_rate(struct rig *r, uint64_t want, uint64_t n, uint64_t t0)
{
	uint64_t end = now() + 2000000000ull;
	while (atomic_load(&r->ctl->consumed) < want && now() < end)
		mint_cpu_relax();
	return (double)n * 1e9 / (double)(now() - t0);
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
	uint64_t base = atomic_load(&r->ctl->consumed), n = 0, t0 = now();
	while (now() - t0 < segment_ns) {
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
	return settled_rate(r, base + n, n, t0);
}

static double seg_ring(struct rig *r)
{
	static uint8_t pkt[PKT];
	struct mint_msg m[BATCH];
	for (unsigned i = 0; i < BATCH; i++)
		m[i] = (struct mint_msg){pkt, PKT, PKT, 1};
	uint64_t base = atomic_load(&r->ctl->consumed), n = 0, t0 = now();
	while (now() - t0 < segment_ns) {
		int k = mint_ring_send_batch(&r->ring, m, BATCH);
		if (k > 0)
			n += (uint64_t)k;
		else
			mint_cpu_relax();
	}
	return settled_rate(r, base + n, n, t0);
}

/* The model of the NIC's descriptor semantics, as seg_nic drives the NIC. */
static double seg_model(struct rig *r)
{
	static uint8_t pkt[PKT];
	uint64_t base = atomic_load(&r->ctl->consumed), n = 0, t0 = now();
	while (now() - t0 < segment_ns) {
		for (unsigned b = 0; b < BATCH;) {
			unsigned k = nic_model_put(&r->model, pkt, BATCH - b);
			if (k == 0)
				mint_cpu_relax();
			b += k;
			n += k;
		}
		nic_model_kick(&r->model);
	}
	return settled_rate(r, base + n, n, t0);
}

static void set_phase(struct rig *r, enum phase ph)
{
	atomic_store_explicit(&r->ctl->phase, ph, memory_order_release);
}

/* What a segment measures: the anchor, the NIC, or (the injection pair
 * only) the model of the NIC's descriptor semantics. */
enum side { ANCHOR, THE_NIC, THE_MODEL };

/* One segment of the interrupt pair or the injection pair. */
static double segment(struct rig *r, bool inject, enum side side)
{
	set_phase(r, side == ANCHOR ? (inject ? RING : DOORBELL) : side == THE_NIC ? NIC : MODEL);
	if (side == ANCHOR)
		return inject ? seg_ring(r) : seg_doorbell(r);
	return side == THE_NIC ? seg_nic(r, inject ? BATCH : 1) : seg_model(r);
}

/* A pair's rates over the rounds, then their medians and the rounds'
 * ratios' median and range.  The injection pair's model is context, no
 * verdict: its rows are not recorded (model: the model over the anchor;
 * share: the NIC over the model). */
struct pair {
	struct vrow row, model, share;
	double m_anchor, m_nic, m_ratio, lo, hi;
	double m_model, model_ratio, model_lo, model_hi, share_ratio, share_lo, share_hi;
};

/* Round I of a pair: its segments in one order in even rounds and in the
 * reverse order in odd ones, so that a trend within a round favours
 * none of them. */
static void run_round(struct rig *r, bool inject, int i, struct pair *p)
{
	double v[3]; /* by enum side */
	int sides = inject ? 3 : 2;
	for (int j = 0; j < sides; j++) {
		int side = i % 2 == 0 ? j : sides - 1 - j;
		v[side] = segment(r, inject, (enum side)side);
	}
	vrow_round(&p->row, v[ANCHOR], v[THE_NIC]);
	if (inject) {
		vrow_round(&p->model, v[ANCHOR], v[THE_MODEL]);
		vrow_round(&p->share, v[THE_MODEL], v[THE_NIC]);
	}
}

static void summarize(struct pair *p)
{
	vrow_medians(&p->row, &p->m_anchor, &p->m_nic);
	vrow_ratios(&p->row, &p->m_ratio, &p->lo, &p->hi);
	if (p->row.n)
		vrow_record(&p->row);
	double ring;
	vrow_medians(&p->model, &ring, &p->m_model);
	vrow_ratios(&p->model, &p->model_ratio, &p->model_lo, &p->model_hi);
	vrow_ratios(&p->share, &p->share_ratio, &p->share_lo, &p->share_hi);
	if (p->model.n) {
		vctx_record("inject_model_pps", p->m_model);
		vctx_record("inject_model_vs_ring", p->model_ratio);
		vctx_record("inject_vs_model", p->share_ratio);
	}
}

static void print_pair(const char *anchor, const char *nic, const char *unit, const char *target,
		       const struct pair *p)
{
	printf("  %-40s %8.2f %-4s\n", anchor, p->m_anchor / 1e6, unit);
	int met;
	enum verdict v = vrow_verdict(&p->row, &met);
	printf("  %-40s %8.2f %-4s  %.2fx the anchor (rounds %.2f-%.2fx; target %s", nic,
	       p->m_nic / 1e6, unit, p->m_ratio, p->lo, p->hi, target);
	if (v == VERDICT_NONE)
		printf(")\n");
	else
		printf(": %s, %d/%d rounds)\n", verdict_name(v), met, p->row.n);
}

static void print_model(const struct pair *p)
{
	printf("  context, no verdict: the NIC's descriptor semantics alone, no libmint "
	       "(bench/nic/nic-model.h):\n");
	printf("  %-40s %8.2f Mpps  %.2fx the anchor (rounds %.2f-%.2fx); the NIC = %.0f%% of it "
	       "(rounds %.0f-%.0f%%)\n",
	       "model, 64 B x 32 per interrupt", p->m_model / 1e6, p->model_ratio, p->model_lo,
	       p->model_hi, 100 * p->share_ratio, 100 * p->share_lo, 100 * p->share_hi);
}

static int usage(void)
{
	fprintf(stderr, "usage: nic-bench [--quick] [--only irq|inject] [-j]\n");
	return 2;
}

int main(int argc, char **argv)
{
	bool json = false, do_irq = true, do_inject = true;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			rounds = 3, segment_ns = 100000000ull;
		else if (!strcmp(argv[i], "-j"))
			json = true;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			do_irq = !strcmp(argv[++i], "irq");
			do_inject = !strcmp(argv[i], "inject");
			if (!do_irq && !do_inject)
				return usage();
		} else
			return usage();
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int cpu_dev = 0, cpu_drv = ncpu > 1 ? 1 : 0;
	snprintf(fab, sizeof(fab), "nicbench-%d", (int)getpid());
	struct rig r = {0};
	struct shared sh;
	int rc = mint_fabric_create(fab, 64ull << 20, &r.f);
	if (rc == 0)
		rc = mint_obj_open(r.f, "ctl", MINT_OBJ_RAW, sizeof(struct ctl), NULL, NULL, &sh.ctl);
	if (rc >= 0)
		rc = mint_obj_open(r.f, "ring", MINT_OBJ_RAW, mint_ring_footprint(RING_BYTES), NULL,
				   NULL, &sh.ring);
	if (rc >= 0)
		rc = mint_obj_open(r.f, "model", MINT_OBJ_RAW, sizeof(struct nic_model), NULL, NULL,
				   &sh.model);
	if (rc >= 0)
		rc = mint_ring_format(mint_fabric_at(r.f, sh.ring, mint_ring_footprint(RING_BYTES)),
				      RING_BYTES, MINT_NODE_NONE, 1, MINT_VEC_CHANNEL);
	if (rc < 0 || mint_ring_open(r.f, sh.ring, &r.ring)) {
		fprintf(stderr, "nic-bench: cannot set up fabric %s: %s\n", fab, mint_strerror(rc));
		mint_fabric_destroy(fab);
		return 1;
	}
	r.ctl = mint_fabric_at(r.f, sh.ctl, sizeof(struct ctl));
	/* RDH and the known RDT at 0: the first put loads RDT. */
	r.model = (struct nic_model_dev){mint_fabric_at(r.f, sh.model, sizeof(struct nic_model)), 0,
					 0};
	nic_model_init(r.model.m);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(child(cpu_drv, &sh));
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
	struct pair irq = {0}, inj = {0}; /* the interrupt pair has no model: n 0 */
	/* The interrupt pair's target is a rate (>= 1 M/s): its ratio is kept
	 * for drift only. */
	vrow_init(&irq.row, "nic-irq", "/s", "-", 0);
	vrow_init(&inj.row, "inject-64B", "pkt/s", ">=", 0.8);
	vrow_init(&inj.model, "inject-64B-model", "pkt/s", "-", 0);
	vrow_init(&inj.share, "inject-64B-vs-model", "pkt/s", "-", 0);
	for (int i = 0; i < rounds; i++) {
		if (do_irq)
			run_round(&r, false, i, &irq);
		if (do_inject)
			run_round(&r, true, i, &inj);
	}
	set_phase(&r, DONE);
	int st;
	waitpid(pid, &st, 0);
	struct mint_nic_stats ns;
	mint_nic_stats(r.f, 1, &ns);
	summarize(&irq);
	summarize(&inj);
	mint_nic_dev_close(r.dev);
	mint_fabric_detach(r.f);
	mint_fabric_destroy(fab);
	bool lossless = ns.drv_packets == ns.rx_packets;
	if (json) {
		printf("{\"doorbell_per_s\":%.0f,\"nic_irq_per_s\":%.0f,\"irq_vs_doorbell\":%.3f,"
		       "\"ring_64B_pps\":%.0f,\"nic_64B_batch_pps\":%.0f,\"inject_vs_ring\":%.3f,"
		       "\"inject_vs_ring_min\":%.3f,\"inject_vs_ring_max\":%.3f,"
		       "\"model_64B_batch_pps\":%.0f,\"model_vs_ring\":%.3f,\"inject_vs_model\":%.3f,"
		       "\"lossless\":%s}\n",
		       irq.m_anchor, irq.m_nic, irq.m_ratio, inj.m_anchor, inj.m_nic, inj.m_ratio,
		       inj.lo, inj.hi, inj.m_model, inj.model_ratio, inj.share_ratio,
		       lossless ? "true" : "false");
		return lossless ? 0 : 1;
	}
	printf("nic-bench: poll-mode driver on core %d, device on core %d, %d rounds of %.0f ms "
	       "segments, medians\n",
	       cpu_drv, cpu_dev, rounds, (double)segment_ns / 1e6);
	if (do_irq)
		print_pair("raw doorbells (anchor)", "NIC interrupts, 1 packet each, 0 loss", "M/s",
			   ">= 1 M/s", &irq);
	if (do_inject) {
		printf("  (in flight at most: %u records in the ring, %u descriptors in the NIC)\n",
		       RING_BYTES / (PKT + 8), NIC_DESCS - 1);
		print_pair("raw ring, 64 B x 32 (anchor)", "NIC injection, 64 B x 32 per interrupt",
			   "Mpps", ">= 0.8x", &inj);
		print_model(&inj);
	}
	printf("  %llu packets written, %llu consumed by the driver: %s\n",
	       (unsigned long long)ns.rx_packets, (unsigned long long)ns.drv_packets,
	       lossless ? "no loss" : "LOSS");
	return lossless ? 0 : 1;
}
