/* SPDX-License-Identifier: MIT */
/* mint dev list | attach | detach | move | raise: the device table. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/hostif.h"

static const char dev_usage[] =
	"usage: mint dev list [-j]\n"
	"       mint dev attach IFNAME --to ID\n"
	"       mint dev detach DEV\n"
	"       mint dev move DEV --to ID\n"
	"       mint dev raise DEV [--count N]\n"
	"The device table: every interrupt source, its owner node, vector, state\n"
	"and counters.  attach gives host interface IFNAME (a veth end, a dummy, a\n"
	"physical NIC) to node ID, moving it into the node's network namespace;\n"
	"detach gives device DEV (a name or an id) back to the host; move hands it\n"
	"to node ID with no interrupt lost or handled twice; raise raises its\n"
	"interrupt N times (default 1).\n";

static const char *type_name(uint32_t t)
{
	return t == MINT_DEV_VNI ? "vni" : t == MINT_DEV_NIC ? "nic" : t == MINT_DEV_HOSTIF ? "hostif" : "?";
}

static const char *state_name(const struct mint_dev_info *d)
{
	if (d->moving)
		return "moving";
	return d->state == MINT_DEV_ATTACHED ? "attached"
	       : d->state == MINT_DEV_DETACHED ? "detached"
	       : d->state == MINT_DEV_ORPHANED ? "orphaned"
					       : "?";
}

static void owner_text(uint32_t owner, char *buf, size_t cap)
{
	if (owner == MINT_NODE_NONE)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%u", owner);
}

static void list_text(const struct mint_dev_info *d, int n)
{
	printf("%-3s %-16s %-7s %-6s %-9s %-4s %-6s %-4s %10s %10s %8s %10s\n", "ID", "NAME", "TYPE",
	       "OWNER", "STATE", "LINK", "VECTOR", "MASK", "RAISED", "HANDLED", "PENDING",
	       "AT_UNMASK");
	for (int i = 0; i < n; i++) {
		char owner[16];
		owner_text(d[i].owner, owner, sizeof(owner));
		printf("%-3u %-16s %-7s %-6s %-9s %-4s %-6u %-4s %10" PRIu64 " %10" PRIu64 " %8" PRIu64
		       " %10" PRIu64 "\n",
		       d[i].id, d[i].name, type_name(d[i].type), owner, state_name(&d[i]),
		       d[i].link == MINT_DEV_LINK_UP ? "up" : "down", d[i].vector,
		       d[i].masked ? "yes" : "no", d[i].raised, d[i].handled, d[i].pending,
		       d[i].pending_delivered);
	}
}

static void list_json(const struct mint_dev_info *d, int n)
{
	printf("{\"devices\":[");
	for (int i = 0; i < n; i++) {
		printf("%s{\"id\":%u,\"name\":", i ? "," : "", d[i].id);
		json_str(stdout, d[i].name);
		printf(",\"type\":\"%s\",\"owner\":", type_name(d[i].type));
		if (d[i].owner == MINT_NODE_NONE)
			printf("null");
		else
			printf("%u", d[i].owner);
		printf(",\"state\":\"%s\",\"link\":\"%s\",\"vector\":%u,\"masked\":%s,\"ifindex\":%u,"
		       "\"raised\":%" PRIu64 ",\"handled\":%" PRIu64 ",\"pending\":%" PRIu64
		       ",\"delivered\":%" PRIu64 ",\"masked_raises\":%" PRIu64
		       ",\"pending_delivered\":%" PRIu64 ",\"doorbells\":%" PRIu64 "}",
		       state_name(&d[i]), d[i].link == MINT_DEV_LINK_UP ? "up" : "down", d[i].vector,
		       d[i].masked ? "true" : "false", d[i].ifindex, d[i].raised, d[i].handled,
		       d[i].pending, d[i].delivered, d[i].masked_raises, d[i].pending_delivered,
		       d[i].doorbells);
	}
	printf("]}\n");
}

static int dev_list(struct cli *c, struct mint_fabric *f)
{
	struct mint_dev_info devs[MINT_DEV_MAX];
	int n = mint_dev_list(f, devs, MINT_DEV_MAX);
	if (n < 0) {
		cli_err("device table: %s", mint_strerror(n));
		return 1;
	}
	(c->json ? list_json : list_text)(devs, n);
	return 0;
}

/* DEV as a name, else as an id; prints the error. */
static int resolve(struct mint_fabric *f, const char *dev, struct mint_dev_info *info)
{
	int id = mint_dev_find(f, dev);
	uint32_t num;
	if (id < 0 && cli_parse_u32(dev, MINT_DEV_MAX - 1, &num) == 0)
		id = (int)num;
	if (id < 0 || mint_dev_info(f, (uint32_t)id, info) != 0) {
		cli_err("device %s: no such device", dev);
		return -ENODEV;
	}
	return 0;
}

