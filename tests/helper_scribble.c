/* SPDX-License-Identifier: MIT */
/*
 * t_hostile's hostile peer: writes into a fabric file as a buggy or
 * malicious node would, with pwrite (no mapping: a truncated file is no
 * fault here).
 *   helper_scribble FILE random OFF LEN COUNT MS [SEED]
 *       COUNT writes of 1, 2, 4 or 8 random bytes at random places in
 *       [OFF, OFF+LEN), spread over MS milliseconds
 *   helper_scribble FILE put OFF SIZE VALUE [OFF SIZE VALUE]...
 *       VALUE (a number) as a SIZE-byte (1, 2, 4, 8) little-endian word;
 *       several writes in order (one process: t_cli fills a directory)
 *   helper_scribble FILE get OFF SIZE
 *       print the SIZE-byte little-endian word at OFF
 * Exit 0, 1 on an error (said on stderr), 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: helper_scribble FILE random OFF LEN COUNT MS [SEED]"
			" | put OFF SIZE VALUE... | get OFF SIZE\n");
	return 2;
}

/* A number argument, or exit 2. */
static uint64_t num(const char *s)
{
	char *end;
	errno = 0;
	uint64_t v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "helper_scribble: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static uint64_t rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static int scribble(int fd, uint64_t off, uint64_t len, uint64_t count, uint64_t ms,
		    uint64_t seed)
{
	struct timespec gap = {(time_t)(ms / count / 1000), (long)(ms * 1000000ull / count % 1000000000ull)};
	for (uint64_t i = 0; i < count; i++) {
		uint64_t bytes = rnd(&seed), n = 1u << (rnd(&seed) % 4);
		if (len < n)
			n = len;
		uint64_t at = off + rnd(&seed) % (len - n + 1);
		if (pwrite(fd, &bytes, n, (off_t)at) != (ssize_t)n) {
			perror("helper_scribble: pwrite");
			return 1;
		}
		nanosleep(&gap, NULL);
	}
	return 0;
}

/* A word size argument (1, 2, 4 or 8), or exit 2. */
static unsigned word_size(const char *s)
{
	uint64_t size = num(s);
	if (size == 0 || size > 8 || (size & (size - 1)))
		exit(usage());
	return (unsigned)size;
}

/* The writes of ARGS (N triples OFF SIZE VALUE), in order, each as a
 * little-endian word whatever the host's order: 0, or 1 (said). */
static int put(int fd, char **args, int n)
{
	for (int i = 0; i < n; i++, args += 3) {
		unsigned size = word_size(args[1]);
		uint64_t v = num(args[2]);
		uint8_t b[8];
		for (unsigned k = 0; k < size; k++)
			b[k] = (uint8_t)(v >> (8 * k));
		if (pwrite(fd, b, size, (off_t)num(args[0])) != (ssize_t)size)
			return perror("pwrite"), 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 5)
		return usage();
	int fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	const char *op = argv[2];
	uint64_t off = num(argv[3]), size = num(argv[4]);
	if (strcmp(op, "random") == 0 && (argc == 7 || argc == 8) && size > 0 && num(argv[5]) > 0)
		return scribble(fd, off, size, num(argv[5]), num(argv[6]),
				argc == 8 ? num(argv[7]) | 1 : (uint64_t)time(NULL) | 1);
	if (strcmp(op, "put") == 0 && (argc - 3) % 3 == 0)
		return put(fd, argv + 3, (argc - 3) / 3);
	size = word_size(argv[4]);
	uint8_t b[8] = {0};
	if (strcmp(op, "get") == 0 && argc == 5) {
		if (pread(fd, b, size, (off_t)off) != (ssize_t)size)
			return perror("pread"), 1;
		uint64_t v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= (uint64_t)b[i] << (8 * i);
		printf("%llu\n", (unsigned long long)v);
		return 0;
	}
	return usage();
}
