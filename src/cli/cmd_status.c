/* SPDX-License-Identifier: MIT */
/* mint status: the fabric, its nodes and objects */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli/cli.h"
#include "mint/endian.h"
#include "mint/vni.h"

static const char status_usage[] =
	"usage: mint status [-j]\n"
	"Show the fabric, its nodes (state up, hung, dead or free; pid, epoch,\n"
	"cores, heartbeat age on this host's clock, namespace), a line per emulated\n"
	"NIC (ring, RDH/RDT, packets, overruns, interrupts), a line per QEMU guest\n"
	"node (architecture, kernel, QEMU's pid, its wakes and interrupts), its\n"
	"objects, free space and directory entries.  A guest is hung when its QEMU\n"
	"runs but its agent's heartbeat has not moved for 3 s.\n"
	"-j: JSON.\n";

static const char *mode_name(uint32_t mode)
{
	static const char *names[] = {"poll", "sleep", "adaptive"};
	return mode < 3 ? names[mode] : "?";
}

static const char *state_name(const struct mint_node_info *n)
{
	return n->hung ? "hung" : n->alive ? "up" : n->state == MINT_NODE_UP ? "dead" : "free";
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

/* Node ID's guest part, if it is a QEMU guest: kind, kernel, QEMU. */
static void guest_json(struct mint_fabric *f, uint32_t id)
{
	struct mint_guest_info g;
	bool guest = mint_guest_info(f, id, &g) == 0 && g.guest;
	printf(",\"kind\":\"%s\"", guest ? "guest" : "process");
	if (!guest)
		return;
	printf(",\"guest\":{\"arch\":\"%s\",\"kernel\":", mint_arch_name(g.arch));
	json_str(stdout, g.kernel);
	printf(",\"qemu_pid\":%d,\"wakes\":%" PRIu64 ",\"wakes_bad\":%" PRIu64
	       ",\"wakes_dropped\":%" PRIu64 ",\"irqs\":%" PRIu64 "}",
	       g.qemu_pid, g.wakes_done, g.wakes_bad, g.wake_full, g.irqs_sent);
}

static void guest_text(struct mint_fabric *f, uint32_t id)
{
	struct mint_guest_info g;
	if (mint_guest_info(f, id, &g) != 0 || !g.guest)
		return;
	char kernel[TEXT_SAFE_CAP(sizeof(g.kernel))];
	printf("guest.%-2u %s, kernel %s, QEMU pid %d, wakes %" PRIu64 " (bad %" PRIu64
	       ", dropped %" PRIu64 "), irqs %" PRIu64 "\n",
	       id, mint_arch_name(g.arch), g.kernel[0] ? text_safe(g.kernel, kernel, sizeof(kernel)) : "-",
	       g.qemu_pid, g.wakes_done, g.wakes_bad, g.wake_full, g.irqs_sent);
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

/* The name in F's header, as a string (it is the file's: maybe garbage). */
static void header_name(struct mint_fabric *f, char name[MINT_NAME_MAX])
{
	memcpy(name, mint_fabric_hdr(f)->name, MINT_NAME_MAX);
	name[MINT_NAME_MAX - 1] = '\0';
}

/* Nodes ever started on this fabric (FREE with epoch 0: never). */
static void status_json(struct mint_fabric *f, const struct mint_node_info *nodes,
			const struct mint_obj_info *objs, int nobj)
{
	struct mint_fabric_hdr *h = mint_fabric_hdr(f);
	char name[MINT_NAME_MAX];
	header_name(f, name);
	printf("{\"fabric\":{\"name\":");
	json_str(stdout, name);
	printf(",\"file\":");
	json_str(stdout, mint_fabric_file(f));
	struct mint_obj_usage u;
	mint_obj_usage(f, &u);
	printf(",\"size\":%" PRIu64 ",\"hugetlbfs\":%s,\"version\":%u,\"max_nodes\":%u,"
	       "\"vectors\":%u,\"heap\":%" PRIu64 ",\"free\":%" PRIu64 ",\"largest_free\":%" PRIu64
	       ",\"entries\":%u,\"max_entries\":%u,\"reclaimed\":%u},\"nodes\":[",
	       mint_fabric_size(f), mint_le32(h->flags) & MINT_FABRIC_HUGETLB ? "true" : "false",
	       MINT_FABRIC_VERSION, MINT_MAX_NODES, MINT_VECTORS, u.heap_bytes, u.free_bytes,
	       u.largest_free, u.entries, u.max_entries, mint_le32(h->dir_reclaims));
	const char *sep = "";
	for (uint32_t i = 0; i < MINT_MAX_NODES; i++) {
		const struct mint_node_info *n = &nodes[i];
		if (!cli_node_listed(n))
			continue;
		char cores[128];
		format_cores(n->cores, cores, sizeof(cores));
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
		guest_json(f, n->id);
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
	bool huge = mint_le32(h->flags) & MINT_FABRIC_HUGETLB;
	char name[MINT_NAME_MAX], safe[TEXT_SAFE_CAP(MINT_OBJ_NAME_MAX)], safe2[sizeof(safe)];
	header_name(f, name);
	printf("fabric %s: %s%s, %" PRIu64 " MiB, layout v%u, %d object%s\n",
	       text_safe(name, safe, sizeof(safe)), mint_fabric_file(f), huge ? " (hugetlbfs)" : "",
	       mint_fabric_size(f) >> 20,
	       MINT_FABRIC_VERSION, nobj, nobj == 1 ? "" : "s");
	struct mint_obj_usage u;
	mint_obj_usage(f, &u);
	uint32_t reclaimed = mint_le32(h->dir_reclaims);
	printf("space: %" PRIu64 " KiB free of %" PRIu64 " KiB (largest gap %" PRIu64
	       " KiB); directory: %u of %u entries%s", u.free_bytes >> 10, u.heap_bytes >> 10,
	       u.largest_free >> 10, u.entries, u.max_entries,
	       u.entries == u.max_entries ? " (full)" : "");
	if (reclaimed)
		printf(", %u of dead processes reclaimed", reclaimed);
	printf("\n");
	printf("%-4s %-5s %-8s %-5s %-8s %-8s %-8s %-9s %-16s %s\n", "NODE", "STATE", "PID",
	       "EPOCH", "CORES", "ARCH", "MODE", "HEARTBEAT", "NETNS", "NAME");
	for (uint32_t i = 0; i < MINT_MAX_NODES; i++) {
		const struct mint_node_info *n = &nodes[i];
		if (!cli_node_listed(n))
			continue;
		char cores[64], beat[32];
		format_cores(n->cores, cores, sizeof(cores));
		if (n->state != MINT_NODE_UP)
			snprintf(beat, sizeof(beat), "-");
		else if (n->heartbeat_age_ns < 10000000000ull)
			snprintf(beat, sizeof(beat), "%" PRIu64 "ms ago", n->heartbeat_age_ns / 1000000);
		else
			snprintf(beat, sizeof(beat), "%" PRIu64 "s ago", n->heartbeat_age_ns / 1000000000);
		printf("%-4u %-5s %-8d %-5u %-8s %-8s %-8s %-9s %-16s %s\n", n->id, state_name(n),
		       n->pid, n->epoch, cores, mint_arch_name(n->arch), mode_name(n->mode), beat,
		       n->netns[0] ? text_safe(n->netns, safe, sizeof(safe)) : "-",
		       text_safe(n->name, safe2, sizeof(safe2)));
	}
	for (uint32_t i = 0; i < MINT_MAX_NODES; i++)
		if (cli_node_listed(&nodes[i])) {
			nic_text(f, i);
			guest_text(f, i);
		}
	for (int i = 0; i < nobj; i++)
		printf("object %-40s %-8s %8" PRIu64 " bytes at 0x%" PRIx64 "\n",
		       text_safe(objs[i].name, safe, sizeof(safe)), type_name(objs[i].type),
		       objs[i].size, objs[i].offset);
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	int st = cli_parse_plain(c, argc, argv, status_usage);
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
