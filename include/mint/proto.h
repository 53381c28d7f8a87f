/* SPDX-License-Identifier: MIT */
/*
 * The records nodes exchange on channels: the peer protocols.  Every
 * number is little-endian (the records live in the fabric) whatever the
 * node's own byte order; the layout is described in docs/layout.md ("Peer
 * protocols") and checked by tests/test_layout.c.  A record that fails
 * these rules is a protocol error: the receiver drops it and counts it.
 *
 * Echo and control channels ("echo.*", "ctl.*"): `mint ping` and a
 * node's echo service.  A MINT_PING_REQUEST's payload comes back unchanged
 * in a MINT_PING_REPLY on the same channel: a u32 sequence number, the
 * sender's u64 CLOCK_MONOTONIC time, then bytes (seq + i) & 0xff up to
 * the request's size (16 to MINT_PING_MAX_SIZE).  On a control
 * channel a tool asks an agent to ping another node for it (MINT_CTL_PING)
 * and gets one MINT_CTL_RESULT per round trip, then MINT_CTL_DONE.
 */
#ifndef MINT_PROTO_H
#define MINT_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "mint/api.h"

MINT_BEGIN_DECLS

/* Record types on echo and control channels. */
enum mint_ping_type {
	MINT_PING_REQUEST = 1,
	MINT_PING_REPLY = 2,
	MINT_CTL_PING = 16,   /* client -> agent: struct mint_ctl_ping */
	MINT_CTL_RESULT = 17, /* agent -> client: struct mint_ping_result */
	MINT_CTL_DONE = 18,   /* agent -> client: struct mint_ping_result, seq = status */
};

#define MINT_ECHO_PREFIX "echo."
#define MINT_CTL_PREFIX "ctl."
#define MINT_PING_RING_SIZE (256u * 1024u)
#define MINT_PING_MAX_SIZE 65536u

/* One round trip (little-endian on the wire, as everything in the fabric). */
struct mint_ping_result {
	uint32_t seq;
	int32_t status;       /* 0 or a negative errno (-ETIMEDOUT: lost) */
	uint64_t rtt_ns;
};

/* A control request (all fields little-endian). */
struct mint_ctl_ping {
	uint32_t dst;
	uint32_t count;
	uint32_t size;
	uint32_t timeout_ms;
	uint64_t interval_ns;
};

/*
 * The remote execution protocol: the records of an "exec.*" channel
 * between `mint exec` (side A, usually not a node) and node B's agent.
 *
 * A session: the client creates the signal channel (below), then the
 * channel and sends MINT_EXEC_START; the server answers with output records and ends with exactly one MINT_EXEC_EXIT
 * or MINT_EXEC_ERROR; the client then sends MINT_EXEC_CLOSE and never touches the
 * channels again, and the server removes them.  A client that dies instead
 * is noticed by its pid (the command gets SIGHUP, the server removes the
 * channel); a server that dies is noticed by the client through the node
 * table (the client removes the channel).
 */
#define MINT_EXEC_PREFIX "exec."
/* The client's signals and window sizes go on a second channel, named
 * MINT_EXEC_SIG_PREFIX + what follows MINT_EXEC_PREFIX in the session's name, so
 * that they never wait behind input the command does not read. */
#define MINT_EXEC_SIG_PREFIX "execsig."
#define MINT_EXEC_SIG_RING_SIZE 4096u
#define MINT_EXEC_VERSION 1u
#define MINT_EXEC_RING_SIZE (512u * 1024u) /* data bytes of each direction */
#define MINT_EXEC_CHUNK (128u * 1024u)   /* largest data record */
#define MINT_EXEC_START_MAX (64u * 1024u) /* largest MINT_EXEC_START record */
#define MINT_EXEC_PIPE_SIZE (1u << 20)   /* the command's input and output pipes */
#define MINT_EXEC_MAX_ARGS 4096u         /* argc of MINT_EXEC_START */
#define MINT_EXEC_MAX_ENV 1024u          /* envc of MINT_EXEC_START */

/* Record types (client -> server: 32-39, server -> client: 40-47). */
enum mint_exec_type {
	MINT_EXEC_START = 32,   /* struct mint_exec_start, then the strings */
	MINT_EXEC_STDIN = 33,   /* bytes for the command's input; empty: end of input */
	MINT_EXEC_SIGNAL = 34,  /* u32 signal number, for the command's process group */
	MINT_EXEC_WINSIZE = 35, /* u32 rows, u32 columns (-t sessions) */
	/* (these two on either channel; the client uses the signal one) */
	MINT_EXEC_CLOSE = 36,   /* empty: the client is done with the channel */
	MINT_EXEC_STDOUT = 40,  /* bytes of the command's output (-t: the terminal's) */
	MINT_EXEC_STDERR = 41,  /* bytes of its error output */
	MINT_EXEC_EXIT = 42,    /* u32 exit status: the code, or 128+N for signal N */
	MINT_EXEC_ERROR = 43,   /* u32 enum mint_exec_error, then a message (no NUL) */
};

enum mint_exec_start_flags {
	MINT_EXEC_TTY = 1u, /* run on a pseudo-terminal */
};

enum mint_exec_error {
	MINT_EXEC_ERR_FAILED = 1,  /* the command could not be started */
	MINT_EXEC_ERR_REFUSED = 2, /* the node's policy refused the identity */
	MINT_EXEC_ERR_PROTOCOL = 3, /* a malformed record: the session is cut */
};

/*
 * MINT_EXEC_START: this header, then CWD, ARGC arguments and ENVC "K=V"
 * strings, each NUL-terminated, filling the record exactly.
 */
struct mint_exec_start {
	uint32_t version;     /* MINT_EXEC_VERSION */
	uint32_t flags;       /* enum mint_exec_start_flags */
	uint32_t uid;
	uint32_t gid;
	uint32_t argc;        /* >= 1 */
	uint32_t envc;
	uint32_t rows, cols;  /* initial window size (MINT_EXEC_TTY) */
	int32_t client_pid;   /* the client's pid and /proc start time: */
	uint32_t pad;         /* the server watches it to notice its death */
	uint64_t client_start;
};
MINT_STATIC_ASSERT(sizeof(struct mint_ctl_ping) == 24, "ctl_ping");
MINT_STATIC_ASSERT(offsetof(struct mint_ctl_ping, interval_ns) == 16, "ctl_ping.interval_ns");
MINT_STATIC_ASSERT(sizeof(struct mint_ping_result) == 16, "ping_result");
MINT_STATIC_ASSERT(offsetof(struct mint_ping_result, rtt_ns) == 8, "ping_result.rtt_ns");
MINT_STATIC_ASSERT(sizeof(struct mint_exec_start) == 48, "exec_start");
MINT_STATIC_ASSERT(offsetof(struct mint_exec_start, client_pid) == 32, "exec_start.client_pid");
MINT_STATIC_ASSERT(offsetof(struct mint_exec_start, client_start) == 40, "exec_start.client_start");

/* Exit statuses of `mint exec` itself (the command's own are 0-255). */
#define MINT_EXEC_STATUS_REFUSED 77 /* EX_NOPERM: refused by the node's policy */
#define MINT_EXEC_STATUS_FAILED 125 /* the session failed (node down, cwd, uid...) */
#define MINT_EXEC_STATUS_CANNOT_RUN 126
#define MINT_EXEC_STATUS_NOT_FOUND 127

MINT_END_DECLS

#endif
