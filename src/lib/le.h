/* SPDX-License-Identifier: MIT */
/*
 * Little-endian access to fabric fields, plain and atomic.  On a
 * little-endian build these are the plain C11 operations; on a big-endian
 * build (s390x) values are byte-swapped, bitwise RMWs swap the operand
 * instead, and arithmetic RMWs become compare-and-swap loops.  The memory
 * order is the caller's: each call site says which pair it forms.
 */
#ifndef MINT_LE_H
#define MINT_LE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mint/endian.h"

/* Short names for the library's own use. */
static inline uint32_t le32(uint32_t v) { return mint_le32(v); }
static inline uint64_t le64(uint64_t v) { return mint_le64(v); }

static inline uint32_t rd32(const uint32_t *p) { return le32(*p); }
static inline uint64_t rd64(const uint64_t *p) { return le64(*p); }
static inline void wr32(uint32_t *p, uint32_t v) { *p = le32(v); }
static inline void wr64(uint64_t *p, uint64_t v) { *p = le64(v); }

static inline uint32_t ald32(const _Atomic uint32_t *p, memory_order mo)
{
	return le32(atomic_load_explicit((_Atomic uint32_t *)p, mo));
}
static inline uint64_t ald64(const _Atomic uint64_t *p, memory_order mo)
{
	return le64(atomic_load_explicit((_Atomic uint64_t *)p, mo));
}
static inline void ast32(_Atomic uint32_t *p, uint32_t v, memory_order mo)
{
	atomic_store_explicit(p, le32(v), mo);
}
static inline void ast64(_Atomic uint64_t *p, uint64_t v, memory_order mo)
{
	atomic_store_explicit(p, le64(v), mo);
}
static inline uint32_t axchg32(_Atomic uint32_t *p, uint32_t v, memory_order mo)
{
	return le32(atomic_exchange_explicit(p, le32(v), mo));
}
static inline uint64_t axchg64(_Atomic uint64_t *p, uint64_t v, memory_order mo)
{
	return le64(atomic_exchange_explicit(p, le64(v), mo));
}
static inline uint64_t aor64(_Atomic uint64_t *p, uint64_t mask, memory_order mo)
{
	return le64(atomic_fetch_or_explicit(p, le64(mask), mo));
}
static inline uint32_t aor32(_Atomic uint32_t *p, uint32_t mask, memory_order mo)
{
	return le32(atomic_fetch_or_explicit(p, le32(mask), mo));
}
static inline int acas64(_Atomic uint64_t *p, uint64_t *expected, uint64_t desired,
			 memory_order mo)
{
	uint64_t raw = le64(*expected);
	int ok = atomic_compare_exchange_strong_explicit(p, &raw, le64(desired), mo,
							 memory_order_relaxed);
	*expected = le64(raw);
	return ok;
}
static inline int acas32(_Atomic uint32_t *p, uint32_t *expected, uint32_t desired,
			 memory_order mo)
{
	uint32_t raw = le32(*expected);
	int ok = atomic_compare_exchange_strong_explicit(p, &raw, le32(desired), mo,
							 memory_order_relaxed);
	*expected = le32(raw);
	return ok;
}
static inline uint32_t aadd32(_Atomic uint32_t *p, uint32_t v, memory_order mo)
{
#if MINT_BIG_ENDIAN
	uint32_t raw = atomic_load_explicit(p, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(p, &raw, le32(le32(raw) + v), mo,
						      memory_order_relaxed))
		;
	return le32(raw);
#else
	return atomic_fetch_add_explicit(p, v, mo);
#endif
}
static inline uint64_t aadd64(_Atomic uint64_t *p, uint64_t v, memory_order mo)
{
#if MINT_BIG_ENDIAN
	uint64_t raw = atomic_load_explicit(p, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(p, &raw, le64(le64(raw) + v), mo,
						      memory_order_relaxed))
		;
	return le64(raw);
#else
	return atomic_fetch_add_explicit(p, v, mo);
#endif
}

/*
 * Plain fields that a lock-free snapshot reads while a lock holder may
 * rewrite them (a slot reused, a repair), as relaxed atomic words: the
 * race gives a torn value that the reader's own checks (state, generation)
 * deal with, never a data race.  They order nothing themselves.
 */
static inline uint32_t rld32(const uint32_t *p) { return le32(__atomic_load_n(p, __ATOMIC_RELAXED)); }
static inline uint64_t rld64(const uint64_t *p) { return le64(__atomic_load_n(p, __ATOMIC_RELAXED)); }
static inline void rst32(uint32_t *p, uint32_t v) { __atomic_store_n(p, le32(v), __ATOMIC_RELAXED); }
static inline void rst64(uint64_t *p, uint64_t v) { __atomic_store_n(p, le64(v), __ATOMIC_RELAXED); }

/* A constant put back: V stored at P (relaxed) if P holds something else;
 * true if it did. */
static inline bool rfix32(uint32_t *p, uint32_t v)
{
	if (rld32(p) == v)
		return false;
	rst32(p, v);
	return true;
}

/* A name field of CAP bytes (8-aligned, a multiple of 8) in and out the
 * same way, a word at a time; OUT gets its last byte forced to NUL. */
static inline void rname_in(char *out, const char *field, uint32_t cap)
{
	for (uint32_t i = 0; i < cap; i += 8) {
		uint64_t w = __atomic_load_n((const uint64_t *)(const void *)(field + i),
					     __ATOMIC_RELAXED);
		memcpy(out + i, &w, sizeof(w));
	}
	out[cap - 1] = '\0';
}

static inline void rname_out(char *field, const char *name, uint32_t cap)
{
	/* LEN bounds every read of NAME: past its NUL lies another object. */
	size_t len = strnlen(name, cap - 1);
	for (uint32_t i = 0; i < cap; i += 8) {
		char word[8] = {0};
		for (uint32_t k = 0; k < 8 && i + k < len; k++)
			word[k] = name[i + k];
		uint64_t w;
		memcpy(&w, word, sizeof(w));
		__atomic_store_n((uint64_t *)(void *)(field + i), w, __ATOMIC_RELAXED);
	}
}

/* A counter only its owner writes: no RMW needed, readers see it relaxed. */
static inline void own_inc64(_Atomic uint64_t *p, uint64_t v)
{
	ast64(p, ald64(p, memory_order_relaxed) + v, memory_order_relaxed);
}

#endif
