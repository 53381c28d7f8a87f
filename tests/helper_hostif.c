/* SPDX-License-Identifier: MIT */
/*
 * t_dev's window on the tool's host-interface code (src/common/hostif*.c),
 * for what no veth can show: hardware interrupts.
 *   helper_hostif irqs IFNAME          print IFNAME's interrupts, one line
 *   helper_hostif point IFNAME CORE... point them at the CORES; print how
 *                                      many were pointed (exit 1 if one
 *                                      could not be)
 * Exit 0, 1 on an error (said on stderr), 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hostif.h"
#include "mint/mint.h"

static int usage(void)
{
	fprintf(stderr, "usage: helper_hostif irqs IFNAME | point IFNAME CORE...\n");
	return 2;
}

static int irqs(const char *ifname)
{
	unsigned list[256];
	int n = hostif_irqs(ifname, NULL, list, 256);
	if (n < 0) {
		fprintf(stderr, "helper_hostif: %s: %s\n", ifname, mint_strerror(n));
		return 1;
	}
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? " " : "", list[i]);
	printf("\n");
	return 0;
}

static int point(const char *ifname, int ncores, char **cores)
{
	uint64_t set[MINT_CPU_WORDS] = {0};
	for (int i = 0; i < ncores; i++) {
		char *end;
		unsigned long c = strtoul(cores[i], &end, 10);
		if (*end || end == cores[i] || c >= MINT_CPU_WORDS * 64)
			return usage();
		set[c / 64] |= 1ull << (c % 64);
	}
	struct hostif_irq_result r;
	int rc = hostif_irq_affinity(ifname, NULL, set, &r);
	if (rc < 0 || r.error) {
		fprintf(stderr, "helper_hostif: %s: %s\n", ifname, mint_strerror(rc < 0 ? rc : r.error));
		return 1;
	}
	printf("%d\n", r.pointed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "irqs"))
		return irqs(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "point"))
		return point(argv[2], argc - 3, argv + 3);
	return usage();
}
