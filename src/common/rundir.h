/* SPDX-License-Identifier: MIT */
/*
 * A fabric's run directory, /dev/shm/mint-TAG.d (TAG: netns_fabric_tag):
 * its nodes' logs (nodeN.log) and agent markers (nodeN.agent, held open by
 * node N's agent for its life, so that `mint down` can find it on the
 * host), and the stamp "fabric" holding the fabric's path (so a fabric
 * whose derived names are another's is refused its directory).  Owned by
 * the fabric file's owner, mode 0700: no other user can plant a file, a
 * symlink or a FIFO there.
 */
#ifndef MINT_RUNDIR_H
#define MINT_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The run directory of fabric FABRIC (a name or path): 0 or -EINVAL. */
int rundir_path(const char *fabric, char *buf, size_t cap);

/* Open FABRIC's run directory, made (mode 0700, owner OWNER, stamped
 * with the fabric's path) if it is missing and CREATE: a descriptor,
 * -EPERM if what is there is not a directory of OWNER's that only OWNER
 * may enter (a symlink, another's; OWNER (uid_t)-1: any owner will do),
 * -EEXIST if its stamp names another fabric (one whose derived names are
 * the same), -ENOENT if it has no stamp or there is none, or another
 * negative errno. */
int rundir_open(const char *fabric, uid_t owner, bool create);

/* File NAME in the run directory DIR, opened for appending (created mode
 * 0600 if need be): a descriptor or a negative errno.  What is not a plain
 * file of the caller's alone (a symlink, a FIFO, another user's, one with
 * a second link) is replaced, never followed or written. */
int rundir_file(int dir, const char *name);

/* The names of node ID's files in the run directory. */
void rundir_log_name(uint32_t id, char *buf, size_t cap);
void rundir_marker_name(uint32_t id, char *buf, size_t cap);

/* Remove FABRIC's run directory (if its stamp names FABRIC): mint's files
 * in it, then it.  0, -EEXIST when it is another fabric's, -EBUSY when
 * it holds another user's node files (root's, on a user's fabric: they
 * stay for root), or -ENOTEMPTY when files mint did not make (they stay). */
int rundir_remove(const char *fabric);

#endif
