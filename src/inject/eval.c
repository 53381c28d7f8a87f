/* SPDX-License-Identifier: MIT */
/*
 * mint inject --evaluate: the evaluation the seed paper left undone.
 * (a) The shortest interval at which back-to-back interrupts are all
 *     handled, in order (the ring is consumed in order by construction)
 *     and without loss (no overrun, every packet consumed), by a
 *     logarithmic bisection over trial runs, in the target's mode.  The
 *     doorbell coalesces like an MSI pending bit: how many interrupts had
 *     a handler run of their own is reported beside it.
 * (b) CPU time per packet, in alternating rounds of an idle phase, the
 *     same UDP packets at the same rate injected into the NIC, and sent
 *     through the kernel's own receive path: each figure the median over
 *     rounds less the round's idle phase (its rate, over the phase's own
 *     length), or a bound when within the idle phases' scatter.  A
 *     process node's CPU is its cores' busy time in /proc/stat, its
 *     kernel's path a veth pair into its namespace.  A guest node's CPU is
 *     the guest's own: its elapsed time less its idle time, read through
 *     `mint exec` between phases; its kernel's path is QEMU's e1000 on the
 *     host TAP that `mint guest start --tap` gave it (found among its
 *     QEMU's descriptors), sent into from the host.
 * (c) Inject-to-handler latency p50/p99/max.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/netns.h"
#include "inject/inject.h"
#include "mint/clock.h"
#include "mint/guest.h"

#define TRIAL_NS 200000000.0    /* each search trial runs about this long */
#define SEARCH_STEPS 10
#define SEARCH_LO_NS 200ull
#define SEARCH_HI_NS 1000000ull
#define CPU_BURST 16u
/* (b): ROUNDS rounds of an idle phase, the NIC's and the kernel's path's */
#define ROUNDS 7
/* A process node: a second per phase at 160 kpps, 21 s in all. */
#define CPU_PACKETS 160000ull
#define CPU_INTERVAL_NS 100000ull /* CPU_BURST packets per 100 us */
/* A guest under TCG: fewer packets, slower, that it mostly keeps up;
 * 7 rounds of 3 phases: about 20 s. */
#define GUEST_PACKETS 6400ull
#define GUEST_INTERVAL_NS 2000000ull /* CPU_BURST packets per 2 ms: 8 kpps */
#define GUEST_EXEC_TRIES 5
#define GUEST_EXEC_MS 30000
#define LATENCY_EVENTS 2000ull
#define LATENCY_GAP_NS 50000ull /* between events: the driver is idle again */
#define VETH_ADDR "10.79.0.2"

struct guest_sample {
	/* its CLOCK_MONOTONIC, and its CPUs' idle and iowait sleep summed:
	 * the tick code's exact times, where /proc/stat's busy ticks miss
	 * an interrupt handled while the tick is stopped in idle */
	uint64_t now_ns, idle_ns;
	unsigned cpus;
	bool eth;        /* eth0 (the --tap e1000) is there */
	uint64_t eth_rx; /* its rx_packets */
	uint8_t eth_mac[6];
};

struct eval {
	bool json;
	struct inject_opts *o;
	struct mint_fabric *f;
	struct mint_nic_dev *dev;
	volatile sig_atomic_t *stop;
	struct mint_node_info target;
	int32_t qemu_pid; /* a guest node's QEMU on this host, else 0 */
	char veth_a[IFNAMSIZ], veth_b[IFNAMSIZ];
	/* (b)'s kernel path: its interface here (veth end A, a guest's TAP in
	 * its QEMU's namespace), the packets' destination beyond it */
	char kern_if[IFNAMSIZ];
	uint8_t kern_mac[6], kern_ip[4];
	struct guest_sample last; /* a guest's, after (b)'s latest phase */
};

/* One trial: COUNT events of BURST packets, INTERVAL apart. */
static int trial(struct eval *e, uint64_t interval, uint64_t count, uint32_t burst, bool latency,
		 struct inject_result *res)
{
	struct inject_opts *o = e->o;
	o->sched.period_ns = interval;
	o->sched.jitter_ns = 0;
	o->sched.poisson = false;
	o->sched.late = LATE_CATCH_UP;
	o->count = count;
	o->burst = burst;
	o->latency = latency;
	o->record = NULL;
	return inject_schedule(o, e->f, e->dev, e->stop, false, res);
}

