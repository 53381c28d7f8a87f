/* SPDX-License-Identifier: MIT */
/* mint node start | stop */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/nic_port.h"
#include "agent/vni_port.h"
#include "cli/cli.h"
#include "common/fabric_procs.h"
#include "common/netns.h"
#include "common/rundir.h"
#include "mint/clock.h"
#include "mint/endian.h"
#include "mint/vni.h"

/* How long `node start` waits for the agent to report that it is up. */
#define AGENT_START_TIMEOUT_MS 10000
/* How long it waits for the VNI links after that (a heartbeat is 0.1 s). */
#define CARRIER_TIMEOUT_MS 2000
/* How long a stopped agent has to leave before SIGKILL. */
#define STOP_GRACE_MS 3000
/* --nic-itr's bound: a longer gap would hold packets for seconds. */
#define NIC_ITR_MAX_NS 1000000000ull

static const char start_usage[] =
	"usage: mint node start [ID] [--cores LIST] [--netns|--no-netns]\n"
	"                       [--mode poll|sleep|adaptive] [--name NAME] [--foreground]\n"
	"                       [--vni [--vni-addr A.B.C.D/N]]\n"
	"                       [--nic [--nic-addr A.B.C.D/N] [--nic-itr T]]\n"
	"                       [--no-exec | --exec-uids LIST] [--exec-allow-root]\n"
	"Start the agent of node ID (default: the lowest free id) pinned to LIST\n"
	"(e.g. 1 or 0-3,6; default: core ID modulo the cores available) in its own\n"
	"network namespace mint-TAG-ID (TAG: the fabric name, or its first 14\n"
	"characters and a hash when longer; default when root, else --no-netns).\n"
	"--vni gives it a virtual NIC, mint0 in its namespace (nodes 0-15), with\n"
	"address 10.77.0.<ID+1>/24 unless --vni-addr says otherwise, and\n"
	"--mode adaptive unless --mode says otherwise (else sleep is the default).\n"
	"--nic gives it an emulated NIC for `mint inject` (an e1000-style receive\n"
	"ring in the fabric, object nic.ID), whose driver hands packets to nic0 in\n"
	"its namespace, address 10.78.0.<ID+1>/24 unless --nic-addr says otherwise;\n"
	"--nic-itr T sets its interrupt moderation (ITR): at least T (e.g. 50us, up\n"
	"to 1s) between two of its interrupts (default 0: none).\n"
	"The node serves `mint exec` unless --no-exec: as the uids of LIST (numbers\n"
	"or names, comma-separated; default: the fabric file's owner), and as root\n"
	"when only root can write the fabric file, or with --exec-allow-root.\n";

static const char stop_usage[] =
	"usage: mint node stop ID\n"
	"Stop node ID's agent (SIGTERM, SIGKILL after 3 s) and remove its namespace.\n";

static const char node_usage[] = "usage: mint node start|stop ...  (see mint node start --help)\n";

