/* SPDX-License-Identifier: MIT */
/*
 * The emulated NIC's driver in a node agent: the MINT_VEC_NIC handler, run
 * by the node's dispatcher, reads the cause, consumes the descriptors whose
 * DD is set and writes each packet into nic0 (the kernel's receive path,
 * the seed's socket buffer), then gives the descriptors back.
 */
#include "agent/nic_port.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent/tap.h"

#define RX_BUDGET 256u
#define RX_PASSES 16

/* The TAP takes a virtio-net header first: all zero, so the kernel
 * verifies the checksums itself, as it would for a NIC without offloads. */
static int write_to_kernel(void *arg, const struct mint_nic_rx *pkt)
{
	struct nic_port *p = arg;
	uint8_t vnet[MINT_VNI_VNET_HDR] = {0};
	struct iovec iov[2] = {{vnet, sizeof(vnet)}, {(void *)pkt->data, pkt->len}};
	ssize_t n = writev(p->tap, iov, 2);
	return n == (ssize_t)(sizeof(vnet) + pkt->len) ? 0 : -1;
}

/* MINT_VEC_NIC: read-to-clear the cause, then drain while DD is set.  Like
 * NAPI, at most RX_PASSES full budgets per interrupt: under a flood the
 * vector is raised again so other vectors still run. */
static void on_nic_irq(void *arg, uint32_t vector)
{
	struct nic_port *p = arg;
	mint_nic_cause(p->nic);
	for (int pass = 0; pass < RX_PASSES; pass++)
		if (mint_nic_rx(p->nic, write_to_kernel, p, RX_BUDGET) < (int)RX_BUDGET)
			return;
	mint_ipi_send(p->f, mint_fabric_self(p->f), vector);
}

int nic_port_start(struct nic_port *p, struct mint_fabric *f, struct mint_dispatcher *d,
		   const uint8_t ipv4[4], uint32_t prefix_len, uint64_t itr_ns, const char **what)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->tap = -1;
	struct mint_nic_config cfg = {.prefix_len = prefix_len, .itr_ns = itr_ns};
	const uint8_t mac[6] = {0x02, 0x6e, 0, 0, 0, (uint8_t)mint_fabric_self(f)};
	memcpy(cfg.mac, mac, sizeof(mac));
	memcpy(cfg.ipv4, ipv4, 4);
	int rc = tap_open(NIC_TAP_NAME, mac, ipv4, prefix_len, &p->tap, what);
	if (rc == 0) {
		*what = "attach its NIC";
		rc = mint_nic_attach(f, &cfg, &p->nic);
	}
	/* The dispatcher thread starts after this: no interrupt is lost. */
	if (rc == 0)
		mint_dispatcher_set_handler(d, MINT_VEC_NIC, on_nic_irq, p);
	else
		nic_port_stop(p);
	return rc;
}

void nic_port_stop(struct nic_port *p)
{
	mint_nic_detach(p->nic);
	p->nic = NULL;
	if (p->tap >= 0)
		close(p->tap);
	p->tap = -1;
}