/* Every packet consumed, none missed; the share of interrupts that had
 * their own handler run into *OWN.  Every event must also have raised an
 * interrupt, except into a guest's kernel driver: it masks IMS while NAPI
 * polls (as e1000 writes IMC), so an event then sets the cause without
 * an interrupt and the poll takes its packet, which is no loss. */
static int interval_ok(struct eval *e, uint64_t interval, bool *ok, double *own)
{
	uint64_t n = (uint64_t)(TRIAL_NS / (double)interval);
	n = n < 200 ? 200 : n > 20000 ? 20000 : n;
	struct inject_result r;
	int rc = trial(e, interval, n, 1, false, &r);
	*ok = rc == 0 && !r.stopped && r.lost == 0 && r.overruns == 0 &&
	      (r.irqs == r.events || e->qemu_pid) && r.handled == r.injected;
	*own = r.irqs ? (double)r.drv_irqs / (double)r.irqs : 0;
	if (rc == 0 && r.stopped)
		rc = -ESRCH;
	inject_result_free(&r);
	return rc;
}

/* (a): bisection between SEARCH_LO_NS (assumed too short) and
 * SEARCH_HI_NS (checked); 0 in *BEST if even that fails. */
static int search(struct eval *e, uint64_t *best, double *own)
{
	uint64_t lo = SEARCH_LO_NS, hi = SEARCH_HI_NS;
	bool ok;
	double share;
	int rc = interval_ok(e, hi, &ok, own);
	*best = 0;
	if (rc || !ok)
		return rc;
	for (int step = 0; step < SEARCH_STEPS && !*e->stop; step++) {
		uint64_t mid = (uint64_t)sqrt((double)lo * (double)hi);
		if ((rc = interval_ok(e, mid, &ok, &share)) != 0)
			return rc;
		*(ok ? &hi : &lo) = mid;
		if (ok)
			*own = share;
	}
	*best = hi;
	return 0;
}

/* ---- (b): busy time of the target's cores ---- */

/* Busy jiffies (user nice system irq softirq steal) of the cores in SET. */
static uint64_t busy_jiffies(const uint64_t set[MINT_CPU_WORDS])
{
	FILE *f = fopen("/proc/stat", "re");
	char line[512];
	uint64_t busy = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned cpu;
		unsigned long long v[8];
		if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 9 ||
		    cpu >= MINT_CPU_WORDS * 64 || !(set[cpu / 64] >> (cpu % 64) & 1))
			continue;
		busy += v[0] + v[1] + v[2] + v[5] + v[6] + v[7]; /* not idle, iowait */
	}
	if (f)
		fclose(f);
	return busy;
}

static double jiffies_ns(uint64_t j)
{
	return (double)j * 1e9 / (double)sysconf(_SC_CLK_TCK);
}

/* `ip ARGS...`, quietly; 0 if it succeeded. */
static int ip(const char *const *args)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execvp("ip", (char *const *)args);
		_exit(127);
	}
	int st;
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A veth pair: end A here, end B in the target's namespace at VETH_ADDR
 * with MAC (locally administered, of this process), so that nothing needs
 * reading back from there. */
