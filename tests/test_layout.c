/* SPDX-License-Identifier: MIT */
/*
 * docs/layout.md against include/mint/layout.h and proto.h: every row of every struct
 * table has the real offset and size; every field of every struct is in
 * the doc, once; the rows tile each struct with no gap or overlap; the
 * struct sizes in the headings and the constants table are right.  And,
 * so that this test's own field table cannot drift either, the struct
 * definitions in layout.h are parsed and compared with that table.
 *
 * Files are found under $MINT_SRCDIR, else the current directory (the
 * runner runs from the repository root), else relative to this binary.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>

#include "mint/dev.h"
#include "mint/nic.h"
#include "mint/proto.h"
#include "mint/vni.h"
#include "testlib.h"

/* ---- what the real structs say ---- */

struct field {
	const char *st, *name;
	size_t off, size;
	int seen; /* rows in the doc */
};

#define F(s, f) {#s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f), 0}

static struct field fields[] = {
	F(mint_bell, sleeping), F(mint_bell, seq),

	F(mint_lock, owner), F(mint_lock, recoveries), F(mint_lock, flags), F(mint_lock, pad),

	F(mint_fabric_hdr, magic), F(mint_fabric_hdr, version), F(mint_fabric_hdr, header_size),
	F(mint_fabric_hdr, size), F(mint_fabric_hdr, max_nodes), F(mint_fabric_hdr, max_vectors),
	F(mint_fabric_hdr, max_objects), F(mint_fabric_hdr, flags), F(mint_fabric_hdr, node_table_off),
	F(mint_fabric_hdr, objdir_off), F(mint_fabric_hdr, heap_off), F(mint_fabric_hdr, heap_size),
	F(mint_fabric_hdr, created_ns), F(mint_fabric_hdr, name), F(mint_fabric_hdr, pad1),
	F(mint_fabric_hdr, dir_lock), F(mint_fabric_hdr, dir_generation), F(mint_fabric_hdr, dir_repairs),
	F(mint_fabric_hdr, external_ipis), F(mint_fabric_hdr, dir_reclaims), F(mint_fabric_hdr, pad4), F(mint_fabric_hdr, reserved),

	F(mint_node_entry, state), F(mint_node_entry, id), F(mint_node_entry, epoch),
	F(mint_node_entry, pid), F(mint_node_entry, pid_start), F(mint_node_entry, join_ns),
	F(mint_node_entry, cores), F(mint_node_entry, name), F(mint_node_entry, netns),
	F(mint_node_entry, arch), F(mint_node_entry, mode), F(mint_node_entry, flags),
	F(mint_node_entry, pad2), F(mint_node_entry, pad2b), F(mint_node_entry, heartbeat_ns),
	F(mint_node_entry, pad3), F(mint_node_entry, pending), F(mint_node_entry, bell),
	F(mint_node_entry, kvec_mask), F(mint_node_entry, kpending), F(mint_node_entry, kseq),
	F(mint_node_entry, pad4), F(mint_node_entry, pad5), F(mint_node_entry, ipi_sent),
	F(mint_node_entry, wakes_sent), F(mint_node_entry, wakes_suppressed), F(mint_node_entry, pad6),
	F(mint_node_entry, sleeps), F(mint_node_entry, spurious), F(mint_node_entry, dispatch_passes),
	F(mint_node_entry, pad7), F(mint_node_entry, handled), F(mint_node_entry, guest),
	F(mint_node_entry, reserved),

	F(mint_guest_area, magic), F(mint_guest_area, version), F(mint_guest_area, qemu_pid),
	F(mint_guest_area, arch), F(mint_guest_area, qemu_start), F(mint_guest_area, start_ns),
	F(mint_guest_area, pad0), F(mint_guest_area, kernel), F(mint_guest_area, wake_tail),
	F(mint_guest_area, wake_full), F(mint_guest_area, pad2), F(mint_guest_area, wakes_done),
	F(mint_guest_area, wakes_bad), F(mint_guest_area, irqs_sent), F(mint_guest_area, beat_seen_ns),
	F(mint_guest_area, pad3),
	F(mint_guest_area, wake),

	F(mint_wake_slot, seq), F(mint_wake_slot, off),

	F(mint_obj_entry, state), F(mint_obj_entry, type), F(mint_obj_entry, offset),
	F(mint_obj_entry, size), F(mint_obj_entry, flags), F(mint_obj_entry, creator),
	F(mint_obj_entry, name), F(mint_obj_entry, created_ns), F(mint_obj_entry, creator_pid),
	F(mint_obj_entry, creator_pidns), F(mint_obj_entry, creator_start),
	F(mint_obj_entry, reserved),

