/* SPDX-License-Identifier: MIT */
/* mint down: stop every node of a fabric and remove it */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/guest_run.h"
#include "mint/vni.h"
#include "common/netns.h"

static const char down_usage[] =
	"usage: mint down\n"
	"Stop every node of the fabric, remove their namespaces and logs, and\n"
	"remove the fabric.  A fabric whose file another process truncated is\n"
	"removed too: its nodes stop by themselves when they see it.\n";


static int down_truncated(const struct cli *c)
{
	char path[256], ns[MINT_NAME_MAX + 16], log[300];
	if (mint_fabric_path(c->fabric, path, sizeof(path)))
		return 1;
	for (uint32_t id = 0; id < MINT_MAX_NODES; id++) {
		netns_node_name_for(c->fabric, id, ns, sizeof(ns));
		netns_remove(ns);
		for (int hugetlb = 0; hugetlb < 2; hugetlb++) { /* its flags are not readable */
			cli_log_path_for(path, hugetlb, id, log, sizeof(log));
			unlink(log);
		}
	}
	int rc = mint_fabric_destroy(c->fabric);
	if (rc) {
		cli_err("fabric %s: cannot remove: %s", c->fabric, mint_strerror(rc));
		return 1;
	}
	printf("fabric %s down (its file had been truncated: its nodes stopped by themselves)\n",
	       c->fabric);
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
	int rc = mint_fabric_attach(c->fabric, &f);
	if (rc == -ENODATA)
		return down_truncated(c);
	if (cli_attach_error(c, rc))
		return 1;
	int failed = 0;
	for (uint32_t id = 0; id < MINT_MAX_NODES; id++) {
		guest_stop_qemu(f, id); /* a guest still booting has not joined */
		int rc = cli_stop_node(f, id);
		if (rc && rc != -ESRCH) {
			cli_err("node %u: cannot stop: %s", id, mint_strerror(rc));
			failed = 1;
		}
		char log[300];
		cli_log_path(f, id, log, sizeof(log));
		unlink(log);
	}
	guest_stop_server(mint_fabric_file(f));
	mint_fabric_detach(f);
	rc = mint_fabric_destroy(c->fabric);
	if (rc) {
		cli_err("fabric %s: cannot remove: %s", c->fabric, mint_strerror(rc));
		return 1;
	}
	printf("fabric %s down\n", c->fabric);
	return failed;
}
