/* SPDX-License-Identifier: MIT */
/*
 * Host interfaces handed between namespaces, through rtnetlink: a link
 * moved with RTM_NEWLINK + IFLA_NET_NS_FD loses its addresses and comes
 * down in its new namespace, so its IPv4 addresses and up state are read
 * first and put back after.
 */
#include "common/hostif.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/netns.h"

#define MAX_ADDRS 8
#define NL_BUF 16384

struct addr4 {
	uint8_t prefix;
	uint8_t ip[4];
};

struct nl_req {
	struct nlmsghdr nh;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
	};
	char attrs[64];
};

static int nl_open(uint32_t groups)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (groups ? SOCK_NONBLOCK : 0),
			NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static void add_attr(struct nl_req *r, uint16_t type, const void *data, uint16_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void init_req(struct nl_req *r, uint16_t type, uint16_t flags, size_t body)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = (uint32_t)NLMSG_LENGTH(body);
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	r->nh.nlmsg_seq = 1;
}

/* Send R and wait for its acknowledgement: 0 or the kernel's -errno. */
static int nl_call(struct nl_req *r)
{
	int fd = nl_open(0);
	if (fd < 0)
		return fd;
	r->nh.nlmsg_flags |= NLM_F_ACK;
	int rc = -EIO;
	char buf[1024];
	if (send(fd, r, r->nh.nlmsg_len, 0) < 0) {
		rc = -errno;
	} else {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;
		if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) && nh->nlmsg_type == NLMSG_ERROR)
			rc = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
	}
	close(fd);
	return rc;
}

/* The address of RTM_NEWADDR message NH (its IFA_LOCAL, else its
 * IFA_ADDRESS) into *OUT: 1, or 0 if it has none. */
static int addr_of(struct nlmsghdr *nh, struct addr4 *out)
{
	struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	int alen = (int)IFA_PAYLOAD(nh), found = 0;
	for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if ((a->rta_type != IFA_LOCAL && a->rta_type != IFA_ADDRESS) || RTA_PAYLOAD(a) < 4)
			continue;
		out->prefix = ifa->ifa_prefixlen;
		memcpy(out->ip, RTA_DATA(a), 4);
		found = 1;
		if (a->rta_type == IFA_LOCAL)
			break;
	}
	return found;
}

/* IFINDEX's IPv4 addresses, from an RTM_GETADDR dump: how many, or -errno. */
static int read_addrs(int ifindex, struct addr4 *out, int cap)
{
	int fd = nl_open(0);
	if (fd < 0)
		return fd;
	struct nl_req r;
	init_req(&r, RTM_GETADDR, NLM_F_DUMP, sizeof(struct ifaddrmsg));
	r.ifa.ifa_family = AF_INET;
	int n = 0, rc = send(fd, &r, r.nh.nlmsg_len, 0) < 0 ? -errno : 0;
	char *buf = malloc(NL_BUF);
	for (bool done = false; rc == 0 && buf && !done;) {
		ssize_t len = recv(fd, buf, NL_BUF, 0);
		if (len < 0) {
			rc = -errno;
			break;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			struct ifaddrmsg *ifa = NLMSG_DATA(nh);
			if (nh->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != ifindex || n >= cap)
				continue;
			n += addr_of(nh, &out[n]);
		}
	}
	free(buf);
	close(fd);
	return rc < 0 ? rc : buf ? n : -ENOMEM;
}

