/* SPDX-License-Identifier: MIT */
/*
 * The exec server of a node agent.  The dispatcher hands over the first
 * record of each new "exec.*" channel; from then on a session owns the
 * channel with two threads: the session thread starts the command, sends
 * its output and finally its exit status (it is the only producer of the
 * channel's B->A ring); the input thread takes the client's records
 * (input, signals, window sizes, the close) and watches the client's pid
 * (it is the only consumer of the A->B ring, and of the signal channel's).
 * A session ends with the channels removed, its command reaped and both
 * threads gone.
 *
 * The atomics below are flags between this process's threads, with the
 * default sequentially consistent loads and stores: each store is the
 * release its later loads (acquires) pair with; nothing in the fabric
 * depends on them.
 */
#include "agent/exec_server.h"
#include "agent/exec_start.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <grp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/drain.h"
#include "mint/proto.h"
#include "agent/exec_spawn.h"
#include "common/exec_stream.h"
#include "mint/clock.h"
#include "mint/endian.h"
#include "mint/guest.h"

#define CLOSE_WAIT_MS 5000 /* how long a session waits for MINT_EXEC_CLOSE */
#define HUP_GRACE_MS 2000  /* SIGHUP, then SIGKILL after this long */
#define DRAIN_MS 3000      /* how long stopping waits for the sessions */

struct exec_server {
	struct mint_fabric *f;
	uint32_t self;
	struct exec_policy policy;
	atomic_bool stopping; /* set once by destroy, read by every session */
	pthread_mutex_t lock; /* guards sessions and chans */
	int sessions;
	uint64_t chans[EXEC_MAX_SESSIONS]; /* channel of each session, 0: free */
};

/* Why a session ends early. */
enum end { RUNNING = 0, HANGUP = 1, CUT = 2 };

struct session {
	struct exec_server *srv;
	struct mint_channel ch;
	uint64_t ch_off;
	char ch_name[MINT_OBJ_NAME_MAX];
	struct mint_channel sig; /* the signal channel, if the client made one */
	uint64_t sig_off;        /* 0: none */
	char sig_name[MINT_OBJ_NAME_MAX];
	uint8_t *start; /* the MINT_EXEC_START record, NUL-terminated */
	uint32_t start_len;
	struct mint_exec_start req; /* its header, in host order */
	const char *argv0;     /* in START, once decoded (else NULL) */
	struct exec_child child;
	bool have_child;
	/* Held to signal the command, and to mark it reaped: once it is,
	 * its pid may belong to someone else. */
	pthread_mutex_t kill_lock;
	bool reaped;
	int wake[2];        /* input thread -> session thread */
	atomic_int end;     /* enum end: set once (CAS), read by both threads */
	atomic_bool final_sent; /* session thread -> input thread */
	uint8_t outbuf[MINT_EXEC_CHUNK]; /* output that waits for room in the ring */
};

static uint64_t now_ms(void) { return mint_now_ns(CLOCK_MONOTONIC) / 1000000u; }

int exec_server_create(struct mint_fabric *f, const struct exec_policy *policy,
		       struct exec_server **out)
{
	struct exec_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->f = f;
	s->self = mint_fabric_self(f);
	s->policy = *policy;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

void exec_server_destroy(struct exec_server *s)
{
	if (!s)
		return;
	/* Sessions notice within EXEC_POLL_MS and hang up their commands. */
	atomic_store(&s->stopping, true);
	if (!drain_wait(&s->lock, &s->sessions, DRAIN_MS))
		return; /* still in use by a stuck session: the process exits anyway */
	pthread_mutex_destroy(&s->lock);
	free(s);
}

bool exec_server_owns(struct exec_server *s, uint64_t off)
{
	bool owned = false;
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < EXEC_MAX_SESSIONS && !owned; i++)
		owned = s->chans[i] == off;
	pthread_mutex_unlock(&s->lock);
	return owned;
}

