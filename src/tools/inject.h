/* SPDX-License-Identifier: MIT */
/* What mint inject's files share. */
#ifndef MINT_INJECT_H
#define MINT_INJECT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "inject_pkt.h"
#include "inject_sched.h"
#include "inject_trace.h"

struct inject_opts {
	uint32_t node;
	struct pkt_spec spec;
	bool src_mac_set, dst_mac_set, dst_ip_set;
	uint64_t count;        /* events */
	bool count_set;
	uint32_t burst;        /* packets per event (one interrupt) */
	int interval_set;      /* --interval and --rate seen */
	struct sched sched;
	uint64_t seed;
	const char *pcap, *replay, *record;
	double speed;          /* --pcap timing divisor */
	struct trace trace;    /* --pcap or --replay packets */
	bool latency;          /* wait for the handler after each event */
};

/* "10us", "1.5ms", "200" (ns): 0 or -1. */
int inject_parse_time(const char *s, uint64_t *ns);

/* Run the schedule against DEV, print the summary; the exit status. */
int inject_run(const struct cli *c, struct inject_opts *o, struct mint_fabric *f,
	       struct mint_nic_dev *dev, volatile sig_atomic_t *stop);

#endif
