/* SPDX-License-Identifier: MIT */
/* Decoding a MINT_EXEC_START record: it decides which uid and which argv
 * run, so it trusts nothing in the record (fuzz/fuzz_exec_start.c). */
#ifndef MINT_EXEC_START_H
#define MINT_EXEC_START_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/proto.h"

/* What a start record asks for: pointers into the record itself. */
struct exec_request {
	const char *cwd;
	char *argv[MINT_EXEC_MAX_ARGS + 1];
	char *env[MINT_EXEC_MAX_ENV + 1];
};

/*
 * Decode REC (LEN bytes, the receiver's private copy of the record) into
 * the host-order header *H and R's strings, which point into REC.  True
 * only when the header is valid (version, flags, counts, window size,
 * client pid) and CWD (absolute), ARGC non-empty arguments and ENVC "K=V"
 * strings, each NUL-terminated, fill the record exactly.
 */
bool exec_start_decode(uint8_t *rec, uint32_t len, struct mint_exec_start *h,
		       struct exec_request *r);

#endif
