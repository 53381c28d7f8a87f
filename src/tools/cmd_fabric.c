/* SPDX-License-Identifier: MIT */
/* mint up | down */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char up_usage[] =
	"usage: mint up [--size SIZE]\n"
	"Create the fabric (default 64M; K, M, G suffixes).  --fabric NAME picks\n"
	"/dev/shm/mint-NAME; a NAME with a '/' is a path, e.g. on hugetlbfs.\n";

static const char down_usage[] =
	"usage: mint down\n"
	"Stop every node of the fabric, remove their namespaces and logs, and\n"
	"remove the fabric.\n";

int cmd_up(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"size", required_argument, NULL, 's'},
					     CLI_COMMON_LONGOPTS, {0}};
	uint64_t size = MINT_DEFAULT_SIZE;
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "s:", opts, NULL)) != -1) {
		if (opt == 's') {
			if (cli_parse_size(optarg, &size) || size == 0) {
				cli_err("size %s: not a size (e.g. 64M)", optarg);
				return EXIT_USAGE;
			}
		} else if ((st = cli_common_opt(c, opt, up_usage)) >= 0) {
			return st;
		}
	}
	if (optind != argc) {
		fputs(up_usage, stderr);
		return EXIT_USAGE;
	}
	struct mint_fabric *f;
	int rc = mint_fabric_create(c->fabric, size, &f);
	if (rc == -EEXIST)
		cli_err("fabric %s: already exists (use 'mint down' first)", c->fabric);
	else if (rc == -EINVAL && size < MINT_FABRIC_MIN_SIZE)
		cli_err("size %llu: too small (at least %llu bytes)", (unsigned long long)size,
			(unsigned long long)MINT_FABRIC_MIN_SIZE);
	else if (rc == -EINVAL)
		cli_err("fabric %s: bad name or size", c->fabric);
	else if (rc)
		cli_err("fabric %s: %s", c->fabric, mint_strerror(rc));
	if (rc)
		return rc == -EINVAL ? EXIT_USAGE : 1;
	printf("fabric %s up: %s, %llu MiB\n", c->fabric, mint_fabric_file(f),
	       (unsigned long long)(mint_fabric_size(f) >> 20));
	mint_fabric_detach(f);
	return 0;
}

int cmd_down(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_LONGOPTS, {0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1)
		if ((st = cli_common_opt(c, opt, down_usage)) >= 0)
			return st;
	struct mint_fabric *f;
	if (cli_attach(c, &f))
		return 1;
	int failed = 0;
	for (uint32_t id = 0; id < MINT_MAX_NODES; id++) {
		int rc = cli_stop_node(f, id);
		if (rc && rc != -ESRCH) {
			cli_err("node %u: cannot stop: %s", id, mint_strerror(rc));
			failed = 1;
		}
		char log[300];
		cli_log_path(f, id, log, sizeof(log));
		unlink(log);
	}
	mint_fabric_detach(f);
	int rc = mint_fabric_destroy(c->fabric);
	if (rc) {
		cli_err("fabric %s: cannot remove: %s", c->fabric, mint_strerror(rc));
		return 1;
	}
	printf("fabric %s down\n", c->fabric);
	return failed;
}
