/* SPDX-License-Identifier: MIT */
/* Parsing and printing helpers of the mint command. */
#include "cli/cli.h"
#include "mint/endian.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void vsay(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("mint: ", fmt, ap);
	va_end(ap);
}

void cli_obj_err(const struct cli *c, const char *what, int rc)
{
	if (rc == -ENFILE)
		cli_err("fabric %s: directory full (%u entries, none of a dead process)", c->fabric,
			MINT_MAX_OBJECTS);
	else
		cli_err("%s: %s", what, mint_strerror(rc));
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("mint: warning: ", fmt, ap);
	va_end(ap);
}

int cli_common_opt(struct cli *c, int opt, const char *usage)
{
	switch (opt) {
	case 'F':
		c->fabric = optarg;
		return -1;
	case 'j':
		c->json = true;
		return -1;
	case 'h':
		fputs(usage, stdout);
		return 0;
	default: /* getopt said what was wrong; add the synopsis line */
		fprintf(stderr, "%.*s", (int)(strchr(usage, '\n') - usage + 1), usage);
		return EXIT_USAGE;
	}
}

int cli_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (shift) {
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
	}
	if (*end || v > (~0ull >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

int cli_parse_cores(const char *s, uint64_t cores[MINT_CPU_WORDS])
{
	memset(cores, 0, MINT_CPU_WORDS * sizeof(uint64_t));
	const uint32_t max = MINT_CPU_WORDS * 64 - 1;
	while (s && *s) {
		char *end;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -EINVAL;
			hi = strtoul(end + 1, &end, 10);
		}
		if (lo > hi || hi > max)
			return -ERANGE;
		for (unsigned long c = lo; c <= hi; c++)
			cores[c / 64] |= 1ull << (c % 64);
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return -EINVAL;
		s = end;
	}
	for (uint32_t w = 0; w < MINT_CPU_WORDS; w++)
		if (cores[w])
			return 0;
	return -EINVAL;
}

int cli_parse_node(const char *s, uint32_t *id)
{
	if (cli_parse_u32(s, MINT_MAX_NODES - 1, id) == 0)
		return 0;
	cli_err("node %s: no such node (ids are 0-%u)", s ? s : "(none)", MINT_MAX_NODES - 1);
	return -EINVAL;
}

int cli_attach(const struct cli *c, struct mint_fabric **f)
{
	return cli_attach_error(c, mint_fabric_attach(c->fabric, f));
}

int cli_attach_error(const struct cli *c, int rc)
{
	if (rc == -ENOENT)
		cli_err("fabric %s: does not exist (start one with 'mint up')", c->fabric);
	else if (rc == -EINVAL)
		cli_err("fabric %s: bad name (use letters, digits, '.', '_', '-', or a path)",
			c->fabric);
	else if (rc)
		cli_err("fabric %s: %s", c->fabric, mint_strerror(rc));
	return rc;
}

/* "10us", "1.5ms", "200" (ns): 0 or -1. */
int cli_parse_time(const char *s, uint64_t *ns)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	static const struct {
		const char *unit;
		double scale;
	} units[] = {{"", 1}, {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
	if (errno || end == s || !(v >= 0) || s[0] == '-')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0 && v * units[i].scale < 1e18) {
			*ns = (uint64_t)llround(v * units[i].scale);
			return 0;
		}
	return -1;
}

int cli_require_alive(struct mint_fabric *f, uint32_t id)
{
	if (mint_node_alive(f, id))
		return 0;
	cli_err("node %u: not running", id);
	return -ESRCH;
}

bool cli_node_listed(const struct mint_node_info *n)
{
	return n->state == MINT_NODE_UP || n->epoch != 0;
}

int cli_parse_plain(struct cli *c, int argc, char **argv, const char *usage)
{
	static const struct option opts[] = {CLI_COMMON_LONGOPTS, {0}};
	int opt, st;
	while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, opts, NULL)) != -1)
		if ((st = cli_common_opt(c, opt, usage)) >= 0)
			return st;
	if (optind != argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	return -1;
}
