/* SPDX-License-Identifier: MIT */
/*
 * Benchmark verdicts, one rule for every benchmark of `make bench`: a
 * ratio (mint over its anchor, measured in the same round) is taken once
 * per round; the figure is the median of the rounds' ratios, shown with
 * their range, and the verdict counts rounds: `met` when at least 4 of 5
 * rounds (4/5 of them, rounded up, and at least 5 rounds) meet the
 * target, `missed` when as many miss it, `unsettled` otherwise.
 *
 * Benchmarks hand their rows to the summary of `make bench` as record
 * lines appended to the file that MINT_BENCH_RECORD names (see
 * docs/benchmarks.md, "Records and history"):
 *
 *   row <TAB> name <TAB> unit <TAB> op <TAB> target <TAB> a1:m1 a2:m2 ...
 *   ctx <TAB> name <TAB> value
 *
 * one anchor:mint pair per round; op is ">=", "<=" or "-" (no target: a
 * ratio kept for its drift only).
 */
#ifndef MINT_BENCH_VERDICT_H
#define MINT_BENCH_VERDICT_H

#include <stdbool.h>
#include <stdio.h>

#define VROW_ROUNDS 32  /* rounds a row holds at most */
#define VROW_NAME 48
#define VERDICT_MIN_ROUNDS 5

enum verdict { VERDICT_NONE, VERDICT_MET, VERDICT_MISSED, VERDICT_UNSETTLED };

struct vrow {
	char name[VROW_NAME];
	char unit[16];   /* of anchor and mint: "ns", "Gbit/s", ... */
	char op[3];      /* ">=", "<=" or "-" */
	double target;
	int n;           /* rounds */
	double anchor[VROW_ROUNDS], mint[VROW_ROUNDS]; /* each round's figures */
};

/* Median of V[0..N) (sorted in place as a side effect); 0 when N is 0. */
double bench_median(double *v, int n);

/* An empty row: NAME, UNIT, OP (">=", "<=", "-") and TARGET. */
void vrow_init(struct vrow *r, const char *name, const char *unit, const char *op, double target);
/* Add one round's ANCHOR and MINT figures; the ratio is MINT / ANCHOR. */
void vrow_round(struct vrow *r, double anchor, double mint);
/* Median and range of the per-round ratios. */
void vrow_ratios(const struct vrow *r, double *median, double *lo, double *hi);
/* Medians of the rounds' anchor and mint figures. */
void vrow_medians(const struct vrow *r, double *anchor, double *mint);
/* The verdict, and in *MET how many rounds met the target. */
enum verdict vrow_verdict(const struct vrow *r, int *met);
const char *verdict_name(enum verdict v);

/* Append R to the record file MINT_BENCH_RECORD names, if it is set;
 * 0, or -1 if the file cannot be written. */
int vrow_record(const struct vrow *r);
int vctx_record(const char *name, double value);
/* Parse a "row" line into R: 1, 0 for another kind of line, -1 if bad. */
int vrow_parse(const char *line, struct vrow *r);

/* The verdict table of N rows. */
void vrow_table(FILE *out, const struct vrow *rows, int n);

/* S as a JSON string, quotes included (benchmarks build as users'
 * programs: the tools' own src/common/text.c is not theirs to link). */
void bench_json_str(FILE *out, const char *s);

#endif
