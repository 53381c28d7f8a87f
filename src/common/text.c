/* SPDX-License-Identifier: MIT */
/* Text the tools print: JSON strings and core sets. */
#include "common/text.h"

#include <stdio.h>
#include <string.h>

void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

const char *text_safe(const char *s, char *buf, size_t cap)
{
	size_t n = 0;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[5];
		int len = ch < 0x20 || ch >= 0x7f ? snprintf(esc, sizeof(esc), "\\x%02x", ch)
			  : ch == '\\'             ? snprintf(esc, sizeof(esc), "\\\\")
						  : snprintf(esc, sizeof(esc), "%c", ch);
		if (n + (size_t)len >= cap)
			break;
		memcpy(buf + n, esc, (size_t)len);
		n += (size_t)len;
	}
	if (cap)
		buf[n] = '\0';
	return buf;
}

void format_cores(const uint64_t cores[MINT_CPU_WORDS], char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (uint32_t c = 0; c < MINT_CPU_WORDS * 64 && n < cap; c++) {
		if (!(cores[c / 64] >> (c % 64) & 1))
			continue;
		uint32_t end = c;
		while (end + 1 < MINT_CPU_WORDS * 64 && (cores[(end + 1) / 64] >> ((end + 1) % 64) & 1))
			end++;
		int w = end == c ? snprintf(buf + n, cap - n, "%s%u", n ? "," : "", c)
				 : snprintf(buf + n, cap - n, "%s%u-%u", n ? "," : "", c, end);
		n += w > 0 ? (size_t)w : 0;
		c = end;
	}
	if (n == 0)
		snprintf(buf, cap, "-");
}