/* Cores this process may run on. */
static void allowed_cores(uint64_t cores[MINT_CPU_WORDS])
{
	cpu_set_t set;
	memset(cores, 0, MINT_CPU_WORDS * sizeof(uint64_t));
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		CPU_ZERO(&set);
	for (unsigned c = 0; c < MINT_CPU_WORDS * 64 && c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cores[c / 64] |= 1ull << (c % 64);
}

/* The Nth allowed core (wrapping), as a one-core set. */
static void default_cores(uint32_t n, const uint64_t allowed[MINT_CPU_WORDS],
			  uint64_t cores[MINT_CPU_WORDS])
{
	uint32_t count = 0;
	for (uint32_t w = 0; w < MINT_CPU_WORDS; w++)
		count += (uint32_t)__builtin_popcountll(allowed[w]);
	memset(cores, 0, MINT_CPU_WORDS * sizeof(uint64_t));
	uint32_t want = count ? n % count : 0;
	for (uint32_t c = 0; c < MINT_CPU_WORDS * 64; c++)
		if (allowed[c / 64] >> (c % 64) & 1 && want-- == 0) {
			cores[c / 64] |= 1ull << (c % 64);
			return;
		}
}

/* Every requested core must exist and be usable; else print the error. */
static int check_cores(const uint64_t cores[MINT_CPU_WORDS])
{
	uint64_t allowed[MINT_CPU_WORDS];
	allowed_cores(allowed);
	for (uint32_t c = 0; c < MINT_CPU_WORDS * 64; c++) {
		if ((cores[c / 64] >> (c % 64) & 1) && !(allowed[c / 64] >> (c % 64) & 1)) {
			char have[128];
			format_cores(allowed, have, sizeof(have));
			cli_err("core %u: no such core (this machine has cores %s)", c, have);
			return -EINVAL;
		}
	}
	return 0;
}

static void warn_shared_cores(struct mint_fabric *f, uint32_t id, const uint64_t cores[MINT_CPU_WORDS])
{
	for (uint32_t other = 0; other < MINT_MAX_NODES; other++) {
		struct mint_node_info info;
		if (other == id || mint_node_info(f, other, &info) || !info.alive)
			continue;
		uint64_t shared[MINT_CPU_WORDS];
		int any = 0;
		for (uint32_t w = 0; w < MINT_CPU_WORDS; w++)
			any |= (shared[w] = cores[w] & info.cores[w]) != 0;
		if (any) {
			char list[64];
			format_cores(shared, list, sizeof(list));
			cli_warn("node %u shares core %s with node %u: their loads will affect each other",
				 id, list, other);
		}
	}
}

static int lowest_free_id(struct mint_fabric *f, uint32_t *id)
{
	for (uint32_t i = 0; i < MINT_MAX_NODES; i++)
		if (!mint_node_alive(f, i)) {
			*id = i;
			return 0;
		}
	cli_err("no free node id (all %u are running)", MINT_MAX_NODES);
	return -ENOSPC;
}

static int parse_mode(const char *s, enum mint_dispatch_mode *mode)
{
	static const char *names[] = {"poll", "sleep", "adaptive"};
	for (int m = 0; m < 3; m++)
		if (strcmp(s, names[m]) == 0) {
			*mode = (enum mint_dispatch_mode)m;
			return 0;
		}
	cli_err("mode %s: unknown (use poll, sleep or adaptive)", s);
	return -EINVAL;
}

/* "node ID up: ..." for the agent PID of CFG. */
static void report_up(const struct agent_config *cfg, pid_t pid)
{
	char cores[64];
	format_cores(cfg->cores, cores, sizeof(cores));
	char addr[INET_ADDRSTRLEN], vni[64] = "", nic[64] = "";
	if (cfg->vni && inet_ntop(AF_INET, cfg->vni_addr, addr, sizeof(addr)))
		snprintf(vni, sizeof(vni), ", " VNI_TAP_NAME " %s/%u", addr, cfg->vni_prefix);
	if (cfg->nic && inet_ntop(AF_INET, cfg->nic_addr, addr, sizeof(addr)))
		snprintf(nic, sizeof(nic), ", " NIC_TAP_NAME " %s/%u", addr, cfg->nic_prefix);
	printf("node %u up: pid %d, cores %s%s%s%s%s\n", cfg->id, (int)pid, cores,
	       cfg->netns ? ", netns " : "", cfg->netns ? cfg->netns_name : "", vni, nic);
}

int cli_open_node_files(const struct cli *c, struct mint_fabric *f, uint32_t id,
			struct node_files *nf)
{
	char dir_path[128], log[32], marker[32];
	struct stat st;
	int rc = mint_fabric_stat(f, &st);
	int dir = rc ? rc : rundir_open(mint_fabric_file(f), st.st_uid, true);
	rundir_path(mint_fabric_file(f), dir_path, sizeof(dir_path));
	if (dir < 0) {
		cli_err("fabric %s: its run directory %s: %s%s", c->fabric, dir_path, strerror(-dir),
			dir == -EPERM ? " (not a directory of the fabric's owner alone)" : "");
		return -1;
	}
	rundir_log_name(id, log, sizeof(log));
	rundir_marker_name(id, marker, sizeof(marker));
	snprintf(nf->log_path, sizeof(nf->log_path), "%s/%s", dir_path, log);
	nf->log = rundir_file(dir, log);
	nf->marker = nf->log < 0 ? -1 : rundir_file(dir, marker);
	close(dir);
	if (nf->marker >= 0)
		return 0;
	cli_err("node %u: cannot open its files in %s: %s", id, dir_path,
		strerror(-(nf->log < 0 ? nf->log : nf->marker)));
	if (nf->log >= 0)
		close(nf->log);
	return -1;
}

/*
 * In a new agent: standard input from /dev/null, output and error to its
 * log, the ready pipe at descriptor 3, its marker at 4, and every other
 * descriptor closed: what its starter had open (a terminal, sockets, a
 * test's pipes) is not the agent's to hold for its whole life.  Returns
 * the ready pipe.
 */
static int agent_descriptors(int ready, const struct node_files *nf)
{
	/* Above 4 first, so that moving one cannot overwrite another. */
	int r = fcntl(ready, F_DUPFD_CLOEXEC, 5), m = fcntl(nf->marker, F_DUPFD_CLOEXEC, 5);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	dup2(null, 0);
	dup2(nf->log, 1);
	dup2(nf->log, 2);
	dup3(r, 3, O_CLOEXEC);
	dup3(m, 4, O_CLOEXEC);
	close_range(5, ~0u, 0);
	return 3;
}

/* Fork the agent; wait for its "ok" or error line and report it. */
static int spawn_agent(const struct agent_config *cfg, const struct node_files *nf)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		cli_err("node %u: %s", cfg->id, strerror(errno));
		return 1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		cli_err("node %u: cannot fork: %s", cfg->id, strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		setsid();
		_exit(agent_run(cfg, agent_descriptors(pipefd[1], nf)));
	}
	close(pipefd[1]);
	char line[512] = "";
	struct pollfd pfd = {pipefd[0], POLLIN, 0};
	ssize_t n = poll(&pfd, 1, AGENT_START_TIMEOUT_MS) == 1 ? read(pipefd[0], line, sizeof(line) - 1) : -2;
	close(pipefd[0]);
	line[n > 0 ? n : 0] = '\0';
	if (n == -2) {
		kill(pid, SIGKILL);
		snprintf(line, sizeof(line), "agent not up within %d s (killed it; see %s)",
			 AGENT_START_TIMEOUT_MS / 1000, nf->log_path);
	}
	line[strcspn(line, "\n")] = '\0';
	if (strcmp(line, "ok") == 0) {
		report_up(cfg, pid);
		return 0;
	}
	waitpid(pid, NULL, 0);
	cli_err("node %u: %s", cfg->id, line[0] ? line : "agent exited before it was up (see its log)");
	return 1;
}

