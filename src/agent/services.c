/* SPDX-License-Identifier: MIT */
/*
 * Channel services of a node agent.  Channels named "echo.*" whose B side
 * is this node get every request echoed back; channels named "ctl.*" carry
 * requests from the mint command that this node acts on (a ping to
 * another node, run in a thread of its own so the dispatcher never blocks);
 * the first record of a channel named "exec.*" starts a session of the
 * exec server, which owns that channel from then on.
 */
#include "agent/services.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/drain.h"
#include "mint/proto.h"
#include "agent/exec_server.h"
#include "mint/endian.h"
#include "common/ping.h"

#define MAX_SERVED 64
#define BATCH 8
#define SLOT (128u * 1024u) /* largest record served */

#define MAX_JOBS 8          /* control requests running at once */
#define JOBS_DRAIN_MS 3000  /* how long stopping waits for them */

enum service { ECHO, CTL, EXEC };

struct served {
	struct mint_channel ch;
	enum service kind;
	bool claimed; /* EXEC: handed to a session, not ours to touch */
	char name[MINT_OBJ_NAME_MAX];
	uint64_t off; /* the channel object's offset */
};

struct services {
	struct mint_fabric *f;
	struct exec_server *exec; /* NULL: exec channels are refused */
	uint32_t self;
	uint32_t generation;
	int n;
	struct served chans[MAX_SERVED];
	uint8_t *buf; /* BATCH slots of SLOT bytes */
	atomic_bool stopping;
	pthread_mutex_t jobs_lock; /* guards jobs and job_chans */
	int jobs;
	uint64_t job_chans[MAX_JOBS]; /* client channel of each job, 0: free */
};

int services_create(struct mint_fabric *f, struct exec_server *exec, struct services **out)
{
	struct services *s = calloc(1, sizeof(*s));
	if (!s || !(s->buf = malloc((size_t)BATCH * SLOT))) {
		free(s);
		return -ENOMEM;
	}
	s->f = f;
	s->exec = exec;
	s->self = mint_fabric_self(f);
	pthread_mutex_init(&s->jobs_lock, NULL);
	s->generation = ~0u;
	*out = s;
	return 0;
}

void services_destroy(struct services *s)
{
	if (!s)
		return;
	/* Running jobs use the fabric: tell them to stop and wait for them. */
	atomic_store(&s->stopping, true);
	drain_wait(&s->jobs_lock, &s->jobs, JOBS_DRAIN_MS);
	pthread_mutex_destroy(&s->jobs_lock);
	free(s->buf);
	free(s);
}

/* The service object INFO is for by its name, or -1. */
static int service_of(struct services *s, const struct mint_obj_info *info)
{
	if (strncmp(info->name, MINT_ECHO_PREFIX, strlen(MINT_ECHO_PREFIX)) == 0)
		return ECHO;
	if (strncmp(info->name, MINT_CTL_PREFIX, strlen(MINT_CTL_PREFIX)) == 0)
		return CTL;
	if (strncmp(info->name, MINT_EXEC_PREFIX, strlen(MINT_EXEC_PREFIX)) == 0 &&
	    !(s->exec && exec_server_owns(s->exec, info->offset)))
		return EXEC;
	return -1;
}

/* Re-read the directory when it changed: which channels are ours. */
static void refresh(struct services *s)
{
	uint32_t gen = mint_le32(atomic_load_explicit(&mint_fabric_hdr(s->f)->dir_generation,
						 memory_order_acquire));
	if (gen == s->generation)
		return;
	s->generation = gen;
	struct mint_obj_info objs[MINT_MAX_OBJECTS];
	int n = mint_obj_list(s->f, objs, MINT_MAX_OBJECTS);
	s->n = 0;
	for (int i = 0; i < n && i < (int)MINT_MAX_OBJECTS && s->n < MAX_SERVED; i++) {
		int kind = service_of(s, &objs[i]);
		struct served *sv = &s->chans[s->n];
		if (objs[i].type != MINT_OBJ_CHANNEL || kind < 0 ||
		    mint_channel_open_at(s->f, objs[i].offset, MINT_SIDE_B, &sv->ch) != 0 ||
		    sv->ch.node_b != s->self ||
		    (kind != EXEC && mint_ring_max_record(&sv->ch.rx) > SLOT))
			continue;
		sv->kind = (enum service)kind;
		sv->claimed = false;
		memcpy(sv->name, objs[i].name, sizeof(sv->name));
		sv->off = objs[i].offset;
		s->n++;
	}
}

