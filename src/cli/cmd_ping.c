/* SPDX-License-Identifier: MIT */
/* mint ping: round trips through a fabric channel */
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

static const char ping_usage[] =
	"usage: mint ping ID [--from SRC] [-c COUNT] [-s SIZE] [-i SECONDS] [-W SECONDS]\n"
	"Round trips to node ID's echo service over a fabric channel.  With\n"
	"--from, node SRC's agent pings ID and reports back (node to node).\n"
	"Defaults: -c 4, -s 64 bytes (16-65536), -i 0.2 s, -W 1 s per reply.\n";


static volatile sig_atomic_t interrupted;
static void on_interrupt(int sig) { (void)sig; interrupted = 1; }

struct ping_stats {
	bool json;
	uint32_t dst, size, sent, received;
	uint64_t min, max, sum;
	const char *sep;
};

static void print_reply(void *arg, const struct mint_ping_result *r)
{
	struct ping_stats *s = arg;
	s->sent++;
	if (r->status == 0) {
		s->received++;
		s->sum += r->rtt_ns;
		s->min = s->min < r->rtt_ns ? s->min : r->rtt_ns;
		s->max = s->max > r->rtt_ns ? s->max : r->rtt_ns;
	}
	if (s->json) {
		printf("%s{\"seq\":%u,\"ok\":%s,\"rtt_ns\":%" PRIu64 "}", s->sep, r->seq,
		       r->status == 0 ? "true" : "false", r->status == 0 ? r->rtt_ns : 0);
		s->sep = ",";
	} else if (r->status == 0) {
		printf("%u bytes from node %u: seq=%u time=%.1f us\n", s->size, s->dst, r->seq,
		       (double)r->rtt_ns / 1000.0);
	} else {
		printf("no reply from node %u: seq=%u\n", s->dst, r->seq);
	}
	fflush(stdout);
}

static void print_summary(const struct ping_stats *s)
{
	double avg = s->received ? (double)s->sum / s->received / 1000.0 : 0;
	double min = s->received ? (double)s->min / 1000.0 : 0, max = (double)s->max / 1000.0;
	if (s->json) {
		printf("],\"sent\":%u,\"received\":%u,\"min_us\":%.1f,\"avg_us\":%.1f,\"max_us\":%.1f}\n",
		       s->sent, s->received, min, avg, max);
		return;
	}
	printf("--- node %u ping: %u sent, %u received, %.0f%% lost", s->dst, s->sent, s->received,
	       s->sent ? 100.0 * (s->sent - s->received) / s->sent : 0.0);
	if (s->received)
		printf(", rtt min/avg/max %.1f/%.1f/%.1f us", min, avg, max);
	printf("\n");
}

/* --from SRC: ask SRC's agent to ping DST over a control channel. */
static int ping_via(struct mint_fabric *f, uint32_t src, const struct ping_opts *o,
		    struct ping_stats *stats)
{
	char chan[MINT_OBJ_NAME_MAX];
	snprintf(chan, sizeof(chan), MINT_CTL_PREFIX "%d", (int)getpid());
	struct mint_channel ch;
	int rc = mint_channel_open(f, chan, MINT_NODE_NONE, src, 64 * 1024, MINT_SIDE_A, &ch);
	if (rc < 0)
		return rc;
	struct mint_ctl_ping req = {mint_le32(stats->dst), mint_le32(o->count), mint_le32(o->size), mint_le32(o->timeout_ms),
			       mint_le64(o->interval_ns)};
	rc = mint_ring_send(&ch.tx, &req, sizeof(req), MINT_CTL_PING);
	while (rc == 0 && !interrupted) {
		struct mint_ping_result r;
		uint32_t type;
		int n = mint_ring_recv_wait(&ch.rx, &r, sizeof(r), &type, 200);
		if (n == -ETIMEDOUT || n == -EINTR) {
			rc = mint_node_alive(f, src) ? 0 : -EHOSTDOWN;
			continue;
		}
		if (n != (int)sizeof(r)) {
			rc = n < 0 ? n : -EBADMSG;
			break;
		}
		struct mint_ping_result host = {mint_le32(r.seq), (int32_t)mint_le32((uint32_t)r.status), mint_le64(r.rtt_ns)};
		if (type == MINT_CTL_DONE) {
			rc = (int32_t)host.seq;
			break;
		}
		print_reply(stats, &host);
	}
	mint_channel_remove(f, chan);
	return rc;
}

