/* SPDX-License-Identifier: MIT */
/*
 * helper_crashnode: a node that tests/t_crash.sh kills with SIGKILL at
 * awkward moments, and the receiver that checks what survived.
 *
 *   helper_crashnode FABRIC ID holdlock
 *       Join as node ID, heartbeat from a thread, take the fabric's
 *       directory lock, print "locked PID EPOCH", then sleep forever.
 *   helper_crashnode FABRIC ID send CHANNEL
 *       Join as node ID and send data records (type 1) with sequence
 *       numbers 0, 1, 2, ... on CHANNEL (A = ID, B = none) as fast as the
 *       ring allows, forever.  Every few milliseconds it prints
 *       "committed SEQ": SEQ and everything before it are published.
 *   helper_crashnode FABRIC ID mark CHANNEL FIRST COUNT
 *       Join as node ID, send marker records (type 2) FIRST ..
 *       FIRST+COUNT-1 on CHANNEL, print "sent FIRST..LAST", leave, exit 0.
 *   helper_crashnode FABRIC - recv CHANNEL SENDER MARK_FIRST MARK_COUNT
 *       Not a node: receive on CHANNEL (side B) and check that data
 *       records come as 0, 1, 2, ... with no gap, duplicate or damage, then
 *       markers MARK_FIRST, ... likewise.  Once node SENDER is dead and
 *       the ring is empty it prints "drained N" (N data records, so
 *       0..N-1).  After the last marker it prints "ok data=N marks=M
 *       ring_errors=E" and exits 0; on any violation "error: ..." and 1.
 *   helper_crashnode FABRIC - lockinfo
 *       Print the directory lock: "owner=HEX recoveries=N flags=N".
 *
 * Each record is a little-endian sequence number, its complement, and a
 * filler whose length and bytes follow from the sequence number, so
 * records of many sizes wrap the ring and every byte is checked.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h" /* t_now_ns */

#define RING_SIZE (64u * 1024u)
#define REC_DATA 1u
#define REC_MARK 2u
#define REC_MAX 512u
#define REPORT_NS 2000000ull     /* "committed" lines at most this often */
#define RECV_IDLE_MS 60000       /* receiver gives up after this silence */

/* One line on stdout with a single write (the file is read while we run,
 * and we may die at any moment). */
static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (write(1, line, (size_t)n) < 0)
		return;
}

static _Noreturn void die(const char *what, int rc)
{
	say("error: %s: %s\n", what, rc < 0 ? mint_strerror(rc) : "failed");
	exit(1);
}

static _Noreturn void usage(void)
{
	fprintf(stderr,
		"usage: helper_crashnode FABRIC ID holdlock\n"
		"       helper_crashnode FABRIC ID send CHANNEL\n"
		"       helper_crashnode FABRIC ID mark CHANNEL FIRST COUNT\n"
		"       helper_crashnode FABRIC - recv CHANNEL SENDER MARK_FIRST MARK_COUNT\n"
		"       helper_crashnode FABRIC - lockinfo\n");
	exit(2);
}

static uint64_t num(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || !*s || *end)
		usage();
	return v;
}

/* ---- records ---- */

static uint32_t rec_len(uint64_t seq)
{
	return 16u + (uint32_t)((seq * 7919u) % (REC_MAX - 16u + 1u));
}

static uint32_t rec_build(uint8_t *buf, uint64_t seq)
{
	uint32_t len = rec_len(seq);
	uint64_t a = htole64(seq), b = htole64(~seq);
	memcpy(buf, &a, 8);
	memcpy(buf + 8, &b, 8);
	for (uint32_t i = 16; i < len; i++)
		buf[i] = (uint8_t)(seq * 31u + i);
	return len;
}

/* The sequence number of a well-formed record, or -1 (with WHY). */
static int rec_check(const uint8_t *buf, uint32_t len, uint64_t *seq, const char **why)
{
	uint64_t a, b;
	if (len < 16) {
		*why = "record too short";
		return -1;
	}
	memcpy(&a, buf, 8);
	memcpy(&b, buf + 8, 8);
	a = le64toh(a);
	b = le64toh(b);
	if (b != ~a) {
		*why = "damaged sequence number";
		return -1;
	}
	if (len != rec_len(a)) {
		*why = "wrong length";
		return -1;
	}
	for (uint32_t i = 16; i < len; i++)
		if (buf[i] != (uint8_t)(a * 31u + i)) {
			*why = "damaged payload";
			return -1;
		}
	*seq = a;
	return 0;
}

