/* SPDX-License-Identifier: MIT */
/*
 * Channel services of a node agent.  Channels named "echo.*" whose B side
 * is this node get every request echoed back; channels named "ctl.*" carry
 * requests from the mint command that this node acts on (a ping to
 * another node, run in a thread of its own so the dispatcher never blocks).
 */
#include "services.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "le.h"
#include "ping.h"

#define MAX_SERVED 64
#define BATCH 8
#define SLOT (128u * 1024u) /* largest record served */

struct served {
	struct mint_channel ch;
	int is_ctl;
};

struct services {
	struct mint_fabric *f;
	uint32_t self;
	uint32_t generation;
	int n;
	struct served chans[MAX_SERVED];
	uint8_t *buf; /* BATCH slots of SLOT bytes */
};

int services_create(struct mint_fabric *f, struct services **out)
{
	struct services *s = calloc(1, sizeof(*s));
	if (!s || !(s->buf = malloc((size_t)BATCH * SLOT))) {
		free(s);
		return -ENOMEM;
	}
	s->f = f;
	s->self = mint_fabric_self(f);
	s->generation = ~0u;
	*out = s;
	return 0;
}

void services_destroy(struct services *s)
{
	if (s)
		free(s->buf);
	free(s);
}

/* Re-read the directory when it changed: which channels are ours. */
static void refresh(struct services *s)
{
	uint32_t gen = le32(atomic_load_explicit(&mint_fabric_hdr(s->f)->dir_generation,
						 memory_order_acquire));
	if (gen == s->generation)
		return;
	s->generation = gen;
	struct mint_obj_info objs[MINT_MAX_OBJECTS];
	int n = mint_obj_list(s->f, objs, MINT_MAX_OBJECTS);
	s->n = 0;
	for (int i = 0; i < n && i < (int)MINT_MAX_OBJECTS && s->n < MAX_SERVED; i++) {
		int is_echo = strncmp(objs[i].name, ECHO_PREFIX, strlen(ECHO_PREFIX)) == 0;
		int is_ctl = strncmp(objs[i].name, CTL_PREFIX, strlen(CTL_PREFIX)) == 0;
		struct served *sv = &s->chans[s->n];
		if (objs[i].type != MINT_OBJ_CHANNEL || !(is_echo || is_ctl) ||
		    mint_channel_open_at(s->f, objs[i].offset, MINT_SIDE_B, &sv->ch) != 0 ||
		    sv->ch.node_b != s->self || mint_ring_max_record(&sv->ch.rx) > SLOT)
			continue;
		sv->is_ctl = is_ctl;
		s->n++;
	}
}

struct ctl_job {
	struct mint_fabric *f;
	struct mint_channel ch;
	uint32_t self;
	struct ctl_ping req;
};

static void report_to_client(void *arg, const struct ping_result *r)
{
	struct ctl_job *job = arg;
	struct ping_result wire = {le32(r->seq), (int32_t)le32((uint32_t)r->status), le64(r->rtt_ns)};
	mint_ring_send_wait(&job->ch.tx, &wire, sizeof(wire), CTL_RESULT, 1000);
}

static void *ctl_ping_thread(void *arg)
{
	struct ctl_job *job = arg;
	char chan[MINT_OBJ_NAME_MAX];
	snprintf(chan, sizeof(chan), ECHO_PREFIX "n%u-n%u.%d", job->self, job->req.dst,
		 (int)gettid());
	struct ping_opts o = {job->req.count, job->req.size, job->req.interval_ns,
			      job->req.timeout_ms};
	int rc = ping_run(job->f, chan, job->self, job->req.dst, &o, report_to_client, job, NULL);
	struct ping_result done = {le32((uint32_t)rc), 0, 0};
	mint_ring_send_wait(&job->ch.tx, &done, sizeof(done), CTL_DONE, 1000);
	free(job);
	return NULL;
}

static void start_ctl_ping(struct services *s, struct served *sv, const uint8_t *msg, uint32_t len)
{
	struct ctl_job *job = calloc(1, sizeof(*job));
	if (!job || len != sizeof(struct ctl_ping)) {
		free(job);
		return;
	}
	memcpy(&job->req, msg, sizeof(job->req));
	job->req.dst = le32(job->req.dst);
	job->req.count = le32(job->req.count);
	job->req.size = le32(job->req.size);
	job->req.timeout_ms = le32(job->req.timeout_ms);
	job->req.interval_ns = le64(job->req.interval_ns);
	job->f = s->f;
	job->ch = sv->ch;
	job->self = s->self;
	pthread_t t;
	if (pthread_create(&t, NULL, ctl_ping_thread, job) != 0)
		free(job);
	else
		pthread_detach(t);
}

/* Serve what is queued on one channel; true if anything was. */
static bool serve(struct services *s, struct served *sv)
{
	struct mint_msg msgs[BATCH];
	for (int i = 0; i < BATCH; i++)
		msgs[i] = (struct mint_msg){s->buf + (size_t)i * SLOT, 0, SLOT, 0};
	int n = mint_ring_recv_batch(&sv->ch.rx, msgs, BATCH);
	for (int i = 0; i < n; i++) {
		if (sv->is_ctl && msgs[i].type == CTL_PING) {
			start_ctl_ping(s, sv, msgs[i].data, msgs[i].len);
		} else if (!sv->is_ctl && msgs[i].type == PING_REQUEST) {
			/* A client that does not read its replies loses them:
			 * the dispatcher never blocks on a full ring. */
			mint_ring_send(&sv->ch.tx, msgs[i].data, msgs[i].len, PING_REPLY);
		}
	}
	return n > 0 || n == -EBADMSG;
}

void services_on_channel_irq(void *arg, uint32_t vector)
{
	(void)vector;
	struct services *s = arg;
	refresh(s);
	for (int i = 0; i < s->n; i++) {
		struct served *sv = &s->chans[i];
		/* Drain, then arm; data that raced with the arming is drained
		 * at once (notifications are hints). */
		while (serve(s, sv) || mint_ring_arm(&sv->ch.rx) == 1)
			;
	}
}
