/* SPDX-License-Identifier: MIT */
/* mint ipi: raise a vector on a node */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mint/endian.h"
#include "common/ping.h"

static const char ipi_usage[] =
	"usage: mint ipi ID VECTOR [--count N]\n"
	"Raise VECTOR (0-255) on node ID's doorbell, N times (default 1).\n";

int cmd_ipi(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"count", required_argument, NULL, 'n'},
					     CLI_COMMON_LONGOPTS, {0}};
	uint32_t count = 1, id, vector;
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "n:", opts, NULL)) != -1) {
		if (opt == 'n') {
			if (cli_parse_u32(optarg, 100000000, &count) || count == 0) {
				cli_err("count %s: not a number from 1 to 100000000", optarg);
				return EXIT_USAGE;
			}
		} else if ((st = cli_common_opt(c, opt, ipi_usage)) >= 0) {
			return st;
		}
	}
	if (optind + 2 != argc) {
		fputs(ipi_usage, stderr);
		return EXIT_USAGE;
	}
	if (cli_parse_node(argv[optind], &id))
		return EXIT_USAGE;
	if (cli_parse_u32(argv[optind + 1], MINT_VECTORS - 1, &vector)) {
		cli_err("vector %s: not a vector (0-%u)", argv[optind + 1], MINT_VECTORS - 1);
		return EXIT_USAGE;
	}
	struct mint_fabric *f;
	if (cli_attach(c, &f))
		return 1;
	int rc = cli_require_alive(f, id);
	uint32_t woke = 0;
	for (uint32_t i = 0; rc == 0 && i < count; i++)
		woke += mint_ipi_send(f, id, vector) > 0;
	if (rc == 0)
		printf("node %u: vector %u raised %u time%s (%u needed a wake-up)\n", id, vector, count,
		       count == 1 ? "" : "s", woke);
	mint_fabric_detach(f);
	return rc ? 1 : 0;
}
