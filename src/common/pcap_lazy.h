/* SPDX-License-Identifier: MIT */
/*
 * libpcap, loaded on first use: only `mint capture` and `mint inject
 * --pcap` need it, and linking it would make every mint command (and
 * every node agent) load libpcap's dependencies (dbus, systemd, gcrypt,
 * ibverbs...) at start, about 1.5 ms each time.
 *
 * The table's members have the types of <pcap/pcap.h>'s prototypes, so
 * calls through it are checked at compile time as direct calls would be.
 */
#ifndef MINT_PCAP_LAZY_H
#define MINT_PCAP_LAZY_H

#include <stddef.h>
#include <pcap/pcap.h>

/* X(name) for each pcap_NAME mint uses. */
#define PCAP_LAZY_FUNCS(X)                                                                   \
	X(activate) X(close) X(create) X(datalink) X(datalink_val_to_name) X(dispatch)       \
	X(dump) X(dump_close) X(dump_file) X(dump_flush) X(dump_fopen) X(geterr)             \
	X(get_selectable_fd) X(get_tstamp_precision) X(next_ex)                              \
	X(open_offline_with_tstamp_precision) X(set_immediate_mode) X(set_snaplen)            \
	X(set_tstamp_precision) X(setnonblock) X(stats) X(statustostr)

struct pcap_lazy {
#define PCAP_LAZY_MEMBER(name) __typeof__(pcap_##name) *name;
	PCAP_LAZY_FUNCS(PCAP_LAZY_MEMBER)
#undef PCAP_LAZY_MEMBER
};

/* The table, loading libpcap the first time; NULL with the reason in WHY
 * (e.g. "libpcap is not installed (apt-get install libpcap0.8)"). */
const struct pcap_lazy *pcap_lazy_load(char *why, size_t cap);

#endif