static int veth_up(struct eval *e, uint8_t mac[6])
{
	int pid = (int)getpid();
	snprintf(e->veth_a, sizeof(e->veth_a), "mintev%da", pid % 100000);
	snprintf(e->veth_b, sizeof(e->veth_b), "mintev%db", pid % 100000);
	const uint8_t m[6] = {0x02, 0x6d, 0x65, (uint8_t)(pid >> 16), (uint8_t)(pid >> 8), (uint8_t)pid};
	char lladdr[18];
	snprintf(lladdr, sizeof(lladdr), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	memcpy(mac, m, 6);
	const char *ns = e->target.netns;
	if (!netns_node_ours(e->f, e->o->node, ns))
		return -1;
	const char *add[] = {"ip", "link", "add", e->veth_a, "type", "veth", "peer", "name", e->veth_b,
			     "address", lladdr, "netns", ns, NULL};
	const char *addr[] = {"ip", "-n", ns, "addr", "add", VETH_ADDR "/24", "dev", e->veth_b, NULL};
	const char *up_b[] = {"ip", "-n", ns, "link", "set", e->veth_b, "up", NULL};
	const char *up_a[] = {"ip", "link", "set", e->veth_a, "up", NULL};
	return ip(add) || ip(addr) || ip(up_b) || ip(up_a) ? -1 : 0;
}

static void veth_down(struct eval *e)
{
	const char *del[] = {"ip", "link", "del", e->veth_a, NULL};
	if (e->veth_a[0])
		ip(del);
}

/* Send the run's packets through interface IFNAME (veth end A, a guest's
 * TAP) from this thread, CPU_BURST at a time, sleeping (not spinning) in
 * between so that only sending and receiving show as busy. */
static int send_iface(struct eval *e, const char *ifname, uint64_t interval, uint64_t packets)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname)};
	if (s < 0 || !ll.sll_ifindex || bind(s, (struct sockaddr *)&ll, sizeof(ll))) {
		if (s >= 0)
			close(s);
		return -1;
	}
	static uint8_t buf[PKT_MAX];
	struct mint_nic_pkt p;
	uint64_t t = mint_now_ns(CLOCK_MONOTONIC);
	uint64_t n = 0;
	for (int retries = 0; n < packets && !*e->stop && retries < 1000; n++) {
		uint32_t len = pkt_build(&e->o->spec, n, buf, &p);
		if (send(s, buf, len, 0) != (ssize_t)len) {
			if (errno != ENOBUFS && errno != EAGAIN)
				break;
			retries++; /* the receiving backlog is full: again, later */
			sched_yield();
			n--;
			continue;
		}
		if (n % CPU_BURST == CPU_BURST - 1) {
			t += interval;
			struct timespec ts = {(time_t)(t / 1000000000ull), (long)(t % 1000000000ull)};
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
	}
	close(s);
	return n == packets ? 0 : -1;
}

/* ---- (b) for a guest node: its own CPU time, through mint exec ---- */

/* One run of this very program's `mint exec ID --cwd / -- sh -c CMD` into
 * the target guest, its output into BUF (NUL-terminated): its exit status,
 * or -1 (not run, or killed: not done within GUEST_EXEC_MS, or more output
 * than CAP). */
