/* SPDX-License-Identifier: MIT */
/* mint down: stop every node of a fabric and remove it */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/guest_run.h"
#include "common/rundir.h"

static const char down_usage[] =
	"usage: mint down\n"
	"Stop every node of the fabric, remove their namespaces, its run directory\n"
	"(the nodes' logs) and the fabric.  Nothing the fabric holds is trusted:\n"
	"its agents are the processes that hold its file and a node's marker open,\n"
	"its namespaces those whose names derive from NAME and that it made.  Exit\n"
	"0 when there was nothing to remove, too.\n";

/* Remove the fabric file at PATH and its run directory: 0, or -1 after
 * the error line; *FOUND is set when there was anything to remove. */
static int remove_files(const struct cli *c, const char *path, bool *found)
{
	char dir[128];
	struct stat st;
	rundir_path(c->fabric, dir, sizeof(dir));
	bool existed = lstat(dir, &st) == 0;
	int rc = rundir_remove(c->fabric);
	*found |= existed && rc == 0;
	if (rc)
		cli_warn("%s: left: %s", dir,
			 rc == -ENOTEMPTY ? "it holds files mint did not make"
			 : rc == -EEXIST  ? "it is another fabric's (one whose name derives the same)"
			 : rc == -EBUSY	  ? "it holds another user's node files (root's down removes them)"
					  : strerror(-rc));
	if (unlink(path) == 0) {
		*found = true;
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	cli_err("fabric %s: cannot remove %s: %s", c->fabric, path, strerror(errno));
	return -1;
}

/* What was wrong with C's fabric, for the closing line ("" if nothing). */
static const char *fabric_state(const struct cli *c)
{
	struct mint_fabric *f;
	int rc = mint_fabric_attach(c->fabric, &f);
	if (rc == 0)
		mint_fabric_detach(f);
	return rc == -ENODATA ? " (its file had been truncated: its nodes stopped by themselves)"
	       : rc == -EPROTO || rc == -EPROTONOSUPPORT ? " (its header was corrupt)"
							  : "";
}

int cmd_down(struct cli *c, int argc, char **argv)
{
	int st = cli_parse_plain(c, argc, argv, down_usage);
	if (st >= 0)
		return st;
	char path[256];
	int rc = mint_fabric_path(c->fabric, path, sizeof(path));
	if (rc) {
		cli_attach_error(c, rc);
		return rc == -EINVAL ? EXIT_USAGE : 1;
	}
	const char *why = fabric_state(c);
	struct cli_stopped done;
	rc = cli_stop_nodes(c, MINT_MAX_NODES, &done);
	if (rc == -ENOENT) {
		printf("fabric %s: nothing to remove\n", c->fabric);
		return 0;
	}
	if (rc == -EPROTO) {
		cli_attach_error(c, rc);
		return 1;
	}
	if (rc)
		cli_err("fabric %s: cannot stop its agents: %s", c->fabric, mint_strerror(rc));
	bool found = done.agents + done.namespaces > 0;
	if (remove_files(c, path, &found) || rc)
		return 1;
	/* With its file gone and its guests stopped, the fabric's ivshmem
	 * server stops by itself: wait for it. */
	if (guest_server_gone(path) == 0)
		found = true;
	if (found)
		printf("fabric %s down%s: %u agent%s stopped, %u namespace%s removed\n", c->fabric,
		       why, done.agents, done.agents == 1 ? "" : "s", done.namespaces,
		       done.namespaces == 1 ? "" : "s");
	else
		printf("fabric %s: nothing to remove\n", c->fabric);
	return 0;
}
