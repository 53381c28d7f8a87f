/* SPDX-License-Identifier: MIT */
/* What mint inject's files share. */
#ifndef MINT_INJECT_H
#define MINT_INJECT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "mint/mint.h"
#include "inject/hist.h"
#include "inject/pkt.h"
#include "inject/sched.h"
#include "inject/trace.h"

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
	bool evaluate;
	bool floor;            /* --floor: the schedule alone, nothing written */
	const char *plot;      /* --plot FILE.png */
	const char *fabric;    /* its name: --evaluate runs mint exec in a guest */
};

/* What a run did: the device's side, then the driver's (its counters'
 * growth), lateness and --latency times. */
struct inject_result {
	uint64_t events, injected, overruns, dev_errors, skipped, irqs;
	uint64_t drv_irqs, handled, delivered, drv_errors, drv_bad, drv_drops, lost;
	double seconds;
	uint64_t preempted;    /* involuntary context switches in the schedule */
	uint64_t cores[MINT_CPU_WORDS]; /* where the schedule ran */
	struct hist late, lat;
	uint64_t *series_late; /* --plot: each event's lateness, in order */
	size_t series_n, series_cap;
	const char *stopped;   /* NULL: done; else why it stopped early */
};

/*
 * Run O's schedule against DEV until its count, *STOP, or the target's
 * end; wait for the driver; fill *RES (free it with inject_result_free).
 * 0, or -ENOMEM, or a negative errno for the record file.
 */
int inject_schedule(struct inject_opts *o, struct mint_fabric *f, struct mint_nic_dev *dev,
		    volatile sig_atomic_t *stop, bool progress, struct inject_result *res);
void inject_result_free(struct inject_result *res);

/* --evaluate: print the three results for node O->node (JSON with
 * JSON); 0, or -ESRCH if the target stopped, or another negative errno. */
int inject_evaluate(bool json, struct inject_opts *o, struct mint_fabric *f,
		    struct mint_nic_dev *dev, volatile sig_atomic_t *stop);

/* --plot: draw R into PNG with gnuplot; 0, -ENOENT (no gnuplot), or
 * another negative errno. */
int inject_plot(const char *png, const struct inject_result *r, bool latency);

/* The summary table, or JSON with -j. */
void inject_report(bool json, const struct inject_opts *o,
		   const struct inject_result *r);

#endif
