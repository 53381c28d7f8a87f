/* SPDX-License-Identifier: MIT */
/* A node agent's view of its devices: MINT_VEC_DEV and host link changes. */
#ifndef MINT_DEV_WATCH_H
#define MINT_DEV_WATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mint/mint.h"

typedef void (*dev_watch_log_fn)(void *arg, const char *line);

struct dev_watch {
	struct mint_fabric *f;
	uint32_t self;
	int netlink;                  /* link changes in the node's namespace, or -1 */
	atomic_bool told;             /* MINT_VEC_DEV arrived since the last look */
	dev_watch_log_fn log;
	void *log_arg;
	struct {
		bool mine;
		uint32_t link;
	} seen[MINT_DEV_MAX];
};

/* Start watching (in the node's namespace, before the dispatcher runs):
 * installs the MINT_VEC_DEV handler on D. */
void dev_watch_start(struct dev_watch *w, struct mint_fabric *f, struct mint_dispatcher *d,
		     dev_watch_log_fn log, void *log_arg);

/* Called every heartbeat: record the link changes netlink reported for
 * host interfaces this node owns (which tells the node by MINT_VEC_DEV),
 * and log what the table says changed since MINT_VEC_DEV last arrived. */
void dev_watch_poll(struct dev_watch *w);

/* Stop watching; a zero-filled watch that never started is left alone. */
void dev_watch_stop(struct dev_watch *w);

#endif
