/* SPDX-License-Identifier: MIT */
/* mint's ivshmem server (see ivshmem_server.h). */
#include "server/ivshmem_server.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/time_types.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mint/guest.h"
#include "mint/guest_abi.h"
#include "mint/mint.h"

#define MAX_CLIENTS MINT_MAX_NODES
#define WATCH_SLICE_NS 200000000ll /* a guest's thread looks at its stop flag */
#define IDLE_CHECK_MS 500          /* the fabric file's presence, when idle */

struct server;

struct client {
	struct server *s;
	int sock;                  /* -1: free slot */
	uint32_t id;
	int32_t pid;               /* its QEMU's */
	int efd[MINT_IVSHMEM_NVEC]; /* the guest's MSI-X vectors */
	uint64_t wake_head;        /* our position in its wake queue */
	pthread_t watcher;
	atomic_bool stop;
};

struct server {
	struct mint_fabric *f;
	const char *fabric;
	int fabric_fd;             /* handed to every QEMU: its BAR2 */
	int listen_fd;
	int doorbell;              /* our own peer's vector 0: guests ring it */
	struct client clients[MAX_CLIENTS];
};

static volatile sig_atomic_t quit;
static void on_signal(int sig) { (void)sig; quit = 1; }

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "[%lld.%03ld] ivshmem-server: ", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void in_shm(const char *file, const char *suffix, char *buf, size_t cap)
{
	const char *base = strrchr(file, '/');
	snprintf(buf, cap, "/dev/shm/%s%s", base ? base + 1 : file, suffix);
}

void ivs_socket_path(const char *file, char *buf, size_t cap) { in_shm(file, ".ivshmem.sock", buf, cap); }
void ivs_pid_path(const char *file, char *buf, size_t cap) { in_shm(file, ".ivshmem.pid", buf, cap); }

/* One protocol message: a little-endian int64, with at most one fd.
 * Never blocks: a client that does not read is dropped, not waited for. */
static int send_msg(int sock, int64_t value, int fd)
{
	uint64_t le = htole64((uint64_t)value);
	struct iovec iov = {&le, sizeof(le)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(le) ? 0 : -1;
}

static void ring(struct client *c, uint32_t vector)
{
	uint64_t one = 1;
	if (write(c->efd[vector], &one, sizeof(one)) < 0 && errno != EAGAIN)
		logf_("guest %u: eventfd write: %s", c->id, strerror(errno));
}

/* The guest's doorbell words changed since we looked: interrupt it. */
static void forward(struct server *s, struct client *c, uint32_t *bell, uint32_t *kseq)
{
	uint32_t b = atomic_load_explicit(mint_guest_bell_seq(s->f, c->id), memory_order_acquire);
	uint32_t k = atomic_load_explicit(mint_guest_kseq(s->f, c->id), memory_order_acquire);
	uint64_t sent = 0;
	if (b != *bell) {
		*bell = b;
		ring(c, MINT_IVSHMEM_MSIX_NODE);
		sent++;
	}
	if (k != *kseq) {
		*kseq = k;
		uint32_t msix = mint_guest_kernel_vectors(s->f, c->id);
		for (uint32_t v = 1; v < MINT_IVSHMEM_NVEC; v++)
			if (msix & (1u << v)) {
				ring(c, v);
				sent++;
			}
	}
	if (sent)
		mint_guest_count_irqs(s->f, c->id, sent);
}

/* Host -> guest: sleep on the guest's bell and kernel sequences; the
 * values last seen are remembered, so a bump while we were busy is
 * forwarded at the next look, never lost.  At every look (at least each
 * WATCH_SLICE_NS) it also notes whether the guest's heartbeat moved: the
 * host's only clock for a guest's agent (mint status: "hung"). */
static void *watcher(void *arg)
{
	struct client *c = arg;
	struct server *s = c->s;
	_Atomic uint32_t *bw = mint_guest_bell_seq(s->f, c->id), *kw = mint_guest_kseq(s->f, c->id);
	/* acquire: pairs with the wakers' release bumps of the sequences */
	uint32_t bell = atomic_load_explicit(bw, memory_order_acquire);
	uint32_t kseq = atomic_load_explicit(kw, memory_order_acquire);
	uint64_t beat = UINT64_MAX; /* its connection counts as a beat seen */
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		mint_guest_note_beat(s->f, c->id, &beat);
		struct futex_waitv w[2] = {{bell, (uintptr_t)bw, FUTEX_32, 0},
					   {kseq, (uintptr_t)kw, FUTEX_32, 0}};
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		struct __kernel_timespec at = {now.tv_sec, now.tv_nsec + WATCH_SLICE_NS};
		if (at.tv_nsec >= 1000000000) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000;
		}
		syscall(SYS_futex_waitv, w, 2u, 0u, &at, CLOCK_MONOTONIC);
		forward(s, c, &bell, &kseq);
	}
	return NULL;
}