	F(mint_ring_hdr, magic), F(mint_ring_hdr, version), F(mint_ring_hdr, size),
	F(mint_ring_hdr, max_record), F(mint_ring_hdr, prod_node), F(mint_ring_hdr, cons_node),
	F(mint_ring_hdr, cons_vector), F(mint_ring_hdr, pad0), F(mint_ring_hdr, tail),
	F(mint_ring_hdr, space_bell), F(mint_ring_hdr, full_events), F(mint_ring_hdr, sent_records),
	F(mint_ring_hdr, prod_errors),
	F(mint_ring_hdr, pad1), F(mint_ring_hdr, head), F(mint_ring_hdr, data_bell),
	F(mint_ring_hdr, recv_records), F(mint_ring_hdr, errors), F(mint_ring_hdr, pad2),
	F(mint_ring_hdr, pad3),

	F(mint_rec_hdr, len), F(mint_rec_hdr, type),

	F(mint_channel_hdr, magic), F(mint_channel_hdr, version), F(mint_channel_hdr, node_a),
	F(mint_channel_hdr, node_b), F(mint_channel_hdr, ring_size), F(mint_channel_hdr, a2b_off),
	F(mint_channel_hdr, b2a_off), F(mint_channel_hdr, pad),

	F(mint_vni_port, state), F(mint_vni_port, epoch), F(mint_vni_port, mac),
	F(mint_vni_port, pad0), F(mint_vni_port, ipv4), F(mint_vni_port, prefix_len),
	F(mint_vni_port, pad0b), F(mint_vni_port, tx_packets), F(mint_vni_port, tx_bytes),
	F(mint_vni_port, tx_drop_full), F(mint_vni_port, tx_drop_unknown),
	F(mint_vni_port, tx_drop_down), F(mint_vni_port, tx_drop_error), F(mint_vni_port, tx_irqs),
	F(mint_vni_port, tx_irqs_suppressed), F(mint_vni_port, rx_packets),
	F(mint_vni_port, rx_bytes), F(mint_vni_port, rx_errors), F(mint_vni_port, rx_drop_host),
	F(mint_vni_port, rx_polls), F(mint_vni_port, tx_drop_queue),
	F(mint_vni_port, tx_drop_pool), F(mint_vni_port, pool_reclaimed), F(mint_vni_port, pool_errors),
	F(mint_vni_port, reserved),

	F(mint_vni_hdr, magic), F(mint_vni_hdr, version), F(mint_vni_hdr, mode),
	F(mint_vni_hdr, max_ports), F(mint_vni_hdr, ring_size), F(mint_vni_hdr, vnet_hdr_len),
	F(mint_vni_hdr, mac_base), F(mint_vni_hdr, pad), F(mint_vni_hdr, pool_buffers),
	F(mint_vni_hdr, pad2), F(mint_vni_hdr, ports),

	F(mint_dev_entry, state), F(mint_dev_entry, type), F(mint_dev_entry, link),
	F(mint_dev_entry, ifindex), F(mint_dev_entry, route), F(mint_dev_entry, move_phase),
	F(mint_dev_entry, move_from), F(mint_dev_entry, move_to), F(mint_dev_entry, mover_pid),
	F(mint_dev_entry, mover_start), F(mint_dev_entry, owner_epoch), F(mint_dev_entry, pad0), F(mint_dev_entry, name),
	F(mint_dev_entry, pad1), F(mint_dev_entry, raised), F(mint_dev_entry, masked_raises),
	F(mint_dev_entry, pending_delivered), F(mint_dev_entry, armed), F(mint_dev_entry, pad2),
	F(mint_dev_entry, doorbells), F(mint_dev_entry, pad2b), F(mint_dev_entry, handled),
	F(mint_dev_entry, busy), F(mint_dev_entry, pad3), F(mint_dev_entry, pad3b),

	F(mint_devtab_hdr, magic), F(mint_devtab_hdr, version), F(mint_devtab_hdr, max_devs),
	F(mint_devtab_hdr, pad0), F(mint_devtab_hdr, generation), F(mint_devtab_hdr, pad1),
	F(mint_devtab_hdr, lock), F(mint_devtab_hdr, devs),

	F(mint_vni_pool_hdr, magic), F(mint_vni_pool_hdr, version), F(mint_vni_pool_hdr, nbuf),
	F(mint_vni_pool_hdr, buf_size), F(mint_vni_pool_hdr, qlen), F(mint_vni_pool_hdr, nsmall),
	F(mint_vni_pool_hdr, small_size), F(mint_vni_pool_hdr, pad0), F(mint_vni_pool_hdr, free_top),
	F(mint_vni_pool_hdr, free_small), F(mint_vni_pool_hdr, pad1), F(mint_vni_pool_hdr, reclaim_lock),

