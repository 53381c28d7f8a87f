/* SPDX-License-Identifier: MIT */
/* Booting a QEMU guest node and stopping it (mint guest, mint down). */
#ifndef MINT_CLI_GUEST_RUN_H
#define MINT_CLI_GUEST_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"

struct guest_spec {
	uint32_t id;
	const char *arch;      /* "x86_64" or "aarch64" */
	const char *kernel;    /* NULL: the one make guest-images built */
	const char *initrd;
	const char *accel;     /* "kvm", "tcg", NULL: kvm if /dev/kvm */
	const char *mode;      /* the agent's dispatch mode, NULL: sleep */
	const char *cores_arg; /* NULL: QEMU unpinned */
	const char *vni;       /* NULL: none; "auto" or A.B.C.D/N */
	bool tap;              /* an e1000 NIC on a host TAP (mintg<N>) */
	const char *load;      /* guest modules init loads before the agent: a,b */
	uint64_t cores[MINT_CPU_WORDS];
	uint32_t mem_mib;
	uint32_t timeout_s;
};

/* ELF machine of architecture name NAME, 0 if mint has no guest for it. */
uint32_t guest_arch(const char *name);

/* Boot guest G on C's fabric and wait for its agent: an exit status,
 * having printed the result or the one error line. */
int guest_run(struct cli *c, const struct guest_spec *g);

/* Stop node ID's QEMU (joined or still booting: found as its agent, by
 * the marker it holds) and free its entry: 0, -ESRCH if none ran, or a
 * negative errno. */
int guest_stop_node(const struct cli *c, uint32_t id);

/* After mint down removed fabric file FILE: wait for its ivshmem server to
 * stop by itself (stopping it if it hangs) and remove its socket, pid
 * file, log and lock: 0, or -ESRCH if none was there. */
int guest_server_gone(const char *fabric_file);

#endif
