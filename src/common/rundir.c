/* SPDX-License-Identifier: MIT */
#include "common/rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/netns.h"
#include "mint/layout.h"

int rundir_path(const char *fabric, char *buf, size_t cap)
{
	char tag[NETNS_TAG_MAX];
	int rc = netns_fabric_tag(fabric, tag, sizeof(tag));
	if (rc == 0)
		snprintf(buf, cap, "/dev/shm/mint-%s.d", tag);
	return rc;
}

/* Is DIR (a descriptor) a directory of OWNER's alone? */
static int check_dir(int dir, uid_t owner)
{
	struct stat st;
	if (fstat(dir, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) && st.st_uid == owner && (st.st_mode & 07777) == 0700 ? 0 : -EPERM;
}

int rundir_open(const char *fabric, uid_t owner, bool create)
{
	char path[128];
	int rc = rundir_path(fabric, path, sizeof(path));
	if (rc)
		return rc;
	if (create && mkdir(path, 0700) == 0 && geteuid() != owner && chown(path, owner, (gid_t)-1))
		rc = -errno; /* root made it for the fabric's owner */
	int dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return errno == ENOTDIR || errno == ELOOP ? -EPERM : -errno;
	if (rc == 0)
		rc = check_dir(dir, owner);
	if (rc) {
		close(dir);
		return rc;
	}
	return dir;
}

/* Is FD a plain file that only the caller owns and names once? */
static bool plain_own_file(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	       st.st_nlink == 1 && !(st.st_mode & 077);
}

int rundir_file(int dir, const char *name)
{
	/* O_NONBLOCK: a FIFO planted there must not hang the open. */
	const int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	int fd = openat(dir, name, flags);
	if (fd >= 0 && plain_own_file(fd))
		return fd;
	if (fd >= 0)
		close(fd);
	unlinkat(dir, name, 0);
	fd = openat(dir, name, flags | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -errno;
	fcntl(fd, F_SETFL, O_APPEND); /* writes may block again, like any log's */
	return fd;
}

void rundir_log_name(uint32_t id, char *buf, size_t cap) { snprintf(buf, cap, "node%u.log", id); }

void rundir_marker_name(uint32_t id, char *buf, size_t cap)
{
	snprintf(buf, cap, "node%u.agent", id);
}

int rundir_remove(const char *fabric)
{
	char path[128], name[32];
	int rc = rundir_path(fabric, path, sizeof(path));
	if (rc)
		return rc;
	int dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return errno == ENOENT ? 0 : -errno;
	for (uint32_t id = 0; id < MINT_MAX_NODES; id++) {
		rundir_log_name(id, name, sizeof(name));
		unlinkat(dir, name, 0);
		rundir_marker_name(id, name, sizeof(name));
		unlinkat(dir, name, 0);
	}
	close(dir);
	return rmdir(path) == 0 || errno == ENOENT ? 0 : -errno;
}
