/* SPDX-License-Identifier: MIT */
#include "agent/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mint/layout.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* Offloads: whole TSO segments and partial checksums cross the fabric. */
static int set_offloads(int fd)
{
	int hdr = MINT_VNI_VNET_HDR, le = 1;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) != 0)
		return -errno;
	/* The header crosses the fabric: little-endian, whatever our order. */
	if (ioctl(fd, TUNSETVNETLE, &le) != 0 && errno != EINVAL)
		return -errno;
	unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	/* UDP segmentation offload is newer (Linux 6.2): take it if offered. */
	if (ioctl(fd, TUNSETOFFLOAD, base | TUN_F_USO4 | TUN_F_USO6) == 0 ||
	    ioctl(fd, TUNSETOFFLOAD, base) == 0)
		return 0;
	return -errno;
}

static int ifreq_ioctl(int sock, unsigned long req, struct ifreq *ifr)
{
	return ioctl(sock, req, ifr) == 0 ? 0 : -errno;
}

static int set_up(int sock, struct ifreq *ifr)
{
	int rc = ifreq_ioctl(sock, SIOCGIFFLAGS, ifr);
	if (rc == 0) {
		ifr->ifr_flags |= IFF_UP;
		rc = ifreq_ioctl(sock, SIOCSIFFLAGS, ifr);
	}
	return rc;
}

static void put_in4(struct sockaddr *sa, uint32_t addr_be)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = addr_be};
	memcpy(sa, &sin, sizeof(sin));
}

/* MAC, address, netmask, up: the classic interface ioctls. */
static int configure(const char *name, const uint8_t mac[6], const uint8_t ipv4[4],
		     uint32_t prefix_len, const char **what)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	int rc = ifreq_ioctl(sock, SIOCSIFHWADDR, &ifr);
	*what = "set its MAC";
	uint32_t addr, mask = prefix_len ? htonl(~0u << (32 - prefix_len)) : 0;
	memcpy(&addr, ipv4, 4);
	if (rc == 0) {
		put_in4(&ifr.ifr_addr, addr);
		rc = ifreq_ioctl(sock, SIOCSIFADDR, &ifr);
		*what = "set its address";
	}
	if (rc == 0) {
		put_in4(&ifr.ifr_netmask, mask);
		rc = ifreq_ioctl(sock, SIOCSIFNETMASK, &ifr);
	}
	if (rc == 0) {
		rc = set_up(sock, &ifr);
		*what = "bring it up";
	}
	close(sock);
	return rc;
}

/* Open /dev/net/tun (with OFLAGS besides O_RDWR) as TAP NAME (a name or a
 * pattern like "tap%d": the name the kernel gave is written back) with
 * FLAGS besides IFF_TAP. */
static int tap_create(char name[IFNAMSIZ], short flags, int oflags, int *fd)
{
	int tap = open("/dev/net/tun", O_RDWR | oflags);
	if (tap < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = (short)(IFF_TAP | flags);
	int rc = ifreq_ioctl(tap, TUNSETIFF, &ifr);
	if (rc) {
		close(tap);
		return rc;
	}
	snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
	*fd = tap;
	return 0;
}

int tap_open(const char *name, const uint8_t mac[6], const uint8_t ipv4[4], uint32_t prefix_len,
	     int *fd, const char **what)
{
	char n[IFNAMSIZ];
	snprintf(n, sizeof(n), "%s", name);
	*what = "create the TAP device";
	int tap, rc = tap_create(n, IFF_NO_PI | IFF_VNET_HDR, O_NONBLOCK | O_CLOEXEC, &tap);
	if (rc)
		return rc;
	*what = "set its offloads";
	rc = set_offloads(tap);
	if (rc == 0)
		rc = configure(name, mac, ipv4, prefix_len, what);
	if (rc) {
		close(tap);
		return rc;
	}
	*fd = tap;
	return 0;
}

/* No IPv6 on TAP NAME: none of our router solicitations in the guest. */
static int ipv6_off(const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* a kernel without IPv6 */
	int rc = write(fd, "1", 1) == 1 ? 0 : -errno;
	close(fd);
	return rc;
}

int tap_plain(char name[IFNAMSIZ], int *fd)
{
	int tap, rc = tap_create(name, IFF_NO_PI, O_CLOEXEC, &tap);
	if (rc)
		return rc;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if ((rc = ipv6_off(name)) == 0)
		rc = sock < 0 ? -errno : set_up(sock, &ifr);
	if (sock >= 0)
		close(sock);
	if (rc)
		close(tap);
	*fd = rc ? -1 : tap;
	return rc;
}

int tap_set_carrier(int fd, bool on)
{
	int v = on;
	return ioctl(fd, TUNSETCARRIER, &v) == 0 ? 0 : -errno;
}
