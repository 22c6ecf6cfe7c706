/*
 * list - `mimamori list [--ward W] [--expiring] [--all] [--csv]
 * [--show-names]`: the register as a care center or the custodian keeps
 * it in view: id, ward, center, registered, expires, state, one record a
 * line, by id; names (name and name-kana) only with --show-names.
 *
 * Works from the registry's index (as stats does); only --show-names
 * decrypts records, one at a time. Reads the registry; writes only the
 * audit log (what was asked and how many lines were shown, no ids, no
 * names).
 *
 * SECURITY: prints personal data only with --show-names, and every
 * listing is audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "entry.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../core/registry.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

struct list_opts {
	const char *ward;
	int expiring, all, csv, names;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct reg_entry *x = *(const struct reg_entry *const *)a;
	const struct reg_entry *y = *(const struct reg_entry *const *)b;

	return strcmp(x->id, y->id);
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_field(struct strbuf *out, const char *s)
{
	const char *p;

	if (!strpbrk(s, ",\"\r\n")) {
		strbuf_addstr(out, s);
		return;
	}
	strbuf_addch(out, '"');
	for (p = s; *p; p++) {
		if (*p == '"')
			strbuf_addch(out, '"');
		strbuf_addch(out, *p);
	}
	strbuf_addch(out, '"');
}

/* The state of an entry today: active, expiring, expired, destroyed:REASON. */
static void state_of(const struct reg_entry *e, const struct config *cfg, long today,
		     struct strbuf *out)
{
	long from;

	if (e->state != REG_ACTIVE) {
		strbuf_addf(out, "destroyed:%s", e->reason);
	} else if (e->expires >= 0 && today >= e->expires) {
		strbuf_addstr(out, "expired");
	} else if (e->expires >= 0 &&
		   date_add_duration(e->expires, cfg->reminder, -1, &from) == 0 &&
		   today >= from) {
		strbuf_addstr(out, "expiring");
	} else {
		strbuf_addstr(out, "active");
	}
}

static void add_date(struct strbuf *out, long d)
{
	char s[11];

	if (d < 0) {
		strbuf_addch(out, '-');
		return;
	}
	date_format(d, s);
	strbuf_addstr(out, s);
}

static int list_usage(void)
{
	fprintf(stderr, "usage: mimamori list [--ward W] [--expiring] [--all] [--csv] "
		"[--show-names]\n");
	return EX_USAGE;
}

int cmd_list(int argc, char **argv, struct context *ctx)
{
	struct list_opts o = { 0 };
	struct registry *reg;
	struct reg_entry **v;
	struct strbuf line = STRBUF_INIT, st = STRBUF_INIT;
	long today = clock_today();
	size_t i, n, nr = 0, shown = 0;
	int ret = 0;

	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--ward") && i + 1 < (size_t)argc)
			o.ward = argv[++i];
		else if (!strcmp(argv[i], "--expiring"))
			o.expiring = 1;
		else if (!strcmp(argv[i], "--all"))
			o.all = 1;
		else if (!strcmp(argv[i], "--csv"))
			o.csv = 1;
		else if (!strcmp(argv[i], "--show-names"))
			o.names = 1;
		else
			return list_usage();
	}
	if (o.ward && !strlist_has(&ctx->cfg.wards, o.ward)) {
		error("unknown ward '%s'", o.ward);
		return EX_USAGE;
	}
	if (registry_open(&reg, &ctx->cfg, &ctx->spool, 0) < 0)
		return EX_SOFTWARE;
	n = registry_count(reg);
	v = xcalloc(n ? n : 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		struct reg_entry *e = registry_entry(reg, i);

		if (o.ward && (!e->ward || strcmp(e->ward, o.ward)))
			continue;
		if (e->state != REG_ACTIVE && !o.all)
			continue;
		if (o.expiring) {
			strbuf_reset(&st);
			state_of(e, &ctx->cfg, today, &st);
			if (strcmp(st.buf, "expiring"))
				continue;
		}
		v[nr++] = e;
	}
	qsort(v, nr, sizeof(*v), cmp_entry);
	if (o.csv)
		printf("id,ward,center,registered,expires,state%s\n",
		       o.names ? ",name,name-kana" : "");
	else
		printf("%-13s %-12s %-16s %-10s %-10s %s%s\n", "id", "ward", "center",
		       "registered", "expires", "state", o.names ? "  name (name-kana)" : "");
	for (i = 0; i < nr; i++) {
		const struct reg_entry *e = v[i];
		struct strbuf reg_d = STRBUF_INIT, exp_d = STRBUF_INIT;
		struct node *record = NULL;

		strbuf_reset(&line);
		strbuf_reset(&st);
		state_of(e, &ctx->cfg, today, &st);
		add_date(&reg_d, e->registered);
		add_date(&exp_d, e->state == REG_ACTIVE ? e->expires : -1);
		if (o.names && e->state == REG_ACTIVE && registry_load(reg, e, &record) < 0)
			ret = EX_SOFTWARE;
		if (o.csv) {
			strbuf_addf(&line, "%s,", e->id);
			csv_field(&line, e->ward ? e->ward : "");
			strbuf_addch(&line, ',');
			csv_field(&line, e->center ? e->center : "");
			strbuf_addf(&line, ",%s,%s,%s", reg_d.buf, exp_d.buf, st.buf);
			if (o.names) {
				strbuf_addch(&line, ',');
				csv_field(&line, record ? node_text(record, "person/name") ?: "" : "");
				strbuf_addch(&line, ',');
				csv_field(&line, record ? node_text(record, "person/name-kana") ?: "" : "");
			}
		} else {
			strbuf_addf(&line, "%-13s %-12s %-16s %-10s %-10s %s", e->id,
				    e->ward ? e->ward : "-", e->center ? e->center : "-",
				    reg_d.buf, exp_d.buf, st.buf);
			if (o.names && record)
				strbuf_addf(&line, "  %s (%s)", node_text(record, "person/name") ?: "",
					    node_text(record, "person/name-kana") ?: "");
		}
		puts(line.buf);
		shown++;
		node_free(record);
		strbuf_release(&reg_d);
		strbuf_release(&exp_d);
	}
	audit_add("list", "ward=%s expiring=%d all=%d csv=%d show-names=%d shown=%zu",
		  o.ward ? o.ward : "*", o.expiring, o.all, o.csv, o.names, shown);
	free(v);
	strbuf_release(&line);
	strbuf_release(&st);
	registry_close(reg);
	return ret;
}
