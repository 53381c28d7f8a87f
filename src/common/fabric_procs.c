/* SPDX-License-Identifier: MIT */
#include "common/fabric_procs.h"

#include <dirent.h>
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

/* The identities that prove a process: the file's and the markers'. */
static int read_ids(const char *fabric, struct fabric_procs *fp)
{
	char path[256];
	int rc = mint_fabric_path(fabric, path, sizeof(path));
	if (rc)
		return rc;
	struct stat st;
	fp->have_file = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	fp->dev = st.st_dev;
	fp->ino = st.st_ino;
	snprintf(fp->deleted, sizeof(fp->deleted), "%s (deleted)", path);
	char name[32];
	int dir = rundir_open(fabric, (uid_t)-1, false);
	for (uint32_t id = 0; dir >= 0 && id < MINT_MAX_NODES; id++) {
		rundir_marker_name(id, name, sizeof(name));
		fp->marker[id].have = fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				      S_ISREG(st.st_mode);
		fp->marker[id].dev = st.st_dev;
		fp->marker[id].ino = st.st_ino;
	}
	if (dir >= 0)
		close(dir);
	return 0;
}

/* Is descriptor NAME of the process whose fd directory is FDS the fabric
 * file? */
static int is_fabric(const struct fabric_procs *fp, int fds, const char *name,
		     const struct stat *st)
{
	if (fp->have_file)
		return st->st_dev == fp->dev && st->st_ino == fp->ino;
	char link[sizeof(fp->deleted)];
	ssize_t n = readlinkat(fds, name, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = '\0';
	return strcmp(link, fp->deleted) == 0;
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
	int fabric = 0, node = -1;
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		if (e->d_name[0] == '.' || fstatat(fds, e->d_name, &st, 0) != 0)
			continue;
		fabric |= is_fabric(fp, fds, e->d_name, &st);
		for (uint32_t id = 0; id < MINT_MAX_NODES && node < 0; id++)
			if (fp->marker[id].have && st.st_dev == fp->marker[id].dev &&
			    st.st_ino == fp->marker[id].ino)
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
