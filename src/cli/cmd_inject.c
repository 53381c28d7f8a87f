/* SPDX-License-Identifier: MIT */
/*
 * mint inject: the interrupt generator.  This process is the device of a
 * node's emulated NIC: at each scheduled time it writes a packet (or a
 * burst) into the node's RX ring and raises the NIC's interrupt, measuring
 * how late every event was; at the end it says what the driver handled.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "inject/inject.h"
#include "inject/record.h"
#include "mint/clock.h"
#include "common/netns.h"

static const char inject_usage[] =
	"usage: mint inject ID [--type arp|icmp|udp|tcp-syn|raw] [--size N] [--hex BYTES]\n"
	"                   [--malform bad-length|bad-csum|error-bits|no-eop|chain-cut]\n"
	"                   [--src-mac M] [--dst-mac M] [--src-ip A] [--dst-ip A]\n"
	"                   [--sport P] [--dport P] [--vlan ID]\n"
	"                   [--count N] [--interval T | --rate PPS] [--burst N]\n"
	"                   [--jitter T | --poisson] [--seed S] [--late catch-up|skip]\n"
	"                   [--pcap FILE [--speed X] | --replay FILE] [--record FILE]\n"
	"                   [--latency] [--plot FILE.png] [--rt] [--floor] [--evaluate] [-j]\n"
	"Be the emulated NIC of node ID (started with `mint node start ID --nic`):\n"
	"write packets into its RX descriptor ring and raise its interrupt at\n"
	"t0 + n * interval (default: udp, 60 bytes, 10 events, 1ms apart).  Times\n"
	"take ns, us, ms or s.  --burst: packets per interrupt.  --late: what a\n"
	"late event does (catch-up: sent at once; skip: dropped when more than an\n"
	"interval late).  --pcap replays a capture with its timing (divided by\n"
	"--speed); --record writes every event to a pcapng file that --replay\n"
	"plays again.  --latency waits for the driver after each event and\n"
	"measures inject-to-handler time; --plot draws its histogram (or the\n"
	"lateness one) and the lateness over time (gnuplot).  --rt: run the\n"
	"schedule SCHED_FIFO with locked memory (root), resting 60us after each\n"
	"1ms without a sleep.  --floor: keep the schedule but write and raise\n"
	"nothing, on the cores a run would use: the lateness this machine allows\n"
	"(a run's own lateness is measured against it).  Ends with a\n"
	"summary (-j: JSON); a progress line on a terminal.  --evaluate\n"
	"measures (a) the shortest interval at which every interrupt is handled\n"
	"without loss, (b) CPU time per packet against a veth pair (a guest:\n"
	"against its e1000 on a host TAP, mint guest start --tap), (c)\n"
	"inject-to-handler latency.\n";

static int bad(const char *what, const char *value, const char *hint)
{
	cli_err("inject: %s %s: %s", what, value, hint);
	return EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!s[0] || s[0] == '-')
		return -1;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The packet options: -1 to go on, else the exit status. */
static int packet_opt(struct inject_opts *o, int opt, const char *arg)
{
	struct pkt_spec *s = &o->spec;
	uint64_t v;
	switch (opt) {
	case 't':
		return pkt_parse_type(arg, &s->type) ? bad("type", arg, "unknown (use arp, icmp, udp, tcp-syn or raw)") : -1;
	case 'M':
		return pkt_parse_malform(arg, &s->malform) ? bad("malformation", arg, "unknown (use bad-length, bad-csum, error-bits, no-eop or chain-cut)") : -1;
	case 's':
		if (parse_u64(arg, PKT_MAX, &v) || v < 14)
			return bad("size", arg, "not a frame size (14 to 16384 bytes)");
		s->size = (uint32_t)v;
		return -1;
	case 'x':
		s->type = PKT_RAW;
		return pkt_parse_hex(arg, s->raw, PKT_MAX, &s->raw_len) ? bad("hex", "bytes", "not hex pairs (e.g. ffffffffffff0200...)") : -1;
	case 'a': o->src_mac_set = true; return pkt_parse_mac(arg, s->src_mac) ? bad("MAC", arg, "not a MAC address (e.g. 02:00:00:00:00:01)") : -1;
	case 'A': o->dst_mac_set = true; return pkt_parse_mac(arg, s->dst_mac) ? bad("MAC", arg, "not a MAC address (e.g. 02:00:00:00:00:01)") : -1;
	case 'i': return pkt_parse_ipv4(arg, s->src_ip) ? bad("address", arg, "not an IPv4 address") : -1;
	case 'I': o->dst_ip_set = true; return pkt_parse_ipv4(arg, s->dst_ip) ? bad("address", arg, "not an IPv4 address") : -1;
	case 'p':
	case 'P':
		if (parse_u64(arg, 65535, &v))
			return bad("port", arg, "not a port (0 to 65535)");
		*(opt == 'p' ? &s->sport : &s->dport) = (uint16_t)v;
		return -1;
	case 'v':
		if (parse_u64(arg, 4095, &v))
			return bad("VLAN", arg, "not a VLAN id (0 to 4095)");
		s->vlan = (int32_t)v;
		return -1;
	}
	return -2;
}

