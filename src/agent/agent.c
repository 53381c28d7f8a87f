/* SPDX-License-Identifier: MIT */
#include "agent/agent.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/dev_watch.h"
#include "agent/exec_server.h"
#include "agent/fabric_guard.h"
#include "common/netns.h"
#include "agent/nic_port.h"
#include "agent/services.h"
#include "agent/vni_port.h"

struct agent {
	const struct agent_config *cfg;
	struct mint_fabric *f;
	struct mint_dispatcher *disp;
	struct services *services;
	struct exec_server *exec; /* NULL with --no-exec */
	struct vni_port vni;
	bool vni_up;
	struct nic_port nic;
	bool nic_up;
	bool peer_alive[MINT_MAX_NODES];
	struct dev_watch devs;
	uint64_t forgeries;  /* times our node entry was overwritten and restored */
	uint64_t doorbell_repairs; /* times its kvec_mask/kpending were cleared */
	bool header_healed;  /* the last look rewrote the fabric header */
	int vni_healed;      /* VNI_HEALED_* of the last look: log each episode once */
};

static void vlog(uint32_t id, const char *fmt, va_list ap)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", gmtime_r(&now, &tm));
	fprintf(stderr, "%s node %u: ", stamp, id);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void agent_logf(uint32_t id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(id, fmt, ap);
	va_end(ap);
}

/* A timestamped line in the agent's log (its stderr). */
__attribute__((format(printf, 2, 3)))
static void agent_log(const struct agent_config *cfg, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(cfg->id, fmt, ap);
	va_end(ap);
}

/* agent_log for the device watcher. */
static void log_line(void *cfg, const char *line) { agent_log(cfg, "%s", line); }

__attribute__((format(printf, 3, 4)))
static void tell(uint32_t id, int fd, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (fd < 0) { /* --foreground: nobody waits on a pipe */
		if (strcmp(line, "ok") != 0)
			fprintf(stderr, "mint: node %u: %s\n", id, line);
		return;
	}
	n = n > (int)sizeof(line) - 2 ? (int)sizeof(line) - 2 : n;
	line[n++] = '\n';
	if (write(fd, line, (size_t)n) < 0)
		return;
}