static int guest_sh_once(struct eval *e, const char *cmd, char *buf, size_t cap)
{
	int p[2];
	char id[16];
	snprintf(id, sizeof(id), "%u", e->o->node);
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(p[1], 1);
		dup2(null, 2);
		execl("/proc/self/exe", "mint", "--fabric", e->o->fabric, "exec", id, "--cwd", "/",
		      "--", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t got = 1;
	uint64_t end = mint_now_ns(CLOCK_MONOTONIC) + GUEST_EXEC_MS * 1000000ull;
	for (struct pollfd pf = {p[0], POLLIN, 0}; pid > 0 && got > 0 && n + 1 < cap;) {
		uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
		if (now >= end || poll(&pf, 1, (int)((end - now) / 1000000 + 1)) != 1)
			break;
		if ((got = read(p[0], buf + n, cap - 1 - n)) > 0)
			n += (size_t)got;
	}
	buf[n] = '\0';
	close(p[0]);
	int st;
	if (pid > 0 && got != 0)
		kill(pid, SIGKILL); /* ours, not at its end within the bound */
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return got == 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* guest_sh_once until it runs: the exec server inside a guest cannot see
 * a host client's pid and may hang up (129) a command still starting.
 * 0 or -EIO. */
static int guest_sh(struct eval *e, const char *cmd, char *buf, size_t cap)
{
	for (int i = 0; i < GUEST_EXEC_TRIES && !*e->stop; i++) {
		int st = guest_sh_once(e, cmd, buf, cap);
		if (st != 129)
			return st == 0 ? 0 : -EIO;
	}
	return -EIO;
}

/* One line of the guest's answer into S: "now at N nsecs", a CPU's
 * ".idle_sleeptime : N nsecs" or ".iowait_sleeptime: N nsecs" (of
 * /proc/timer_list), eth0's rx_packets or its MAC. */
static void guest_line(const char *line, struct guest_sample *s)
{
	unsigned long long v;
	const char *colon = strchr(line, ':');
	uint8_t *m = s->eth_mac;
	if (sscanf(line, "now at %llu nsecs", &v) == 1)
		s->now_ns = v;
	else if (colon && strstr(line, "sleeptime") && sscanf(colon + 1, "%llu", &v) == 1) {
		s->idle_ns += v;
		s->cpus += strstr(line, "idle_sleeptime") != NULL;
	} else if (!colon && sscanf(line, "%llu", &v) == 1)
		s->eth_rx = v;
	else if (sscanf(line, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4],
			&m[5]) == 6)
		s->eth = true;
}

/* The guest's CPU and eth0 counters now; its words are parsed, bounded,
 * never trusted beyond a number: 0, or -EIO. */
static int guest_sample(struct eval *e, struct guest_sample *s)
{
	char buf[1024], *save = NULL;
	int rc = guest_sh(e, "grep -E '^now at|sleeptime' /proc/timer_list; cat "
			     "/sys/class/net/eth0/statistics/rx_packets /sys/class/net/eth0/address "
			     "2>/dev/null", buf, sizeof(buf));
	memset(s, 0, sizeof(*s));
	for (char *l = rc ? NULL : strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		guest_line(l, s);
	return rc || !s->now_ns || !s->cpus ? -EIO : 0;
}

/* Busy ns between two samples into *NS: elapsed time on each CPU less
 * its sleep (mint's guests run one vCPU; on more, one asleep at a sample
 * would have its current sleep missed).  -EIO if the guest's counters
 * cannot be (time going back, more sleep than time). */
static int guest_busy_ns(const struct guest_sample *a, const struct guest_sample *b, double *ns)
{
	if (a->cpus != b->cpus || b->now_ns <= a->now_ns || b->idle_ns < a->idle_ns ||
	    (b->idle_ns - a->idle_ns) / b->cpus > b->now_ns - a->now_ns)
		return -EIO;
	*ns = (double)(b->now_ns - a->now_ns) * b->cpus - (double)(b->idle_ns - a->idle_ns);
	return 0;
}

/* The TAP guest QEMU PID holds (mint guest start --tap) into NAME: 0, or
 * -ENOENT.  A tun descriptor's fdinfo names its device ("iff:"). */
static int guest_tap(int32_t pid, char name[IFNAMSIZ])
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	DIR *d = opendir(path);
	int rc = -ENOENT;
	for (struct dirent *de; d && rc && (de = readdir(d)) != NULL;) {
		char fpath[64 + 256];
		snprintf(fpath, sizeof(fpath), "%s/%s", path, de->d_name);
		FILE *f = de->d_name[0] != '.' ? fopen(fpath, "re") : NULL;
		while (f && rc && fgets(line, sizeof(line), f))
			if (sscanf(line, "iff: %15s", name) == 1)
				rc = 0;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return rc;
}

/* Send PACKETS into the kernel's path (CPU_BURST per INTERVAL) to
 * KERN_MAC and KERN_IP, from the namespace of the guest's QEMU if there
 * is one (its TAP is there; this process may be in node 0's) and back to
 * ours.  0 or -EIO. */
static int send_kern(struct eval *e, uint64_t interval, uint64_t packets)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)e->qemu_pid);
	int ours = e->qemu_pid ? open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC) : -1;
	int theirs = e->qemu_pid ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	bool moved = ours >= 0 && theirs >= 0 && setns(theirs, CLONE_NEWNET) == 0;
	int rc = e->qemu_pid && !moved ? -EIO : 0;
	struct pkt_spec saved = e->o->spec;
	memcpy(e->o->spec.dst_mac, e->kern_mac, 6);
	memcpy(e->o->spec.dst_ip, e->kern_ip, 4);
	if (rc == 0 && send_iface(e, e->kern_if, interval, packets))
		rc = -EIO;
	e->o->spec = saved;
	if (moved && setns(ours, CLONE_NEWNET) != 0)
		rc = -EIO;
	if (ours >= 0)
		close(ours);
	if (theirs >= 0)
		close(theirs);
	return rc;
}

/* ---- (b): busy time per packet, in rounds ---- */

enum { PHASE_IDLE, PHASE_NIC, PHASE_KERN, PHASES };

/* One phase measured: busy ns, elapsed ns (by the clock of the busy
 * counter), packets delivered. */
struct phase {
	double busy, elapsed;
	uint64_t delivered;
};

