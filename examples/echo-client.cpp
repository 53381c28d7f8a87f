// SPDX-License-Identifier: MIT
// A C++17 program on the fabric: attach to fabric NAME and send one
// request to node ID's echo service through a channel of its own, then
// check the reply.  It shows that the public headers, the shared-memory
// fields (std::atomic there) and the peer protocol records are usable
// from C++ as they are.  Usage: echo-client FABRIC NODE
#include <mint/mint.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

// The request payload of mint/proto.h: u32 sequence number, u64 time,
// then (seq + i) & 0xff.
std::vector<uint8_t> request(uint32_t seq, uint32_t size)
{
	std::vector<uint8_t> buf(size);
	uint32_t seq_le = mint_le32(seq);
	uint64_t t_le = mint_le64(mint_now_ns(CLOCK_MONOTONIC));
	std::memcpy(buf.data(), &seq_le, 4);
	std::memcpy(buf.data() + 4, &t_le, 8);
	for (uint32_t i = 12; i < size; i++)
		buf[i] = static_cast<uint8_t>(seq + i);
	return buf;
}

int fail(const char *what, int rc)
{
	std::fprintf(stderr, "echo-client: %s: %s\n", what, mint_strerror(rc));
	return 1;
}

// One round trip on CH; 0 or a negative errno.
int round_trip(mint_channel &ch)
{
	std::vector<uint8_t> sent = request(7, 64), got(MINT_PING_MAX_SIZE);
	int rc = mint_ring_send_wait(&ch.tx, sent.data(), static_cast<uint32_t>(sent.size()),
				     MINT_PING_REQUEST, 1000);
	if (rc < 0)
		return rc;
	uint32_t type = 0;
	int n = mint_ring_recv_wait(&ch.rx, got.data(), static_cast<uint32_t>(got.size()), &type, 2000);
	if (n < 0)
		return n;
	bool same = type == MINT_PING_REPLY && static_cast<size_t>(n) == sent.size() &&
		    std::memcmp(got.data(), sent.data(), sent.size()) == 0;
	return same ? 0 : -EBADMSG;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: echo-client FABRIC NODE\n");
		return 2;
	}
	uint32_t node = static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10));
	mint_fabric *f = nullptr;
	int rc = mint_fabric_attach(argv[1], &f);
	if (rc < 0)
		return fail("attach", rc);
	std::string name = std::string(MINT_ECHO_PREFIX) + "cxx." + std::to_string(getpid());
	mint_channel ch;
	rc = mint_channel_open(f, name.c_str(), MINT_NODE_NONE, node, MINT_PING_RING_SIZE,
			       MINT_SIDE_A, &ch);
	if (rc >= 0) {
		rc = round_trip(ch);
		mint_channel_remove(f, name.c_str());
	}
	mint_fabric_detach(f);
	if (rc < 0)
		return fail("echo", rc);
	std::printf("node %u echoed a %u-byte request\n", node, 64u);
	return 0;
}