/* "A.B.C.D/N" into ADDR (network order) and PREFIX. */
static int parse_cidr(const char *s, uint8_t addr[4], uint32_t *prefix)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : 0;
	if (!slash || n >= sizeof(ip) || cli_parse_u32(slash + 1, 32, prefix) || *prefix == 0)
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	return inet_pton(AF_INET, ip, addr) == 1 ? 0 : -EINVAL;
}

/* --exec-uids: "0,1000,daemon" into P's allowlist. */
static int parse_uids(const char *s, struct exec_policy *p)
{
	char list[512];
	snprintf(list, sizeof(list), "%s", s);
	p->nuids = 0;
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct passwd *pw = getpwnam(tok);
		if (p->nuids == EXEC_MAX_UIDS ||
		    (cli_parse_u32(tok, UINT32_MAX - 1, &p->uids[p->nuids]) != 0 && !pw)) {
			cli_err("uids %s: not a list of up to %d uids or user names", s, EXEC_MAX_UIDS);
			return -EINVAL;
		}
		if (cli_parse_u32(tok, UINT32_MAX - 1, &p->uids[p->nuids]) != 0)
			p->uids[p->nuids] = pw->pw_uid;
		p->nuids++;
	}
	if (p->nuids == 0)
		cli_err("uids %s: an empty list", s);
	return p->nuids ? 0 : -EINVAL;
}

/* --vni and --nic need the node's own namespace (their TAP lives there);
 * a QEMU guest's whole kernel is its node's. */