/* How (b) measures a kind of node: PACKETS per phase, CPU_BURST per
 * INTERVAL ns; its busy counter (the target's cores, or the guest) moves
 * in steps of STEP_NS; MEASURE runs one phase into *PH. */
struct way {
	uint64_t packets, interval;
	double step_ns;
	int (*measure)(struct eval *e, const struct way *w, int phase, struct phase *ph);
};

/* One phase of W's packet slots: nothing, the NIC (its deliveries into
 * *DELIVERED), or the kernel's path (every packet sent). */
static int run_phase(struct eval *e, const struct way *w, int phase, uint64_t *delivered)
{
	uint64_t events = w->packets / CPU_BURST, ns = events * w->interval;
	struct timespec idle = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
	struct inject_result r;
	int rc;
	*delivered = 0;
	switch (phase) {
	case PHASE_IDLE:
		return nanosleep(&idle, NULL) ? -EINTR : 0;
	case PHASE_NIC:
		if ((rc = trial(e, w->interval, events, CPU_BURST, false, &r)) == 0) {
			*delivered = r.delivered;
			inject_result_free(&r);
		}
		return rc;
	default:
		if ((rc = send_kern(e, w->interval, w->packets)) == 0)
			*delivered = w->packets;
		return rc;
	}
}

/* A phase on a process node's cores, their busy time from /proc/stat:
 * the injector off them, the veth's sender on them (the receive path runs
 * on the sending core). */
static int cores_measure(struct eval *e, const struct way *w, int phase, struct phase *ph)
{
	const uint64_t *cores = e->target.cores;
	sched_pin(cores, phase == PHASE_KERN);
	uint64_t t0 = mint_now_ns(CLOCK_MONOTONIC), j0 = busy_jiffies(cores);
	int rc = run_phase(e, w, phase, &ph->delivered);
	uint64_t j1 = busy_jiffies(cores);
	ph->busy = jiffies_ns(j1 > j0 ? j1 - j0 : 0);
	ph->elapsed = (double)(mint_now_ns(CLOCK_MONOTONIC) - t0);
	return rc;
}

/* A phase in a guest, its busy time between the sample before it (LAST)
 * and one after; the e1000's deliveries are eth0's rx_packets. */
static int guest_measure(struct eval *e, const struct way *w, int phase, struct phase *ph)
{
	struct guest_sample b;
	int rc = run_phase(e, w, phase, &ph->delivered);
	if (rc || (rc = guest_sample(e, &b)) != 0 ||
	    (rc = guest_busy_ns(&e->last, &b, &ph->busy)) != 0)
		return rc;
	if (phase == PHASE_KERN) /* eth0's counter in both samples, or none counted */
		ph->delivered = b.eth && e->last.eth && b.eth_rx > e->last.eth_rx
					? b.eth_rx - e->last.eth_rx
					: 0;
	ph->elapsed = (double)(b.now_ns - e->last.now_ns); /* > 0: guest_busy_ns */
	e->last = b;
	return 0;
}

/* Each phase of each round. */
struct rounds {
	struct phase ph[PHASES][ROUNDS];
};

/* ROUNDS rounds of W's first PHASES phases: alternating, so that a
 * change of the host's load or the node's background falls on every
 * phase alike. */
