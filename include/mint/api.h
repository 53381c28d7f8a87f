/* SPDX-License-Identifier: MIT */
/*
 * What every public header uses so that C11 and C++17 programs both accept
 * it: C linkage, the library's exported symbols, atomics, static asserts.
 *
 * A shared-memory field is MINT_ATOMIC(T): C11's _Atomic T, C++'s
 * std::atomic<T>.  Both are lock-free and the size and alignment of T on
 * every architecture mint builds for (the static asserts in layout.h
 * check it), so the two languages agree on the fabric's layout.
 */
#ifndef MINT_API_H
#define MINT_API_H

#ifdef __cplusplus
#include <atomic>
#define MINT_ATOMIC(T) std::atomic<T>
#define MINT_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define MINT_ALIGNOF(T) alignof(T)
#define MINT_BEGIN_DECLS extern "C" { _Pragma("GCC visibility push(default)")
#define MINT_END_DECLS _Pragma("GCC visibility pop") }
#else
#include <stdatomic.h>
#define MINT_ATOMIC(T) _Atomic T
#define MINT_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define MINT_ALIGNOF(T) _Alignof(T)
/* libmint builds with -fvisibility=hidden: only what the public headers
 * declare is exported (and src/lib/libmint.map lists it). */
#define MINT_BEGIN_DECLS _Pragma("GCC visibility push(default)")
#define MINT_END_DECLS _Pragma("GCC visibility pop")
#endif

#endif
