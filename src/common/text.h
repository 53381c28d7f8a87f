/* SPDX-License-Identifier: MIT */
/* Text the tools print: JSON strings and core sets. */
#ifndef MINT_TEXT_H
#define MINT_TEXT_H

#include <stdint.h>
#include <stdio.h>

#include "mint/layout.h"

/* S as a JSON string literal on OUT: valid JSON whatever S holds, so every
 * byte that is not printable ASCII is escaped as \u00HH (mint's names are
 * ASCII; a byte >= 0x80 in one is a peer's garbage, not UTF-8 to keep). */
void json_str(FILE *out, const char *s);

/* Room for text_safe of a string of N bytes. */
#define TEXT_SAFE_CAP(n) (4 * (n) + 1)

/* S for a terminal, in BUF (CAP bytes, whole escapes only): bytes that are
 * no printable ASCII (controls, DEL, >= 0x80: mint's names are ASCII, so
 * such a byte in a name read from a fabric is a peer's) as \xHH, and the
 * backslash as \\, so that nothing a file holds can move the cursor or
 * pass for other text.  Returns BUF. */
const char *text_safe(const char *s, char *buf, size_t cap);

/* CORES as a list of ranges ("0-3,6"), "-" when empty. */
void format_cores(const uint64_t cores[MINT_CPU_WORDS], char *buf, size_t cap);

#endif