static int run_rounds(struct eval *e, const struct way *w, int phases, struct rounds *g)
{
	int rc = 0;
	for (int r = 0; r < ROUNDS && rc == 0; r++)
		for (int p = 0; p < phases && rc == 0; p++)
			rc = w->measure(e, w, p, &g->ph[p][r]);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of N (0 < N <= ROUNDS) values V into *MID, sorting them; the
 * median absolute deviation from it returned. */
static double spread(double *v, int n, double *mid)
{
	double dev[ROUNDS];
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	*mid = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	for (int i = 0; i < n; i++)
		dev[i] = fabs(v[i] - *mid);
	qsort(dev, (size_t)n, sizeof(*dev), cmp_double);
	return n % 2 ? dev[n / 2] : (dev[n / 2 - 1] + dev[n / 2]) / 2;
}

/* A path's CPU per packet delivered (< 0: nothing delivered), its
 * rounds' spread, whether it is only an upper bound. */
struct figure {
	double ns, spread;
	bool below;
	uint64_t delivered;
};

/* Path PHASE's figure: the median over rounds of its busy time beyond
 * what its round's idle phase had in as long (a phase that ran longer,
 * on a loaded machine, had more of others' work too), per packet
 * delivered, with the median absolute deviation of the rounds' own.
 * Within RES (ns per phase) of zero it is no measurement: below, and the
 * bound max(median, 0) + RES per packet, so that no figure is negative. */
static struct figure figure(const struct rounds *g, int phase, double res)
{
	struct figure f = {.ns = -1};
	double per[ROUNDS], m;
	int n = 0;
	for (int r = 0; r < ROUNDS; r++) {
		const struct phase *p = &g->ph[phase][r], *idle = &g->ph[PHASE_IDLE][r];
		f.delivered += p->delivered;
		if (p->delivered)
			per[n++] = (p->busy - idle->busy * p->elapsed / idle->elapsed) /
				   (double)p->delivered;
	}
	if (n == 0)
		return f;
	f.spread = spread(per, n, &m);
	/* never a zero bound: a nanosecond is the clock's own step */
	double res_pkt = fmax(res / ((double)f.delivered / n), 1.0);
	f.below = m <= res_pkt;
	f.ns = f.below ? fmax(m, 0) + res_pkt : m;
	return f;
}

struct cpu_result {
	uint64_t packets;                 /* per phase */
	double idle_ns, resolution_ns;    /* per packet slot */
	struct figure nic, kern;          /* kern: the veth or a guest's e1000 */
	char tap[IFNAMSIZ];               /* a guest's, if found */
};

/* (b) by way W, with the kernel's path if PHASES has it.  The resolution
 * is twice the idle phases' median absolute deviation (a figure is the
 * difference of two phases, each that unsteady), at least the counter's
 * step; what every phase costs alike (a guest's samples, others' work on
 * a shared machine) goes with the idle phase.  -ENODATA if the NIC
 * delivered nothing. */
static int cpu_rounds(struct eval *e, const struct way *w, int phases, struct cpu_result *out)
{
	struct rounds g = {0};
	int rc = run_rounds(e, w, phases, &g);
	if (rc)
		return rc;
	double idle[ROUNDS], mid;
	for (int r = 0; r < ROUNDS; r++)
		idle[r] = g.ph[PHASE_IDLE][r].busy;
	double res = fmax(2 * spread(idle, ROUNDS, &mid), w->step_ns);
	out->packets = w->packets;
	out->idle_ns = mid / (double)w->packets;
	out->resolution_ns = fmax(res / (double)w->packets, 1.0);
	out->nic = figure(&g, PHASE_NIC, res);
	out->kern = figure(&g, PHASE_KERN, res);
	return out->nic.ns < 0 ? -ENODATA : 0;
}

/* (b) for a guest node: the NIC and its e1000 (if it has one: a TAP of
 * its QEMU's, and eth0 that its init brought up), by its own clock. */
static int guest_cpu_per_packet(struct eval *e, struct cpu_result *out)
{
	const struct way w = {GUEST_PACKETS, GUEST_INTERVAL_NS, 1.0, guest_measure};
	bool tap = guest_tap(e->qemu_pid, out->tap) == 0;
	int rc = guest_sample(e, &e->last);
	if (rc)
		return rc;
	memcpy(e->kern_if, out->tap, IFNAMSIZ);
	memcpy(e->kern_mac, e->last.eth_mac, 6);
	memcpy(e->kern_ip, e->o->spec.dst_ip, 4);
	return cpu_rounds(e, &w, tap && e->last.eth ? PHASES : PHASE_KERN, out);
}

/* (b) for a process node: on its cores, against a veth pair into its
 * namespace; its ticks counted whole, per core, at both ends of the two
 * phases of a figure.  -EBUSY in poll mode (its dispatcher keeps its
 * cores busy), -ENODEV without the veth pair. */
static int cores_cpu_per_packet(struct eval *e, struct cpu_result *out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < MINT_CPU_WORDS; i++)
		n += (unsigned)__builtin_popcountll(e->target.cores[i]);
	const struct way w = {CPU_PACKETS, CPU_INTERVAL_NS, 2 * jiffies_ns(n), cores_measure};
	if (e->target.mode == MINT_MODE_POLL)
		return -EBUSY;
	int rc = veth_up(e, e->kern_mac) ? -ENODEV : 0;
	memcpy(e->kern_if, e->veth_a, IFNAMSIZ);
	pkt_parse_ipv4(VETH_ADDR, e->kern_ip);
	if (rc == 0)
		rc = cpu_rounds(e, &w, PHASES, out);
	sched_pin(e->target.cores, false);
	veth_down(e);
	return rc;
}