/* The error line of a failed table operation on device D. */
static void dev_error(const struct mint_dev_info *d, uint32_t to, int rc)
{
	switch (-rc) {
	case ENODEV: cli_err("device %s: no such device", d->name); break;
	case ERANGE: cli_err("node %u: no such node", to); break;
	case EHOSTDOWN: cli_err("node %u: not running", to); break;
	case EBUSY: cli_err("device %s: another process is moving it", d->name); break;
	case EPERM: cli_err("device %s: a VNI port or NIC ring stays with its node", d->name); break;
	case EALREADY: cli_err("device %s: already on node %u", d->name, to); break;
	case ETIMEDOUT:
		cli_err("device %s: node %u's handler did not finish (nothing moved)", d->name, d->owner);
		break;
	default: cli_err("device %s: %s", d->name, mint_strerror(rc)); break;
	}
}

/* The network namespace of node ID, or NULL (printing why). */
static const char *node_netns(struct mint_fabric *f, uint32_t id, struct mint_node_info *n)
{
	if (mint_node_info(f, id, n) != 0 || !n->netns[0]) {
		cli_err("node %u: has no network namespace of its own (start it with --netns)", id);
		return NULL;
	}
	return n->netns;
}

static int move_hostif(const char *ifname, const char *from, const char *to, uint32_t *ifindex,
		       bool *up)
{
	const char *what;
	int rc = hostif_move(ifname, from, to, ifindex, up, &what);
	if (rc)
		cli_err("interface %s: %s: %s", ifname, what, mint_strerror(rc));
	return rc;
}

/* After a hand-over: IFNAME's hardware interrupts (if it has any) follow
 * to node N's cores.  The device is handed over even if they cannot: that
 * is said on stderr, as a warning. */
static void point_irqs(const char *ifname, const char *ns, const struct mint_node_info *n)
{
	struct hostif_irq_result r;
	int rc = hostif_irq_affinity(ifname, ns, n->cores, &r);
	if (rc < 0)
		cli_err("device %s: its hardware interrupts cannot be looked up: %s", ifname,
			mint_strerror(rc));
	else if (r.error)
		cli_err("device %s: %d of its %d hardware interrupts stay where they were: %s",
			ifname, r.found - r.pointed, r.found, mint_strerror(r.error));
	if (r.pointed > 0)
		printf("device %s: %d hardware interrupt%s pointed at node %u's cores\n", ifname,
		       r.pointed, r.pointed == 1 ? "" : "s", n->id);
}

