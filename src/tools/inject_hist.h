/* SPDX-License-Identifier: MIT */
/* Histograms of nanosecond times with 10 ns buckets, for percentiles. */
#ifndef MINT_INJECT_HIST_H
#define MINT_INJECT_HIST_H

#include <stdint.h>

#define HIST_BUCKET_NS 10u
#define HIST_BUCKETS 100000u /* up to 1 ms; beyond counts in `over` */

struct hist {
	uint64_t n, sum, max, over;
	uint32_t *bucket;
};

int hist_init(struct hist *h); /* 0 or -ENOMEM */
void hist_free(struct hist *h);
void hist_add(struct hist *h, uint64_t ns);
/* The P-th percentile (0..100), to the bucket; the max when beyond 1 ms. */
uint64_t hist_pct(const struct hist *h, double p);
uint64_t hist_mean(const struct hist *h);

#endif
