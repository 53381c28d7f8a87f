/* SPDX-License-Identifier: MIT */
/* Booting a QEMU guest node and stopping it (see guest_run.h). */
#include "cli/guest_run.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/tap.h"
#include "mint/guest_abi.h"
#include "server/ivshmem_server.h"

#define SERVER_START_MS 5000 /* the server listens well before this */
#define STOP_GRACE_MS 3000   /* SIGTERM, then SIGKILL */
#define JOIN_POLL_MS 20
#define TAP_FD 4 /* QEMU's descriptor of a guest's TAP */
#define TAP_FD_STR "4"

uint32_t guest_arch(const char *name)
{
	if (strcmp(name, "x86_64") == 0)
		return EM_X86_64;
	if (strcmp(name, "aarch64") == 0)
		return EM_AARCH64;
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Wait up to MS for PID (started at START) to be gone. */
static bool gone_within(int32_t pid, uint64_t start, int ms)
{
	for (int waited = 0; waited <= ms; waited += JOIN_POLL_MS) {
		waitpid(pid, NULL, WNOHANG); /* ours when we started it */
		if (!mint_pid_alive(pid, start))
			return true;
		sleep_ms(JOIN_POLL_MS);
	}
	return false;
}

/* SIGTERM, then SIGKILL: only the process the records name (pid and
 * start time), never one that reused its pid. */
static int stop_process(int32_t pid, uint64_t start)
{
	if (pid <= 0 || !mint_pid_alive(pid, start))
		return -ESRCH;
	if (kill(pid, SIGTERM) == 0 && !gone_within(pid, start, STOP_GRACE_MS)) {
		kill(pid, SIGKILL);
		gone_within(pid, start, 1000);
	}
	return 0;
}

/* ---- the server ---- */

static int read_pid_file(const char *path, int32_t *pid, uint64_t *start)
{
	FILE *in = fopen(path, "r");
	if (!in)
		return -errno;
	unsigned long long s = 0;
	int n = fscanf(in, "%d %llu", pid, &s);
	fclose(in);
	*start = s;
	return n == 2 ? 0 : -EPROTO;
}

static bool server_alive(const char *file)
{
	char pidf[300];
	int32_t pid;
	uint64_t start;
	ivs_pid_path(file, pidf, sizeof(pidf));
	return read_pid_file(pidf, &pid, &start) == 0 && mint_pid_alive(pid, start);
}

static void server_log_path(const char *file, char *buf, size_t cap)
{
	const char *base = strrchr(file, '/');
	snprintf(buf, cap, "/dev/shm/%s.ivshmem.log", base ? base + 1 : file);
}

/* The server's process: detached, logging to its file. */
static void server_child(const struct cli *c, const char *file, int ready)
{
	char log[300];
	server_log_path(file, log, sizeof(log));
	setsid();
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && null >= 0) {
		dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	signal(SIGHUP, SIG_IGN);
	_exit(ivs_serve(c->fabric, ready));
}

/* Start the fabric's server unless it runs: 0, or 1 after the error. */
static int spawn_server(const struct cli *c, const char *file, int lock_fd)
{
	if (server_alive(file))
		return 0;
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		cli_err("ivshmem server: %s", strerror(errno));
		return 1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		close(lock_fd); /* the lock is the starter's, not the server's */
		server_child(c, file, p[1]);
	}
	close(p[1]);
	char buf[8] = "";
	struct pollfd pfd = {p[0], POLLIN, 0};
	ssize_t n = pid > 0 && poll(&pfd, 1, SERVER_START_MS) == 1 ? read(p[0], buf, sizeof(buf)) : -1;
	close(p[0]);
	if (n >= 5 && memcmp(buf, "ready", 5) == 0)
		return 0;
	char log[300];
	server_log_path(file, log, sizeof(log));
	if (pid > 0)
		kill(pid, SIGKILL);
	cli_err("ivshmem server did not start (see %s)", log);
	return 1;
}

static void lock_path(const char *file, char *buf, size_t cap)
{
	const char *base = strrchr(file, '/');
	snprintf(buf, cap, "/dev/shm/%s.ivshmem.lock", base ? base + 1 : file);
}

/* spawn_server under a lock: of two `mint guest start` at once, one
 * starts the server and the other finds it running. */
