/* SPDX-License-Identifier: MIT */
/*
 * mint exec: run a command on a node through an "exec.*" channel (see
 * mint/proto.h).  The main thread is the consumer of the node's records
 * (output, the exit status) and watches the node; the input thread is the
 * only producer towards the node: standard input on the channel, and on
 * the signal channel the signals and window sizes the signal handler
 * queues on a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mint/proto.h"
#include "common/exec_stream.h"
#include "mint/clock.h"
#include "mint/endian.h"

#define MAX_ENV_ARGS 256

static const char exec_usage[] =
	"usage: mint exec ID [--uid U] [--gid G] [--cwd DIR] [--env K=V ...] [-t] -- CMD [ARG ...]\n"
	"Run CMD with ARGs (no shell) on node ID through the fabric, in the node's\n"
	"namespace and on its cores, as the caller's uid, gid and directory unless\n"
	"told otherwise; input, output and error are streamed, signals forwarded.\n"
	"-t gives it a pseudo-terminal.  Exit status: the command's (128+N after\n"
	"signal N), 127 not found, 126 not executable, 77 refused by the node's\n"
	"policy, 125 the session failed (node not running, no such directory...).\n";

struct exec_opts {
	uint32_t uid, gid;
	bool gid_given, tty;
	const char *cwd;
	const char *env[MAX_ENV_ARGS];
	int nenv;
};

/* ---- signals: queued on a pipe for the input thread ---- */

static int signal_pipe[2] = {-1, -1};

static void queue_signal(int sig)
{
	int saved = errno;
	char b = (char)sig;
	if (write(signal_pipe[1], &b, 1) < 0)
		errno = saved; /* full: the signal is dropped, like a pending one */
	errno = saved;
}

static int catch_signals(void)
{
	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -errno;
	struct sigaction sa = {0};
	sa.sa_handler = queue_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* ---- the terminal ---- */

static struct termios saved_tty;
static bool tty_raw;

static void restore_tty(void)
{
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tty);
	tty_raw = false;
}

static void raw_tty(void)
{
	struct termios t;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) != 0)
		return;
	t = saved_tty;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0)
		tty_raw = true;
}

static void window_size(uint32_t *rows, uint32_t *cols)
{
	struct winsize ws = {0};
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) != 0)
		ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);
	*rows = ws.ws_row;
	*cols = ws.ws_col;
}

/* ---- the session ---- */

struct session {
	struct mint_fabric *f;
	uint32_t node;
	char name[MINT_OBJ_NAME_MAX]; /* the channel's */
	struct mint_channel ch;
	char sig_name[MINT_OBJ_NAME_MAX]; /* the signal channel's */
	struct mint_channel sig;
	atomic_bool done;   /* main -> input thread (seq_cst store and loads) */
	bool quit;          /* input thread: told to stop */
	bool stdin_open;
	uint8_t inbuf[MINT_EXEC_CHUNK];
};

static bool go_on(void *arg)
{
	struct session *se = arg;
	return !atomic_load(&se->done) && mint_node_alive(se->f, se->node);
}

/* One signal from the pipe: forwarded, or a window size; false to stop. */
static bool forward_signal(struct session *se)
{
	char b;
	if (read(signal_pipe[0], &b, 1) != 1)
		return true;
	if (b == 0)
		return false;
	if (b != SIGWINCH)
		return exec_send_u32(&se->sig.tx, (uint32_t)b, MINT_EXEC_SIGNAL, go_on, se) != -ECANCELED;
	uint32_t ws[2];
	window_size(&ws[0], &ws[1]);
	ws[0] = mint_le32(ws[0]);
	ws[1] = mint_le32(ws[1]);
	return exec_send(&se->sig.tx, ws, sizeof(ws), MINT_EXEC_WINSIZE, go_on, se) != -ECANCELED;
}

/* While input waits for room in the channel: signals still go (on their
 * own channel); false once told to stop. */
static bool input_go_on(void *arg)
{
	struct session *se = arg;
	struct pollfd p = {signal_pipe[0], POLLIN, 0};
	while (!se->quit && poll(&p, 1, 0) == 1)
		se->quit = !forward_signal(se);
	return !se->quit && go_on(se);
}

