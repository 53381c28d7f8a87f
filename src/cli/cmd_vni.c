/* SPDX-License-Identifier: MIT */
/* mint vni stats */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli/cli.h"
#include "mint/vni.h"

static const char vni_usage[] =
	"usage: mint vni stats [-j]\n"
	"Each VNI port: state, MAC, address, frames and bytes each way, drops by\n"
	"reason (tx_drop_pool: pool mode found no free buffer), the doorbells its\n"
	"frames raised or found unneeded, and in pool mode the buffer references it\n"
	"took back from dead nodes.  -j: JSON.\n";

/* The counters, by name, in the order they are shown. */
static const char *const counter_names[] = {
	"tx_packets", "tx_bytes", "tx_drop_queue", "tx_drop_full", "tx_drop_unknown", "tx_drop_down",
	"tx_drop_error", "tx_irqs", "tx_irqs_suppressed", "rx_packets", "rx_bytes",
	"rx_errors", "rx_drop_host", "rx_polls", "tx_drop_pool", "pool_reclaimed", "pool_errors",
};
#define NCOUNTERS (sizeof(counter_names) / sizeof(counter_names[0]))

static void counter_values(const struct mint_vni_stats *st, uint64_t v[NCOUNTERS])
{
	const uint64_t all[NCOUNTERS] = {
		st->tx_packets,    st->tx_bytes,   st->tx_drop_queue,      st->tx_drop_full,
		st->tx_drop_unknown,
		st->tx_drop_down,  st->tx_drop_error, st->tx_irqs,         st->tx_irqs_suppressed,
		st->rx_packets,    st->rx_bytes,   st->rx_errors,          st->rx_drop_host,
		st->rx_polls,      st->tx_drop_pool, st->pool_reclaimed,    st->pool_errors,
	};
	memcpy(v, all, sizeof(all));
}

void vni_stats_json(const struct mint_vni_stats *st)
{
	char addr[INET_ADDRSTRLEN] = "";
	inet_ntop(AF_INET, st->ipv4, addr, sizeof(addr));
	printf("{\"up\":%s,\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"ipv4\":\"%s/%u\"",
	       st->up ? "true" : "false", st->mac[0], st->mac[1], st->mac[2], st->mac[3],
	       st->mac[4], st->mac[5], addr, st->prefix_len);
	uint64_t v[NCOUNTERS];
	counter_values(st, v);
	for (size_t k = 0; k < NCOUNTERS; k++)
		printf(",\"%s\":%" PRIu64, counter_names[k], v[k]);
	printf("}");
}

static void stats_text(const uint32_t *ids, const struct mint_vni_stats *st, uint32_t n)
{
	printf("%-20s", "");
	for (uint32_t i = 0; i < n; i++) {
		char label[16];
		snprintf(label, sizeof(label), "node%u", ids[i]);
		printf(" %17s", label);
	}
	printf("\n%-20s", "state");
	for (uint32_t i = 0; i < n; i++)
		printf(" %17s", st[i].up ? "up" : "down");
	printf("\n%-20s", "mac");
	for (uint32_t i = 0; i < n; i++)
		printf(" %02x:%02x:%02x:%02x:%02x:%02x", st[i].mac[0], st[i].mac[1], st[i].mac[2],
		       st[i].mac[3], st[i].mac[4], st[i].mac[5]);
	printf("\n");
	for (size_t k = 0; k < NCOUNTERS; k++) {
		printf("%-20s", counter_names[k]);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t v[NCOUNTERS];
			counter_values(&st[i], v);
			printf(" %17" PRIu64, v[k]);
		}
		printf("\n");
	}
}

static int vni_stats(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_LONGOPTS, {0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1)
		if ((st = cli_common_opt(c, opt, vni_usage)) >= 0)
			return st;
	struct mint_fabric *f;
	if (cli_attach(c, &f))
		return 1;
	uint32_t ids[MINT_VNI_MAX_PORTS], n = 0;
	struct mint_vni_stats stats[MINT_VNI_MAX_PORTS];
	int rc = 0;
	for (uint32_t id = 0; id < MINT_VNI_MAX_PORTS && rc != -ENOENT; id++) {
		rc = mint_vni_stats(f, id, &stats[n]);
		if (rc == 0 && (stats[n].up || stats[n].tx_packets || stats[n].rx_packets))
			ids[n++] = id;
	}
	mint_fabric_detach(f);
	if (rc == -ENOENT) {
		cli_err("fabric %s: no VNI (start a node with --vni)", c->fabric);
		return 1;
	}
	if (!c->json) {
		stats_text(ids, stats, n);
		return 0;
	}
	printf("{\"ports\":[");
	for (uint32_t i = 0; i < n; i++) {
		printf("%s{\"node\":%u,\"vni\":", i ? "," : "", ids[i]);
		vni_stats_json(&stats[i]);
		printf("}");
	}
	printf("]}\n");
	return 0;
}

int cmd_vni(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "stats") == 0) {
		argv[1] = "mint"; /* getopt names its complaints after argv[0] */
		return vni_stats(c, argc - 1, argv + 1);
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(vni_usage, stdout);
		return 0;
	}
	fputs(vni_usage, stderr);
	return EXIT_USAGE;
}
