/* SPDX-License-Identifier: MIT */
/*
 * mint's ivshmem server: QEMU's ivshmem-doorbell server protocol (QEMU
 * docs/specs/ivshmem-spec.rst) for a fabric's guest nodes.  The shared
 * memory it hands out is the fabric file; a client's peer id is the node
 * id whose guest entry records the client's pid (SO_PEERCRED), so an
 * unknown or second client is refused at once.  It bridges doorbells
 * between kernels (docs/design.md, "Guest nodes"):
 *   host -> guest: a thread per guest futex-waits on the guest node's
 *     bell and kernel sequences and writes the matching MSI-X eventfd;
 *   guest -> host: a guest rings peer MINT_IVSHMEM_SERVER_PEER, whose
 *     eventfd makes the server drain every guest's wake queue.
 */
#ifndef MINT_IVSHMEM_SERVER_H
#define MINT_IVSHMEM_SERVER_H

#include <stddef.h>

/* The server's socket and pid file for fabric file FILE. */
void ivs_socket_path(const char *file, char *buf, size_t cap);
void ivs_pid_path(const char *file, char *buf, size_t cap);

/* Serve fabric FABRIC until SIGTERM/SIGINT, or until its file is gone and
 * no guest is left.  Writes "ready\n" to READY_FD (if >= 0) once the
 * socket listens.  Returns an exit status; logs to stderr. */
int ivs_serve(const char *fabric, int ready_fd);

#endif