static bool claim(struct exec_server *s, uint64_t off)
{
	bool ok = false;
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < EXEC_MAX_SESSIONS && !ok; i++)
		if (s->chans[i] == 0) {
			s->chans[i] = off;
			s->sessions++;
			ok = true;
		}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static void release(struct exec_server *s, uint64_t off)
{
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < EXEC_MAX_SESSIONS; i++)
		if (s->chans[i] == off) {
			s->chans[i] = 0;
			s->sessions--;
		}
	pthread_mutex_unlock(&s->lock);
}

/* Remove the channel, unless someone already replaced it by another. */
static void remove_channel(struct mint_fabric *f, const char *name, uint64_t off)
{
	struct mint_obj_info info;
	if (mint_obj_find(f, name, &info) == 0 && info.offset == off)
		mint_obj_remove(f, name);
}

/* The name of the signal channel of session channel NAME. */
static void sig_name_of(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, MINT_EXEC_SIG_PREFIX "%s", name + strlen(MINT_EXEC_PREFIX));
}

/* Find the session's signal channel: ours if its B side is this node. */
static void open_signals(struct session *se)
{
	struct mint_obj_info info;
	sig_name_of(se->ch_name, se->sig_name, sizeof(se->sig_name));
	if (mint_obj_find(se->srv->f, se->sig_name, &info) == 0 &&
	    info.type == MINT_OBJ_CHANNEL &&
	    mint_channel_open_at(se->srv->f, info.offset, MINT_SIDE_B, &se->sig) == 0 &&
	    se->sig.node_b == se->srv->self)
		se->sig_off = info.offset;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

/* An error record: the kind, then the message. */
static void send_error(struct mint_ring *tx, uint32_t kind, const char *msg, exec_go_on_fn go_on,
		       void *arg)
{
	uint8_t rec[512];
	uint32_t kind_le = mint_le32(kind);
	size_t n = strnlen(msg, sizeof(rec) - 4);
	memcpy(rec, &kind_le, 4);
	memcpy(rec + 4, msg, n);
	exec_send(tx, rec, (uint32_t)(4 + n), MINT_EXEC_ERROR, go_on, arg);
}

/* ---- the policy ---- */

static bool uid_listed(const struct exec_policy *p, uint32_t uid, uid_t owner)
{
	if (p->nuids < 0)
		return uid == owner;
	for (int i = 0; i < p->nuids; i++)
		if (p->uids[i] == uid)
			return true;
	return false;
}

static bool gid_of_user(const struct passwd *pw, uint32_t gid)
{
	gid_t groups[256];
	int n = 256;
	if (pw->pw_gid == gid)
		return true;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* 0, or the enum mint_exec_error with WHY filled. */
static uint32_t check_identity(struct exec_server *s, uint32_t uid, uint32_t gid, char *why,
			       size_t cap)
{
	struct stat st;
	const char *file = mint_fabric_file(s->f);
	/* The file this node has mapped, not whatever its path names now
	 * (a writer could swap the path for a file only root can write). */
	int rc = mint_fabric_stat(s->f, &st);
	if (rc < 0) {
		snprintf(why, cap, "cannot check the fabric file %s: %s", file, strerror(-rc));
		return MINT_EXEC_ERR_FAILED;
	}
	bool root_only = st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH));
	if (uid == 0 && !s->policy.allow_root && !root_only) {
		snprintf(why, cap, "refused: uid 0 needs a fabric file only root can write, or node %u "
			 "started with --exec-allow-root", s->self);
		return MINT_EXEC_ERR_REFUSED;
	}
	if (uid != 0 && !uid_listed(&s->policy, uid, st.st_uid)) {
		snprintf(why, cap, "refused: uid %u is not allowed on node %u (see --exec-uids)", uid,
			 s->self);
		return MINT_EXEC_ERR_REFUSED;
	}
	char buf[4096];
	struct passwd pw, *found = NULL;
	if (uid == 0)
		return 0; /* root may take any group */
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) != 0 || !found) {
		snprintf(why, cap, "uid %u: no such user on node %u", uid, s->self);
		return MINT_EXEC_ERR_FAILED;
	}
	if (!gid_of_user(&pw, gid)) {
		snprintf(why, cap, "refused: gid %u is not a group of uid %u (%s)", gid, uid,
			 pw.pw_name);
		return MINT_EXEC_ERR_REFUSED;
	}
	return 0;
}