	F(mint_vni_buf, state), F(mint_vni_buf, refs), F(mint_vni_buf, next), F(mint_vni_buf, len),
	F(mint_vni_buf, owner), F(mint_vni_buf, epoch), F(mint_vni_buf, pad),

	F(mint_vni_addrq, lock), F(mint_vni_addrq, tail), F(mint_vni_addrq, bytes_in),
	F(mint_vni_addrq, pad1), F(mint_vni_addrq, head), F(mint_vni_addrq, bell),
	F(mint_vni_addrq, bytes_out), F(mint_vni_addrq, pad2),

	F(mint_nic_desc, addr), F(mint_nic_desc, status_word),

	F(mint_nic_hdr, magic), F(mint_nic_hdr, version), F(mint_nic_hdr, node),
	F(mint_nic_hdr, vector), F(mint_nic_hdr, ndesc), F(mint_nic_hdr, buf_size),
	F(mint_nic_hdr, desc_off), F(mint_nic_hdr, buf_off), F(mint_nic_hdr, mac),
	F(mint_nic_hdr, pad0), F(mint_nic_hdr, ipv4), F(mint_nic_hdr, prefix_len),
	F(mint_nic_hdr, state), F(mint_nic_hdr, epoch), F(mint_nic_hdr, rdh), F(mint_nic_hdr, pad1),
	F(mint_nic_hdr, rx_packets), F(mint_nic_hdr, rx_bytes), F(mint_nic_hdr, overruns),
	F(mint_nic_hdr, irqs), F(mint_nic_hdr, irqs_masked), F(mint_nic_hdr, last_irq_ns),
	F(mint_nic_hdr, dev_errors), F(mint_nic_hdr, rdt), F(mint_nic_hdr, pad2),
	F(mint_nic_hdr, pad2b), F(mint_nic_hdr, drv_packets), F(mint_nic_hdr, drv_bytes),
	F(mint_nic_hdr, drv_errors), F(mint_nic_hdr, drv_bad), F(mint_nic_hdr, drv_irqs),
	F(mint_nic_hdr, drv_drops), F(mint_nic_hdr, icr), F(mint_nic_hdr, ims),
	F(mint_nic_hdr, itr_ns), F(mint_nic_hdr, pad3),

