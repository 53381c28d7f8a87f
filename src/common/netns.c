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
/* Which fabric made each namespace: a file per name holding the fabric's
 * path, writable by root only (only root makes namespaces). */
#define CLAIM_DIR_PARENT "/run/mint"
#define CLAIM_DIR CLAIM_DIR_PARENT "/netns"

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

int netns_join(const char *name) { return enter_fd(netns_open(name)); }

/* Remove the namespace file PATH (its namespace ends with its last user). */
static int drop_ns(const char *path)
{
	umount2(path, MNT_DETACH);
	return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
}

/* NAME's claim file, once NAME passed netns_name_ok. */
static int claim_path(const char *name, char *path, size_t cap)
{
	if (!netns_name_ok(name))
		return -EINVAL;
	snprintf(path, cap, CLAIM_DIR "/%s", name);
	return 0;
}

/* DIR exists as a directory of ours that only we may write. */
static int own_dir(const char *dir)
{
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	struct stat st;
	if (lstat(dir, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) && st.st_uid == geteuid() && !(st.st_mode & 022) ? 0 : -EPERM;
}

int netns_owner(const char *name, char *fabric, size_t cap)
{
	char path[128];
	int rc = claim_path(name, path, sizeof(path));
	if (rc)
		return rc;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, fabric, cap - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	fabric[n] = '\0';
	fabric[strcspn(fabric, "\n")] = '\0';
	return 0;
}

bool netns_exists(const char *name)
{
	char path[128];
	return ns_path(name, path, sizeof(path)) == 0 && access(path, F_OK) == 0;
}

int netns_check_owner(const char *name, const char *fabric, char *owner, size_t cap)
{
	int rc = netns_owner(name, owner, cap);
	if (rc == -ENOENT)
		return netns_exists(name) ? -ENOENT : 0; /* no claim: nobody's, or not ours */
	if (rc)
		return rc;
	/* A claim whose namespace is gone binds nobody. */
	return strcmp(owner, fabric) == 0 || !netns_exists(name) ? 0 : -EEXIST;
}

/* Record FABRIC as the maker of namespace NAME, unless another fabric's
 * namespace has that name (-EEXIST, or -ENOENT for one of no fabric). */
static int claim(const char *name, const char *fabric)
{
	char path[128], tmp[160], owner[256];
	int rc = netns_check_owner(name, fabric, owner, sizeof(owner));
	if (rc == 0 && (rc = own_dir(CLAIM_DIR_PARENT)) == 0)
		rc = own_dir(CLAIM_DIR);
	if (rc == 0)
		rc = claim_path(name, path, sizeof(path));
	if (rc)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t len = strlen(fabric);
	rc = write(fd, fabric, len) == (ssize_t)len ? 0 : -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

int netns_enter(const char *name, const char *fabric, const char **what)
{
	char path[128];
	*what = "name the network namespace";
	int rc = ns_path(name, path, sizeof(path));
	if (rc)
		return rc;
	*what = "claim network namespace";
	if ((rc = claim(name, fabric)) != 0)
		return rc;
	*what = "create network namespace";
	if ((rc = prepare_dir()) != 0)
		return rc;
	rc = enter_fd(netns_open(name));
	if (rc == 0 || rc == -EPERM)
		return rc;
	/* A left-over file that is no namespace any more: start afresh. */
	if (rc != -ENOENT)
		drop_ns(path);
	return create_and_enter(path, what);
}

int netns_remove(const char *name)
{
	char path[128], claimed[128];
	int rc = ns_path(name, path, sizeof(path));
	if (rc == 0)
		rc = drop_ns(path);
	if (rc == 0 && claim_path(name, claimed, sizeof(claimed)) == 0)
		unlink(claimed);
	return rc;
}

/* A short hash of a fabric's full path: names cut to fit stay distinct. */
static uint32_t path_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int netns_fabric_tag(const char *fabric, char *buf, size_t cap)
{
	char path[256];
	int rc = mint_fabric_path(fabric, path, sizeof(path));
	if (rc)
		return rc;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	bool shm = strncmp(path, "/dev/shm/mint-", 14) == 0 && base == path + 9;
	if (strncmp(base, "mint-", 5) == 0)
		base += 5;
	/* A fabric of /dev/shm under a short name keeps it; any other has
	 * its name cut and the hash of its whole path added. */
	if (shm && strlen(base) <= NETNS_TAG_PLAIN_MAX)
		snprintf(buf, cap, "%s", base);
	else
		snprintf(buf, cap, "%.*s-%08x", NETNS_TAG_CUT, base, (unsigned)path_hash(path));
	return 0;
}

void netns_node_name_for(const char *fabric, uint32_t id, char *buf, size_t cap)
{
	char tag[NETNS_TAG_MAX];
	if (netns_fabric_tag(fabric, tag, sizeof(tag)) == 0)
		snprintf(buf, cap, "mint-%s-%u", tag, id);
	else if (cap)
		buf[0] = '\0'; /* no fabric of that name: a name netns_name_ok refuses */
}

void netns_node_name(struct mint_fabric *f, uint32_t id, char *buf, size_t cap)
{
	netns_node_name_for(mint_fabric_file(f), id, buf, cap);
}

bool netns_node_ours(struct mint_fabric *f, uint32_t id, const char *name)
{
	char expected[MINT_NAME_MAX];
	netns_node_name(f, id, expected, sizeof(expected));
	return name[0] && strcmp(name, expected) == 0;
}