/* ---- node side ---- */

static struct mint_fabric *fab;
static atomic_bool heartbeat_stop;
static pthread_t heartbeat;

static void *heartbeat_thread(void *arg)
{
	(void)arg;
	const struct timespec period = {0, MINT_HEARTBEAT_PERIOD_MS * 1000000L};
	while (!atomic_load(&heartbeat_stop)) {
		mint_node_heartbeat(fab);
		nanosleep(&period, NULL);
	}
	return NULL;
}

static void join_as(uint32_t id)
{
	char name[MINT_NAME_MAX];
	snprintf(name, sizeof(name), "crash%u", id);
	struct mint_node_opts opts = {name, NULL, {0}, MINT_MODE_SLEEP};
	int rc = mint_node_join(fab, id, &opts);
	if (rc)
		die("join", rc);
	if (pthread_create(&heartbeat, NULL, heartbeat_thread, NULL) != 0)
		die("heartbeat thread", -EAGAIN);
}

/* Leave cleanly: no other call may use the handle while it leaves. */
static void leave(void)
{
	atomic_store(&heartbeat_stop, true);
	pthread_join(heartbeat, NULL);
	mint_node_leave(fab);
}

static void open_channel(const char *name, uint32_t sender, enum mint_channel_side side,
			 struct mint_channel *ch)
{
	int rc = mint_channel_open(fab, name, sender, MINT_NODE_NONE, RING_SIZE, side, ch);
	if (rc < 0)
		die("channel open", rc);
}

static int hold_lock(uint32_t id)
{
	join_as(id);
	/* From the main thread: the lock's owner tag carries this tid (= pid). */
	int rc = mint_lock_acquire(fab, &mint_fabric_hdr(fab)->dir_lock);
	if (rc < 0)
		die("lock", rc);
	struct mint_node_info me;
	mint_node_info(fab, id, &me);
	say("locked %d %u\n", (int)getpid(), me.epoch);
	for (;;)
		pause();
}

/* Send COUNT (0: forever) records of TYPE from FIRST; returns the last. */
static uint64_t send_range(struct mint_channel *ch, uint32_t type, uint64_t first, uint64_t count,
			   int report)
{
	uint8_t buf[REC_MAX];
	uint64_t last_report = 0;
	uint64_t seq = first;
	for (; count == 0 || seq - first < count; seq++) {
		uint32_t len = rec_build(buf, seq);
		int rc = mint_ring_send(&ch->tx, buf, len, type);
		while (rc == -EAGAIN || rc == -ETIMEDOUT)
			rc = mint_ring_send_wait(&ch->tx, buf, len, type, 100);
		if (rc)
			die("send", rc);
		/* SEQ is published (its tail store is done): report it now and
		 * then, so the report is a lower bound of what was committed. */
		if (report && (seq & 63) == 0) {
			uint64_t t = t_now_ns();
			if (t - last_report >= REPORT_NS) {
				say("committed %" PRIu64 "\n", seq);
				last_report = t;
			}
		}
	}
	return seq - 1;
}

static int send_forever(uint32_t id, const char *chan)
{
	join_as(id);
	struct mint_channel ch;
	open_channel(chan, id, MINT_SIDE_A, &ch);
	say("sending\n");
	send_range(&ch, REC_DATA, 0, 0, 1);
	return 1;
}

static int send_marks(uint32_t id, const char *chan, uint64_t first, uint64_t count)
{
	join_as(id);
	struct mint_channel ch;
	open_channel(chan, id, MINT_SIDE_A, &ch);
	uint64_t last = send_range(&ch, REC_MARK, first, count, 0);
	say("sent %" PRIu64 "..%" PRIu64 "\n", first, last);
	leave();
	return 0;
}

/* ---- receiver ---- */

