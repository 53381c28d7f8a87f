/* SPDX-License-Identifier: MIT */
/*
 * The hardware interrupts of a host interface, and pointing them at a
 * node's cores.  Interrupt names in /proc/interrupts are the driver's
 * choice (e1000e: "eth0", ixgbe: "eth0-TxRx-0", virtio-net: "virtio2-
 * input.0"), so the interface's bus device is the surer source: ethtool's
 * bus-info names it, and sysfs lists its MSI vectors and legacy line.
 * Sysfs is looked up by bus address, not under /sys/class/net, because the
 * interface may live in a node's namespace, which this process's sysfs
 * mount does not show.
 */
#include "hostif.h"

#include <dirent.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"

struct irq_set {
	unsigned *irqs;
	int n, cap;
};

static void add_irq(struct irq_set *s, unsigned irq)
{
	for (int i = 0; i < s->n; i++)
		if (s->irqs[i] == irq)
			return;
	if (s->n < s->cap)
		s->irqs[s->n++] = irq;
}

struct bus_query {
	const char *ifname;
	char bus[ETHTOOL_BUSINFO_LEN];
};

/* In the interface's namespace: its bus-info ("" if the driver has none). */
static int read_bus(void *arg)
{
	struct bus_query *q = arg;
	struct ethtool_drvinfo info = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&info;
	int rc = netif_ioctl(q->ifname, SIOCETHTOOL, &ifr);
	if (rc == -EOPNOTSUPP || rc == -EINVAL) /* no ethtool driver info: no bus */
		return 0;
	if (rc == 0)
		memcpy(q->bus, info.bus_info, sizeof(q->bus) - 1);
	return rc;
}

/* A bus address may only name a directory of /sys/bus/pci/devices. */
static bool bus_ok(const char *bus)
{
	return bus[0] && bus[0] != '.' && !strchr(bus, '/');
}

/* The PCI device's MSI/MSI-X vectors, or its legacy line without them. */
static void bus_irqs(const char *bus, struct irq_set *s)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/msi_irqs", bus);
	DIR *d = opendir(path);
	int before = s->n;
	for (struct dirent *e; d && (e = readdir(d));) {
		char *end;
		unsigned long irq = strtoul(e->d_name, &end, 10);
		if (e->d_name[0] != '.' && !*end)
			add_irq(s, (unsigned)irq);
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/irq", bus);
	FILE *f = s->n == before ? fopen(path, "r") : NULL;
	unsigned irq;
	if (f && fscanf(f, "%u", &irq) == 1 && irq)
		add_irq(s, irq);
	if (f)
		fclose(f);
}

/* Does a /proc/interrupts line's device column name IFNAME (exactly, or
 * as IFNAME-<queue>)? */
static bool names_if(const char *line, const char *ifname)
{
	size_t n = strlen(ifname);
	for (const char *p = strstr(line, ifname); p; p = strstr(p + 1, ifname))
		if ((p == line || p[-1] == ' ') && (p[n] == '\n' || p[n] == '-' || p[n] == '\0'))
			return true;
	return false;
}

static void named_irqs(const char *ifname, struct irq_set *s)
{
	FILE *in = fopen("/proc/interrupts", "r");
	char line[1024];
	unsigned irq;
	while (in && fgets(line, sizeof(line), in))
		if (sscanf(line, " %u:", &irq) == 1 && names_if(line, ifname))
			add_irq(s, irq);
	if (in)
		fclose(in);
}

static int cmp_irq(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

int hostif_irqs(const char *ifname, const char *ns, unsigned *irqs, int cap)
{
	struct bus_query q = {.ifname = ifname};
	int rc = hostif_in_ns(ns, read_bus, &q);
	if (rc < 0)
		return rc;
	struct irq_set s = {irqs, 0, cap};
	if (bus_ok(q.bus))
		bus_irqs(q.bus, &s);
	named_irqs(ifname, &s);
	qsort(irqs, (size_t)s.n, sizeof(*irqs), cmp_irq);
	return s.n;
}

/* CORES as a cpu list ("2,3"), or "" if it holds none. */
static void core_list(const uint64_t cores[MINT_CPU_WORDS], char *list, size_t cap)
{
	size_t len = 0;
	list[0] = '\0';
	for (uint32_t c = 0; c < MINT_CPU_WORDS * 64 && len + 8 < cap; c++)
		if (cores[c / 64] >> (c % 64) & 1)
			len += (size_t)snprintf(list + len, cap - len, "%s%u", len ? "," : "", c);
}

static int point_irq(unsigned irq, const char *list)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/irq/%u/smp_affinity_list", irq);
	FILE *out = fopen(path, "w");
	if (!out)
		return -errno;
	errno = 0;
	bool put = fputs(list, out) >= 0;
	/* fclose flushes, and the kernel checks the list then: its error counts */
	if (fclose(out) == 0 && put)
		return 0;
	return errno ? -errno : -EIO;
}

int hostif_irq_affinity(const char *ifname, const char *ns, const uint64_t cores[MINT_CPU_WORDS])
{
	char list[256];
	unsigned irqs[256];
	core_list(cores, list, sizeof(list));
	int n = hostif_irqs(ifname, ns, irqs, 256);
	if (n <= 0 || !list[0])
		return n < 0 ? n : 0;
	for (int i = 0; i < n; i++) {
		int rc = point_irq(irqs[i], list);
		if (rc < 0)
			return rc;
	}
	return n;
}