static int check_netns(const struct agent_config *cfg, const char *opt)
{
	if (!cfg->netns && !mint_in_guest()) {
		cli_err("node %u: %s needs the node's own network namespace (drop --no-netns%s)",
			cfg->id, opt, geteuid() ? "; namespaces need root" : "");
		return -EINVAL;
	}
	return 0;
}

/* 10.NET.0.<ID+1>/24 unless an address was given. */
static void default_addr(const struct agent_config *cfg, uint8_t net, uint8_t addr[4],
			 uint32_t *prefix)
{
	const uint8_t def[4] = {10, net, 0, (uint8_t)(cfg->id + 1)};
	memcpy(addr, def, 4);
	*prefix = 24;
}

/* --vni needs a port too; fills the default address. */
static int check_vni(struct agent_config *cfg, bool addr_given)
{
	if (check_netns(cfg, "--vni"))
		return -EINVAL;
	if (cfg->id >= MINT_VNI_MAX_PORTS) {
		cli_err("node %u: --vni is available for nodes 0-%u", cfg->id, MINT_VNI_MAX_PORTS - 1);
		return -ERANGE;
	}
	if (!addr_given)
		default_addr(cfg, 77, cfg->vni_addr, &cfg->vni_prefix);
	return 0;
}

/* --nic: its namespace, and nic0's default address. */
static int check_nic(struct agent_config *cfg, bool addr_given)
{
	if (check_netns(cfg, "--nic"))
		return -EINVAL;
	if (!addr_given)
		default_addr(cfg, 78, cfg->nic_addr, &cfg->nic_prefix);
	return 0;
}

/* Which options with a default of their own were given. */
struct opts_given {
	bool vni, nic, nic_itr, mode;
};

/* --vni-addr / --nic-addr: -1 to go on, else EXIT_USAGE. */
static int parse_addr_opt(const char *arg, uint8_t addr[4], uint32_t *prefix, bool *given)
{
	if (parse_cidr(arg, addr, prefix)) {
		cli_err("address %s: not an IPv4 address with a prefix (e.g. 10.77.0.9/24)", arg);
		return EXIT_USAGE;
	}
	*given = true;
	return -1;
}

/* Parse start's options into CFG; returns -1 to go on or an exit status. */
static int parse_start(struct cli *c, int argc, char **argv, struct agent_config *cfg,
		       const char **cores_arg, bool *foreground, struct opts_given *given)
{
	static const struct option opts[] = {
		{"cores", required_argument, NULL, 'c'}, {"netns", no_argument, NULL, 'n'},
		{"no-netns", no_argument, NULL, 'N'},     {"mode", required_argument, NULL, 'm'},
		{"name", required_argument, NULL, 'a'},   {"foreground", no_argument, NULL, 'f'},
		{"vni", no_argument, NULL, 'v'},          {"vni-addr", required_argument, NULL, 'A'},
		{"no-exec", no_argument, NULL, 'X'},      {"exec-uids", required_argument, NULL, 'U'},
		{"exec-allow-root", no_argument, NULL, 'R'},
		{"nic", no_argument, NULL, 'i'},          {"nic-addr", required_argument, NULL, 'I'},
		{"nic-itr", required_argument, NULL, 'M'},
		CLI_COMMON_LONGOPTS,                      {0}};
	int opt;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "c:", opts, NULL)) != -1) {
		int st;
		switch (opt) {
		case 'c': *cores_arg = optarg; break;
		case 'n': cfg->netns = true; break;
		case 'N': cfg->netns = false; break;
		case 'm':
			if (parse_mode(optarg, &cfg->mode))
				return EXIT_USAGE;
			given->mode = true;
			break;
		case 'a':
			if (!mint_name_ok(optarg, MINT_NAME_MAX)) {
				cli_err("name %s: use up to 31 letters, digits, '.', '_' or '-'", optarg);
				return EXIT_USAGE;
			}
			snprintf(cfg->name, sizeof(cfg->name), "%s", optarg);
			break;
		case 'f': *foreground = true; break;
		case 'v': cfg->vni = true; break;
		case 'A':
			if ((st = parse_addr_opt(optarg, cfg->vni_addr, &cfg->vni_prefix, &given->vni)) >= 0)
				return st;
			break;
		case 'i': cfg->nic = true; break;
		case 'I':
			if ((st = parse_addr_opt(optarg, cfg->nic_addr, &cfg->nic_prefix, &given->nic)) >= 0)
				return st;
			break;
		case 'M':
			if (cli_parse_time(optarg, &cfg->nic_itr_ns) || cfg->nic_itr_ns > NIC_ITR_MAX_NS) {
				cli_err("--nic-itr %s: not a time up to 1s (e.g. 50us)", optarg);
				return EXIT_USAGE;
			}
			given->nic_itr = true;
			break;
		case 'X': cfg->exec.disabled = true; break;
		case 'R': cfg->exec.allow_root = true; break;
		case 'U':
			if (parse_uids(optarg, &cfg->exec))
				return EXIT_USAGE;
			break;
		default:
			if ((st = cli_common_opt(c, opt, start_usage)) >= 0)
				return st;
		}
	}
	return -1;
}