/* Parse ping's options into O; -1 to go on, or an exit status. */
static int parse_ping(struct cli *c, int argc, char **argv, struct ping_opts *o, const char **from)
{
	static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
					     {"count", required_argument, NULL, 'c'},
					     {"size", required_argument, NULL, 's'},
					     {"interval", required_argument, NULL, 'i'},
					     {"timeout", required_argument, NULL, 'W'},
					     CLI_COMMON_LONGOPTS, {0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "c:s:i:W:", opts, NULL)) != -1) {
		double secs;
		char *end;
		switch (opt) {
		case 'f': *from = optarg; break;
		case 'c':
			if (cli_parse_u32(optarg, 10000000, &o->count) || !o->count) {
				cli_err("count %s: not a number from 1 to 10000000", optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			if (cli_parse_u32(optarg, MINT_PING_MAX_SIZE, &o->size) || o->size < 16) {
				cli_err("size %s: not a size from 16 to %u", optarg, MINT_PING_MAX_SIZE);
				return EXIT_USAGE;
			}
			break;
		case 'i':
		case 'W':
			secs = strtod(optarg, &end);
			if (*end || !(secs >= 0 && secs <= 3600) || (opt == 'W' && secs < 0.001)) {
				cli_err("%s: not a time in seconds", optarg);
				return EXIT_USAGE;
			}
			if (opt == 'i')
				o->interval_ns = (uint64_t)(secs * 1e9);
			else
				o->timeout_ms = (uint32_t)(secs * 1e3);
			break;
		default:
			if ((st = cli_common_opt(c, opt, ping_usage)) >= 0)
				return st;
		}
	}
	return -1;
}

int cmd_ping(struct cli *c, int argc, char **argv)
{
	struct ping_opts o = {4, 64, 200000000ull, 1000};
	const char *from = NULL;
	int st = parse_ping(c, argc, argv, &o, &from);
	if (st >= 0)
		return st;
	uint32_t dst, src = MINT_NODE_NONE;
	if (optind + 1 != argc) {
		fputs(ping_usage, stderr);
		return EXIT_USAGE;
	}
	if (cli_parse_node(argv[optind], &dst) || (from && cli_parse_node(from, &src)))
		return EXIT_USAGE;
	struct mint_fabric *f;
	if (cli_attach(c, &f))
		return 1;
	if (cli_require_alive(f, dst) || (from && cli_require_alive(f, src))) {
		mint_fabric_detach(f);
		return 1;
	}
	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	struct ping_stats stats = {c->json, dst, o.size, 0, 0, UINT64_MAX, 0, 0, ""};
	if (c->json)
		printf("{\"from\":%d,\"to\":%u,\"size\":%u,\"replies\":[", from ? (int)src : -1, dst, o.size);
	else
		printf("PING node %u%s%s: %u bytes over the fabric\n", dst, from ? " from node " : "",
		       from ? from : "", o.size);
	char chan[MINT_OBJ_NAME_MAX];
	snprintf(chan, sizeof(chan), MINT_ECHO_PREFIX "%d", (int)getpid());
	int rc = from ? ping_via(f, src, &o, &stats)
		      : ping_run(f, chan, MINT_NODE_NONE, dst, &o, print_reply, &stats, &interrupted);
	print_summary(&stats);
	if (rc == -EHOSTDOWN)
		cli_err("node %u: died during the ping", from && !mint_node_alive(f, src) ? src : dst);
	else if (rc < 0)
		cli_obj_err(c, "ping", rc);
	mint_fabric_detach(f);
	return rc < 0 || stats.received < stats.sent || stats.sent == 0 ? 1 : 0;
}