static const char *mode_name(uint32_t mode)
{
	static const char *const names[] = {"poll", "sleep", "adaptive"};
	return mode < 3 ? names[mode] : "unknown";
}

/* "NAME":NS (or "NAME":null,"NAME_below":NS when NS is only a bound),
 * "NAME_spread" and "NAME_delivered". */
static void json_figure(const char *name, const struct figure *f)
{
	if (f->below)
		printf(",\"%s\":null,\"%s_below\":%.0f", name, name, f->ns);
	else
		printf(",\"%s\":%.0f", name, f->ns);
	printf(",\"%s_spread\":%.0f,\"%s_delivered\":%llu", name, f->spread, name,
	       (unsigned long long)f->delivered);
}

static void cpu_json(const struct eval *e, const struct cpu_result *c)
{
	printf("\"cpu_ns_per_packet\":{\"of\":\"%s\",\"rounds\":%d,\"sent\":%llu,"
	       "\"idle_baseline\":%.0f,\"resolution\":%.0f",
	       e->qemu_pid ? "guest" : "cores", ROUNDS, (unsigned long long)(ROUNDS * c->packets),
	       c->idle_ns, c->resolution_ns);
	json_figure("nic", &c->nic);
	if (c->kern.ns >= 0) {
		/* the interface the kernel's phase sent into: a guest's TAP, or
		 * the veth pair made for it (gone when this prints) */
		printf(",\"%s\":\"%s\"", e->qemu_pid ? "tap" : "veth_dev", e->kern_if);
		json_figure(e->qemu_pid ? "qemu_e1000" : "veth", &c->kern);
		if (!c->kern.below)
			printf(",\"ratio%s\":%.3g", c->nic.below ? "_below" : "", c->nic.ns / c->kern.ns);
	}
	printf("},");
}

/* A figure's line, without its end: "NAME: N ns per packet delivered",
 * or "NAME: below resolution: < N ns ...", with its spread. */
static void text_figure(const char *name, const struct figure *f)
{
	printf("      %s: %s%.0f ns per packet delivered (spread %.0f ns, %llu delivered)", name,
	       f->below ? "below resolution: < " : "", f->ns, f->spread,
	       (unsigned long long)f->delivered);
}

static const char *cpu_failure(const struct eval *e, int rc)
{
	if (rc == -ENODATA)
		return "no packet was delivered";
	if (rc == -EINTR)
		return "interrupted";
	if (e->qemu_pid)
		return rc == -EIO ? "mint exec into the guest, its counters or the send into its TAP failed"
				  : "the guest stopped";
	return rc == -EIO ? "the veth pair refused packets"
			  : "the veth pair could not be set up: root and ip needed";
}

static void cpu_text(const struct eval *e, const struct cpu_result *c, int rc)
{
	bool g = e->qemu_pid;
	if (rc == -EBUSY) {
		printf("  (b) CPU per packet: not measurable in poll mode (the dispatcher keeps its core"
		       " busy); evaluate a node in sleep mode\n");
		return;
	}
	if (rc) {
		printf("  (b) CPU per packet: not measured (%s)\n", cpu_failure(e, rc));
		return;
	}
	printf("  (b) CPU per packet %s: %d rounds of an idle phase, %llu UDP packets %s, the same"
	       " %s, %u per %llu us; the median over rounds of each less its round's idle phase"
	       " over as long (%.0f ns per packet slot), the rounds' spread (median absolute"
	       " deviation) beside it; resolution %.0f ns per packet (twice the idle phases'"
	       " spread%s):\n",
	       g ? "in the guest (elapsed less idle, by its /proc/timer_list)"
		 : "on its cores (busy time by /proc/stat)",
	       ROUNDS, (unsigned long long)c->packets, g ? "into mint_nic.ko" : "injected",
	       g ? "into its e1000" : "through a veth pair into its namespace", CPU_BURST,
	       (unsigned long long)(g ? GUEST_INTERVAL_NS : CPU_INTERVAL_NS) / 1000, c->idle_ns,
	       c->resolution_ns, g ? "" : ", at least two ticks per core");
	text_figure(g ? "mint_nic.ko" : "injected", &c->nic);
	printf("\n");
	if (c->kern.ns >= 0) {
		char name[64];
		snprintf(name, sizeof(name), "QEMU's e1000 on host TAP %s", c->tap);
		text_figure(g ? name : "veth", &c->kern);
		if (c->kern.below)
			printf("; no ratio\n");
		else
			printf("; %s %s %.3gx\n", g ? "mint_nic.ko / e1000" : "injected / veth",
			       c->nic.below ? "<" : "=", c->nic.ns / c->kern.ns);
	} else if (g)
		printf("      no QEMU NIC to compare with (%s)\n",
		       c->tap[0] ? "its e1000 received nothing" : "start the guest with --tap");
	if (g)
		printf("      TCG caveat: without KVM the guest's time includes QEMU translating its"
		       " code, and every e1000 register access traps into QEMU's device model: compare"
		       " the two paths of one run, not with hardware\n");
}

