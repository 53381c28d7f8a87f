/* SPDX-License-Identifier: MIT */
/* mint guest start | stop | console | server: QEMU system guests as nodes */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/guest_run.h"
#include "common/rundir.h"
#include "mint/guest_abi.h"
#include "server/ivshmem_server.h"

static const char start_usage[] =
	"usage: mint guest start ID --arch x86_64|aarch64 [--cores LIST] [--mem MIB]\n"
	"                        [--kernel FILE] [--initrd FILE] [--accel kvm|tcg]\n"
	"                        [--mode poll|sleep|adaptive] [--timeout SECONDS]\n"
	"                        [--vni [--vni-addr A.B.C.D/N]] [--tap] [--load MODULE,...]\n"
	"Boot a QEMU system guest as node ID: Debian's kernel and mint's initramfs\n"
	"(make guest-images), whose agent joins the fabric through the guest driver\n"
	"mint_ivshmem.ko.  QEMU's ivshmem-doorbell device maps the fabric file; the\n"
	"fabric's ivshmem server starts with the first guest.  --accel: kvm when\n"
	"/dev/kvm exists, else tcg.  --mem: 160 MiB by default.  --cores pins QEMU.\n"
	"--timeout: how long to wait for the agent (default 90 s): a guest that does\n"
	"not join by then is stopped, and the error names its console log.\n"
	"--vni: the agent in the guest drives a TAP mint0 in the guest kernel on the\n"
	"fabric's VNI (address 10.77.0.<ID+1>/24 unless --vni-addr says otherwise).\n"
	"--tap: QEMU's own e1000 NIC (eth0 in the guest, up, no address) on a host\n"
	"TAP mintg<N> that mint creates; QEMU holds its only descriptor, so it goes\n"
	"away with QEMU.  mint inject --evaluate compares it with mint_nic.ko.\n"
	"--load: the guest's init loads these of its modules (mint_vni, mint_nic) before\n"
	"its agent joins; they wait for the join and follow its rejoins.\n";

static const char stop_usage[] =
	"usage: mint guest stop ID\n"
	"Stop guest node ID: its QEMU gets SIGTERM, then SIGKILL after 3 s.\n";

static const char console_usage[] =
	"usage: mint guest console ID\n"
	"Print guest node ID's console (its serial port's log).\n";

static const char server_usage[] =
	"usage: mint guest server\n"
	"Run the fabric's ivshmem server in the foreground (mint guest start starts\n"
	"it in the background when it is not running).\n";

static const char rawping_usage[] =
	"usage: mint guest rawping [COUNT]\n"
	"Inside a guest: the bare ivshmem path, COUNT times (default 1000): ring\n"
	"this guest's own vector 0 through the BAR0 doorbell (QEMU writes its\n"
	"eventfd, which injects the MSI-X interrupt) and wait for it through\n"
	"/dev/mint_ivshmem.  Prints the median and 99th percentile in us: the\n"
	"anchor of make bench's guest doorbell round trips.\n";

static const char guest_usage[] = "usage: mint guest start|stop|console|server ...  (see --help of each)\n";

