/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: a fabric file with arbitrary contents (a damaged or
 * hostile file).  Attaching must fail cleanly or succeed; when it
 * succeeds, reading the node table, the object directory and every object
 * as a channel or ring must stay inside the mapping.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mint/endian.h"
#include "mint/mint.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/dev/shm/mint-fuzz-attach-%d", (int)getpid());
	return 0;
}

/* A valid header and geometry, then the input: with its first byte even,
 * over the header's fields (past magic and version, so the checks that
 * follow are explored); odd, over the object directory and the heap (so
 * the walk below meets hostile entries, channels and rings). */
static void write_file(const uint8_t *data, size_t len)
{
	struct mint_fabric_hdr h;
	uint64_t size = MINT_FABRIC_MIN_SIZE;
	memset(&h, 0, sizeof(h));
	h.magic = mint_le64(MINT_FABRIC_MAGIC);
	h.version = mint_le32(MINT_FABRIC_VERSION);
	h.header_size = mint_le32(sizeof(h));
	h.size = mint_le64(size);
	h.max_nodes = mint_le32(MINT_MAX_NODES);
	h.max_vectors = mint_le32(MINT_VECTORS);
	h.max_objects = mint_le32(MINT_MAX_OBJECTS);
	h.node_table_off = mint_le64(MINT_NODE_TABLE_OFF);
	h.objdir_off = mint_le64(MINT_OBJDIR_OFF);
	h.heap_off = mint_le64(MINT_HEAP_OFF);
	h.heap_size = mint_le64(size - MINT_HEAP_OFF);
	bool over_header = len > 0 && (data[0] & 1) == 0;
	if (len > 0) {
		data++;
		len--;
	}
	if (over_header)
		memcpy((uint8_t *)&h + 12, data, len < sizeof(h) - 12 ? len : sizeof(h) - 12);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) || ftruncate(fd, (off_t)size))
		abort();
	if (!over_header && len && pwrite(fd, data, len, MINT_OBJDIR_OFF) != (ssize_t)len)
		abort();
	close(fd);
}

static void walk(struct mint_fabric *f)
{
	struct mint_node_info info;
	for (uint32_t i = 0; i < MINT_MAX_NODES; i++)
		mint_node_info(f, i, &info);
	static struct mint_obj_info objs[MINT_MAX_OBJECTS];
	int n = mint_obj_list(f, objs, MINT_MAX_OBJECTS);
	for (int i = 0; i < n && i < (int)MINT_MAX_OBJECTS; i++) {
		struct mint_channel ch;
		struct mint_ring r;
		char buf[64];
		if (mint_channel_open_at(f, objs[i].offset, MINT_SIDE_B, &ch) == 0)
			mint_ring_recv(&ch.rx, buf, sizeof(buf), NULL);
		if (mint_ring_open(f, objs[i].offset, &r) == 0)
			mint_ring_recv(&r, buf, sizeof(buf), NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	write_file(data, len);
	struct mint_fabric *f;
	int rc = mint_fabric_attach(path, &f);
	unlink(path); /* no file is left behind, however the fuzzer ends */
	if (rc == 0) {
		walk(f);
		mint_fabric_detach(f);
	}
	return 0;
}
