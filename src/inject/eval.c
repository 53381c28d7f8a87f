/* SPDX-License-Identifier: MIT */
/*
 * mint inject --evaluate: the evaluation the seed paper left undone.
 * (a) The shortest interval at which back-to-back interrupts are all
 *     handled, in order (the ring is consumed in order by construction)
 *     and without loss (no overrun, every packet consumed), by a
 *     logarithmic bisection over trial runs, in the target's mode.  The
 *     doorbell coalesces like an MSI pending bit: how many interrupts had
 *     a handler run of their own is reported beside it.
 * (b) CPU time per packet on the target's cores: the same UDP packets at
 *     the same rate injected into the NIC, then sent through a veth pair
 *     into the same namespace (the kernel's own receive path), from the
 *     busy time of those cores in /proc/stat, minus an idle baseline.  A
 *     guest node's CPU is its QEMU's on the host (its cores in the node
 *     table are the guest's own numbering): the QEMU process's user and
 *     system time, minus its idle baseline; a guest has no veth end, so
 *     that comparison is left out for it.
 * (c) Inject-to-handler latency p50/p99/max.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <netpacket/packet.h>
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
#define CPU_PACKETS 160000ull /* a second per phase at 160 kpps */
#define CPU_BURST 16u
#define LATENCY_EVENTS 2000ull
#define LATENCY_GAP_NS 50000ull /* between events: the driver is idle again */
#define VETH_ADDR "10.79.0.2"

struct eval {
	bool json;
	struct inject_opts *o;
	struct mint_fabric *f;
	struct mint_nic_dev *dev;
	volatile sig_atomic_t *stop;
	struct mint_node_info target;
	int32_t qemu_pid; /* a guest node's QEMU on this host, else 0 */
	char veth_a[IFNAMSIZ], veth_b[IFNAMSIZ];
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

/* Send the run's packets through veth end A from this thread, pinned to
 * the target's cores, CPU_BURST at a time, sleeping (not spinning) in
 * between so that only sending and receiving show as busy. */
static int send_veth(struct eval *e, uint64_t interval, uint64_t packets)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(e->veth_a)};
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

struct cpu_result {
	double idle_ns, nic_ns, veth_ns; /* busy ns per packet (idle: per slot) */
	uint64_t nic_delivered;
};

/* User and system jiffies of process PID, all its threads (fields 14 and
 * 15 of /proc/PID/stat, counted after the command's closing parenthesis,
 * which the command itself may contain), or UINT64_MAX if it is gone. */
static uint64_t process_jiffies(int32_t pid)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	char *end = f && fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
	unsigned long long ut = 0, st = 0;
	if (f)
		fclose(f);
	if (end && sscanf(end + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			  &st) == 2)
		return ut + st;
	return UINT64_MAX;
}

/* (b) for a guest node: its QEMU's CPU time, idle and with the packets. */
static int guest_cpu_per_packet(struct eval *e, struct cpu_result *out)
{
	uint64_t interval = 100000, events = CPU_PACKETS / CPU_BURST;
	struct timespec idle = {0, (long)(events * interval)};
	uint64_t j0 = process_jiffies(e->qemu_pid);
	nanosleep(&idle, NULL);
	uint64_t j1 = process_jiffies(e->qemu_pid);
	struct inject_result r;
	int rc = trial(e, interval, events, CPU_BURST, false, &r);
	uint64_t j2 = process_jiffies(e->qemu_pid);
	if (rc)
		return rc;
	out->nic_delivered = r.delivered;
	inject_result_free(&r);
	if (j0 == UINT64_MAX || j1 == UINT64_MAX || j2 == UINT64_MAX)
		return -ESRCH; /* its QEMU is gone */
	if (!out->nic_delivered)
		return -EIO;
	/* per packet delivered: under TCG a guest misses many of them (the
	 * device counts overruns), and what it spent went to the others */
	out->idle_ns = jiffies_ns(j1 - j0) / (double)CPU_PACKETS;
	out->nic_ns = (jiffies_ns(j2 - j1) - jiffies_ns(j1 - j0)) / (double)out->nic_delivered;
	return 0;
}