/* The schedule options: -1 to go on, else the exit status. */
static int sched_opt(struct inject_opts *o, int opt, const char *arg)
{
	uint64_t v;
	double d;
	char *end;
	switch (opt) {
	case 'c':
		if (parse_u64(arg, UINT64_MAX / 2, &o->count) || o->count == 0)
			return bad("count", arg, "not a positive number");
		o->count_set = true;
		return -1;
	case 'T':
		if (cli_parse_time(arg, &o->sched.period_ns))
			return bad("interval", arg, "not a time (e.g. 10us, 1ms, 500ns)");
		o->interval_set++;
		return -1;
	case 'r':
		d = strtod(arg, &end);
		if (*end || !(d > 0) || d > 1e10)
			return bad("rate", arg, "not a packet rate per second");
		o->sched.period_ns = (uint64_t)llround(1e9 / d);
		o->interval_set++;
		return -1;
	case 'b':
		if (parse_u64(arg, MINT_NIC_MAX_DESC, &v) || v == 0)
			return bad("burst", arg, "not a burst size (1 to 4096)");
		o->burst = (uint32_t)v;
		return -1;
	case 'J':
		return cli_parse_time(arg, &o->sched.jitter_ns) ? bad("jitter", arg, "not a time (e.g. 2us)") : -1;
	case 'o': o->sched.poisson = true; return -1;
	case 'S':
		if (parse_u64(arg, UINT64_MAX, &o->seed))
			return bad("seed", arg, "not a number");
		return -1;
	case 'L':
		return sched_parse_policy(arg, &o->sched.late) ? bad("late policy", arg, "unknown (use catch-up or skip)") : -1;
	case 'X':
		d = strtod(arg, &end);
		if (*end || !(d > 0) || d > 1e6)
			return bad("speed", arg, "not a positive factor");
		o->speed = d;
		return -1;
	}
	return -2;
}

/* Options that go together, and those that do not. */
static int check_opts(struct inject_opts *o)
{
	struct pkt_spec *s = &o->spec;
	if (o->interval_set > 1)
		return bad("schedule", "options", "give --interval or --rate, not both");
	if (o->pcap && o->replay)
		return bad("input", "options", "give --pcap or --replay, not both");
	if (!o->pcap && o->speed != 1.0)
		return bad("speed", "option", "goes with --pcap");
	if (o->sched.jitter_ns && (o->sched.poisson || o->sched.jitter_ns >= o->sched.period_ns))
		return bad("jitter", "option", "must be below the interval, and not with --poisson");
	if (s->type == PKT_RAW && !s->raw_len)
		return bad("type", "raw", "needs --hex BYTES");
	if (s->malform == MAL_BAD_CSUM && (s->type == PKT_ARP || s->type == PKT_RAW))
		return bad("malformation", "bad-csum", "needs an IPv4 type (icmp, udp, tcp-syn)");
	if (s->size && s->size < pkt_min_size(s)) {
		char v[16];
		snprintf(v, sizeof(v), "%u", s->size);
		cli_err("inject: size %s: a %s frame needs at least %u bytes", v,
			pkt_type_name(s->type), pkt_min_size(s));
		return EXIT_USAGE;
	}
	if (o->sched.rt && o->evaluate)
		return bad("rt", "option", "goes without --evaluate (it schedules its own runs)");
	if (o->floor && (o->evaluate || o->record || o->latency))
		return bad("floor", "option",
			   "goes without --evaluate, --record and --latency (it injects nothing)");
	if (o->sched.period_ns < SCHED_MIN_INTERVAL_NS && !o->evaluate)
		cli_warn("inject: interval %lluns is shorter than the schedule can keep (%lluns): "
			 "late events follow --late %s (%s)",
			 (unsigned long long)o->sched.period_ns,
			 (unsigned long long)SCHED_MIN_INTERVAL_NS, sched_policy_name(o->sched.late),
			 o->sched.late == LATE_SKIP ? "dropped when an interval late" : "sent at once");
	return -1;
}

