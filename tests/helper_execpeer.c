/* SPDX-License-Identifier: MIT */
/*
 * helper_execpeer: a hostile `mint exec` client for tests/t_exec.sh.
 *
 *   helper_execpeer FABRIC ID MODE
 *
 * opens an exec channel to node ID and sends, by MODE:
 *   badtype    a first record of an unknown type;
 *   badstart   an MINT_EXEC_START whose counts do not match its strings;
 *   oversize   a first record of 200 KiB (the server takes 128 KiB);
 *   midsession a good MINT_EXEC_START (sleep 30, as root, in /), then a record
 *              of an unknown type in the middle of the session;
 *   midbig     the same, then an input record of 200 KiB (the largest
 *              allowed is 128 KiB);
 *   badsig     a signal channel holding a record of an unknown type, then
 *              a good MINT_EXEC_START.
 * It expects an MINT_EXEC_ERROR of kind MINT_EXEC_ERR_PROTOCOL within 5 s and the
 * channel (and the signal channel, if any) removed by the server within
 * 3 s more; then it prints
 * "cut: MESSAGE" and exits 0, or prints "error: ..." and exits 1.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mint/proto.h"
#include "mint/endian.h"
#include "mint/mint.h"

static int fail(const char *what, int rc)
{
	printf("error: %s: %s\n", what, rc ? mint_strerror(rc) : "unexpected");
	return 1;
}

/* A START for "sleep 30" in "/" as root; with BAD, argc says 3. */
static uint32_t good_start(uint8_t *rec, int bad)
{
	static const char strings[] = "/\0sleep\0" "30";
	struct mint_exec_start h = {mint_le32(MINT_EXEC_VERSION), 0, 0, 0, mint_le32(bad ? 3 : 2), 0, 0, 0,
			       (int32_t)mint_le32((uint32_t)getpid()), 0,
			       mint_le64(mint_pid_start((int32_t)getpid()))};
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + sizeof(h), strings, sizeof(strings));
	return (uint32_t)(sizeof(h) + sizeof(strings));
}

/* Wait for the channel NAME to be gone. */
static int removed(struct mint_fabric *f, const char *name)
{
	struct mint_obj_info info;
	for (int i = 0; i < 300; i++) {
		if (mint_obj_find(f, name, &info) == -ENOENT)
			return 0;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: helper_execpeer FABRIC ID "
				"badtype|badstart|oversize|midsession|midbig|badsig\n");
		return 2;
	}
	struct mint_fabric *f;
	int rc = mint_fabric_attach(argv[1], &f);
	if (rc)
		return fail("attach", rc);
	uint32_t id = (uint32_t)atoi(argv[2]);
	const char *mode = argv[3];
	char name[MINT_OBJ_NAME_MAX];
	snprintf(name, sizeof(name), MINT_EXEC_PREFIX "peer.%d", (int)getpid());
	char sig[MINT_OBJ_NAME_MAX];
	snprintf(sig, sizeof(sig), MINT_EXEC_SIG_PREFIX "peer.%d", (int)getpid());
	struct mint_channel ch;
	if (strcmp(mode, "badsig") == 0) {
		rc = mint_channel_open(f, sig, MINT_NODE_NONE, id, MINT_EXEC_SIG_RING_SIZE, MINT_SIDE_A, &ch);
		if (rc != 1 || (rc = mint_ring_send(&ch.tx, "junk", 4, 99)) != 0)
			return fail("signal channel", rc);
	}
	rc = mint_channel_open(f, name, MINT_NODE_NONE, id, MINT_EXEC_RING_SIZE, MINT_SIDE_A, &ch);
	if (rc != 1)
		return fail("channel", rc);
	static uint8_t rec[200 * 1024];
	uint32_t len = good_start(rec, strcmp(mode, "badstart") == 0);
	if (strcmp(mode, "badtype") == 0)
		rc = mint_ring_send(&ch.tx, rec, len, 99);
	else if (strcmp(mode, "oversize") == 0)
		rc = mint_ring_send(&ch.tx, rec, sizeof(rec), MINT_EXEC_START);
	else
		rc = mint_ring_send(&ch.tx, rec, len, MINT_EXEC_START);
	bool big = strcmp(mode, "midbig") == 0;
	if (rc == 0 && (big || strcmp(mode, "midsession") == 0)) {
		struct timespec ts = {0, 200000000}; /* the command is running */
		nanosleep(&ts, NULL);
		rc = big ? mint_ring_send(&ch.tx, rec, sizeof(rec), MINT_EXEC_STDIN)
			 : mint_ring_send(&ch.tx, "junk", 4, 77);
	}
	if (rc)
		return fail("send", rc);
	uint32_t type;
	int n = mint_ring_recv_wait(&ch.rx, rec, sizeof(rec), &type, 5000);
	if (n < 4 || type != MINT_EXEC_ERROR)
		return fail("no error record", n < 0 ? n : 0);
	uint32_t kind;
	memcpy(&kind, rec, 4);
	if (mint_le32(kind) != MINT_EXEC_ERR_PROTOCOL)
		return fail("error kind", 0);
	if ((rc = removed(f, name)) != 0 || (rc = removed(f, sig)) != 0)
		return fail("channel not removed", rc);
	printf("cut: %.*s\n", n - 4, (const char *)rec + 4);
	mint_fabric_detach(f);
	return 0;
}
