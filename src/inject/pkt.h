/* SPDX-License-Identifier: MIT */
/* mint inject's packets: Ethernet frames built from a spec, per event. */
#ifndef MINT_INJECT_PKT_H
#define MINT_INJECT_PKT_H

#include <stdint.h>

#include "mint/nic.h"

enum pkt_type { PKT_ARP, PKT_ICMP, PKT_UDP, PKT_TCP_SYN, PKT_RAW };
enum pkt_malform { MAL_NONE, MAL_BAD_LENGTH, MAL_BAD_CSUM, MAL_ERROR_BITS, MAL_NO_EOP,
		   MAL_CHAIN_CUT };

#define PKT_MAX MINT_NIC_MAX_FRAME /* the longest frame, chained over buffers */

struct pkt_spec {
	enum pkt_type type;
	enum pkt_malform malform;
	uint32_t size;        /* frame bytes; 0: the type's smallest (at least 60) */
	uint8_t src_mac[6], dst_mac[6];
	uint8_t src_ip[4], dst_ip[4];
	uint16_t sport, dport;
	int32_t vlan;         /* 802.1Q id 0..4095 in the descriptor, -1: none */
	uint8_t raw[PKT_MAX]; /* PKT_RAW: the frame */
	uint32_t raw_len;
};

/* Parsers: 0, or -1 for text that is not one. */
int pkt_parse_type(const char *s, enum pkt_type *t);
int pkt_parse_malform(const char *s, enum pkt_malform *m);
int pkt_parse_mac(const char *s, uint8_t mac[6]);
int pkt_parse_ipv4(const char *s, uint8_t ip[4]);
int pkt_parse_hex(const char *s, uint8_t *out, uint32_t cap, uint32_t *len);
const char *pkt_type_name(enum pkt_type t);

/* The smallest frame of the spec's type (headers, 8 bytes of sequence). */
uint32_t pkt_min_size(const struct pkt_spec *s);

/*
 * Event N's frame into BUF (at least PKT_MAX bytes), with N in its
 * sequence field (ICMP sequence, first payload bytes, TCP sequence), and
 * the descriptor fields into *P (data = BUF).  Returns the frame length.
 */
uint32_t pkt_build(const struct pkt_spec *s, uint64_t n, uint8_t *buf, struct mint_nic_pkt *p);

/* Descriptor fields of a frame as received from a wire (pcap input). */
void pkt_wire(const uint8_t *frame, uint32_t len, struct mint_nic_pkt *p);

#endif
