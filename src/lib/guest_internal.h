/* SPDX-License-Identifier: MIT */
/* What the library's files share about guest nodes (guest.c). */
#ifndef MINT_GUEST_INTERNAL_H
#define MINT_GUEST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "mint/fabric.h"
#include "mint/guest.h"
#include "mint/layout.h"

/* Map the fabric through the guest driver's device FD (opened on PATH):
 * 0, -EPROTO (not mint_ivshmem, or no fabric in it), -EMFILE (too many
 * mappings in this process). */
int mint_guest_map(const char *path, int fd, struct mint_fabric **out);
/* Before unmapping F: it is no longer the process's guest fabric. */
void mint_guest_unmap(struct mint_fabric *f);

/* The guest's futex: wake through the server, wait on the driver. */
int mint_guest_wake(_Atomic uint32_t *word);
int mint_guest_wait(_Atomic uint32_t *word, uint32_t raw_expected, int64_t timeout_ns);

/* At a guest's join: the identity fields only a guest fills. */
void mint_guest_fill_identity(struct mint_node_entry *e);

/* Inside a guest, whether UP entry E is alive: another kernel's pids and
 * clock are not ours, so a process node is taken as alive, and a guest
 * node as long as its entry is its current QEMU's (the host records a new
 * QEMU's pid before it boots; the server clears a gone one's). */
bool mint_guest_sees_alive(const struct mint_node_entry *e);

/* Host: how long ago the server saw guest node E's heartbeat change, on
 * the host's clock (0 before it first looked). */
uint64_t mint_guest_beat_age(const struct mint_node_entry *e);

/* Raise a vector node E's kernel owns; 1 if a wake was made. */
int mint_guest_raise_kernel(struct mint_node_entry *e, uint32_t vector);

/* The fabric header checks of mint_fabric_attach (fabric.c). */
int mint_fabric_check_header(const struct mint_fabric_hdr *h, uint64_t file_size);

#endif
