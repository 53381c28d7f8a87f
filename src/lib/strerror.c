/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "mint/mint.h"

const char *mint_strerror(int err)
{
	switch (-err) {
	case EPROTO: return "not a mint fabric (or a corrupt one)";
	case EPROTONOSUPPORT: return "fabric layout version not supported by this build";
	case ENODATA: return "fabric file is truncated";
	case EBADMSG: return "corrupt data from a peer (dropped and counted)";
	case EDEADLK: return "lock already held by this caller";
	case ENOTCONN: return "this process has not joined as a node";
	case ENFILE: return "the fabric's object directory is full";
	default: return strerror(-err);
	}
}
