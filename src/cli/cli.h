/* SPDX-License-Identifier: MIT */
/* What the mint command's files share. */
#ifndef MINT_CLI_H
#define MINT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/netns.h"
#include "common/text.h"
#include "mint/mint.h"

#define EXIT_USAGE 2

struct cli {
	const char *fabric; /* --fabric, $MINT_FABRIC, or "mint" */
	bool json;          /* -j */
};

/* One line on stderr: "mint: <message>". */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A channel (or other object) of C's fabric could not be made: "WHAT:
 * error", or, for a full directory, "fabric F: directory full (N entries)". */
void cli_obj_err(const struct cli *c, const char *what, int rc);
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Options every subcommand takes: --fabric NAME, -j, --help. */
#define CLI_COMMON_LONGOPTS                                                            \
	{"fabric", required_argument, NULL, 'F'}, {"json", no_argument, NULL, 'j'},    \
	{"help", no_argument, NULL, 'h'}
#define CLI_COMMON_SHORTOPTS "jh"

/* Handle a common option: -1 to go on, else the exit status the command
 * must return (0 after --help, EXIT_USAGE after a bad option). */
int cli_common_opt(struct cli *c, int opt, const char *usage);

int cli_parse_u32(const char *s, uint32_t max, uint32_t *out);
int cli_parse_size(const char *s, uint64_t *out);
/* A time: "10us", "1.5ms", "2s", "200" or "200ns": 0 or -1. */
int cli_parse_time(const char *s, uint64_t *ns);
int cli_parse_cores(const char *s, uint64_t cores[MINT_CPU_WORDS]);
int cli_parse_node(const char *s, uint32_t *id); /* prints the error */

/* Attach the fabric named in C, printing the error line on failure. */
int cli_attach(const struct cli *c, struct mint_fabric **f);

/* The error line of cli_attach for mint_fabric_attach's result RC (none
 * for 0); returns RC. */
int cli_attach_error(const struct cli *c, int rc);

/* 0 if node ID is alive, else -ESRCH after "node ID: not running". */
int cli_require_alive(struct mint_fabric *f, uint32_t id);

/* Is node N worth a line in status and irq (up, or has ever joined)? */
bool cli_node_listed(const struct mint_node_info *n);

/* Parse a command that takes only the common options and no operands:
 * -1 to go on, else the exit status to return. */
int cli_parse_plain(struct cli *c, int argc, char **argv, const char *usage);

/* Node ID's files in its fabric's run directory: the log its agent (or a
 * guest's QEMU: its console) writes and the marker it holds open for its
 * life (fabric_procs.h). */
struct node_files {
	int log, marker;
	char log_path[160];
};

/* Open NF for node ID of F: 0, or -1 after the error line. */
int cli_open_node_files(const struct cli *c, struct mint_fabric *f, uint32_t id,
			struct node_files *nf);

/* What cli_stop_nodes stopped and removed. */
struct cli_stopped {
	uint32_t agents, namespaces;
};

/* Stop node ONLY's agent (MINT_MAX_NODES: every node's) of the fabric C
 * names, found on the host (fabric_procs.h), never by a pid the fabric
 * holds: SIGTERM, then SIGKILL after a grace period.  Then remove the
 * namespaces mint derives from that name, those the fabric made.  Says
 * what it leaves alone and why.  0 or a negative errno. */
int cli_stop_nodes(const struct cli *c, uint32_t only, struct cli_stopped *out);

int cmd_up(struct cli *c, int argc, char **argv);
int cmd_down(struct cli *c, int argc, char **argv);
int cmd_guest(struct cli *c, int argc, char **argv);
int cmd_node(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_irq(struct cli *c, int argc, char **argv);
int cmd_ipi(struct cli *c, int argc, char **argv);
int cmd_ping(struct cli *c, int argc, char **argv);
int cmd_vni(struct cli *c, int argc, char **argv);
int cmd_dev(struct cli *c, int argc, char **argv);
int cmd_exec(struct cli *c, int argc, char **argv);
int cmd_inject(struct cli *c, int argc, char **argv);
#ifdef MINT_WITH_PCAP
int cmd_capture(struct cli *c, int argc, char **argv); /* cmd_capture.c: needs libpcap */
#endif

/* One port's VNI state and counters as a JSON object. */
struct mint_vni_stats;
void vni_stats_json(const struct mint_vni_stats *st);

#endif
