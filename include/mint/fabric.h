/* SPDX-License-Identifier: MIT */
/* The fabric: one shared file every node maps. */
#ifndef MINT_FABRIC_H
#define MINT_FABRIC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mint/layout.h"
#include "mint/api.h"

MINT_BEGIN_DECLS

#define MINT_DEFAULT_FABRIC "mint"
#define MINT_DEFAULT_SIZE (64ull << 20)

/* A process's mapping of a fabric; it also carries who this process is
 * (a node once mint_node_join succeeds, else an external tool).  Threads
 * may share a handle, except that mint_node_join and mint_node_leave
 * change its identity and must not run concurrently with other calls on
 * it. */
struct mint_fabric;

/*
 * Where fabric NAME lives: NAME itself when it contains a '/' (a file on
 * tmpfs or hugetlbfs), else /dev/shm/mint-NAME.  Returns 0, -EINVAL for a
 * bad name (see mint_name_ok), -ENAMETOOLONG.
 */
int mint_fabric_path(const char *name, char *path, size_t cap);

/* Is NAME a valid fabric, node or object name shorter than CAP bytes?
 * (letters, digits, '.', '_' and '-'; not starting with '.') */
int mint_name_ok(const char *name, size_t cap);

/*
 * Create fabric NAME of SIZE bytes (0: the default 64 MiB), initialise it,
 * and map it.  -EEXIST if the file exists, -EINVAL for a size below
 * MINT_FABRIC_MIN_SIZE.  On hugetlbfs the size is rounded up to the huge
 * page size.
 */
int mint_fabric_create(const char *name, uint64_t size, struct mint_fabric **out);

/*
 * Map an existing fabric, read-write.  Nothing is written.  -ENOENT if it
 * does not exist, -EPROTO if it is not a fabric (not a regular file, bad
 * magic, or a header whose geometry does not match this build),
 * -EPROTONOSUPPORT for another layout version, -ENODATA if the file is
 * shorter than its header or than the size it records.
 */
int mint_fabric_attach(const char *name, struct mint_fabric **out);

/* Unmap; a node joined through this handle is not left (see mint_node_leave). */
void mint_fabric_detach(struct mint_fabric *f);

/* Put back the header's constant lines (magic to name) as this handle
 * validated them, if a stray write changed them: 1 if it did, else 0. */
int mint_fabric_heal(struct mint_fabric *f);

/* Remove fabric NAME's file; mappings stay valid until detached. */
int mint_fabric_destroy(const char *name);

struct mint_fabric_hdr *mint_fabric_hdr(const struct mint_fabric *f);
uint64_t mint_fabric_size(const struct mint_fabric *f);
const char *mint_fabric_file(const struct mint_fabric *f);

/* Pointer to LEN bytes at OFF, or NULL if they are not inside the fabric.
 * Every offset read from shared memory goes through this check. */
void *mint_fabric_at(const struct mint_fabric *f, uint64_t off, uint64_t len);

/* The inverse: offset of a pointer inside the fabric. */
uint64_t mint_fabric_off(const struct mint_fabric *f, const void *p);

/* fstat of the file this handle has mapped (not of whatever its path
 * names now: the path may have been replaced since).  0 or -errno. */
int mint_fabric_stat(const struct mint_fabric *f, struct stat *st);

/* This process's identity on the fabric: its node id, or MINT_NODE_NONE. */
uint32_t mint_fabric_self(const struct mint_fabric *f);

MINT_END_DECLS

#endif