	/* The peer protocols (mint/proto.h). */
	F(mint_ctl_ping, dst), F(mint_ctl_ping, count), F(mint_ctl_ping, size),
	F(mint_ctl_ping, timeout_ms), F(mint_ctl_ping, interval_ns),
	F(mint_ping_result, seq), F(mint_ping_result, status), F(mint_ping_result, rtt_ns),
	F(mint_exec_start, version), F(mint_exec_start, flags), F(mint_exec_start, uid),
	F(mint_exec_start, gid), F(mint_exec_start, argc), F(mint_exec_start, envc),
	F(mint_exec_start, rows), F(mint_exec_start, cols), F(mint_exec_start, client_pid),
	F(mint_exec_start, pad), F(mint_exec_start, client_start),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

struct stinfo {
	const char *name;
	size_t size;
	int headings; /* sections in the doc */
	int header_fields; /* fields parsed from layout.h */
};

static struct stinfo structs[] = {
	{"mint_bell", sizeof(struct mint_bell), 0, 0},
	{"mint_lock", sizeof(struct mint_lock), 0, 0},
	{"mint_fabric_hdr", sizeof(struct mint_fabric_hdr), 0, 0},
	{"mint_node_entry", sizeof(struct mint_node_entry), 0, 0},
	{"mint_guest_area", sizeof(struct mint_guest_area), 0, 0},
	{"mint_wake_slot", sizeof(struct mint_wake_slot), 0, 0},
	{"mint_obj_entry", sizeof(struct mint_obj_entry), 0, 0},
	{"mint_ring_hdr", sizeof(struct mint_ring_hdr), 0, 0},
	{"mint_rec_hdr", sizeof(struct mint_rec_hdr), 0, 0},
	{"mint_channel_hdr", sizeof(struct mint_channel_hdr), 0, 0},
	{"mint_vni_port", sizeof(struct mint_vni_port), 0, 0},
	{"mint_vni_hdr", sizeof(struct mint_vni_hdr), 0, 0},
	{"mint_dev_entry", sizeof(struct mint_dev_entry), 0, 0},
	{"mint_devtab_hdr", sizeof(struct mint_devtab_hdr), 0, 0},
	{"mint_vni_pool_hdr", sizeof(struct mint_vni_pool_hdr), 0, 0},
	{"mint_vni_buf", sizeof(struct mint_vni_buf), 0, 0},
	{"mint_vni_addrq", sizeof(struct mint_vni_addrq), 0, 0},
	{"mint_nic_desc", sizeof(struct mint_nic_desc), 0, 0},
	{"mint_nic_hdr", sizeof(struct mint_nic_hdr), 0, 0},
	{"mint_ctl_ping", sizeof(struct mint_ctl_ping), 0, 0},
	{"mint_ping_result", sizeof(struct mint_ping_result), 0, 0},
	{"mint_exec_start", sizeof(struct mint_exec_start), 0, 0},
};
#define NSTRUCTS (sizeof(structs) / sizeof(structs[0]))

struct constant {
	const char *name;
	uint64_t value;
	int seen;
};

#define C(n) {#n, (uint64_t)(n), 0}
static struct constant constants[] = {
	C(MINT_CACHELINE), C(MINT_PAGE), C(MINT_FABRIC_MAGIC), C(MINT_FABRIC_VERSION),
	C(MINT_MAX_NODES), C(MINT_VECTORS), C(MINT_MAX_OBJECTS), C(MINT_NAME_MAX),
	C(MINT_OBJ_NAME_MAX), C(MINT_CPU_WORDS), C(MINT_NODE_NONE), C(MINT_NODE_TABLE_OFF),
	C(MINT_OBJDIR_OFF), C(MINT_HEAP_OFF), C(MINT_FABRIC_MIN_SIZE), C(MINT_FABRIC_HUGETLB),
	C(MINT_BELL_AWAKE), C(MINT_BELL_FUTEX), C(MINT_BELL_IRQ), C(MINT_LOCK_NEEDS_CHECK),
	C(MINT_OBJ_FREE), C(MINT_OBJ_LIVE), C(MINT_OBJ_NEEDS_CHECK), C(MINT_RING_MAGIC),
	C(MINT_RING_VERSION), C(MINT_RING_ALIGN), C(MINT_RING_MIN_SIZE), C(MINT_REC_PAD),
	C(MINT_CHANNEL_MAGIC), C(MINT_CHANNEL_VERSION), C(MINT_VEC_KICK), C(MINT_VEC_CHANNEL),
	C(MINT_VEC_USER), C(MINT_VEC_VNI), C(MINT_VNI_MAX_PORTS), C(MINT_VNI_MAGIC),
	C(MINT_VNI_VERSION), C(MINT_VNI_PER_DEST), C(MINT_VNI_POOL), C(MINT_VNI_VNET_HDR),
	C(MINT_VNI_FRAME_MAX), C(MINT_VNI_DOWN), C(MINT_VNI_UP), C(MINT_REC_FRAME),
	C(MINT_DEV_MAX), C(MINT_DEVTAB_MAGIC), C(MINT_DEVTAB_VERSION), C(MINT_DEV_NAME_MAX),
	C(MINT_DEV_MASKED), C(MINT_DEV_FREE), C(MINT_DEV_ATTACHED), C(MINT_DEV_DETACHED),
	C(MINT_DEV_ORPHANED), C(MINT_DEV_MOVE_NONE), C(MINT_DEV_MOVE_MASKED), C(MINT_DEV_LINK_DOWN),
	C(MINT_DEV_LINK_UP), C(MINT_VEC_DEV),
	C(MINT_VNI_POOL_MAGIC), C(MINT_VNI_POOL_VERSION), C(MINT_VNI_BUF_SIZE), C(MINT_VNI_SMALL_SIZE),
	C(MINT_VNI_SMALL_PER_BUF), C(MINT_VNI_POOL_MIN),
	C(MINT_VNI_POOL_MAX), C(MINT_VNI_POOL_DEFAULT), C(MINT_VNI_BUF_NONE), C(MINT_VNI_BUF_FREE),
	C(MINT_VNI_BUF_HELD), C(MINT_VNI_BUF_SENT),
	C(MINT_VEC_NIC), C(MINT_NIC_MAGIC), C(MINT_NIC_VERSION), C(MINT_NIC_DOWN), C(MINT_NIC_UP),
	C(MINT_NIC_MIN_DESC), C(MINT_NIC_MAX_DESC), C(MINT_NIC_MIN_BUF), C(MINT_NIC_MAX_BUF),
	C(MINT_NIC_STAT_DD), C(MINT_NIC_STAT_EOP), C(MINT_NIC_STAT_IXSM), C(MINT_NIC_STAT_VP),
	C(MINT_NIC_STAT_TCPCS), C(MINT_NIC_STAT_IPCS), C(MINT_NIC_ERR_CE), C(MINT_NIC_ERR_SE),
	C(MINT_NIC_ERR_SEQ), C(MINT_NIC_ERR_CXE), C(MINT_NIC_ERR_TCPE), C(MINT_NIC_ERR_IPE),
	C(MINT_NIC_ERR_RXE), C(MINT_NIC_ICR_RXDMT0), C(MINT_NIC_ICR_RXO), C(MINT_NIC_ICR_RXT0),
	C(MINT_GUEST_MAGIC), C(MINT_GUEST_VERSION), C(MINT_GUEST_WAKE_SLOTS),
	C(MINT_GUEST_KERNEL_MAX), C(MINT_NODE_GUEST),
	C(MINT_PING_REQUEST), C(MINT_PING_REPLY), C(MINT_CTL_PING), C(MINT_CTL_RESULT),
	C(MINT_CTL_DONE), C(MINT_PING_RING_SIZE), C(MINT_PING_MAX_SIZE), C(MINT_EXEC_START),
	C(MINT_EXEC_STDIN), C(MINT_EXEC_SIGNAL), C(MINT_EXEC_WINSIZE), C(MINT_EXEC_CLOSE),
	C(MINT_EXEC_STDOUT), C(MINT_EXEC_STDERR), C(MINT_EXEC_EXIT), C(MINT_EXEC_ERROR),
	C(MINT_EXEC_VERSION), C(MINT_EXEC_TTY), C(MINT_EXEC_ERR_FAILED), C(MINT_EXEC_ERR_REFUSED),
	C(MINT_EXEC_ERR_PROTOCOL), C(MINT_EXEC_RING_SIZE), C(MINT_EXEC_SIG_RING_SIZE),
	C(MINT_EXEC_CHUNK), C(MINT_EXEC_START_MAX), C(MINT_EXEC_MAX_ARGS), C(MINT_EXEC_MAX_ENV),
};
#define NCONST (sizeof(constants) / sizeof(constants[0]))

static struct stinfo *find_struct(const char *name)
{
	for (size_t i = 0; i < NSTRUCTS; i++)
		if (strcmp(structs[i].name, name) == 0)
			return &structs[i];
	return NULL;
}

static struct field *find_field(const char *st, const char *name)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].st, st) == 0 && strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/* ---- files ---- */