static int parse_inject(struct cli *c, int argc, char **argv, struct inject_opts *o)
{
	static const struct option opts[] = {
		{"type", required_argument, NULL, 't'},     {"malform", required_argument, NULL, 'M'},
		{"size", required_argument, NULL, 's'},     {"hex", required_argument, NULL, 'x'},
		{"src-mac", required_argument, NULL, 'a'},  {"dst-mac", required_argument, NULL, 'A'},
		{"src-ip", required_argument, NULL, 'i'},   {"dst-ip", required_argument, NULL, 'I'},
		{"sport", required_argument, NULL, 'p'},    {"dport", required_argument, NULL, 'P'},
		{"vlan", required_argument, NULL, 'v'},     {"count", required_argument, NULL, 'c'},
		{"interval", required_argument, NULL, 'T'}, {"rate", required_argument, NULL, 'r'},
		{"burst", required_argument, NULL, 'b'},    {"jitter", required_argument, NULL, 'J'},
		{"poisson", no_argument, NULL, 'o'},        {"seed", required_argument, NULL, 'S'},
		{"late", required_argument, NULL, 'L'},     {"pcap", required_argument, NULL, 'f'},
		{"speed", required_argument, NULL, 'X'},    {"record", required_argument, NULL, 'w'},
		{"replay", required_argument, NULL, 'R'},   {"latency", no_argument, NULL, 'l'},
		{"evaluate", no_argument, NULL, 'E'},       {"plot", required_argument, NULL, 'G'},
		{"rt", no_argument, NULL, 'Y'},             {"floor", no_argument, NULL, 'N'},
		CLI_COMMON_LONGOPTS,
		{0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "c:", opts, NULL)) != -1) {
		if ((st = packet_opt(o, opt, optarg)) != -2 || (st = sched_opt(o, opt, optarg)) != -2) {
			if (st >= 0)
				return st;
			continue;
		}
		switch (opt) {
		case 'f': o->pcap = optarg; break;
		case 'w': o->record = optarg; break;
		case 'R': o->replay = optarg; break;
		case 'l': o->latency = true; break;
		case 'E': o->evaluate = true; break;
		case 'G': o->plot = optarg; break;
		case 'Y': o->sched.rt = true; break;
		case 'N': o->floor = true; break;
		default:
			if ((st = cli_common_opt(c, opt, inject_usage)) >= 0)
				return st;
		}
	}
	if (optind + 1 != argc) {
		cli_err(optind < argc ? "inject: unexpected argument %s" : "inject: which node? (mint inject ID)",
			optind < argc ? argv[optind + 1] : "");
		return EXIT_USAGE;
	}
	if (cli_parse_node(argv[optind], &o->node))
		return EXIT_USAGE;
	return check_opts(o);
}

/* Input files, read before anything is injected. */
static int load_input(struct inject_opts *o)
{
	char err[256];
	int rc = o->pcap ? trace_load_pcap(o->pcap, o->speed, &o->trace, err, sizeof(err)) : 0;
	if (rc == -ENOSYS) { /* not the file's fault */
		cli_err("inject: %s", err);
		return 1;
	}
	if (rc)
		return bad("pcap", o->pcap, err);
	if (o->replay && rec_load(o->replay, &o->trace, err, sizeof(err)))
		return bad("replay", o->replay, err);
	if ((o->pcap || o->replay) && !o->count_set)
		o->count = o->trace.events;
	return -1;
}

