/* SPDX-License-Identifier: MIT */
/*
 * The remote execution protocol: the records of an "exec.*" channel
 * between `mint exec` (side A, usually not a node) and node B's agent.
 * Every number is little-endian (the records live in the fabric); the
 * layout is described in docs/layout.md ("Exec channels").
 *
 * A session: the client creates the signal channel (below), then the
 * channel and sends EXEC_START; the server answers with output records and ends with exactly one EXEC_EXIT
 * or EXEC_ERROR; the client then sends EXEC_CLOSE and never touches the
 * channels again, and the server removes them.  A client that dies instead
 * is noticed by its pid (the command gets SIGHUP, the server removes the
 * channel); a server that dies is noticed by the client through the node
 * table (the client removes the channel).
 */
#ifndef MINT_EXEC_PROTO_H
#define MINT_EXEC_PROTO_H

#include <stdint.h>

#define EXEC_PREFIX "exec."
/* The client's signals and window sizes go on a second channel, named
 * EXEC_SIG_PREFIX + what follows EXEC_PREFIX in the session's name, so
 * that they never wait behind input the command does not read. */
#define EXEC_SIG_PREFIX "execsig."
#define EXEC_SIG_RING_SIZE 4096u
#define EXEC_VERSION 1u
#define EXEC_RING_SIZE (512u * 1024u) /* data bytes of each direction */
#define EXEC_CHUNK (128u * 1024u)   /* largest data record */
#define EXEC_START_MAX (64u * 1024u) /* largest EXEC_START record */
#define EXEC_PIPE_SIZE (1u << 20)   /* the command's input and output pipes */
#define EXEC_MAX_ARGS 4096u         /* argc of EXEC_START */
#define EXEC_MAX_ENV 1024u          /* envc of EXEC_START */

/* Record types (client -> server: 32-39, server -> client: 40-47). */
enum exec_type {
	EXEC_START = 32,   /* struct exec_start, then the strings */
	EXEC_STDIN = 33,   /* bytes for the command's input; empty: end of input */
	EXEC_SIGNAL = 34,  /* u32 signal number, for the command's process group */
	EXEC_WINSIZE = 35, /* u32 rows, u32 columns (-t sessions) */
	/* (these two on either channel; the client uses the signal one) */
	EXEC_CLOSE = 36,   /* empty: the client is done with the channel */
	EXEC_STDOUT = 40,  /* bytes of the command's output (-t: the terminal's) */
	EXEC_STDERR = 41,  /* bytes of its error output */
	EXEC_EXIT = 42,    /* u32 exit status: the code, or 128+N for signal N */
	EXEC_ERROR = 43,   /* u32 enum exec_error, then a message (no NUL) */
};

enum exec_start_flags {
	EXEC_TTY = 1u, /* run on a pseudo-terminal */
};

enum exec_error {
	EXEC_ERR_FAILED = 1,  /* the command could not be started */
	EXEC_ERR_REFUSED = 2, /* the node's policy refused the identity */
	EXEC_ERR_PROTOCOL = 3, /* a malformed record: the session is cut */
};

/*
 * EXEC_START: this header, then CWD, ARGC arguments and ENVC "K=V"
 * strings, each NUL-terminated, filling the record exactly.
 */
struct exec_start {
	uint32_t version;     /* EXEC_VERSION */
	uint32_t flags;       /* enum exec_start_flags */
	uint32_t uid;
	uint32_t gid;
	uint32_t argc;        /* >= 1 */
	uint32_t envc;
	uint32_t rows, cols;  /* initial window size (EXEC_TTY) */
	int32_t client_pid;   /* the client's pid and /proc start time: */
	uint32_t pad;         /* the server watches it to notice its death */
	uint64_t client_start;
};
_Static_assert(sizeof(struct exec_start) == 48, "exec_start");

/* Exit statuses of `mint exec` itself (the command's own are 0-255). */
#define EXEC_STATUS_REFUSED 77 /* EX_NOPERM: refused by the node's policy */
#define EXEC_STATUS_FAILED 125 /* the session failed (node down, cwd, uid...) */
#define EXEC_STATUS_CANNOT_RUN 126
#define EXEC_STATUS_NOT_FOUND 127

#endif
