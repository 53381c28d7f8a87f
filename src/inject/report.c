/* SPDX-License-Identifier: MIT */
/* mint inject's summary: a table, or one JSON object. */
#include <stdio.h>

#include "common/text.h"
#include "inject/inject.h"

static void print_hist(const char *name, const struct hist *h)
{
	printf("  %s ns: p50 %llu, p99 %llu, max %llu, mean %llu (%llu events)\n", name,
	       (unsigned long long)hist_pct(h, 50), (unsigned long long)hist_pct(h, 99),
	       (unsigned long long)h->max, (unsigned long long)hist_mean(h),
	       (unsigned long long)h->n);
}

static void json_hist(const char *name, const struct hist *h)
{
	printf(",\"%s\":{\"p50\":%llu,\"p99\":%llu,\"max\":%llu,\"mean\":%llu,\"n\":%llu}", name,
	       (unsigned long long)hist_pct(h, 50), (unsigned long long)hist_pct(h, 99),
	       (unsigned long long)h->max, (unsigned long long)hist_mean(h),
	       (unsigned long long)h->n);
}

/* The counters, in the order of the table's columns. */
static void counters(const struct inject_result *r, unsigned long long v[12])
{
	const uint64_t src[12] = {r->injected,	r->overruns,   r->dev_errors, r->skipped,
				  r->irqs,	r->drv_irqs,   r->handled,    r->delivered,
				  r->drv_errors, r->drv_bad,   r->drv_drops,  r->lost};
	for (int i = 0; i < 12; i++)
		v[i] = src[i];
}

static const char *const names[12] = {"injected", "overruns", "dev_errors", "skipped",
				      "irqs",     "drv_irqs", "handled",    "delivered",
				      "drv_errors", "drv_bad", "drv_drops",  "lost"};

void inject_report(bool json, const struct inject_opts *o, const struct inject_result *r)
{
	unsigned long long v[12];
	counters(r, v);
	double rate = r->seconds > 0 ? (double)r->injected / r->seconds : 0;
	const char *policy = sched_policy_name(o->sched.late);
	char cores[64];
	format_cores(r->cores, cores, sizeof(cores));
	if (json) {
		printf("{\"node\":%u,\"events\":%llu", o->node, (unsigned long long)r->events);
		for (int i = 0; i < 12; i++)
			printf(",\"%s\":%llu", names[i], v[i]);
		printf(",\"seconds\":%.6f,\"rate_pps\":%.1f,\"late_policy\":\"%s\",\"rt\":%s,"
		       "\"floor\":%s,\"cores\":\"%s\",\"preempted\":%llu,\"stopped\":",
		       r->seconds, rate, policy, o->sched.rt ? "true" : "false",
		       o->floor ? "true" : "false", cores, (unsigned long long)r->preempted);
		json_str(stdout, r->stopped ? r->stopped : "done");
		json_hist("lateness_ns", &r->late);
		if (o->latency)
			json_hist("latency_ns", &r->lat);
		printf("}\n");
		return;
	}
	printf("node %u: %llu events, %llu packets injected in %.3f s (%.0f packets/s), late policy "
	       "%s%s%s, on cores %s\n",
	       o->node, (unsigned long long)r->events, (unsigned long long)r->injected, r->seconds,
	       rate, policy, o->sched.rt ? ", SCHED_FIFO" : "",
	       o->floor ? ", --floor (the schedule alone)" : "", cores);
	for (int i = 0; i < 12; i++)
		printf(" %*s", i ? 10 : 9, names[i]);
	putchar('\n');
	for (int i = 0; i < 12; i++)
		printf(" %*llu", i ? 10 : 9, v[i]);
	putchar('\n');
	print_hist("lateness", &r->late);
	printf("  preempted %llu times during the schedule\n", (unsigned long long)r->preempted);
	if (o->latency)
		print_hist("inject-to-handler latency", &r->lat);
}