static int add_addr(int ifindex, const struct addr4 *a)
{
	struct nl_req r;
	init_req(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
	r.ifa.ifa_family = AF_INET;
	r.ifa.ifa_prefixlen = a->prefix;
	r.ifa.ifa_index = (uint32_t)ifindex;
	add_attr(&r, IFA_LOCAL, a->ip, 4);
	add_attr(&r, IFA_ADDRESS, a->ip, 4);
	return nl_call(&r);
}

static int link_change(int ifindex, uint32_t set_flags, int ns_fd)
{
	struct nl_req r;
	init_req(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_index = ifindex;
	if (ns_fd >= 0) {
		uint32_t fd = (uint32_t)ns_fd;
		add_attr(&r, IFLA_NET_NS_FD, &fd, sizeof(fd));
	} else {
		r.ifi.ifi_flags = set_flags;
		r.ifi.ifi_change = IFF_UP;
	}
	return nl_call(&r);
}

static int if_flags(const char *ifname, short *flags)
{
	struct ifreq ifr = {0};
	int rc = netif_ioctl(ifname, SIOCGIFFLAGS, &ifr);
	*flags = ifr.ifr_flags;
	return rc;
}

/* An fd of namespace NS as `ip netns` names it (NULL: HOME, duplicated).
 * Node records in the fabric carry such names, and a peer may have
 * written "../..": netns_open refuses what is no name of ours. */
static int ns_fd(const char *ns, int home)
{
	if (ns)
		return netns_open(ns);
	int fd = fcntl(home, F_DUPFD_CLOEXEC, 0);
	return fd >= 0 ? fd : -errno;
}

static int enter_ns(const char *ns, int home)
{
	if (ns)
		return netns_join(ns);
	return setns(home, CLONE_NEWNET) == 0 ? 0 : -errno;
}

struct saved {
	int ifindex;
	short flags;
	int naddrs;
	struct addr4 addrs[MAX_ADDRS];
};

/* In the interface's namespace: read what the move loses, then move it. */
static int take_out(const char *ifname, const char *to, int home, struct saved *s,
		    const char **what)
{
	*what = "find the interface";
	s->ifindex = (int)if_nametoindex(ifname);
	if (!s->ifindex)
		return -ENODEV;
	int rc = if_flags(ifname, &s->flags);
	if (rc == 0)
		rc = s->naddrs = read_addrs(s->ifindex, s->addrs, MAX_ADDRS);
	if (rc < 0)
		return rc;
	*what = "open the target namespace";
	int fd = ns_fd(to, home);
	if (fd < 0)
		return fd;
	*what = "move the interface (RTM_NEWLINK)";
	rc = link_change(s->ifindex, 0, fd);
	close(fd);
	return rc;
}

/* In the new namespace: put the addresses and the up state back. */
static int put_back(const char *ifname, const struct saved *s, uint32_t *ifindex, bool *up,
		    const char **what)
{
	*what = "find the moved interface";
	int idx = (int)if_nametoindex(ifname);
	if (!idx)
		return -ENODEV;
	*ifindex = (uint32_t)idx;
	*what = "restore its addresses";
	for (int i = 0; i < s->naddrs; i++) {
		int rc = add_addr(idx, &s->addrs[i]);
		if (rc < 0 && rc != -EEXIST)
			return rc;
	}
	*what = "bring it up";
	int rc = (s->flags & IFF_UP) ? link_change(idx, IFF_UP, -1) : 0;
	short flags = 0;
	if (rc == 0)
		rc = if_flags(ifname, &flags);
	*up = (flags & IFF_RUNNING) != 0;
	return rc;
}

int hostif_move(const char *ifname, const char *from, const char *to, uint32_t *ifindex,
		bool *up, const char **what)
{
	*what = "open this process's namespace";
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return -errno;
	struct saved s;
	memset(&s, 0, sizeof(s));
	*what = "enter the interface's namespace";
	int rc = enter_ns(from, home);
	if (rc == 0)
		rc = take_out(ifname, to, home, &s, what);
	if (rc == 0) {
		*what = "enter the target namespace";
		rc = enter_ns(to, home);
	}
	if (rc == 0)
		rc = put_back(ifname, &s, ifindex, up, what);
	if (setns(home, CLONE_NEWNET) != 0 && rc == 0) {
		*what = "return to this process's namespace";
		rc = -errno;
	}
	close(home);
	return rc;
}

int hostif_in_ns(const char *ns, int (*fn)(void *arg), void *arg)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return -errno;
	int rc = enter_ns(ns, home);
	if (rc == 0)
		rc = fn(arg);
	if (setns(home, CLONE_NEWNET) != 0 && rc >= 0)
		rc = -errno;
	close(home);
	return rc;
}

static int exists_here(void *ifname) { return if_nametoindex(ifname) ? 0 : -ENODEV; }

int hostif_exists(const char *ifname, const char *ns)
{
	return hostif_in_ns(ns, exists_here, (void *)ifname);
}

int hostif_watch_open(void) { return nl_open(RTMGRP_LINK); }

int hostif_watch_read(int fd, hostif_link_fn fn, void *arg)
{
	char buf[8192];
	ssize_t len = recv(fd, buf, sizeof(buf), 0);
	if (len < 0)
		return errno == EAGAIN ? 0 : -errno;
	int n = 0;
	for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
	     nh = NLMSG_NEXT(nh, len)) {
		if (nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK)
			continue;
		struct ifinfomsg *ifi = NLMSG_DATA(nh);
		fn(arg, (uint32_t)ifi->ifi_index,
		   nh->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_RUNNING));
		n++;
	}
	return n;
}
