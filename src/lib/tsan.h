/* SPDX-License-Identifier: MIT */
/*
 * Happens-before edges that ThreadSanitizer cannot see for itself.  TSan
 * follows acquire/release pairs by address within one process; a pool
 * buffer's way back to a node goes through other processes, or through
 * other mappings of the fabric in one process, whose atomics it does not
 * know alias.  tsan_acquire/tsan_release name, on an address of this
 * mapping, an ordering the fabric's own atomics already give (each call
 * site says which); in other builds they are nothing.
 */
#ifndef MINT_TSAN_H
#define MINT_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define MINT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MINT_TSAN 1
#endif
#endif

#ifdef MINT_TSAN
#include <sanitizer/tsan_interface.h>
static inline void tsan_acquire(void *addr) { __tsan_acquire(addr); }
static inline void tsan_release(void *addr) { __tsan_release(addr); }
#else
static inline void tsan_acquire(void *addr) { (void)addr; }
static inline void tsan_release(void *addr) { (void)addr; }
#endif

#endif