/* Standard input to the node; its end (or an error) as an empty record. */
static bool forward_input(struct session *se)
{
	int n = exec_forward_fd(&se->ch.tx, STDIN_FILENO, MINT_EXEC_STDIN, se->inbuf, input_go_on, se);
	if (n > 0 || n == -EAGAIN)
		return true;
	if (n == -ECANCELED)
		return false;
	se->stdin_open = false;
	return exec_send(&se->ch.tx, NULL, 0, MINT_EXEC_STDIN, input_go_on, se) != -ECANCELED;
}

static void *input_thread(void *arg)
{
	struct session *se = arg;
	bool more = true;
	while (more && !se->quit) {
		struct pollfd p[2] = {{signal_pipe[0], POLLIN, 0},
				      {se->stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents)
			more = forward_signal(se);
		else if (p[1].revents)
			more = forward_input(se);
	}
	return NULL;
}

/* A record for us: written out, or the end; returns -1 to go on, else the
 * exit status. */
static int take_record(struct session *se, const uint8_t *buf, int n, uint32_t type)
{
	switch (type) {
	case MINT_EXEC_STDOUT:
	case MINT_EXEC_STDERR: {
		int fd = type == MINT_EXEC_STDOUT ? STDOUT_FILENO : STDERR_FILENO;
		if (exec_write_all(fd, buf, (size_t)n, go_on, se) == -EPIPE)
			queue_signal(SIGPIPE); /* as a local writer would get */
		return -1;
	}
	case MINT_EXEC_EXIT: {
		uint32_t status = n == 4 ? exec_get_u32(buf) : ~0u; /* read once: see peek */
		if (status <= 255)
			return (int)status;
		break;
	}
	case MINT_EXEC_ERROR:
		if (n < 4)
			break;
		restore_tty();
		char why[512];
		snprintf(why, sizeof(why), "%.*s", n - 4, (const char *)buf + 4);
		exec_printable(why); /* the node's words: no escapes to our terminal */
		cli_err("node %u: %s", se->node, why);
		return exec_get_u32(buf) == MINT_EXEC_ERR_REFUSED ? MINT_EXEC_STATUS_REFUSED : MINT_EXEC_STATUS_FAILED;
	}
	restore_tty();
	cli_err("node %u: malformed record from the node (type %u, %d bytes)", se->node, type, n);
	return MINT_EXEC_STATUS_FAILED;
}

/* The node's records until the exit status, an error or the node's death. */
static int run_session(struct session *se)
{
	int status = -1;
	while (status < 0) {
		const void *data;
		uint32_t type;
		bool taken;
		int n = exec_peek_wait(&se->ch.rx, NULL, &data, &type, &taken);
		if (n >= 0) {
			status = take_record(se, data, n, type);
			if (!taken)
				mint_ring_release(&se->ch.rx);
		} else if (n != -ETIMEDOUT && n != -EINTR) {
			restore_tty();
			cli_err("node %u: session broken: %s", se->node, mint_strerror(n));
			status = MINT_EXEC_STATUS_FAILED;
		} else if (!mint_node_alive(se->f, se->node)) {
			restore_tty();
			cli_err("node %u: died during the session", se->node);
			status = MINT_EXEC_STATUS_FAILED;
		}
	}
	return status;
}

/* ---- the start record ---- */

static size_t put_str(uint8_t *rec, size_t at, const char *s)
{
	size_t len = strlen(s) + 1;
	if (at + len <= MINT_EXEC_START_MAX)
		memcpy(rec + at, s, len);
	return at + len;
}

/* Build MINT_EXEC_START into REC; its length, or 0 if it would not fit. */
static size_t build_start(uint8_t *rec, const struct exec_opts *o, char **cmd, int argc)
{
	static const char *passed[] = {"TERM", "LANG", "LC_ALL"};
	const char *env[MAX_ENV_ARGS + 3];
	char kv[3][256];
	int nenv = 0;
	for (int i = 0; i < 3; i++) {
		const char *v = getenv(passed[i]);
		if (v && snprintf(kv[i], sizeof(kv[i]), "%s=%s", passed[i], v) < (int)sizeof(kv[i]))
			env[nenv++] = kv[i];
	}
	for (int i = 0; i < o->nenv; i++)
		env[nenv++] = o->env[i];
	uint32_t rows = 0, cols = 0;
	if (o->tty)
		window_size(&rows, &cols);
	int32_t pid = (int32_t)getpid();
	struct mint_exec_start h = {mint_le32(MINT_EXEC_VERSION), mint_le32(o->tty ? MINT_EXEC_TTY : 0), mint_le32(o->uid),
			       mint_le32(o->gid), mint_le32((uint32_t)argc), mint_le32((uint32_t)nenv), mint_le32(rows),
			       mint_le32(cols), (int32_t)mint_le32((uint32_t)pid), 0, mint_le64(mint_pid_start(pid))};
	memcpy(rec, &h, sizeof(h));
	size_t at = put_str(rec, sizeof(h), o->cwd);
	for (int i = 0; i < argc; i++)
		at = put_str(rec, at, cmd[i]);
	for (int i = 0; i < nenv; i++)
		at = put_str(rec, at, env[i]);
	return at <= MINT_EXEC_START_MAX ? at : 0;
}

/* ---- options ---- */

static int parse_user(const char *s, struct exec_opts *o)
{
	struct passwd *pw = getpwnam(s);
	if (cli_parse_u32(s, UINT32_MAX - 1, &o->uid) != 0 && !pw) {
		cli_err("user %s: no such user", s);
		return -EINVAL;
	}
	if (pw && cli_parse_u32(s, UINT32_MAX - 1, &o->uid) != 0)
		o->uid = pw->pw_uid;
	if (!o->gid_given && (pw = getpwuid(o->uid)) != NULL)
		o->gid = pw->pw_gid; /* the user's own group, unless --gid */
	return 0;
}

static int parse_exec(struct cli *c, int argc, char **argv, struct exec_opts *o)
{
	static const struct option opts[] = {
		{"uid", required_argument, NULL, 'u'}, {"gid", required_argument, NULL, 'g'},
		{"cwd", required_argument, NULL, 'C'}, {"env", required_argument, NULL, 'e'},
		{"tty", no_argument, NULL, 't'},       CLI_COMMON_LONGOPTS,
		{0}};
	const char *user = NULL;
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "te:", opts, NULL)) != -1) {
		switch (opt) {
		case 'u': user = optarg; break;
		case 'g':
			if (cli_parse_u32(optarg, UINT32_MAX - 1, &o->gid)) {
				cli_err("gid %s: not a group id", optarg);
				return EXIT_USAGE;
			}
			o->gid_given = true;
			break;
		case 'C': o->cwd = optarg; break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=' || o->nenv == MAX_ENV_ARGS) {
				cli_err("env %s: not K=V (at most %d of them)", optarg, MAX_ENV_ARGS);
				return EXIT_USAGE;
			}
			o->env[o->nenv++] = optarg;
			break;
		case 't': o->tty = true; break;
		default:
			if ((st = cli_common_opt(c, opt, exec_usage)) >= 0)
				return st;
		}
	}
	if (user && parse_user(user, o))
		return EXIT_USAGE;
	if (o->cwd && o->cwd[0] != '/') {
		cli_err("cwd %s: not an absolute path", o->cwd);
		return EXIT_USAGE;
	}
	return -1;
}

