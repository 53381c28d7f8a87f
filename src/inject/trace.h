/* SPDX-License-Identifier: MIT */
/* Packets mint inject replays: from a pcap file or from its own record. */
#ifndef MINT_INJECT_TRACE_H
#define MINT_INJECT_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "mint/nic.h"

struct trace_pkt {
	uint64_t rel_ns;        /* due time from the first event */
	uint64_t event;         /* packets of one event share one interrupt */
	struct mint_nic_pkt pkt; /* data: owned by the trace */
};

struct trace {
	struct trace_pkt *p;
	size_t n, cap;
	uint64_t events;        /* distinct events */
};

/* Append a copy of LEN bytes of FRAME; 0 or -ENOMEM. */
int trace_add(struct trace *t, uint64_t rel_ns, uint64_t event, const uint8_t *frame,
	      uint32_t len, const struct mint_nic_pkt *desc);
void trace_free(struct trace *t);

/*
 * Load an Ethernet pcap or pcapng file (libpcap), each packet an event
 * due at its timestamp's distance from the first divided by SPEED.  0;
 * -1 with the reason in ERR (unreadable, not a capture, truncated, not
 * Ethernet, no packets, a packet beyond the largest NIC buffer); or
 * -ENOSYS with the reason in ERR when there is no libpcap to read it.
 */
int trace_load_pcap(const char *path, double speed, struct trace *t, char *err, size_t cap);

#endif