static char srcdir[PATH_MAX];

static bool exists_under(const char *dir)
{
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/docs/layout.md", dir);
	FILE *f = fopen(p, "r");
	if (f)
		fclose(f);
	return f != NULL;
}

static bool find_srcdir(const char *argv0)
{
	const char *env = getenv("MINT_SRCDIR");
	if (env && *env) {
		snprintf(srcdir, sizeof(srcdir), "%s", env);
		return exists_under(srcdir);
	}
	if (exists_under(".")) {
		snprintf(srcdir, sizeof(srcdir), ".");
		return true;
	}
	/* build/tests/test_layout, build/asan/tests/test_layout */
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", argv0);
	const char *bin = dirname(tmp);
	const char *ups[] = {"/../..", "/../../.."};
	for (int i = 0; i < 2; i++) {
		snprintf(srcdir, sizeof(srcdir), "%s%s", bin, ups[i]);
		if (exists_under(srcdir))
			return true;
	}
	return false;
}

static char *slurp(const char *rel)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", srcdir, rel);
	FILE *f = fopen(p, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s: %s\n", p, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* ---- parsing helpers ---- */

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* A cell's identifier: backticks stripped, an array suffix dropped. */
static void ident(const char *cell, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = cell; *p && n + 1 < cap; p++) {
		if (*p == '`')
			continue;
		if (*p == '[' || isspace((unsigned char)*p))
			break;
		out[n++] = *p;
	}
	out[n] = 0;
}

/* A decimal or 0x number, alone in the cell (backticks allowed). */
static bool number(const char *cell, uint64_t *v)
{
	char buf[64];
	ident(cell, buf, sizeof(buf));
	if (!buf[0] || !isdigit((unsigned char)buf[0]))
		return false;
	char *end;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	return errno == 0 && *end == 0;
}

/* Split a table row into cells; returns the count (0: not a row). */
static int cells(char *line, char **out, int max)
{
	char *s = trim(line);
	if (*s != '|')
		return 0;
	s++;
	int n = 0;
	while (*s && n < max) {
		char *bar = strchr(s, '|');
		if (!bar)
			break;
		*bar = 0;
		out[n++] = trim(s);
		s = bar + 1;
	}
	return n;
}

/* ---- the doc ---- */

