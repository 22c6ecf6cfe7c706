/*
 * lists_members - `mimamori members`: the member store by hand.
 *
 *   members add LIST ADDRESS [--name N] [--pledge DATE] [--charset iso-2022-jp]
 *   members remove LIST ADDRESS
 *   members pledge LIST ADDRESS DATE
 *   members list [LIST] [--csv]
 *   members import LIST FILE.csv    (header: address,name,pledge,charset)
 *
 * Each change is one commit of the store (lists_store.c). Audited
 * without addresses: the list, the action and counts.
 *
 * SECURITY: `list` prints addresses and names (the operator asked for
 * them); the audit log never does. Imported CSV is read with
 * entry/csv.c's reader; a bad row rejects the whole import, naming its
 * line, not its values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include "lists.h"
#include "../core/audit.h"
#include "../entry/csv.h"
#include "../util/clock.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define CSV_MAX ((size_t)64 << 20)

static const struct list *find_list(const struct config *cfg, const char *id)
{
	size_t i;

	for (i = 0; i < cfg->nr_lists; i++)
		if (!strcmp(cfg->lists[i].id, id))
			return &cfg->lists[i];
	error("'%s': no such list in the configuration", id);
	return NULL;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: mimamori members add LIST ADDRESS [--name N] [--pledge DATE] "
		"[--charset iso-2022-jp]\n"
		"   or: mimamori members remove LIST ADDRESS\n"
		"   or: mimamori members pledge LIST ADDRESS DATE\n"
		"   or: mimamori members list [LIST] [--csv]\n"
		"   or: mimamori members import LIST FILE.csv\n");
	return EX_USAGE;
}

/* Apply one member's values; -1 with a reason naming the field. */
static int set_member(struct lstore *st, const char *list, const char *addr, const char *name,
		      const char *pledge, const char *charset, struct strbuf *why)
{
	struct lmember *m;
	long p = -1;

	if (!lists_address_ok(addr))
		return strbuf_fail(why, "address: not a usable mail address");
	if (pledge && *pledge && date_parse(pledge, &p) < 0)
		return strbuf_fail(why, "pledge: not a date (YYYY-MM-DD)");
	if (charset && *charset && strcasecmp(charset, "iso-2022-jp") && strcasecmp(charset, "utf-8"))
		return strbuf_fail(why, "charset: iso-2022-jp or utf-8");
	m = lstore_add(st, list, addr, name, clock_today());
	m->state = LM_MEMBER;
	m->nr_bounces = 0;
	m->probe[0] = '\0';
	m->probe_day = -1;
	if (name && *name) {
		char *c = xstrdup(name), *q;

		for (q = c; *q; q++)
			if ((unsigned char)*q < ' ')
				*q = ' ';
		free(m->name);
		m->name = c;
	}
	if (pledge && *pledge)
		m->pledge = p;
	if (charset && *charset)
		m->iso2022jp = !strcasecmp(charset, "iso-2022-jp");
	return 0;
}

static int members_add(const struct config *cfg, struct lstore *st, const struct list *l,
		   int argc, char **argv)
{
	const char *name = NULL, *pledge = NULL, *charset = NULL;
	struct strbuf why = STRBUF_INIT;
	int i;

	for (i = 0; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--name"))
			name = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--pledge"))
			pledge = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--charset"))
			charset = argv[++i];
		else
			return usage();
	}
	if (set_member(st, l->id, argv[-1], name, pledge, charset, &why) < 0) {
		error("%s", why.buf);
		strbuf_release(&why);
		return EX_DATAERR;
	}
	if (lstore_commit(st) < 0)
		return EX_IOERR;
	audit_add("member-add", "list=%s", l->id);
	printf("added to %s (%s)\n", l->id,
	       lstore_shown_name(lstore_shown(cfg, lstore_find(st, l->id, argv[-1]),
					      clock_today())));
	return 0;
}

static int print_list(struct lstore *st, const struct config *cfg, const char *only, int csv)
{
	size_t i;
	long today = clock_today();

	if (csv)
		printf("list,address,name,state,pledge,score\n");
	for (i = 0; i < lstore_count(st); i++) {
		const struct lmember *m = lstore_member(st, i);
		int score = lstore_score(m, today);
		char pledge[11] = "";

		if (only && strcmp(m->list, only))
			continue;
		if (m->pledge >= 0)
			date_format(m->pledge, pledge);
		if (csv) {
			const char *p;

			printf("%s,%s,", m->list, m->address);
			if (strpbrk(m->name, ",\"")) {
				putchar('"');
				for (p = m->name; *p; p++) {
					if (*p == '"')
						putchar('"');
					putchar(*p);
				}
				putchar('"');
			} else {
				fputs(m->name, stdout);
			}
			printf(",%s,%s,%d%s\n", lstore_shown_name(lstore_shown(cfg, m, today)), pledge,
			       score / 2, score % 2 ? ".5" : "");
		} else {
			printf("%s %s %s%s%s score %d%s%s%s\n", m->list, m->address,
			       lstore_shown_name(lstore_shown(cfg, m, today)), pledge[0] ? " pledge " : "",
			       pledge, score / 2, score % 2 ? ".5" : "", m->name[0] ? " " : "", m->name);
		}
	}
	audit_add("member-list", "list=%s csv=%s", only ? only : "*", csv ? "yes" : "no");
	return 0;
}

