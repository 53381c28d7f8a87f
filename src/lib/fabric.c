/* SPDX-License-Identifier: MIT */
/* Creating, attaching and removing the fabric file. */
#include "mint/fabric.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "guest_internal.h"
#include "internal.h"
#include "le.h"

#define HUGETLBFS_MAGIC 0x958458f6

int mint_name_ok(const char *name, size_t cap)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n >= cap)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return name[0] != '.';
}

void mint_copy_name(char *dst, const char *src, size_t cap)
{
	/* relaxed loads: SRC is a fabric field that another thread may be
	 * storing (rname_out) or a peer scribbling; any bytes will do, as the
	 * caller checks them, but the read must not be a data race. */
	for (size_t i = 0; i < cap; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	dst[cap - 1] = '\0';
}

int mint_fabric_path(const char *name, char *path, size_t cap)
{
	if (!name || !*name)
		return -EINVAL;
	int n;
	if (strchr(name, '/'))
		n = snprintf(path, cap, "%s", name);
	else if (!mint_name_ok(name, MINT_NAME_MAX))
		return -EINVAL;
	else
		n = snprintf(path, cap, "/dev/shm/mint-%s", name);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* The name recorded in the header: the last path component. */
static void fabric_short_name(const char *name, char *out)
{
	const char *slash = strrchr(name, '/');
	snprintf(out, MINT_NAME_MAX, "%s", slash ? slash + 1 : name);
}

static void format_header(struct mint_fabric_hdr *h, uint64_t size, uint32_t flags,
			  const char *name)
{
	wr32(&h->version, MINT_FABRIC_VERSION);
	wr32(&h->header_size, sizeof(*h));
	wr64(&h->size, size);
	wr32(&h->max_nodes, MINT_MAX_NODES);
	wr32(&h->max_vectors, MINT_VECTORS);
	wr32(&h->max_objects, MINT_MAX_OBJECTS);
	wr32(&h->flags, flags);
	wr64(&h->node_table_off, MINT_NODE_TABLE_OFF);
	wr64(&h->objdir_off, MINT_OBJDIR_OFF);
	wr64(&h->heap_off, MINT_HEAP_OFF);
	wr64(&h->heap_size, size - MINT_HEAP_OFF);
	wr64(&h->created_ns, mint_now_ns(CLOCK_REALTIME));
	fabric_short_name(name, h->name);
	struct mint_node_entry *nodes = (void *)((uint8_t *)h + MINT_NODE_TABLE_OFF);
	for (uint32_t i = 0; i < MINT_MAX_NODES; i++)
		wr32(&nodes[i].id, i);
	/* The magic last: the file is published by link() only after this. */
	wr64(&h->magic, MINT_FABRIC_MAGIC);
}

static int map_fabric(int fd, uint64_t size, const char *path, struct mint_fabric **out)
{
	struct mint_fabric *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		int err = -errno;
		free(f);
		return err;
	}
	f->base = base;
	f->size = size;
	f->fd = fd;
	f->self = MINT_NODE_NONE;
	snprintf(f->path, sizeof(f->path), "%s", path);
	*out = f;
	return 0;
}

/* Size the new file; on hugetlbfs round up to the huge page size. */
static int size_file(int fd, uint64_t *size, uint32_t *flags)
{
	struct statfs sfs;
	if (fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == HUGETLBFS_MAGIC) {
		uint64_t hp = (uint64_t)sfs.f_bsize;
		*size = (*size + hp - 1) / hp * hp;
		*flags |= MINT_FABRIC_HUGETLB;
	}
	return ftruncate(fd, (off_t)*size) == 0 ? 0 : -errno;
}

int mint_fabric_create(const char *name, uint64_t size, struct mint_fabric **out)
{
	char path[256], tmp[300];
	int rc = mint_fabric_path(name, path, sizeof(path));
	if (rc)
		return rc;
	if (size == 0)
		size = MINT_DEFAULT_SIZE;
	if (size < MINT_FABRIC_MIN_SIZE || size > (1ull << 40))
		return -EINVAL;
	size = (size + MINT_PAGE - 1) / MINT_PAGE * MINT_PAGE;
	/* Build it under a temporary name and link() it into place, so nobody
	 * ever attaches a half-made fabric and two creators cannot both win. */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	uint32_t flags = 0;
	rc = size_file(fd, &size, &flags);
	if (rc == 0)
		rc = map_fabric(fd, size, path, out);
	if (rc == 0) {
		format_header((struct mint_fabric_hdr *)(*out)->base, size, flags, name);
		memcpy((*out)->hdr_copy, (*out)->base, HDR_CONST_BYTES);
		if (link(tmp, path) != 0) {
			rc = -errno;
			mint_fabric_detach(*out);
			fd = -1;
		}
	}
	if (rc && fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

/* Is H a fabric header this build can use, in a file of FILE_SIZE bytes? */
int mint_fabric_check_header(const struct mint_fabric_hdr *h, uint64_t file_size)
{
	if (rd64(&h->magic) != MINT_FABRIC_MAGIC)
		return -EPROTO;
	if (rd32(&h->version) != MINT_FABRIC_VERSION)
		return -EPROTONOSUPPORT;
	uint64_t size = rd64(&h->size);
	if (rd32(&h->header_size) != sizeof(*h) || rd32(&h->max_nodes) != MINT_MAX_NODES ||
	    rd32(&h->max_vectors) != MINT_VECTORS || rd32(&h->max_objects) != MINT_MAX_OBJECTS ||
	    rd64(&h->node_table_off) != MINT_NODE_TABLE_OFF ||
	    rd64(&h->objdir_off) != MINT_OBJDIR_OFF || rd64(&h->heap_off) != MINT_HEAP_OFF ||
	    size < MINT_FABRIC_MIN_SIZE || rd64(&h->heap_size) != size - MINT_HEAP_OFF)
		return -EPROTO;
	return size > file_size ? -ENODATA : 0;
}

int mint_fabric_attach(const char *name, struct mint_fabric **out)
{
	char path[256];
	int rc = mint_fabric_path(name, path, sizeof(path));
	if (rc)
		return rc;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	struct mint_fabric_hdr h;
	memset(&h, 0, sizeof(h));
	/* Read the header with pread, not through a mapping: a truncated file
	 * must give an error, not SIGBUS. */
	if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode)) {
		/* Inside a QEMU guest: the fabric is the guest driver's BAR2. */
		rc = mint_guest_map(path, fd, out);
		if (rc)
			close(fd);
		return rc;
	}
	ssize_t n = pread(fd, &h, sizeof(h), 0);
	if (n < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode) || rd64(&h.magic) != MINT_FABRIC_MAGIC)
		rc = -EPROTO;
	else if (n < (ssize_t)sizeof(h))
		rc = -ENODATA;
	else
		rc = mint_fabric_check_header(&h, (uint64_t)st.st_size);
	if (rc == 0)
		rc = map_fabric(fd, rd64(&h.size), path, out);
	if (rc == 0)
		memcpy((*out)->hdr_copy, &h, HDR_CONST_BYTES);
	if (rc)
		close(fd);
	return rc;
}

