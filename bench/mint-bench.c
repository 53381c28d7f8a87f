/* SPDX-License-Identifier: MIT */
/*
 * mint-bench: mint's doorbells and rings against anchors measured in the
 * same run on the same two cores.
 *
 *   doorbell-poll   one-way IPI latency, MINT_MODE_POLL  vs a cache-line ping-pong
 *   doorbell-sleep  one-way IPI latency, MINT_MODE_SLEEP vs a futex ping-pong
 *   ring-64B        64-byte messages/s across cores       vs an AF_UNIX socketpair
 *   ring-4KiB       4 KiB messages, GB/s across cores     vs single-core memcpy
 *
 * Every figure is the median of several timed segments; anchor and mint
 * measurements alternate (ROUNDS times) so that drift on a shared VM hits
 * both sides alike.  Every loop is bounded in count and in time.  See
 * docs/benchmarks.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "mint/clock.h"
#include "mint/mint.h"
#include "verdict/verdict.h"

#define NS_PER_S 1000000000ull
#define MS (1000000ull)
#define MAX_SAMPLES 64
#define LINE 64

/* ------------------------------------------------------------------ */
/* Settings                                                            */

struct config {
	bool quick;
	bool json;
	bool anchors_only;   /* no fabric: the anchors alone */
	unsigned only;       /* bit set of benchmarks to run (BM_*) */
	int rounds;          /* anchor/mint alternations per benchmark */
	int segs;            /* timed segments per measurement (+1 warm-up) */
	uint64_t seg_ns;     /* length of one segment */
	uint64_t lat_iters;  /* round-trip cap per latency segment (poll) */
	uint64_t slat_iters; /* round-trip cap per latency segment (sleep) */
	uint64_t max_msgs;   /* message cap per throughput measurement */
};

enum { BM_POLL, BM_SLEEP, BM_RING64, BM_RING4K, BM_COUNT };
static const char *const bm_names[BM_COUNT] = {"doorbell-poll", "doorbell-sleep", "ring-64B",
					       "ring-4KiB"};

static struct config cfg;

/* The two cores used: the first two of this process's affinity set. */
static int cpu_a, cpu_b;
static int ncpus_allowed;
static bool single_core;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

/* The library's own clock and spin hint, so both sides are timed alike. */
static uint64_t now_ns(void) { return mint_now_ns(CLOCK_MONOTONIC); }

/* Spin-wait step: with one core a spinner must give the core away. */
static inline void spin_step(void)
{
	if (single_core)
		sched_yield();
	else
		mint_cpu_relax();
}

struct samples {
	double v[MAX_SAMPLES];
	int n;
};

static void samples_add(struct samples *s, double v)
{
	if (s->n < MAX_SAMPLES)
		s->v[s->n++] = v;
}

static void samples_merge(struct samples *dst, const struct samples *src)
{
	for (int i = 0; i < src->n; i++)
		samples_add(dst, src->v[i]);
}

/* Median of samples FROM..S->n (one round's, when FROM is where the
 * round began). */
static double samples_median_from(const struct samples *s, int from)
{
	double tmp[MAX_SAMPLES];
	int n = s->n - from;
	memcpy(tmp, s->v + from, sizeof(double) * (size_t)(n > 0 ? n : 0));
	return bench_median(tmp, n);
}

static double samples_median(const struct samples *s)
{
	return samples_median_from(s, 0);
}

static double samples_min(const struct samples *s)
{
	double m = s->n ? s->v[0] : 0.0;
	for (int i = 1; i < s->n; i++)
		if (s->v[i] < m)
			m = s->v[i];
	return m;
}

static double samples_max(const struct samples *s)
{
	double m = s->n ? s->v[0] : 0.0;
	for (int i = 1; i < s->n; i++)
		if (s->v[i] > m)
			m = s->v[i];
	return m;
}

static void *xaligned(size_t align, size_t size)
{
	void *p = NULL;
	if (posix_memalign(&p, align, size) != 0)
		return NULL;
	return p;
}

/* ------------------------------------------------------------------ */
/* Fabric bookkeeping and fatal errors                                 */

/* The fabric file this process created, removed on exit, error or signal. */
static char fabric_name[MINT_NAME_MAX];
static char fabric_file[512];
static volatile sig_atomic_t fabric_live;
static bool progress_open; /* a progress line on stderr lacks its newline */

static void fabric_cleanup(void)
{
	if (fabric_live) {
		fabric_live = 0;
		unlink(fabric_file);
	}
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "%smint-bench: %s\n", progress_open ? "\n" : "", msg);
	fabric_cleanup();
	/* Worker threads may still be running (a wedged dispatcher): do not
	 * run atexit handlers or unmap anything under them. */
	_exit(1);
}