static int dev_attach(struct mint_fabric *f, const char *ifname, uint32_t to)
{
	struct mint_node_info n;
	struct mint_dev_info d;
	if (!mint_node_alive(f, to)) {
		cli_err("node %u: not running", to);
		return 1;
	}
	int id = mint_dev_find(f, ifname);
	if (id >= 0 && mint_dev_info(f, (uint32_t)id, &d) == 0 && d.state != MINT_DEV_DETACHED) {
		cli_err("device %s: already given to node %u (use move)", ifname, d.owner);
		return 1;
	}
	const char *ns = node_netns(f, to, &n);
	if (!ns)
		return 1;
	if (hostif_exists(ifname, NULL) != 0) {
		cli_err("interface %s: not in the host's network namespace", ifname);
		return 1;
	}
	uint32_t ifindex = 0;
	bool up = false;
	if (move_hostif(ifname, NULL, ns, &ifindex, &up))
		return 1;
	id = mint_dev_register(f, MINT_DEV_HOSTIF, ifname, to, MINT_VEC_DEV);
	int rc = id < 0 ? id : mint_dev_set_link(f, (uint32_t)id, up, ifindex);
	if (rc < 0) {
		cli_err("device %s: %s (the interface stays in node %u's namespace)", ifname,
			mint_strerror(rc), to);
		return 1;
	}
	printf("device %s: attached to node %u (ifindex %u, link %s)\n", ifname, to, ifindex,
	       up ? "up" : "down");
	point_irqs(ifname, ns, &n);
	return 0;
}

/* Where a host interface owned by OWNER is: its namespace, or the host's
 * when the node's namespace is gone (the node stopped). */
static const char *hostif_home(struct mint_fabric *f, const char *ifname, uint32_t owner,
			       char *buf, size_t cap)
{
	if (owner == MINT_NODE_NONE)
		return NULL;
	netns_node_name(f, owner, buf, cap);
	return hostif_exists(ifname, buf) == 0 ? buf : NULL;
}

static int dev_detach(struct mint_fabric *f, const char *dev)
{
	struct mint_dev_info d;
	if (resolve(f, dev, &d))
		return 1;
	if (d.state == MINT_DEV_DETACHED) {
		cli_err("device %s: already detached", d.name);
		return 1;
	}
	int rc = mint_dev_detach(f, d.id);
	if (rc) {
		dev_error(&d, d.owner, rc);
		return 1;
	}
	char buf[MINT_NAME_MAX + 16];
	const char *from = d.type == MINT_DEV_HOSTIF ? hostif_home(f, d.name, d.owner, buf, sizeof(buf)) : NULL;
	uint32_t ifindex = 0;
	bool up = false;
	if (from && move_hostif(d.name, from, NULL, &ifindex, &up))
		return 1;
	if (d.type == MINT_DEV_HOSTIF)
		mint_dev_set_link(f, d.id, up, ifindex);
	printf("device %s: detached from node %u\n", d.name, d.owner);
	return 0;
}

/* The middle of a move: a host interface follows to the new namespace,
 * its hardware interrupts to the new owner's cores. */
