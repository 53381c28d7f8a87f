/* SPDX-License-Identifier: MIT */
/* Benchmark verdicts: see verdict.h. */
#include "verdict/verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double bench_median(double *v, int n)
{
	if (n <= 0)
		return 0.0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

void vrow_init(struct vrow *r, const char *name, const char *unit, const char *op, double target)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	snprintf(r->op, sizeof(r->op), "%s", op);
	r->target = target;
}

void vrow_round(struct vrow *r, double anchor, double mint)
{
	if (r->n >= VROW_ROUNDS)
		return;
	r->anchor[r->n] = anchor;
	r->mint[r->n] = mint;
	r->n++;
}

static double ratio_of(const struct vrow *r, int i)
{
	return r->anchor[i] > 0 ? r->mint[i] / r->anchor[i] : 0.0;
}

void vrow_ratios(const struct vrow *r, double *median, double *lo, double *hi)
{
	double v[VROW_ROUNDS];
	for (int i = 0; i < r->n; i++)
		v[i] = ratio_of(r, i);
	*median = bench_median(v, r->n); /* sorted: the extremes are at the ends */
	*lo = r->n ? v[0] : 0.0;
	*hi = r->n ? v[r->n - 1] : 0.0;
}

void vrow_medians(const struct vrow *r, double *anchor, double *mint)
{
	double a[VROW_ROUNDS], m[VROW_ROUNDS];
	memcpy(a, r->anchor, sizeof(a));
	memcpy(m, r->mint, sizeof(m));
	*anchor = bench_median(a, r->n);
	*mint = bench_median(m, r->n);
}

static bool has_target(const struct vrow *r)
{
	return strcmp(r->op, ">=") == 0 || strcmp(r->op, "<=") == 0;
}

enum verdict vrow_verdict(const struct vrow *r, int *met)
{
	*met = 0;
	if (!has_target(r))
		return VERDICT_NONE;
	bool at_least = r->op[0] == '>';
	for (int i = 0; i < r->n; i++) {
		double q = ratio_of(r, i);
		*met += at_least ? q >= r->target : q <= r->target;
	}
	/* 4 of 5: four fifths of the rounds, rounded up. */
	int need = (4 * r->n + 4) / 5;
	if (r->n < VERDICT_MIN_ROUNDS)
		return VERDICT_UNSETTLED;
	if (*met >= need)
		return VERDICT_MET;
	return r->n - *met >= need ? VERDICT_MISSED : VERDICT_UNSETTLED;
}

const char *verdict_name(enum verdict v)
{
	static const char *const names[] = {"-", "met", "missed", "unsettled"};
	return names[v];
}

/* The record file, opened for appending; NULL when none is asked for. */
static FILE *record_file(int *err)
{
	const char *path = getenv("MINT_BENCH_RECORD");
	*err = 0;
	if (!path || !*path)
		return NULL;
	FILE *f = fopen(path, "ae");
	*err = f == NULL;
	return f;
}

int vrow_record(const struct vrow *r)
{
	int err;
	FILE *f = record_file(&err);
	if (!f)
		return -err;
	fprintf(f, "row\t%s\t%s\t%s\t%.6g\t", r->name, r->unit, r->op, r->target);
	for (int i = 0; i < r->n; i++)
		fprintf(f, "%s%.6g:%.6g", i ? " " : "", r->anchor[i], r->mint[i]);
	fputc('\n', f);
	return fclose(f) == 0 ? 0 : -1;
}

int vctx_record(const char *name, double value)
{
	int err;
	FILE *f = record_file(&err);
	if (!f)
		return -err;
	fprintf(f, "ctx\t%s\t%.6g\n", name, value);
	return fclose(f) == 0 ? 0 : -1;
}

/* Copy the next TAB-separated field of *S into OUT (CAP bytes). */
static bool field(const char **s, char *out, size_t cap)
{
	size_t len = strcspn(*s, "\t\n");
	if (len >= cap)
		return false;
	memcpy(out, *s, len);
	out[len] = '\0';
	*s += len;
	if (**s == '\t')
		(*s)++;
	return true;
}

static bool parse_rounds(const char *s, struct vrow *r)
{
	while (*s && *s != '\n') {
		char *end;
		double a = strtod(s, &end);
		if (end == s || *end != ':')
			return false;
		s = end + 1;
		double m = strtod(s, &end);
		if (end == s || r->n >= VROW_ROUNDS || !isfinite(a) || !isfinite(m))
			return false;
		vrow_round(r, a, m);
		s = end + strspn(end, " ");
	}
	return r->n > 0;
}

int vrow_parse(const char *line, struct vrow *r)
{
	char kind[8], name[VROW_NAME], unit[16], op[3], target[32];
	if (!field(&line, kind, sizeof(kind)) || strcmp(kind, "row") != 0)
		return 0;
	if (!field(&line, name, sizeof(name)) || !field(&line, unit, sizeof(unit)) ||
	    !field(&line, op, sizeof(op)) || !field(&line, target, sizeof(target)))
		return -1;
	vrow_init(r, name, unit, op, strtod(target, NULL));
	return parse_rounds(line, r) ? 1 : -1;
}

/* VALUE in UNIT, short enough for a column. */
static void fmt_value(char *out, size_t cap, double v, const char *unit)
{
	if (fabs(v) >= 1e6)
		snprintf(out, cap, "%.2fM %s", v / 1e6, unit);
	else if (fabs(v) >= 1e4)
		snprintf(out, cap, "%.1fk %s", v / 1e3, unit);
	else
		snprintf(out, cap, "%.4g %s", v, unit);
}

void vrow_table(FILE *out, const struct vrow *rows, int n)
{
	fprintf(out, "%-30s %14s %14s %7s %13s %8s  %s\n", "benchmark", "anchor", "mint",
		"ratio", "rounds' range", "target", "verdict (rounds met)");
	for (int i = 0; i < n; i++) {
		const struct vrow *r = &rows[i];
		double a, m, q, lo, hi;
		char av[24], mv[24], range[24], tg[16];
		int met;
		vrow_medians(r, &a, &m);
		vrow_ratios(r, &q, &lo, &hi);
		enum verdict v = vrow_verdict(r, &met);
		fmt_value(av, sizeof(av), a, r->unit);
		fmt_value(mv, sizeof(mv), m, r->unit);
		snprintf(range, sizeof(range), "%.2f-%.2fx", lo, hi);
		if (v == VERDICT_NONE)
			snprintf(tg, sizeof(tg), "none");
		else
			snprintf(tg, sizeof(tg), "%s%gx", r->op, r->target);
		fprintf(out, "%-30s %14s %14s %6.2fx %13s %8s  %s", r->name, av, mv, q, range, tg,
			verdict_name(v));
		if (v != VERDICT_NONE)
			fprintf(out, " (%d/%d)", met, r->n);
		fputc('\n', out);
	}
}

void bench_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}
