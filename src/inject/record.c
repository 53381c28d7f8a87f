/* SPDX-License-Identifier: MIT */
/*
 * The record file: pcapng (section header, one Ethernet interface with
 * if_tsresol 9, an enhanced packet block per packet) in the writer's byte
 * order, as pcapng intends: the section header's byte-order magic says
 * which, and the reader takes either, so a record made on a big-endian
 * node replays on a little-endian one and back.  Each packet's event,
 * descriptor image included, is text in its opt_comment (no byte order):
 *   mint-inject/1 event=N burst=B sched_ns=S late_ns=L vector=V rc=R irq=I
 *   desc=D addr=A status_word=W descs=K cut=X rdh=H rdt=T icr=C ims=M
 */
#include "inject/record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "inject/pkt.h"

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1a2b3c4du
#define OPT_END 0
#define OPT_COMMENT 1
#define OPT_TSRESOL 9
#define LINKTYPE_ETHERNET 1

static uint32_t pad4(uint32_t n)
{
	return (n + 3) & ~3u;
}

/* Options: code, length, value padded to 4. */
static void put_opt(uint8_t *b, uint32_t *at, uint16_t code, const void *v, uint16_t len)
{
	memcpy(b + *at, &code, 2);
	memcpy(b + *at + 2, &len, 2);
	memset(b + *at + 4, 0, pad4(len));
	memcpy(b + *at + 4, v, len);
	*at += 4 + pad4(len);
}

/* BODY (LEN bytes, a multiple of 4) framed as a block of TYPE. */
static int put_block(FILE *f, uint32_t type, const uint8_t *body, uint32_t len)
{
	uint32_t total = len + 12;
	return fwrite(&type, 4, 1, f) == 1 && fwrite(&total, 4, 1, f) == 1 &&
			       fwrite(body, 1, len, f) == len && fwrite(&total, 4, 1, f) == 1
		       ? 0
		       : -1;
}

FILE *rec_create(const char *path, uint32_t node)
{
	FILE *f = fopen(path, "wbe");
	if (!f)
		return NULL;
	uint8_t b[256];
	uint32_t at = 16, magic = BYTE_ORDER_MAGIC, zero = OPT_END;
	uint16_t ver[2] = {1, 0};
	int64_t section_len = -1;
	memcpy(b, &magic, 4);
	memcpy(b + 4, ver, 4);
	memcpy(b + 8, &section_len, 8);
	memcpy(b + at, &zero, 4);
	int rc = put_block(f, BT_SHB, b, at + 4);
	uint16_t link[2] = {LINKTYPE_ETHERNET, 0};
	uint32_t snaplen = 0;
	memcpy(b, link, 4);
	memcpy(b + 4, &snaplen, 4);
	at = 8;
	uint8_t resol = 9; /* nanoseconds */
	put_opt(b, &at, OPT_TSRESOL, &resol, 1);
	char desc[64];
	int n = snprintf(desc, sizeof(desc), "mint NIC of node %u", node);
	put_opt(b, &at, 2 /* if_name */, desc, (uint16_t)n);
	memcpy(b + at, &zero, 4);
	if (rc || put_block(f, BT_IDB, b, at + 4)) {
		fclose(f);
		return NULL;
	}
	return f;
}

int rec_write(FILE *f, const struct rec_event *e)
{
	static uint8_t b[PKT_MAX + 512];
	char c[400];
	const struct mint_nic_desc_image none = {0};
	const struct mint_nic_desc_image *img = e->rc == 0 || e->rc == -EPROTO ? e->img : &none;
	int n = snprintf(c, sizeof(c),
			 REC_TAG " event=%" PRIu64 " burst=%u sched_ns=%" PRIu64 " late_ns=%" PRId64
				 " vector=%u rc=%d irq=%d desc=%u addr=%#" PRIx64
				 " status_word=%#" PRIx64 " descs=%u cut=%u rdh=%u rdt=%u icr=%#x ims=%#x",
			 e->event, e->burst, e->sched_ns, e->late_ns, e->vector, e->rc, e->irq,
			 img->index, img->addr, img->status_word, img->descs,
			 e->pkt->flags & MINT_NIC_PKT_CUT ? 1u : 0u, img->rdh, img->rdt, e->icr, e->ims);
	uint32_t cap = e->pkt->copy_len, at = 20;
	uint32_t ts[2] = {(uint32_t)(e->wall_ns >> 32), (uint32_t)e->wall_ns}, zero = 0;
	memcpy(b, &zero, 4); /* interface 0 */
	memcpy(b + 4, ts, 8);
	memcpy(b + 12, &cap, 4);
	memcpy(b + 16, &cap, 4);
	memcpy(b + at, e->pkt->data, cap);
	memset(b + at + cap, 0, pad4(cap) - cap);
	at += pad4(cap);
	put_opt(b, &at, OPT_COMMENT, c, (uint16_t)n);
	memcpy(b + at, &zero, 4);
	return put_block(f, BT_EPB, b, at + 4);
}

int rec_close(FILE *f)
{
	int rc = fflush(f);
	return fclose(f) || rc ? -1 : 0;
}

/* ---- reading, for --replay ---- */

struct reader {
	const uint8_t *buf;
	size_t len;
	char *err;
	size_t cap;
	bool swap; /* the section is in the other byte order than ours */
};