struct row {
	const char *st;
	uint64_t off, size;
	char field[64];
	int line;
};

static struct row rows[512];
static int nrows;
static int doc_errors;
static bool quiet; /* while checking doctored copies */

#define DOC_ERR(line, ...)                                                             \
	do {                                                                           \
		if (!quiet) {                                                          \
			fprintf(stderr, "docs/layout.md:%d: ", line);                  \
			fprintf(stderr, __VA_ARGS__);                                  \
			fputc('\n', stderr);                                           \
		}                                                                      \
		doc_errors++;                                                          \
	} while (0)

static void parse_doc(char *text)
{
	enum { NONE, STRUCT, CONSTANTS } mode = NONE;
	struct stinfo *cur = NULL;
	int lineno = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		if (line[0] == '#') {
			mode = NONE;
			cur = NULL;
			const char *st = strstr(line, "struct mint_");
			if (st && strncmp(line, "###", 3) == 0) {
				char name[64];
				ident(st + 7, name, sizeof(name));
				cur = find_struct(name);
				if (!cur) {
					DOC_ERR(lineno, "section for unknown struct %s", name);
					continue;
				}
				mode = STRUCT;
				cur->headings++;
				const char *paren = strchr(line, '(');
				unsigned long long sz;
				if (!paren || sscanf(paren, "(%llu bytes)", &sz) != 1)
					DOC_ERR(lineno, "heading of struct %s lacks \"(N bytes)\"", name);
				else if (sz != cur->size)
					DOC_ERR(lineno, "struct %s is %zu bytes, the heading says %llu", name,
						cur->size, sz);
			} else if (strstr(line, "Constants") || strstr(line, "constants")) {
				mode = CONSTANTS;
			}
			continue;
		}
		char copy[1024];
		snprintf(copy, sizeof(copy), "%s", line);
		char *c[8];
		int n = cells(copy, c, 8);
		if (n == 0)
			continue;
		if (strncmp(c[0], "---", 3) == 0)
			continue;
		if (mode == STRUCT) {
			if (strcmp(c[0], "offset") == 0) {
				if (n != 4 || strcmp(c[1], "size") || strcmp(c[2], "field") ||
				    strcmp(c[3], "meaning"))
					DOC_ERR(lineno, "struct table header must be | offset | size | field | meaning |");
				continue;
			}
			if (n < 4) {
				DOC_ERR(lineno, "row with %d cells", n);
				continue;
			}
			struct row *r = &rows[nrows < 511 ? nrows++ : 511];
			r->st = cur->name;
			r->line = lineno;
			ident(c[2], r->field, sizeof(r->field));
			if (!number(c[0], &r->off) || !number(c[1], &r->size))
				DOC_ERR(lineno, "%s.%s: offset or size is not a number", cur->name,
					r->field);
			if (!c[3][0])
				DOC_ERR(lineno, "%s.%s: no meaning given", cur->name, r->field);
		} else if (mode == CONSTANTS) {
			if (n < 3 || strcmp(c[0], "constant") == 0)
				continue;
			char name[64];
			uint64_t v;
			ident(c[0], name, sizeof(name));
			struct constant *k = NULL;
			for (size_t i = 0; i < NCONST; i++)
				if (strcmp(constants[i].name, name) == 0)
					k = &constants[i];
			if (!k) {
				DOC_ERR(lineno, "unknown constant %s", name);
				continue;
			}
			k->seen++;
			if (!number(c[1], &v))
				DOC_ERR(lineno, "%s: value is not a number", name);
			else if (v != k->value)
				DOC_ERR(lineno, "%s is %#llx, the doc says %#llx", name,
					(unsigned long long)k->value, (unsigned long long)v);
		}
	}
}

/* ---- layout.h: the struct bodies, field names only ---- */

static void strip_comments(char *s)
{
	for (char *p = s; *p; p++) {
		if (p[0] == '/' && p[1] == '*') {
			char *e = strstr(p + 2, "*/");
			char *stop = e ? e + 2 : p + strlen(p);
			for (char *q = p; q < stop; q++)
				if (*q != '\n')
					*q = ' ';
			p = stop - 1;
		} else if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				*p++ = ' ';
			if (!*p)
				break;
		}
	}
}

static int header_errors;

