/* SPDX-License-Identifier: MIT */
/*
 * mint inject --plot FILE.png: gnuplot draws the inject-to-handler latency
 * histogram (with --latency; else the lateness histogram) and the schedule
 * lateness of every event over the run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inject/inject.h"

#define PLOT_BINS 100u

/* The histogram H in PLOT_BINS bins up to its p99.9 (at most 1 ms). */
static void write_hist(FILE *f, const struct hist *h)
{
	uint64_t top = hist_pct(h, 99.9) / HIST_BUCKET_NS + 1;
	top = top < HIST_FINE ? top : HIST_FINE;
	uint64_t per = top / PLOT_BINS + 1;
	for (uint64_t b = 0; b < top && b < HIST_BUCKETS; b += per) {
		uint64_t n = 0;
		for (uint64_t k = b; k < b + per && k < HIST_BUCKETS; k++)
			n += h->bucket[k];
		fprintf(f, "%.3f %llu\n", (double)(b * HIST_BUCKET_NS) / 1000.0, (unsigned long long)n);
	}
}

static int write_data(const char *dir, const struct inject_result *r, bool latency)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/hist.dat", dir);
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	write_hist(f, latency ? &r->lat : &r->late);
	fclose(f);
	snprintf(path, sizeof(path), "%s/late.dat", dir);
	if (!(f = fopen(path, "we")))
		return -errno;
	for (size_t i = 0; i < r->series_n; i++)
		fprintf(f, "%zu %.3f\n", i, (double)r->series_late[i] / 1000.0);
	fclose(f);
	return 0;
}

static int write_script(const char *dir, const char *png, bool latency)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/plot.gp", dir);
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f,
		"set terminal pngcairo size 1000,800 noenhanced\n"
		"set output '%s'\n"
		"set multiplot layout 2,1\n"
		"set title '%s histogram'\n"
		"set xlabel 'us'\nset ylabel 'events'\nset style fill solid 0.6\n"
		"plot '%s/hist.dat' using 1:2 with boxes notitle\n"
		"set title 'schedule lateness per event'\n"
		"set xlabel 'event'\nset ylabel 'us late'\n"
		"plot '%s/late.dat' using 1:2 with dots notitle\n"
		"unset multiplot\n",
		png, latency ? "inject-to-handler latency" : "schedule lateness", dir, dir);
	return fclose(f) ? -errno : 0;
}

static int run_gnuplot(const char *dir)
{
	char script[4200];
	snprintf(script, sizeof(script), "%s/plot.gp", dir);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -ECHILD;
	return WEXITSTATUS(st) == 127 ? -ENOENT : WEXITSTATUS(st) ? -EIO : 0;
}

static void remove_dir(const char *dir)
{
	const char *files[] = {"hist.dat", "late.dat", "plot.gp"};
	char path[4200];
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

int inject_plot(const char *png, const struct inject_result *r, bool latency)
{
	char dir[] = "/tmp/mint-plot-XXXXXX";
	if (!mkdtemp(dir))
		return -errno;
	int rc = write_data(dir, r, latency);
	if (rc == 0)
		rc = write_script(dir, png, latency);
	if (rc == 0)
		rc = run_gnuplot(dir);
	remove_dir(dir);
	return rc;
}