static uint32_t get32(const struct reader *r, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t get16(const struct reader *r, const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

/* The comment option of an EPB's options area. */
static int find_comment(const struct reader *r, const uint8_t *o, uint32_t len, char *out,
			size_t cap)
{
	for (uint32_t at = 0; at + 4 <= len;) {
		uint16_t code = get16(r, o + at), olen = get16(r, o + at + 2);
		if (code == OPT_END || at + 4 + olen > len)
			break;
		if (code == OPT_COMMENT && olen < cap) {
			memcpy(out, o + at + 4, olen);
			out[olen] = '\0';
			return 0;
		}
		at += 4 + pad4(olen);
	}
	return -1;
}

static int parse_comment(const char *c, uint64_t *event, uint64_t *sched, uint64_t *word)
{
	char tag[32];
	int used = 0;
	if (sscanf(c, "%31s event=%" SCNu64 " burst=%*u sched_ns=%" SCNu64 " %n", tag, event, sched,
		   &used) != 3 || strcmp(tag, REC_TAG) != 0 || !used)
		return -1;
	const char *w = strstr(c + used, "status_word=");
	return w && sscanf(w, "status_word=%" SCNx64, word) == 1 ? 0 : -1;
}

/* An EPB: the packet and its event; the descriptor fields come from the
 * status word the device wrote (its DD is the device's, not the packet's). */
static int load_epb(struct reader *r, const uint8_t *body, uint32_t len, struct trace *t)
{
	uint32_t caplen = len < 20 ? 0 : get32(r, body + 12);
	if (len < 20 || caplen > PKT_MAX || pad4(caplen) > len - 20) {
		snprintf(r->err, r->cap, "packet %zu: a corrupt block", t->n + 1);
		return -1;
	}
	uint32_t olen = len - 20 - pad4(caplen);
	char c[512];
	uint64_t event, sched, w;
	if (find_comment(r, body + 20 + pad4(caplen), olen, c, sizeof(c)) ||
	    parse_comment(c, &event, &sched, &w)) {
		snprintf(r->err, r->cap,
			 "packet %zu has no " REC_TAG " comment: not a mint inject record (use --pcap)",
			 t->n + 1);
		return -1;
	}
	struct mint_nic_pkt p = {NULL, (uint32_t)(w & 0xffff), caplen, (uint16_t)(w >> 16),
				 (uint8_t)((w >> 32) & ~MINT_NIC_STAT_DD), (uint8_t)(w >> 40),
				 (uint16_t)(w >> 48), strstr(c, " cut=1 ") ? MINT_NIC_PKT_CUT : 0};
	if (w == 0) /* not written (an overrun): replay it as it was asked for */
		pkt_wire(body + 20, caplen, &p);
	if (trace_add(t, sched, event, body + 20, caplen, &p)) {
		snprintf(r->err, r->cap, "out of memory");
		return -1;
	}
	return 0;
}

/* The section header's byte-order magic, read in our order and swapped:
 * 0 when it is neither (not a pcapng section we know). */
static int byte_order(struct reader *r)
{
	uint32_t magic;
	if (r->len < 28 || memcmp(r->buf, "\x0a\x0d\x0d\x0a", 4) != 0)
		return -1;
	memcpy(&magic, r->buf + 8, 4);
	if (magic != BYTE_ORDER_MAGIC && __builtin_bswap32(magic) != BYTE_ORDER_MAGIC)
		return -1;
	r->swap = magic != BYTE_ORDER_MAGIC;
	return 0;
}

static int load_blocks(struct reader *r, struct trace *t)
{
	if (byte_order(r)) {
		snprintf(r->err, r->cap, "not a mint inject record (no pcapng section header)");
		return -1;
	}
	for (size_t at = 0; at < r->len;) {
		if (r->len - at < 12) {
			snprintf(r->err, r->cap, "truncated at byte %zu", at);
			return -1;
		}
		uint32_t type = get32(r, r->buf + at), total = get32(r, r->buf + at + 4);
		if (total < 12 || total % 4 || total > r->len - at) {
			snprintf(r->err, r->cap, "truncated or corrupt block at byte %zu", at);
			return -1;
		}
		if (at == 0 && total < 28) {
			snprintf(r->err, r->cap, "a corrupt section header");
			return -1;
		}
		if (at > 0 && type == BT_SHB) {
			snprintf(r->err, r->cap, "a second section at byte %zu: one record a file", at);
			return -1;
		}
		if (type == BT_IDB && (total < 20 || get16(r, r->buf + at + 8) != LINKTYPE_ETHERNET)) {
			snprintf(r->err, r->cap, "not an Ethernet record");
			return -1;
		}
		if (type == BT_EPB && load_epb(r, r->buf + at + 8, total - 12, t))
			return -1;
		at += total;
	}
	if (t->n == 0) {
		snprintf(r->err, r->cap, "no packets");
		return -1;
	}
	return 0;
}

int rec_load(const char *path, struct trace *t, char *err, size_t cap)
{
	FILE *f = fopen(path, "rbe");
	if (!f) {
		snprintf(err, cap, "%s", strerror(errno));
		return -1;
	}
	uint8_t *buf = NULL;
	size_t len = 0, got;
	uint8_t chunk[65536];
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		uint8_t *nb = realloc(buf, len + got);
		if (!nb)
			break;
		memcpy(nb + len, chunk, got);
		buf = nb;
		len += got;
	}
	int rc = ferror(f) ? -1 : 0;
	fclose(f);
	struct reader r = {buf, len, err, cap, false};
	if (rc)
		snprintf(err, cap, "cannot read it");
	else if (len == 0)
		snprintf(err, cap, "empty file");
	rc = rc || len == 0 ? -1 : load_blocks(&r, t);
	free(buf);
	if (rc)
		trace_free(t);
	return rc;
}