static int receive(const char *chan, uint32_t sender, uint64_t mark_first, uint64_t mark_count)
{
	struct mint_channel ch;
	open_channel(chan, sender, MINT_SIDE_B, &ch);
	uint8_t buf[REC_MAX + 64];
	uint64_t data = 0, marks = 0, idle_since = t_now_ns();
	int drained = 0;
	say("receiving\n");
	while (marks < mark_count) {
		uint32_t type;
		int n = mint_ring_recv_wait(&ch.rx, buf, sizeof(buf), &type, 100);
		if (n == -ETIMEDOUT || n == -EAGAIN || n == -EINTR) {
			/* Dead first, then empty: a dead sender adds nothing more. */
			if (!drained && data > 0 && !mint_node_alive(fab, sender) &&
			    mint_ring_pending_bytes(&ch.rx) == 0) {
				say("drained %" PRIu64 "\n", data);
				drained = 1;
			}
			if (t_now_ns() - idle_since > RECV_IDLE_MS * 1000000ull) {
				say("error: nothing received for %d ms (data=%" PRIu64
				    " marks=%" PRIu64 ")\n", RECV_IDLE_MS, data, marks);
				return 1;
			}
			continue;
		}
		if (n < 0)
			die("recv", n);
		idle_since = t_now_ns();
		uint64_t seq;
		const char *why;
		if (rec_check(buf, (uint32_t)n, &seq, &why) != 0) {
			say("error: %s after data=%" PRIu64 " marks=%" PRIu64 "\n", why, data, marks);
			return 1;
		}
		if (type == REC_DATA) {
			if (marks) {
				say("error: data record %" PRIu64 " after %" PRIu64 " markers\n", seq,
				    marks);
				return 1;
			}
			if (seq != data) {
				say("error: data record %" PRIu64 " where %" PRIu64 " was due (%s)\n",
				    seq, data, seq < data ? "duplicate" : "gap");
				return 1;
			}
			data++;
		} else if (type == REC_MARK) {
			if (!drained) {
				say("drained %" PRIu64 "\n", data);
				drained = 1;
			}
			if (seq != mark_first + marks) {
				say("error: marker %" PRIu64 " where %" PRIu64 " was due\n", seq,
				    mark_first + marks);
				return 1;
			}
			marks++;
		} else {
			say("error: record of unknown type %u\n", type);
			return 1;
		}
	}
	uint64_t errors = le64toh(atomic_load(&ch.rx.hdr->errors));
	say("ok data=%" PRIu64 " marks=%" PRIu64 " ring_errors=%" PRIu64 "\n", data, marks, errors);
	return errors ? 1 : 0;
}

static int lock_info(void)
{
	struct mint_lock *l = &mint_fabric_hdr(fab)->dir_lock;
	say("owner=%" PRIx64 " recoveries=%u flags=%u\n", le64toh(atomic_load(&l->owner)),
	    le32toh(atomic_load(&l->recoveries)), le32toh(atomic_load(&l->flags)));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		usage();
	const char *mode = argv[3];
	int rc = mint_fabric_attach(argv[1], &fab);
	if (rc)
		die("attach", rc);
	uint32_t id = MINT_NODE_NONE;
	if (strcmp(argv[2], "-") != 0)
		id = (uint32_t)num(argv[2]);
	int node_mode = strcmp(mode, "recv") != 0 && strcmp(mode, "lockinfo") != 0;
	if (node_mode != (id != MINT_NODE_NONE))
		usage();
	if (strcmp(mode, "holdlock") == 0 && argc == 4)
		return hold_lock(id);
	if (strcmp(mode, "send") == 0 && argc == 5)
		return send_forever(id, argv[4]);
	if (strcmp(mode, "mark") == 0 && argc == 7)
		return send_marks(id, argv[4], num(argv[5]), num(argv[6]));
	if (strcmp(mode, "recv") == 0 && argc == 8)
		return receive(argv[4], (uint32_t)num(argv[5]), num(argv[6]), num(argv[7]));
	if (strcmp(mode, "lockinfo") == 0 && argc == 4)
		return lock_info();
	usage();
}
