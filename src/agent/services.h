/* SPDX-License-Identifier: MIT */
/* The services a node agent runs on its channels: echo and control. */
#ifndef MINT_SERVICES_H
#define MINT_SERVICES_H

#include <stdint.h>

#include "mint/mint.h"

struct services;
struct exec_server;

/* EXEC: the exec server that takes "exec.*" channels (NULL: none). */
int services_create(struct mint_fabric *f, struct exec_server *exec, struct services **out);
void services_destroy(struct services *s);

/* The MINT_VEC_CHANNEL handler: drain every channel served by this node. */
void services_on_channel_irq(void *arg, uint32_t vector);

#endif
