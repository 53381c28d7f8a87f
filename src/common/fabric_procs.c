/* SPDX-License-Identifier: MIT */
#include "common/fabric_procs.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/rundir.h"
#include "mint/fabric.h"

/* PATH's identity into ID: by its inode while it is there, else by the
 * name the kernel shows for a descriptor of it once it is removed. */
static void identify(struct fabric_procs_file *id, int dir, const char *name, const char *path)
{
	struct stat st;
	id->have = fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	snprintf(id->deleted, sizeof(id->deleted), "%s (deleted)", path);
}

/* The identities that prove a process: the file's and the markers'.
 * Markers count only in the run directory stamped as this fabric's. */
static int read_ids(const char *fabric, struct fabric_procs *fp)
{
	char path[256], dirpath[128], name[32], marker[200];
	int rc = mint_fabric_path(fabric, path, sizeof(path));
	if (rc == 0)
		rc = rundir_path(fabric, dirpath, sizeof(dirpath));
	if (rc)
		return rc;
	identify(&fp->file, AT_FDCWD, path, path);
	int dir = rundir_open(fabric, (uid_t)-1, false);
	if (dir == -EEXIST)
		return 0; /* another fabric's: none of its markers is ours */
	for (uint32_t id = 0; id < MINT_MAX_NODES; id++) {
		rundir_marker_name(id, name, sizeof(name));
		snprintf(marker, sizeof(marker), "%s/%s", dirpath, name);
		identify(&fp->marker[id], dir >= 0 ? dir : AT_FDCWD, dir >= 0 ? name : marker, marker);
	}
	if (dir >= 0)
		close(dir);
	return 0;
}

/* Is the descriptor whose target is ST and whose link reads LINK file ID? */
static bool is_file(const struct fabric_procs_file *id, const struct stat *st, const char *link)
{
	if (id->have)
		return st->st_dev == id->dev && st->st_ino == id->ino;
	return strcmp(link, id->deleted) == 0;
}

/* The node whose agent PID is, by its open descriptors, or -1. */
static int proc_node(const struct fabric_procs *fp, pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	int fds = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fds >= 0 ? fdopendir(fds) : NULL;
	if (!d) {
		if (fds >= 0)
			close(fds);
		return -1;
	}
	bool fabric = false;
	int node = -1;
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		char link[sizeof(fp->file.deleted)];
		ssize_t n = e->d_name[0] == '.' ? -1 : readlinkat(fds, e->d_name, link, sizeof(link) - 1);
		if (n < 0 || fstatat(fds, e->d_name, &st, 0) != 0)
			continue;
		link[n] = '\0';
		fabric |= is_file(&fp->file, &st, link);
		for (uint32_t id = 0; id < MINT_MAX_NODES && node < 0; id++)
			if (is_file(&fp->marker[id], &st, link))
				node = (int)id;
	}
	closedir(d);
	return fabric ? node : -1;
}

int fabric_procs_find(const char *fabric, struct fabric_procs *fp)
{
	memset(fp, 0, sizeof(*fp));
	int rc = read_ids(fabric, fp);
	if (rc)
		return rc;
	DIR *proc = opendir("/proc");
	if (!proc)
		return -errno;
	for (struct dirent *e; (e = readdir(proc)) && fp->n < FABRIC_PROCS_MAX;) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == getpid())
			continue;
		int node = proc_node(fp, (pid_t)pid);
		if (node >= 0) {
			fp->pid[fp->n] = (pid_t)pid;
			fp->id[fp->n++] = (uint32_t)node;
		}
	}
	closedir(proc);
	return (int)fp->n;
}

int fabric_procs_has(const struct fabric_procs *fp, pid_t pid)
{
	for (uint32_t i = 0; i < fp->n; i++)
		if (fp->pid[i] == pid)
			return 1;
	return 0;
}

/* Signal SIG to the process of PIDFD, if PID still is node ID's agent. */
static void signal_proven(const struct fabric_procs *fp, int pidfd, pid_t pid, uint32_t id, int sig)
{
	if (proc_node(fp, pid) == (int)id)
		pidfd_send_signal(pidfd, sig, NULL, 0);
}

/* Wait up to MS for every process of PIDFDS (-1: none) to end. */
static void wait_all(const int *pidfds, uint32_t n, int ms)
{
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = ms - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd p = {pidfds[i], POLLIN, 0};
		if (pidfds[i] >= 0)
			poll(&p, 1, left > 0 ? (int)left : 0);
	}
}

/* Has the process of PIDFD ended? */
static int ended(int pidfd)
{
	struct pollfd p = {pidfd, POLLIN, 0};
	return pidfd < 0 || poll(&p, 1, 0) == 1;
}

int fabric_procs_stop(const struct fabric_procs *fp, uint32_t only, int grace_ms)
{
	int pidfds[FABRIC_PROCS_MAX];
	int stopped = 0, busy = 0;
	/* The pidfd pins the process: proven after it is open, signalled
	 * through it, the pid cannot have passed to another process. */
	for (uint32_t i = 0; i < fp->n; i++) {
		pidfds[i] = only == MINT_MAX_NODES || fp->id[i] == only
				    ? (int)pidfd_open(fp->pid[i], 0) : -1;
		if (pidfds[i] >= 0)
			signal_proven(fp, pidfds[i], fp->pid[i], fp->id[i], SIGTERM);
	}
	wait_all(pidfds, fp->n, grace_ms);
	for (uint32_t i = 0; i < fp->n; i++)
		if (!ended(pidfds[i]))
			signal_proven(fp, pidfds[i], fp->pid[i], fp->id[i], SIGKILL);
	wait_all(pidfds, fp->n, 1000);
	for (uint32_t i = 0; i < fp->n; i++) {
		if (pidfds[i] < 0)
			continue;
		if (ended(pidfds[i]))
			stopped++;
		else
			busy = 1;
		close(pidfds[i]);
	}
	return busy ? -EBUSY : stopped;
}