/* ---- the environment ---- */

static bool has_key(char *const *env, const char *kv)
{
	size_t klen = (size_t)(strchr(kv, '=') - kv) + 1;
	for (; *env; env++)
		if (strncmp(*env, kv, klen) == 0)
			return true;
	return false;
}

/* The client's variables, then the defaults of a login it did not set
 * (PATH, HOME, USER, SHELL) and MINT_NODE.  One block: free() it. */
static char **build_env(const struct exec_request *r, uint32_t uid, uint32_t self)
{
	char buf[4096], defaults[5][600];
	struct passwd pw, *found = NULL;
	getpwuid_r(uid, &pw, buf, sizeof(buf), &found);
	snprintf(defaults[0], sizeof(defaults[0]), "PATH=%s",
		 uid == 0 ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
			  : "/usr/local/bin:/usr/bin:/bin");
	snprintf(defaults[1], sizeof(defaults[1]), "HOME=%s", found ? pw.pw_dir : "/");
	snprintf(defaults[2], sizeof(defaults[2]), "USER=%s", found ? pw.pw_name : "");
	snprintf(defaults[3], sizeof(defaults[3]), "SHELL=%s", found ? pw.pw_shell : "/bin/sh");
	snprintf(defaults[4], sizeof(defaults[4]), "MINT_NODE=%u", self);
	size_t n = 0, bytes = 0;
	while (r->env[n])
		n++;
	char **v = malloc((n + 6) * sizeof(char *) + sizeof(defaults));
	if (!v)
		return NULL;
	char *store = (char *)(v + n + 6);
	memcpy(v, r->env, n * sizeof(char *));
	v[n] = NULL;
	for (int i = 0; i < 5; i++) {
		if (has_key(v, defaults[i]) || (i == 2 && !found))
			continue;
		size_t len = strlen(defaults[i]) + 1;
		memcpy(store + bytes, defaults[i], len);
		v[n++] = store + bytes;
		v[n] = NULL;
		bytes += len;
	}
	return v;
}

/* ---- the input thread ---- */

/* Inside a guest the client's pid is another kernel's and /proc cannot
 * judge it: there the client counts as alive while its session channel
 * is still in the directory (it removes it when it leaves; a dead one's
 * is removed by `mint down` or the host's directory repair). */
static bool client_alive(const struct session *se)
{
	struct mint_obj_info info;
	if (!mint_in_guest())
		return mint_pid_alive(se->req.client_pid, se->req.client_start);
	return mint_obj_find(se->srv->f, se->ch_name, &info) == 0 && info.offset == se->ch_off;
}

static bool running(void *arg)
{
	struct session *se = arg;
	return atomic_load(&se->end) == RUNNING;
}

static void end_session(struct session *se, enum end why)
{
	int was = RUNNING;
	if (atomic_compare_exchange_strong(&se->end, &was, (int)why) && se->wake[1] >= 0) {
		char b = 1;
		if (write(se->wake[1], &b, 1) < 0)
			return; /* the pipe is only a hint: the session polls */
	}
}

static bool input_go_on(void *arg);

