/* SPDX-License-Identifier: MIT */
/* libmint: everything in one include. */
#ifndef MINT_MINT_H
#define MINT_MINT_H

#include "mint/layout.h"
#include "mint/fabric.h"
#include "mint/object.h"
#include "mint/node.h"
#include "mint/doorbell.h"
#include "mint/lock.h"
#include "mint/ring.h"
#include "mint/channel.h"
#include "mint/vni.h"
#include "mint/dev.h"
#include "mint/nic.h"
#include "mint/guest.h"
#include "mint/proto.h"
#include "mint/clock.h"
#include "mint/endian.h"
#include "mint/api.h"

MINT_BEGIN_DECLS

#define MINT_VERSION "0.1.0"

/* A short English description of a negative errno returned by libmint. */
const char *mint_strerror(int err);

MINT_END_DECLS

#endif
