/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the exec server's decoder of MINT_EXEC_START, the
 * record that decides which uid runs which argv on a node.  Any bytes a
 * client writes must be refused or decoded into a request whose every
 * string lies inside the record, NUL-terminated, with the counts the
 * header gave: never a read outside it (ASan watches).
 * Also built: src/agent/exec_start.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/exec_start.h"

static struct exec_request req;

/* S lies inside [REC, REC + LEN) and ends there with its NUL. */
static void inside(const uint8_t *rec, uint32_t len, const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	if (p < rec || p >= rec + len || !memchr(p, '\0', (size_t)(rec + len - p)))
		abort();
}

static void check(const uint8_t *rec, uint32_t len, const struct mint_exec_start *h)
{
	if (h->argc < 1 || h->argc > MINT_EXEC_MAX_ARGS || h->envc > MINT_EXEC_MAX_ENV)
		abort();
	inside(rec, len, req.cwd);
	if (req.cwd[0] != '/' || req.argv[h->argc] || req.env[h->envc] || !req.argv[0][0])
		abort();
	for (uint32_t i = 0; i < h->argc; i++)
		inside(rec, len, req.argv[i]);
	for (uint32_t i = 0; i < h->envc; i++) {
		inside(rec, len, req.env[i]);
		if (req.env[i][0] == '=' || !strchr(req.env[i], '='))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MINT_EXEC_START_MAX)
		return 0;
	/* The server decodes its own copy: an exact-size one, so that ASan
	 * sees a read one byte past the record. */
	uint8_t *rec = malloc(size ? size : 1);
	if (!rec)
		return 0;
	memcpy(rec, data, size);
	struct mint_exec_start h;
	if (exec_start_decode(rec, (uint32_t)size, &h, &req))
		check(rec, (uint32_t)size, &h);
	free(rec);
	return 0;
}
