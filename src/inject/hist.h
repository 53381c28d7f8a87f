/* SPDX-License-Identifier: MIT */
/* Histograms of nanosecond times for percentiles: 10 ns buckets up to
 * 1 ms, then 1 us buckets up to 101 ms. */
#ifndef MINT_INJECT_HIST_H
#define MINT_INJECT_HIST_H

#include <stdint.h>

#define HIST_BUCKET_NS 10u
#define HIST_FINE 100000u    /* 10 ns buckets: up to 1 ms */
#define HIST_BUCKETS 200000u /* then 1 us ones; beyond counts in `over` */

struct hist {
	uint64_t n, sum, max, over;
	uint32_t *bucket;
};

int hist_init(struct hist *h); /* 0 or -ENOMEM */
void hist_free(struct hist *h);
void hist_add(struct hist *h, uint64_t ns);
/* The P-th percentile (0..100), to the bucket; the max when beyond 101 ms. */
uint64_t hist_pct(const struct hist *h, double p);
uint64_t hist_mean(const struct hist *h);

#endif
