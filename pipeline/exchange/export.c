/*
 * export - write, for every other agency with pending changes in its
 * scope, one bundle outgoing/<agency>/<from>-<to>-<seq>.tar.gpg (see
 * exchange.h): the agency's view of every record new or changed since the
 * state it acknowledged (cumulative: any one bundle that arrives heals
 * the loss of those before it), the deletions of records it was sent
 * that were destroyed or left its scope since, and receipts.xml for the
 * bundles applied from it. `export --full AGENCY` writes a complete
 * bundle: every record in its scope, to be reconciled against.
 *
 * Crash safety. Under the registry lock, for each agency: the bundle is
 * built and encrypted in memory (an unusable key fails that agency with
 * nothing written); then work/export/<agency> is written, naming the
 * bundle's sequence number, the change counter it covers and the ids it
 * holds; then the bundle itself; and at the end one registry commit
 * records the new numbers and the "sent" marks, after which the work
 * files are removed. A run that finds a work file left by a killed run
 * completes it first: when its bundle exists the bundle counts as sent;
 * when it does not, its sequence number is still used up (the file may
 * have been collected already) and the changes go into the next bundle.
 * So no change is lost and no sequence number is used for two different
 * bundles.
 *
 * SECURITY: decrypts records and writes them out, encrypted to exactly one
 * pinned key each; what an agency receives is its view (core/view.h) and
 * nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "export_int.h"
#include "../commands.h"
#include "../lib/archive.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../lib/gpg.h"
#include "../lib/seal.h"
#include "../core/view.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"


int exchange_scope_has(const struct agency *a, const char *ward, const char *center)
{
	switch (a->kind) {
	case AGENCY_WARD_OFFICE:
	case AGENCY_POLICE:
		return ward && ward[0] && wards_has(&a->wards, ward);
	case AGENCY_CARE_CENTER:
		return center && !strcmp(center, a->id);
	default:
		return 1;
	}
}

int exchange_in_scope(const struct agency *a, const struct reg_entry *e)
{
	return exchange_scope_has(a, e->ward, e->center);
}

#define state_long exchange_state_long
#define state_set_long exchange_state_set_long

static void bundle_rel(struct strbuf *sb, const char *from, const char *to, long n)
{
	strbuf_reset(sb);
	strbuf_addf(sb, SPOOL_OUTGOING "/%s/%s-%s-%ld" BUNDLE_SUFFIX, to, from, to, n);
}

static int by_id(const void *a, const void *b)
{
	return strcmp((*(struct reg_entry *const *)a)->id, (*(struct reg_entry *const *)b)->id);
}

/*
 * What agency a is due: every record and deletion in its scope changed
 * since the state it acknowledged (since), all of them with full. Returns
 * whether any of it changed after the last bundle written (written).
 */
static int collect(struct export *ex, const struct agency *a, long since, long written,
		   int full, struct pending *p)
{
	size_t i, n = registry_count(ex->reg);
	int fresh = 0;

	for (i = 0; i < n; i++) {
		struct reg_entry *e = registry_entry(ex->reg, i);
		int kind = exchange_due_kind(a, e);

		if (!kind || (e->seq <= since && !(full && kind == 1)))
			continue;
		if (full && kind == 2)
			continue;       /* a complete bundle deletes by leaving out */
		fresh |= e->seq > written;
		if (kind == 1) {
			ALLOC_GROW(p->records, p->nr_records + 1, p->alloc_records);
			p->records[p->nr_records++] = e;
		} else {
			ALLOC_GROW(p->deletions, p->nr_deletions + 1, p->alloc_deletions);
			p->deletions[p->nr_deletions++] = e;
		}
	}
	/* qsort() wants a pointer even for nothing (UBSan). */
	if (p->nr_records)
		qsort(p->records, p->nr_records, sizeof(*p->records), by_id);
	if (p->nr_deletions)
		qsort(p->deletions, p->nr_deletions, sizeof(*p->deletions), by_id);
	return fresh;
}

/*
 * receipts.xml for agency a: the sequences of its bundles applied since
 * the last receipt (receipt-due), the ids and versions of the records
 * from it applied since then, the ids destroyed. Empty when none is due.
 */
