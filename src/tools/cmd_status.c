/* SPDX-License-Identifier: MIT */
/* mint status | irq */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "le.h"
#include "mint/vni.h"

static const char status_usage[] =
	"usage: mint status [-j]\n"
	"Show the fabric, its nodes (state, pid, epoch, cores, heartbeat age,\n"
	"namespace), a line per emulated NIC (ring, RDH/RDT, packets, overruns,\n"
	"interrupts) and its objects.  -j: JSON.\n";

static const char irq_usage[] =
	"usage: mint irq [-j]\n"
	"Interrupts handled per vector and node, like /proc/interrupts, and each\n"
	"node's doorbell counters.  -j: JSON.\n";

static const char *mode_name(uint32_t mode)
{
	static const char *names[] = {"poll", "sleep", "adaptive"};
	return mode < 3 ? names[mode] : "?";
}

static const char *state_name(const struct mint_node_info *n)
{
	return n->alive ? "up" : n->state == MINT_NODE_UP ? "dead" : "free";
}

/* Node ID's emulated NIC, if it has one: its ring and counters. */
static void nic_json(struct mint_fabric *f, uint32_t id)
{
	struct mint_nic_stats st;
	if (mint_nic_stats(f, id, &st) != 0)
		return;
	printf(",\"nic\":{\"up\":%s,\"ndesc\":%u,\"buf_size\":%u,\"rdh\":%u,\"rdt\":%u,"
	       "\"icr\":%u,\"ims\":%u,\"itr_ns\":%" PRIu64,
	       st.up ? "true" : "false", st.ndesc, st.buf_size, st.rdh, st.rdt, st.icr, st.ims,
	       st.itr_ns);
	const char *names[] = {"rx_packets", "rx_bytes", "overruns", "irqs", "irqs_masked",
			       "dev_errors", "drv_packets", "drv_bytes", "drv_errors", "drv_bad",
			       "drv_irqs", "drv_drops"};
	const uint64_t v[] = {st.rx_packets, st.rx_bytes, st.overruns, st.irqs, st.irqs_masked,
			      st.dev_errors, st.drv_packets, st.drv_bytes, st.drv_errors, st.drv_bad,
			      st.drv_irqs, st.drv_drops};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
		printf(",\"%s\":%" PRIu64, names[k], v[k]);
	printf("}");
}

/* Node ID's emulated NIC, if it has one, as one line of the text status. */
static void nic_text(struct mint_fabric *f, uint32_t id)
{
	struct mint_nic_stats st;
	if (mint_nic_stats(f, id, &st) != 0)
		return;
	printf("nic.%-3u %-4s ring %ux%u RDH %u RDT %u, packets %" PRIu64 " (driver %" PRIu64
	       "), overruns %" PRIu64 ", irqs %" PRIu64 " (moderated %" PRIu64 "), itr %" PRIu64
	       "ns, errors %" PRIu64 " (driver %" PRIu64 " + %" PRIu64 " bad)\n",
	       id, st.up ? "up" : "down", st.ndesc, st.buf_size, st.rdh, st.rdt, st.rx_packets,
	       st.drv_packets, st.overruns, st.irqs, st.irqs_masked, st.itr_ns, st.dev_errors,
	       st.drv_errors, st.drv_bad);
}

static const char *type_name(uint32_t type)
{
	switch (type) {
	case MINT_OBJ_RAW: return "raw";
	case MINT_OBJ_RING: return "ring";
	case MINT_OBJ_CHANNEL: return "channel";
	case MINT_OBJ_VNI: return "vni";
	case MINT_OBJ_DEVTAB: return "devtab";
	case MINT_OBJ_VNI_POOL: return "vni-pool";
	case MINT_OBJ_NIC: return "nic";
	default: return "unknown";
	}
}

/* Nodes ever started on this fabric (FREE with epoch 0: never). */
static bool listed(const struct mint_node_info *n)
{
	return n->state == MINT_NODE_UP || n->epoch != 0;
}

static void status_json(struct mint_fabric *f, const struct mint_node_info *nodes,
			const struct mint_obj_info *objs, int nobj)
{
	struct mint_fabric_hdr *h = mint_fabric_hdr(f);
	char name[MINT_NAME_MAX];
	memcpy(name, h->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	printf("{\"fabric\":{\"name\":");
	json_str(stdout, name);
	printf(",\"file\":");
	json_str(stdout, mint_fabric_file(f));
	printf(",\"size\":%" PRIu64 ",\"hugetlbfs\":%s,\"version\":%u,\"max_nodes\":%u,"
	       "\"vectors\":%u},\"nodes\":[",
	       mint_fabric_size(f), le32(h->flags) & MINT_FABRIC_HUGETLB ? "true" : "false",
	       MINT_FABRIC_VERSION, MINT_MAX_NODES, MINT_VECTORS);
	const char *sep = "";
	for (uint32_t i = 0; i < MINT_MAX_NODES; i++) {
		const struct mint_node_info *n = &nodes[i];
		if (!listed(n))
			continue;
		char cores[128];
		cli_format_cores(n->cores, cores, sizeof(cores));
		printf("%s{\"id\":%u,\"state\":\"%s\",\"alive\":%s,\"pid\":%d,\"epoch\":%u,\"cores\":\"%s\","
		       "\"arch\":\"%s\",\"mode\":\"%s\",\"heartbeat_age_ms\":%" PRIu64 ",\"name\":",
		       sep, n->id, state_name(n), n->alive ? "true" : "false", n->pid, n->epoch,
		       cores, mint_arch_name(n->arch), mode_name(n->mode), n->heartbeat_age_ns / 1000000);
		json_str(stdout, n->name);
		printf(",\"netns\":");
		if (n->netns[0])
			json_str(stdout, n->netns);
		else
			printf("null");
		struct mint_vni_stats vni;
		if (mint_vni_stats(f, n->id, &vni) == 0 && vni.up) {
			printf(",\"vni\":");
			vni_stats_json(&vni);
		}
		nic_json(f, n->id);
		printf("}");
		sep = ",";
	}
	printf("],\"objects\":[");
	for (int i = 0; i < nobj; i++) {
		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, objs[i].name);
		printf(",\"type\":\"%s\",\"offset\":%" PRIu64 ",\"size\":%" PRIu64 "}",
		       type_name(objs[i].type), objs[i].offset, objs[i].size);
	}
	printf("]}\n");
}