/* Namespace NETNS_NAME may be CFG's node's: 0, or -1 after the error line. */
static int check_netns_owner(struct mint_fabric *f, const struct agent_config *cfg)
{
	char owner[256];
	int rc = netns_check_owner(cfg->netns_name, mint_fabric_file(f), owner, sizeof(owner));
	if (rc == -EEXIST)
		cli_err("node %u: namespace %s is fabric %s's: two fabrics cannot share a name "
			"(rename one)", cfg->id, cfg->netns_name, owner);
	else if (rc == -ENOENT)
		cli_err("node %u: namespace %s exists and no fabric made it (ip netns delete %s, "
			"if it is no one's)", cfg->id, cfg->netns_name, cfg->netns_name);
	else if (rc)
		cli_err("node %u: namespace %s: %s", cfg->id, cfg->netns_name, strerror(-rc));
	return rc ? -1 : 0;
}

/*
 * Does mint0 in namespace NAME carry traffic?  Its carrier alone is not
 * enough: the kernel applies a carrier change later, in its linkwatch
 * work, which is when the queue discipline is (de)activated and the
 * operstate (IFF_RUNNING) follows.  A carrier dropped and not yet applied
 * still reads as running, and applied just after we looked, it drops the
 * first frames sent.  ETHTOOL_GLINK applies the link's pending change
 * first (Linux >= 6.7, under the lock that change takes), then reports the
 * carrier; IFF_RUNNING after it is the applied state on older kernels too.
 */
static bool tap_ready(const char *name, int home)
{
	struct ethtool_value link = {.cmd = ETHTOOL_GLINK};
	struct ifreq ifr = {0};
	ifr.ifr_data = (void *)&link;
	bool on = netns_join(name) == 0 && netif_ioctl(VNI_TAP_NAME, SIOCETHTOOL, &ifr) == 0 &&
		  link.data && netif_ioctl(VNI_TAP_NAME, SIOCGIFFLAGS, &ifr) == 0 &&
		  (ifr.ifr_flags & IFF_RUNNING);
	setns(home, CLONE_NEWNET);
	return on;
}

/* Has peer ID's agent begun a heartbeat after SINCE (CLOCK_MONOTONIC)?
 * Its carrier follows what each heartbeat finds: one that looked at the
 * ports before ours was up may still turn the carrier off, but only
 * before the next heartbeat begins. */
static bool looked_since(struct mint_fabric *f, uint32_t id, uint64_t since)
{
	struct mint_node_info info;
	uint64_t now = mint_now_ns(CLOCK_MONOTONIC); /* before the beat's age: conservative */
	return mint_node_info(f, id, &info) == 0 && now > since &&
	       info.heartbeat_age_ns < now - since;
}

/* The first node whose mint0 (CFG's node's, or a running VNI peer's)
 * cannot carry traffic yet, or MINT_NODE_NONE.  SINCE: when our port was
 * up (CLOCK_MONOTONIC). */