static void receipts_xml(struct export *ex, const struct agency *a, struct strbuf *out)
{
	const char *due = exchange_state_str(ex->reg, "receipt-due", a->id);
	long since = state_long(ex->reg, "receipt-seq", a->id);
	struct node *root;
	size_t i, n = registry_count(ex->reg);
	char date[11], buf[32];

	if (!due || !due[0])
		return;
	root = node_new("receipts");
	date_format(ex->today, date);
	while (*due) {
		struct node *ap = node_add(root, "applied", NULL);

		snprintf(buf, sizeof(buf), "%ld", atol(due));
		node_set_attr(ap, "sequence", buf);
		node_set_attr(ap, "date", date);
		due += strcspn(due, ",");
		due += *due == ',';
	}
	for (i = 0; i < n; i++) {
		struct reg_entry *e = registry_entry(ex->reg, i);
		struct node *r;

		if (e->seq <= since || !exchange_is_from(e, a->id))
			continue;
		if (e->state == REG_ACTIVE) {
			r = node_add(root, "record", NULL);
			snprintf(buf, sizeof(buf), "%d", e->version);
			node_set_attr(r, "id", e->id);
			node_set_attr(r, "version", buf);
		} else {
			node_set_attr(node_add(root, "destroyed", NULL), "id", e->id);
		}
	}
	node_write(root, out);
	node_free(root);
}

void export_deletions_xml(struct export *ex, const struct pending *p, struct strbuf *out)
{
	struct node *root = node_new("deletions");
	size_t i;

	for (i = 0; i < p->nr_deletions; i++) {
		const struct reg_entry *e = p->deletions[i];
		struct node *d = node_add(root, "deletion", NULL);
		char date[11];

		node_set_attr(d, "id", e->id);
		if (e->state == REG_ACTIVE) {
			/* Still ours, but no longer the agency's (a ward change). */
			date_format(ex->today, date);
			node_set_attr(d, "date", date);
			node_set_attr(d, "reason", "out-of-scope");
		} else {
			date_format(e->destroyed >= 0 ? e->destroyed : ex->today, date);
			node_set_attr(d, "date", date);
			node_set_attr(d, "reason", e->reason[0] ? e->reason : "other");
		}
	}
	node_write(root, out);
	node_free(root);
}

static int make_dir(const struct spool *sp, const char *rel)
{
	char *p = spool_path(sp, rel);
	int ret = 0;

	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		ret = error_errno("cannot create '%s'", rel);
	free(p);
	return ret;
}

static void work_rel(struct strbuf *sb, const char *agency)
{
	strbuf_reset(sb);
	strbuf_addf(sb, SPOOL_WORK_EXPORT "/%s", agency);
}

/* The list of ids bundle n holds (exchange.h), before the bundle. */
static int write_bundle_ids(const struct spool *sp, const char *to, long n, long since,
			    const struct pending *p)
{
	struct strbuf rel = STRBUF_INIT, text = STRBUF_INIT;
	size_t i;
	int ret;

	strbuf_addf(&rel, SPOOL_WORK_BUNDLES "/%s-%ld", to, n);
	strbuf_addf(&text, "to=%s\nn=%ld\nsince=%ld\n", to, n, since);
	for (i = 0; i < p->nr_records; i++)
		strbuf_addf(&text, "%s\n", p->records[i]->id);
	ret = spool_commit(sp, rel.buf, text.buf, text.len);
	strbuf_release(&rel);
	strbuf_release(&text);
	return ret;
}

/* Write, for one agency, its bundle if it is due one. */
/* Bundle n to a, covering the change counter seq, is in outgoing/. */
static void written(struct export *ex, const struct agency *a, long n, long seq,
		    int receipts)
{
	state_set_long(ex->reg, "export-n", a->id, n);
	state_set_long(ex->reg, "export-seq", a->id, seq);
	state_set_long(ex->reg, "export-date", a->id, ex->today);
	exchange_log_sent(ex->reg, a->id, n, seq, ex->today);
	if (receipts) {
		exchange_state_set_str(ex->reg, "receipt-due", a->id, NULL);
		state_set_long(ex->reg, "receipt-seq", a->id, seq);
	}
}

/*
 * Whether agency a is due a bundle, and what goes in it (with full: a
 * complete bundle whatever is due). Due: a change since the last bundle
 * written; a receipt for bundles applied from it; or changes it has not
 * acknowledged while the last bundle is from an earlier day (lost on the
 * way, or not yet carried back: it is sent again, cumulatively).
 */
