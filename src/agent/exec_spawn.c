/* SPDX-License-Identifier: MIT */
/*
 * Spawn of a remote command: clone(CLONE_VM | CLONE_VFORK), as
 * posix_spawn does, then exec.  The child shares the agent's memory until
 * its exec, so it copies no page tables (a fork of the agent cost copy-
 * on-write faults and TLB flushes on both sides, dear on a VM), but it
 * must leave that memory alone: it does only async-signal-safe work,
 * writes no global (the command's environment goes to execve, not to
 * environ), and changes its credentials by raw system calls (the C
 * library's setuid would act on the agent's threads too).  Whatever needs
 * the C library (groups, the pty's name) is prepared before.
 */
#include "agent/exec_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "mint/proto.h"

#define MAX_GROUPS 256
#define CHILD_STACK (64 * 1024) /* the child's until exec: PATH_MAX and a few frames */

/* i386's plain set*id calls take 16-bit ids; the 32 ones are the real ones. */
#ifdef SYS_setuid32
#define SYS_SETGROUPS SYS_setgroups32
#define SYS_SETGID SYS_setgid32
#define SYS_SETUID SYS_setuid32
#else
#define SYS_SETGROUPS SYS_setgroups
#define SYS_SETGID SYS_setgid
#define SYS_SETUID SYS_setuid
#endif

/* What the child reports on its error pipe when a step before exec fails. */
enum step { STEP_CWD = 1, STEP_IDENTITY = 2 };
struct step_error {
	int step;
	int err;
};

struct plan {
	const struct exec_command *c;
	gid_t groups[MAX_GROUPS];
	int ngroups;
	bool change_identity;
	int in[2], out[2], err[2]; /* pipes, [0] read end */
	int master, slave;         /* the pty, or -1 */
	int report[2];             /* the child's error pipe */
};

/* The supplementary groups of C's uid (just its gid without an account). */
static void plan_groups(struct plan *p)
{
	char buf[4096];
	struct passwd pw, *found = NULL;
	p->groups[0] = p->c->gid;
	p->ngroups = 1;
	if (getpwuid_r(p->c->uid, &pw, buf, sizeof(buf), &found) != 0 || !found)
		return;
	int n = MAX_GROUPS;
	if (getgrouplist(pw.pw_name, p->c->gid, p->groups, &n) >= 0)
		p->ngroups = n;
}

static int open_pty(struct plan *p)
{
	char name[64];
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0 || grantpt(p->master) || unlockpt(p->master) ||
	    ptsname_r(p->master, name, sizeof(name)))
		return -errno;
	p->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0)
		return -errno;
	struct winsize ws = {p->c->rows, p->c->cols, 0, 0};
	if (ws.ws_row && ws.ws_col)
		ioctl(p->master, TIOCSWINSZ, &ws);
	/* The child runs as the requested user: the terminal is theirs. */
	if (p->change_identity && fchown(p->slave, p->c->uid, (gid_t)-1) != 0)
		return -errno;
	return 0;
}