struct ctl_job {
	struct services *s;
	struct mint_channel ch;
	uint64_t ch_off;          /* the client's channel, to notice it go */
	char ch_name[MINT_OBJ_NAME_MAX];
	struct mint_ctl_ping req;
	volatile sig_atomic_t stop;
};

/* The client went away (its channel was removed or replaced) or the agent
 * is stopping: the job must stop using the channel. */
static bool job_orphaned(struct ctl_job *job)
{
	struct mint_obj_info info;
	return atomic_load(&job->s->stopping) || mint_obj_find(job->s->f, job->ch_name, &info) != 0 ||
	       info.offset != job->ch_off;
}

static void report_to_client(void *arg, const struct mint_ping_result *r)
{
	struct ctl_job *job = arg;
	if (job_orphaned(job)) {
		job->stop = 1;
		return;
	}
	struct mint_ping_result wire = {mint_le32(r->seq), (int32_t)mint_le32((uint32_t)r->status), mint_le64(r->rtt_ns)};
	mint_ring_send_wait(&job->ch.tx, &wire, sizeof(wire), MINT_CTL_RESULT, 1000);
}

static void release_job_slot(struct services *s, uint64_t off)
{
	pthread_mutex_lock(&s->jobs_lock);
	for (int i = 0; i < MAX_JOBS; i++)
		if (s->job_chans[i] == off)
			s->job_chans[i] = 0;
	s->jobs--;
	pthread_mutex_unlock(&s->jobs_lock);
}

static void *ctl_ping_thread(void *arg)
{
	struct ctl_job *job = arg;
	struct services *s = job->s;
	char chan[MINT_OBJ_NAME_MAX];
	snprintf(chan, sizeof(chan), MINT_ECHO_PREFIX "n%u-n%u.%d", s->self, job->req.dst, (int)gettid());
	struct ping_opts o = {job->req.count, job->req.size, job->req.interval_ns,
			      job->req.timeout_ms};
	int rc = ping_run(s->f, chan, s->self, job->req.dst, &o, report_to_client, job, &job->stop);
	struct mint_ping_result done = {mint_le32((uint32_t)rc), 0, 0};
	if (!job_orphaned(job))
		mint_ring_send_wait(&job->ch.tx, &done, sizeof(done), MINT_CTL_DONE, 1000);
	release_job_slot(s, job->ch_off);
	free(job);
	return NULL;
}

/* One job per client channel (it is the channel's only producer), at most
 * MAX_JOBS at once; false if this request must be ignored. */
static bool claim_job_slot(struct services *s, uint64_t off)
{
	pthread_mutex_lock(&s->jobs_lock);
	bool ok = s->jobs < MAX_JOBS;
	for (int i = 0; i < MAX_JOBS; i++)
		ok = ok && s->job_chans[i] != off;
	for (int i = 0; ok && i < MAX_JOBS; i++)
		if (s->job_chans[i] == 0) {
			s->job_chans[i] = off;
			s->jobs++;
			break;
		}
	pthread_mutex_unlock(&s->jobs_lock);
	return ok;
}