static void close_client(struct client *c)
{
	atomic_store_explicit(&c->stop, true, memory_order_relaxed);
	pthread_join(c->watcher, NULL);
	close(c->sock);
	for (uint32_t v = 0; v < MINT_IVSHMEM_NVEC; v++)
		close(c->efd[v]);
	c->sock = -1;
}

/* The messages QEMU reads at connection: version, its id, the fabric,
 * our peer's doorbell, then its own vectors' eventfds. */
static int greet(struct server *s, struct client *c)
{
	if (send_msg(c->sock, 0, -1) || send_msg(c->sock, c->id, -1) ||
	    send_msg(c->sock, -1, s->fabric_fd) ||
	    send_msg(c->sock, MINT_IVSHMEM_SERVER_PEER, s->doorbell))
		return -1;
	for (uint32_t v = 0; v < MINT_IVSHMEM_NVEC; v++)
		if (send_msg(c->sock, c->id, c->efd[v]))
			return -1;
	return 0;
}

static int make_eventfds(struct client *c)
{
	for (uint32_t v = 0; v < MINT_IVSHMEM_NVEC; v++) {
		c->efd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (c->efd[v] < 0) {
			while (v-- > 0)
				close(c->efd[v]);
			return -1;
		}
	}
	return 0;
}

/* Which guest is connecting: the node whose entry names its pid. */
static int identify(struct server *s, int sock, int32_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	*pid = cred.pid;
	int id = mint_guest_by_pid(s->f, cred.pid);
	if (id < 0) {
		logf_("refused a client (pid %d): no guest node records it", (int)cred.pid);
		return -1;
	}
	if (s->clients[id].sock >= 0) {
		logf_("refused a client (pid %d): guest %d is connected", (int)cred.pid, id);
		return -1;
	}
	return id;
}

static void accept_client(struct server *s)
{
	int sock = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (sock < 0)
		return;
	int32_t pid = 0;
	int id = identify(s, sock, &pid);
	struct client *c = id >= 0 ? &s->clients[id] : NULL;
	if (!c || make_eventfds(c) != 0) {
		close(sock);
		return;
	}
	c->s = s;
	c->sock = sock;
	c->id = (uint32_t)id;
	c->pid = pid;
	c->wake_head = 0; /* mint_guest_prepare emptied the queue */
	atomic_init(&c->stop, false);
	if (greet(s, c) != 0 || pthread_create(&c->watcher, NULL, watcher, c) != 0) {
		logf_("guest %d: could not greet its QEMU", id);
		close(sock);
		for (uint32_t v = 0; v < MINT_IVSHMEM_NVEC; v++)
			close(c->efd[v]);
		c->sock = -1;
		return;
	}
	logf_("guest %d connected", id);
}