static void status_text(struct mint_fabric *f, const struct mint_node_info *nodes,
			const struct mint_obj_info *objs, int nobj)
{
	const struct mint_fabric_hdr *h = mint_fabric_hdr(f);
	bool huge = le32(h->flags) & MINT_FABRIC_HUGETLB;
	printf("fabric %.31s: %s%s, %" PRIu64 " MiB, layout v%u, %d object%s\n", h->name,
	       mint_fabric_file(f), huge ? " (hugetlbfs)" : "", mint_fabric_size(f) >> 20,
	       MINT_FABRIC_VERSION, nobj, nobj == 1 ? "" : "s");
	printf("%-4s %-5s %-8s %-5s %-8s %-8s %-8s %-9s %-16s %s\n", "NODE", "STATE", "PID",
	       "EPOCH", "CORES", "ARCH", "MODE", "HEARTBEAT", "NETNS", "NAME");
	for (uint32_t i = 0; i < MINT_MAX_NODES; i++) {
		const struct mint_node_info *n = &nodes[i];
		if (!listed(n))
			continue;
		char cores[64], beat[32];
		cli_format_cores(n->cores, cores, sizeof(cores));
		if (n->state != MINT_NODE_UP)
			snprintf(beat, sizeof(beat), "-");
		else if (n->heartbeat_age_ns < 10000000000ull)
			snprintf(beat, sizeof(beat), "%" PRIu64 "ms ago", n->heartbeat_age_ns / 1000000);
		else
			snprintf(beat, sizeof(beat), "%" PRIu64 "s ago", n->heartbeat_age_ns / 1000000000);
		printf("%-4u %-5s %-8d %-5u %-8s %-8s %-8s %-9s %-16s %s\n", n->id, state_name(n),
		       n->pid, n->epoch, cores, mint_arch_name(n->arch), mode_name(n->mode), beat,
		       n->netns[0] ? n->netns : "-", n->name);
	}
	for (uint32_t i = 0; i < MINT_MAX_NODES; i++)
		if (listed(&nodes[i]))
			nic_text(f, i);
	for (int i = 0; i < nobj; i++)
		printf("object %-40s %-8s %8" PRIu64 " bytes at 0x%" PRIx64 "\n", objs[i].name,
		       type_name(objs[i].type), objs[i].size, objs[i].offset);
}

/* Parse the options shared by status and irq; -1 to go on. */
static int parse_plain(struct cli *c, int argc, char **argv, const char *usage)
{
	static const struct option opts[] = {CLI_COMMON_LONGOPTS, {0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1)
		if ((st = cli_common_opt(c, opt, usage)) >= 0)
			return st;
	if (optind != argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	return -1;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	int st = parse_plain(c, argc, argv, status_usage);
	if (st >= 0)
		return st;
	struct mint_fabric *f;
	if (cli_attach(c, &f))
		return 1;
	static struct mint_node_info nodes[MINT_MAX_NODES];
	static struct mint_obj_info objs[MINT_MAX_OBJECTS];
	for (uint32_t i = 0; i < MINT_MAX_NODES; i++)
		mint_node_info(f, i, &nodes[i]);
	int nobj = mint_obj_list(f, objs, MINT_MAX_OBJECTS);
	nobj = nobj > (int)MINT_MAX_OBJECTS ? (int)MINT_MAX_OBJECTS : nobj;
	(c->json ? status_json : status_text)(f, nodes, objs, nobj);
	mint_fabric_detach(f);
	return 0;
}

struct irq_table {
	uint32_t ids[MINT_MAX_NODES];
	uint32_t n;
	uint64_t counts[MINT_MAX_NODES][MINT_VECTORS];
	struct mint_irq_stats stats[MINT_MAX_NODES];
};

static const char *vector_name(uint32_t v)
{
	return v == MINT_VEC_KICK ? "kick" : v == MINT_VEC_CHANNEL ? "channel" : "";
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
	printf("],\"external_ipis\":%" PRIu64 "}\n", mint_irq_external(f));
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
		uint64_t any = 0;
		for (uint32_t i = 0; i < t->n; i++)
			any |= t->counts[i][v];
		if (!any)
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
	int st = parse_plain(c, argc, argv, irq_usage);
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
		if (!listed(&info))
			continue;
		t.ids[t.n] = id;
		mint_irq_stats(f, id, &t.stats[t.n]);
		mint_irq_counts(f, id, t.counts[t.n++]);
	}
	(c->json ? irq_json : irq_text)(f, &t);
	mint_fabric_detach(f);
	return 0;
}
