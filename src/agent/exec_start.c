/* SPDX-License-Identifier: MIT */
/* Decoding a MINT_EXEC_START record (see exec_start.h). */
#include "agent/exec_start.h"

#include <string.h>

#include "mint/endian.h"

/* Split the strings after the header; false if they do not fill the
 * record exactly as the header's counts say. */
static bool split_strings(const struct mint_exec_start *h, char *p, char *end,
			  struct exec_request *r)
{
	uint32_t want = 1 + h->argc + h->envc;
	for (uint32_t i = 0; i < want; i++) {
		char *nul = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
		if (!nul)
			return false;
		if (i == 0)
			r->cwd = p;
		else if (i <= h->argc)
			r->argv[i - 1] = p;
		else if (!strchr(p, '=') || *p == '=')
			return false; /* not K=V */
		else
			r->env[i - 1 - h->argc] = p;
		p = nul + 1;
	}
	r->argv[h->argc] = NULL;
	r->env[h->envc] = NULL;
	return p == end && r->cwd[0] == '/' && r->argv[0][0] != '\0';
}

bool exec_start_decode(uint8_t *rec, uint32_t len, struct mint_exec_start *h,
		       struct exec_request *r)
{
	if (len < sizeof(*h))
		return false;
	memcpy(h, rec, sizeof(*h));
	uint32_t *words[] = {&h->version, &h->flags, &h->uid, &h->gid, &h->argc, &h->envc,
			     &h->rows, &h->cols, (uint32_t *)&h->client_pid};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		*words[i] = mint_le32(*words[i]);
	h->client_start = mint_le64(h->client_start);
	return h->version == MINT_EXEC_VERSION && (h->flags & ~(uint32_t)MINT_EXEC_TTY) == 0 &&
	       h->argc >= 1 && h->argc <= MINT_EXEC_MAX_ARGS && h->envc <= MINT_EXEC_MAX_ENV &&
	       h->rows <= 0xffff && h->cols <= 0xffff && h->client_pid > 0 &&
	       split_strings(h, (char *)rec + sizeof(*h), (char *)rec + len, r);
}
