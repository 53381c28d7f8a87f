/* SPDX-License-Identifier: MIT */
/* mint capture: a node's VNI traffic (mint0 in its namespace) to a pcap file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mint/clock.h"
#include "mint/vni.h"
#include "common/pcap_lazy.h"
#include "agent/vni_port.h"

#define CAPTURE_MAX_SNAPLEN 262144 /* libpcap's maximum */
#define CAPTURE_FLUSH_NS 200000000ull

static const char capture_usage[] =
	"usage: mint capture ID -w FILE [-c COUNT] [-G SECONDS] [--snaplen N] [-j]\n"
	"Write what node ID's virtual NIC (" VNI_TAP_NAME " in its namespace) sends and\n"
	"receives to FILE, a pcap file (nanosecond timestamps where available;\n"
	"FILE \"-\" is standard output), until COUNT packets, SECONDS elapsed,\n"
	"or SIGINT/SIGTERM/SIGHUP.  FILE exists, with its header, once the\n"
	"capture runs.  Defaults: no count, no time limit, snaplen 262144.\n"
	"Needs root.  -j: a JSON summary.\n";

struct capture_opts {
	uint32_t id;
	const char *file;
	uint32_t count;    /* 0: unlimited */
	double seconds;    /* 0: unlimited */
	uint32_t snaplen;
};

struct capture_result {
	uint64_t packets;
	uint64_t dropped;  /* by the kernel (buffer full) */
	double seconds;
	const char *stopped_by; /* "count", "time", "signal" or "error" */
	int precision;          /* PCAP_TSTAMP_PRECISION_* in FILE */
	int linktype;
};

/* libpcap's functions, loaded when a capture starts (see pcap_lazy.h). */
static const struct pcap_lazy *libpcap;

struct dump_ctx {
	pcap_dumper_t *dumper;
	uint64_t packets;
};

