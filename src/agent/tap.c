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
	if (rc == 0 && (rc = ifreq_ioctl(sock, SIOCGIFFLAGS, &ifr)) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ifreq_ioctl(sock, SIOCSIFFLAGS, &ifr);
		*what = "bring it up";
	}
	close(sock);
	return rc;
}

int tap_open(const char *name, const uint8_t mac[6], const uint8_t ipv4[4], uint32_t prefix_len,
	     int *fd, const char **what)
{
	*what = "open /dev/net/tun";
	int tap = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	*what = "create the TAP device";
	int rc = ifreq_ioctl(tap, TUNSETIFF, &ifr);
	if (rc == 0) {
		*what = "set its offloads";
		rc = set_offloads(tap);
	}
	if (rc == 0)
		rc = configure(name, mac, ipv4, prefix_len, what);
	if (rc) {
		close(tap);
		return rc;
	}
	*fd = tap;
	return 0;
}

int tap_set_carrier(int fd, bool on)
{
	int v = on;
	return ioctl(fd, TUNSETCARRIER, &v) == 0 ? 0 : -errno;
}