int mint_fabric_heal(struct mint_fabric *f)
{
	if (memcmp(f->base, f->hdr_copy, HDR_CONST_BYTES) == 0)
		return 0;
	memcpy(f->base, f->hdr_copy, HDR_CONST_BYTES);
	return 1;
}

void mint_fabric_detach(struct mint_fabric *f)
{
	if (!f)
		return;
	mint_guest_unmap(f);
	munmap(f->base, f->size);
	close(f->fd);
	free(f);
}

int mint_fabric_destroy(const char *name)
{
	char path[256];
	int rc = mint_fabric_path(name, path, sizeof(path));
	if (rc)
		return rc;
	return unlink(path) == 0 ? 0 : -errno;
}

struct mint_fabric_hdr *mint_fabric_hdr(const struct mint_fabric *f)
{
	return (struct mint_fabric_hdr *)f->base;
}

uint64_t mint_fabric_size(const struct mint_fabric *f) { return f->size; }
const char *mint_fabric_file(const struct mint_fabric *f) { return f->path; }
uint32_t mint_fabric_self(const struct mint_fabric *f) { return f->self; }

int mint_fabric_stat(const struct mint_fabric *f, struct stat *st)
{
	return fstat(f->fd, st) == 0 ? 0 : -errno;
}

void *mint_fabric_at(const struct mint_fabric *f, uint64_t off, uint64_t len)
{
	if (off > f->size || len > f->size - off)
		return NULL;
	return f->base + off;
}

uint64_t mint_fabric_off(const struct mint_fabric *f, const void *p)
{
	return (uint64_t)((const uint8_t *)p - f->base);
}