/* The target's NIC, with a clear line for each way it can be missing. */
static int open_target(struct mint_fabric *f, uint32_t node, struct mint_nic_dev **dev)
{
	if (!mint_node_alive(f, node)) {
		cli_err("node %u: not running", node);
		return 1;
	}
	int rc = mint_nic_dev_open(f, node, dev);
	if (rc == -ENOENT || rc == -ENODEV)
		cli_err("node %u: %s (start it with `mint node start %u --nic`)", node,
			rc == -ENOENT ? "has no NIC" : "its NIC driver is down", node);
	else if (rc)
		cli_err("node %u: its NIC: %s", node, mint_strerror(rc));
	return rc ? 1 : 0;
}

/*
 * Where the device runs.  Node 0 is the NIC of the others (the seed's
 * debug support OS, whose core runs the interrupt generator): when node 0
 * runs and is not the target, this process takes node 0's place, on its
 * cores (those it does not share with the target) and in its network
 * namespace, so that its CPU time is node 0's and --evaluate's veth pair
 * links node 0 to the target.  Otherwise, or when node 0 has no core of
 * its own, it keeps off the target's cores (when others are left): on the
 * same core the two would take turns, and every turn is lateness.
 */
static void place_device(struct mint_fabric *f, uint32_t target_id)
{
	struct mint_node_info target, node0;
	if (mint_node_info(f, target_id, &target))
		return;
	bool as_node0 = target_id != 0 && mint_node_info(f, 0, &node0) == 0 && node0.alive;
	uint64_t own[MINT_CPU_WORDS];
	bool any = false;
	for (unsigned w = 0; w < MINT_CPU_WORDS; w++)
		any |= (own[w] = as_node0 ? node0.cores[w] & ~target.cores[w] : 0) != 0;
	if (any)
		sched_pin(own, true);
	else
		sched_pin(target.cores, false);
	if (!as_node0)
		return;
	int rc = 0;
	if (node0.netns[0])
		rc = netns_node_ours(f, 0, node0.netns) ? netns_join(node0.netns) : -EINVAL;
	if (rc)
		cli_warn("inject: cannot enter node 0's namespace (%s): injecting from this one",
			 rc == -EINVAL ? "not the name mint gives it" : strerror(-rc));
	if (any && node0.mode == MINT_MODE_POLL)
		cli_warn("inject: node 0 polls on its cores: its dispatcher and this injector take "
			 "turns there (start node 0 in sleep or adaptive mode for exact timing)");
}

/* Defaults the target's NIC supplies: its MAC and address. */
static void target_defaults(struct mint_fabric *f, struct inject_opts *o, struct mint_nic_dev *dev)
{
	place_device(f, o->node);
	uint8_t mac[6], ip[4];
	mint_nic_dev_addr(dev, mac, ip);
	if (!o->dst_mac_set)
		memcpy(o->spec.dst_mac, mac, 6);
	if (!o->dst_ip_set)
		memcpy(o->spec.dst_ip, ip, 4);
}

/* Packets that could never fit the target's ring (a packet above a
 * buffer takes several descriptors, and all but one may be the device's),
 * and a chain-cut of packets that are no chain, are refused up front. */
static int check_fit(struct inject_opts *o, struct mint_nic_dev *dev)
{
	struct mint_nic_ring_state rs;
	mint_nic_dev_ring(dev, &rs);
	uint32_t size = o->spec.size ? o->spec.size : pkt_min_size(&o->spec), biggest = size;
	for (size_t i = 0; i < o->trace.n; i++)
		if (o->trace.p[i].pkt.copy_len > biggest)
			biggest = o->trace.p[i].pkt.copy_len;
	uint32_t descs = (biggest + rs.buf_size - 1) / rs.buf_size;
	if (descs > rs.ndesc - 1) {
		cli_err("inject: a %u-byte packet needs %u of node %u's %u-byte NIC buffers; its ring "
			"has %u",
			biggest, descs, o->node, rs.buf_size, rs.ndesc - 1);
		return EXIT_USAGE;
	}
	if (o->spec.malform == MAL_CHAIN_CUT && size <= rs.buf_size) {
		cli_err("inject: chain-cut needs a chain: a --size above node %u's %u-byte NIC buffers",
			o->node, rs.buf_size);
		return EXIT_USAGE;
	}
	return 0;
}

