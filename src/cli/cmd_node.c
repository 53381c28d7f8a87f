/* SPDX-License-Identifier: MIT */
/* mint node start | stop */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/nic_port.h"
#include "agent/vni_port.h"
#include "cli/cli.h"
#include "common/netns.h"

/* How long `node start` waits for the agent to report that it is up. */
#define AGENT_START_TIMEOUT_MS 10000
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
	"network namespace mint-FABRIC-ID (default when root; --no-netns otherwise).\n"
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

/* Fork the agent; wait for its "ok" or error line and report it. */
/*
 * In a new agent: standard input from /dev/null, output and error to LOG,
 * the ready pipe READY moved to descriptor 3 and every other descriptor
 * closed: what its starter had open (a terminal, sockets, a test's pipes)
 * is not the agent's to hold for its whole life.  Returns the ready pipe.
 */
static int agent_descriptors(int ready, const char *log)
{
	if (ready != 3 && dup3(ready, 3, O_CLOEXEC) == 3)
		ready = 3;
	close_range((unsigned)ready + 1, ~0u, 0);
	if (ready > 3)
		close_range(3, (unsigned)ready - 1, 0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	dup2(null, 0);
	dup2(out >= 0 ? out : null, 1);
	dup2(out >= 0 ? out : null, 2);
	if (null > 2)
		close(null);
	if (out > 2)
		close(out);
	return ready;
}

static int spawn_agent(struct mint_fabric *f, const struct agent_config *cfg)
{
	char log[300];
	cli_log_path(f, cfg->id, log, sizeof(log));
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
		_exit(agent_run(cfg, agent_descriptors(pipefd[1], log)));
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
			 AGENT_START_TIMEOUT_MS / 1000, log);
	}
	line[strcspn(line, "\n")] = '\0';
	if (strcmp(line, "ok") == 0) {
		char cores[64];
		format_cores(cfg->cores, cores, sizeof(cores));
		char addr[INET_ADDRSTRLEN], vni[64] = "", nic[64] = "";
		if (cfg->vni && inet_ntop(AF_INET, cfg->vni_addr, addr, sizeof(addr)))
			snprintf(vni, sizeof(vni), ", " VNI_TAP_NAME " %s/%u", addr, cfg->vni_prefix);
		if (cfg->nic && inet_ntop(AF_INET, cfg->nic_addr, addr, sizeof(addr)))
			snprintf(nic, sizeof(nic), ", " NIC_TAP_NAME " %s/%u", addr, cfg->nic_prefix);
		printf("node %u up: pid %d, cores %s%s%s%s%s\n", cfg->id, (int)pid, cores,
		       cfg->netns ? ", netns " : "", cfg->netns ? cfg->netns_name : "", vni, nic);
		return 0;
	}
	waitpid(pid, NULL, 0);
	cli_err("node %u: %s", cfg->id, line[0] ? line : "agent exited before it was up (see its log)");
	return 1;
}

/* Parse start's options into CFG; returns -1 to go on or an exit status. */
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

/* --vni and --nic need the node's own namespace (their TAP lives there). */
static int check_netns(const struct agent_config *cfg, const char *opt)
{
	if (!cfg->netns) {
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
		return 1;
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
	st = foreground ? agent_run(&cfg, -1) : spawn_agent(f, &cfg);
	mint_fabric_detach(f);
	return st;
}

/* Wait up to MS milliseconds for the process WAS describes to exit. */
static bool wait_exit(const struct mint_node_info *was, int ms)
{
	for (int waited = 0; waited <= ms; waited += 20) {
		if (!mint_pid_alive(was->pid, was->pid_start))
			return true;
		struct timespec ts = {0, 20000000};
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Only the agent the table names, and only while the same process (its
 * start time matches): never a process that merely reused the pid. */
static void stop_agent(const struct mint_node_info *info)
{
	if (info->pid_start == 0 || !mint_pid_alive(info->pid, info->pid_start))
		return;
	if (kill(info->pid, SIGTERM) == 0 && !wait_exit(info, 3000)) {
		kill(info->pid, SIGKILL);
		wait_exit(info, 1000);
	}
}

int cli_stop_node(struct mint_fabric *f, uint32_t id)
{
	struct mint_node_info info;
	int rc = mint_node_info(f, id, &info);
	if (rc)
		return rc;
	if (info.state != MINT_NODE_UP)
		return -ESRCH;
	stop_agent(&info);
	if (netns_node_ours(f, id, info.netns))
		netns_remove(info.netns);
	/* A node that died without leaving is marked free for it. */
	return mint_node_evict(f, id);
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
	struct mint_fabric *f;
	if (cli_attach(c, &f))
		return 1;
	int rc = cli_stop_node(f, id);
	mint_fabric_detach(f);
	if (rc == -ESRCH)
		cli_err("node %u: not running", id);
	else if (rc)
		cli_err("node %u: cannot stop: %s", id, mint_strerror(rc));
	else
		printf("node %u stopped\n", id);
	return rc ? 1 : 0;
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
