/*
 * export - write, for every other agency with pending changes in its
 * scope, one bundle outgoing/<agency>/<from>-<to>-<seq>.tar.gpg (see
 * exchange.h): the agency's view of every record new or changed since its
 * last bundle, and the deletions of records it was sent that were
 * destroyed or left its scope since.
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

static long state_long(struct registry *reg, const char *prefix, const char *agency)
{
	struct strbuf key = STRBUF_INIT;
	const char *v;
	long n;

	strbuf_addf(&key, "%s:%s", prefix, agency);
	v = registry_state_get(reg, key.buf);
	n = v ? atol(v) : 0;
	strbuf_release(&key);
	return n;
}

static void state_set_long(struct registry *reg, const char *prefix, const char *agency,
			   long n)
{
	struct strbuf key = STRBUF_INIT;
	char val[32];

	strbuf_addf(&key, "%s:%s", prefix, agency);
	snprintf(val, sizeof(val), "%ld", n);
	registry_state_set(reg, key.buf, val);
	strbuf_release(&key);
}

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

static void collect(struct export *ex, const struct agency *a, long since,
		    struct pending *p)
{
	size_t i, n = registry_count(ex->reg);

	for (i = 0; i < n; i++) {
		struct reg_entry *e = registry_entry(ex->reg, i);

		if (e->seq <= since || registry_was_sent(e, EXCHANGE_IMPORTED))
			continue;
		if (e->state == REG_ACTIVE && exchange_in_scope(a, e)) {
			ALLOC_GROW(p->records, p->nr_records + 1, p->alloc_records);
			p->records[p->nr_records++] = e;
		} else if (registry_was_sent(e, a->id)) {
			ALLOC_GROW(p->deletions, p->nr_deletions + 1, p->alloc_deletions);
			p->deletions[p->nr_deletions++] = e;
		}
	}
	/* qsort() wants a pointer even for nothing (UBSan). */
	if (p->nr_records)
		qsort(p->records, p->nr_records, sizeof(*p->records), by_id);
	if (p->nr_deletions)
		qsort(p->deletions, p->nr_deletions, sizeof(*p->deletions), by_id);
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

static void manifest_xml(const char *from, const char *to, long n,
			 const struct tar_file *files, size_t nr, struct strbuf *out)
{
	struct node *root = node_new("manifest"), *entries;
	char buf[32];
	size_t i;

	node_add(root, "from", from);
	node_add(root, "to", to);
	snprintf(buf, sizeof(buf), "%ld", n);
	node_add(root, "sequence", buf);
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
static int build_tar(struct export *ex, const struct agency *a, long n,
		     const struct pending *p, struct strbuf *tar)
{
	enum audience aud = audience_of(a->kind);
	struct tar_file *files = xcalloc(p->nr_records + 2, sizeof(*files));
	struct strbuf manifest = STRBUF_INIT, dels = STRBUF_INIT, why = STRBUF_INIT;
	size_t i, nr = 1;
	int ret = -1;

	/* deletions.xml always (mimamori-spool(5)), empty when there are none. */
	deletions_xml(ex, p, &dels);
	files[nr].name = xstrdup("deletions.xml");
	files[nr].data = dels.buf;
	files[nr++].len = dels.len;
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
	manifest_xml(ex->ctx->cfg.self->id, a->id, n, files + 1, nr - 1, &manifest);
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
static void export_one(struct export *ex, const struct agency *a)
{
	const struct config *cfg = &ex->ctx->cfg;
	const struct spool *sp = &ex->ctx->spool;
	struct pending p;
	struct strbuf tar = STRBUF_INIT, ct = STRBUF_INIT, why = STRBUF_INIT,
		      rel = STRBUF_INIT, work = STRBUF_INIT, dir = STRBUF_INIT;
	const char *recipients[2] = { a->key, NULL };
	long n, since = state_long(ex->reg, "export-seq", a->id);
	size_t i;

	memset(&p, 0, sizeof(p));
	collect(ex, a, since, &p);
	if (!p.nr_records && !p.nr_deletions)
		goto out;
	n = state_long(ex->reg, "export-n", a->id) + 1;
	for (;;) {
		/* Never reuse a number whose file is there. */
		bundle_rel(&rel, cfg->self->id, a->id, n);
		if (!spool_exists(sp, rel.buf))
			break;
		n++;
	}
	if (build_tar(ex, a, n, &p, &tar) < 0) {
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
	strbuf_addf(&why, "n=%ld\nseq=%ld\n", n, registry_seq(ex->reg));
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
	state_set_long(ex->reg, "export-n", a->id, n);
	state_set_long(ex->reg, "export-seq", a->id, registry_seq(ex->reg));
	strlist_add(&ex->done, work.buf);
	printf("wrote %s %zu records, %zu deletions\n", rel.buf, p.nr_records,
	       p.nr_deletions);
	audit_add("bundle", "to=%s seq=%ld records=%zu deletions=%zu bytes=%zu file=%s", a->id,
		  n, p.nr_records, p.nr_deletions, ct.len, rel.buf);
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
	free(p.records);
	free(p.deletions);
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
		int r;

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
			else if ((e = registry_find(ex->reg, line)))
				/* It may have reached the agency: a later deletion must too. */
				registry_mark_sent(ex->reg, e, a->id);
		}
		if (n <= state_long(ex->reg, "export-n", a->id))
			goto next;
		state_set_long(ex->reg, "export-n", a->id, n);
		bundle_rel(&rel, ex->ctx->cfg.self->id, a->id, n);
		if (spool_exists(sp, rel.buf) && seq >= 0) {
			state_set_long(ex->reg, "export-seq", a->id, seq);
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
	struct export ex;
	size_t i;
	int ret = 0;

	if (argc != 1) {
		fprintf(stderr, "usage: mimamori export\n");
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
	for (i = 0; i < cfg->nr_agencies && !ex.io_error && !ex.agent_down; i++)
		if (&cfg->agencies[i] != cfg->self)
			export_one(&ex, &cfg->agencies[i]);
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
