/*
 * stats - the register's figures (mimamori-stats(1)), per ward and in total, as a
 * table or (--csv) as CSV for spreadsheets.
 *
 * Works from index entries only, never decrypting a record: the
 * registry's index (state, ward, registration and expiry dates, the
 * tombstone's date and reason) and the alert store's index (ward, status,
 * opened, close type, hours from missing-since to found). So it costs
 * one unwrap of the data key plus a pass over two indexes, whatever the
 * size of the register.
 *
 * Reads the registry and the alert store; writes only the audit log
 * (counts, no ids).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "../commands.h"
#include "../core/alert.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../core/registry.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

enum {
	C_ACTIVE,
	C_REGISTERED_MONTH,
	C_EXPIRING,
	C_DEATH,
	C_FACILITY,
	C_MOVED_OUT,
	C_OTHER,
	C_EXPIRED,
	C_ALERTS_ACTUAL,
	C_ALERTS_EXERCISE,
	C_FOUND,
	C_NR
};

static const char *const column[C_NR] = {
	"active", "registered-this-month", "expiring", "cancelled-death",
	"cancelled-facility", "cancelled-moved-out", "cancelled-other", "expired",
	"alerts-actual", "alerts-exercise", "found",
};

struct row {
	char ward[32];
	long count[C_NR];
	long *hours;          /* hours from missing-since to found, per found alert */
	size_t nr_hours, alloc_hours;
};

struct stats {
	struct hashmap rows;     /* ward -> struct row */
	struct strlist wards;
	struct row total;
};

static struct row *row_of(struct stats *s, const char *ward)
{
	struct row *r;

	if (!ward || !*ward)
		ward = "-";
	r = hashmap_get(&s->rows, ward);
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		snprintf(r->ward, sizeof(r->ward), "%s", ward);
		hashmap_put(&s->rows, r->ward, r);
		strlist_add(&s->wards, r->ward);
	}
	return r;
}

static void count(struct stats *s, const char *ward, int c)
{
	row_of(s, ward)->count[c]++;
	s->total.count[c]++;
}