/* The signals that end a capture are blocked but while it waits in
 * ppoll, so they never interrupt pcap_dispatch: no pcap_breakloop needed,
 * and what the kernel had queued is still read before the end. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct dump_ctx *d = (struct dump_ctx *)arg;
	libpcap->dump((u_char *)d->dumper, h, bytes);
	d->packets++;
}

/* Parse capture's arguments into O; -1 to go on, or an exit status. */
static int parse_capture(struct cli *c, int argc, char **argv, struct capture_opts *o)
{
	static const struct option opts[] = {{"write", required_argument, NULL, 'w'},
					     {"count", required_argument, NULL, 'c'},
					     {"seconds", required_argument, NULL, 'G'},
					     {"snaplen", required_argument, NULL, 's'},
					     CLI_COMMON_LONGOPTS, {0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "w:c:G:s:", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'w':
			if (!*optarg) {
				cli_err("capture: -w needs a file name");
				return EXIT_USAGE;
			}
			o->file = optarg;
			break;
		case 'c':
			if (cli_parse_u32(optarg, INT_MAX, &o->count) || !o->count) {
				cli_err("count %s: not a number from 1 to %d", optarg, INT_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'G':
			o->seconds = strtod(optarg, &end);
			if (end == optarg || *end || !(o->seconds >= 0.001 && o->seconds <= 31536000)) {
				cli_err("%s: not a time in seconds (0.001 to 31536000)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			if (cli_parse_u32(optarg, CAPTURE_MAX_SNAPLEN, &o->snaplen) || !o->snaplen) {
				cli_err("snaplen %s: not a length from 1 to %d", optarg,
					CAPTURE_MAX_SNAPLEN);
				return EXIT_USAGE;
			}
			break;
		default:
			if ((st = cli_common_opt(c, opt, capture_usage)) >= 0)
				return st;
		}
	}
	if (optind + 1 != argc || !o->file) {
		if (optind + 1 == argc)
			cli_err("capture: -w FILE is required");
		fputs(capture_usage, stderr);
		return EXIT_USAGE;
	}
	if (cli_parse_node(argv[optind], &o->id))
		return EXIT_USAGE;
	return -1;
}

/* Node ID must be up with a VNI port and a namespace; its namespace's name
 * into NETNS.  Prints the error. */
static int check_node(struct mint_fabric *f, uint32_t id, char *netns, size_t cap)
{
	struct mint_node_info info;
	if (mint_node_info(f, id, &info) || !info.alive) {
		cli_err("node %u: not running", id);
		return -ESRCH;
	}
	struct mint_vni_stats st;
	int rc = mint_vni_stats(f, id, &st);
	if (rc || !st.up) {
		cli_err("node %u: no VNI (start it with --vni)", id);
		return -ENODEV;
	}
	if (!netns_node_ours(f, id, info.netns)) {
		cli_err("node %u: no network namespace of its own (so no " VNI_TAP_NAME ")", id);
		return -ENODEV;
	}
	netns_node_name(f, id, netns, cap);
	return 0;
}

/*
 * Open and activate a capture of mint0 in namespace NETNS; the calling
 * thread is back in its own namespace afterwards.  On failure, a negative
 * errno (or -EIO) with the reason in WHY.
 */
static int open_capture(const char *netns, uint32_t snaplen, pcap_t **out, char *why, size_t cap)
{
	char path[128], errbuf[PCAP_ERRBUF_SIZE] = "";
	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		int e = errno;
		snprintf(why, cap, "cannot open our own namespace: %s", strerror(e));
		return -e;
	}
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		int e = errno;
		snprintf(why, cap, "namespace %s: %s", netns, strerror(e));
		close(self);
		return -e;
	}
	int rc = 0;
	if (setns(ns, CLONE_NEWNET) != 0) {
		rc = -errno;
		snprintf(why, cap, "cannot enter namespace %s: %s", netns, strerror(-rc));
	}
	close(ns);
	pcap_t *p = NULL;
	if (rc == 0 && !(p = libpcap->create(VNI_TAP_NAME, errbuf))) {
		snprintf(why, cap, "%s", errbuf);
		rc = -EIO;
	}
	if (p) {
		libpcap->set_snaplen(p, (int)snaplen);
		libpcap->set_immediate_mode(p, 1); /* each packet as it comes: -c ends on time */
		/* Unsupported precision: the file gets microseconds. */
		libpcap->set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
		int st = libpcap->activate(p);
		if (st < 0) {
			if (st == PCAP_ERROR_NO_SUCH_DEVICE)
				snprintf(why, cap, "no " VNI_TAP_NAME " in namespace %s", netns);
			else if (st == PCAP_ERROR_PERM_DENIED)
				snprintf(why, cap, "%s (needs root)", libpcap->geterr(p));
			else
				snprintf(why, cap, "cannot capture on " VNI_TAP_NAME ": %s",
					 st == PCAP_ERROR ? libpcap->geterr(p) : libpcap->statustostr(st));
			rc = st == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV
			     : st == PCAP_ERROR_PERM_DENIED ? -EPERM : -EIO;
			libpcap->close(p);
			p = NULL;
		} else if (libpcap->setnonblock(p, 1, errbuf) != 0) {
			snprintf(why, cap, "%s", errbuf);
			rc = -EIO;
			libpcap->close(p);
			p = NULL;
		}
	}
	/* The capture socket stays bound to mint0; this thread goes home. */
	if (setns(self, CLONE_NEWNET) != 0 && rc == 0) {
		rc = -errno;
		snprintf(why, cap, "cannot return to our namespace: %s", strerror(-rc));
		libpcap->close(p);
		p = NULL;
	}
	close(self);
	*out = p;
	return rc;
}

/* FILE ("-": standard output) as the pcap file of P.  Prints the error. */
static pcap_dumper_t *open_dump(pcap_t *p, const char *file)
{
	FILE *fp = strcmp(file, "-") == 0 ? stdout : fopen(file, "wbe");
	if (!fp) {
		cli_err("file %s: cannot open: %s", file, strerror(errno));
		return NULL;
	}
	pcap_dumper_t *d = libpcap->dump_fopen(p, fp);
	if (!d) {
		cli_err("file %s: %s", file, libpcap->geterr(p));
		if (fp != stdout)
			fclose(fp);
		return NULL;
	}
	/* The header on disk now: a file with a header means "capturing". */
	if (libpcap->dump_flush(d) != 0) {
		cli_err("file %s: cannot write: %s", file, strerror(errno));
		libpcap->dump_close(d);
		return NULL;
	}
	return d;
}

/* Dispatch packets of P into D until O's count or time, or a signal of
 * SIGS (blocked here but while waiting, so none is missed).  Returns 0,
 * or -EIO with the reason in WHY. */
static int capture_loop(pcap_t *p, struct dump_ctx *d, const struct capture_opts *o,
			const sigset_t *sigs, struct capture_result *r, char *why, size_t cap)
{
	uint64_t start = mint_now_ns(CLOCK_MONOTONIC), last_flush = start;
	uint64_t deadline = o->seconds > 0 ? start + (uint64_t)(o->seconds * 1e9) : UINT64_MAX;
	sigset_t waiting;
	sigprocmask(SIG_BLOCK, sigs, &waiting);
	struct pollfd pfd = {libpcap->get_selectable_fd(p), POLLIN, 0};
	int rc = 0;
	bool dirty = false; /* packets written since the last flush */
	r->stopped_by = "signal";
	for (;;) {
		if (interrupted)
			break;
		if (o->count && d->packets >= o->count) {
			r->stopped_by = "count";
			break;
		}
		uint64_t now = mint_now_ns(CLOCK_MONOTONIC);
		if (now >= deadline) {
			r->stopped_by = "time";
			break;
		}
		/* libpcap's own wait ignores its timeout: wait here (until the
		 * deadline, or the next flush of what was written), read without
		 * blocking. */
		uint64_t wake = deadline;
		if (dirty && last_flush + CAPTURE_FLUSH_NS < wake)
			wake = last_flush + CAPTURE_FLUSH_NS;
		uint64_t left = wake > now ? wake - now : 0;
		struct timespec ts = {(time_t)(left / 1000000000ull), (long)(left % 1000000000ull)};
		int n = ppoll(&pfd, 1, wake == UINT64_MAX ? NULL : &ts, &waiting);
		if (n < 0 && errno != EINTR) {
			snprintf(why, cap, "poll: %s", strerror(errno));
			r->stopped_by = "error";
			rc = -EIO;
			break;
		}
		if (n > 0) {
			int want = o->count ? (int)(o->count - d->packets) : -1;
			n = libpcap->dispatch(p, want, on_packet, (u_char *)d);
			if (n < 0 && n != PCAP_ERROR_BREAK) {
				snprintf(why, cap, "%s", libpcap->geterr(p));
				r->stopped_by = "error";
				rc = -EIO;
				break;
			}
			dirty |= n > 0;
		}
		now = mint_now_ns(CLOCK_MONOTONIC);
		if (dirty && now - last_flush >= CAPTURE_FLUSH_NS) {
			libpcap->dump_flush(d->dumper);
			last_flush = now;
			dirty = false;
		}
	}
	/* What was queued before the end (a signal, the deadline), up to the
	 * count; bounded under a flood. */
	for (int i = 0; rc == 0 && i < 64 && !(o->count && d->packets >= o->count); i++)
		if (libpcap->dispatch(p, o->count ? (int)(o->count - d->packets) : -1, on_packet,
				  (u_char *)d) <= 0)
			break;
	sigprocmask(SIG_SETMASK, &waiting, NULL);
	r->seconds = (double)(mint_now_ns(CLOCK_MONOTONIC) - start) / 1e9;
	r->packets = d->packets;
	struct pcap_stat ps;
	if (libpcap->stats(p, &ps) == 0)
		r->dropped = ps.ps_drop;
	return rc;
}

static void print_result(FILE *out, const struct cli *c, const struct capture_opts *o,
			 const char *netns, const struct capture_result *r, const char *error)
{
	const char *file = strcmp(o->file, "-") == 0 ? "standard output" : o->file;
	if (!c->json) {
		fprintf(out, "node %u: %llu packet%s captured to %s", o->id,
			(unsigned long long)r->packets, r->packets == 1 ? "" : "s", file);
		if (r->dropped)
			fprintf(out, " (%llu dropped by the kernel)", (unsigned long long)r->dropped);
		fputc('\n', out);
		return;
	}
	const char *link = libpcap->datalink_val_to_name(r->linktype);
	fprintf(out, "{\"node\":%u,\"netns\":", o->id);
	json_str(out, netns);
	fprintf(out, ",\"interface\":\"" VNI_TAP_NAME "\",\"file\":");
	json_str(out, o->file);
	fprintf(out, ",\"packets\":%llu,\"dropped\":%llu,\"seconds\":%.3f,\"snaplen\":%u,"
		     "\"tstamp_precision\":\"%s\",\"linktype\":",
		(unsigned long long)r->packets, (unsigned long long)r->dropped, r->seconds,
		o->snaplen, r->precision == PCAP_TSTAMP_PRECISION_NANO ? "ns" : "us");
	json_str(out, link ? link : "unknown");
	fprintf(out, ",\"stopped_by\":\"%s\"", r->stopped_by);
	if (error) {
		fprintf(out, ",\"error\":");
		json_str(out, error);
	}
	fprintf(out, "}\n");
}

/* Capture with P into O->file; prints the summary or the error. */
static int run_capture(const struct cli *c, const struct capture_opts *o, const char *netns,
		       pcap_t *p)
{
	pcap_dumper_t *dumper = open_dump(p, o->file);
	if (!dumper)
		return 1;
	struct dump_ctx d = {dumper, 0};
	struct capture_result r = {0};
	r.precision = libpcap->get_tstamp_precision(p);
	r.linktype = libpcap->datalink(p);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: the wait returns at once */
	sigemptyset(&sa.sa_mask);
	struct sigaction old[3];
	const int signums[3] = {SIGINT, SIGTERM, SIGHUP};
	sigset_t sigs;
	sigemptyset(&sigs);
	for (int i = 0; i < 3; i++) {
		sigaction(signums[i], &sa, &old[i]);
		sigaddset(&sigs, signums[i]);
	}
	char why[PCAP_ERRBUF_SIZE + 64] = "";
	int rc = capture_loop(p, &d, o, &sigs, &r, why, sizeof(why));
	for (int i = 0; i < 3; i++)
		sigaction(signums[i], &old[i], NULL);

	FILE *fp = libpcap->dump_file(dumper);
	bool to_stdout = fp == stdout;
	errno = 0;
	int werr = libpcap->dump_flush(dumper) != 0 || ferror(fp) ? (errno ? errno : EIO) : 0;
	libpcap->dump_close(dumper); /* nothing left to write after the flush */
	char werr_msg[300] = "";
	if (werr)
		snprintf(werr_msg, sizeof(werr_msg), "file %s: write error: %s", o->file,
			 strerror(werr));
	if (rc && !*why)
		snprintf(why, sizeof(why), "capture failed");
	/* The summary even after an error: what FILE holds is valid. */
	print_result(to_stdout ? stderr : stdout, c, o, netns, &r,
		     werr ? werr_msg : rc ? why : NULL);
	if (werr)
		cli_err("%s", werr_msg);
	else if (rc)
		cli_err("node %u: capture stopped: %s", o->id, why);
	return werr || rc ? 1 : 0;
}

int cmd_capture(struct cli *c, int argc, char **argv)
{
	struct capture_opts o = {.snaplen = CAPTURE_MAX_SNAPLEN};
	int st = parse_capture(c, argc, argv, &o);
	if (st >= 0)
		return st;
	char why[PCAP_ERRBUF_SIZE + 128] = "";
	if (!(libpcap = pcap_lazy_load(why, sizeof(why)))) {
		cli_err("capture: %s", why);
		return 1;
	}
	if (geteuid() != 0) {
		cli_err("capture needs root (it enters node %u's network namespace)", o.id);
		return 1;
	}
	struct mint_fabric *f;
	if (cli_attach(c, &f))
		return 1;
	char netns[MINT_NAME_MAX];
	int rc = check_node(f, o.id, netns, sizeof(netns));
	mint_fabric_detach(f);
	if (rc)
		return 1;
	pcap_t *p;
	rc = open_capture(netns, o.snaplen, &p, why, sizeof(why));
	if (rc) {
		cli_err("node %u: %s", o.id, why);
		return 1;
	}
	st = run_capture(c, &o, netns, p);
	libpcap->close(p);
	return st;
}
