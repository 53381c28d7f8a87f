/* SPDX-License-Identifier: MIT */
/* The node agent's remote execution server (the far end of `mint exec`). */
#ifndef MINT_EXEC_SERVER_H
#define MINT_EXEC_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/mint.h"

#define EXEC_MAX_UIDS 16
#define EXEC_MAX_SESSIONS 64

/*
 * Who may be run as whom, decided here and never by the client.  uid 0 is
 * honoured when ALLOW_ROOT is set, or when nobody but root can write the
 * fabric file (owner root, no group or other write).  Other uids must be
 * in UIDS; without a list, the fabric file's owner is the only one.
 */
struct exec_policy {
	bool disabled;  /* --no-exec */
	bool allow_root;
	int nuids;      /* -1: no list given */
	uint32_t uids[EXEC_MAX_UIDS];
};

struct exec_server;

int exec_server_create(struct mint_fabric *f, const struct exec_policy *policy,
		       struct exec_server **out);

/* Hang up every session (their commands get SIGHUP) and wait for them. */
void exec_server_destroy(struct exec_server *s);

/* Whether a session already serves the channel at offset OFF. */
bool exec_server_owns(struct exec_server *s, uint64_t off);

/*
 * The first record (MSG, LEN bytes of TYPE) of exec channel NAME at OFF,
 * opened as CH: start a session in a thread of its own, which owns the
 * channel from now on.  A first record that is not a well-formed
 * MINT_EXEC_START, or no free session, is refused: the client is told, and the
 * channel removed.  Returns true when a session took the channel.
 */
bool exec_server_start(struct exec_server *s, const struct mint_channel *ch, uint64_t off,
		       const char *name, const void *msg, uint32_t len, uint32_t type);

/* Tell the client of channel NAME at OFF why it gets no session (an
 * MINT_EXEC_ERROR of KIND saying WHAT), log it, and remove the channel. */
void exec_server_refuse(struct mint_fabric *f, const struct mint_channel *ch, uint64_t off,
			const char *name, uint32_t kind, const char *what);

#endif
