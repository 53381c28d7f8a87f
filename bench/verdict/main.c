/* SPDX-License-Identifier: MIT */
/*
 * mint-bench-verdict: the summary of `make bench`.  Reads the record file
 * the benchmarks appended to (verdict.h), prints one verdict table and
 * appends the run as one JSON line to a history file.
 *
 *   mint-bench-verdict [--history FILE] [--mode full|quick] [--machine TEXT]
 *                      [--load TEXT] [--commit ID] RECORDS
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verdict/verdict.h"

#define MAX_ROWS 64
#define MAX_CTX 16

struct ctx {
	char name[VROW_NAME];
	double value;
};

struct run {
	struct vrow rows[MAX_ROWS];
	int nrows;
	struct ctx ctx[MAX_CTX];
	int nctx;
	int bad; /* lines that were not records */
};

static void add_ctx(struct run *run, const char *line)
{
	char name[VROW_NAME];
	double v;
	if (run->nctx < MAX_CTX && sscanf(line, "ctx\t%47[^\t]\t%lf", name, &v) == 2) {
		snprintf(run->ctx[run->nctx].name, VROW_NAME, "%s", name);
		run->ctx[run->nctx++].value = v;
	} else {
		run->bad++;
	}
}

static int read_records(const char *path, struct run *run)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		int rc = run->nrows < MAX_ROWS ? vrow_parse(line, &run->rows[run->nrows]) : -1;
		if (rc == 1)
			run->nrows++;
		else if (rc == 0 && strncmp(line, "ctx\t", 4) == 0)
			add_ctx(run, line);
		else
			run->bad++;
	}
	fclose(f);
	return 0;
}

struct meta {
	const char *mode, *machine, *load, *commit;
};

static void json_row(FILE *out, const struct vrow *r)
{
	double a, m, q, lo, hi;
	int met;
	vrow_medians(r, &a, &m);
	vrow_ratios(r, &q, &lo, &hi);
	enum verdict v = vrow_verdict(r, &met);
	fprintf(out, "{\"name\":");
	bench_json_str(out, r->name);
	fprintf(out, ",\"unit\":");
	bench_json_str(out, r->unit);
	fprintf(out, ",\"anchor\":%.6g,\"mint\":%.6g,\"ratio\":%.4g,\"lo\":%.4g,\"hi\":%.4g,"
		"\"rounds\":%d", a, m, q, lo, hi, r->n);
	if (v != VERDICT_NONE)
		fprintf(out, ",\"target_op\":\"%s\",\"target\":%g,\"met_rounds\":%d", r->op,
			r->target, met);
	fprintf(out, ",\"verdict\":\"%s\"}", verdict_name(v));
}

static int append_history(const char *path, const struct run *run, const struct meta *m)
{
	FILE *out = fopen(path, "ae");
	if (!out)
		return -1;
	char date[32];
	time_t t = time(NULL);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(out, "{\"date\":\"%s\",\"mode\":", date);
	bench_json_str(out, m->mode);
	fprintf(out, ",\"commit\":");
	bench_json_str(out, m->commit);
	fprintf(out, ",\"machine\":");
	bench_json_str(out, m->machine);
	fprintf(out, ",\"load\":");
	bench_json_str(out, m->load);
	for (int i = 0; i < run->nctx; i++) {
		fputc(',', out);
		bench_json_str(out, run->ctx[i].name);
		fprintf(out, ":%.6g", run->ctx[i].value);
	}
	fprintf(out, ",\"rows\":[");
	for (int i = 0; i < run->nrows; i++) {
		if (i)
			fputc(',', out);
		json_row(out, &run->rows[i]);
	}
	fprintf(out, "]}\n");
	return fclose(out) == 0 ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: mint-bench-verdict [--history FILE] [--mode full|quick] "
			"[--machine TEXT] [--load TEXT] [--commit ID] RECORDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct meta m = {"full", "", "", ""};
	const char *history = NULL;
	int i = 1;
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *v = argv[i + 1];
		if (!strcmp(argv[i], "--history"))
			history = v;
		else if (!strcmp(argv[i], "--mode"))
			m.mode = v;
		else if (!strcmp(argv[i], "--machine"))
			m.machine = v;
		else if (!strcmp(argv[i], "--load"))
			m.load = v;
		else if (!strcmp(argv[i], "--commit"))
			m.commit = v;
		else
			return usage();
	}
	if (i != argc - 1)
		return usage();
	static struct run run;
	if (read_records(argv[i], &run)) {
		perror(argv[i]);
		return 1;
	}
	vrow_table(stdout, run.rows, run.nrows);
	if (run.bad)
		fprintf(stderr, "mint-bench-verdict: %d line(s) of %s were not records\n", run.bad,
			argv[i]);
	if (history && append_history(history, &run, &m)) {
		perror(history);
		return 1;
	}
	return 0;
}
