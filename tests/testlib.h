/* SPDX-License-Identifier: MIT */
/* A minimal harness for the C tests: each test program runs its cases and
 * exits 0 (pass), 1 (fail) or 77 (skip, with the reason on stdout).
 *
 * Everything here is static or static inline, so a test uses what it needs
 * and the rest costs nothing.  A test program's main starts with t_start(),
 * which arms its overall deadline; its children come from t_spawn(),
 * t_fork() or t_race() and are reaped with t_wait_child() or
 * t_wait_child_for(), so that a test that times out kills them, and
 * removes its fabric (t_fabric) and its directory (t_make_tmpdir).
 *
 * The random numbers of t_rnd() are deterministic, so failures reproduce:
 * a test may pick its own sequence by defining T_RNG_SEED before it
 * includes this file. */
#ifndef MINT_TESTLIB_H
#define MINT_TESTLIB_H

#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mint/mint.h"

/* 1 under AddressSanitizer or ThreadSanitizer, which make everything
 * slower: tests scale their iteration counts and deadlines by it. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define T_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define T_SANITIZED 1
#endif
#endif
#ifndef T_SANITIZED
#define T_SANITIZED 0
#endif

static int t_failures;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			t_failures++;                                                  \
		}                                                                      \
	} while (0)

#define CHECK_EQ(a, b)                                                                 \
	do {                                                                           \
		long long t_a = (long long)(a), t_b = (long long)(b);                  \
		if (t_a != t_b) {                                                      \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
				__LINE__, #a, t_a, #b, t_b);                           \
			t_failures++;                                                  \
		}                                                                      \
	} while (0)

/* A test program that runs its tests in several modes names the mode in
 * t_mode: each result line then reads "ok   test_x [mode]". */
static const char *t_mode __attribute__((unused));
#define RUN(fn)                                                                        \
	do {                                                                           \
		int t_before = t_failures;                                             \
		fn();                                                                  \
		printf("%s %s%s%s%s\n", t_failures == t_before ? "ok  " : "FAIL", #fn,   \
		       t_mode ? " [" : "", t_mode ? t_mode : "", t_mode ? "]" : "");   \
	} while (0)

#define SKIP(reason)                                                                   \
	do {                                                                           \
		printf("skip: %s\n", reason);                                          \
		exit(77);                                                              \
	} while (0)

/* `make stress` (MINT_STRESS=1) runs every loop 10 times longer, with time
 * limits to match. */
static inline long t_stress_factor(void)
{
	const char *stress = getenv("MINT_STRESS");
	return stress && *stress && *stress != '0' ? 10 : 1;
}

/* Iteration counts: N normally, 10 N under `make stress`. */
static inline long t_scale(long n) { return n * t_stress_factor(); }

/* ---- time ---- */

/* CLOCK_MONOTONIC in nanoseconds (the clock of the heartbeats). */
static inline uint64_t t_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sleep at least US microseconds, signals or not. */
static inline void t_sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static inline void t_sleep_ms(long ms) { t_sleep_us(ms * 1000L); }

/* ---- random numbers: xorshift64*, deterministic ---- */

#ifndef T_RNG_SEED
#define T_RNG_SEED 0x9e3779b97f4a7c15ull
#endif
static uint64_t t_rng_state = T_RNG_SEED;

static inline uint64_t t_rnd(void)
{
	t_rng_state ^= t_rng_state >> 12;
	t_rng_state ^= t_rng_state << 25;
	t_rng_state ^= t_rng_state >> 27;
	return t_rng_state * 0x2545f4914f6cdd1dull;
}

/* ---- the test's fabric ---- */

/* A fabric name unique to this test process; removed by t_fabric_cleanup. */
static char t_name[64];

static inline struct mint_fabric *t_fabric(uint64_t size)
{
	snprintf(t_name, sizeof(t_name), "test-%d", (int)getpid());
	mint_fabric_destroy(t_name);
	struct mint_fabric *f = NULL;
	int rc = mint_fabric_create(t_name, size, &f);
	if (rc) {
		fprintf(stderr, "cannot create fabric %s: %s\n", t_name, mint_strerror(rc));
		exit(1);
	}
	return f;
}

static inline void t_fabric_cleanup(void)
{
	if (t_name[0])
		mint_fabric_destroy(t_name);
}