/* (b): idle, NIC, veth: each the same packets at the same pace. */
static int cpu_per_packet(struct eval *e, struct cpu_result *out)
{
	uint64_t interval = 100000; /* CPU_BURST packets per 100 us: 160 kpps */
	uint64_t events = CPU_PACKETS / CPU_BURST;
	struct timespec idle = {0, (long)(events * interval)};
	const uint64_t *cores = e->target.cores;
	/* The idle baseline is what the cores did without us: others' work
	 * (a shared machine) and the dispatcher's own idling. */
	uint64_t j0 = busy_jiffies(cores);
	nanosleep(&idle, NULL);
	uint64_t j1 = busy_jiffies(cores);
	sched_pin(cores, false); /* the device off the target's cores */
	struct inject_result r;
	int rc = trial(e, interval, events, CPU_BURST, false, &r);
	uint64_t j2 = busy_jiffies(cores);
	out->nic_delivered = rc ? 0 : r.delivered;
	if (rc == 0)
		inject_result_free(&r);
	uint8_t saved_mac[6], saved_ip[4];
	memcpy(saved_mac, e->o->spec.dst_mac, 6);
	memcpy(saved_ip, e->o->spec.dst_ip, 4);
	if (rc == 0 && veth_up(e, e->o->spec.dst_mac))
		rc = -ENODEV;
	pkt_parse_ipv4(VETH_ADDR, e->o->spec.dst_ip);
	sched_pin(cores, true); /* the sender on them: the receive path runs there */
	uint64_t j3 = busy_jiffies(cores);
	if (rc == 0 && send_veth(e, interval, CPU_PACKETS))
		rc = -EIO;
	uint64_t j4 = busy_jiffies(cores);
	sched_pin(cores, false);
	veth_down(e);
	memcpy(e->o->spec.dst_mac, saved_mac, 6);
	memcpy(e->o->spec.dst_ip, saved_ip, 4);
	out->idle_ns = jiffies_ns(j1 - j0) / (double)CPU_PACKETS;
	out->nic_ns = jiffies_ns(j2 - j1) / (double)CPU_PACKETS - out->idle_ns;
	out->veth_ns = jiffies_ns(j4 - j3) / (double)CPU_PACKETS - out->idle_ns;
	return rc;
}

static const char *mode_name(uint32_t mode)
{
	static const char *const names[] = {"poll", "sleep", "adaptive"};
	return mode < 3 ? names[mode] : "unknown";
}

static void report(struct eval *e, uint64_t best, double own, const struct cpu_result *cpu,
		   int cpu_rc, const struct inject_result *lat)
{
	const char *mode = mode_name(e->target.mode);
	if (e->json) {
		printf("{\"node\":%u,\"mode\":\"%s\",\"min_interval_ns\":%llu,\"own_handler_share\":%.3f,",
		       e->o->node, e->qemu_pid ? "guest" : mode, (unsigned long long)best, own);
		if (cpu_rc == 0 && e->qemu_pid)
			printf("\"cpu_ns_per_packet\":{\"nic\":%.0f,\"idle_baseline\":%.0f,\"of\":\"qemu\","
			       "\"delivered\":%llu},",
			       cpu->nic_ns, cpu->idle_ns, (unsigned long long)cpu->nic_delivered);
		else if (cpu_rc == 0)
			printf("\"cpu_ns_per_packet\":{\"nic\":%.0f,\"veth\":%.0f,\"idle_baseline\":%.0f},",
			       cpu->nic_ns, cpu->veth_ns, cpu->idle_ns);
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
	if (cpu_rc == 0 && e->qemu_pid)
		printf("  (b) CPU per packet of the guest (its QEMU's user and system time): %.0f ns"
		       " per packet delivered (%llu of %llu; idle baseline subtracted; TCG: emulation"
		       " included); no veth into a guest to compare with\n",
		       cpu->nic_ns, (unsigned long long)cpu->nic_delivered, CPU_PACKETS);
	else if (cpu_rc == 0 && e->target.mode == MINT_MODE_POLL)
		printf("  (b) CPU per packet: not measurable in poll mode (the dispatcher keeps its core"
		       " busy); evaluate a node in sleep mode\n");
	else if (cpu_rc == 0)
		printf("  (b) CPU per packet on its cores: injected %.0f ns, veth %.0f ns (%.2fx)"
		       " (idle baseline %.0f ns subtracted)\n",
		       cpu->nic_ns, cpu->veth_ns, cpu->veth_ns > 0 ? cpu->nic_ns / cpu->veth_ns : 0.0,
		       cpu->idle_ns);
	else if (e->qemu_pid)
		printf("  (b) CPU per packet: not measured (%s)\n",
		       cpu_rc == -EIO ? "no packet was delivered" : "its QEMU is gone");
	else
		printf("  (b) CPU per packet: not measured (%s)\n",
		       cpu_rc == -EIO ? "the veth pair refused packets"
				      : "the veth pair could not be set up: root and ip needed");
	printf("  (c) inject-to-handler latency: p50 %llu ns, p99 %llu ns, max %llu ns (%llu events)\n",
	       (unsigned long long)hist_pct(&lat->lat, 50), (unsigned long long)hist_pct(&lat->lat, 99),
	       (unsigned long long)lat->lat.max, (unsigned long long)lat->lat.n);
}

int inject_evaluate(bool json, struct inject_opts *o, struct mint_fabric *f,
		    struct mint_nic_dev *dev, volatile sig_atomic_t *stop)
{
	struct eval e = {json, o, f, dev, stop, {0}, 0, "", ""};
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
				  : cpu_per_packet(&e, &cpu);
	if (rc == 0)
		rc = trial(&e, 2 * best > LATENCY_GAP_NS ? 2 * best : LATENCY_GAP_NS, LATENCY_EVENTS, 1, true, &lat);
	if (rc)
		return rc;
	report(&e, best, own, &cpu, cpu_rc, &lat);
	inject_result_free(&lat);
	return 0;
}
