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
#include "../core/audit.h"
#include "../util/clock.h"
#include "../core/registry.h"
#include "../core/view.h"
#include "../lists/lists.h"
#include "../util/msg.h"
#include "../util/timeutil.h"

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

		audit_add("show", "alert=%s", id);
		lists_reach_show(ctx, id, &reach);
		if (!reach.len) {
			error("'%s': no list copy of this alert is known", id);
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
