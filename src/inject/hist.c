/* SPDX-License-Identifier: MIT */
#include "inject/hist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	/* Zeroed by hand, not by calloc's fresh pages: each page faulted in
	 * by the first value landing in it would make the schedule late. */
	h->bucket = malloc(HIST_BUCKETS * sizeof(*h->bucket));
	if (!h->bucket)
		return -ENOMEM;
	memset(h->bucket, 0, HIST_BUCKETS * sizeof(*h->bucket));
	return 0;
}

void hist_free(struct hist *h)
{
	free(h->bucket);
	h->bucket = NULL;
}

static uint64_t bucket_of(uint64_t ns)
{
	uint64_t fine = ns / HIST_BUCKET_NS;
	return fine < HIST_FINE ? fine : HIST_FINE + (ns - HIST_FINE * HIST_BUCKET_NS) / 1000;
}

/* The middle of bucket B. */
static uint64_t value_of(uint64_t b)
{
	if (b < HIST_FINE)
		return b * HIST_BUCKET_NS + HIST_BUCKET_NS / 2;
	return HIST_FINE * HIST_BUCKET_NS + (b - HIST_FINE) * 1000 + 500;
}

void hist_add(struct hist *h, uint64_t ns)
{
	h->n++;
	h->sum += ns;
	if (ns > h->max)
		h->max = ns;
	uint64_t b = bucket_of(ns);
	if (b < HIST_BUCKETS)
		h->bucket[b]++;
	else
		h->over++;
}

uint64_t hist_pct(const struct hist *h, double p)
{
	if (h->n == 0)
		return 0;
	uint64_t want = (uint64_t)((double)h->n * p / 100.0 + 0.5), seen = 0;
	want = want ? want : 1;
	for (uint32_t b = 0; b < HIST_BUCKETS; b++)
		if ((seen += h->bucket[b]) >= want)
			return value_of(b) < h->max ? value_of(b) : h->max;
	return h->max;
}

uint64_t hist_mean(const struct hist *h)
{
	return h->n ? h->sum / h->n : 0;
}
