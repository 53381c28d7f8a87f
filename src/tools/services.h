/* SPDX-License-Identifier: MIT */
/* The services a node agent runs on its channels: echo and control. */
#ifndef MINT_SERVICES_H
#define MINT_SERVICES_H

#include <stdint.h>

#include "mint/mint.h"

struct services;

int services_create(struct mint_fabric *f, struct services **out);
void services_destroy(struct services *s);

/* The MINT_VEC_CHANNEL handler: drain every channel served by this node. */
void services_on_channel_irq(void *arg, uint32_t vector);

#endif
