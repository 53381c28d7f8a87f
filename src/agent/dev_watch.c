/* SPDX-License-Identifier: MIT */
/*
 * The agent's side of the device table.  Host interfaces given to this
 * node live in its network namespace, so the agent follows their link
 * state through rtnetlink (RTM_NEWLINK / RTM_DELLINK) and records it in
 * the table; the table tells the owner of every attach, detach, move and
 * link change by MINT_VEC_DEV, whose handler only flags it: the heartbeat
 * thread looks at the table and logs the changes.
 */
#include "agent/dev_watch.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/hostif.h"

/* MINT_VEC_DEV: the interrupts of the devices routed to it (host
 * interfaces: their events are the table's) are consumed here; what
 * changed is logged by the heartbeat thread. */
static void on_dev_irq(void *arg, uint32_t vector)
{
	struct dev_watch *w = arg;
	for (uint32_t id = 0; id < MINT_DEV_MAX; id++) {
		struct mint_dev_info d;
		uint64_t first;
		if (mint_dev_info(w->f, id, &d) == 0 && d.owner == w->self && d.vector == vector)
			mint_dev_consume(w->f, id, &first);
	}
	/* relaxed: a hint; the table itself is read with its own ordering. */
	atomic_store_explicit(&w->told, true, memory_order_relaxed);
}

void dev_watch_start(struct dev_watch *w, struct mint_fabric *f, struct mint_dispatcher *d,
		     dev_watch_log_fn log, void *log_arg)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->self = mint_fabric_self(f);
	w->log = log;
	w->log_arg = log_arg;
	w->netlink = hostif_watch_open();
	atomic_init(&w->told, true); /* look once: devices given while we were down */
	mint_dispatcher_set_handler(d, MINT_VEC_DEV, on_dev_irq, w);
}

/* A link change of IFINDEX in our namespace: record it on our device. */
static void on_link(void *arg, uint32_t ifindex, bool running)
{
	struct dev_watch *w = arg;
	struct mint_dev_info devs[MINT_DEV_MAX];
	int n = mint_dev_list(w->f, devs, MINT_DEV_MAX);
	for (int i = 0; i < n && i < (int)MINT_DEV_MAX; i++)
		if (devs[i].type == MINT_DEV_HOSTIF && devs[i].owner == w->self &&
		    devs[i].ifindex == ifindex &&
		    (devs[i].link == MINT_DEV_LINK_UP) != running)
			mint_dev_set_link(w->f, devs[i].id, running, 0);
}

static void say(struct dev_watch *w, const struct mint_dev_info *d, const char *what)
{
	char line[128];
	snprintf(line, sizeof(line), "device %s (%u) %s", d->name, d->id, what);
	w->log(w->log_arg, line);
}

/* Compare the table with what we saw last and log the differences. */
static void look(struct dev_watch *w)
{
	struct mint_dev_info devs[MINT_DEV_MAX];
	bool mine_now[MINT_DEV_MAX] = {false};
	int n = mint_dev_list(w->f, devs, MINT_DEV_MAX);
	for (int i = 0; i < n && i < (int)MINT_DEV_MAX; i++) {
		struct mint_dev_info *d = &devs[i];
		uint32_t id = d->id;
		mine_now[id] = d->owner == w->self && d->state == MINT_DEV_ATTACHED;
		if (mine_now[id] && !w->seen[id].mine)
			say(w, d, "attached to this node");
		else if (mine_now[id] && w->seen[id].link != d->link)
			say(w, d, d->link == MINT_DEV_LINK_UP ? "link up" : "link down");
		w->seen[id].link = d->link;
	}
	for (uint32_t id = 0; id < MINT_DEV_MAX; id++) {
		if (w->seen[id].mine && !mine_now[id]) {
			struct mint_dev_info gone = {.id = id};
			snprintf(gone.name, sizeof(gone.name), "#%u", id);
			mint_dev_info(w->f, id, &gone);
			say(w, &gone, "detached from this node");
		}
		w->seen[id].mine = mine_now[id];
	}
}

void dev_watch_poll(struct dev_watch *w)
{
	while (w->netlink >= 0 && hostif_watch_read(w->netlink, on_link, w) > 0)
		;
	/* relaxed: see on_dev_irq. */
	if (atomic_exchange_explicit(&w->told, false, memory_order_relaxed))
		look(w);
}

void dev_watch_stop(struct dev_watch *w)
{
	if (w->f && w->netlink >= 0) /* started (a zeroed watch was not) */
		close(w->netlink);
	w->netlink = -1;
}