/* In a child: attach the test's fabric, or exit 2. */
static inline struct mint_fabric *t_child_attach(void)
{
	struct mint_fabric *f = NULL;
	if (mint_fabric_attach(t_name, &f) != 0)
		_exit(2);
	return f;
}

/* A second handle on the test's fabric, as another process would have;
 * NULL, counted as a failure, if it cannot attach. */
static inline struct mint_fabric *t_attach(void)
{
	struct mint_fabric *g = NULL;
	int rc = mint_fabric_attach(t_name, &g);
	if (rc != 0) {
		fprintf(stderr, "cannot attach fabric %s: %s\n", t_name, mint_strerror(rc));
		t_failures++;
		return NULL;
	}
	return g;
}

/* A raw object NAME of SIZE bytes in F, found or created (zeroed), for
 * what the test's processes share; NULL (said on stderr) if it fails. */
static inline void *t_shared_object(struct mint_fabric *f, const char *name, uint64_t size)
{
	uint64_t off = 0;
	int rc = mint_obj_open(f, name, MINT_OBJ_RAW, size, NULL, NULL, &off);
	if (rc < 0) {
		fprintf(stderr, "cannot open the shared object: %d\n", rc);
		return NULL;
	}
	return mint_fabric_at(f, off, size);
}

/*
 * Join as node ID, and check the join released the directory lock.  A join
 * that leaves it held (owner = this thread's pre-join, pid-only tag) would
 * hang every later directory operation; the check reports it and frees the
 * lock so the rest of the test still runs.
 */
static inline int t_join(struct mint_fabric *f, uint32_t id, const struct mint_node_opts *o)
{
	int rc = mint_node_join(f, id, o);
	struct mint_lock *l = &mint_fabric_hdr(f)->dir_lock;
	uint64_t own = atomic_load(&l->owner);
	if (own != 0 && (uint32_t)own == (uint32_t)gettid()) {
		fprintf(stderr, "BUG: mint_node_join(%u) left the directory lock held (owner %#llx)\n",
			id, (unsigned long long)own);
		t_failures++;
		atomic_store(&l->owner, 0);
	}
	return rc;
}

/* ---- a private temporary directory (t_make_tmpdir), removed at exit ---- */

static char t_dir[96];

static inline void t_tmpdir_cleanup(void)
{
	if (!t_dir[0])
		return;
	glob_t g;
	char pat[sizeof(t_dir) + 8];
	snprintf(pat, sizeof(pat), "%s/*", t_dir);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
	rmdir(t_dir);
}

/* OUT = the path of LEAF in the temporary directory. */
static inline void t_path(char *out, size_t cap, const char *leaf)
{
	snprintf(out, cap, "%s/%s", t_dir, leaf);
}

/* ---- children, and the deadlines of the whole test and of each child ---- */

#define T_MAX_KIDS 16

static pid_t t_kids[T_MAX_KIDS];      /* children not reaped yet: killed on timeout */
static unsigned t_child_timeout = 60; /* seconds a t_spawn child may run */
static const char *t_prog = "test";   /* the test's name, for messages */
static char t_timeout_msg[96], t_child_timeout_msg[96];
static size_t t_timeout_len, t_child_timeout_len;

/* SIGALRM in the test process: kill the children, remove the fabric and
 * the temporary directory, fail. */
static inline void t_on_alarm(int sig)
{
	(void)sig;
	if (write(2, t_timeout_msg, t_timeout_len) < 0) {
	}
	for (int i = 0; i < T_MAX_KIDS; i++)
		if (t_kids[i] > 0)
			kill(t_kids[i], SIGKILL);
	t_fabric_cleanup();
	t_tmpdir_cleanup();
	_exit(1);
}

/* SIGALRM in a child: exit 3. */
static inline void t_on_child_alarm(int sig)
{
	(void)sig;
	if (write(2, t_child_timeout_msg, t_child_timeout_len) < 0) {
	}
	_exit(3);
}

/* The start of main: line-buffered stdout; the whole test fails after
 * SECS seconds (killing its children); the fabric and the temporary
 * directory are removed at exit. */
