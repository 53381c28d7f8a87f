/* SPDX-License-Identifier: MIT */
/* Ring and descriptor helpers shared by `mint exec` and the exec server. */
#include "common/exec_stream.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "mint/proto.h"
#include "mint/endian.h"

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
	uint32_t wire = mint_le32(v);
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

int exec_forward_fd(struct mint_ring *tx, int fd, uint32_t type, uint8_t *buf,
		    exec_go_on_fn go_on, void *arg)
{
	void *room;
	int rc = mint_ring_reserve(tx, MINT_EXEC_CHUNK, &room);
	if (rc != 0 && rc != -EAGAIN)
		return rc;
	/* An uncommitted reservation is dropped by the next one. */
	ssize_t n = read(fd, rc == 0 ? room : buf, MINT_EXEC_CHUNK);
	if (n <= 0)
		return n == 0 ? 0 : errno == EINTR ? -EAGAIN : -errno;
	if (rc == 0)
		rc = mint_ring_commit(tx, (uint32_t)n, type);
	else
		rc = exec_send(tx, buf, (uint32_t)n, type, go_on, arg);
	return rc < 0 ? rc : (int)n;
}

int exec_peek_wait(struct mint_ring *rx, struct mint_ring *also, const void **payload,
		   uint32_t *type, bool *taken)
{
	*taken = false;
	int n = mint_ring_peek(rx, payload, type);
	if (n != -EAGAIN)
		return n;
	n = mint_ring_wait_either(rx, also, EXEC_POLL_MS);
	if (n < 0)
		return n;
	/* A receive into no room takes an empty record and leaves any other
	 * (-EMSGSIZE) to be peeked at; -EAGAIN: the record is on ALSO. */
	n = mint_ring_recv(rx, NULL, 0, type);
	if (n == -EMSGSIZE)
		return mint_ring_peek(rx, payload, type);
	if (n == 0) {
		*payload = "";
		*taken = true;
	}
	return n == -EAGAIN ? -ETIMEDOUT : n;
}

uint32_t exec_get_u32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return mint_le32(v);
}

void exec_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}