static void take_input(struct session *se, const void *data, uint32_t len)
{
	int fd = se->child.in_fd;
	if (!se->have_child || fd < 0)
		return; /* the command did not start or closed its input */
	if (len == 0 && se->req.flags & MINT_EXEC_TTY) {
		struct termios t; /* end of input on a terminal: its EOF character */
		char eof = tcgetattr(fd, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
		exec_write_all(fd, &eof, 1, input_go_on, se);
	} else if (len == 0 || exec_write_all(fd, data, len, input_go_on, se) == -EPIPE) {
		close(fd);
		se->child.in_fd = -1;
	}
}

/* SIG to the command's process group, unless it is gone: the input thread
 * handles the client's signals until the session ends, after the reap. */
static void signal_command(struct session *se, int sig)
{
	pthread_mutex_lock(&se->kill_lock);
	if (se->have_child && !se->reaped)
		kill(-se->child.pid, sig);
	pthread_mutex_unlock(&se->kill_lock);
}

/* Act on one record (DATA: in the ring, each field read once); false if
 * it is malformed. */
static bool take_record(struct session *se, const uint8_t *data, uint32_t type, uint32_t len,
			bool *closed)
{
	switch (type) {
	case MINT_EXEC_STDIN:
		take_input(se, data, len);
		return true;
	case MINT_EXEC_SIGNAL: {
		uint32_t sig = len == 4 ? exec_get_u32(data) : 0;
		if (sig == 0 || sig >= (uint32_t)NSIG)
			return false;
		signal_command(se, (int)sig);
		return true;
	}
	case MINT_EXEC_WINSIZE: {
		if (len != 8)
			return false;
		struct winsize ws = {(unsigned short)exec_get_u32(data),
				     (unsigned short)exec_get_u32(data + 4), 0, 0};
		if (se->have_child && se->req.flags & MINT_EXEC_TTY && se->child.in_fd >= 0)
			ioctl(se->child.in_fd, TIOCSWINSZ, &ws);
		return true;
	}
	case MINT_EXEC_CLOSE:
		*closed = len == 0;
		return len == 0;
	default:
		return false;
	}
}

/* What waits on the signal channel (never input): acted on; false after a
 * malformed record, which cuts the session. */
static bool take_signals(struct session *se)
{
	uint8_t rec[8];
	uint32_t type;
	bool closed;
	int n;
	while (se->sig_off && (n = mint_ring_recv(&se->sig.rx, rec, sizeof(rec), &type)) != -EAGAIN) {
		if (n < 0 || (type != MINT_EXEC_SIGNAL && type != MINT_EXEC_WINSIZE) ||
		    !take_record(se, rec, type, (uint32_t)n, &closed)) {
			end_session(se, CUT);
			return false;
		}
	}
	return true;
}

/* The client went away or the server stops: the session hangs up. */
static bool client_gone(struct session *se)
{
	if (client_alive(se) && !atomic_load(&se->srv->stopping))
		return false;
	end_session(se, HANGUP);
	return true;
}

/* While input waits for room in the command's pipe: signals still pass,
 * and a client that went away is noticed. */
static bool input_go_on(void *arg)
{
	struct session *se = arg;
	return take_signals(se) && !client_gone(se) && running(se);
}

/* Until the client closes, dies, or sends a malformed record, or the
 * server stops, or the session's last record went unanswered.  The wait
 * sleeps on the signal channel's doorbell too, so a signal is acted on as
 * soon as it comes (and at least every EXEC_POLL_MS while input waits for
 * room in the command's pipe). */
static void *input_thread(void *arg)
{
	struct session *se = arg;
	uint64_t final_at = 0;
	bool closed = false;
	while (!closed && take_signals(se)) {
		const void *data;
		uint32_t type;
		bool taken, ok = false;
		int n = exec_peek_wait(&se->ch.rx, se->sig_off ? &se->sig.rx : NULL, &data,
				       &type, &taken);
		if (n >= 0) {
			ok = n <= (int)MINT_EXEC_CHUNK && take_record(se, data, type, (uint32_t)n, &closed);
			if (!taken)
				mint_ring_release(&se->ch.rx);
		}
		if (ok)
			continue;
		if (n >= 0 || (n != -ETIMEDOUT && n != -EINTR)) {
			end_session(se, CUT);
			break;
		}
		if (atomic_load(&se->end) == CUT)
			break; /* nothing more is taken from this client */
		if (client_gone(se))
			break;
		if (atomic_load(&se->final_sent) && final_at == 0)
			final_at = now_ms();
		if (final_at && now_ms() - final_at > CLOSE_WAIT_MS)
			break;
	}
	if (closed)
		end_session(se, HANGUP); /* a client that closes early hangs up */
	return NULL;
}

/* ---- the session thread ---- */

/* Forward one readable output; false at its end (EOF, or EIO from a pty
 * whose last user left) or when it cannot be sent. */
static bool forward(struct session *se, int fd, uint32_t type)
{
	int n = exec_forward_fd(&se->ch.tx, fd, type, se->outbuf, running, se);
	return n > 0 || n == -EAGAIN;
}

/* The command's output to the client until both streams end. */
static void pump_output(struct session *se)
{
	int *fds[2] = {&se->child.out_fd, &se->child.err_fd};
	const uint32_t types[2] = {MINT_EXEC_STDOUT, MINT_EXEC_STDERR};
	while (running(se) && (se->child.out_fd >= 0 || se->child.err_fd >= 0)) {
		struct pollfd p[3] = {{se->child.out_fd, POLLIN, 0},
				      {se->child.err_fd, POLLIN, 0},
				      {se->wake[0], POLLIN, 0}};
		if (poll(p, 3, EXEC_POLL_MS) <= 0)
			continue;
		for (int i = 0; i < 2; i++)
			if (p[i].revents && !forward(se, *fds[i], types[i])) {
				close(*fds[i]);
				*fds[i] = -1;
			}
	}
}

/* Has PID exited?  It stays a zombie (WNOWAIT), so its pid is not reused
 * yet.  BLOCK: wait for it.  A PID we cannot wait for counts as exited. */
static bool exited(pid_t pid, bool block)
{
	siginfo_t info = {0};
	int opts = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
	while (waitid(P_PID, (id_t)pid, &info, opts) < 0)
		if (errno != EINTR)
			return true;
	return info.si_pid != 0;
}

/* Reap the command; after a hang-up, SIGKILL it if SIGHUP was not enough. */
static uint32_t reap(struct session *se)
{
	int status = 0;
	pid_t pid = se->child.pid;
	if (!running(se)) {
		kill(-pid, SIGHUP);
		kill(-pid, SIGCONT); /* a stopped command would never see it */
		uint64_t t0 = now_ms();
		while (!exited(pid, false)) {
			if (now_ms() - t0 > HUP_GRACE_MS) {
				kill(-pid, SIGKILL);
				break;
			}
			struct timespec ts = {0, 10000000};
			nanosleep(&ts, NULL);
		}
	}
	exited(pid, true);
	pthread_mutex_lock(&se->kill_lock);
	se->reaped = true; /* no signal from the client after this */
	pthread_mutex_unlock(&se->kill_lock);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFSIGNALED(status) ? 128u + (uint32_t)WTERMSIG(status)
				   : (uint32_t)WEXITSTATUS(status);
}

/* Check and start the command; 0 or the enum mint_exec_error, WHY filled. */
static uint32_t start_command(struct session *se, char *why, size_t cap)
{
	struct exec_request *r = malloc(sizeof(*r));
	uint32_t kind = MINT_EXEC_ERR_FAILED;
	snprintf(why, cap, "out of memory");
	if (!r)
		return kind;
	if (!exec_start_decode(se->start, se->start_len, &se->req, r)) {
		snprintf(why, cap, "malformed start record");
		free(r);
		return MINT_EXEC_ERR_PROTOCOL;
	}
	se->argv0 = r->argv[0];
	kind = check_identity(se->srv, se->req.uid, se->req.gid, why, cap);
	char **env = kind ? NULL : build_env(r, se->req.uid, se->srv->self);
	if (kind == 0 && env) {
		struct exec_command c = {se->req.uid, se->req.gid, r->cwd, r->argv, env,
					 se->req.flags & MINT_EXEC_TTY, (uint16_t)se->req.rows,
					 (uint16_t)se->req.cols};
		kind = exec_spawn(&c, &se->child, why, cap) == 0 ? 0 : MINT_EXEC_ERR_FAILED;
		se->have_child = kind == 0;
	}
	free(env);
	free(r);
	return kind;
}

static bool client_reachable(void *arg)
{
	struct session *se = arg;
	return client_alive(se) && !atomic_load(&se->srv->stopping);
}

static void *session_thread(void *arg)
{
	struct session *se = arg;
	char why[400];
	open_signals(se);
	uint32_t kind = start_command(se, why, sizeof(why));
	if (kind == MINT_EXEC_ERR_PROTOCOL)
		end_session(se, CUT);
	pthread_t input;
	bool input_running = pthread_create(&input, NULL, input_thread, se) == 0;
	if (!input_running)
		end_session(se, HANGUP);
	uint32_t status = 0;
	if (se->have_child) {
		pump_output(se);
		status = reap(se);
	}
	if (atomic_load(&se->end) == CUT) {
		const char *what = kind == MINT_EXEC_ERR_PROTOCOL ? why : "malformed record: session cut";
		agent_logf(se->srv->self, "exec: %s: %s", se->ch_name, what);
		send_error(&se->ch.tx, MINT_EXEC_ERR_PROTOCOL, what, never, NULL);
	} else if (kind) {
		send_error(&se->ch.tx, kind, why, client_reachable, se);
		exec_printable(why);
		agent_logf(se->srv->self, "exec: %s: %s", se->ch_name, why);
	} else {
		/* An audit trail: who ran what as whom. */
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "%s", se->argv0);
		exec_printable(cmd);
		agent_logf(se->srv->self, "exec: %s: pid %d ran %s as uid %u gid %u: status %u%s",
			   se->ch_name, se->req.client_pid, cmd, se->req.uid, se->req.gid, status,
			   running(se) ? "" : " (hung up)");
		exec_send_u32(&se->ch.tx, status, MINT_EXEC_EXIT, client_reachable, se);
	}
	atomic_store(&se->final_sent, true);
	if (input_running)
		pthread_join(input, NULL);
	exec_child_close(&se->child);
	if (se->sig_off)
		remove_channel(se->srv->f, se->sig_name, se->sig_off);
	remove_channel(se->srv->f, se->ch_name, se->ch_off);
	release(se->srv, se->ch_off); /* after the removal: see services' refresh */
	close(se->wake[0]);
	close(se->wake[1]);
	free(se->start);
	pthread_mutex_destroy(&se->kill_lock);
	free(se);
	return NULL;
}