static volatile sig_atomic_t interrupted;

/* --rt: SCHED_FIFO, or a warning and the usual way. */
static void go_realtime(struct sched *s)
{
	int rc = sched_realtime();
	s->awake_ns = mint_now_ns(CLOCK_MONOTONIC);
	if (rc == 0)
		return;
	s->rt = false;
	cli_warn("inject: --rt: cannot run SCHED_FIFO with locked memory (%s%s): scheduling as usual",
		 strerror(-rc), rc == -EPERM ? "; needs root or CAP_SYS_NICE" : "");
}

/* The run and its summary; the exit status. */
static int inject_run(const struct cli *c, struct inject_opts *o, struct mint_fabric *f,
		      struct mint_nic_dev *dev)
{
	struct inject_result res;
	if (o->sched.rt)
		go_realtime(&o->sched);
	int rc = inject_schedule(o, f, dev, &interrupted, isatty(2) && !c->json, &res);
	if (rc) {
		cli_err(rc == -ENOMEM ? "inject: out of memory" : "inject: record %s: %s",
			o->record, strerror(-rc));
		inject_result_free(&res);
		return 1;
	}
	if (res.stopped)
		cli_err("inject: node %u: %s", o->node, res.stopped);
	inject_report(c->json, o, &res);
	if (o->plot && (rc = inject_plot(o->plot, &res, o->latency)) != 0) {
		cli_err("inject: plot %s: %s", o->plot,
			rc == -ENOENT ? "gnuplot is not installed (gnuplot-nox)" : strerror(-rc));
		res.stopped = "plot";
	}
	inject_result_free(&res);
	return res.stopped ? 1 : 0;
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* --evaluate, with its error line; the exit status. */
static int evaluate(const struct cli *c, struct inject_opts *o, struct mint_fabric *f,
		    struct mint_nic_dev *dev)
{
	int rc = inject_evaluate(c->json, o, f, dev, &interrupted);
	if (rc == 0)
		return 0;
	cli_err("inject: evaluate: node %u: %s", o->node,
		rc == -ESRCH ? "the target stopped during the evaluation" : strerror(-rc));
	return 1;
}

int cmd_inject(struct cli *c, int argc, char **argv)
{
	static struct inject_opts o; /* a raw frame of 16 KiB inside */
	memset(&o, 0, sizeof(o));
	o.count = 10;
	o.burst = 1;
	o.speed = 1.0;
	o.spec.type = PKT_UDP;
	o.spec.vlan = -1;
	o.spec.sport = 40000;
	o.spec.dport = 9;
	const uint8_t src_mac[6] = {0x02, 0x6e, 0, 0, 0, 0xfe}, src_ip[4] = {10, 78, 0, 254};
	memcpy(o.spec.src_mac, src_mac, 6);
	memcpy(o.spec.src_ip, src_ip, 4);
	o.sched.period_ns = 1000000;
	int st = parse_inject(c, argc, argv, &o);
	o.fabric = c->fabric;
	if (st < 0)
		st = load_input(&o);
	if (st >= 0) {
		trace_free(&o.trace);
		return st;
	}
	o.sched.rng = o.seed;
	struct mint_fabric *f;
	struct mint_nic_dev *dev = NULL;
	if (cli_attach(c, &f)) {
		trace_free(&o.trace);
		return 1;
	}
	st = open_target(f, o.node, &dev);
	if (st == 0) {
		target_defaults(f, &o, dev);
		st = check_fit(&o, dev);
	}
	if (st == 0) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		st = o.evaluate ? evaluate(c, &o, f, dev) : inject_run(c, &o, f, dev);
	}
	mint_nic_dev_close(dev);
	mint_fabric_detach(f);
	trace_free(&o.trace);
	return st;
}
