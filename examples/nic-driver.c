/* SPDX-License-Identifier: MIT */
/*
 * A user-space driver for mint's emulated NIC: join a fabric as node ID,
 * attach the node's NIC and print every packet its interrupt handler
 * receives, until COUNT packets (0: until SIGINT/SIGTERM).  Drive it with
 * `mint inject ID ...` from another shell.
 *
 *   nic-driver FABRIC ID [COUNT] [poll|sleep]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mint/mint.h>

struct driver {
	struct mint_nic *nic;
	struct mint_dispatcher *disp;
	unsigned long seen, limit;
};

static struct mint_dispatcher *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		mint_dispatcher_stop(running); /* safe from a signal handler */
}

/* Called for each good packet: print its size, VLAN and Ethernet header. */
static int on_packet(void *arg, const struct mint_nic_rx *pkt)
{
	struct driver *drv = arg;
	const unsigned char *b = pkt->data;
	printf("packet %lu: desc %u, %u bytes", drv->seen + 1, pkt->index, pkt->len);
	if (pkt->status & MINT_NIC_STAT_VP)
		printf(", vlan %u", pkt->vlan & 0xfff);
	if (pkt->len >= 14)
		printf(", %02x:%02x:%02x:%02x:%02x:%02x <- %02x:%02x:%02x:%02x:%02x:%02x type %02x%02x",
		       b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		       b[12], b[13]);
	putchar('\n');
	if (++drv->seen == drv->limit)
		mint_dispatcher_stop(drv->disp);
	return 0;
}

/* The interrupt handler: read-to-clear the cause, then drain the ring. */
static void on_nic_irq(void *arg, uint32_t vector)
{
	struct driver *drv = arg;
	(void)vector;
	uint32_t cause = mint_nic_cause(drv->nic);
	if (cause & MINT_NIC_ICR_RXO)
		printf("overrun: the device found no free descriptor\n");
	while (mint_nic_rx(drv->nic, on_packet, drv, 64) > 0)
		;
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: %s FABRIC ID [COUNT] [poll|sleep]\n", argv[0]);
		return 2;
	}
	struct driver drv = {0};
	uint32_t id = (uint32_t)strtoul(argv[2], NULL, 10);
	drv.limit = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	enum mint_dispatch_mode mode =
		argc > 4 && strcmp(argv[4], "poll") == 0 ? MINT_MODE_POLL : MINT_MODE_SLEEP;
	struct mint_fabric *f;
	int rc = mint_fabric_attach(argv[1], &f);
	struct mint_node_opts opts = {.name = "nic-driver", .mode = mode};
	if (rc == 0 && (rc = mint_node_join(f, id, &opts)) == 0 &&
	    (rc = mint_dispatcher_create(f, mode, &drv.disp)) == 0) {
		struct mint_nic_config cfg = {0}; /* defaults: 256 descriptors of 2 KiB */
		rc = mint_nic_attach(f, &cfg, &drv.nic);
	}
	if (rc) {
		fprintf(stderr, "nic-driver: %s\n", mint_strerror(rc));
		return 1;
	}
	mint_dispatcher_set_handler(drv.disp, MINT_VEC_NIC, on_nic_irq, &drv);
	running = drv.disp;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("node %u: NIC up, waiting for packets\n", id);
	fflush(stdout);
	mint_dispatcher_run(drv.disp);
	printf("%lu packets\n", drv.seen);
	mint_nic_detach(drv.nic);
	mint_dispatcher_destroy(drv.disp);
	mint_node_leave(f);
	mint_fabric_detach(f);
	return 0;
}