static uint32_t not_ready(struct mint_fabric *f, const struct agent_config *cfg, int home,
			  uint64_t since)
{
	bool peers = false;
	for (uint32_t id = 0; id < MINT_VNI_MAX_PORTS; id++) {
		struct mint_vni_stats st;
		char ns[MINT_NAME_MAX];
		if (id == cfg->id || mint_vni_stats(f, id, &st) || !st.up || !mint_node_alive(f, id))
			continue;
		peers = true;
		netns_node_name(f, id, ns, sizeof(ns));
		if (netns_exists(ns) && (!looked_since(f, id, since) || !tap_ready(ns, home)))
			return id;
	}
	return peers && !tap_ready(cfg->netns_name, home) ? cfg->id : MINT_NODE_NONE;
}

/* A VNI node carries traffic once its mint0 and its peers' do (a peer's
 * agent notices a new port within a heartbeat): wait for that before
 * `node start` returns, so the first frame sent after it is not dropped.
 * SINCE: when our port was up. */
static void wait_carrier(struct mint_fabric *f, const struct agent_config *cfg, uint64_t since)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	uint32_t id = home < 0 ? MINT_NODE_NONE : not_ready(f, cfg, home, since);
	for (int waited = 0; id != MINT_NODE_NONE && waited < CARRIER_TIMEOUT_MS; waited += 10) {
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
		id = not_ready(f, cfg, home, since);
	}
	if (id != MINT_NODE_NONE)
		cli_warn("node %u: " VNI_TAP_NAME " of node %u cannot carry traffic after %d s",
			 cfg->id, id, CARRIER_TIMEOUT_MS / 1000);
	if (home >= 0)
		close(home);
}

static int node_start(struct cli *c, int argc, char **argv)
{
	/* Sleep mode by default; adaptive with --vni (below). */
	struct agent_config cfg = {.netns = geteuid() == 0, .mode = MINT_MODE_SLEEP,
				   .exec = {.nuids = -1}};
	const char *cores_arg = NULL;
	bool foreground = false, have_id = false;
	struct opts_given given = {false, false, false, false};
	int st = parse_start(c, argc, argv, &cfg, &cores_arg, &foreground, &given);
	if (st >= 0)
		return st;
	/* A VNI node spins a little after each interrupt: a frame that
	 * comes within 50 us (the reply of a ping-pong, the next ACK) then
	 * needs no wake-up, and the spinner yields its core to the threads
	 * it serves (measured on 2 vCPUs against sleep mode: sockperf p50
	 * 17-22 against 54-62 us, iperf3 9.8-11.4 against 8.7-9.9 Gbit/s;
	 * docs/benchmarks.md, vni-perf). */
	if (cfg.vni && !given.mode)
		cfg.mode = MINT_MODE_ADAPTIVE;
	if ((given.vni && !cfg.vni) || ((given.nic || given.nic_itr) && !cfg.nic)) {
		cli_err(given.vni && !cfg.vni ? "--vni-addr goes with --vni"
			: given.nic		 ? "--nic-addr goes with --nic"
						 : "--nic-itr goes with --nic");
		return EXIT_USAGE;
	}
	if (optind < argc) {
		if (cli_parse_node(argv[optind++], &cfg.id))
			return EXIT_USAGE;
		have_id = true;
	}
	if (optind < argc) {
		cli_err("node start: unexpected argument %s", argv[optind]);
		return EXIT_USAGE;
	}
	if (cores_arg && cli_parse_cores(cores_arg, cfg.cores)) {
		cli_err("cores %s: not a core list (e.g. 1 or 0-3,6)", cores_arg);
		return EXIT_USAGE;
	}
	if (cores_arg && check_cores(cfg.cores))
		return EXIT_USAGE; /* like a malformed list: the command line is wrong */
	struct mint_fabric *f;
	if (cli_attach(c, &f))
		return 1;
	int rc = have_id ? 0 : lowest_free_id(f, &cfg.id);
	if (rc == 0 && mint_node_alive(f, cfg.id)) {
		struct mint_node_info info;
		mint_node_info(f, cfg.id, &info);
		cli_err("node %u: already running (pid %d)", cfg.id, info.pid);
		rc = -EBUSY;
	}
	if (rc == 0 && cfg.vni)
		rc = check_vni(&cfg, given.vni);
	if (rc == 0 && cfg.nic)
		rc = check_nic(&cfg, given.nic);
	if (rc) {
		mint_fabric_detach(f);
		return 1;
	}
	if (!cores_arg) {
		uint64_t allowed[MINT_CPU_WORDS];
		allowed_cores(allowed);
		default_cores(cfg.id, allowed, cfg.cores);
	}
	warn_shared_cores(f, cfg.id, cfg.cores);
	netns_node_name(f, cfg.id, cfg.netns_name, sizeof(cfg.netns_name));
	cfg.fabric = c->fabric;
	struct node_files nf;
	if ((cfg.netns && check_netns_owner(f, &cfg)) || cli_open_node_files(c, f, cfg.id, &nf)) {
		mint_fabric_detach(f);
		return 1;
	}
	bool had_netns = cfg.netns && netns_exists(cfg.netns_name);
	if (foreground) {
		close(nf.log); /* its log is the terminal; it holds its marker */
		st = agent_run(&cfg, -1);
	} else {
		st = spawn_agent(&cfg, &nf);
		close(nf.log);
	}
	uint64_t up_ns = mint_now_ns(CLOCK_MONOTONIC); /* our port is up by now */
	close(nf.marker);
	/* A start that failed (or was killed for taking too long) leaves
	 * nothing it made: the namespace its agent claimed and created. */
	if (st && cfg.netns && !had_netns && netns_exists(cfg.netns_name))
		netns_remove(cfg.netns_name);
	if (st == 0 && cfg.vni && !foreground)
		wait_carrier(f, &cfg, up_ns);
	mint_fabric_detach(f);
	return st;
}