/* ---- the command ---- */

static int open_session(struct cli *c, struct session *se, const uint8_t *start, size_t len)
{
	if (cli_attach(c, &se->f))
		return MINT_EXEC_STATUS_FAILED;
	if (!mint_node_alive(se->f, se->node)) {
		cli_err("node %u: not running", se->node);
		return MINT_EXEC_STATUS_FAILED;
	}
	uint32_t nonce = 0;
	if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
		nonce = (uint32_t)mint_now_ns(CLOCK_MONOTONIC);
	snprintf(se->name, sizeof(se->name), MINT_EXEC_PREFIX "%d.%08x", (int)getpid(), nonce);
	snprintf(se->sig_name, sizeof(se->sig_name), MINT_EXEC_SIG_PREFIX "%d.%08x", (int)getpid(), nonce);
	/* The signal channel first: the node looks for it at the start. */
	int rc = mint_channel_open(se->f, se->sig_name, MINT_NODE_NONE, se->node, MINT_EXEC_SIG_RING_SIZE,
				   MINT_SIDE_A, &se->sig);
	if (rc == 1)
		rc = mint_channel_open(se->f, se->name, MINT_NODE_NONE, se->node, MINT_EXEC_RING_SIZE,
				       MINT_SIDE_A, &se->ch);
	if (rc == 1)
		rc = mint_ring_send(&se->ch.tx, start, (uint32_t)len, MINT_EXEC_START);
	else if (rc == 0)
		rc = -EEXIST;
	if (rc < 0) {
		char what[48];
		snprintf(what, sizeof(what), "node %u: cannot open a channel", se->node);
		cli_obj_err(c, what, rc);
		if (rc != -EEXIST) {
			mint_channel_remove(se->f, se->name);
			mint_channel_remove(se->f, se->sig_name);
		}
		return MINT_EXEC_STATUS_FAILED;
	}
	return 0;
}

