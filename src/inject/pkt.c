/* SPDX-License-Identifier: MIT */
/*
 * Frames for mint inject: ARP requests, ICMP echo requests, UDP datagrams,
 * TCP SYNs or raw bytes, valid unless a malformation is asked for, and
 * the e1000 descriptor fields a NIC would write for them.
 */
#include "inject/pkt.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define ETH_HLEN 14u
#define IP_HLEN 20u
#define ETH_MIN 60u /* a minimum Ethernet frame without its FCS */

static const char *const type_names[] = {"arp", "icmp", "udp", "tcp-syn", "raw"};
static const char *const malform_names[] = {"none",	    "bad-length", "bad-csum",
					    "error-bits", "no-eop",	    "chain-cut"};

static int lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int pkt_parse_type(const char *s, enum pkt_type *t)
{
	int i = lookup(s, type_names, 5);
	if (i < 0)
		return -1;
	*t = (enum pkt_type)i;
	return 0;
}

int pkt_parse_malform(const char *s, enum pkt_malform *m)
{
	int i = lookup(s, malform_names, 6);
	if (i < 0)
		return -1;
	*m = (enum pkt_malform)i;
	return 0;
}

const char *pkt_type_name(enum pkt_type t)
{
	return type_names[t];
}

int pkt_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int pkt_parse_ipv4(const char *s, uint8_t ip[4])
{
	return inet_pton(AF_INET, s, ip) == 1 ? 0 : -1;
}

int pkt_parse_hex(const char *s, uint8_t *out, uint32_t cap, uint32_t *len)
{
	uint32_t n = 0;
	for (const char *p = s; *p;) {
		if (*p == ':' || *p == ' ' || *p == '-') {
			p++;
			continue;
		}
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || n == cap)
			return -1;
		unsigned v;
		sscanf(p, "%2x", &v);
		out[n++] = (uint8_t)v;
		p += 2;
	}
	*len = n;
	return n ? 0 : -1;
}

uint32_t pkt_min_size(const struct pkt_spec *s)
{
	uint32_t hdr[] = {ETH_HLEN + 28, ETH_HLEN + IP_HLEN + 8 + 8, ETH_HLEN + IP_HLEN + 8 + 8,
			  ETH_HLEN + IP_HLEN + 20, 0};
	if (s->type == PKT_RAW)
		return s->raw_len;
	return hdr[s->type] > ETH_MIN ? hdr[s->type] : ETH_MIN;
}

/* The Internet checksum of LEN bytes, starting from SUM. */
static uint16_t csum(const uint8_t *b, uint32_t len, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* An IPv4 header for PROTO with LEN bytes after the Ethernet header. */
static void ip_header(const struct pkt_spec *s, uint8_t *ip, uint8_t proto, uint32_t len,
		      uint64_t n)
{
	memset(ip, 0, IP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, len);
	put16(ip + 4, (uint32_t)n);
	ip[6] = 0x40; /* don't fragment */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, s->src_ip, 4);
	memcpy(ip + 16, s->dst_ip, 4);
	put16(ip + 10, csum(ip, IP_HLEN, 0));
}

/* TCP and UDP checksums cover a pseudo-header of addresses and length. */
static uint16_t l4_csum(const uint8_t *ip, uint8_t proto, const uint8_t *l4, uint32_t len)
{
	uint32_t sum = 0;
	for (int i = 12; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	sum += proto + len;
	return csum(l4, len, sum);
}

static void arp_request(const struct pkt_spec *s, uint8_t *a)
{
	put16(a, 1);          /* Ethernet */
	put16(a + 2, 0x0800); /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);      /* request */
	memcpy(a + 8, s->src_mac, 6);
	memcpy(a + 14, s->src_ip, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, s->dst_ip, 4);
}

/* ICMP echo, UDP or TCP SYN over IPv4, filling the frame to LEN. */
static void ip_packet(const struct pkt_spec *s, uint64_t n, uint8_t *f, uint32_t len)
{
	uint8_t *ip = f + ETH_HLEN, *l4 = ip + IP_HLEN;
	uint32_t l4len = len - ETH_HLEN - IP_HLEN;
	uint8_t proto = s->type == PKT_ICMP ? 1 : s->type == PKT_UDP ? 17 : 6;
	uint32_t hlen = s->type == PKT_TCP_SYN ? 20 : 8;
	memset(l4, 0, hlen);
	/* The payload: the event number, then a pattern. */
	for (uint32_t i = hlen; i < l4len; i++)
		l4[i] = (uint8_t)(i - hlen >= 8 ? i : n >> (8 * (7 - (i - hlen))));
	ip_header(s, ip, proto, len - ETH_HLEN, n);
	if (s->type == PKT_ICMP) {
		l4[0] = 8; /* echo request */
		put16(l4 + 4, s->sport);
		put16(l4 + 6, (uint32_t)n);
		put16(l4 + 2, csum(l4, l4len, 0));
		return;
	}
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (s->type == PKT_UDP) {
		put16(l4 + 4, l4len);
		uint16_t c = l4_csum(ip, proto, l4, l4len);
		put16(l4 + 6, c ? c : 0xffff);
		return;
	}
	put32(l4 + 4, (uint32_t)n); /* sequence number */
	l4[12] = 5 << 4;            /* data offset: 20 bytes */
	l4[13] = 0x02;              /* SYN */
	put16(l4 + 14, 65535);      /* window */
	put16(l4 + 16, l4_csum(ip, proto, l4, l4len));
}

uint32_t pkt_build(const struct pkt_spec *s, uint64_t n, uint8_t *buf, struct mint_nic_pkt *p)
{
	uint32_t len = s->size ? s->size : pkt_min_size(s);
	if (s->type == PKT_RAW) {
		memcpy(buf, s->raw, s->raw_len);
		memset(buf + s->raw_len, 0, len - s->raw_len);
	} else {
		memset(buf, 0, len);
		memcpy(buf, s->dst_mac, 6);
		memcpy(buf + 6, s->src_mac, 6);
		put16(buf + 12, s->type == PKT_ARP ? 0x0806 : 0x0800);
		if (s->type == PKT_ARP)
			arp_request(s, buf + ETH_HLEN);
		else
			ip_packet(s, n, buf, len);
	}
	pkt_wire(buf, len, p);
	if (s->vlan >= 0) {
		p->status |= MINT_NIC_STAT_VP; /* the tag, stripped, as e1000 does */
		p->vlan = (uint16_t)s->vlan;
	}
	switch (s->malform) {
	case MAL_BAD_LENGTH: p->len = 0xffff; break; /* beyond any buffer */
	case MAL_BAD_CSUM: buf[ETH_HLEN + 10] ^= 0x5a; break; /* the IP header's */
	case MAL_ERROR_BITS: p->errors = MINT_NIC_ERR_RXE | MINT_NIC_ERR_CE; break;
	case MAL_NO_EOP: p->status &= (uint8_t)~MINT_NIC_STAT_EOP; break;
	case MAL_CHAIN_CUT: p->flags = MINT_NIC_PKT_CUT; break; /* needs a chain: check_fit */
	case MAL_NONE: break;
	}
	return len;
}

void pkt_wire(const uint8_t *frame, uint32_t len, struct mint_nic_pkt *p)
{
	/* A NIC without receive checksum offload: EOP, and IXSM (its
	 * checksum bits mean nothing; the kernel verifies). */
	*p = (struct mint_nic_pkt){frame, len, len, 0, MINT_NIC_STAT_EOP | MINT_NIC_STAT_IXSM, 0, 0, 0};
}