/* The agents the fabric names for node ONLY (MINT_MAX_NODES: any) that
 * FP did not prove: named, never signalled; say so. */
static void warn_unproven(const struct cli *c, const struct fabric_procs *fp, uint32_t only)
{
	struct mint_fabric *f;
	if (mint_fabric_attach(c->fabric, &f) != 0)
		return;
	for (uint32_t id = 0; id < MINT_MAX_NODES; id++) {
		struct mint_node_info info;
		if ((only != MINT_MAX_NODES && id != only) || mint_node_info(f, id, &info) ||
		    info.state != MINT_NODE_UP || !mint_pid_alive(info.pid, info.pid_start) ||
		    fabric_procs_has(fp, info.pid))
			continue;
		cli_warn("node %u: the fabric names pid %d, which holds no node of this fabric "
			 "open: not signalled", id, info.pid);
	}
	mint_fabric_detach(f);
}

/* Remove node ID's namespace of the fabric at FABRIC_PATH, if that fabric
 * made it: 1 if one was removed, else 0 (said why, if one was left). */
static int remove_netns(const char *fabric_path, uint32_t id)
{
	char name[MINT_NAME_MAX], owner[256];
	netns_node_name_for(fabric_path, id, name, sizeof(name));
	bool existed = netns_exists(name);
	int rc = netns_check_owner(name, fabric_path, owner, sizeof(owner));
	if (rc == -EEXIST)
		cli_warn("namespace %s is fabric %s's: left alone", name, owner);
	else if (rc == -ENOENT)
		cli_warn("namespace %s: no fabric made it: left alone (ip netns delete %s removes it)",
			 name, name);
	else if (rc == 0 && (rc = netns_remove(name)) != 0 && existed)
		cli_warn("namespace %s: cannot remove: %s", name, strerror(-rc));
	return rc == 0 && existed;
}

/* Is there a fabric at PATH (C's) to stop without attaching it?  0, or
 * -ENOENT for neither its file nor its run directory, -EPROTO for a file
 * with no mint magic and no run directory (whatever else it is, it is no
 * fabric's to remove). */