static inline void t_start(const char *prog, unsigned secs)
{
	t_prog = prog;
	snprintf(t_timeout_msg, sizeof(t_timeout_msg), "%s: timed out\n", prog);
	t_timeout_len = strlen(t_timeout_msg);
	snprintf(t_child_timeout_msg, sizeof(t_child_timeout_msg), "%s: child timed out\n", prog);
	t_child_timeout_len = strlen(t_child_timeout_msg);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, t_on_alarm);
	alarm(secs * (unsigned)t_stress_factor());
	t_child_timeout *= (unsigned)t_stress_factor();
	atexit(t_tmpdir_cleanup);
	atexit(t_fabric_cleanup);
}

/* Create the temporary directory (/tmp/mint-PROG-XXXXXX), or exit 1. */
static inline void t_make_tmpdir(void)
{
	snprintf(t_dir, sizeof(t_dir), "/tmp/mint-%s-XXXXXX", t_prog);
	if (!mkdtemp(t_dir)) {
		perror("mkdtemp");
		t_dir[0] = 0;
		exit(1);
	}
}

/* fork(), with stdio flushed first.  The child exits 3 after SECS seconds;
 * the parent records it, for t_on_alarm. */
static inline pid_t t_fork(unsigned secs)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGALRM, t_on_child_alarm);
		alarm(secs * (unsigned)t_stress_factor());
		return 0;
	}
	for (int i = 0; i < T_MAX_KIDS; i++)
		if (t_kids[i] <= 0) {
			t_kids[i] = pid;
			break;
		}
	return pid;
}

/* Run FN(ARG) in a child (t_child_timeout seconds at most), which exits 1
 * if any of its checks failed, else 0. */
static inline pid_t t_spawn(void (*fn)(void *), void *arg)
{
	pid_t pid = t_fork(t_child_timeout);
	if (pid == 0) {
		t_failures = 0;
		fn(arg);
		_exit(t_failures ? 1 : 0);
	}
	return pid;
}

static inline void t_forget_child(pid_t pid)
{
	for (int i = 0; i < T_MAX_KIDS; i++)
		if (t_kids[i] == pid)
			t_kids[i] = 0;
}

/* A wait status as one number: the exit status, or 128 + the signal. */
static inline int t_exit_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Reap child PID: its t_exit_code, or -1. */
static inline int t_wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	t_forget_child(pid);
	return t_exit_code(st);
}

/* Reap child PID within MS milliseconds: its t_exit_code, or -1; past the
 * deadline it is killed, and the result is 1000 + its t_exit_code. */
static inline int t_wait_child_for(pid_t pid, int ms)
{
	uint64_t end = t_now_ns() + (uint64_t)ms * 1000000ull;
	int st;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			t_forget_child(pid);
			return -1;
		}
		if (t_now_ns() > end) {
			fprintf(stderr, "  child %d did not finish: killed\n", (int)pid);
			kill(pid, SIGKILL);
			return t_wait_child(pid) + 1000;
		}
		t_sleep_us(1000);
	}
	t_forget_child(pid);
	return t_exit_code(st);
}

/* Run FN(I, ARG) for I = 0 .. N-1 (N <= T_MAX_KIDS), each in a child of
 * its own (SECS seconds at most) that exits with what FN returns.  The
 * children wait at a gate that opens for all of them at once, to race.
 * CODES[I]: child I's t_exit_code (t_count counts the outcomes). */
static inline void t_race(int n, unsigned secs, int (*fn)(int i, void *arg), void *arg, int *codes)
{
	if (n > T_MAX_KIDS) {
		fprintf(stderr, "t_race: %d children, at most %d\n", n, T_MAX_KIDS);
		exit(1);
	}
	int gate[2] = {-1, -1};
	if (pipe(gate) != 0) {
		fprintf(stderr, "t_race: pipe: %s\n", strerror(errno));
		t_failures++;
	}
	pid_t pids[T_MAX_KIDS];
	for (int i = 0; i < n; i++) {
		pids[i] = t_fork(secs);
		if (pids[i] == 0) {
			char c;
			close(gate[1]);
			if (read(gate[0], &c, 1) < 0) {
			}
			_exit(fn(i, arg));
		}
	}
	close(gate[0]);
	close(gate[1]); /* EOF opens the gate */
	for (int i = 0; i < n; i++)
		codes[i] = t_wait_child(pids[i]);
}

/* How many of the N codes are WANT. */
static inline int t_count(const int *codes, int n, int want)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		k += codes[i] == want;
	return k;
}

static inline int t_done(void)
{
	t_fabric_cleanup();
	return t_failures ? 1 : 0;
}

#endif