void exec_server_refuse(struct mint_fabric *f, const struct mint_channel *ch, uint64_t off,
			const char *name, uint32_t kind, const char *what)
{
	struct mint_channel own = *ch;
	char sig[MINT_OBJ_NAME_MAX];
	agent_logf(mint_fabric_self(f), "exec: %s: %s: channel removed", name, what);
	send_error(&own.tx, kind, what, never, NULL);
	remove_channel(f, name, off);
	sig_name_of(name, sig, sizeof(sig));
	mint_channel_remove(f, sig); /* no session will use it */
}

static void reject(struct exec_server *s, struct mint_channel *ch, const char *name, uint64_t off,
		   const char *what)
{
	exec_server_refuse(s->f, ch, off, name, MINT_EXEC_ERR_PROTOCOL, what);
}

bool exec_server_start(struct exec_server *s, const struct mint_channel *ch, uint64_t off,
		       const char *name, const void *msg, uint32_t len, uint32_t type)
{
	struct mint_channel own = *ch;
	if (type != MINT_EXEC_START || len < sizeof(struct mint_exec_start) || len > MINT_EXEC_START_MAX) {
		reject(s, &own, name, off, "malformed start record");
		return false;
	}
	if (atomic_load(&s->stopping) || !claim(s, off)) {
		reject(s, &own, name, off, "too many sessions");
		return false;
	}
	struct session *se = calloc(1, sizeof(*se));
	if (se && !(se->start = malloc(len + 1)))
		free(se), se = NULL;
	if (!se || pipe2(se->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		if (se)
			free(se->start);
		free(se);
		release(s, off);
		reject(s, &own, name, off, "out of resources");
		return false;
	}
	pthread_mutex_init(&se->kill_lock, NULL);
	se->srv = s;
	se->ch = own;
	se->ch_off = off;
	snprintf(se->ch_name, sizeof(se->ch_name), "%s", name);
	memcpy(se->start, msg, len);
	se->start[len] = '\0';
	se->start_len = len;
	se->child = (struct exec_child){-1, -1, -1, -1};
	pthread_t t;
	if (pthread_create(&t, NULL, session_thread, se) == 0) {
		pthread_detach(t);
		return true;
	}
	close(se->wake[0]);
	close(se->wake[1]);
	free(se->start);
	pthread_mutex_destroy(&se->kill_lock);
	free(se);
	release(s, off);
	reject(s, &own, name, off, "out of resources");
	return false;
}
