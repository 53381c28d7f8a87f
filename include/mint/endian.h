/* SPDX-License-Identifier: MIT */
/*
 * The fabric and the records nodes exchange are little-endian whatever the
 * node's own byte order (a big-endian s390x node shares the fabric with
 * x86_64 ones).  mint_le32/mint_le64 convert between a field's stored form
 * and the host's value; each is its own inverse.
 */
#ifndef MINT_ENDIAN_H
#define MINT_ENDIAN_H

#include <stdint.h>
#include "mint/api.h"

MINT_BEGIN_DECLS

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define MINT_BIG_ENDIAN 1
static inline uint32_t mint_le32(uint32_t v) { return __builtin_bswap32(v); }
static inline uint64_t mint_le64(uint64_t v) { return __builtin_bswap64(v); }
#else
#define MINT_BIG_ENDIAN 0
static inline uint32_t mint_le32(uint32_t v) { return v; }
static inline uint64_t mint_le64(uint64_t v) { return v; }
#endif

MINT_END_DECLS

#endif
