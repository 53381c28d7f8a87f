/* SPDX-License-Identifier: MIT */
/*
 * mint inject's record: a pcapng file (nanosecond timestamps, Ethernet)
 * whose every packet carries its event in an opt_comment, so tshark and
 * libpcap read the packets and --replay reads the events.  The format is
 * in mint(1) under FILES.
 */
#ifndef MINT_INJECT_RECORD_H
#define MINT_INJECT_RECORD_H

#include <stdint.h>
#include <stdio.h>

#include "inject/trace.h"
#include "mint/nic.h"

#define REC_TAG "mint-inject/1"

struct rec_event {
	uint64_t wall_ns;     /* CLOCK_REALTIME when written to the ring */
	uint64_t event;       /* event number; packets of a burst share it */
	uint32_t burst;       /* index within the event */
	uint64_t sched_ns;    /* due time from the first event */
	int64_t late_ns;      /* how late the event started */
	uint32_t vector;
	int rc;               /* mint_nic_put's result */
	int irq;              /* 1: the event's kick raised the vector */
	const struct mint_nic_pkt *pkt;
	const struct mint_nic_desc_image *img; /* valid when rc == 0 */
	uint32_t icr, ims;    /* after the kick */
};

/* Create PATH with the section and interface headers; NULL and errno. */
FILE *rec_create(const char *path, uint32_t node);
/* One packet block; 0 or -1 (errno). */
int rec_write(FILE *f, const struct rec_event *e);
/* Flush and close; 0 or -1 (errno). */
int rec_close(FILE *f);

/* Load a record for --replay: 0, or -1 with the reason in ERR. */
int rec_load(const char *path, struct trace *t, char *err, size_t cap);

#endif
