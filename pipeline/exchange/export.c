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
#include "exchange.h"
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

#define WORK_DIR SPOOL_WORK "/export"

struct cached_view {
	char id[24];
	char *xml[AUDIENCE_MAX];
	size_t len[AUDIENCE_MAX];
};

struct export {
	struct context *ctx;
	struct registry *reg;
	struct hashmap views;       /* id -> struct cached_view */
	struct strlist view_ids;
	struct strlist done;        /* work files to remove after the commit */
	long today;
	int key_error, io_error, agent_down;
	size_t bundles;
};

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

/* The view of e for audience a, made once per run. NULL (reported) on error. */
static const struct cached_view *view_of(struct export *ex, struct reg_entry *e,
					 enum audience a)
{
	struct cached_view *cv = hashmap_get(&ex->views, e->id);
	struct node *record, *view;
	struct strbuf sb = STRBUF_INIT;

	if (cv && cv->xml[a])
		return cv;
	if (registry_load(ex->reg, e, &record) < 0)
		return NULL;
	if (!cv) {
		cv = xcalloc(1, sizeof(*cv));
		snprintf(cv->id, sizeof(cv->id), "%s", e->id);
		hashmap_put(&ex->views, cv->id, cv);
		strlist_add(&ex->view_ids, cv->id);
	}
	view = view_make(record, a, ex->today);
	node_write(view, &sb);
	cv->xml[a] = strbuf_detach(&sb, &cv->len[a]);
	node_free(view);
	node_free(record);
	return cv;
}

static void views_clear(struct export *ex)
{
	size_t i;
	int a;

	for (i = 0; i < ex->view_ids.nr; i++) {
		struct cached_view *cv = hashmap_get(&ex->views, ex->view_ids.items[i]);

		for (a = 0; a < AUDIENCE_MAX; a++) {
			if (cv->xml[a]) {
				wipe(cv->xml[a], cv->len[a]);
				free(cv->xml[a]);
			}
		}
		/* Its key is cv->id: out of the map before it is freed. */
		hashmap_remove(&ex->views, ex->view_ids.items[i]);
		free(cv);
	}
	hashmap_clear(&ex->views);
	strlist_clear(&ex->view_ids);
}

/* What one agency is due. */
struct pending {
	struct reg_entry **records;
	size_t nr_records, alloc_records;
	struct reg_entry **deletions;
	size_t nr_deletions, alloc_deletions;
};

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

static void deletions_xml(struct export *ex, const struct pending *p, struct strbuf *out)
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

static void manifest_xml(const char *from, const char *to, long n, long previous,
			 int full, const struct tar_file *files, size_t nr, struct strbuf *out)
{
	struct node *root = node_new("manifest"), *entries;
	char buf[32];
	size_t i;

	if (full)
		node_set_attr(root, "complete", "yes");
	node_add(root, "from", from);
	node_add(root, "to", to);
	snprintf(buf, sizeof(buf), "%ld", n);
	node_add(root, "sequence", buf);
	snprintf(buf, sizeof(buf), "%ld", previous);
	node_add(root, "previous", buf);
	datetime_format(clock_now(), buf);
	node_add(root, "created", buf);
	entries = node_add(root, "entries", NULL);
	for (i = 0; i < nr; i++) {
		struct node *en = node_add(entries, "entry", NULL);
		struct strbuf hex = STRBUF_INIT;
		char size[32];

		sha256_hex(files[i].data, files[i].len, &hex);
		snprintf(size, sizeof(size), "%zu", files[i].len);
		node_set_attr(en, "name", files[i].name);
		node_set_attr(en, "sha256", hex.buf);
		node_set_attr(en, "size", size);
		strbuf_release(&hex);
	}
	node_write(root, out);
	node_free(root);
}

/*
 * The plaintext tar of a bundle: manifest.xml, deletions.xml (empty when
 * there are no deletions), records/<id>.xml. -1 (reported) when a record
 * cannot be read.
 */
