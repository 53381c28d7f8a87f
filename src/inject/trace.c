/* SPDX-License-Identifier: MIT */
#include "inject/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inject/pkt.h"
#ifdef MINT_WITH_PCAP
#include "common/pcap_lazy.h"
#endif

int trace_add(struct trace *t, uint64_t rel_ns, uint64_t event, const uint8_t *frame,
	      uint32_t len, const struct mint_nic_pkt *desc)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct trace_pkt *p = realloc(t->p, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		t->p = p;
		t->cap = cap;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, frame, len);
	struct trace_pkt *tp = &t->p[t->n];
	tp->rel_ns = rel_ns;
	tp->event = event;
	tp->pkt = *desc;
	tp->pkt.data = copy;
	tp->pkt.copy_len = len;
	if (t->n == 0 || t->p[t->n - 1].event != event)
		t->events++;
	t->n++;
	return 0;
}

void trace_free(struct trace *t)
{
	for (size_t i = 0; i < t->n; i++)
		free((void *)t->p[i].pkt.data);
	free(t->p);
	memset(t, 0, sizeof(*t));
}

#ifdef MINT_WITH_PCAP
static uint64_t ts_ns(const struct pcap_pkthdr *h)
{
	return (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
}

static int read_packets(const struct pcap_lazy *libpcap, pcap_t *p, double speed, struct trace *t, char *err, size_t cap)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t first = 0;
	int rc;
	while ((rc = libpcap->next_ex(p, &h, &data)) == 1) {
		if (h->caplen > PKT_MAX) {
			snprintf(err, cap, "packet %zu is %u bytes: more than the largest NIC buffer (%u)",
				 t->n + 1, h->caplen, PKT_MAX);
			return -1;
		}
		if (t->n == 0)
			first = ts_ns(h);
		uint64_t at = ts_ns(h) >= first ? ts_ns(h) - first : 0;
		struct mint_nic_pkt desc;
		pkt_wire(data, h->caplen, &desc);
		if (trace_add(t, (uint64_t)((double)at / speed), t->n, data, h->caplen, &desc)) {
			snprintf(err, cap, "out of memory");
			return -1;
		}
	}
	if (rc == PCAP_ERROR) {
		snprintf(err, cap, "%s", libpcap->geterr(p));
		return -1;
	}
	if (t->n == 0) {
		snprintf(err, cap, "no packets");
		return -1;
	}
	return 0;
}

int trace_load_pcap(const char *path, double speed, struct trace *t, char *err, size_t cap)
{
	const struct pcap_lazy *libpcap = pcap_lazy_load(err, cap);
	if (!libpcap)
		return -ENOSYS;
	char perr[PCAP_ERRBUF_SIZE] = "";
	/* Nanosecond timestamps whatever the file has (libpcap scales). */
	pcap_t *p = libpcap->open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p) {
		snprintf(err, cap, "%s", perr);
		return -1;
	}
	int rc = -1;
	if (libpcap->datalink(p) != DLT_EN10MB)
		snprintf(err, cap, "not an Ethernet capture (link type %s)",
			 libpcap->datalink_val_to_name(libpcap->datalink(p)) ?: "unknown");
	else
		rc = read_packets(libpcap, p, speed, t, err, cap);
	libpcap->close(p);
	if (rc)
		trace_free(t);
	return rc;
}
#else
int trace_load_pcap(const char *path, double speed, struct trace *t, char *err, size_t cap)
{
	(void)path, (void)speed, (void)t;
	snprintf(err, cap, "pcap input is not in this build (it needs libpcap)");
	return -ENOSYS;
}
#endif