/* After the session: let the input thread go, then tell the node we are
 * done (it removes the channels), or remove the channels of a dead node. */
static void close_session(struct session *se, pthread_t input)
{
	atomic_store(&se->done, true);
	queue_signal(0); /* the input thread's "stop" */
	pthread_join(input, NULL);
	atomic_store(&se->done, false);
	if (!mint_node_alive(se->f, se->node) ||
	    exec_send(&se->ch.tx, NULL, 0, MINT_EXEC_CLOSE, go_on, se) != 0) {
		mint_channel_remove(se->f, se->name);
		mint_channel_remove(se->f, se->sig_name);
	}
}

/* Our standard input and output, when they are pipes, get the room the
 * node gives the command's (MINT_EXEC_PIPE_SIZE): fewer, larger reads and
 * writes on this side of the channel too (a read of a 64 KiB pipe fills
 * half a record).  Best effort: a terminal or a file stays as it is, and
 * so does a pipe when the user's pipe quota refuses. */
static void size_pipes(void)
{
	fcntl(STDIN_FILENO, F_SETPIPE_SZ, MINT_EXEC_PIPE_SIZE);
	fcntl(STDOUT_FILENO, F_SETPIPE_SZ, MINT_EXEC_PIPE_SIZE);
}

static int run(struct cli *c, struct session *se, const uint8_t *start, size_t len, bool tty)
{
	int st = open_session(c, se, start, len);
	if (st)
		return st;
	size_pipes();
	pthread_t input;
	int rc = catch_signals();
	if (rc == 0)
		rc = -pthread_create(&input, NULL, input_thread, se);
	if (rc) {
		cli_err("exec: %s", strerror(-rc));
		/* An early close: the node hangs up and removes the channels. */
		exec_send(&se->ch.tx, NULL, 0, MINT_EXEC_CLOSE, go_on, se);
		return MINT_EXEC_STATUS_FAILED;
	}
	if (tty)
		raw_tty();
	st = run_session(se);
	close_session(se, input);
	restore_tty();
	return st;
}

int cmd_exec(struct cli *c, int argc, char **argv)
{
	char cwd[4096];
	struct exec_opts o = {.uid = getuid(), .gid = getgid()};
	int st = parse_exec(c, argc, argv, &o);
	if (st >= 0)
		return st;
	if (optind + 2 > argc) {
		fputs(exec_usage, stderr);
		return EXIT_USAGE;
	}
	struct session *se = calloc(1, sizeof(*se));
	if (!se || cli_parse_node(argv[optind], &se->node)) {
		free(se);
		return se ? EXIT_USAGE : MINT_EXEC_STATUS_FAILED;
	}
	se->stdin_open = true;
	if (!o.cwd)
		o.cwd = getcwd(cwd, sizeof(cwd)) ? cwd : "/";
	uint8_t *start = malloc(MINT_EXEC_START_MAX);
	int nargs = argc - optind - 1;
	size_t len = start && nargs <= (int)MINT_EXEC_MAX_ARGS
			     ? build_start(start, &o, argv + optind + 1, nargs)
			     : 0;
	if (len == 0) {
		cli_err("the command and its environment exceed %u arguments or %u bytes",
			MINT_EXEC_MAX_ARGS, MINT_EXEC_START_MAX);
		st = EXIT_USAGE;
	} else {
		st = run(c, se, start, len, o.tty);
	}
	free(start);
	if (se->f)
		mint_fabric_detach(se->f);
	free(se);
	return st;
}