static int pin_to_cores(const uint64_t cores[MINT_CPU_WORDS])
{
	cpu_set_t set;
	CPU_ZERO(&set);
	for (unsigned c = 0; c < MINT_CPU_WORDS * 64 && c < CPU_SETSIZE; c++)
		if (cores[c / 64] >> (c % 64) & 1)
			CPU_SET(c, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : -errno;
}

static void *dispatch_thread(void *arg)
{
	mint_dispatcher_run(arg);
	return NULL;
}

/* Log peers that died or came back since the last look. */
static void watch_peers(struct agent *a)
{
	for (uint32_t id = 0; id < MINT_MAX_NODES; id++) {
		if (id == a->cfg->id)
			continue;
		struct mint_node_info info;
		mint_node_info(a->f, id, &info);
		if (info.alive != a->peer_alive[id] && (info.alive || info.state == MINT_NODE_UP))
			agent_log(a->cfg, "peer node %u %s (pid %d, epoch %u)", id,
				  info.alive ? "is up" : "died", info.pid, info.epoch);
		a->peer_alive[id] = info.alive;
	}
}

/* A repair of our node entry (*COUNT of them so far): logged the 1st, 2nd,
 * 4th, 8th... time, so a flood of forgeries floods no log. */
static void count_repair(struct agent *a, uint64_t *count, const char *what)
{
	uint64_t n = ++*count;
	if ((n & (n - 1)) == 0)
		agent_log(a->cfg, "%s (%llu times)", what, (unsigned long long)n);
}

/* What the heartbeat repaired (MINT_HEALED_* bits), counted and logged. */
static void count_repairs(struct agent *a, int healed)
{
	if (healed & MINT_HEALED_IDENTITY)
		count_repair(a, &a->forgeries, "node entry overwritten by someone else "
			     "(no newer agent): restored");
	if (healed & MINT_HEALED_DOORBELL)
		count_repair(a, &a->doorbell_repairs, "node entry's guest vector mask "
			     "overwritten (doorbells went astray): cleared");
}

/* The header's constants, as we attached to them: logged once per episode. */
static void heal_header(struct agent *a)
{
	bool healed = mint_fabric_heal(a->f) == 1;
	if (healed && !a->header_healed)
		agent_log(a->cfg, "the fabric header was overwritten: restored");
	a->header_healed = healed;
}

/* The VNI's periodic look; a repair is logged once per episode. */
static void watch_vni(struct agent *a)
{
	int healed = vni_port_watch(&a->vni);
	if (healed & ~a->vni_healed & VNI_HEALED_DEV)
		agent_log(a->cfg, "VNI port's device entry was not as registered (orphaned or "
			  "overwritten): registered again");
	if (healed & ~a->vni_healed & VNI_HEALED_KICK)
		agent_log(a->cfg, "VNI receive stalled (a doorbell lost): raised MINT_VEC_VNI");
	if (healed & ~a->vni_healed & VNI_HEALED_DIR)
		agent_log(a->cfg, "the VNI's directory entry or header was overwritten: written again");
	a->vni_healed = healed;
}

/* Heartbeat until a terminating signal arrives (returns it), a newer
 * agent took the node over (returns -ESTALE), or the fabric file was cut
 * short (returns -EPIPE: touching the fabric now may fault). */
static int heartbeat_loop(struct agent *a, const sigset_t *stop_signals)
{
	const struct timespec period = {0, MINT_HEARTBEAT_PERIOD_MS * 1000000L};
	for (;;) {
		uint64_t size;
		if (fabric_guard_cut(&size)) {
			agent_log(a->cfg, "the fabric file was truncated to %llu bytes by another "
				  "process: stopping", (unsigned long long)size);
			return -EPIPE;
		}
		int beat = mint_node_heartbeat(a->f);
		if (beat == -ESTALE)
			return -ESTALE;
		if (beat > 0)
			count_repairs(a, beat);
		heal_header(a);
		watch_peers(a);
		if (a->vni_up)
			watch_vni(a);
		dev_watch_poll(&a->devs);
		int sig = sigtimedwait(stop_signals, NULL, &period);
		if (sig > 0)
			return sig;
	}
}

/* The virtual NIC and the emulated NIC's driver, as configured, before
 * the dispatcher runs their handlers. */
static int start_devices(struct agent *a, int ready_fd)
{
	const struct agent_config *cfg = a->cfg;
	const char *what = "", *dev = "VNI";
	int rc = 0;
	if (cfg->vni && (rc = vni_port_start(&a->vni, a->f, a->disp, cfg->mode, cfg->vni_addr,
					     cfg->vni_prefix, &what)) == 0) {
		a->vni_up = true;
		agent_log(cfg, "VNI: %s", a->vni.io_path);
	}
	if (rc == 0 && cfg->nic) {
		dev = "NIC";
		rc = nic_port_start(&a->nic, a->f, a->disp, cfg->nic_addr, cfg->nic_prefix,
				   cfg->nic_itr_ns, &what);
		a->nic_up = rc == 0;
	}
	if (rc)
		tell(cfg->id, ready_fd, "cannot %s for its %s: %s%s", what, dev, mint_strerror(rc),
		     rc == -EPERM || rc == -EACCES ? " (needs CAP_NET_ADMIN: run as root)" : "");
	return rc;
}

/* A named node in its own namespaces is a host of that name: what it runs
 * (mint exec's commands) sees it, the host's own name stays. */
static int set_hostname(const char *name)
{
	if (unshare(CLONE_NEWUTS) != 0 || sethostname(name, strlen(name)) != 0)
		return -errno;
	return 0;
}

/* Everything from the namespace to a running dispatcher; "ok" or an error
 * line on READY_FD. */
static int bring_up(struct agent *a, int ready_fd)
{
	const struct agent_config *cfg = a->cfg;
	int rc = pin_to_cores(cfg->cores);
	if (rc) {
		tell(cfg->id, ready_fd, "cannot pin to its cores: %s", strerror(-rc));
		return rc;
	}
	const char *what;
	char path[256];
	if ((rc = mint_fabric_path(cfg->fabric, path, sizeof(path))) != 0 ||
	    (rc = mint_fabric_attach(path, &a->f)) != 0) {
		tell(cfg->id, ready_fd, "fabric %s: %s", cfg->fabric, mint_strerror(rc));
		return rc;
	}
	if (cfg->netns && (rc = netns_enter(cfg->netns_name, path, &what)) != 0) {
		bool loopback = strstr(what, "loopback") != NULL;
		tell(cfg->id, ready_fd, "cannot %s %s: %s%s", what, cfg->netns_name, strerror(-rc),
		     rc != -EPERM	? ""
		     : loopback ? " (needs CAP_NET_ADMIN: run as root)"
				: " (run as root, or use --no-netns)");
		return rc;
	}
	if (cfg->netns && cfg->name[0] && (rc = set_hostname(cfg->name)) != 0) {
		tell(cfg->id, ready_fd, "cannot take the hostname %s: %s", cfg->name, strerror(-rc));
		return rc;
	}
	if ((rc = fabric_guard_start(a->f, cfg->id)) != 0) {
		tell(cfg->id, ready_fd, "cannot watch its fabric file: %s", strerror(-rc));
		return rc;
	}
	struct mint_node_opts opts = {cfg->name[0] ? cfg->name : NULL,
				      cfg->netns ? cfg->netns_name : NULL, {0}, cfg->mode};
	memcpy(opts.cores, cfg->cores, sizeof(opts.cores));
	if ((rc = mint_node_join(a->f, cfg->id, &opts)) != 0) {
		tell(cfg->id, ready_fd, rc == -EBUSY ? "already running" : "cannot join: %s",
		     mint_strerror(rc));
		return rc;
	}
	if ((rc = mint_dispatcher_create(a->f, cfg->mode, &a->disp)) != 0 ||
	    (!cfg->exec.disabled && (rc = exec_server_create(a->f, &cfg->exec, &a->exec)) != 0) ||
	    (rc = services_create(a->f, a->exec, &a->services)) != 0) {
		tell(cfg->id, ready_fd, "cannot start its dispatcher: %s", mint_strerror(rc));
		return rc;
	}
	mint_dispatcher_set_handler(a->disp, MINT_VEC_CHANNEL, services_on_channel_irq, a->services);
	dev_watch_start(&a->devs, a->f, a->disp, log_line, (void *)cfg);
	return start_devices(a, ready_fd);
}

/* Undo bring_up; OWNER: the node is still ours, so its port goes down. */
static void tear_down(struct agent *a, bool owner)
{
	if (a->vni_up)
		vni_port_stop(&a->vni, owner); /* the dispatcher is stopped: no handler runs */
	dev_watch_stop(&a->devs);
	exec_server_destroy(a->exec); /* its sessions hang up while the node is still up */
	if (a->nic_up)
		nic_port_stop(&a->nic); /* marks it down only if still ours */
	if (a->f && mint_fabric_self(a->f) != MINT_NODE_NONE)
		mint_node_leave(a->f);
	services_destroy(a->services);
	if (a->disp)
		mint_dispatcher_destroy(a->disp);
	mint_fabric_detach(a->f);
}

int agent_run(const struct agent_config *cfg, int ready_fd)
{
	struct agent a = {.cfg = cfg};
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	/* Blocked before any thread starts, so only sigtimedwait takes them. */
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_t thread;
	int rc = bring_up(&a, ready_fd);
	if (rc == 0 && (rc = -pthread_create(&thread, NULL, dispatch_thread, a.disp)) != 0)
		tell(cfg->id, ready_fd, "cannot start its dispatcher thread: %s", strerror(-rc));
	if (rc) {
		tear_down(&a, true);
		return 1;
	}
	/* Drain whatever was queued for this node before it (re)started, and
	 * arm those rings: a predecessor killed mid-drain left them unarmed,
	 * so their producers would not ring for us. */
	mint_ipi_send(a.f, cfg->id, MINT_VEC_CHANNEL);
	if (a.vni_up)
		mint_ipi_send(a.f, cfg->id, MINT_VEC_VNI);
	if (a.nic_up)
		mint_ipi_send(a.f, cfg->id, MINT_VEC_NIC);
	mint_ipi_send(a.f, cfg->id, MINT_VEC_DEV); /* and consume our devices' counts */
	struct mint_node_info me;
	mint_node_info(a.f, cfg->id, &me);
	agent_log(cfg, "up: pid %d, epoch %u, mode %d", (int)getpid(), me.epoch, (int)cfg->mode);
	tell(cfg->id, ready_fd, "ok");
	if (ready_fd >= 0)
		close(ready_fd);
	int sig = heartbeat_loop(&a, &stop_signals);
	if (sig == -EPIPE) { /* the fabric is gone: leave without touching it */
		if (cfg->netns)
			netns_remove(cfg->netns_name);
		return 1;
	}
	/* Replaced (we were stalled and looked dead): the node, its port and
	 * its namespace are the newer agent's now; touch none of them. */
	bool replaced = sig == -ESTALE;
	if (replaced)
		agent_log(cfg, "a newer agent took node %u over: exiting", cfg->id);
	else
		agent_log(cfg, "stopping on signal %d", sig);
	mint_dispatcher_stop(a.disp);
	pthread_join(thread, NULL);
	tear_down(&a, !replaced);
	if (cfg->netns && !replaced)
		netns_remove(cfg->netns_name);
	return replaced ? 1 : 0;
}
