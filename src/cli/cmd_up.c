/* SPDX-License-Identifier: MIT */
/* mint up: create a fabric */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mint/layout.h"
#include "mint/proto.h"
#include "mint/ring.h"
#include "mint/vni.h"
#include "common/netns.h"
#include "common/rundir.h"

static const char up_usage[] =
	"usage: mint up [--size SIZE] [--vni-buffers per-dest|pool] [--vni-pool-buffers N]\n"
	"Create the fabric (default 64M; K, M, G suffixes).  --fabric NAME picks\n"
	"/dev/shm/mint-NAME; a NAME with a '/' is a path, e.g. on hugetlbfs.\n"
	"--vni-buffers chooses how every node's VNI buffers frames: per-dest (the\n"
	"default: a ring per source and destination) or pool (one shared pool of\n"
	"64 KiB buffers and an address queue per destination; --vni-pool-buffers\n"
	"N of them, 16-4096, default 256).  A size too small for two nodes' VNI\n"
	"is refused; each further node needs more (docs/design.md, Capacity).\n";

/* Heap bytes of a channel with rings of RING data bytes, as the allocator
 * rounds it. */
static uint64_t channel_bytes(uint64_t ring)
{
	uint64_t size = sizeof(struct mint_channel_hdr) + 2 * mint_ring_footprint(ring);
	return (size + MINT_CACHELINE - 1) & ~(uint64_t)(MINT_CACHELINE - 1);
}

/* The smallest useful fabric: two nodes' VNI plus one `mint exec` session
 * (its data and signal channels), the largest channel a tool opens. */
static uint64_t min_size(const struct mint_vni_config *vni)
{
	uint64_t pair = mint_vni_fabric_size(vni, 2);
	if (pair == 0)
		return 0;
	return pair + channel_bytes(MINT_EXEC_RING_SIZE) + channel_bytes(MINT_EXEC_SIG_RING_SIZE);
}

/* --vni-buffers (B) or --vni-pool-buffers (N): -1 parsed, else an exit status. */
static int parse_vni_opt(int opt, const char *arg, struct mint_vni_config *vni)
{
	if (opt == 'b' && (strcmp(arg, "per-dest") == 0 || strcmp(arg, "pool") == 0)) {
		vni->mode = strcmp(arg, "pool") == 0 ? MINT_VNI_POOL : MINT_VNI_PER_DEST;
		return -1;
	}
	if (opt == 'n' && cli_parse_u32(arg, MINT_VNI_POOL_MAX, &vni->pool_buffers) == 0 &&
	    vni->pool_buffers >= MINT_VNI_POOL_MIN)
		return -1;
	if (opt == 'b')
		cli_err("--vni-buffers %s: per-dest or pool", arg);
	else
		cli_err("--vni-pool-buffers %s: a number of buffers, %u-%u", arg, MINT_VNI_POOL_MIN,
			MINT_VNI_POOL_MAX);
	return EXIT_USAGE;
}

/* The fabric's VNI in the configuration asked for: 0, or 1 (said why). */
static int create_vni(const struct cli *c, struct mint_fabric *f, const struct mint_vni_config *vni)
{
	int rc = mint_vni_create(f, vni);
	uint32_t n = vni->pool_buffers ? vni->pool_buffers : MINT_VNI_POOL_DEFAULT;
	if (rc == -ENOSPC || rc == -EINVAL)
		cli_err("fabric %s: no room for a VNI pool of %u buffers (%llu MiB): use a larger --size",
			c->fabric, n,
			(unsigned long long)(((uint64_t)n * (MINT_VNI_BUF_SIZE + MINT_VNI_SMALL_PER_BUF *
								 MINT_VNI_SMALL_SIZE)) >> 20));
	else if (rc < 0)
		cli_err("fabric %s: cannot create its VNI: %s", c->fabric, mint_strerror(rc));
	return rc < 0;
}

/* The fabric's run directory, its creator's alone (rundir.h): 0, or 1
 * after the error line.  One of another fabric whose derived names are
 * the same, or someone's trap, is refused. */
static int make_rundir(const struct cli *c)
{
	char path[128];
	int dir = rundir_open(c->fabric, geteuid(), true);
	if (dir >= 0) {
		close(dir);
		return 0;
	}
	rundir_path(c->fabric, path, sizeof(path));
	cli_err("fabric %s: its run directory %s: %s", c->fabric, path,
		dir == -EEXIST ? "another fabric's (one whose name derives the same): use another name"
		: dir == -EPERM || dir == -ENOENT ? "not one mint made for it (remove it)"
						  : strerror(-dir));
	return 1;
}

int cmd_up(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"size", required_argument, NULL, 's'},
					     {"vni-buffers", required_argument, NULL, 'b'},
					     {"vni-pool-buffers", required_argument, NULL, 'n'},
					     CLI_COMMON_LONGOPTS, {0}};
	uint64_t size = MINT_DEFAULT_SIZE;
	struct mint_vni_config vni = {0, 0, 0};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "s:", opts, NULL)) != -1) {
		if (opt == 'b' || opt == 'n') {
			if ((st = parse_vni_opt(opt, optarg, &vni)) >= 0)
				return st;
		} else if (opt == 's') {
			if (cli_parse_size(optarg, &size) || size == 0) {
				cli_err("size %s: not a size (e.g. 64M)", optarg);
				return EXIT_USAGE;
			}
		} else if ((st = cli_common_opt(c, opt, up_usage)) >= 0) {
			return st;
		}
	}
	if (optind != argc || (vni.pool_buffers && vni.mode != MINT_VNI_POOL)) {
		if (optind == argc)
			cli_err("--vni-pool-buffers goes with --vni-buffers pool");
		else
			fputs(up_usage, stderr);
		return EXIT_USAGE;
	}
	/* Below this, nodes come up and every frame between them drops, or
	 * `mint exec` finds no room. */
	uint64_t least = min_size(&vni);
	if (size < least) {
		unsigned long long kib = (least + 1023) >> 10;
		cli_err("size %llu: too small for two VNI nodes and a mint exec in this "
			"configuration (at least %llu KiB: mint up --size %lluK)",
			(unsigned long long)size, kib, kib);
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
	if (make_rundir(c) || (vni.mode && create_vni(c, f, &vni))) {
		mint_fabric_detach(f);
		mint_fabric_destroy(c->fabric);
		rundir_remove(c->fabric);
		return 1;
	}
	printf("fabric %s up: %s, %llu MiB%s\n", c->fabric, mint_fabric_file(f),
	       (unsigned long long)(mint_fabric_size(f) >> 20),
	       vni.mode == MINT_VNI_POOL ? ", VNI buffer pool" : "");
	mint_fabric_detach(f);
	return 0;
}

/* A fabric cut short by some process (its header checks out, its file is
 * shorter than it says) cannot be attached, and its agents stop by
 * themselves when they see it (fabric_guard.c): remove what they leave,
 * found by name, and the file. */