static void add_hours(struct row *r, long h)
{
	ALLOC_GROW(r->hours, r->nr_hours + 1, r->alloc_hours);
	r->hours[r->nr_hours++] = h;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* The median of r's hours ("-" when none; halves when even). */
static void median(struct row *r, char *out, size_t size)
{
	size_t n = r->nr_hours;

	if (!n) {
		snprintf(out, size, "-");
		return;
	}
	qsort(r->hours, n, sizeof(long), cmp_long);
	if (n % 2)
		snprintf(out, size, "%ld", r->hours[n / 2]);
	else if ((r->hours[n / 2 - 1] + r->hours[n / 2]) % 2)
		snprintf(out, size, "%ld.5", (r->hours[n / 2 - 1] + r->hours[n / 2]) / 2);
	else
		snprintf(out, size, "%ld", (r->hours[n / 2 - 1] + r->hours[n / 2]) / 2);
}

static int reason_column(const char *reason)
{
	if (!strcmp(reason, "death"))
		return C_DEATH;
	if (!strcmp(reason, "facility"))
		return C_FACILITY;
	if (!strcmp(reason, "moved-out"))
		return C_MOVED_OUT;
	if (!strcmp(reason, "expired"))
		return C_EXPIRED;
	if (!strcmp(reason, "other"))
		return C_OTHER;
	return -1;  /* out-of-scope: the record left this node, not the program */
}

static void count_registry(struct stats *s, struct registry *reg, const struct config *cfg,
			   long today)
{
	size_t i, n = registry_count(reg);
	int y, m, d, ey, em;

	date_split(today, &y, &m, &d);
	for (i = 0; i < n; i++) {
		const struct reg_entry *e = registry_entry(reg, i);
		long from;

		if (e->registered >= 0) {
			date_split(e->registered, &ey, &em, &d);
			if (ey == y && em == m)
				count(s, e->ward, C_REGISTERED_MONTH);
		}
		if (e->state == REG_ACTIVE) {
			if (e->expires >= 0 && today >= e->expires)
				continue;  /* expired, waiting for expire */
			count(s, e->ward, C_ACTIVE);
			if (e->expires >= 0 &&
			    date_add_duration(e->expires, cfg->reminder, -1, &from) == 0 &&
			    today >= from)
				count(s, e->ward, C_EXPIRING);
		} else if (e->destroyed >= 0) {
			int c = reason_column(e->reason);

			date_split(e->destroyed, &ey, &em, &d);
			if (c >= 0 && ey == y)
				count(s, e->ward, c);
		}
	}
}

static int count_alerts(struct stats *s, struct context *ctx, long today)
{
	struct alert_store *st;
	size_t i, n;
	int y, m, d, ay;

	if (alert_store_open(&st, &ctx->cfg, &ctx->spool, 0) < 0)
		return -1;
	date_split(today, &y, &m, &d);
	n = alert_count(st);
	for (i = 0; i < n; i++) {
		const struct alert_entry *e = alert_entry(st, i);

		date_split(date_of(e->opened), &ay, &m, &d);
		if (ay != y)
			continue;
		count(s, e->ward, e->exercise ? C_ALERTS_EXERCISE : C_ALERTS_ACTUAL);
		if (e->exercise || e->close_type != ALERT_FOUND)
			continue;
		count(s, e->ward, C_FOUND);
		if (e->hours_missing >= 0) {
			add_hours(row_of(s, e->ward), e->hours_missing);
			add_hours(&s->total, e->hours_missing);
		}
	}
	alert_store_close(st);
	return 0;
}

static void print_row(struct row *r, const char *name, int csv)
{
	char med[32];
	int c;

	median(r, med, sizeof(med));
	if (csv) {
		printf("%s", name);
		for (c = 0; c < C_NR; c++)
			printf(",%ld", r->count[c]);
		printf(",%s\n", med);
		return;
	}
	printf("%-10s", name);
	for (c = 0; c < C_NR; c++)
		printf(" %*ld", (int)strlen(column[c]), r->count[c]);
	printf(" %*s\n", (int)strlen("median-hours-to-found"), med);
}

int cmd_stats(int argc, char **argv, struct context *ctx)
{
	struct stats s;
	struct registry *reg;
	long today = clock_today();
	char date[11];
	size_t i;
	int csv = 0, c, ret = 0;

	if (argc == 2 && !strcmp(argv[1], "--csv"))
		csv = 1;
	else if (argc != 1) {
		fprintf(stderr, "usage: mimamori stats [--csv]\n");
		return EX_USAGE;
	}
	memset(&s, 0, sizeof(s));
	/* Every ward of the config has a row, even an empty one. */
	for (i = 0; i < ctx->cfg.wards.nr; i++)
		row_of(&s, ctx->cfg.wards.items[i]);
	if (registry_open(&reg, &ctx->cfg, &ctx->spool, 0) < 0)
		return EX_SOFTWARE;
	count_registry(&s, reg, &ctx->cfg, today);
	registry_close(reg);
	if (count_alerts(&s, ctx, today) < 0)
		ret = EX_SOFTWARE;
	strlist_sort(&s.wards);
	date_format(today, date);
	if (csv) {
		printf("ward");
		for (c = 0; c < C_NR; c++)
			printf(",%s", column[c]);
		printf(",median-hours-to-found\n");
	} else {
		printf("# %s: registrations, cancellations and alerts of %.4s, this month %.7s\n",
		       date, date, date);
		printf("%-10s", "ward");
		for (c = 0; c < C_NR; c++)
			printf(" %s", column[c]);
		printf(" median-hours-to-found\n");
	}
	for (i = 0; i < s.wards.nr; i++)
		print_row(hashmap_get(&s.rows, s.wards.items[i]), s.wards.items[i], csv);
	print_row(&s.total, "total", csv);
	fflush(stdout);
	audit_add("stats", "active=%ld alerts=%ld wards=%zu csv=%d", s.total.count[C_ACTIVE],
		  s.total.count[C_ALERTS_ACTUAL] + s.total.count[C_ALERTS_EXERCISE], s.wards.nr,
		  csv);
	for (i = 0; i < s.wards.nr; i++) {
		struct row *r = hashmap_get(&s.rows, s.wards.items[i]);

		free(r->hours);
		free(r);
	}
	free(s.total.hours);
	hashmap_clear(&s.rows);
	strlist_clear(&s.wards);
	return ret;
}
