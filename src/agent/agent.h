/* SPDX-License-Identifier: MIT */
/* The node agent: the process that is an OS node. */
#ifndef MINT_AGENT_H
#define MINT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/exec_server.h"
#include "mint/mint.h"

struct agent_config {
	const char *fabric;
	uint32_t id;
	uint64_t cores[MINT_CPU_WORDS];
	bool netns;
	char netns_name[MINT_NAME_MAX];
	char name[MINT_NAME_MAX];
	enum mint_dispatch_mode mode;
	bool vni;                 /* drive a virtual NIC, mint0 */
	uint8_t vni_addr[4];      /* its IPv4 address, network order */
	uint32_t vni_prefix;
	struct exec_policy exec;  /* the exec server's */
	bool nic;                 /* drive an emulated NIC, nic0 */
	uint8_t nic_addr[4];      /* its IPv4 address, network order */
	uint32_t nic_prefix;
	uint64_t nic_itr_ns;       /* its interrupt moderation (ITR; 0: none) */
};

/* A timestamped line in the agent's log (its stderr), for node ID. */
void agent_logf(uint32_t id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Become node CFG->id and serve until SIGTERM, SIGINT or SIGHUP.  Once up
 * (or on failure) one line goes to READY_FD ("ok" or the error), if it is
 * not -1.  Returns the exit status.
 */
int agent_run(const struct agent_config *cfg, int ready_fd);

#endif
