/* SPDX-License-Identifier: MIT */
/* A minimal harness for the C tests: each test program runs its cases and
 * exits 0 (pass), 1 (fail) or 77 (skip, with the reason on stdout). */
#ifndef MINT_TESTLIB_H
#define MINT_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mint/mint.h"

static int t_failures;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			t_failures++;                                                  \
		}                                                                      \
	} while (0)

#define CHECK_EQ(a, b)                                                                 \
	do {                                                                           \
		long long t_a = (long long)(a), t_b = (long long)(b);                  \
		if (t_a != t_b) {                                                      \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
				__LINE__, #a, t_a, #b, t_b);                           \
			t_failures++;                                                  \
		}                                                                      \
	} while (0)

#define RUN(fn)                                                                        \
	do {                                                                           \
		int t_before = t_failures;                                             \
		fn();                                                                  \
		printf("%s %s\n", t_failures == t_before ? "ok  " : "FAIL", #fn);      \
	} while (0)

#define SKIP(reason)                                                                   \
	do {                                                                           \
		printf("skip: %s\n", reason);                                          \
		exit(77);                                                              \
	} while (0)

/* Iteration counts: N normally, 20 N under `make stress` (MINT_STRESS=1). */
static inline long t_scale(long n)
{
	const char *stress = getenv("MINT_STRESS");
	return stress && *stress && *stress != '0' ? n * 20 : n;
}

/* A fabric name unique to this test process; removed by t_fabric_cleanup. */
static char t_name[64];

static inline struct mint_fabric *t_fabric(uint64_t size)
{
	snprintf(t_name, sizeof(t_name), "test-%d", (int)getpid());
	mint_fabric_destroy(t_name);
	struct mint_fabric *f = NULL;
	int rc = mint_fabric_create(t_name, size, &f);
	if (rc) {
		fprintf(stderr, "cannot create fabric %s: %s\n", t_name, mint_strerror(rc));
		exit(1);
	}
	return f;
}

static inline void t_fabric_cleanup(void)
{
	if (t_name[0])
		mint_fabric_destroy(t_name);
}

static inline int t_done(void)
{
	t_fabric_cleanup();
	return t_failures ? 1 : 0;
}

#endif
