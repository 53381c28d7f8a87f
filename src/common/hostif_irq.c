/* SPDX-License-Identifier: MIT */
/*
 * The hardware interrupts of a host interface, and pointing them at a
 * node's cores.  Interrupt names in /proc/interrupts are the driver's
 * choice (e1000e: "eth0", ixgbe: "eth0-TxRx-0", virtio-net: "virtio2-
 * input.0"), so the interface's bus device is the surer source: ethtool's
 * bus-info names it, and sysfs lists its MSI vectors and legacy line;
 * names are only the fallback for a bus that is not PCI.  Sysfs is looked up by bus address, not under /sys/class/net, because the
 * interface may live in a node's namespace, which this process's sysfs
 * mount does not show.
 */
#include "common/hostif.h"

#include <dirent.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netns.h"

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

/* Is action name ACT IFNAME, or IFNAME-<queue>? */
static bool names_if(const char *act, const char *ifname)
{
	size_t n = strlen(ifname);
	return strncmp(act, ifname, n) == 0 && (act[n] == '\0' || act[n] == '-');
}

/* Does a /proc/interrupts line's action list (its last field: "eth0", or
 * "eth0, eth1" for a shared line) name IFNAME?  The columns before it
 * (chip, hardware irq, type) are never matched. */
static bool line_names_if(char *line, const char *ifname)
{
	size_t end = strcspn(line, "\n");
	line[end] = '\0';
	for (;;) {
		while (end && line[end - 1] == ' ')
			line[--end] = '\0';
		char *act = strrchr(line, ' ');
		act = act ? act + 1 : line;
		if (names_if(act, ifname))
			return true;
		if (act < line + 2 || act[-2] != ',') /* "a, b": a is an action too */
			return false;
		end = (size_t)(act - line) - 2;
		line[end] = '\0';
	}
}

static void named_irqs(const char *ifname, struct irq_set *s)
{
	FILE *in = fopen("/proc/interrupts", "r");
	char line[1024];
	unsigned irq;
	while (in && fgets(line, sizeof(line), in))
		if (sscanf(line, " %u:", &irq) == 1 && line_names_if(line, ifname))
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
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	struct bus_query q = {.ifname = ifname};
	int rc = hostif_in_ns(ns, read_bus, &q);
	if (rc < 0)
		return rc;
	struct irq_set s = {irqs, 0, cap};
	if (bus_ok(q.bus))
		bus_irqs(q.bus, &s);
	/* A bus device sysfs lists no vectors for (not PCI): by name.  No bus
	 * at all (veth, bridge, tun): virtual, no hardware interrupts, and a
	 * name that happens to prefix another device's ("virtio2") is not
	 * looked for. */
	if (s.n == 0 && q.bus[0])
		named_irqs(ifname, &s);
	qsort(irqs, (size_t)s.n, sizeof(*irqs), cmp_irq);
	return s.n;
}

static bool has_core(const uint64_t cores[MINT_CPU_WORDS], uint32_t c)
{
	return c < MINT_CPU_WORDS * 64 && (cores[c / 64] >> (c % 64) & 1);
}

/* CORES as a cpu list of ranges ("2-5,8"), or "" if it holds none; CAP
 * holds the longest (MINT_CPU_WORDS * 64 cores, every other one). */
static void core_list(const uint64_t cores[MINT_CPU_WORDS], char *list, size_t cap)
{
	size_t len = 0;
	list[0] = '\0';
	for (uint32_t c = 0; c < MINT_CPU_WORDS * 64; c++) {
		if (!has_core(cores, c))
			continue;
		uint32_t last = c;
		while (has_core(cores, last + 1))
			last++;
		len += (size_t)snprintf(list + len, cap - len, last > c ? "%s%u-%u" : "%s%u",
					len ? "," : "", c, last);
		c = last;
	}
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

int hostif_irq_affinity(const char *ifname, const char *ns, const uint64_t cores[MINT_CPU_WORDS],
			struct hostif_irq_result *res)
{
	char list[MINT_CPU_WORDS * 64 * 4 + 1];
	unsigned irqs[256];
	memset(res, 0, sizeof(*res));
	core_list(cores, list, sizeof(list));
	int n = hostif_irqs(ifname, ns, irqs, 256);
	if (n < 0)
		return n;
	res->found = n;
	for (int i = 0; i < n && list[0]; i++) {
		int rc = point_irq(irqs[i], list);
		if (rc == 0)
			res->pointed++;
		else if (!res->error)
			res->error = rc;
	}
	return 0;
}
