/* SPDX-License-Identifier: MIT */
/*
 * Any process that may write the fabric file may also truncate it, and
 * then every access of a node to the part cut off faults with SIGBUS.  The
 * heartbeat looks at the file's size before it touches the fabric, and
 * the SIGBUS handler covers the other threads: either way the agent says
 * what happened and stops, instead of dying without a word.
 */
#include "agent/fabric_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Set once, before any thread that could fault starts; read by the
 * handler, which may only use what is async-signal-safe. */
static int guard_fd = -1;
static uint64_t guard_size;
static char guard_msg[128];
static size_t guard_len;

bool fabric_guard_cut(uint64_t *size)
{
	struct stat st;
	/* A guest's fabric is a device (its BAR2): it cannot be cut. */
	if (guard_fd < 0 || fstat(guard_fd, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	*size = (uint64_t)st.st_size;
	return *size < guard_size;
}

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	uint64_t size;
	(void)si;
	(void)ctx;
	if (fabric_guard_cut(&size)) {
		ssize_t w = write(STDERR_FILENO, guard_msg, guard_len);
		(void)w;
		_exit(1);
	}
	/* Not the truncation: back to the default, and the faulting access,
	 * run again on return, ends the process with a core as it should. */
	signal(sig, SIG_DFL);
}

int fabric_guard_start(const struct mint_fabric *f, uint32_t id)
{
	int fd = open(mint_fabric_file(f), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	guard_fd = fd;
	guard_size = mint_fabric_size(f);
	int n = snprintf(guard_msg, sizeof(guard_msg),
			 "node %u: the fabric file was truncated by another process "
			 "(SIGBUS): stopping\n", id);
	guard_len = n > 0 ? (size_t)n : 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) == 0 ? 0 : -errno;
}
