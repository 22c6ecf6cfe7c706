/*
 * show - print one record as this node holds it, or the view an audience
 * would get (--as KIND: an agency kind, or "alert"); or, for an alert id
 * (A…), how many helpers it reached per list and how fast
 * (lists/lists_reach.c). Every show is audited.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include "../commands.h"
#include "../core/alert.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../core/registry.h"
#include "../core/view.h"
#include "../exchange/exchange.h"
#include "../lists/lists.h"
#include "../util/msg.h"
#include "../util/timeutil.h"

/*
 * The proof of a destruction: for each agency that was sent the record,
 * the day it acknowledged the destruction, or "pending".
 */
static void tombstone_acks(const struct config *cfg, const struct reg_entry *e)
{
	size_t i;

	for (i = 0; i < cfg->nr_agencies; i++) {
		const struct agency *a = &cfg->agencies[i];
		long day;
		char d[11];

		if (a == cfg->self || !registry_was_sent(e, a->id))
			continue;
		day = exchange_acked_on(e, a->id);
		if (day < 0) {
			printf("%s pending\n", a->id);
			continue;
		}
		date_format(day, d);
		printf("%s %s\n", a->id, d);
	}
}

/*
 * What the alert store says of alert id, before its reach: "state
 * open|held|closed [found|withdrawn|expired]", "held TIME" while held,
 * "approved-by FINGERPRINT TIME" and "widened TIME" when they happened.
 * Nothing when the store cannot be read or does not know it, nor for an
 * alert whose data was destroyed (1 then).
 */
static int alert_state_lines(struct context *ctx, const char *id, struct strbuf *out)
{
	int destroyed = 0;
	struct alert_store *st;
	struct alert_entry *e;
	struct alert a;
	char when[32];

	if (alert_store_open(&st, &ctx->cfg, &ctx->spool, 0) < 0)
		return 0;
	e = alert_find(st, id);
	destroyed = e && e->state == ALERT_DESTROYED;
	if (e && !destroyed) {
		strbuf_addf(out, "state %s%s%s\n", alert_state_name(e->state),
			    e->close_type != ALERT_CLOSE_NONE ? " " : "",
			    alert_close_name(e->close_type));
		alert_init(&a);
		if (alert_load(st, e, &a) == 0) {
			if (e->state == ALERT_HELD) {
				datetime_format(e->opened, when);
				strbuf_addf(out, "held %s\n", when);
			}
			if (a.approved_by) {
				datetime_format(a.approved_at, when);
				strbuf_addf(out, "approved-by %s %s\n", a.approved_by, when);
			}
			if (a.widened_at) {
				datetime_format(a.widened_at, when);
				strbuf_addf(out, "widened %s\n", when);
			}
		}
		alert_release(&a);
	}
	alert_store_close(st);
	return destroyed;
}

int cmd_show(int argc, char **argv, struct context *ctx)
{
	struct registry *reg;
	struct reg_entry *e;
	struct node *record = NULL, *view;
	struct strbuf out = STRBUF_INIT;
	const char *id = NULL, *as = NULL;
	int i, a, ret = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--as") && i + 1 < argc)
			as = argv[++i];
		else if (!id && argv[i][0] != '-')
			id = argv[i];
		else
			id = NULL, i = argc;
	}
	if (!id) {
		fprintf(stderr, "usage: mimamori show ID [--as AGENCY-KIND|alert]\n"
				"   or: mimamori show ALERT-ID\n");
		return EX_USAGE;
	}
	if (id[0] == 'A' && !as) {
		struct strbuf reach = STRBUF_INIT;
		int destroyed;

		/* A1234-567890: it becomes a folder name under reach/. */
		if (strspn(id + 1, "0123456789") != 4 || id[5] != '-' ||
		    strspn(id + 6, "0123456789") != strlen(id + 6) || !id[6] ||
		    strlen(id) > 16) {
			error("'%s' is not an alert id (A followed by the year, '-' and a number)",
			      id);
			return EX_DATAERR;
		}

		audit_add("show", "alert=%s", id);
		destroyed = alert_state_lines(ctx, id, &reach);
		lists_reach_show(ctx, id, &reach);
		if (!reach.len) {
			if (destroyed)
				error("'%s': its data was destroyed", id);
			else
				error("'%s': no such alert and no list copy of it is known", id);
			strbuf_release(&reach);
			return EX_DATAERR;
		}
		fwrite(reach.buf, 1, reach.len, stdout);
		strbuf_release(&reach);
		return 0;
	}
	/* Without --as: what this node may hold, i.e. its own audience. */
	a = as ? audience_parse(as) : (int)audience_of(ctx->cfg.self->kind);
	if (a < 0) {
		error("unknown audience '%s' (an agency kind, or alert)", as);
		return EX_USAGE;
	}
	if (registry_open(&reg, &ctx->cfg, &ctx->spool, 0) < 0)
		return EX_SOFTWARE;
	e = registry_find(reg, id);
	audit_add("show", "id=%s as=%s", id, audience_name((enum audience)a));
	if (!e) {
		error("'%s': no such registration", id);
		ret = EX_DATAERR;
	} else if (e->state != REG_ACTIVE) {
		char d[11];

		date_format(e->destroyed, d);
		error("'%s': destroyed on %s (%s)", id, d, e->reason);
		tombstone_acks(&ctx->cfg, e);
		ret = EX_DATAERR;
	} else if (registry_load(reg, e, &record) < 0) {
		ret = EX_SOFTWARE;
	} else {
		view = view_make(record, (enum audience)a, clock_today());
		node_write(view, &out);
		fwrite(out.buf, 1, out.len, stdout);
		node_free(view);
	}
	node_free(record);
	strbuf_release(&out);
	registry_close(reg);
	return ret;
}