static int plan(struct export *ex, const struct agency *a, int full, struct export_out *o)
{
	const struct spool *sp = &ex->ctx->spool;
	long since = state_long(ex->reg, "export-seq", a->id);
	long acked = state_long(ex->reg, "ack-seq", a->id);
	int fresh, stale;

	memset(o, 0, sizeof(*o));
	o->a = a;
	o->full = full;
	o->fd = o->in_fd = -1;
	strbuf_init(&o->receipts, 0);
	strbuf_init(&o->rel, 0);
	strbuf_init(&o->work, 0);
	strbuf_init(&o->tmp, 0);
	fresh = collect(ex, a, acked, since, full, &o->p);
	receipts_xml(ex, a, &o->receipts);
	stale = (o->p.nr_records || o->p.nr_deletions) &&
		state_long(ex->reg, "export-date", a->id) < ex->today;
	if (!full && !fresh && !stale && !o->receipts.len)
		return 0;
	o->previous = full ? 0 : state_long(ex->reg, "ack-n", a->id);
	o->seq = registry_seq(ex->reg);
	o->n = state_long(ex->reg, "export-n", a->id) + 1;
	for (;;) {
		/* Never reuse a number whose file is there. */
		bundle_rel(&o->rel, ex->ctx->cfg.self->id, a->id, o->n);
		if (!spool_exists(sp, o->rel.buf))
			break;
		o->n++;
	}
	work_rel(&o->work, a->id);
	return 1;
}

static void out_release(struct export_out *o)
{
	strbuf_release(&o->receipts);
	strbuf_release(&o->rel);
	strbuf_release(&o->work);
	strbuf_release(&o->tmp);
	free(o->p.records);
	free(o->p.deletions);
}

/* Before the bundle: its work file and its id list (see the top). */
static int prepare(struct export *ex, struct export_out *o)
{
	const struct spool *sp = &ex->ctx->spool;
	struct strbuf text = STRBUF_INIT, dir = STRBUF_INIT;
	size_t i;
	int ret;

	strbuf_addf(&dir, SPOOL_OUTGOING "/%s", o->a->id);
	strbuf_addf(&text, "n=%ld\nseq=%ld\nreceipts=%d\n", o->n, o->seq, o->receipts.len > 0);
	for (i = 0; i < o->p.nr_records; i++)
		strbuf_addf(&text, "%s\n", o->p.records[i]->id);
	ret = make_dir(sp, dir.buf) < 0 ||
	      spool_commit(sp, o->work.buf, text.buf, text.len) < 0 ||
	      write_bundle_ids(sp, o->a->id, o->n,
			       state_long(ex->reg, "export-seq", o->a->id), &o->p) < 0 ? -1 : 0;
	if (ret == 0)
		strlist_add(&ex->done, o->work.buf);
	strbuf_release(&text);
	strbuf_release(&dir);
	return ret;
}

/* After the bundle: the registry's record of it (committed by the caller). */
static void sent(struct export *ex, struct export_out *o)
{
	size_t i;

	for (i = 0; i < o->p.nr_records; i++)
		registry_mark_sent(ex->reg, o->p.records[i], o->a->id);
	written(ex, o->a, o->n, o->seq, o->receipts.len > 0);
	printf("wrote %s %zu records, %zu deletions%s%s\n", o->rel.buf, o->p.nr_records,
	       o->p.nr_deletions, o->receipts.len ? ", receipts" : "",
	       o->full ? " (complete)" : "");
	audit_add("bundle", "to=%s seq=%ld previous=%ld records=%zu deletions=%zu receipts=%d "
		  "complete=%d file=%s", o->a->id, o->n, o->previous, o->p.nr_records,
		  o->p.nr_deletions, o->receipts.len > 0, o->full, o->rel.buf);
	ex->bundles++;
}

/* Every bundle due (or the complete one for full), written at once. */
static void export_all(struct export *ex, const struct agency *full)
{
	const struct config *cfg = &ex->ctx->cfg;
	struct export_out *outs = xcalloc(cfg->nr_agencies, sizeof(*outs));
	size_t i, nr = 0;

	for (i = 0; i < cfg->nr_agencies; i++) {
		const struct agency *a = &cfg->agencies[i];

		if (a == cfg->self || (full && full != a))
			continue;
		if (plan(ex, a, full != NULL, &outs[nr]))
			nr++;
		else
			out_release(&outs[nr]);
	}
	export_write(ex, outs, nr, prepare);
	for (i = 0; i < nr; i++) {
		if (!outs[i].failed)
			sent(ex, &outs[i]);
		out_release(&outs[i]);
	}
	free(outs);
}