/* Parse start's options; -1 to go on, else an exit status. */
static int parse_start(struct cli *c, int argc, char **argv, struct guest_spec *g)
{
	static const struct option opts[] = {
		CLI_COMMON_LONGOPTS,
		{"arch", required_argument, NULL, 'a'},	 {"cores", required_argument, NULL, 'c'},
		{"mem", required_argument, NULL, 'm'},	 {"kernel", required_argument, NULL, 'k'},
		{"initrd", required_argument, NULL, 'i'}, {"accel", required_argument, NULL, 'A'},
		{"mode", required_argument, NULL, 'M'},	 {"timeout", required_argument, NULL, 't'},
		{"vni", no_argument, NULL, 'v'},	 {"vni-addr", required_argument, NULL, 'V'},
		{"tap", no_argument, NULL, 'T'},	 {"load", required_argument, NULL, 'l'},
		{0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (opt) {
		case 'a': g->arch = optarg; break;
		case 'c': g->cores_arg = optarg; break;
		case 'k': g->kernel = optarg; break;
		case 'i': g->initrd = optarg; break;
		case 'A': g->accel = optarg; break;
		case 'M': g->mode = optarg; break;
		case 'v': g->vni = g->vni ? g->vni : "auto"; break;
		case 'V': g->vni = optarg; break;
		case 'T': g->tap = true; break;
		case 'l': g->load = optarg; break;
		case 'm':
			if (cli_parse_u32(optarg, 65536, &g->mem_mib) || g->mem_mib < 64) {
				cli_err("--mem %s: a size in MiB, 64 to 65536", optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			if (cli_parse_u32(optarg, 3600, &g->timeout_s) || g->timeout_s == 0) {
				cli_err("--timeout %s: seconds, 1 to 3600", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			if ((st = cli_common_opt(c, opt, start_usage)) >= 0)
				return st;
		}
	}
	return -1;
}

/* Check the values of start's options; 0 or EXIT_USAGE. */
static int check_start(struct guest_spec *g, int argc, char **argv)
{
	if (optind >= argc) {
		cli_err("guest start: which node id?");
		return EXIT_USAGE;
	}
	if (cli_parse_node(argv[optind++], &g->id))
		return EXIT_USAGE;
	if (optind < argc) {
		cli_err("guest start: unexpected argument %s", argv[optind]);
		return EXIT_USAGE;
	}
	if (!g->arch || guest_arch(g->arch) == 0) {
		cli_err("guest start: --arch x86_64 or --arch aarch64");
		return EXIT_USAGE;
	}
	if (g->accel && strcmp(g->accel, "kvm") != 0 && strcmp(g->accel, "tcg") != 0) {
		cli_err("--accel %s: kvm or tcg", g->accel);
		return EXIT_USAGE;
	}
	if (g->mode && strcmp(g->mode, "poll") != 0 && strcmp(g->mode, "sleep") != 0 &&
	    strcmp(g->mode, "adaptive") != 0) {
		cli_err("--mode %s: poll, sleep or adaptive", g->mode);
		return EXIT_USAGE;
	}
	if (g->vni && strcmp(g->vni, "auto") != 0 && strspn(g->vni, "0123456789./") != strlen(g->vni)) {
		cli_err("--vni-addr %s: A.B.C.D/N", g->vni);
		return EXIT_USAGE;
	}
	if (g->load && (strspn(g->load, "abcdefghijklmnopqrstuvwxyz0123456789_,") != strlen(g->load) ||
			strlen(g->load) > 64)) {
		cli_err("--load %s: module names, separated by commas", g->load);
		return EXIT_USAGE;
	}
	if (g->cores_arg && cli_parse_cores(g->cores_arg, g->cores)) {
		cli_err("cores %s: not a core list (e.g. 1 or 0-3,6)", g->cores_arg);
		return EXIT_USAGE;
	}
	return 0;
}

static int guest_start(struct cli *c, int argc, char **argv)
{
	struct guest_spec g = {.mem_mib = 160, .timeout_s = 90};
	int st = parse_start(c, argc, argv, &g);
	if (st >= 0)
		return st;
	if ((st = check_start(&g, argc, argv)) != 0)
		return st;
	return guest_run(c, &g);
}

/* The one node id argument of stop and console. */
static int one_id(struct cli *c, int argc, char **argv, const char *usage, uint32_t *id)
{
	static const struct option opts[] = {CLI_COMMON_LONGOPTS, {0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1)
		if ((st = cli_common_opt(c, opt, usage)) >= 0)
			return st;
	if (optind + 1 != argc) {
		cli_err("%s", optind >= argc ? "which node id?" : "one node id only");
		return EXIT_USAGE;
	}
	return cli_parse_node(argv[optind], id) ? EXIT_USAGE : -1;
}

static int guest_stop(struct cli *c, int argc, char **argv)
{
	uint32_t id;
	int st = one_id(c, argc, argv, stop_usage, &id);
	if (st >= 0)
		return st;
	int rc = guest_stop_node(c, id);
	if (rc == -ESRCH) {
		cli_err("node %u: not a running guest", id);
		return 1;
	}
	if (rc) {
		cli_err("node %u: cannot stop its QEMU: %s", id, mint_strerror(rc));
		return 1;
	}
	printf("guest %u stopped\n", id);
	return 0;
}

static int guest_console(struct cli *c, int argc, char **argv)
{
	uint32_t id;
	int st = one_id(c, argc, argv, console_usage, &id);
	if (st >= 0)
		return st;
	char dir[128], name[32], log[200];
	if (rundir_path(c->fabric, dir, sizeof(dir)) != 0)
		return EXIT_USAGE;
	rundir_log_name(id, name, sizeof(name));
	snprintf(log, sizeof(log), "%s/%s", dir, name);
	FILE *in = fopen(log, "r");
	if (!in) {
		cli_err("node %u: no console log %s: %s", id, log, strerror(errno));
		return 1;
	}
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(in);
	return 0;
}

static int guest_server(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_LONGOPTS, {0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1)
		if ((st = cli_common_opt(c, opt, server_usage)) >= 0)
			return st;
	return ivs_serve(c->fabric, -1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One ring of our own vector 0 and the wait for its interrupt: ns, or 0
 * when the interrupt did not come within a second. */
static uint64_t raw_round(int fd, const struct mint_ivshmem_ring *self)
{
	uint64_t t0 = mint_now_ns(CLOCK_MONOTONIC), fired;
	struct pollfd p = {fd, POLLIN, 0};
	if (ioctl(fd, MINT_IVSHMEM_RING, self) != 0 || poll(&p, 1, 1000) != 1 ||
	    read(fd, &fired, sizeof(fired)) != sizeof(fired))
		return 0;
	return mint_now_ns(CLOCK_MONOTONIC) - t0;
}

static int guest_rawping(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_LONGOPTS, {0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1)
		if ((st = cli_common_opt(c, opt, rawping_usage)) >= 0)
			return st;
	uint32_t n = 1000;
	if (optind < argc && (cli_parse_u32(argv[optind], 1000000, &n) || n == 0)) {
		cli_err("rawping: COUNT is 1 to 1000000");
		return EXIT_USAGE;
	}
	int fd = open(MINT_IVSHMEM_DEV, O_RDWR | O_CLOEXEC);
	struct mint_ivshmem_info info;
	if (fd < 0 || ioctl(fd, MINT_IVSHMEM_INFO, &info) != 0) {
		cli_err("rawping: %s: %s (not inside a mint guest?)", MINT_IVSHMEM_DEV, strerror(errno));
		return 1;
	}
	struct mint_ivshmem_ring self = {info.id, MINT_IVSHMEM_MSIX_NODE};
	uint64_t *ns = calloc(n, sizeof(*ns));
	uint32_t got = 0;
	for (uint32_t i = 0; ns && i < n; i++)
		if ((ns[got] = raw_round(fd, &self)) != 0)
			got++;
	close(fd);
	if (!ns || got == 0) {
		cli_err("rawping: no interrupt came back");
		free(ns);
		return 1;
	}
	qsort(ns, got, sizeof(*ns), cmp_u64);
	printf("rawping: %u of %u rounds, p50 %.1f us, p99 %.1f us\n", got, n, ns[got / 2] / 1e3,
	       ns[(uint64_t)got * 99 / 100] / 1e3);
	free(ns);
	return got == n ? 0 : 1;
}

int cmd_guest(struct cli *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct cli *c, int argc, char **argv);
	} subs[] = {{"start", guest_start},
		    {"stop", guest_stop},
		    {"console", guest_console},
		    {"server", guest_server},
		    {"rawping", guest_rawping}};
	if (argc < 2) {
		fputs(guest_usage, stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(guest_usage, stdout);
		return 0;
	}
	cli_err("guest: unknown subcommand %s", argv[1]);
	return EXIT_USAGE;
}