static void on_signal(int sig)
{
	static const char msg[] = "\nmint-bench: interrupted, fabric removed\n";
	if (fabric_live) {
		fabric_live = 0;
		unlink(fabric_file);
	}
	size_t skip = progress_open ? 0 : 1;
	ssize_t w = write(STDERR_FILENO, msg + skip, sizeof msg - 1 - skip);
	(void)w;
	/* SA_RESETHAND restored the default action: die of the same signal. */
	raise(sig);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = (int)SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void set_core(uint64_t cores[MINT_CPU_WORDS], int cpu)
{
	memset(cores, 0, sizeof(uint64_t) * MINT_CPU_WORDS);
	if (cpu >= 0 && cpu < (int)(64 * MINT_CPU_WORDS))
		cores[cpu / 64] |= 1ull << (cpu % 64);
}

/*
 * A fresh fabric for one measurement: created, attached twice (one handle
 * per node thread), node 0 and node 1 joined in MODE.
 */
struct fab {
	struct mint_fabric *fc;   /* creator's handle: objects */
	struct mint_fabric *f[2]; /* node 0, node 1 */
	bool joined[2];
};

static void fab_setup(struct fab *fb, const char *what, enum mint_dispatch_mode mode)
{
	int rc;
	memset(fb, 0, sizeof *fb);
	rc = mint_fabric_path(fabric_name, fabric_file, sizeof fabric_file);
	if (rc < 0)
		die("%s: mint_fabric_path(%s): %s", what, fabric_name, mint_strerror(rc));
	rc = mint_fabric_create(fabric_name, 0, &fb->fc);
	if (rc == -EEXIST) {
		/* Left behind by a killed run with our pid: it is ours. */
		mint_fabric_destroy(fabric_name);
		rc = mint_fabric_create(fabric_name, 0, &fb->fc);
	}
	if (rc < 0)
		die("%s: mint_fabric_create(%s): %s", what, fabric_name, mint_strerror(rc));
	fabric_live = 1;
	for (int i = 0; i < 2; i++) {
		rc = mint_fabric_attach(fabric_name, &fb->f[i]);
		if (rc < 0)
			die("%s: mint_fabric_attach(%s): %s", what, fabric_name, mint_strerror(rc));
	}
	for (uint32_t i = 0; i < 2; i++) {
		struct mint_node_opts o;
		char name[MINT_NAME_MAX];
		memset(&o, 0, sizeof o);
		snprintf(name, sizeof name, "bench%u", i);
		o.name = name;
		o.mode = mode;
		set_core(o.cores, i == 0 ? cpu_a : cpu_b);
		rc = mint_node_join(fb->f[i], i, &o);
		if (rc < 0)
			die("%s: mint_node_join(node %u): %s", what, i, mint_strerror(rc));
		fb->joined[i] = true;
	}
}

static void fab_teardown(struct fab *fb, const char *what)
{
	for (int i = 0; i < 2; i++) {
		if (fb->joined[i]) {
			int rc = mint_node_leave(fb->f[i]);
			if (rc < 0)
				die("%s: mint_node_leave(node %d): %s", what, i, mint_strerror(rc));
		}
		if (fb->f[i])
			mint_fabric_detach(fb->f[i]);
	}
	if (fb->fc)
		mint_fabric_detach(fb->fc);
	int rc = mint_fabric_destroy(fabric_name);
	fabric_live = 0;
	if (rc < 0)
		die("%s: mint_fabric_destroy(%s): %s", what, fabric_name, mint_strerror(rc));
	memset(fb, 0, sizeof *fb);
}

/* ------------------------------------------------------------------ */
/* Two pinned threads and a watchdog                                   */

typedef void *(*thread_fn)(void *);

struct pair {
	pthread_t t[2];
	bool started[2];
};

static void pair_start(struct pair *p, const char *what, thread_fn f0, thread_fn f1, void *arg)
{
	thread_fn fns[2] = {f0, f1};
	int cpus[2] = {cpu_a, cpu_b};
	memset(p, 0, sizeof *p);
	for (int i = 0; i < 2; i++) {
		if (!fns[i])
			continue;
		pthread_attr_t attr;
		cpu_set_t set;
		pthread_attr_init(&attr);
		CPU_ZERO(&set);
		CPU_SET(cpus[i], &set);
		pthread_attr_setaffinity_np(&attr, sizeof set, &set);
		int rc = pthread_create(&p->t[i], &attr, fns[i], arg);
		pthread_attr_destroy(&attr);
		if (rc != 0)
			die("%s: pthread_create: %s", what, strerror(rc));
		p->started[i] = true;
	}
}

/* Join both threads by DEADLINE (CLOCK_MONOTONIC ns); false if one is stuck. */
static bool pair_join(struct pair *p, uint64_t deadline)
{
	for (int i = 0; i < 2; i++) {
		if (!p->started[i])
			continue;
		for (;;) {
			uint64_t t = now_ns();
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			uint64_t left = deadline > t ? deadline - t : 0;
			uint64_t abs = (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec + left;
			ts.tv_sec = (time_t)(abs / NS_PER_S);
			ts.tv_nsec = (long)(abs % NS_PER_S);
			int rc = pthread_timedjoin_np(p->t[i], NULL, &ts);
			if (rc == 0)
				break;
			if (rc == ETIMEDOUT)
				return false;
			if (rc != EINTR)
				die("pthread_timedjoin_np: %s", strerror(rc));
		}
		p->started[i] = false;
	}
	return true;
}

/* Budget of one measurement: warm-up + segs segments, plus slack. */
static uint64_t measure_budget(void)
{
	return (uint64_t)(cfg.segs + 1) * cfg.seg_ns;
}

/* Both threads announce readiness; each waits for the other (bounded). */
static bool rendezvous(_Atomic int *ready, uint64_t deadline)
{
	atomic_fetch_add(ready, 1);
	unsigned spins = 0;
	while (atomic_load(ready) < 2) {
		spin_step();
		if ((++spins & 1023) == 0 && now_ns() > deadline)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Latency segments                                                    */

/*
 * A latency run is cfg.segs timed segments after one warm-up segment.  A
 * segment ends after `cap` round trips or cfg.seg_ns, whichever comes
 * first; its sample is the mean one-way latency (RTT / 2) in ns.
 */
struct lat {
	uint64_t cap;
	int seg;            /* -1: warm-up */
	uint64_t rt;        /* round trips in this segment */
	uint64_t t0, tend;  /* segment start, segment time limit */
	struct samples s;
};

static void lat_begin(struct lat *l, uint64_t cap)
{
	memset(l, 0, sizeof *l);
	l->cap = cap;
	l->seg = -1;
	l->t0 = now_ns();
	l->tend = l->t0 + cfg.seg_ns;
}

/* Count one round trip; returns true when the run is over. */
static inline bool lat_tick(struct lat *l)
{
	l->rt++;
	if (l->rt < l->cap && (l->rt & 31) != 0)
		return false;
	uint64_t t = now_ns();
	if (l->rt < l->cap && t < l->tend)
		return false;
	if (l->seg >= 0)
		samples_add(&l->s, (double)(t - l->t0) / (double)l->rt / 2.0);
	l->seg++;
	l->rt = 0;
	l->t0 = t;
	l->tend = t + cfg.seg_ns;
	return l->seg >= cfg.segs;
}

/* ------------------------------------------------------------------ */
/* Anchor 1: cache-line ping-pong                                      */

#define PP_STOP UINT32_MAX

struct pingpong {
	_Alignas(LINE) _Atomic uint32_t flag;
	_Alignas(LINE) _Atomic int ready;
	bool failed;
	uint64_t hard_deadline;
	struct lat lat;
};

static void *pp_a(void *arg)
{
	struct pingpong *pp = arg;
	if (!rendezvous(&pp->ready, pp->hard_deadline)) {
		pp->failed = true;
		return NULL;
	}
	uint32_t v = 0;
	lat_begin(&pp->lat, cfg.lat_iters);
	for (;;) {
		atomic_store_explicit(&pp->flag, v + 1, memory_order_release);
		unsigned spins = 0;
		while (atomic_load_explicit(&pp->flag, memory_order_acquire) != v + 2) {
			spin_step();
			if ((++spins & 0xffff) == 0 && now_ns() > pp->hard_deadline) {
				pp->failed = true;
				goto out;
			}
		}
		v += 2;
		if (lat_tick(&pp->lat))
			break;
	}
out:
	atomic_store_explicit(&pp->flag, PP_STOP, memory_order_release);
	return NULL;
}

static void *pp_b(void *arg)
{
	struct pingpong *pp = arg;
	if (!rendezvous(&pp->ready, pp->hard_deadline)) {
		pp->failed = true;
		return NULL;
	}
	uint32_t want = 1;
	for (;;) {
		uint32_t f;
		unsigned spins = 0;
		while ((f = atomic_load_explicit(&pp->flag, memory_order_acquire)) != want) {
			if (f == PP_STOP)
				return NULL;
			spin_step();
			if ((++spins & 0xffff) == 0 && now_ns() > pp->hard_deadline) {
				pp->failed = true;
				return NULL;
			}
		}
		atomic_store_explicit(&pp->flag, want + 1, memory_order_release);
		want += 2;
	}
}

static void anchor_pingpong(struct samples *out)
{
	struct pingpong *pp = xaligned(LINE, sizeof *pp);
	if (!pp)
		die("out of memory");
	memset(pp, 0, sizeof *pp);
	pp->hard_deadline = now_ns() + 2 * measure_budget() + 5 * NS_PER_S;
	struct pair p;
	pair_start(&p, "ping-pong anchor", pp_a, pp_b, pp);
	if (!pair_join(&p, pp->hard_deadline + NS_PER_S))
		die("ping-pong anchor: a thread did not finish in time");
	if (pp->failed)
		die("ping-pong anchor: timed out (is another process hogging core %d or %d?)", cpu_a,
		    cpu_b);
	samples_merge(out, &pp->lat.s);
	free(pp);
}

/*
 * A short ping-pong (2 x 20 ms) that tells how far apart the two cores are
 * right now: on a VM the host may move the vCPUs, and cross-core streaming
 * follows this latency.  Reported with the ring benchmarks, no verdict.
 */
static void probe_latency(struct samples *out)
{
	struct config saved = cfg;
	cfg.segs = 2;
	cfg.seg_ns = 20 * MS;
	anchor_pingpong(out);
	cfg = saved;
}

/* ------------------------------------------------------------------ */
/* Anchor 2: futex ping-pong                                           */

static long futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

struct futexpp {
	_Alignas(LINE) _Atomic uint32_t ab; /* A -> B: round number, or PP_STOP */
	_Alignas(LINE) _Atomic uint32_t ba; /* B -> A: round number echoed */
	_Alignas(LINE) _Atomic int ready;
	bool failed;
	uint64_t hard_deadline;
	struct lat lat;
};

/*
 * Sleep until *W != OLD; no spinning.  Untimed, like mint's dispatcher (a
 * timeout would arm an hrtimer on every wait, which costs the anchor
 * microseconds under KVM): the bound is the main thread's join deadline.
 */
static bool futex_wait_change(_Atomic uint32_t *w, uint32_t old, uint64_t hard_deadline)
{
	unsigned wakeups = 0;
	while (atomic_load_explicit(w, memory_order_acquire) == old) {
		futex(w, FUTEX_WAIT, old, NULL);
		if ((++wakeups & 1023) == 0 && now_ns() > hard_deadline)
			return false;
	}
	return true;
}

static void *fpp_a(void *arg)
{
	struct futexpp *fp = arg;
	if (!rendezvous(&fp->ready, fp->hard_deadline)) {
		fp->failed = true;
		return NULL;
	}
	uint32_t round = 0;
	lat_begin(&fp->lat, cfg.slat_iters);
	for (;;) {
		round++;
		atomic_store_explicit(&fp->ab, round, memory_order_release);
		futex(&fp->ab, FUTEX_WAKE, 1, NULL);
		if (!futex_wait_change(&fp->ba, round - 1, fp->hard_deadline)) {
			fp->failed = true;
			break;
		}
		if (lat_tick(&fp->lat))
			break;
	}
	atomic_store_explicit(&fp->ab, PP_STOP, memory_order_release);
	futex(&fp->ab, FUTEX_WAKE, 1, NULL);
	return NULL;
}

static void *fpp_b(void *arg)
{
	struct futexpp *fp = arg;
	if (!rendezvous(&fp->ready, fp->hard_deadline)) {
		fp->failed = true;
		return NULL;
	}
	uint32_t seen = 0;
	for (;;) {
		if (!futex_wait_change(&fp->ab, seen, fp->hard_deadline)) {
			fp->failed = true;
			return NULL;
		}
		seen = atomic_load_explicit(&fp->ab, memory_order_acquire);
		if (seen == PP_STOP)
			return NULL;
		atomic_store_explicit(&fp->ba, seen, memory_order_release);
		futex(&fp->ba, FUTEX_WAKE, 1, NULL);
	}
}

static void anchor_futex(struct samples *out)
{
	struct futexpp *fp = xaligned(LINE, sizeof *fp);
	if (!fp)
		die("out of memory");
	memset(fp, 0, sizeof *fp);
	fp->hard_deadline = now_ns() + 2 * measure_budget() + 5 * NS_PER_S;
	struct pair p;
	pair_start(&p, "futex anchor", fpp_a, fpp_b, fp);
	if (!pair_join(&p, fp->hard_deadline + NS_PER_S))
		die("futex anchor: a thread did not finish in time");
	if (fp->failed)
		die("futex anchor: timed out");
	samples_merge(out, &fp->lat.s);
	free(fp);
}

/* ------------------------------------------------------------------ */
/* Throughput segments (measured at the consumer)                      */

/*
 * A throughput run is one warm-up segment and cfg.segs timed segments of
 * cfg.seg_ns each, cut by the consumer; a sample is units/s over the
 * segment.  The producer streams until the consumer says stop, the message
 * cap, or its hard deadline.
 */
struct tput {
	int seg;
	uint64_t units; /* counted in this segment */
	uint64_t t0, tend;
	double scale;   /* sample = units * scale / seconds */
	struct samples s;
};

static void tput_begin(struct tput *tp, double scale)
{
	memset(tp, 0, sizeof *tp);
	tp->seg = -1;
	tp->scale = scale;
	tp->t0 = now_ns();
	tp->tend = tp->t0 + cfg.seg_ns;
}

/* Check the clock; returns true when all segments are done. */
static bool tput_check(struct tput *tp)
{
	uint64_t t = now_ns();
	if (t < tp->tend)
		return false;
	if (tp->seg >= 0)
		samples_add(&tp->s, (double)tp->units * tp->scale * 1e9 / (double)(t - tp->t0));
	tp->seg++;
	tp->units = 0;
	tp->t0 = t;
	tp->tend = t + cfg.seg_ns;
	return tp->seg >= cfg.segs;
}

/* ------------------------------------------------------------------ */
/* Anchor 3: AF_UNIX socketpair, one write per 64-byte message          */

struct sockpp {
	int fd[2];
	_Alignas(LINE) _Atomic int stop;
	_Alignas(LINE) _Atomic int ready;
	bool failed;
	const char *err;
	uint64_t hard_deadline;
	_Alignas(LINE) struct tput tp; /* consumer only */
};

static void *sock_prod(void *arg)
{
	struct sockpp *sp = arg;
	char msg[64];
	memset(msg, 0x5a, sizeof msg);
	if (!rendezvous(&sp->ready, sp->hard_deadline)) {
		sp->failed = true;
		shutdown(sp->fd[0], SHUT_WR);
		return NULL;
	}
	for (uint64_t i = 0; i < cfg.max_msgs; i++) {
		if ((i & 255) == 0 &&
		    (atomic_load_explicit(&sp->stop, memory_order_relaxed) || now_ns() > sp->hard_deadline))
			break;
		memcpy(msg, &i, sizeof i);
		ssize_t n = write(sp->fd[0], msg, sizeof msg);
		if (n != (ssize_t)sizeof msg) {
			if (n < 0 && errno == EINTR) {
				i--;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				i--; /* send timeout slice: re-check stop and deadline */
				continue;
			}
			sp->err = "write failed";
			sp->failed = true;
			break;
		}
	}
	shutdown(sp->fd[0], SHUT_WR);
	return NULL;
}

static void *sock_cons(void *arg)
{
	struct sockpp *sp = arg;
	static _Thread_local char buf[64 * 1024];
	if (!rendezvous(&sp->ready, sp->hard_deadline)) {
		sp->failed = true;
		return NULL;
	}
	uint64_t bytes = 0;
	bool done = false;
	tput_begin(&sp->tp, 1.0);
	for (;;) {
		ssize_t n = read(sp->fd[1], buf, sizeof buf);
		if (n == 0)
			break; /* producer finished */
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
				if (now_ns() > sp->hard_deadline) {
					sp->failed = true;
					sp->err = "read timed out";
					break;
				}
				continue;
			}
			sp->failed = true;
			sp->err = "read failed";
			break;
		}
		if (done)
			continue; /* drain until the producer's EOF */
		/* Whole messages only; a partial one is counted when it completes. */
		uint64_t before = bytes / 64;
		bytes += (uint64_t)n;
		sp->tp.units += bytes / 64 - before;
		if (tput_check(&sp->tp)) {
			done = true;
			atomic_store(&sp->stop, 1);
		}
	}
	if (!done && !sp->failed) {
		sp->failed = true;
		sp->err = "producer stopped before the measurement ended";
	}
	return NULL;
}

static void anchor_socket(struct samples *out)
{
	struct sockpp *sp = xaligned(LINE, sizeof *sp);
	if (!sp)
		die("out of memory");
	memset(sp, 0, sizeof *sp);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp->fd) < 0)
		die("socketpair: %s", strerror(errno));
	/* Blocking I/O, but never forever. */
	struct timeval tv = {0, 200 * 1000};
	setsockopt(sp->fd[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(sp->fd[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	sp->hard_deadline = now_ns() + 2 * measure_budget() + 5 * NS_PER_S;
	struct pair p;
	pair_start(&p, "socketpair anchor", sock_prod, sock_cons, sp);
	if (!pair_join(&p, sp->hard_deadline + 2 * NS_PER_S))
		die("socketpair anchor: a thread did not finish in time");
	if (sp->failed)
		die("socketpair anchor: %s", sp->err ? sp->err : "timed out");
	close(sp->fd[0]);
	close(sp->fd[1]);
	samples_merge(out, &sp->tp.s);
	free(sp);
}

/* ------------------------------------------------------------------ */
/* Anchor 4: single-core memcpy bandwidth, 4 KiB blocks                */

static size_t l2_bytes(int cpu)
{
	char path[128], buf[64];
	for (int idx = 0; idx < 8; idx++) {
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index%d/level", cpu,
			 idx);
		FILE *f = fopen(path, "r");
		if (!f)
			break;
		int level = 0;
		if (fscanf(f, "%d", &level) != 1)
			level = 0;
		fclose(f);
		if (level != 2)
			continue;
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cache/index%d/size", cpu,
			 idx);
		f = fopen(path, "r");
		if (!f)
			break;
		size_t kib = 0;
		if (fgets(buf, sizeof buf, f))
			kib = strtoull(buf, NULL, 10); /* "1024K" */
		fclose(f);
		if (kib)
			return kib * 1024;
	}
	return 1u << 20;
}

/*
 * The streaming working set: 4x L2, at least 4 MiB, at most 16 MiB.  It is
 * the size of each memcpy anchor buffer and, rounded up to a power of two,
 * of the data area of both rings: anchor and mint stream through the same
 * level of the hierarchy (L3 on most machines) rather than one of them
 * living in L2.
 */
static size_t memcpy_buf_bytes(void)
{
	size_t b = 4 * l2_bytes(cpu_a);
	if (b < (4u << 20))
		b = 4u << 20;
	if (b > (16u << 20))
		b = 16u << 20;
	return b & ~(size_t)4095;
}

static uint64_t ring_bytes(void)
{
	uint64_t r = 1;
	while (r < memcpy_buf_bytes())
		r <<= 1;
	return r;
}

struct memcpy_run {
	size_t bytes;
	uint8_t *src, *dst;
	struct tput tp;
};

static void *memcpy_thread(void *arg)
{
	struct memcpy_run *m = arg;
	tput_begin(&m->tp, 4096.0 / 1e9); /* units: 4 KiB blocks; sample in GB/s */
	const size_t blocks = m->bytes / 4096;
	for (uint64_t pass = 0; pass < 1000000; pass++) {
		for (size_t b = 0; b < blocks; b++) {
			memcpy(m->dst + b * 4096, m->src + b * 4096, 4096);
			__asm__ __volatile__("" ::: "memory");
		}
		m->tp.units += blocks;
		if (tput_check(&m->tp))
			break;
	}
	return NULL;
}

static void anchor_memcpy(struct samples *out, size_t *bufsz)
{
	struct memcpy_run m;
	memset(&m, 0, sizeof m);
	m.bytes = memcpy_buf_bytes();
	m.src = xaligned(4096, m.bytes);
	m.dst = xaligned(4096, m.bytes);
	if (!m.src || !m.dst)
		die("memcpy anchor: out of memory (%zu bytes)", 2 * m.bytes);
	memset(m.src, 0xa5, m.bytes); /* fault every page in before timing */
	memset(m.dst, 0x5a, m.bytes);
	struct pair p;
	pair_start(&p, "memcpy anchor", memcpy_thread, NULL, &m);
	if (!pair_join(&p, now_ns() + 2 * measure_budget() + 10 * NS_PER_S))
		die("memcpy anchor: did not finish in time");
	samples_merge(out, &m.tp.s);
	*bufsz = m.bytes;
	free(m.src);
	free(m.dst);
}

/* ------------------------------------------------------------------ */
/* Context (no verdict): a naive SPSC ring of fixed slots, no mint     */

#define CONTEXT_RING "a naive SPSC ring (fixed slots, no mint)"

/*
 * The obvious hand-written ring: slots of exactly one message, a head and
 * a tail on their own lines, one index update per batch, no record
 * headers, no validation, no notifications.  Not an upper bound (its
 * eager consumer chases the producer line by line), but measured on the
 * same cores in the same round it tells whether a ring figure is limited
 * by mint or by the machine.
 */
struct barering {
	uint8_t *data;
	uint64_t slots;
	uint32_t msg;
	unsigned batch;
	_Alignas(LINE) _Atomic uint64_t tail;
	_Alignas(LINE) _Atomic uint64_t head;
	_Alignas(LINE) _Atomic int stop;
	_Alignas(LINE) _Atomic int ready;
	bool failed;
	uint64_t hard_deadline;
	_Alignas(LINE) struct tput tp; /* consumer only */
};

static void *bare_prod(void *arg)
{
	struct barering *br = arg;
	uint8_t *src = xaligned(LINE, (size_t)br->batch * br->msg);
	if (!src) {
		br->failed = true;
		atomic_store(&br->stop, 1);
		atomic_fetch_add(&br->ready, 100);
		return NULL;
	}
	memset(src, 0x3c, (size_t)br->batch * br->msg);
	if (!rendezvous(&br->ready, br->hard_deadline)) {
		br->failed = true;
		free(src);
		return NULL;
	}
	uint64_t tail = 0, head = 0;
	unsigned spins = 0;
	while (tail < cfg.max_msgs) {
		while (tail + br->batch - head > br->slots) {
			head = atomic_load_explicit(&br->head, memory_order_acquire);
			if (tail + br->batch - head <= br->slots)
				break;
			spin_step();
			if ((++spins & 1023) == 0 &&
			    (atomic_load_explicit(&br->stop, memory_order_relaxed) ||
			     now_ns() > br->hard_deadline))
				goto out;
		}
		for (unsigned i = 0; i < br->batch; i++) {
			uint64_t s = tail + i;
			memcpy(src + (size_t)i * br->msg, &s, sizeof s);
			memcpy(br->data + (s & (br->slots - 1)) * br->msg, src + (size_t)i * br->msg, br->msg);
		}
		tail += br->batch;
		atomic_store_explicit(&br->tail, tail, memory_order_release);
		if ((tail & 1023) < br->batch && atomic_load_explicit(&br->stop, memory_order_relaxed))
			break;
	}
out:
	free(src);
	return NULL;
}

static void *bare_cons(void *arg)
{
	struct barering *br = arg;
	uint8_t *dst = xaligned(LINE, (size_t)br->batch * br->msg);
	if (!dst) {
		br->failed = true;
		atomic_store(&br->stop, 1);
		atomic_fetch_add(&br->ready, 100);
		return NULL;
	}
	if (!rendezvous(&br->ready, br->hard_deadline)) {
		br->failed = true;
		free(dst);
		return NULL;
	}
	const double scale = br->msg >= 4096 ? (double)br->msg / 1e9 : 1.0;
	uint64_t head = 0, tail = 0, since_check = 0, empty = 0;
	tput_begin(&br->tp, scale);
	for (;;) {
		if (head == tail) {
			tail = atomic_load_explicit(&br->tail, memory_order_acquire);
			if (head == tail) {
				spin_step();
				if ((++empty & 1023) == 0 && now_ns() > br->hard_deadline) {
					br->failed = true;
					break;
				}
				if ((empty & 15) == 0 && tput_check(&br->tp))
					break;
				continue;
			}
		}
		unsigned n = 0;
		for (; n < br->batch && head < tail; n++, head++) {
			memcpy(dst + (size_t)n * br->msg,
			       br->data + (head & (br->slots - 1)) * br->msg, br->msg);
			uint64_t s;
			memcpy(&s, dst + (size_t)n * br->msg, sizeof s);
			if (s != head) {
				br->failed = true;
				goto out;
			}
		}
		atomic_store_explicit(&br->head, head, memory_order_release);
		br->tp.units += n;
		since_check += n;
		if (since_check >= 1024) {
			since_check = 0;
			if (tput_check(&br->tp))
				break;
		}
	}
out:
	atomic_store(&br->stop, 1);
	free(dst);
	return NULL;
}

static void bare_ring(uint32_t msg, unsigned batch, uint64_t ring_size, struct samples *out)
{
	struct barering *br = xaligned(LINE, sizeof *br);
	if (!br)
		die("out of memory");
	memset(br, 0, sizeof *br);
	br->msg = msg;
	br->batch = batch;
	br->slots = ring_size / msg; /* both powers of two */
	if (br->slots == 0 || (br->slots & (br->slots - 1)))
		die("naive ring: %" PRIu64 " / %u is not a power of two", ring_size, msg);
	br->data = xaligned(4096, (size_t)(br->slots * msg));
	if (!br->data)
		die("out of memory");
	memset(br->data, 0, (size_t)(br->slots * msg));
	br->hard_deadline = now_ns() + 2 * measure_budget() + 3 * NS_PER_S;
	struct pair p;
	pair_start(&p, "naive ring", bare_prod, bare_cons, br);
	if (!pair_join(&p, br->hard_deadline + 2 * NS_PER_S))
		die("naive ring: a thread did not finish in time");
	if (br->failed)
		die("naive ring (context measurement): timed out or lost a message");
	samples_merge(out, &br->tp.s);
	free(br->data);
	free(br);
}

/* ------------------------------------------------------------------ */
/* Context (no verdict): a bare doorbell, no mint                      */

/*
 * What a doorbell any number of senders may ring costs at the least: a
 * word per node that senders set with a locked fetch_or (then read the
 * bell word beside it, as mint's senders do), and that its owner polls
 * with a plain load and takes with an exchange.  Both locked operations
 * wait for the line to arrive, where the ping-pong anchor's plain store
 * does not; measured on the same cores in the same round it tells how
 * much of the doorbell-poll ratio is the protocol and how much is mint.
 */
#define BARE_STOP (1ull << 63)
#define CONTEXT_DOORBELL                                                                 \
	"a bare doorbell (a word per node: fetch_or to raise, load and exchange to take, " \
	"no mint)"

struct baredb {
	struct {
		_Alignas(LINE) _Atomic uint64_t pending;
		_Atomic uint64_t bell; /* never set: read as mint's senders read it */
	} node[2];
	_Alignas(LINE) _Atomic int ready;
	bool failed;
	uint64_t hard_deadline;
	_Alignas(LINE) struct lat lat; /* node 0 only */
};

/* Ring node TO: relaxed bell load, ordered by the seq_cst RMW before it. */
static void bare_raise(struct baredb *b, int to, uint64_t bits)
{
	atomic_fetch_or_explicit(&b->node[to].pending, bits, memory_order_seq_cst);
	(void)atomic_load_explicit(&b->node[to].bell, memory_order_relaxed);
}

/* Node SELF's next doorbell bits (acquire: pairs with bare_raise), or 0
 * once the hard deadline passed. */
static uint64_t bare_take(struct baredb *b, int self)
{
	unsigned spins = 0;
	while (!atomic_load_explicit(&b->node[self].pending, memory_order_relaxed)) {
		spin_step();
		if ((++spins & 0xffff) == 0 && now_ns() > b->hard_deadline) {
			b->failed = true;
			return 0;
		}
	}
	return atomic_exchange_explicit(&b->node[self].pending, 0, memory_order_acquire);
}

static void *bare_db0(void *arg)
{
	struct baredb *b = arg;
	if (!rendezvous(&b->ready, b->hard_deadline)) {
		b->failed = true;
		return NULL;
	}
	lat_begin(&b->lat, cfg.lat_iters);
	do
		bare_raise(b, 1, 1);
	while (bare_take(b, 0) && !lat_tick(&b->lat));
	bare_raise(b, 1, BARE_STOP);
	return NULL;
}

static void *bare_db1(void *arg)
{
	struct baredb *b = arg;
	if (!rendezvous(&b->ready, b->hard_deadline)) {
		b->failed = true;
		return NULL;
	}
	uint64_t bits;
	while ((bits = bare_take(b, 1)) && !(bits & BARE_STOP))
		bare_raise(b, 0, 1);
	return NULL;
}

static void bare_doorbell(struct samples *out)
{
	struct baredb *b = xaligned(LINE, sizeof *b);
	if (!b)
		die("out of memory");
	memset(b, 0, sizeof *b);
	b->hard_deadline = now_ns() + 2 * measure_budget() + 5 * NS_PER_S;
	struct pair p;
	pair_start(&p, "bare doorbell", bare_db0, bare_db1, b);
	if (!pair_join(&p, b->hard_deadline + NS_PER_S))
		die("bare doorbell: a thread did not finish in time");
	if (b->failed)
		die("bare doorbell (context measurement): timed out");
	samples_merge(out, &b->lat.s);
	free(b);
}

/* ------------------------------------------------------------------ */
/* mint: doorbell ping-pong between two nodes                          */

#define BENCH_VEC MINT_VEC_USER

struct dbell {
	struct fab fb;
	struct mint_dispatcher *d[2];
	enum mint_dispatch_mode mode;
	const char *what;
	/* Read by both handlers on every interrupt, written (almost) never. */
	_Alignas(LINE) _Atomic int ready;
	_Atomic int created;
	_Atomic int done;       /* node 0 finished its segments (or failed) */
	_Atomic int err;        /* first library error */
	const char *err_call;
	uint32_t err_node;
	uint64_t hard_deadline;
	/* Node 0's handler only (and the watchdog's rare reads): kept off the
	 * line above so the harness adds no cache-line transfer of its own. */
	_Alignas(LINE) _Atomic uint64_t total; /* round trips */
	struct lat lat;
};

static void db_fail(struct dbell *db, uint32_t node, const char *call, int rc)
{
	int zero = 0;
	if (atomic_compare_exchange_strong(&db->err, &zero, rc)) {
		db->err_call = call;
		db->err_node = node;
	}
}

static void db_finish(struct dbell *db)
{
	atomic_store(&db->done, 1);
	mint_dispatcher_stop(db->d[0]);
	mint_dispatcher_stop(db->d[1]);
	/* In case a stopped sleeper needs an interrupt to notice. */
	mint_ipi_send(db->fb.f[0], 1, MINT_VEC_KICK);
	mint_ipi_send(db->fb.f[0], 0, MINT_VEC_KICK);
}

/* Node 0: one round trip completed; count it and ping again. */
static void db_handler0(void *arg, uint32_t vector)
{
	struct dbell *db = arg;
	(void)vector;
	if (atomic_load_explicit(&db->done, memory_order_relaxed))
		return;
	atomic_store_explicit(&db->total, atomic_load_explicit(&db->total, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	if (lat_tick(&db->lat) || ((db->lat.rt & 1023) == 0 && now_ns() > db->hard_deadline)) {
		db_finish(db);
		return;
	}
	int rc = mint_ipi_send(db->fb.f[0], 1, BENCH_VEC);
	if (rc < 0) {
		db_fail(db, 0, "mint_ipi_send", rc);
		db_finish(db);
	}
}

/* Node 1: echo. */
static void db_handler1(void *arg, uint32_t vector)
{
	struct dbell *db = arg;
	(void)vector;
	if (atomic_load_explicit(&db->done, memory_order_relaxed))
		return;
	int rc = mint_ipi_send(db->fb.f[1], 0, BENCH_VEC);
	if (rc < 0) {
		db_fail(db, 1, "mint_ipi_send", rc);
		db_finish(db);
	}
}

static void db_node(struct dbell *db, uint32_t id)
{
	int rc = mint_dispatcher_create(db->fb.f[id], db->mode, &db->d[id]);
	if (rc < 0) {
		db_fail(db, id, "mint_dispatcher_create", rc);
		atomic_fetch_add(&db->ready, 100); /* release the peer */
		return;
	}
	rc = mint_dispatcher_set_handler(db->d[id], BENCH_VEC, id == 0 ? db_handler0 : db_handler1,
					 db);
	if (rc < 0) {
		db_fail(db, id, "mint_dispatcher_set_handler", rc);
		atomic_fetch_add(&db->ready, 100);
		return;
	}
	atomic_fetch_add(&db->created, 1);
	if (!rendezvous(&db->ready, db->hard_deadline) || atomic_load(&db->err))
		return;
	if (id == 0) {
		lat_begin(&db->lat, db->mode == MINT_MODE_POLL ? cfg.lat_iters : cfg.slat_iters);
		rc = mint_ipi_send(db->fb.f[0], 1, BENCH_VEC);
		if (rc < 0) {
			db_fail(db, 0, "mint_ipi_send", rc);
			atomic_store(&db->done, 1);
			mint_dispatcher_stop(db->d[1]);
			mint_ipi_send(db->fb.f[0], 1, MINT_VEC_KICK);
			return;
		}
	}
	rc = mint_dispatcher_run(db->d[id]);
	if (rc < 0)
		db_fail(db, id, "mint_dispatcher_run", rc);
}

static void *db_thread0(void *arg)
{
	db_node(arg, 0);
	return NULL;
}

static void *db_thread1(void *arg)
{
	db_node(arg, 1);
	return NULL;
}

struct dbstats {
	uint64_t ipis, wakes, suppressed, sleeps, round_trips;
};

static void mint_doorbell(enum mint_dispatch_mode mode, struct samples *out, struct dbstats *st)
{
	const char *what = mode == MINT_MODE_POLL ? "doorbell-poll" : "doorbell-sleep";
	struct dbell *db = xaligned(LINE, sizeof *db);
	if (!db)
		die("out of memory");
	memset(db, 0, sizeof *db);
	db->mode = mode;
	db->what = what;
	fab_setup(&db->fb, what, mode);
	uint64_t start = now_ns();
	db->hard_deadline = start + 2 * measure_budget() + 3 * NS_PER_S;

	struct pair p;
	pair_start(&p, what, db_thread0, db_thread1, db);
	/* Watchdog: the dispatchers return only when node 0 says so. */
	uint64_t last_total = 0, last_change = now_ns();
	while (!atomic_load(&db->done) && !(atomic_load(&db->err) && atomic_load(&db->ready) >= 100)) {
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
		uint64_t t = now_ns(), tot = atomic_load(&db->total);
		if (tot != last_total) {
			last_total = tot;
			last_change = t;
		}
		if (t > db->hard_deadline + NS_PER_S || t - last_change > 2 * NS_PER_S) {
			/* Lost doorbell or wedged dispatcher: try to stop it. */
			uint64_t tot_now = atomic_load(&db->total);
			int created = atomic_load(&db->created);
			atomic_store(&db->done, 1);
			if (created == 2) {
				mint_dispatcher_stop(db->d[0]);
				mint_dispatcher_stop(db->d[1]);
				mint_ipi_send(db->fb.fc, 0, MINT_VEC_KICK);
				mint_ipi_send(db->fb.fc, 1, MINT_VEC_KICK);
			}
			bool joined = pair_join(&p, now_ns() + 2 * NS_PER_S);
			die("%s: no progress for %.1f s after %" PRIu64
			    " round trips (a doorbell was lost or a dispatcher is stuck)%s",
			    what, (double)(t - last_change) / 1e9, tot_now,
			    joined ? "" : "; mint_dispatcher_run did not return after mint_dispatcher_stop");
		}
	}
	if (!pair_join(&p, now_ns() + 3 * NS_PER_S))
		die("%s: mint_dispatcher_run did not return within 3 s of mint_dispatcher_stop", what);
	int err = atomic_load(&db->err);
	if (err)
		die("%s: %s (node %u): %s", what, db->err_call, db->err_node, mint_strerror(err));
	if (db->lat.s.n == 0)
		die("%s: no complete segment before the deadline (%" PRIu64 " round trips)", what,
		    atomic_load(&db->total));

	/* Cross-check with the library's own counters. */
	uint64_t counts[MINT_VECTORS];
	int rc = mint_irq_counts(db->fb.fc, 1, counts);
	if (rc < 0)
		die("%s: mint_irq_counts: %s", what, mint_strerror(rc));
	uint64_t tot = atomic_load(&db->total);
	if (counts[BENCH_VEC] < tot)
		die("%s: node 1 counted %" PRIu64 " interrupts on vector %u, expected at least %" PRIu64,
		    what, counts[BENCH_VEC], BENCH_VEC, tot);
	for (uint32_t i = 0; i < 2; i++) {
		struct mint_irq_stats is;
		rc = mint_irq_stats(db->fb.fc, i, &is);
		if (rc < 0)
			die("%s: mint_irq_stats(node %u): %s", what, i, mint_strerror(rc));
		st->ipis += is.ipi_sent;
		st->wakes += is.wakes_sent;
		st->suppressed += is.wakes_suppressed;
		st->sleeps += is.sleeps;
	}
	st->round_trips += tot;
	for (int i = 0; i < 2; i++)
		if (db->d[i])
			mint_dispatcher_destroy(db->d[i]);
	fab_teardown(&db->fb, what);
	samples_merge(out, &db->lat.s);
	free(db);
}

/* ------------------------------------------------------------------ */
/* mint: ring streaming between two nodes                              */

#define RING_BATCH_MAX 64

struct ringbench {
	struct fab fb;
	const char *what;
	uint32_t msg;       /* payload bytes */
	unsigned batch;     /* messages per send_batch / recv_batch */
	uint64_t ring_size;
	uint64_t off;
	_Alignas(LINE) _Atomic int stop;
	_Alignas(LINE) _Atomic int ready;
	_Atomic int exited; /* bit 0: producer returned, bit 1: consumer */
	_Atomic int err;
	const char *err_call;
	char err_detail[160];
	uint64_t hard_deadline;
	/* Each side counts in locals and publishes here when it returns, so
	 * the harness shares no written line between the two cores. */
	_Alignas(LINE) _Atomic uint64_t sent;
	uint64_t prod_calls, prod_full; /* send_batch calls, calls that sent nothing */
	_Alignas(LINE) _Atomic uint64_t received;
	uint64_t cons_calls, cons_empty; /* recv_batch calls, calls that got nothing */
	_Alignas(LINE) struct tput tp;  /* consumer only */
};

static void rb_fail(struct ringbench *rb, const char *call, int rc, const char *detail)
{
	int zero = 0;
	if (atomic_compare_exchange_strong(&rb->err, &zero, rc)) {
		rb->err_call = call;
		if (detail)
			snprintf(rb->err_detail, sizeof rb->err_detail, "%s", detail);
	}
	atomic_store(&rb->stop, 1);
}

static int ring_init(void *mem, uint64_t size, void *arg)
{
	struct ringbench *rb = arg;
	if (size < mint_ring_footprint(rb->ring_size))
		return -EINVAL;
	return mint_ring_format(mem, rb->ring_size, 0, 1, MINT_VEC_CHANNEL);
}

/* A ring thread's start: its message buffers (filled with FILL), the ring
 * opened as SIDE (0 producer, 1 consumer), and the rendezvous with the
 * other side.  NULL (and the failure recorded) if any step fails. */
static uint8_t *rb_side_begin(struct ringbench *rb, int side, struct mint_ring *r, int fill)
{
	uint8_t *buf = xaligned(LINE, (size_t)rb->batch * rb->msg);
	if (!buf) {
		rb_fail(rb, "malloc", -ENOMEM, NULL);
		return NULL;
	}
	memset(buf, fill, (size_t)rb->batch * rb->msg);
	int rc = mint_ring_open(rb->fb.f[side], rb->off, r);
	if (rc < 0) {
		rb_fail(rb, side ? "mint_ring_open (consumer)" : "mint_ring_open (producer)", rc, NULL);
		atomic_fetch_add(&rb->ready, 100);
		free(buf);
		return NULL;
	}
	if (!rendezvous(&rb->ready, rb->hard_deadline)) {
		rb_fail(rb, "start", -ETIMEDOUT, NULL);
		free(buf);
		return NULL;
	}
	return buf;
}

static void *rb_prod(void *arg)
{
	struct ringbench *rb = arg;
	struct mint_ring r;
	struct mint_msg msgs[RING_BATCH_MAX];
	uint8_t *buf = rb_side_begin(rb, 0, &r, 0x3c);
	if (!buf)
		return NULL;
	int rc;
	uint64_t seq = 0, loops = 0, calls = 0, full = 0;
	while (seq < cfg.max_msgs) {
		if ((++loops & 63) == 0 &&
		    (atomic_load_explicit(&rb->stop, memory_order_relaxed) || now_ns() > rb->hard_deadline))
			break;
		unsigned n = rb->batch;
		for (unsigned i = 0; i < n; i++) {
			uint64_t s = seq + i;
			msgs[i].data = buf + (size_t)i * rb->msg;
			msgs[i].len = rb->msg;
			msgs[i].cap = rb->msg;
			msgs[i].type = 7;
			memcpy(msgs[i].data, &s, sizeof s);
		}
		unsigned done = 0;
		unsigned spins = 0;
		while (done < n) {
			rc = mint_ring_send_batch(&r, msgs + done, n - done);
			calls++;
			if (rc < 0) {
				rb_fail(rb, "mint_ring_send_batch", rc, NULL);
				goto out;
			}
			if ((unsigned)rc > n - done) {
				rb_fail(rb, "mint_ring_send_batch", -EPROTO,
					"returned more messages than it was given");
				goto out;
			}
			done += (unsigned)rc;
			if (rc == 0) {
				full++;
				spin_step();
				if ((++spins & 1023) == 0 &&
				    (atomic_load_explicit(&rb->stop, memory_order_relaxed) ||
				     now_ns() > rb->hard_deadline))
					goto out;
			}
		}
		seq += n;
	}
out:
	atomic_store(&rb->sent, seq);
	rb->prod_calls = calls;
	rb->prod_full = full;
	atomic_fetch_or(&rb->exited, 1);
	free(buf);
	return NULL;
}

static void *rb_cons(void *arg)
{
	struct ringbench *rb = arg;
	struct mint_ring r;
	struct mint_msg msgs[RING_BATCH_MAX];
	char detail[160];
	uint8_t *buf = rb_side_begin(rb, 1, &r, 0);
	if (!buf)
		return NULL;
	int rc;
	const double scale = rb->msg >= 4096 ? (double)rb->msg / 1e9 : 1.0;
	uint64_t expect = 0, since_check = 0, empty = 0, calls = 0, empties = 0;
	tput_begin(&rb->tp, scale);
	for (;;) {
		for (unsigned i = 0; i < rb->batch; i++) {
			msgs[i].data = buf + (size_t)i * rb->msg;
			msgs[i].cap = rb->msg;
			msgs[i].len = 0;
			msgs[i].type = 0;
		}
		rc = mint_ring_recv_batch(&r, msgs, rb->batch);
		calls++;
		if (rc == -EAGAIN)
			rc = 0;
		if (rc < 0) {
			rb_fail(rb, "mint_ring_recv_batch", rc, NULL);
			break;
		}
		if ((unsigned)rc > rb->batch) {
			rb_fail(rb, "mint_ring_recv_batch", -EPROTO, "returned more than asked for");
			break;
		}
		for (int i = 0; i < rc; i++) {
			uint64_t s;
			memcpy(&s, msgs[i].data, sizeof s);
			if (msgs[i].len != rb->msg || msgs[i].type != 7 || s != expect) {
				snprintf(detail, sizeof detail,
					 "message %" PRIu64 ": got len %u type %u seq %" PRIu64
					 ", expected len %u type 7",
					 expect, msgs[i].len, msgs[i].type, s, rb->msg);
				rb_fail(rb, "mint_ring_recv_batch", -EBADMSG, detail);
				goto out;
			}
			expect++;
		}
		rb->tp.units += (uint64_t)rc;
		since_check += (uint64_t)rc;
		if (rc == 0) {
			empties++;
			spin_step();
			if ((++empty & 1023) == 0) {
				if (atomic_load(&rb->err))
					break;
				if (now_ns() > rb->hard_deadline) {
					rb_fail(rb, "mint_ring_recv_batch", -ETIMEDOUT,
						"no data before the deadline");
					break;
				}
			}
			if (empty & 15)
				continue;
		}
		if (since_check >= 1024 || rc == 0) {
			since_check = 0;
			if (tput_check(&rb->tp)) {
				atomic_store(&rb->stop, 1);
				break;
			}
		}
	}
out:
	atomic_store(&rb->received, expect);
	rb->cons_calls = calls;
	rb->cons_empty = empties;
	atomic_fetch_or(&rb->exited, 2);
	free(buf);
	return NULL;
}

struct ringstats {
	uint64_t prod_calls, prod_full, cons_calls, cons_empty;
};

static void mint_ring_stream(const char *what, uint32_t msg, unsigned batch, uint64_t ring_size,
			     struct samples *out, struct ringstats *st)
{
	struct ringbench *rb = xaligned(LINE, sizeof *rb);
	if (!rb)
		die("out of memory");
	memset(rb, 0, sizeof *rb);
	rb->what = what;
	rb->msg = msg;
	rb->batch = batch;
	rb->ring_size = ring_size;
	fab_setup(&rb->fb, what, MINT_MODE_POLL);
	int rc = mint_obj_open(rb->fb.fc, "bench-ring", MINT_OBJ_RING, mint_ring_footprint(ring_size),
			       ring_init, rb, &rb->off);
	if (rc < 0)
		die("%s: mint_obj_open(bench-ring): %s", what, mint_strerror(rc));
	if (rc != 1)
		die("%s: mint_obj_open(bench-ring) found an object in a fresh fabric", what);
	{
		struct mint_ring probe;
		rc = mint_ring_open(rb->fb.fc, rb->off, &probe);
		if (rc < 0)
			die("%s: mint_ring_open: %s", what, mint_strerror(rc));
		if (mint_ring_max_record(&probe) < msg)
			die("%s: ring of %" PRIu64 " bytes takes records of at most %u bytes, need %u",
			    what, ring_size, mint_ring_max_record(&probe), msg);
	}
	rb->hard_deadline = now_ns() + 2 * measure_budget() + 3 * NS_PER_S;
	struct pair p;
	pair_start(&p, what, rb_prod, rb_cons, rb);
	if (!pair_join(&p, rb->hard_deadline + 2 * NS_PER_S)) {
		int ex = atomic_load(&rb->exited);
		die("%s: %s did not return within 2 s of its deadline (stuck inside "
		    "mint_ring_%s_batch?); sent %" PRIu64 ", received %" PRIu64,
		    what, (ex & 1) ? "the consumer" : "the producer", (ex & 1) ? "recv" : "send",
		    atomic_load(&rb->sent), atomic_load(&rb->received));
	}
	int err = atomic_load(&rb->err);
	if (err)
		die("%s: %s: %s%s%s", what, rb->err_call, mint_strerror(err),
		    rb->err_detail[0] ? ": " : "", rb->err_detail);
	if (rb->tp.s.n == 0)
		die("%s: no complete segment before the deadline", what);
	fab_teardown(&rb->fb, what);
	samples_merge(out, &rb->tp.s);
	st->prod_calls += rb->prod_calls;
	st->prod_full += rb->prod_full;
	st->cons_calls += rb->cons_calls;
	st->cons_empty += rb->cons_empty;
	free(rb);
}

/* ------------------------------------------------------------------ */
/* Machine description                                                 */

static void cpu_model(char *out, size_t cap)
{
	snprintf(out, cap, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	const char *keys[] = {"model name", "Model", "cpu model", "Hardware", "cpu"};
	char found[5][256] = {{0}};
	while (fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		for (int k = 0; k < 5; k++) {
			size_t kl = strlen(keys[k]);
			if (found[k][0] || strncmp(line, keys[k], kl) != 0)
				continue;
			const char *p = line + kl;
			while (*p == ' ' || *p == '\t')
				p++;
			if (p != colon)
				continue;
			p = colon + 1;
			while (*p == ' ')
				p++;
			snprintf(found[k], sizeof found[k], "%s", p);
			found[k][strcspn(found[k], "\n")] = 0;
		}
	}
	fclose(f);
	for (int k = 0; k < 5; k++)
		if (found[k][0] && cap > 0) {
			size_t n = strnlen(found[k], cap - 1);
			memcpy(out, found[k], n);
			out[n] = 0;
			return;
		}
}

/* Busy and total jiffies of CPU from /proc/stat; false if unreadable. */
static bool cpu_jiffies(int cpu, uint64_t *busy, uint64_t *total)
{
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return false;
	char line[512], want[32];
	snprintf(want, sizeof want, "cpu%d ", cpu);
	bool ok = false;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, want, strlen(want)) != 0)
			continue;
		unsigned long long v[8] = {0};
		if (sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) >= 5) {
			*total = 0;
			for (int i = 0; i < 8; i++)
				*total += v[i];
			*busy = *total - v[3] - v[4]; /* minus idle and iowait */
			ok = true;
		}
		break;
	}
	fclose(f);
	return ok;
}

/* How busy each benchmark core is with other work, over 300 ms (percent). */
static void cores_busy(double pct_out[2])
{
	int cpus[2] = {cpu_a, cpu_b};
	uint64_t b0[2], t0[2], b1[2], t1[2];
	pct_out[0] = pct_out[1] = -1.0;
	for (int i = 0; i < 2; i++)
		if (!cpu_jiffies(cpus[i], &b0[i], &t0[i]))
			return;
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	for (int i = 0; i < 2; i++) {
		if (!cpu_jiffies(cpus[i], &b1[i], &t1[i]))
			return;
		uint64_t dt = t1[i] - t0[i];
		pct_out[i] = dt ? 100.0 * (double)(b1[i] - b0[i]) / (double)dt : 0.0;
	}
}

static void pick_cores(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	cpu_a = cpu_b = 0;
	if (sched_getaffinity(0, sizeof set, &set) < 0) {
		ncpus_allowed = 1;
		single_core = true;
		return;
	}
	ncpus_allowed = CPU_COUNT(&set);
	int found = 0;
	for (int c = 0; c < CPU_SETSIZE && found < 2; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (found == 0)
			cpu_a = c;
		else
			cpu_b = c;
		found++;
	}
	if (found < 2) {
		cpu_b = cpu_a;
		single_core = true;
	}
}

/* ------------------------------------------------------------------ */
/* Report                                                              */

struct result {
	const char *bench;
	const char *anchor;
	const char *unit;    /* "ns", "msg/s", "GB/s" */
	bool lower_better;   /* latency: ratio = ours/anchor must be <= target */
	double target;
	struct samples a, m; /* all segment samples, all rounds */
	const char *context; /* a bare model of the same without mint, or NULL */
	struct samples c;    /* context: that model's figures */
	struct samples x;    /* context: cross-core latency probe (ring benchmarks) */
	struct vrow row;     /* each round's medians, anchor and mint */
	double av, mv, ratio, lo, hi; /* ratio: the median of the rounds' ratios */
	enum verdict verdict;
	int met;             /* rounds that met the target */
	bool ran;
	char note[256];
};

static void fmt_value(char *out, size_t cap, double v, const char *unit)
{
	if (strcmp(unit, "msg/s") == 0) {
		if (v >= 1e6)
			snprintf(out, cap, "%.2f M msg/s", v / 1e6);
		else
			snprintf(out, cap, "%.1f k msg/s", v / 1e3);
	} else if (strcmp(unit, "ns") == 0) {
		snprintf(out, cap, v >= 100 ? "%.0f ns" : "%.1f ns", v);
	} else {
		snprintf(out, cap, "%.2f %s", v, unit);
	}
}

static void finish_result(struct result *r)
{
	r->av = samples_median(&r->a);
	r->mv = samples_median(&r->m);
	vrow_ratios(&r->row, &r->ratio, &r->lo, &r->hi);
	r->verdict = vrow_verdict(&r->row, &r->met);
	r->ran = true;
	if (!cfg.anchors_only && !single_core)
		vrow_record(&r->row);
}

/* One round of R is over: the medians of its segments, A0 and M0 where
 * the round's anchor and mint samples began. */
static void end_round(struct result *r, int a0, int m0)
{
	vrow_round(&r->row, samples_median_from(&r->a, a0), samples_median_from(&r->m, m0));
}

static void json_samples(const struct samples *s)
{
	putchar('[');
	for (int i = 0; i < s->n; i++)
		printf("%s%.6g", i ? "," : "", s->v[i]);
	putchar(']');
}

static void print_machine_json(const char *model, long nproc, const struct utsname *u,
			       const double busy[2])
{
	printf("{\n  \"tool\": \"mint-bench\",\n  \"mint_version\": \"%s\",\n", MINT_VERSION);
	printf("  \"mode\": \"%s\",\n", cfg.quick ? "quick" : "full");
	printf("  \"machine\": {\"nproc\": %ld, \"cpus_allowed\": %d, \"cpu_model\": ", nproc,
	       ncpus_allowed);
	bench_json_str(stdout, model);
	printf(", \"kernel\": ");
	bench_json_str(stdout, u->release);
	printf(", \"cores_used\": [%d, %d], \"single_core\": %s, \"busy_before_pct\": [%.1f, %.1f]},\n",
	       cpu_a, cpu_b, single_core ? "true" : "false", busy[0], busy[1]);
}

static void report_json(struct result *res, int n)
{
	printf("  \"results\": [\n");
	bool all = true;
	int k = 0;
	for (int i = 0; i < n; i++) {
		struct result *r = &res[i];
		if (!r->ran)
			continue;
		all = all && r->verdict == VERDICT_MET;
		printf("%s    {\"benchmark\": \"%s\", \"anchor\": ", k++ ? ",\n" : "", r->bench);
		bench_json_str(stdout, r->anchor);
		printf(", \"unit\": \"%s\", \"anchor_value\": %.6g, ", r->unit, r->av);
		if (cfg.anchors_only)
			printf("\"value\": null, \"ratio\": null, ");
		else
			printf("\"value\": %.6g, \"ratio\": %.4g, \"ratio_lo\": %.4g, "
			       "\"ratio_hi\": %.4g, \"met_rounds\": %d, \"rounds\": %d, ",
			       r->mv, r->ratio, r->lo, r->hi, r->met, r->row.n);
		printf("\"target_op\": \"%s\", \"target\": %g, \"verdict\": \"%s\", "
		       "\"anchor_samples\": ",
		       r->row.op, r->target, cfg.anchors_only ? "-" : verdict_name(r->verdict));
		json_samples(&r->a);
		printf(", \"samples\": ");
		json_samples(&r->m);
		if (r->c.n > 0 && !cfg.anchors_only) {
			printf(", \"context\": ");
			bench_json_str(stdout, r->context);
			printf(", \"context_value\": %.6g, \"context_samples\": ", samples_median(&r->c));
			json_samples(&r->c);
		}
		if (r->x.n > 0 && !cfg.anchors_only) {
			printf(", \"crosscore_ns\": %.6g, \"crosscore_samples\": ",
			       samples_median(&r->x));
			json_samples(&r->x);
		}
		printf(", \"note\": ");
		bench_json_str(stdout, r->note);
		printf("}");
	}
	printf("\n  ],\n  \"all_pass\": %s\n}\n", cfg.anchors_only ? "null" : all ? "true" : "false");
}

static void report_table(struct result *res, int n)
{
	printf("\n%-15s  %-32s  %14s  %14s  %7s  %11s  %7s  %s\n", "benchmark", "anchor", "anchor",
	       "mint", "ratio", "rounds", "target", "verdict");
	printf("%-15s  %-32s  %14s  %14s  %7s  %11s  %7s  %s\n", "---------", "------", "------",
	       "----", "-----", "------", "------", "-------");
	int met = 0, ran = 0;
	for (int i = 0; i < n; i++) {
		struct result *r = &res[i];
		if (!r->ran)
			continue;
		char a[32], m[32], ratio[16], range[24], target[16], verdict[24];
		fmt_value(a, sizeof a, r->av, r->unit);
		fmt_value(m, sizeof m, r->mv, r->unit);
		snprintf(ratio, sizeof ratio, "%.2fx", r->ratio);
		snprintf(range, sizeof range, "%.2f-%.2fx", r->lo, r->hi);
		snprintf(target, sizeof target, "%s%gx", r->row.op, r->target);
		snprintf(verdict, sizeof verdict, "%s (%d/%d)", verdict_name(r->verdict), r->met,
			 r->row.n);
		if (cfg.anchors_only) {
			snprintf(m, sizeof m, "-");
			snprintf(ratio, sizeof ratio, "-");
			snprintf(range, sizeof range, "-");
			snprintf(verdict, sizeof verdict, "-");
		}
		printf("%-15s  %-32s  %14s  %14s  %7s  %11s  %7s  %s\n", r->bench, r->anchor, a, m,
		       ratio, range, target, verdict);
		ran++;
		met += r->verdict == VERDICT_MET;
	}
	printf("\n");
	for (int i = 0; i < n; i++) {
		struct result *r = &res[i];
		if (!r->ran)
			continue;
		char amin[32], amax[32], mmin[32], mmax[32];
		fmt_value(amin, sizeof amin, samples_min(&r->a), r->unit);
		fmt_value(amax, sizeof amax, samples_max(&r->a), r->unit);
		fmt_value(mmin, sizeof mmin, samples_min(&r->m), r->unit);
		fmt_value(mmax, sizeof mmax, samples_max(&r->m), r->unit);
		if (cfg.anchors_only)
			printf("  %-15s anchor %s..%s over %d segments\n", r->bench, amin, amax, r->a.n);
		else
			printf("  %-15s anchor %s..%s, mint %s..%s over %d/%d segments%s%s\n", r->bench,
			       amin, amax, mmin, mmax, r->a.n, r->m.n, r->note[0] ? "; " : "", r->note);
		if (!cfg.anchors_only && r->c.n > 0) {
			char cv[32];
			double c = samples_median(&r->c);
			fmt_value(cv, sizeof cv, c, r->unit);
			printf("  %-15s context, no verdict: %s on the same cores: %s; ", "", r->context, cv);
			if (r->lower_better)
				printf("mint takes %.2fx its time\n", c > 0 ? r->mv / c : 0.0);
			else
				printf("mint = %.0f%% of it\n", c > 0 ? 100.0 * r->mv / c : 0.0);
		}
		if (!cfg.anchors_only && r->x.n > 0) {
			char lo[32], md[32], hi[32];
			fmt_value(lo, sizeof lo, samples_min(&r->x), "ns");
			fmt_value(md, sizeof md, samples_median(&r->x), "ns");
			fmt_value(hi, sizeof hi, samples_max(&r->x), "ns");
			printf("  %-15s context: cross-core one-way line latency during the rounds %s "
			       "(%s..%s)\n",
			       "", md, lo, hi);
		}
	}
	if (cfg.anchors_only)
		printf("\nanchors only: no mint figures, no verdicts\n");
	else
		printf("\n%d/%d targets met (ratio: the median of the rounds' ratios, each round's "
		       "figures the medians of its %d segments; met or missed: in 4 of 5 rounds)%s\n",
		       met, ran, cfg.segs,
		       single_core ? "; ONE CORE ONLY: verdicts do not apply" : "");
}

/* ------------------------------------------------------------------ */

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void usage(FILE *to)
{
	fprintf(to,
		"usage: mint-bench [--quick] [-j] [--only LIST] [--anchors-only] [--help]\n"
		"\n"
		"Measures mint against anchors run in the same process on the same two cores:\n"
		"  doorbell-poll   one-way IPI latency, poll mode   vs cache-line ping-pong  (<= 2x)\n"
		"  doorbell-sleep  one-way IPI latency, sleep mode  vs futex ping-pong       (<= 1.2x)\n"
		"  ring-64B        64-byte messages/s across cores vs AF_UNIX socketpair    (>= 50x)\n"
		"  ring-4KiB       4 KiB messages, GB/s             vs single-core memcpy    (>= 0.5x)\n"
		"\n"
		"  --quick         short runs (smoke test; figures are noisy), about 3 s\n"
		"  -j, --json      JSON on stdout instead of the table\n"
		"  --only LIST     comma-separated subset: poll,sleep,ring64,ring4k\n"
		"  --anchors-only  measure the anchors alone (no fabric, no libmint calls)\n"
		"  -h, --help      this text\n"
		"\n"
		"A full run takes about 30 s.  A temporary fabric /dev/shm/mint-bench-<pid> is\n"
		"created and removed (also on error and on SIGINT/SIGTERM).\n"
		"Exit status: 0 when every benchmark ran (targets may be missed), 1 on error,\n"
		"2 on bad usage.\n");
}

static unsigned parse_only(const char *list)
{
	unsigned m = 0;
	char buf[128];
	snprintf(buf, sizeof buf, "%s", list);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "poll") || !strcmp(t, bm_names[BM_POLL]))
			m |= 1u << BM_POLL;
		else if (!strcmp(t, "sleep") || !strcmp(t, bm_names[BM_SLEEP]))
			m |= 1u << BM_SLEEP;
		else if (!strcmp(t, "ring64") || !strcmp(t, bm_names[BM_RING64]))
			m |= 1u << BM_RING64;
		else if (!strcmp(t, "ring4k") || !strcmp(t, bm_names[BM_RING4K]))
			m |= 1u << BM_RING4K;
		else {
			fprintf(stderr, "mint-bench: unknown benchmark '%s' in --only\n", t);
			exit(2);
		}
	}
	return m;
}

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
	if (cfg.json || !isatty(STDERR_FILENO))
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	progress_open = fmt[strlen(fmt) - 1] != '\n';
}