static int build_tar(struct export *ex, const struct agency *a, long n, long previous,
		     int full, const struct pending *p, const struct strbuf *receipts,
		     struct strbuf *tar)
{
	enum audience aud = audience_of(a->kind);
	struct tar_file *files = xcalloc(p->nr_records + 3, sizeof(*files));
	struct strbuf manifest = STRBUF_INIT, dels = STRBUF_INIT, why = STRBUF_INIT;
	size_t i, nr = 1;
	int ret = -1;

	/* deletions.xml always (mimamori-spool(5)), empty when there are none. */
	deletions_xml(ex, p, &dels);
	files[nr].name = xstrdup("deletions.xml");
	files[nr].data = dels.buf;
	files[nr++].len = dels.len;
	if (receipts->len) {
		files[nr].name = xstrdup("receipts.xml");
		files[nr].data = receipts->buf;
		files[nr++].len = receipts->len;
	}
	for (i = 0; i < p->nr_records; i++) {
		const struct cached_view *cv = view_of(ex, p->records[i], aud);
		struct strbuf name = STRBUF_INIT;

		if (!cv)
			goto out;
		strbuf_addf(&name, "records/%s.xml", cv->id);
		files[nr].name = strbuf_detach(&name, NULL);
		files[nr].data = cv->xml[aud];
		files[nr++].len = cv->len[aud];
	}
	manifest_xml(ex->ctx->cfg.self->id, a->id, n, previous, full, files + 1, nr - 1,
		     &manifest);
	files[0].name = xstrdup("manifest.xml");
	files[0].data = manifest.buf;
	files[0].len = manifest.len;
	if (tar_create(files, nr, (long long)clock_now(), tar, &why) < 0) {
		error("bundle for '%s': %s", a->id, why.buf);
		goto out;
	}
	ret = 0;
out:
	for (i = 0; i < nr; i++)
		free(files[i].name);
	free(files);
	strbuf_release(&manifest);
	strbuf_release(&dels);
	strbuf_release(&why);
	return ret;
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
	strbuf_addf(sb, WORK_DIR "/%s", agency);
}

