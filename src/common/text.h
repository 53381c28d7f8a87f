/* SPDX-License-Identifier: MIT */
/* Text the tools print: JSON strings and core sets. */
#ifndef MINT_TEXT_H
#define MINT_TEXT_H

#include <stdint.h>
#include <stdio.h>

#include "mint/layout.h"

/* S as a JSON string literal on OUT. */
void json_str(FILE *out, const char *s);

/* CORES as a list of ranges ("0-3,6"), "-" when empty. */
void format_cores(const uint64_t cores[MINT_CPU_WORDS], char *buf, size_t cap);

#endif