static int ensure_server(const struct cli *c, const char *file)
{
	char lock[300];
	lock_path(file, lock, sizeof(lock));
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		cli_err("ivshmem server: %s: %s", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	int st = spawn_server(c, file, fd);
	close(fd);
	return st;
}

/* Is PID (started at START) this very program, the mint binary?  The
 * pid file is only believed for a process that is. */
static bool is_our_server(int32_t pid, uint64_t start)
{
	char exe[64], a[PATH_MAX], b[PATH_MAX];
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(exe, a, sizeof(a) - 1), m = readlink("/proc/self/exe", b, sizeof(b) - 1);
	if (n <= 0 || m <= 0 || !mint_pid_alive(pid, start))
		return false;
	a[n] = b[m] = '\0';
	return strcmp(a, b) == 0;
}

int guest_server_gone(const char *file)
{
	char pidf[300], sock[300], log[300], lock[300];
	ivs_pid_path(file, pidf, sizeof(pidf));
	ivs_socket_path(file, sock, sizeof(sock));
	server_log_path(file, log, sizeof(log));
	lock_path(file, lock, sizeof(lock));
	int32_t pid;
	uint64_t start;
	if (read_pid_file(pidf, &pid, &start) != 0 && access(sock, F_OK) != 0)
		return -ESRCH;
	/* It looks for its file every IDLE_CHECK_MS; a hung one is stopped. */
	if (read_pid_file(pidf, &pid, &start) == 0 && !gone_within(pid, start, SERVER_START_MS) &&
	    is_our_server(pid, start))
		stop_process(pid, start);
	unlink(pidf);
	unlink(sock);
	unlink(log);
	unlink(lock);
	return 0;
}

/* ---- QEMU ---- */

/* Find PROG on $PATH into BUF: 0 or -ENOENT. */
static int on_path(const char *prog, char *buf, size_t cap)
{
	const char *path = getenv("PATH");
	char dirs[4096];
	snprintf(dirs, sizeof(dirs), "%s", path ? path : "/usr/bin:/bin");
	for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, cap, "%s/%s", d, prog);
		if (access(buf, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* The kernel and initramfs `make guest-images` put beside this binary. */
static int find_image(const struct guest_spec *g, const char *given, const char *name, char *buf,
		      size_t cap)
{
	if (given) {
		snprintf(buf, cap, "%s", given);
	} else {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[n > 0 ? n : 0] = '\0';
		snprintf(buf, cap, "%s/guest/%s/%s", dirname(self), g->arch, name);
	}
	if (access(buf, R_OK) == 0)
		return 0;
	cli_err("guest %u: no %s %s: build it with make guest-images (it fetches Debian's "
		"linux-image-%s)", g->id, name, buf, strcmp(g->arch, "x86_64") == 0 ? "amd64" : "arm64");
	return 1;
}

/* " mint.load.NAME=1" into BUF for each NAME of LIST (a,b: at most 64
 * characters, checked by the caller), which the guest's init loads. */
static void append_loads(char *buf, size_t cap, const char *list)
{
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");
		int n = snprintf(buf, cap, " mint.load.%.*s=1", (int)len, p);
		if (n < 0 || (size_t)n >= cap)
			return;
		buf += n, cap -= (size_t)n;
		p += len + (p[len] == ',');
	}
}

struct qemu_cmd {
	char *argv[40];
	int argc;
	char prog[PATH_MAX], kernel[PATH_MAX], initrd[PATH_MAX], mem[16], append[640], chardev[400];
};

static void add(struct qemu_cmd *q, const char *a) { q->argv[q->argc++] = (char *)a; }

static bool want_kvm(const struct guest_spec *g)
{
	return g->accel ? strcmp(g->accel, "kvm") == 0 : access("/dev/kvm", R_OK | W_OK) == 0;
}

/* Machine, accelerator and console for G.  Under TCG one vCPU runs with
 * maxcpus=2: QEMU then translates guest atomics into host atomics and
 * guest barriers into host barriers (MTTCG's parallel mode), which the
 * fabric's lock-free protocols need against host processes. */
static const char *machine_args(struct qemu_cmd *q, const struct guest_spec *g)
{
	bool x86 = strcmp(g->arch, "x86_64") == 0, kvm = want_kvm(g);
	add(q, "-M");
	add(q, x86 ? "q35" : "virt");
	if (!x86 || kvm) {
		add(q, "-cpu");
		add(q, kvm ? "host" : "cortex-a57");
	}
	add(q, "-accel");
	/* tb-size: a 64 MiB translation cache instead of 1 GiB keeps QEMU
	 * small and its death (kill -9) quick to complete */
	add(q, kvm ? "kvm" : "tcg,thread=multi,tb-size=64");
	add(q, "-smp");
	add(q, kvm ? "1" : "1,maxcpus=2");
	return x86 ? "ttyS0" : "ttyAMA0";
}

static int build_qemu(struct qemu_cmd *q, const struct guest_spec *g, const char *file)
{
	const char *qemu = strcmp(g->arch, "x86_64") == 0 ? "qemu-system-x86_64" : "qemu-system-aarch64";
	if (on_path(qemu, q->prog, sizeof(q->prog)) != 0) {
		cli_err("%s not found: install the Debian package %s", qemu,
			strcmp(g->arch, "x86_64") == 0 ? "qemu-system-x86" : "qemu-system-arm");
		return 1;
	}
	if (find_image(g, g->kernel, "kernel", q->kernel, sizeof(q->kernel)) ||
	    find_image(g, g->initrd, "initrd.cpio.gz", q->initrd, sizeof(q->initrd)))
		return 1;
	char sock[300];
	ivs_socket_path(file, sock, sizeof(sock));
	add(q, q->prog);
	const char *console = machine_args(q, g);
	snprintf(q->mem, sizeof(q->mem), "%u", g->mem_mib);
	int n = snprintf(q->append, sizeof(q->append),
			 "console=%s quiet panic=-1 mint.id=%u mint.mode=%s%s%s%s", console, g->id,
			 g->mode ? g->mode : "sleep", g->vni ? " mint.vni=" : "", g->vni ? g->vni : "",
			 g->tap ? " mint.tap=1" : "");
	if (n > 0 && (size_t)n < sizeof(q->append))
		append_loads(q->append + n, sizeof(q->append) - (size_t)n, g->load);
	snprintf(q->chardev, sizeof(q->chardev), "socket,path=%s,id=mintfab", sock);
	const char *rest[] = {"-m", q->mem, "-nodefaults", "-no-user-config", "-display", "none",
			      "-no-reboot", "-serial", "stdio", "-kernel", q->kernel, "-initrd",
			      q->initrd, "-append", q->append, "-chardev", q->chardev, "-device",
			      "ivshmem-doorbell,chardev=mintfab,vectors=3"};
	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
		add(q, rest[i]);
	if (g->tap) { /* the TAP's descriptor is QEMU's descriptor TAP_FD */
		const char *nic[] = {"-netdev", "tap,id=mintnet,fd=" TAP_FD_STR, "-device",
				     "e1000,netdev=mintnet"};
		for (size_t i = 0; i < sizeof(nic) / sizeof(nic[0]); i++)
			add(q, nic[i]);
	}
	q->argv[q->argc] = NULL;
	return 0;
}

/* QEMU's process: waits for GO (its pid must be in the fabric before it
 * connects), then becomes QEMU: its serial console to the node's log, the
 * node's marker held open for its life at descriptor 3 (so that it is
 * found as the node's agent: fabric_procs.h), the TAP (if any) at TAP_FD,
 * nothing else of ours. */
static void qemu_child(struct qemu_cmd *q, const struct guest_spec *g,
		       const struct node_files *nf, int go, int tap)
{
	char byte;
	setsid();
	if (read(go, &byte, 1) != 1)
		_exit(1);
	int m = fcntl(nf->marker, F_DUPFD, TAP_FD + 1);
	int t = tap >= 0 ? fcntl(tap, F_DUPFD, TAP_FD + 1) : -1;
	int null = open("/dev/null", O_RDONLY);
	if (m < 0 || null < 0 || (tap >= 0 && t < 0) || ftruncate(nf->log, 0) != 0)
		_exit(1);
	dup2(null, 0);
	dup2(nf->log, 1);
	dup2(nf->log, 2);
	dup2(m, 3);
	if (t >= 0)
		dup2(t, TAP_FD);
	close_range(TAP_FD + 1, ~0u, 0);
	if (g->cores_arg) {
		cpu_set_t set;
		CPU_ZERO(&set);
		for (unsigned cpu = 0; cpu < 64 * MINT_CPU_WORDS; cpu++)
			if (g->cores[cpu / 64] >> (cpu % 64) & 1)
				CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	execv(q->prog, q->argv);
	_exit(127);
}

/* Fork QEMU held at its start (with TAP, or -1), record it as node
 * G->id's, release it. */
static int launch(struct mint_fabric *f, struct qemu_cmd *q, const struct guest_spec *g,
		  const struct node_files *nf, int tap, pid_t *out)
{
	int go[2];
	if (pipe2(go, O_CLOEXEC) != 0)
		return -errno;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		qemu_child(q, g, nf, go[0], tap);
	}
	close(go[0]);
	int rc = pid < 0 ? -errno : mint_guest_prepare(f, g->id, pid, guest_arch(g->arch));
	if (rc == 0 && write(go[1], "g", 1) != 1)
		rc = -EPIPE;
	close(go[1]); /* without the byte the child exits */
	if (rc && pid > 0)
		waitpid(pid, NULL, 0);
	*out = pid;
	return rc;
}

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Wait for the agent of guest G (QEMU PID) to join: 0, or 1 after the
 * error (QEMU stopped). */
static int wait_join(struct mint_fabric *f, const struct guest_spec *g, pid_t pid, uint32_t epoch0,
		     const char *log)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t start = mint_pid_start(pid);
	while (since(&t0) < g->timeout_s) {
		struct mint_node_info info;
		mint_node_info(f, g->id, &info);
		if (info.alive && info.epoch != epoch0 && info.pid == pid) {
			/* the join is a heartbeat seen now: the server looks
			 * up to 200 ms later, and its last look was at boot */
			uint64_t any = UINT64_MAX;
			mint_guest_note_beat(f, g->id, &any);
			struct mint_guest_info gi;
			mint_guest_info(f, g->id, &gi);
			printf("guest %u up: %s, kernel %s, QEMU pid %d, joined in %.1f s\n", g->id,
			       g->arch, gi.kernel, (int)pid, since(&t0));
			return 0;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid || !mint_pid_alive(pid, start)) {
			mint_guest_forget(f, g->id);
			cli_err("guest %u: QEMU exited before its agent joined (console: %s)", g->id,
				log);
			return 1;
		}
		sleep_ms(JOIN_POLL_MS);
	}
	stop_process(pid, start);
	mint_guest_forget(f, g->id);
	cli_err("guest %u: did not reach the fabric within %u s: stopped (console: %s)", g->id,
		g->timeout_s, log);
	return 1;
}

int guest_run(struct cli *c, const struct guest_spec *g)
{
	struct mint_fabric *f;
	if (cli_attach(c, &f))
		return 1;
	static struct qemu_cmd q;
	struct node_files nf;
	struct mint_node_info info;
	mint_node_info(f, g->id, &info);
	int st = 1;
	pid_t pid = -1;
	if (info.alive) {
		cli_err("node %u: already running (pid %d)", g->id, info.pid);
	} else if (build_qemu(&q, g, mint_fabric_file(f)) == 0 &&
		   ensure_server(c, mint_fabric_file(f)) == 0 &&
		   cli_open_node_files(c, f, g->id, &nf) == 0) {
		char tap_name[IFNAMSIZ] = "mintg%d";
		int tap = -1, rc = g->tap ? tap_plain(tap_name, &tap) : 0;
		if (rc)
			cli_err("guest %u: cannot create its TAP: %s", g->id, strerror(-rc));
		else if ((rc = launch(f, &q, g, &nf, tap, &pid)) != 0)
			cli_err("guest %u: cannot start QEMU: %s", g->id, mint_strerror(rc));
		if (tap >= 0)
			close(tap); /* QEMU's copy is the TAP's only one: it goes with QEMU */
		close(nf.log);
		close(nf.marker);
		if (rc == 0 && (st = wait_join(f, g, pid, info.epoch, nf.log_path)) == 0 && g->tap)
			printf("guest %u: e1000 NIC eth0 on host TAP %s\n", g->id, tap_name);
	}
	mint_fabric_detach(f);
	return st;
}

int guest_stop_node(const struct cli *c, uint32_t id)
{
	struct cli_stopped done;
	int rc = cli_stop_nodes(c, id, &done);
	struct mint_fabric *f;
	if (mint_fabric_attach(c->fabric, &f) == 0) {
		mint_node_evict(f, id);
		mint_guest_forget(f, id);
		mint_fabric_detach(f);
	}
	return rc ? rc : done.agents ? 0 : -ESRCH;
}