/* The list of ids bundle n holds (exchange.h), before the bundle. */
static int write_bundle_ids(const struct spool *sp, const char *to, long n, long since,
			    const struct pending *p)
{
	struct strbuf rel = STRBUF_INIT, text = STRBUF_INIT;
	size_t i;
	int ret;

	strbuf_addf(&rel, EXCHANGE_BUNDLE_IDS "/%s-%ld", to, n);
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
 * Write, for one agency, its bundle if it is due one (with full: a
 * complete bundle whatever is due). Due: a change since the last bundle
 * written; a receipt for bundles applied from it; or changes it has not
 * acknowledged while the last bundle is from an earlier day (lost on the
 * way, or not yet carried back: it is sent again, cumulatively).
 */
static void export_one(struct export *ex, const struct agency *a, int full)
{
	const struct config *cfg = &ex->ctx->cfg;
	const struct spool *sp = &ex->ctx->spool;
	struct pending p;
	struct strbuf tar = STRBUF_INIT, ct = STRBUF_INIT, why = STRBUF_INIT,
		      rel = STRBUF_INIT, work = STRBUF_INIT, dir = STRBUF_INIT,
		      receipts = STRBUF_INIT;
	const char *recipients[2] = { a->key, NULL };
	long n, since = state_long(ex->reg, "export-seq", a->id);
	long acked = state_long(ex->reg, "ack-seq", a->id);
	long previous = full ? 0 : state_long(ex->reg, "ack-n", a->id);
	int fresh, stale;
	size_t i;

	memset(&p, 0, sizeof(p));
	fresh = collect(ex, a, acked, since, full, &p);
	receipts_xml(ex, a, &receipts);
	stale = (p.nr_records || p.nr_deletions) &&
		state_long(ex->reg, "export-date", a->id) < ex->today;
	if (!full && !fresh && !stale && !receipts.len)
		goto out;
	n = state_long(ex->reg, "export-n", a->id) + 1;
	for (;;) {
		/* Never reuse a number whose file is there. */
		bundle_rel(&rel, cfg->self->id, a->id, n);
		if (!spool_exists(sp, rel.buf))
			break;
		n++;
	}
	if (build_tar(ex, a, n, previous, full, &p, &receipts, &tar) < 0) {
		ex->io_error = 1;
		goto out;
	}
	if (gpg_encrypt(recipients, cfg->self->key, tar.buf, tar.len, &ct, &why) < 0) {
		error("no bundle for '%s': %s", a->id, why.buf);
		if (gpg_agent_down(cfg->self->key)) {
			/* Not the key's fault: stop, the changes stay pending. */
			error("gpg-agent cannot be reached: the other bundles wait too");
			ex->agent_down = 1;
			goto out;
		}
		audit_add("fail", "to=%s reason=key", a->id);
		/* An agency whose key expired or was revoked is left out (its
		 * changes stay pending for it), not a broken configuration. */
		if (!gpg_key_lapsed(a->key))
			ex->key_error = 1;
		goto out;
	}
	strbuf_addf(&dir, SPOOL_OUTGOING "/%s", a->id);
	work_rel(&work, a->id);
	strbuf_reset(&why);
	strbuf_addf(&why, "n=%ld\nseq=%ld\nreceipts=%d\n", n, registry_seq(ex->reg),
		    receipts.len > 0);
	for (i = 0; i < p.nr_records; i++)
		strbuf_addf(&why, "%s\n", p.records[i]->id);
	if (make_dir(sp, dir.buf) < 0 ||
	    spool_commit(sp, work.buf, why.buf, why.len) < 0 ||
	    write_bundle_ids(sp, a->id, n, since, &p) < 0 ||
	    spool_commit(sp, rel.buf, ct.buf, ct.len) < 0) {
		ex->io_error = 1;
		goto out;
	}
	for (i = 0; i < p.nr_records; i++)
		registry_mark_sent(ex->reg, p.records[i], a->id);
	written(ex, a, n, registry_seq(ex->reg), receipts.len > 0);
	strlist_add(&ex->done, work.buf);
	printf("wrote %s %zu records, %zu deletions%s%s\n", rel.buf, p.nr_records,
	       p.nr_deletions, receipts.len ? ", receipts" : "", full ? " (complete)" : "");
	audit_add("bundle", "to=%s seq=%ld previous=%ld records=%zu deletions=%zu receipts=%d "
		  "complete=%d bytes=%zu file=%s", a->id, n, previous, p.nr_records,
		  p.nr_deletions, receipts.len > 0, full, ct.len, rel.buf);
	ex->bundles++;
out:
	if (tar.len)
		wipe(tar.buf, tar.len);
	strbuf_release(&tar);
	strbuf_release(&ct);
	strbuf_release(&why);
	strbuf_release(&rel);
	strbuf_release(&work);
	strbuf_release(&dir);
	strbuf_release(&receipts);
	free(p.records);
	free(p.deletions);
}

/* Complete what a killed run left in work/export/ (see the top). */
static void recover(struct export *ex)
{
	const struct spool *sp = &ex->ctx->spool;
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(sp, WORK_DIR);
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
	char *dir = spool_path(&ex->ctx->spool, WORK_DIR);
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
	size_t i;
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
	if (make_dir(&ctx->spool, WORK_DIR) < 0 ||
	    make_dir(&ctx->spool, EXCHANGE_BUNDLE_IDS) < 0)
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
	for (i = 0; i < cfg->nr_agencies && !ex.io_error && !ex.agent_down; i++)
		if (&cfg->agencies[i] != cfg->self && (!full || full == &cfg->agencies[i]))
			export_one(&ex, &cfg->agencies[i], full != NULL);
	if (ex.done.nr) {
		if (registry_commit(ex.reg) < 0)
			ex.io_error = 1;
		else
			finish(&ex);
	}
	fflush(stdout);
	audit_add("done", "bundles=%zu", ex.bundles);
	views_clear(&ex);
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
