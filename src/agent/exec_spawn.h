/* SPDX-License-Identifier: MIT */
/* Starting a remote command: identity, directory, environment, pipes or a
 * pseudo-terminal. */
#ifndef MINT_EXEC_SPAWN_H
#define MINT_EXEC_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct exec_command {
	uint32_t uid, gid;
	const char *cwd;
	char **argv;     /* argv[0] is looked up in the PATH of ENVP */
	char **envp;
	bool tty;
	uint16_t rows, cols;
};

/* The running command: its pid (a process group and session leader) and
 * this side's ends of its standard streams (one pty master with a tty:
 * IN_FD and OUT_FD are the same descriptor, ERR_FD is -1). */
struct exec_child {
	pid_t pid;
	int in_fd, out_fd, err_fd;
};

/*
 * Start C.  A command that cannot be found or executed is still started:
 * it says so on its standard error and exits 127 or 126.  Other failures
 * (no such directory, an identity that cannot be taken, no pty) return a
 * negative errno with WHY saying what failed.  The command gets SIGHUP if
 * the calling thread ends first.
 */
int exec_spawn(const struct exec_command *c, struct exec_child *out, char *why, size_t cap);

/* Close the descriptors of CH (each once). */
void exec_child_close(struct exec_child *ch);

#endif