static void parse_header(char *text)
{
	strip_comments(text);
	char *p = text;
	while ((p = strstr(p, "struct mint_")) != NULL) {
		char name[64];
		ident(p + 7, name, sizeof(name));
		char *q = p + 7 + strlen(name);
		while (*q == ' ')
			q++;
		if (*q != '{') { /* a use, not a definition */
			p = q;
			continue;
		}
		char *end = strstr(q, "\n};");
		if (!end)
			break;
		struct stinfo *st = find_struct(name);
		if (!st) {
			fprintf(stderr, "layout.h: struct %s is not known to test_layout\n", name);
			header_errors++;
			p = end;
			continue;
		}
		/* Declarations: split at ';', take each declarator's identifier. */
		char body[8192];
		size_t len = (size_t)(end - (q + 1));
		if (len >= sizeof(body))
			len = sizeof(body) - 1;
		memcpy(body, q + 1, len);
		body[len] = 0;
		char *save = NULL;
		for (char *decl = strtok_r(body, ";", &save); decl; decl = strtok_r(NULL, ";", &save)) {
			char *save2 = NULL;
			bool first = true;
			for (char *d = strtok_r(decl, ",", &save2); d; d = strtok_r(NULL, ",", &save2)) {
				char *t = trim(d);
				if (!*t)
					continue;
				/* drop an array suffix, then take the last identifier */
				char *br = strchr(t, '[');
				if (br)
					*br = 0;
				t = trim(t);
				char *e = t + strlen(t);
				char *s = e;
				while (s > t && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
					s--;
				if (s == e)
					continue;
				(void)first;
				first = false;
				st->header_fields++;
				if (!find_field(name, s)) {
					fprintf(stderr, "layout.h: %s.%s is not in test_layout's table\n",
						name, s);
					header_errors++;
				}
			}
		}
		p = end;
	}
}

/* ---- checks ---- */

static void check_rows(void)
{
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		struct field *f = find_field(r->st, r->field);
		if (!f) {
			DOC_ERR(r->line, "%s has no field '%s'", r->st, r->field);
			continue;
		}
		f->seen++;
		if (r->off != f->off)
			DOC_ERR(r->line, "%s.%s is at offset %zu, the doc says %llu", r->st, r->field,
				f->off, (unsigned long long)r->off);
		if (r->size != f->size)
			DOC_ERR(r->line, "%s.%s is %zu bytes, the doc says %llu", r->st, r->field,
				f->size, (unsigned long long)r->size);
	}
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->st, y->st);
	if (c)
		return c;
	return x->off < y->off ? -1 : x->off > y->off;
}

static void test_doc_rows(void)
{
	CHECK(nrows > 0);
	CHECK_EQ(doc_errors, 0);
}

static void test_every_field_documented(void)
{
	int missing = 0, dup = 0;
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].seen == 0) {
			fprintf(stderr, "docs/layout.md: %s.%s (offset %zu, %zu bytes) is not documented\n",
				fields[i].st, fields[i].name, fields[i].off, fields[i].size);
			missing++;
		} else if (fields[i].seen > 1) {
			fprintf(stderr, "docs/layout.md: %s.%s documented %d times\n", fields[i].st,
				fields[i].name, fields[i].seen);
			dup++;
		}
	}
	CHECK_EQ(missing, 0);
	CHECK_EQ(dup, 0);
	for (size_t i = 0; i < NSTRUCTS; i++) {
		if (structs[i].headings != 1)
			fprintf(stderr, "docs/layout.md: struct %s has %d sections\n", structs[i].name,
				structs[i].headings);
		CHECK_EQ(structs[i].headings, 1);
	}
}

/* Rows tile each struct: sorted by offset, each starts where the last
 * ended, the last ends at sizeof. */
static void test_rows_tile_structs(void)
{
	static struct row sorted[512];
	memcpy(sorted, rows, sizeof(rows));
	qsort(sorted, (size_t)nrows, sizeof(sorted[0]), cmp_row);
	for (size_t s = 0; s < NSTRUCTS; s++) {
		uint64_t at = 0;
		int n = 0;
		for (int i = 0; i < nrows; i++) {
			if (strcmp(sorted[i].st, structs[s].name) != 0)
				continue;
			n++;
			if (sorted[i].off != at) {
				fprintf(stderr, "docs/layout.md:%d: %s: %s at %llu, expected %llu (gap or overlap)\n",
					sorted[i].line, structs[s].name, sorted[i].field,
					(unsigned long long)sorted[i].off, (unsigned long long)at);
				CHECK(0);
			}
			at = sorted[i].off + sorted[i].size;
		}
		if (n && at != structs[s].size) {
			fprintf(stderr, "docs/layout.md: %s rows end at %llu, the struct at %zu\n",
				structs[s].name, (unsigned long long)at, structs[s].size);
			CHECK(0);
		}
	}
}

