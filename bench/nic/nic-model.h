/* SPDX-License-Identifier: MIT */
/*
 * The emulated NIC's descriptor semantics alone, without libmint: the
 * leanest code for what the e1000 receive contract makes both sides write,
 * as a ceiling for the NIC of the injection pair (nic-bench's context
 * line).  The same descriptors (struct mint_nic_desc: 16 bytes, 4 a line)
 * and buffers (NIC_BUF bytes, descriptor i holding buffer i) as the NIC's
 * layout, and per batch:
 *   - the device reads each descriptor's buffer offset (e1000's buffer
 *     address: the driver's to set), copies each packet there, then
 *     stores each status word (length, DD, EOP) with release: three
 *     passes, as the NIC's device (the first loads every descriptor line
 *     of the batch at once); then it sets the cause (ICR) with an atomic
 *     OR and rings with an atomic add;
 *   - the driver sees the doorbell count move, reads and clears ICR (an
 *     exchange), then takes descriptors while DD is set: copies the packet
 *     out, clears the status word; and gives them back by storing RDT.
 * So both sides write every descriptor line (DD set, DD cleared) and
 * ICR's line, each crossing to the other side and back.  What it leaves
 * out is not the contract: most validation of what the other side wrote
 * (an offset is kept in bounds, no more), counters, chains, masks,
 * moderation, the device table.
 */
#ifndef MINT_BENCH_NIC_MODEL_H
#define MINT_BENCH_NIC_MODEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "nic/nic-pair.h"

#define MODEL_LINE 64
/* The calls of each side out of line, as libmint's are, so that callgrind
 * counts them one by one (nic-icount). */
#define MODEL_CALL static __attribute__((noinline))

/* In shared memory; every word on a line of its own writer. */
struct nic_model {
	_Alignas(MODEL_LINE) _Atomic uint32_t icr; /* device: fetch_or; driver: exchange */
	_Alignas(MODEL_LINE) _Atomic uint64_t bell; /* device: fetch_add; driver: load */
	_Alignas(MODEL_LINE) _Atomic uint32_t rdt;  /* driver: store */
	_Alignas(MODEL_LINE) struct mint_nic_desc desc[NIC_DESCS];
	_Alignas(MODEL_LINE) uint8_t buf[NIC_DESCS * NIC_BUF];
};

/* Each side's own indices, in its own memory. */
struct nic_model_dev {
	struct nic_model *m;
	uint32_t rdh, rdt;
};
struct nic_model_drv {
	struct nic_model *m;
	uint32_t next, rdt;
	uint64_t bell;
};

static inline uint32_t model_wrap(uint32_t i)
{
	return i >= NIC_DESCS ? i - NIC_DESCS : i;
}

/* An empty ring, every descriptor but one the device's (as the NIC). */
static inline void nic_model_init(struct nic_model *m)
{
	memset(m, 0, sizeof(*m));
	for (uint32_t i = 0; i < NIC_DESCS; i++)
		m->desc[i].addr = (uint64_t)i * NIC_BUF;
	atomic_store(&m->rdt, NIC_DESCS - 1);
}

/* ---- the device ---- */

/* Write up to N copies of the PKT bytes at DATA; returns how many. */
MODEL_CALL unsigned nic_model_put(struct nic_model_dev *d, const void *data, unsigned n)
{
	struct nic_model *m = d->m;
	uint32_t room = model_wrap(d->rdt + NIC_DESCS - d->rdh);
	if (room < n) { /* RDT again only when out of known room, as the NIC */
		d->rdt = atomic_load_explicit(&m->rdt, memory_order_acquire);
		room = model_wrap(d->rdt + NIC_DESCS - d->rdh);
		n = room < n ? room : n;
	}
	uint64_t addrs[BATCH], last = (uint64_t)(NIC_DESCS - 1) * NIC_BUF;
	n = n < BATCH ? n : BATCH;
	for (unsigned i = 0, at = d->rdh; i < n; i++, at = model_wrap(at + 1)) {
		uint64_t a = *(volatile const uint64_t *)&m->desc[at].addr;
		addrs[i] = a <= last ? a : (uint64_t)at * NIC_BUF; /* in bounds */
	}
	for (unsigned i = 0; i < n; i++)
		memcpy(m->buf + addrs[i], data, PKT);
	uint64_t w = PKT | (uint64_t)(MINT_NIC_STAT_DD | MINT_NIC_STAT_EOP) << 32;
	for (unsigned i = 0; i < n; i++, d->rdh = model_wrap(d->rdh + 1))
		atomic_store_explicit(&m->desc[d->rdh].status_word, w, memory_order_release);
	return n;
}

/* The interrupt: the cause, then the doorbell. */
MODEL_CALL void nic_model_kick(struct nic_model_dev *d)
{
	atomic_fetch_or_explicit(&d->m->icr, MINT_NIC_ICR_RXT0, memory_order_release);
	atomic_fetch_add_explicit(&d->m->bell, 1, memory_order_release);
}

/* ---- the driver ---- */

/* Descriptors in a line. */
#define MODEL_DESC_PER_LINE (MODEL_LINE / sizeof(struct mint_nic_desc))

/* Entering a line of descriptors, ask for the next one for writing: the
 * driver loads a status word and then clears it, and a plain load would
 * fetch the line shared and the store take it over a second time (the
 * NIC's driver does the same). */
static inline void model_fetch_ahead(const struct nic_model_drv *v)
{
	if (v->next % MODEL_DESC_PER_LINE)
		return;
	const void *p = &v->m->desc[model_wrap(v->next + MODEL_DESC_PER_LINE)];
#if defined(__x86_64__) || defined(__i386__)
	__asm__("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

/* Take up to BUDGET packets, give their descriptors back; how many. */
MODEL_CALL unsigned nic_model_rx(struct nic_model_drv *v, unsigned budget)
{
	struct nic_model *m = v->m;
	unsigned done = 0;
	for (; done < budget; done++, v->next = model_wrap(v->next + 1)) {
		model_fetch_ahead(v);
		struct mint_nic_desc *d = &m->desc[v->next];
		uint64_t w = atomic_load_explicit(&d->status_word, memory_order_acquire);
		if (!(w >> 32 & MINT_NIC_STAT_DD))
			break;
		if ((w & 0xffff) == PKT)
			nic_pair_take(m->buf + (uint64_t)v->next * NIC_BUF);
		atomic_store_explicit(&d->status_word, 0, memory_order_relaxed);
	}
	if (done) {
		v->rdt = model_wrap(v->rdt + done);
		atomic_store_explicit(&m->rdt, v->rdt, memory_order_release);
	}
	return done;
}

/* A doorbell since the last call?  Then read and clear the cause: true,
 * and the caller takes the packets (nic_model_rx until 0). */
MODEL_CALL bool nic_model_rang(struct nic_model_drv *v)
{
	uint64_t bell = atomic_load_explicit(&v->m->bell, memory_order_acquire);
	if (bell == v->bell)
		return false;
	v->bell = bell;
	atomic_exchange_explicit(&v->m->icr, 0, memory_order_acq_rel);
	return true;
}

#endif
