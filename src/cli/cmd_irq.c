/* SPDX-License-Identifier: MIT */
/* mint irq: interrupts handled per vector and node */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli/cli.h"
#include "mint/endian.h"
#include "mint/dev.h"
#include "mint/nic.h"
#include "mint/vni.h"

static const char irq_usage[] =
	"usage: mint irq [-j]\n"
	"Interrupts handled per vector and node, like /proc/interrupts, each vector\n"
	"labelled (kick, channel, vni, nic, dev; reserved up to 31, user from 32),\n"
	"and each node's doorbell counters.  -j: JSON (the labels in \"vectors\").\n";


struct irq_table {
	uint32_t ids[MINT_MAX_NODES];
	uint32_t n;
	uint64_t counts[MINT_MAX_NODES][MINT_VECTORS];
	struct mint_irq_stats stats[MINT_MAX_NODES];
};

/* What each vector mint raises is for; the others up to MINT_VEC_USER are
 * reserved for mint, those from it on are the applications' (mint ipi). */
static const char *vector_name(uint32_t v)
{
	static const char *const names[] = {
		[MINT_VEC_KICK] = "kick",   [MINT_VEC_CHANNEL] = "channel", [MINT_VEC_VNI] = "vni",
		[MINT_VEC_NIC] = "nic",     [MINT_VEC_DEV] = "dev",
	};
	if (v < sizeof(names) / sizeof(names[0]))
		return names[v];
	return v < MINT_VEC_USER ? "reserved" : "user";
}

/* The doorbell counters shown per node, by name. */
static uint64_t stat_value(const struct mint_irq_stats *st, size_t k)
{
	const uint64_t values[] = {st->ipi_sent, st->wakes_sent, st->wakes_suppressed, st->sleeps,
				   st->spurious};
	return values[k];
}
static const char *const stat_names[] = {"ipi_sent", "wakes_sent", "wakes_suppressed", "sleeps",
					 "spurious"};
#define NCOUNTERS (sizeof(stat_names) / sizeof(stat_names[0]))

/* Has some node handled vector V (a row of the table)? */
static bool vector_shown(const struct irq_table *t, uint32_t v)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->counts[i][v])
			return true;
	return false;
}

static void irq_json(struct mint_fabric *f, const struct irq_table *t)
{
	printf("{\"nodes\":[");
	for (uint32_t i = 0; i < t->n; i++) {
		printf("%s{\"id\":%u,\"handled\":{", i ? "," : "", t->ids[i]);
		const char *sep = "";
		for (uint32_t v = 0; v < MINT_VECTORS; v++)
			if (t->counts[i][v]) {
				printf("%s\"%u\":%" PRIu64, sep, v, t->counts[i][v]);
				sep = ",";
			}
		printf("}");
		for (size_t k = 0; k < NCOUNTERS; k++)
			printf(",\"%s\":%" PRIu64, stat_names[k], stat_value(&t->stats[i], k));
		printf("}");
	}
	/* Each vector of the rows labelled, as in the text. */
	printf("],\"vectors\":{");
	const char *sep = "";
	for (uint32_t v = 0; v < MINT_VECTORS; v++)
		if (vector_shown(t, v)) {
			printf("%s\"%u\":\"%s\"", sep, v, vector_name(v));
			sep = ",";
		}
	printf("},\"external_ipis\":%" PRIu64 "}\n", mint_irq_external(f));
}

static void irq_text(struct mint_fabric *f, const struct irq_table *t)
{
	printf("%4s", "");
	for (uint32_t i = 0; i < t->n; i++) {
		char label[16];
		snprintf(label, sizeof(label), "node%u", t->ids[i]);
		printf(" %13s", label);
	}
	printf("\n");
	for (uint32_t v = 0; v < MINT_VECTORS; v++) {
		if (!vector_shown(t, v))
			continue;
		printf("%3u:", v);
		for (uint32_t i = 0; i < t->n; i++)
			printf(" %13" PRIu64, t->counts[i][v]);
		printf("   %s\n", vector_name(v));
	}
	for (size_t k = 0; k < NCOUNTERS; k++) {
		printf("%4s", "");
		for (uint32_t i = 0; i < t->n; i++)
			printf(" %13" PRIu64, stat_value(&t->stats[i], k));
		printf("   %s\n", stat_names[k]);
	}
	printf("doorbells from tools (not nodes): %" PRIu64 "\n", mint_irq_external(f));
}

int cmd_irq(struct cli *c, int argc, char **argv)
{
	int st = cli_parse_plain(c, argc, argv, irq_usage);
	if (st >= 0)
		return st;
	struct mint_fabric *f;
	if (cli_attach(c, &f))
		return 1;
	static struct irq_table t;
	t.n = 0;
	for (uint32_t id = 0; id < MINT_MAX_NODES; id++) {
		struct mint_node_info info;
		mint_node_info(f, id, &info);
		if (!cli_node_listed(&info))
			continue;
		t.ids[t.n] = id;
		mint_irq_stats(f, id, &t.stats[t.n]);
		mint_irq_counts(f, id, t.counts[t.n++]);
	}
	(c->json ? irq_json : irq_text)(f, &t);
	mint_fabric_detach(f);
	return 0;
}