static int fabric_there(const struct cli *c, const char *path)
{
	char dir[128];
	struct stat st;
	bool has_dir = rundir_path(c->fabric, dir, sizeof(dir)) == 0 && lstat(dir, &st) == 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	uint64_t magic = 0;
	bool has_file = fd >= 0 || errno != ENOENT;
	bool magic_ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
			pread(fd, &magic, sizeof(magic), 0) == sizeof(magic) &&
			mint_le64(magic) == MINT_FABRIC_MAGIC;
	if (fd >= 0)
		close(fd);
	if (has_dir || magic_ok)
		return 0;
	return has_file ? -EPROTO : -ENOENT;
}

/* Stop node ONLY's agents (MINT_MAX_NODES: all) of C's fabric: 0 or a
 * negative errno; how many in OUT. */
static int stop_agents(const struct cli *c, uint32_t only, struct cli_stopped *out)
{
	struct fabric_procs *fp = calloc(1, sizeof(*fp));
	if (!fp)
		return -ENOMEM;
	int rc = fabric_procs_find(c->fabric, fp);
	if (rc >= 0)
		warn_unproven(c, fp, only);
	if (rc >= 0 && (rc = fabric_procs_stop(fp, only, STOP_GRACE_MS)) >= 0)
		out->agents = (uint32_t)rc;
	free(fp);
	return rc < 0 ? rc : 0;
}

int cli_stop_nodes(const struct cli *c, uint32_t only, struct cli_stopped *out)
{
	char path[256];
	memset(out, 0, sizeof(*out));
	int rc = mint_fabric_path(c->fabric, path, sizeof(path));
	if (rc == 0)
		rc = fabric_there(c, path);
	if (rc && rc != -ENOENT)
		return rc;
	/* Agents and namespaces may outlive the files: still look. */
	int stop = stop_agents(c, only, out);
	for (uint32_t id = 0; id < MINT_MAX_NODES; id++)
		if (only == MINT_MAX_NODES || id == only)
			out->namespaces += (uint32_t)remove_netns(path, id);
	if (stop)
		return stop;
	return rc == -ENOENT && out->agents + out->namespaces ? 0 : rc;
}

/* Node ID's entry may still say up (an agent that was SIGKILLed, or
 * stood down from a forged entry, could not leave): mark it free, if the
 * fabric can be attached at all.  Was there one to free? */
static bool free_entry(const struct cli *c, uint32_t id)
{
	struct mint_fabric *f;
	struct mint_node_info info;
	if (mint_fabric_attach(c->fabric, &f) != 0)
		return false;
	bool freed = mint_node_info(f, id, &info) == 0 && info.state == MINT_NODE_UP &&
		     mint_node_evict(f, id) == 0;
	mint_fabric_detach(f);
	return freed;
}

static int node_stop(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_LONGOPTS, {0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1)
		if ((st = cli_common_opt(c, opt, stop_usage)) >= 0)
			return st;
	uint32_t id;
	if (optind + 1 != argc) {
		fputs(stop_usage, stderr);
		return EXIT_USAGE;
	}
	if (cli_parse_node(argv[optind], &id))
		return EXIT_USAGE;
	struct cli_stopped done;
	int rc = cli_stop_nodes(c, id, &done);
	if (rc == -EINVAL || rc == -ENOENT || rc == -EPROTO) {
		cli_attach_error(c, rc);
		return rc == -EINVAL ? EXIT_USAGE : 1;
	}
	bool any = done.agents + done.namespaces > 0 || free_entry(c, id);
	if (rc)
		cli_err("node %u: cannot stop: %s", id, mint_strerror(rc));
	else if (!any)
		cli_err("node %u: not running", id);
	else
		printf("node %u stopped\n", id);
	return rc || !any;
}

int cmd_node(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		fputs(node_usage, stderr);
		return EXIT_USAGE;
	}
	optind = 0; /* glibc: restart scanning afresh for the subcommand */
	const char *sub = argv[1];
	argv[1] = "mint"; /* getopt names its complaints after argv[0] */
	if (strcmp(sub, "start") == 0)
		return node_start(c, argc - 1, argv + 1);
	if (strcmp(sub, "stop") == 0)
		return node_stop(c, argc - 1, argv + 1);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(node_usage, stdout);
		return 0;
	}
	cli_err("node %s: unknown command (use start or stop)", sub);
	return EXIT_USAGE;
}