static int open_streams(struct plan *p)
{
	if (pipe2(p->report, O_CLOEXEC))
		return -errno;
	if (p->c->tty)
		return open_pty(p);
	if (pipe2(p->in, O_CLOEXEC) || pipe2(p->out, O_CLOEXEC) || pipe2(p->err, O_CLOEXEC))
		return -errno;
	/* Room for several records each way: fewer, larger reads and writes
	 * (measured: about 1.4x the throughput of 64 KiB pipes; best effort,
	 * the default size works too). */
	fcntl(p->in[1], F_SETPIPE_SZ, MINT_EXEC_PIPE_SIZE);
	fcntl(p->out[1], F_SETPIPE_SZ, MINT_EXEC_PIPE_SIZE);
	/* The server writes input from a thread that must not block forever
	 * on a command that never reads. */
	return fcntl(p->in[1], F_SETFL, O_NONBLOCK) == 0 ? 0 : -errno;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Apply FN to every descriptor of P. */
static void each_fd(struct plan *p, void (*fn)(int *fd))
{
	int *fds[] = {&p->in[0], &p->in[1], &p->out[0], &p->out[1], &p->err[0], &p->err[1],
		      &p->master, &p->slave, &p->report[0], &p->report[1]};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		fn(fds[i]);
}

static void no_fd(int *fd) { *fd = -1; }

/* Child: async-signal-safe from here to exec. */
static void child_fail(const struct plan *p, int step)
{
	struct step_error e = {step, errno};
	if (write(p->report[1], &e, sizeof(e)) < 0)
		_exit(MINT_EXEC_STATUS_FAILED);
	_exit(MINT_EXEC_STATUS_FAILED);
}

static void say(const char *s)
{
	if (write(2, s, strlen(s)) < 0)
		return;
}

static void child_streams(const struct plan *p)
{
	if (p->c->tty) {
		ioctl(p->slave, TIOCSCTTY, 0);
		dup2(p->slave, 0);
		dup2(p->slave, 1);
		dup2(p->slave, 2);
	} else {
		dup2(p->in[0], 0);
		dup2(p->out[1], 1);
		dup2(p->err[1], 2);
	}
}

/* This process's credentials only (see the top of the file). */
static int child_identity(const struct plan *p)
{
	return syscall(SYS_SETGROUPS, (long)p->ngroups, p->groups) == 0 &&
			       syscall(SYS_SETGID, (long)p->c->gid) == 0 &&
			       syscall(SYS_SETUID, (long)p->c->uid) == 0
		       ? 0
		       : -1;
}

/* The command's PATH (as execvp would take it from its environment). */
static const char *command_path(const struct plan *p)
{
	for (char **e = p->c->envp; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			return *e + 5;
	return "/bin:/usr/bin"; /* execvp's default */
}

/* execvp with the command's own environment and PATH; returns with errno
 * set when nothing could be run. */
static void child_exec(const struct plan *p)
{
	const char *file = p->c->argv[0], *dir = command_path(p);
	char full[PATH_MAX];
	int err = ENOENT;
	if (strchr(file, '/')) {
		execve(file, p->c->argv, p->c->envp);
		return;
	}
	for (;;) {
		size_t dlen = strcspn(dir, ":"), flen = strlen(file);
		if (dlen + flen + 2 <= sizeof(full)) {
			memcpy(full, dlen ? dir : ".", dlen ? dlen : 1); /* empty: the cwd */
			size_t at = dlen ? dlen : 1;
			full[at] = '/';
			memcpy(full + at + 1, file, flen + 1);
			execve(full, p->c->argv, p->c->envp);
			if (errno == EACCES)
				err = EACCES; /* execvp goes on, and reports it at the end */
			else if (errno != ENOENT && errno != ENOTDIR)
				return;
		}
		if (!dir[dlen])
			break;
		dir += dlen + 1;
	}
	errno = err;
}

static __attribute__((noreturn)) void child_run(const struct plan *p)
{
	sigset_t none;
	sigemptyset(&none);
	/* The agent blocks its stop signals and ignores SIGPIPE: the command
	 * starts from the defaults.  Every signal is blocked until then
	 * (spawn), so no agent handler runs in this child. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	child_streams(p);
	/* Whatever else the agent holds open (inherited from whoever started
	 * it, say) is not the command's: closed at exec. */
	if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
		for (int fd = 3; fd < 1024; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (p->change_identity && child_identity(p) != 0)
		child_fail(p, STEP_IDENTITY);
	/* After the identity: changing credentials clears it. */
	prctl(PR_SET_PDEATHSIG, SIGHUP);
	if (chdir(p->c->cwd) != 0)
		child_fail(p, STEP_CWD);
	child_exec(p);
	int err = errno;
	say("mint: ");
	say(p->c->argv[0]);
	say(err == ENOENT ? ": command not found\n" : ": cannot execute: ");
	if (err != ENOENT) {
		const char *desc = strerrordesc_np(err); /* a constant: safe here */
		say(desc ? desc : "unknown error");
		say("\n");
	}
	_exit(err == ENOENT ? MINT_EXEC_STATUS_NOT_FOUND : MINT_EXEC_STATUS_CANNOT_RUN);
}

#if !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
static int child_main(void *arg)
{
	child_run(arg);
}
#endif

/* Start the child on a stack of its own; this thread waits until it has
 * exec'd or exited (CLONE_VFORK), all signals blocked meanwhile.  Its pid,
 * or -1 with errno set.  The sanitizers keep state that a child sharing
 * our memory would change under the agent (ThreadSanitizer then kills the
 * agent at its next thread; AddressSanitizer takes the child's stack for a
 * corrupt one at _exit and says so on the command's stderr): their builds
 * fork. */
static pid_t spawn(struct plan *p)
{
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
	pid_t child = fork();
	if (child == 0)
		child_run(p);
	return child;
#else
	void *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = clone(child_main, (char *)stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, p);
	int err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, CHILD_STACK);
	errno = err;
	return pid;
#endif
}

/* Parent: the child's report, if a step before exec failed. */
static int child_report(struct plan *p, pid_t pid, char *why, size_t cap)
{
	struct step_error e;
	ssize_t n;
	do
		n = read(p->report[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(e))
		return 0; /* closed by exec: the command runs */
	waitpid(pid, NULL, 0);
	if (e.step == STEP_CWD)
		snprintf(why, cap, "cannot change directory to %s: %s", p->c->cwd, strerror(e.err));
	else
		snprintf(why, cap, "cannot become uid %u gid %u: %s", p->c->uid, p->c->gid,
			 strerror(e.err));
	return -e.err;
}

static void hand_over(struct plan *p, pid_t pid, struct exec_child *out)
{
	out->pid = pid;
	if (p->c->tty) {
		out->in_fd = p->master;
		out->out_fd = dup(p->master);
		out->err_fd = -1;
		p->master = -1;
	} else {
		out->in_fd = p->in[1];
		out->out_fd = p->out[0];
		out->err_fd = p->err[0];
		p->in[1] = p->out[0] = p->err[0] = -1;
	}
}

int exec_spawn(const struct exec_command *c, struct exec_child *out, char *why, size_t cap)
{
	struct plan p = {.c = c};
	each_fd(&p, no_fd);
	p.change_identity = getuid() != c->uid || getgid() != c->gid || geteuid() != c->uid;
	if (p.change_identity)
		plan_groups(&p);
	int rc = open_streams(&p);
	if (rc) {
		snprintf(why, cap, "cannot open the command's %s: %s", c->tty ? "terminal" : "pipes",
			 strerror(-rc));
		each_fd(&p, close_fd);
		return rc;
	}
	pid_t pid = spawn(&p);
	if (pid < 0) {
		rc = -errno;
		snprintf(why, cap, "cannot start the command: %s", strerror(-rc));
		each_fd(&p, close_fd);
		return rc;
	}
	close_fd(&p.report[1]);
	rc = child_report(&p, pid, why, cap);
	if (rc == 0)
		hand_over(&p, pid, out);
	each_fd(&p, close_fd);
	return rc;
}

void exec_child_close(struct exec_child *ch)
{
	close_fd(&ch->in_fd);
	close_fd(&ch->out_fd);
	close_fd(&ch->err_fd);
}