static void report(struct eval *e, uint64_t best, double own, const struct cpu_result *cpu,
		   int cpu_rc, const struct inject_result *lat)
{
	const char *mode = mode_name(e->target.mode);
	if (e->json) {
		printf("{\"node\":%u,\"mode\":\"%s\",\"min_interval_ns\":%llu,\"own_handler_share\":%.3f,",
		       e->o->node, e->qemu_pid ? "guest" : mode, (unsigned long long)best, own);
		if (cpu_rc == 0)
			cpu_json(e, cpu);
		printf("\"latency_ns\":{\"p50\":%llu,\"p99\":%llu,\"max\":%llu}}\n",
		       (unsigned long long)hist_pct(&lat->lat, 50),
		       (unsigned long long)hist_pct(&lat->lat, 99), (unsigned long long)lat->lat.max);
		return;
	}
	if (e->qemu_pid)
		printf("evaluation of node %u's NIC (a guest node: its kernel's driver)\n", e->o->node);
	else
		printf("evaluation of node %u's NIC (dispatcher mode %s)\n", e->o->node, mode);
	if (best)
		printf("  (a) shortest interval with every interrupt handled, in order, no loss: %llu ns"
		       " (%.0f%% of them with a handler run of their own)\n",
		       (unsigned long long)best, own * 100);
	else
		printf("  (a) even %llu ns intervals lost interrupts or packets\n", SEARCH_HI_NS);
	cpu_text(e, cpu, cpu_rc);
	printf("  (c) inject-to-handler latency: p50 %llu ns, p99 %llu ns, max %llu ns (%llu events)\n",
	       (unsigned long long)hist_pct(&lat->lat, 50), (unsigned long long)hist_pct(&lat->lat, 99),
	       (unsigned long long)lat->lat.max, (unsigned long long)lat->lat.n);
}

int inject_evaluate(bool json, struct inject_opts *o, struct mint_fabric *f,
		    struct mint_nic_dev *dev, volatile sig_atomic_t *stop)
{
	struct eval e = {.json = json, .o = o, .f = f, .dev = dev, .stop = stop};
	mint_node_info(f, o->node, &e.target);
	struct mint_guest_info g;
	if (mint_guest_info(f, o->node, &g) == 0 && g.guest)
		e.qemu_pid = g.qemu_pid;
	o->spec.type = PKT_UDP; /* NoPorts: the kernel's path up to UDP, no socket */
	uint64_t best = 0;
	double own = 0;
	struct cpu_result cpu = {0};
	struct inject_result lat;
	int rc = search(&e, &best, &own);
	int cpu_rc = rc		? rc
		     : e.qemu_pid ? guest_cpu_per_packet(&e, &cpu)
				  : cores_cpu_per_packet(&e, &cpu);
	if (rc == 0)
		rc = trial(&e, 2 * best > LATENCY_GAP_NS ? 2 * best : LATENCY_GAP_NS, LATENCY_EVENTS, 1, true, &lat);
	if (rc)
		return rc;
	report(&e, best, own, &cpu, cpu_rc, &lat);
	inject_result_free(&lat);
	return 0;
}