/* Complete what a killed run left in work/export/ (see the top). */
static void recover(struct export *ex)
{
	const struct spool *sp = &ex->ctx->spool;
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(sp, SPOOL_WORK_EXPORT);
	size_t i;

	dir_list(dir, &names, 1);
	for (i = 0; i < names.nr; i++) {
		const struct agency *a = config_agency(&ex->ctx->cfg, names.items[i]);
		struct strbuf work = STRBUF_INIT, text = STRBUF_INIT, rel = STRBUF_INIT;
		char *line, *save = NULL, *path = path_join(dir, names.items[i]);
		long n = 0, seq = -1;
		int r, receipts = 0;

		work_rel(&work, names.items[i]);
		strlist_add(&ex->done, work.buf);
		r = a ? strbuf_read_file(&text, path, 1 << 24) : -1;
		free(path);
		if (r < 0)
			goto next;
		for (line = strtok_r(text.buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			struct reg_entry *e;

			if (!strncmp(line, "n=", 2))
				n = atol(line + 2);
			else if (!strncmp(line, "seq=", 4))
				seq = atol(line + 4);
			else if (!strncmp(line, "receipts=", 9))
				receipts = atoi(line + 9);
			else if ((e = registry_find(ex->reg, line)))
				/* It may have reached the agency: a later deletion must too. */
				registry_mark_sent(ex->reg, e, a->id);
		}
		if (n <= state_long(ex->reg, "export-n", a->id))
			goto next;
		state_set_long(ex->reg, "export-n", a->id, n);
		bundle_rel(&rel, ex->ctx->cfg.self->id, a->id, n);
		if (spool_exists(sp, rel.buf) && seq >= 0) {
			written(ex, a, n, seq, receipts);
			printf("wrote %s (completed after an interruption)\n", rel.buf);
		}
		audit_add("recover", "to=%s seq=%ld written=%d", a->id, n,
			  spool_exists(sp, rel.buf));
next:
		strbuf_release(&work);
		strbuf_release(&text);
		strbuf_release(&rel);
	}
	strlist_clear(&names);
	free(dir);
}

/* After the commit: the work files are done with. */
static void finish(struct export *ex)
{
	char *dir = spool_path(&ex->ctx->spool, SPOOL_WORK_EXPORT);
	size_t i;

	for (i = 0; i < ex->done.nr; i++) {
		char *p = spool_path(&ex->ctx->spool, ex->done.items[i]);

		if (unlink(p) < 0 && errno != ENOENT)
			error_errno("cannot remove '%s'", p);
		free(p);
	}
	if (ex->done.nr)
		fsync_dir(dir);
	free(dir);
	strlist_clear(&ex->done);
}

int cmd_export(int argc, char **argv, struct context *ctx)
{
	const struct config *cfg = &ctx->cfg;
	const struct agency *full = NULL;
	struct export ex;
	int ret = 0;

	if (argc == 3 && !strcmp(argv[1], "--full")) {
		full = config_agency(cfg, argv[2]);
		if (!full || full == cfg->self) {
			error("--full '%s': not another agency of the configuration", argv[2]);
			return EX_USAGE;
		}
	} else if (argc != 1) {
		fprintf(stderr, "usage: mimamori export [--full AGENCY]\n");
		return EX_USAGE;
	}
	memset(&ex, 0, sizeof(ex));
	ex.ctx = ctx;
	ex.today = clock_today();
	if (make_dir(&ctx->spool, SPOOL_WORK_EXPORT) < 0 ||
	    make_dir(&ctx->spool, SPOOL_WORK_BUNDLES) < 0)
		return EX_IOERR;
	if (registry_open(&ex.reg, cfg, &ctx->spool, 1) < 0)
		return EX_SOFTWARE;
	recover(&ex);
	/* What was recovered is made durable before new work files replace
	 * the old ones: two runs killed in a row must not lose the first
	 * one's "sent" marks, or a later deletion never reaches the agency. */
	if (ex.done.nr) {
		if (registry_commit(ex.reg) < 0)
			ex.io_error = 1;
		else
			finish(&ex);
	}
	if (!ex.io_error)
		export_all(&ex, full);
	if (ex.done.nr) {
		if (registry_commit(ex.reg) < 0)
			ex.io_error = 1;
		else
			finish(&ex);
	}
	fflush(stdout);
	audit_add("done", "bundles=%zu", ex.bundles);
	strlist_clear(&ex.done);
	registry_close(ex.reg);
	if (ex.io_error)
		ret = EX_IOERR;
	else if (ex.agent_down)
		ret = EX_UNAVAILABLE;
	else if (ex.key_error)
		ret = EX_CONFIG;
	return ret;
}