int main(int argc, char **argv)
{
	cfg.only = (1u << BM_COUNT) - 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--quick") || !strcmp(a, "-q"))
			cfg.quick = true;
		else if (!strcmp(a, "--anchors-only"))
			cfg.anchors_only = true;
		else if (!strcmp(a, "-j") || !strcmp(a, "--json"))
			cfg.json = true;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--only") && i + 1 < argc)
			cfg.only = parse_only(argv[++i]);
		else if (!strncmp(a, "--only=", 7))
			cfg.only = parse_only(a + 7);
		else {
			fprintf(stderr, "mint-bench: unknown argument '%s' (try --help)\n", a);
			return 2;
		}
	}
	if (cfg.quick) {
		cfg.rounds = 1;
		cfg.segs = 3;
		cfg.seg_ns = 30 * MS;
	} else {
		cfg.rounds = 5;
		cfg.segs = 4;
		cfg.seg_ns = 100 * MS;
	}
	cfg.lat_iters = 2000000;
	cfg.slat_iters = 200000;
	cfg.max_msgs = 2000000000ull;

	install_signals();
	pick_cores();
	snprintf(fabric_name, sizeof fabric_name, "bench-%ld", (long)getpid());

	char model[256];
	cpu_model(model, sizeof model);
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	struct utsname u;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof u);

	if (!cfg.json) {
		printf("mint-bench %s (%s run)\n", MINT_VERSION, cfg.quick ? "quick" : "full");
		printf("machine: %s, nproc %ld (%d usable), kernel %s %s\n", model, nproc, ncpus_allowed,
		       u.sysname, u.release);
		if (single_core)
			printf("NOTE: fewer than 2 cores available: both threads pinned to core %d; "
			       "cross-core figures are meaningless and spinners yield\n",
			       cpu_a);
		else
			printf("cores: %d and %d\n", cpu_a, cpu_b);
	}
	double busy[2];
	cores_busy(busy);
	bool loaded = busy[0] > 10.0 || busy[1] > 10.0;
	if (!cfg.json) {
		const char *warn = loaded ? "  WARNING: other work on these cores, figures will be noisy"
					  : "";
		if (busy[0] >= 0 && single_core)
			printf("load before the run: core %d %.0f%% busy%s\n", cpu_a, busy[0], warn);
		else if (busy[0] >= 0)
			printf("load before the run: core %d %.0f%% busy, core %d %.0f%% busy%s\n", cpu_a,
			       busy[0], cpu_b, busy[1], warn);
		fflush(stdout);
	}

	if (cfg.json)
		print_machine_json(model, nproc, &u, busy);

	struct result res[BM_COUNT] = {
		{.bench = "doorbell-poll", .anchor = "cache-line ping-pong", .unit = "ns",
		 .lower_better = true, .target = 2.0, .context = CONTEXT_DOORBELL},
		{.bench = "doorbell-sleep", .anchor = "futex ping-pong", .unit = "ns",
		 .lower_better = true, .target = 1.2},
		{.bench = "ring-64B", .anchor = "AF_UNIX socketpair, 64 B writes", .unit = "msg/s",
		 .lower_better = false, .target = 50.0, .context = CONTEXT_RING},
		{.bench = "ring-4KiB", .anchor = "memcpy 4 KiB blocks, 1 core", .unit = "GB/s",
		 .lower_better = false, .target = 0.5, .context = CONTEXT_RING},
	};

	const uint64_t ring64_size = ring_bytes(), ring4k_size = ring_bytes();
	const unsigned batch64 = 32, batch4k = 8;
	size_t memcpy_bytes = 0;
	struct ringstats rs64 = {0, 0, 0, 0}, rs4k = {0, 0, 0, 0};
	struct dbstats dbs[BM_COUNT];
	memset(dbs, 0, sizeof dbs);

	for (int b = 0; b < BM_COUNT; b++) {
		if (!(cfg.only & (1u << b)))
			continue;
		struct result *rb = &res[b];
		vrow_init(&rb->row, rb->bench, rb->unit, rb->lower_better ? "<=" : ">=", rb->target);
		for (int round = 0; round < cfg.rounds; round++) {
			int a0 = rb->a.n, m0 = rb->m.n;
			progress("[%s] round %d/%d: anchor...", bm_names[b], round + 1, cfg.rounds);
			switch (b) {
			case BM_POLL:
				anchor_pingpong(&res[b].a);
				break;
			case BM_SLEEP:
				anchor_futex(&res[b].a);
				break;
			case BM_RING64:
				anchor_socket(&res[b].a);
				break;
			case BM_RING4K:
				anchor_memcpy(&res[b].a, &memcpy_bytes);
				break;
			}
			if (cfg.anchors_only) {
				progress(" done\n");
				continue;
			}
			progress(" mint...");
			switch (b) {
			case BM_POLL:
				mint_doorbell(MINT_MODE_POLL, &res[b].m, &dbs[b]);
				break;
			case BM_SLEEP:
				mint_doorbell(MINT_MODE_SLEEP, &res[b].m, &dbs[b]);
				break;
			case BM_RING64:
				mint_ring_stream("ring-64B", 64, batch64, ring64_size, &res[b].m, &rs64);
				break;
			case BM_RING4K:
				mint_ring_stream("ring-4KiB", 4096, batch4k, ring4k_size, &res[b].m, &rs4k);
				break;
			}
			if (b == BM_POLL) {
				progress(" bare doorbell...");
				bare_doorbell(&res[b].c);
			}
			if (b == BM_RING64 || b == BM_RING4K) {
				progress(" naive ring...");
				if (b == BM_RING64)
					bare_ring(64, batch64, ring64_size, &res[b].c);
				else
					bare_ring(4096, batch4k, ring4k_size, &res[b].c);
				probe_latency(&res[b].x);
			}
			end_round(rb, a0, m0);
			progress(" done\n");
		}
		finish_result(&res[b]);
		switch (b) {
		case BM_RING64:
			snprintf(res[b].note, sizeof res[b].note,
				 "ring %" PRIu64 " KiB, batches of %u, full on %.0f%% of sends, empty on "
				 "%.0f%% of receives; anchor SOCK_STREAM, 64 KiB reads",
				 ring64_size / 1024, batch64, pct(rs64.prod_full, rs64.prod_calls),
				 pct(rs64.cons_empty, rs64.cons_calls));
			break;
		case BM_RING4K:
			snprintf(res[b].note, sizeof res[b].note,
				 "ring %" PRIu64 " KiB, batches of %u, full on %.0f%% of sends, empty on "
				 "%.0f%% of receives; anchor buffers 2 x %zu MiB",
				 ring4k_size / 1024, batch4k, pct(rs4k.prod_full, rs4k.prod_calls),
				 pct(rs4k.cons_empty, rs4k.cons_calls), memcpy_bytes >> 20);
			break;
		case BM_POLL:
		case BM_SLEEP:
			if (cfg.anchors_only)
				break;
			snprintf(res[b].note, sizeof res[b].note,
				 "%" PRIu64 " round trips, %" PRIu64 " doorbells: %.1f%% needed a futex "
				 "wake, %" PRIu64 " dispatcher sleeps",
				 dbs[b].round_trips, dbs[b].ipis,
				 pct(dbs[b].wakes, dbs[b].wakes + dbs[b].suppressed), dbs[b].sleeps);
			break;
		default:
			break;
		}
	}

	struct samples x = {.n = 0}; /* the cross-core probes of both ring benchmarks */
	samples_merge(&x, &res[BM_RING64].x);
	samples_merge(&x, &res[BM_RING4K].x);
	if (x.n > 0 && !cfg.anchors_only)
		vctx_record("crosscore_line_ns", samples_median(&x));
	if (cfg.json)
		report_json(res, BM_COUNT);
	else
		report_table(res, BM_COUNT);
	fabric_cleanup();
	return 0;
}
