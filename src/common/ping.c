/* SPDX-License-Identifier: MIT */
#include "common/ping.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mint/clock.h"
#include "mint/endian.h"

static uint64_t now_ns(void) { return mint_now_ns(CLOCK_MONOTONIC); }

/* Request payload: seq, send time, then a pattern the reply must repeat. */
static void fill_request(uint8_t *buf, uint32_t size, uint32_t seq, uint64_t t)
{
	uint32_t seq_le = mint_le32(seq);
	uint64_t t_le = mint_le64(t);
	memcpy(buf, &seq_le, 4);
	memcpy(buf + 4, &t_le, 8);
	for (uint32_t i = 12; i < size; i++)
		buf[i] = (uint8_t)(seq + i);
}

/* Wait for the reply to SEQ; 0, -ETIMEDOUT, -EHOSTDOWN, -EINTR, -EBADMSG. */
static int await_reply(struct mint_fabric *f, struct mint_channel *ch, uint32_t dst,
		       const uint8_t *sent, uint32_t size, uint8_t *buf, uint64_t deadline,
		       volatile sig_atomic_t *stop)
{
	for (;;) {
		uint32_t type;
		int n = mint_ring_recv_wait(&ch->rx, buf, MINT_PING_MAX_SIZE, &type, 100);
		if (n >= 0) {
			if (type == MINT_PING_REPLY && (uint32_t)n == size && memcmp(buf, sent, size) == 0)
				return 0;
			if (type == MINT_PING_REPLY && (uint32_t)n == size && memcmp(buf, sent, 4) != 0)
				continue; /* a late reply to an earlier request */
			return -EBADMSG;
		}
		if (n != -ETIMEDOUT && n != -EINTR)
			return n;
		if (stop && *stop)
			return -EINTR;
		if (!mint_node_alive(f, dst))
			return -EHOSTDOWN;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
	}
}

static void pause_until(uint64_t t)
{
	uint64_t now = now_ns();
	if (t <= now)
		return;
	struct timespec ts = {(time_t)((t - now) / 1000000000ull), (long)((t - now) % 1000000000ull)};
	nanosleep(&ts, NULL);
}

int ping_run(struct mint_fabric *f, const char *chan, uint32_t src, uint32_t dst,
	     const struct ping_opts *o, ping_report_fn report, void *arg,
	     volatile sig_atomic_t *stop)
{
	struct mint_channel ch;
	if (o->size < 16 || o->size > MINT_PING_MAX_SIZE)
		return -EINVAL;
	int rc = mint_channel_open(f, chan, src, dst, MINT_PING_RING_SIZE, MINT_SIDE_A, &ch);
	if (rc < 0)
		return rc;
	uint8_t *sent = malloc(o->size), *buf = malloc(MINT_PING_MAX_SIZE);
	int received = 0;
	rc = sent && buf ? 0 : -ENOMEM;
	uint64_t t0 = now_ns();
	for (uint32_t seq = 0; rc == 0 && seq < o->count && !(stop && *stop); seq++) {
		pause_until(t0 + seq * o->interval_ns);
		uint64_t t = now_ns();
		fill_request(sent, o->size, seq, t);
		rc = mint_ring_send_wait(&ch.tx, sent, o->size, MINT_PING_REQUEST, (int)o->timeout_ms);
		if (rc == 0)
			rc = await_reply(f, &ch, dst, sent, o->size, buf,
					 t + o->timeout_ms * 1000000ull, stop);
		struct mint_ping_result r = {seq, rc, now_ns() - t};
		if (rc == 0)
			received++;
		if (rc == 0 || rc == -ETIMEDOUT) {
			report(arg, &r);
			rc = 0;
		}
	}
	free(sent);
	free(buf);
	mint_channel_remove(f, chan);
	return rc < 0 && rc != -EINTR ? rc : received;
}
