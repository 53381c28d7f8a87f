/* SPDX-License-Identifier: MIT */
/* Ring and descriptor helpers shared by `mint exec` and the exec server. */
#include "exec_stream.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "le.h"

int exec_send(struct mint_ring *tx, const void *data, uint32_t len, uint32_t type,
	      exec_go_on_fn go_on, void *arg)
{
	for (;;) {
		int rc = mint_ring_send_wait(tx, data, len, type, EXEC_POLL_MS);
		if (rc != -ETIMEDOUT && rc != -EINTR)
			return rc;
		if (!go_on(arg))
			return -ECANCELED;
	}
}

int exec_send_u32(struct mint_ring *tx, uint32_t v, uint32_t type, exec_go_on_fn go_on, void *arg)
{
	uint32_t wire = le32(v);
	return exec_send(tx, &wire, sizeof(wire), type, go_on, arg);
}

int exec_write_all(int fd, const void *buf, size_t len, exec_go_on_fn go_on, void *arg)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (!go_on(arg))
			return -ECANCELED;
		struct pollfd pfd = {fd, POLLOUT, 0};
		poll(&pfd, 1, EXEC_POLL_MS);
	}
	return 0;
}

uint32_t exec_get_u32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return le32(v);
}