static void test_constants(void)
{
	int missing = 0;
	for (size_t i = 0; i < NCONST; i++)
		if (constants[i].seen != 1) {
			fprintf(stderr, "docs/layout.md: constant %s appears %d times\n",
				constants[i].name, constants[i].seen);
			missing++;
		}
	CHECK_EQ(missing, 0);
}

/* The test's table against the header itself. */
static void test_table_matches_header(void)
{
	CHECK_EQ(header_errors, 0);
	for (size_t s = 0; s < NSTRUCTS; s++) {
		int in_table = 0;
		for (size_t i = 0; i < NFIELDS; i++)
			in_table += strcmp(fields[i].st, structs[s].name) == 0;
		if (structs[s].header_fields != in_table)
			fprintf(stderr, "layout.h: struct %s has %d fields, test_layout knows %d\n",
				structs[s].name, structs[s].header_fields, in_table);
		CHECK_EQ(structs[s].header_fields, in_table);
	}
	/* The table itself tiles each struct (no field forgotten in it). */
	for (size_t s = 0; s < NSTRUCTS; s++) {
		size_t total = 0;
		for (size_t i = 0; i < NFIELDS; i++)
			if (strcmp(fields[i].st, structs[s].name) == 0)
				total += fields[i].size;
		CHECK_EQ(total, structs[s].size);
	}
}

static void reset(void)
{
	nrows = 0;
	doc_errors = 0;
	for (size_t i = 0; i < NSTRUCTS; i++)
		structs[i].headings = 0;
	for (size_t i = 0; i < NFIELDS; i++)
		fields[i].seen = 0;
	for (size_t i = 0; i < NCONST; i++)
		constants[i].seen = 0;
}

/* Parse a copy of TEXT from scratch; the number of row errors. */
static int analyse(const char *text)
{
	char *copy = strdup(text);
	reset();
	parse_doc(copy);
	check_rows();
	free(copy);
	return doc_errors;
}

static const char *doc_text;

/* DOC with the start of GOOD (which it must have) overwritten by BAD
 * fails the checks; then GOOD is back.  Where GOOD stands, or NULL. */
static char *doctor(char *doc, const char *good, const char *bad)
{
	char *p = strstr(doc, good);
	CHECK(p != NULL);
	if (p) {
		memcpy(p, bad, strlen(bad));
		CHECK(analyse(doc) > 0);
		memcpy(p, good, strlen(bad));
	}
	return p;
}

/* The checks catch drift: doctored copies of the doc fail them. */
static void test_checks_catch_drift(void)
{
	char *doc = strdup(doc_text);
	quiet = true;
	/* A moved offset, a wrong size, an unknown field. */
	const char *errors_row = "| 152 | 8 | `errors` |";
	doctor(doc, errors_row, "| 153 |");
	doctor(doc, errors_row, "| 152 | 4 | `errors` |");
	char *row = doctor(doc, errors_row, "| 152 | 8 | `errorz` |");
	if (row) {
		CHECK_EQ(analyse(doc), 0);
		/* A row left out: that field is undocumented. */
		row[0] = 'x';
		CHECK_EQ(analyse(doc), 0);
		CHECK_EQ(find_field("mint_ring_hdr", "errors")->seen, 0);
		row[0] = '|';
	}
	/* The same in the VNI's tables. */
	if (doctor(doc, "| 96 | 8 | `tx_drop_down` |", "| 88 |"))
		CHECK_EQ(analyse(doc), 0);
	doctor(doc, "| `MINT_VNI_FRAME_MAX` | 65610 |", "| `MINT_VNI_FRAME_MAX` | 65546 |");
	/* A wrong constant. */
	doctor(doc, "| `MINT_HEAP_OFF` | 0x49000 |", "| `MINT_HEAP_OFF` | 0x48000 |");
	free(doc);
	quiet = false;
	analyse(doc_text); /* back to the real doc */
}

int main(int argc, char **argv)
{
	(void)argc;
	t_start("test_layout", 60);
	if (!find_srcdir(argv[0])) {
		fprintf(stderr, "test_layout: docs/layout.md not found (set MINT_SRCDIR)\n");
		return 1;
	}
	char *doc = slurp("docs/layout.md");
	char *hdr = slurp("include/mint/layout.h");
	char *proto = slurp("include/mint/proto.h");
	if (!doc || !hdr || !proto)
		return 1;
	doc_text = doc;
	analyse(doc);
	parse_header(hdr);
	parse_header(proto);
	RUN(test_doc_rows);
	RUN(test_every_field_documented);
	RUN(test_rows_tile_structs);
	RUN(test_constants);
	RUN(test_table_matches_header);
	RUN(test_checks_catch_drift);
	free(doc);
	free(hdr);
	free(proto);
	return t_done();
}
