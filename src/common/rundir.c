/* SPDX-License-Identifier: MIT */
#include "common/rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/netns.h"
#include "mint/fabric.h"
#include "mint/layout.h"

int rundir_path(const char *fabric, char *buf, size_t cap)
{
	char tag[NETNS_TAG_MAX];
	int rc = netns_fabric_tag(fabric, tag, sizeof(tag));
	if (rc == 0)
		snprintf(buf, cap, "/dev/shm/mint-%s.d", tag);
	return rc;
}

#define STAMP "fabric" /* the run directory's fabric: its path */

/* Is DIR (a descriptor) a directory of OWNER's alone? */
static int check_dir(int dir, uid_t owner)
{
	struct stat st;
	if (fstat(dir, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) && st.st_uid == owner && (st.st_mode & 07777) == 0700 ? 0 : -EPERM;
}

/* Does DIR's stamp name the fabric at PATH?  0, -EEXIST if it names
 * another (whose derived names are the same), -ENOENT if it has none. */
static int check_stamp(int dir, const char *path)
{
	char got[256];
	int fd = openat(dir, STAMP, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, got, sizeof(got) - 1);
	close(fd);
	got[n > 0 ? n : 0] = '\0';
	return strcmp(got, path) == 0 ? 0 : -EEXIST;
}

/* Stamp the new run directory DIR as the fabric's at PATH. */
static int stamp(int dir, const char *path)
{
	int fd = openat(dir, STAMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	size_t len = strlen(path);
	int rc = write(fd, path, len) == (ssize_t)len ? 0 : -EIO;
	close(fd);
	return rc;
}

int rundir_open(const char *fabric, uid_t owner, bool create)
{
	char dirpath[128], path[256];
	int rc = rundir_path(fabric, dirpath, sizeof(dirpath));
	if (rc == 0)
		rc = mint_fabric_path(fabric, path, sizeof(path));
	if (rc)
		return rc;
	bool made = create && mkdir(dirpath, 0700) == 0;
	if (made && geteuid() != owner && chown(dirpath, owner, (gid_t)-1))
		rc = -errno; /* root made it for the fabric's owner */
	int dir = open(dirpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return errno == ENOTDIR || errno == ELOOP ? -EPERM : -errno;
	if (rc == 0 && owner != (uid_t)-1)
		rc = check_dir(dir, owner);
	if (rc == 0)
		rc = made ? stamp(dir, path) : check_stamp(dir, path);
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
	return fd >= 0 ? fd : -errno; /* (O_NONBLOCK does nothing to a plain file) */
}

void rundir_log_name(uint32_t id, char *buf, size_t cap) { snprintf(buf, cap, "node%u.log", id); }

void rundir_marker_name(uint32_t id, char *buf, size_t cap)
{
	snprintf(buf, cap, "node%u.agent", id);
}

/* Remove NAME from DIR unless it is another user's (root's node on a
 * user's fabric: only root removes its log and marker): 1 if it was left. */
static int remove_own(int dir, const char *name)
{
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	if (geteuid() != 0 && st.st_uid != geteuid())
		return 1;
	unlinkat(dir, name, 0);
	return 0;
}

int rundir_remove(const char *fabric)
{
	char path[128], name[32];
	int rc = rundir_path(fabric, path, sizeof(path));
	if (rc)
		return rc;
	int dir = rundir_open(fabric, (uid_t)-1, false);
	if (dir < 0)
		return dir == -ENOENT ? 0 : dir;
	int others = 0;
	for (uint32_t id = 0; id < MINT_MAX_NODES; id++) {
		rundir_log_name(id, name, sizeof(name));
		others |= remove_own(dir, name);
		rundir_marker_name(id, name, sizeof(name));
		others |= remove_own(dir, name);
	}
	if (!others)
		unlinkat(dir, STAMP, 0);
	close(dir);
	if (others)
		return -EBUSY;
	return rmdir(path) == 0 || errno == ENOENT ? 0 : -errno;
}