/* Guest -> host: make every guest's queued futex wakes. */
static void serve_wakes(struct server *s)
{
	uint64_t n;
	if (read(s->doorbell, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	for (uint32_t id = 0; id < MAX_CLIENTS; id++)
		if (s->clients[id].sock >= 0)
			mint_guest_serve_wakes(s->f, id, &s->clients[id].wake_head);
}

/* A client that speaks (QEMU never does) or hangs up is dropped. */
static void client_event(struct client *c)
{
	char junk[64];
	ssize_t n = recv(c->sock, junk, sizeof(junk), MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	logf_("guest %u %s", c->id, n == 0 ? "disconnected" : "spoke: dropped");
	mint_guest_gone(c->s->f, c->id, c->pid);
	close_client(c);
}

static int any_client(const struct server *s)
{
	for (uint32_t id = 0; id < MAX_CLIENTS; id++)
		if (s->clients[id].sock >= 0)
			return 1;
	return 0;
}

/* Poll set: the listener, our doorbell, then each client (IDS maps back). */
static nfds_t poll_set(struct server *s, struct pollfd *p, uint32_t *ids)
{
	nfds_t n = 0;
	p[n++] = (struct pollfd){s->listen_fd, POLLIN, 0};
	p[n++] = (struct pollfd){s->doorbell, POLLIN, 0};
	for (uint32_t id = 0; id < MAX_CLIENTS; id++)
		if (s->clients[id].sock >= 0) {
			ids[n] = id;
			p[n++] = (struct pollfd){s->clients[id].sock, POLLIN, 0};
		}
	return n;
}

static void loop(struct server *s)
{
	struct pollfd p[MAX_CLIENTS + 2];
	uint32_t ids[MAX_CLIENTS + 2];
	while (!quit) {
		nfds_t n = poll_set(s, p, ids);
		int ready = poll(p, n, IDLE_CHECK_MS);
		if (ready < 0 && errno != EINTR)
			break;
		if (ready <= 0) {
			/* idle: with the fabric gone (mint down) and no guest, stop */
			if (!any_client(s) && access(mint_fabric_file(s->f), F_OK) != 0)
				break;
			continue;
		}
		if (p[1].revents)
			serve_wakes(s);
		for (nfds_t i = 2; i < n; i++)
			if (p[i].revents)
				client_event(&s->clients[ids[i]]);
		if (p[0].revents)
			accept_client(s);
	}
}

static int listen_on(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a stale socket of a dead server: the pid file said so */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int setup(struct server *s, const char *sock_path)
{
	int rc = mint_fabric_attach(s->fabric, &s->f);
	if (rc) {
		logf_("fabric %s: %s", s->fabric, mint_strerror(rc));
		return -1;
	}
	s->fabric_fd = open(mint_fabric_file(s->f), O_RDWR | O_CLOEXEC);
	s->doorbell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->listen_fd = listen_on(sock_path);
	if (s->fabric_fd < 0 || s->doorbell < 0 || s->listen_fd < 0) {
		logf_("cannot serve %s on %s: %s", s->fabric, sock_path,
		      strerror(s->listen_fd < 0 ? -s->listen_fd : errno));
		return -1;
	}
	for (uint32_t id = 0; id < MAX_CLIENTS; id++)
		s->clients[id].sock = -1;
	return 0;
}

int ivs_serve(const char *fabric, int ready_fd)
{
	static struct server s;
	char sock_path[256], pid_path[256];
	s.fabric = fabric;
	s.listen_fd = s.doorbell = s.fabric_fd = -1;
	char file[256];
	if (mint_fabric_path(fabric, file, sizeof(file)) != 0)
		return 1;
	ivs_socket_path(file, sock_path, sizeof(sock_path));
	ivs_pid_path(file, pid_path, sizeof(pid_path));
	if (setup(&s, sock_path) != 0)
		return 1;
	FILE *pf = fopen(pid_path, "w");
	if (pf) {
		fprintf(pf, "%d %llu\n", (int)getpid(),
			(unsigned long long)mint_pid_start((int32_t)getpid()));
		fclose(pf);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "ready\n", 6);
		close(ready_fd);
	}
	logf_("serving %s on %s", mint_fabric_file(s.f), sock_path);
	loop(&s);
	for (uint32_t id = 0; id < MAX_CLIENTS; id++)
		if (s.clients[id].sock >= 0)
			close_client(&s.clients[id]);
	unlink(sock_path);
	unlink(pid_path);
	logf_("stopped");
	return 0;
}