/* The column of each wanted field in the header row (-1: absent). */
static int header_cols(const struct csv_record *h, int *col, struct strbuf *why)
{
	static const char *const names[] = { "address", "name", "pledge", "charset" };
	size_t i, k;

	for (k = 0; k < 4; k++)
		col[k] = -1;
	for (i = 0; i < h->nr; i++) {
		strbuf_trim(&h->fields[i]);
		for (k = 0; k < 4 && strcasecmp(h->fields[i].buf, names[k]); k++)
			;
		if (k == 4)
			return strbuf_fail(why, "line 1: unknown column %zu", i + 1);
		col[k] = (int)i;
	}
	if (col[0] < 0)
		return strbuf_fail(why, "line 1: no address column");
	return 0;
}

static int members_import(struct lstore *st, const struct list *l, const char *file)
{
	struct strbuf data = STRBUF_INIT, why = STRBUF_INIT;
	struct csv r;
	struct csv_record row;
	int col[4], line = 0, ret = EX_DATAERR;
	size_t n = 0;

	if (strbuf_read_file(&data, file, CSV_MAX) < 0) {
		error_errno("cannot read '%s'", file);
		strbuf_release(&data);
		return EX_NOINPUT;
	}
	memset(&row, 0, sizeof(row));
	csv_init(&r, data.buf, data.len);
	for (;;) {
		int got = csv_next(&r, &row, &why);
		const char *v[4];
		int k;

		if (got < 0) {
			error("'%s': %s", file, why.buf);
			goto out;
		}
		if (!got)
			break;
		line++;
		if (line == 1) {
			if (header_cols(&row, col, &why) < 0) {
				error("'%s': %s", file, why.buf);
				goto out;
			}
			continue;
		}
		if (row.nr == 1 && !row.fields[0].len)
			continue;
		for (k = 0; k < 4; k++) {
			v[k] = NULL;
			if (col[k] >= 0 && (size_t)col[k] < row.nr) {
				strbuf_trim(&row.fields[col[k]]);
				v[k] = row.fields[col[k]].buf;
			}
		}
		if (set_member(st, l->id, v[0] ? v[0] : "", v[1], v[2], v[3], &why) < 0) {
			error("'%s': line %d: %s", file, line, why.buf);
			goto out;
		}
		n++;
	}
	if (lstore_commit(st) < 0) {
		ret = EX_IOERR;
		goto out;
	}
	audit_add("member-import", "list=%s members=%zu", l->id, n);
	printf("imported %zu member(s) into %s\n", n, l->id);
	ret = 0;
out:
	csv_record_clear(&row);
	strbuf_release(&data);
	strbuf_release(&why);
	return ret;
}

int cmd_members(int argc, char **argv, struct context *ctx)
{
	const struct config *cfg = &ctx->cfg;
	const struct list *l = NULL;
	struct lstore *st;
	const char *verb = argc > 1 ? argv[1] : "";
	int ret;

	if (!strcmp(verb, "list")) {
		const char *only = NULL;
		int csv = 0, i;

		for (i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--csv"))
				csv = 1;
			else if (!only && argv[i][0] != '-')
				only = argv[i];
			else
				return usage();
		}
		if (only && !find_list(cfg, only))
			return EX_DATAERR;
		audit_begin(&ctx->spool, "members");
		if (lstore_open(&st, cfg, &ctx->spool, 0) < 0)
			return EX_SOFTWARE;
		ret = print_list(st, cfg, only, csv);
		lstore_close(st);
		audit_flush();
		return ret;
	}
	if (argc < 4 || (strcmp(verb, "add") && strcmp(verb, "remove") &&
			 strcmp(verb, "pledge") && strcmp(verb, "import")))
		return usage();
	if (!(l = find_list(cfg, argv[2])))
		return EX_DATAERR;
	audit_begin(&ctx->spool, "members");
	if (lstore_open(&st, cfg, &ctx->spool, 1) < 0)
		return EX_SOFTWARE;
	if (!strcmp(verb, "add")) {
		ret = members_add(cfg, st, l, argc - 4, argv + 4);
	} else if (!strcmp(verb, "import")) {
		ret = argc == 4 ? members_import(st, l, argv[3]) : usage();
	} else {
		struct lmember *m = lstore_find(st, l->id, argv[3]);
		long p;

		if (!m) {
			error("no such member of '%s'", l->id);
			ret = EX_DATAERR;
		} else if (!strcmp(verb, "remove")) {
			m->state = LM_REMOVED;
			ret = argc == 4 ? (lstore_commit(st) < 0 ? EX_IOERR : 0) : usage();
			if (!ret) {
				audit_add("member-remove", "list=%s", l->id);
				printf("removed from %s\n", l->id);
			}
		} else if (argc != 5 || date_parse(argv[4], &p) < 0) {
			error("pledge: not a date (YYYY-MM-DD)");
			ret = EX_DATAERR;
		} else {
			m->pledge = p;
			ret = lstore_commit(st) < 0 ? EX_IOERR : 0;
			if (!ret) {
				audit_add("member-pledge", "list=%s", l->id);
				printf("pledge recorded on %s (%s)\n", l->id,
				       lstore_shown_name(lstore_shown(cfg, m, clock_today())));
			}
		}
	}
	lstore_close(st);
	if (audit_flush() < 0 && !ret)
		ret = EX_IOERR;
	return ret;
}