/* The request's numbers, from little-endian and within sane bounds. */
static bool decode_request(struct mint_ctl_ping *req, const uint8_t *msg, uint32_t len)
{
	if (len != sizeof(*req))
		return false;
	memcpy(req, msg, sizeof(*req));
	req->dst = mint_le32(req->dst);
	req->count = mint_le32(req->count);
	req->size = mint_le32(req->size);
	req->timeout_ms = mint_le32(req->timeout_ms);
	req->interval_ns = mint_le64(req->interval_ns);
	return req->dst < MINT_MAX_NODES && req->count >= 1 && req->count <= 10000000 &&
	       req->size >= 16 && req->size <= MINT_PING_MAX_SIZE && req->timeout_ms >= 1 &&
	       req->timeout_ms <= 60000 && req->interval_ns <= 60000000000ull;
}

static void start_ctl_ping(struct services *s, struct served *sv, const uint8_t *msg, uint32_t len)
{
	struct ctl_job *job = calloc(1, sizeof(*job));
	uint64_t off = sv->off;
	if (!job || !decode_request(&job->req, msg, len) || !claim_job_slot(s, off)) {
		free(job);
		return;
	}
	job->s = s;
	job->ch = sv->ch;
	job->ch_off = off;
	memcpy(job->ch_name, sv->name, sizeof(job->ch_name));
	pthread_t t;
	if (pthread_create(&t, NULL, ctl_ping_thread, job) == 0) {
		pthread_detach(t);
		return;
	}
	release_job_slot(s, off);
	free(job);
}

/* An exec channel's first record (one only: what follows is the
 * session's); true if there was one. */
static bool serve_exec(struct services *s, struct served *sv)
{
	uint32_t type;
	int n = mint_ring_recv(&sv->ch.rx, s->buf, SLOT, &type);
	if (n == -EAGAIN)
		return false;
	/* Taken or refused: either way the channel is not ours any more. */
	sv->claimed = true;
	if (!s->exec)
		exec_server_refuse(s->f, &sv->ch, sv->off, sv->name, MINT_EXEC_ERR_FAILED,
				   "this node does not serve exec (started with --no-exec)");
	else if (n >= 0)
		exec_server_start(s->exec, &sv->ch, sv->off, sv->name, s->buf, (uint32_t)n, type);
	else
		exec_server_start(s->exec, &sv->ch, sv->off, sv->name, NULL, 0, 0);
	return true;
}

/* Serve what is queued on one channel; true if anything was. */
static bool serve(struct services *s, struct served *sv)
{
	if (sv->claimed)
		return false;
	if (sv->kind == EXEC)
		return serve_exec(s, sv);
	struct mint_msg msgs[BATCH];
	for (int i = 0; i < BATCH; i++)
		msgs[i] = (struct mint_msg){s->buf + (size_t)i * SLOT, 0, SLOT, 0};
	int n = mint_ring_recv_batch(&sv->ch.rx, msgs, BATCH);
	for (int i = 0; i < n; i++) {
		if (sv->kind == CTL && msgs[i].type == MINT_CTL_PING) {
			start_ctl_ping(s, sv, msgs[i].data, msgs[i].len);
		} else if (sv->kind == ECHO && msgs[i].type == MINT_PING_REQUEST) {
			/* A client that does not read its replies loses them:
			 * the dispatcher never blocks on a full ring. */
			mint_ring_send(&sv->ch.tx, msgs[i].data, msgs[i].len, MINT_PING_REPLY);
		}
	}
	return n > 0 || n == -EBADMSG;
}

void services_on_channel_irq(void *arg, uint32_t vector)
{
	(void)vector;
	struct services *s = arg;
	refresh(s);
	/* A batch from each channel in turn, so one busy client cannot starve
	 * the others; then arm them all, and go round again if data raced
	 * with the arming (notifications are hints). */
	bool again = true;
	while (again) {
		again = false;
		for (int i = 0; i < s->n; i++)
			again |= serve(s, &s->chans[i]);
		for (int i = 0; !again && i < s->n; i++)
			again = !s->chans[i].claimed && mint_ring_arm(&s->chans[i].ch.rx) == 1;
	}
}