static int move_between(struct mint_fabric *f, const struct mint_dev_info *d, uint32_t to)
{
	if (d->type != MINT_DEV_HOSTIF)
		return 0;
	struct mint_node_info n;
	const char *ns = node_netns(f, to, &n);
	if (!ns)
		return -ENOTSUP;
	char buf[MINT_NAME_MAX + 16];
	const char *from = hostif_home(f, d->name, d->owner, buf, sizeof(buf));
	uint32_t ifindex = 0;
	bool up = false;
	int rc = move_hostif(d->name, from, ns, &ifindex, &up);
	if (rc)
		return rc;
	point_irqs(d->name, ns, &n);
	struct mint_dev_info now;
	if (mint_dev_info(f, d->id, &now) == 0 && (now.link == MINT_DEV_LINK_UP) != up)
		mint_dev_set_link(f, d->id, up, ifindex);
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int dev_move(struct mint_fabric *f, const char *dev, uint32_t to)
{
	struct mint_dev_info d;
	if (resolve(f, dev, &d))
		return 1;
	uint64_t t0 = now_ns();
	int rc = mint_dev_move_begin(f, d.id, to);
	if (rc) {
		dev_error(&d, to, rc);
		return 1;
	}
	if (move_between(f, &d, to) != 0) {
		mint_dev_move_abort(f, d.id);
		return 1;
	}
	if ((rc = mint_dev_move_finish(f, d.id)) != 0) {
		dev_error(&d, to, rc);
		return 1;
	}
	char from[16];
	owner_text(d.owner, from, sizeof(from));
	printf("device %s: node %s -> node %u (masked %.1f us)\n", d.name, from, to,
	       (double)(now_ns() - t0) / 1000.0);
	return 0;
}

static int dev_raise(struct mint_fabric *f, const char *dev, uint32_t count)
{
	struct mint_dev_info d;
	if (resolve(f, dev, &d))
		return 1;
	uint32_t rang = 0;
	for (uint32_t i = 0; i < count; i++) {
		int rc = mint_dev_raise(f, d.id);
		if (rc < 0) {
			dev_error(&d, d.owner, rc);
			return 1;
		}
		rang += (uint32_t)rc;
	}
	printf("device %s: raised %u time%s (%u delivered, %u pending while masked)\n", d.name,
	       count, count == 1 ? "" : "s", rang, count - rang);
	return 0;
}

/* Options of every dev subcommand: --to ID, --count N, and the common ones. */
struct dev_args {
	uint32_t to, count;
	bool have_to;
};

static int parse(struct cli *c, int argc, char **argv, struct dev_args *a)
{
	static const struct option opts[] = {{"to", required_argument, NULL, 't'},
					     {"count", required_argument, NULL, 'n'},
					     CLI_COMMON_LONGOPTS, {0}};
	int opt, st;
	a->count = 1;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "t:n:", opts, NULL)) != -1) {
		if (opt == 't') {
			if (cli_parse_node(optarg, &a->to))
				return EXIT_USAGE;
			a->have_to = true;
		} else if (opt == 'n') {
			if (cli_parse_u32(optarg, 100000000, &a->count) || a->count == 0) {
				cli_err("count %s: not a number from 1 to 100000000", optarg);
				return EXIT_USAGE;
			}
		} else if ((st = cli_common_opt(c, opt, dev_usage)) >= 0) {
			return st;
		}
	}
	return -1;
}

/* What each subcommand needs: positional arguments and --to. */
static const struct {
	const char *name;
	int args;
	bool needs_to;
	const char *synopsis; /* its line of dev_usage, for a usage error */
} subs[] = {{"list", 0, false, "mint dev list [-j]"},
	    {"attach", 1, true, "mint dev attach IFNAME --to ID"},
	    {"detach", 1, false, "mint dev detach DEV"},
	    {"move", 1, true, "mint dev move DEV --to ID"},
	    {"raise", 1, false, "mint dev raise DEV [--count N]"}};

static int run(struct cli *c, struct mint_fabric *f, const char *sub, char *arg,
	       const struct dev_args *a)
{
	if (strcmp(sub, "list") == 0)
		return dev_list(c, f);
	if (strcmp(sub, "attach") == 0)
		return dev_attach(f, arg, a->to);
	if (strcmp(sub, "detach") == 0)
		return dev_detach(f, arg);
	if (strcmp(sub, "move") == 0)
		return dev_move(f, arg, a->to);
	return dev_raise(f, arg, a->count);
}

int cmd_dev(struct cli *c, int argc, char **argv)
{
	int sub = -1;
	for (size_t i = 0; argc >= 2 && i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			sub = (int)i;
	if (sub < 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			fputs(dev_usage, stdout);
			return 0;
		}
		cli_err("dev%s%s: unknown command (use list, attach, detach, move or raise)",
			argc >= 2 ? " " : "", argc >= 2 ? argv[1] : "");
		return EXIT_USAGE;
	}
	argv[1] = "mint"; /* getopt names its complaints after argv[0] */
	struct dev_args a = {0};
	int st = parse(c, argc - 1, argv + 1, &a);
	if (st >= 0)
		return st;
	if (argc - 1 - optind != subs[sub].args || (subs[sub].needs_to && !a.have_to)) {
		cli_err("usage: %s", subs[sub].synopsis);
		return EXIT_USAGE;
	}
	struct mint_fabric *f;
	if (cli_attach(c, &f))
		return 1;
	st = run(c, f, subs[sub].name, subs[sub].args ? argv[1 + optind] : NULL, &a);
	mint_fabric_detach(f);
	return st;
}
