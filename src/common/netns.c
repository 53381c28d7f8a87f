/* SPDX-License-Identifier: MIT */
#include "common/netns.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NETNS_DIR "/run/netns"

/* Like `ip netns add`: /run/netns must be a shared mount so the name
 * bind mounts made here are seen in every mount namespace. */
static int prepare_dir(void)
{
	if (mkdir("/run", 0755) && errno != EEXIST)
		return -errno;
	if (mkdir(NETNS_DIR, 0755) && errno != EEXIST)
		return -errno;
	if (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	if (mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC, NULL) != 0)
		return -errno;
	return mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0 ? 0 : -errno;
}

int netif_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	int rc = ioctl(s, req, ifr) == 0 ? 0 : -errno;
	close(s);
	return rc;
}

static int loopback_up(void)
{
	struct ifreq ifr = {0};
	int rc = netif_ioctl("lo", SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = netif_ioctl("lo", SIOCSIFFLAGS, &ifr);
	}
	return rc;
}

/* Enter namespace FD (or pass on FD's error) and close it. */
static int enter_fd(int fd)
{
	if (fd < 0)
		return fd;
	int rc = setns(fd, CLONE_NEWNET) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

static int create_and_enter(const char *path, const char **what)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	int rc = 0;
	if (unshare(CLONE_NEWNET) != 0 ||
	    mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) != 0)
		rc = -errno;
	if (rc == 0 && (rc = loopback_up()) != 0) {
		*what = "bring up loopback in network namespace";
		umount2(path, MNT_DETACH);
	}
	if (rc)
		unlink(path);
	return rc;
}

bool netns_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n >= 64 || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return false;
	return true;
}

/* NAME's file under /run/netns, once NAME passed netns_name_ok. */
static int ns_path(const char *name, char *path, size_t cap)
{
	if (!netns_name_ok(name))
		return -EINVAL;
	snprintf(path, cap, NETNS_DIR "/%s", name);
	return 0;
}

int netns_open(const char *name)
{
	char path[128];
	int rc = ns_path(name, path, sizeof(path));
	if (rc)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

int netns_enter(const char *name, const char **what)
{
	char path[128];
	*what = "name the network namespace";
	int rc = ns_path(name, path, sizeof(path));
	if (rc)
		return rc;
	*what = "create network namespace";
	if ((rc = prepare_dir()) != 0)
		return rc;
	rc = enter_fd(netns_open(name));
	if (rc == 0 || rc == -EPERM)
		return rc;
	/* A left-over file that is no namespace any more: start afresh. */
	if (rc != -ENOENT)
		netns_remove(name);
	return create_and_enter(path, what);
}

int netns_join(const char *name) { return enter_fd(netns_open(name)); }

int netns_remove(const char *name)
{
	char path[128];
	int rc = ns_path(name, path, sizeof(path));
	if (rc)
		return rc;
	umount2(path, MNT_DETACH);
	return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
}

void netns_node_name(struct mint_fabric *f, uint32_t id, char *buf, size_t cap)
{
	char fab[MINT_NAME_MAX];
	memcpy(fab, mint_fabric_hdr(f)->name, sizeof(fab));
	fab[sizeof(fab) - 1] = '\0';
	netns_node_name_for(fab, id, buf, cap);
}

bool netns_node_ours(struct mint_fabric *f, uint32_t id, const char *name)
{
	char expected[MINT_NAME_MAX + 16];
	netns_node_name(f, id, expected, sizeof(expected));
	return name[0] && strcmp(name, expected) == 0;
}

void netns_node_name_for(const char *fabric, uint32_t id, char *buf, size_t cap)
{
	const char *slash = strrchr(fabric, '/');
	const char *base = slash ? slash + 1 : fabric;
	if (strncmp(base, "mint-", 5) == 0)
		base += 5;
	snprintf(buf, cap, "mint-%.20s-%u", base, id);
}
