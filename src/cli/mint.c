/* SPDX-License-Identifier: MIT */
/* mint: the command-line front end. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
	"usage: mint [--fabric NAME] [-j] COMMAND [ARGS]\n"
	"\n"
	"Several independent OS nodes on one host, each on its own cores and in its\n"
	"own network namespace, sharing one memory fabric with doorbell interrupts.\n"
	"\n"
	"commands:\n"
	"  up [--size SIZE]                 create the fabric\n"
	"  node start [ID] [--cores LIST]   start node ID's agent (see --help)\n"
	"  node stop ID                     stop node ID\n"
	"  status [-j]                      the fabric, its nodes and objects\n"
	"  irq [-j]                         interrupts handled, per vector and node\n"
	"  ipi ID VECTOR                    raise VECTOR on node ID\n"
	"  ping ID [--from SRC]             round trips through a fabric channel\n"
	"  vni stats [-j]                   the virtual NIC's ports and counters\n"
#ifdef MINT_WITH_PCAP
	"  capture ID -w FILE [-c N] [-G S] node ID's VNI traffic to a pcap file\n"
#endif
	"  down                             stop all nodes, remove the fabric\n"
	"  dev list|attach|detach|move|raise the device table: interrupt sources,\n"
	"                                   handed over between nodes (see --help)\n"
	"  exec ID [-t] -- CMD [ARG ...]    run CMD on node ID through the fabric\n"
	"  inject ID [--count N] ...        packets into node ID's NIC ring with\n"
	"                                   timed interrupts (see --help)\n"
	"  guest start ID --arch ARCH       boot a QEMU guest (x86_64, aarch64) as\n"
	"                                   node ID (see --help); guest stop|console ID\n"
	"\n"
	"The fabric is --fabric NAME, else $MINT_FABRIC, else \"mint\":\n"
	"/dev/shm/mint-NAME, or NAME itself when it contains a '/'.\n"
	"Exit status: 0 success, 1 failure, 2 bad usage.  See mint(1).\n";

#ifndef MINT_WITH_PCAP
/* Builds without libpcap (the static cross builds) have no capture. */
static int cmd_capture(struct cli *c, int argc, char **argv)
{
	(void)c, (void)argc, (void)argv;
	cli_err("capture: not in this build (it needs libpcap; see mint(1))");
	return 1;
}
#endif

static const struct {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
} commands[] = {
	{"up", cmd_up},         {"down", cmd_down}, {"node", cmd_node}, {"status", cmd_status},
	{"irq", cmd_irq},       {"ipi", cmd_ipi},   {"ping", cmd_ping}, {"vni", cmd_vni},
	{"capture", cmd_capture},
	{"dev", cmd_dev},
	{"exec", cmd_exec},
	{"inject", cmd_inject},
	{"guest", cmd_guest},
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_LONGOPTS,
					     {"version", no_argument, NULL, 'V'}, {0}};
	struct cli c = {getenv("MINT_FABRIC"), false};
	argv[0] = "mint"; /* getopt names its complaints after argv[0] */
	if (!c.fabric || !*c.fabric)
		c.fabric = MINT_DEFAULT_FABRIC;
	int opt, st;
	/* '+': stop at the command; its own options are parsed by it. */
	while ((opt = getopt_long(argc, argv, "+" CLI_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		if (opt == 'V') {
			printf("mint %s (fabric layout v%u, %s)\n", MINT_VERSION, MINT_FABRIC_VERSION,
			       mint_arch_name(mint_arch_self()));
			return 0;
		}
		if ((st = cli_common_opt(&c, opt, usage)) >= 0)
			return st;
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) == 0) {
			argv += optind;
			argc -= optind;
			argv[0] = "mint";
			optind = 0; /* glibc: restart scanning afresh for the command */
			return commands[i].run(&c, argc, argv);
		}
	}
	cli_err("%s: unknown command (see mint --help)", name);
	return EXIT_USAGE;
}
