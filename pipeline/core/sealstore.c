/*
 * sealstore - the sealed store's skeleton, shared by the registry and the
 * alert store (see sealstore.h): lock, data key, index load with the
 * store's own line parser, the guard against a lost index, the cleaning
 * of files the index does not name, entries by id, serials per year,
 * notes, and the commit order (item files, index, after-commit batch,
 * removals).
 *
 * Reads and writes the store's index and item files under spool/.
 *
 * SECURITY: the index plaintext is wiped after it is parsed; it holds no
 * personal data in clear by each store's own rule, but it is sealed all
 * the same (sealidx.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sealstore.h"
#include "datakey.h"
#include "../lib/seal.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

static void note_year(struct sealstore *st, const char *id)
{
	int year;
	long n;

	if (id[0] == st->ops->id_letter && sscanf(id + 1, "%4d-%ld", &year, &n) == 2)
		sealidx_year_note(&st->years, year, n);
}

void *sealstore_entry_add(struct sealstore *st, const char *id)
{
	char *e = xcalloc(1, st->ops->entry_size);

	snprintf(e, 24, "%s", id);
	ALLOC_GROW(st->entries, st->nr + 1, st->alloc);
	st->entries[st->nr++] = e;
	hashmap_put(&st->by_id, e, e);
	note_year(st, id);
	return e;
}

void *sealstore_find(const struct sealstore *st, const char *id)
{
	return hashmap_get(&st->by_id, id);
}

long sealstore_next_serial(struct sealstore *st, int year)
{
	return sealidx_year_max(&st->years, year) + 1;
}

static int index_parse(struct sealstore *st, char *text)
{
	const char *what = st->ops->what;
	char *line, *save = NULL;
	long lineno = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[20];
		int nf;

		lineno++;
		if (lineno == 1) {
			if (st->ops->header(st->owner, line) < 0)
				return error("%s index: bad header", what);
			continue;
		}
		nf = sealidx_split(line, f, 20);
		if (nf == 3 && !strcmp(f[0], "N"))
			sealidx_kv_add(&st->notes, f[1], f[2]);
		else if (st->ops->line(st->owner, f, nf) < 0)
			return error("%s index: bad line %ld", what, lineno);
	}
	if (!lineno)
		return error("%s index: empty", what);
	strlist_sort(&st->notes);
	return 0;
}

static int index_load(struct sealstore *st)
{
	struct strbuf plain = STRBUF_INIT;
	int ret = sealidx_read(st->sp, st->key, st->ops->index_rel, st->ops->index_aad,
			       st->ops->index_max, &plain);

	if (!ret)
		ret = index_parse(st, plain.buf);
	if (plain.len)
		wipe(plain.buf, plain.len);
	strbuf_release(&plain);
	return ret;
}

/* The store's lines, then the notes this commit leaves. */
static int index_fill(void *ctx, struct strbuf *out)
{
	struct sealstore *st = ctx;
	const struct strlist *notes;
	size_t i;

	if (st->ops->fill(st->owner, out))
		return 1;
	notes = st->new_notes.nr || !st->ops->keep_notes ? &st->new_notes : &st->notes;
	for (i = 0; i < notes->nr; i++)
		strbuf_addf(out, "N\t%s\n", notes->items[i]);
	return 0;
}

/* Streamed: a registry's index at 100,000 people is 19 MB. */
static int index_store(struct sealstore *st)
{
	return sealidx_commit_stream(st->sp, st->key, st->ops->index_rel, st->ops->index_aad,
				     index_fill, st);
}

/* The index's own name when it lives among the item files, else NULL. */
static const char *index_name(const struct sealstore *st)
{
	const char *rel = st->ops->index_rel, *slash = strrchr(rel, '/');
	size_t dlen = strlen(st->ops->dir);

	if (slash && (size_t)(slash - rel) == dlen && !strncmp(rel, st->ops->dir, dlen))
		return slash + 1;
	return NULL;
}

/* Whether the store's folder holds item files (anything but its index). */
static int items_present(const struct sealstore *st)
{
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(st->sp, st->ops->dir);
	const char *self = index_name(st);
	size_t i;
	int any = 0;

	dir_list(dir, &names, 1);
	for (i = 0; i < names.nr && !any; i++)
		any = !self || strcmp(names.items[i], self);
	strlist_clear(&names);
	free(dir);
	return any;
}

/* The index itself, when it lives among the items; else the store decides. */
static int keep_file(void *ctx, const char *id, const char *version)
{
	struct sealstore *st = ctx;
	const char *self = index_name(st);

	if (self && !version && !strcmp(id, self))
		return 1;
	return st->ops->keep(st->owner, id, version);
}

int sealstore_open(struct sealstore *st, const struct sealstore_ops *ops, void *owner,
		   const struct config *cfg, const struct spool *sp, int for_write)
{
	char *dir = spool_path(sp, ops->dir);
	int r, ret = -1;

	memset(st, 0, sizeof(*st));
	st->ops = ops;
	st->owner = owner;
	st->cfg = cfg;
	st->sp = sp;
	st->lockfd = -1;
	spool_batch_init(&st->batch, sp);
	spool_batch_init(&st->after, sp);
	if (mkdir_p(dir, 0700) < 0) {
		error_errno("cannot create '%s'", dir);
		goto out;
	}
	if (for_write && (st->lockfd = spool_lock(sp, ops->lock)) < 0)
		goto out;
	if (datakey_get(cfg, sp, &st->key) < 0)
		goto out;
	r = index_load(st);
	if (r < 0)
		goto out;
	if (r == 1) {
		/*
		 * No index: a new store, whose empty index is written first so
		 * that a missing index later always means damage. Starting
		 * again over item files would remove them all at the cleaning
		 * below and give their ids out again.
		 */
		if (items_present(st)) {
			error("%s index '%s/%s' is missing but %s files exist; restore it "
			      "from a backup", ops->what, sp->root, ops->index_rel, ops->what);
			goto out;
		}
		if (for_write && index_store(st) < 0)
			goto out;
	}
	if (for_write && sealidx_clean(sp, ops->dir, keep_file, st) < 0)
		goto out;
	ret = 0;
out:
	free(dir);
	return ret;
}

void sealstore_release(struct sealstore *st)
{
	size_t i;

	for (i = 0; i < st->nr; i++)
		free(st->entries[i]);
	free(st->entries);
	st->entries = NULL;
	st->nr = st->alloc = 0;
	hashmap_clear(&st->by_id);
	sealidx_years_release(&st->years);
	strlist_clear(&st->notes);
	strlist_clear(&st->new_notes);
	strlist_clear(&st->obsolete);
	spool_batch_release(&st->batch);
	spool_batch_release(&st->after);
	spool_unlock(st->lockfd);
	st->lockfd = -1;
}

void sealstore_note(struct sealstore *st, const char *key, const char *value)
{
	if (strpbrk(key, "\t\n") || strpbrk(value, "\t\n"))
		msg_panic("%s note with a tab or newline", st->ops->what);
	sealidx_kv_add(&st->new_notes, key, value);
}

const char *sealstore_note_get(const struct sealstore *st, const char *key)
{
	return sealidx_kv_get(&st->notes, key);
}

void sealstore_obsolete(struct sealstore *st, const char *rel)
{
	strlist_add(&st->obsolete, rel);
}

int sealstore_commit(struct sealstore *st)
{
	if (spool_batch_commit(&st->batch) < 0)
		return -1;
	if (index_store(st) < 0)
		return -1;
	/* The notes just committed are the ones a crash would need next. */
	if (st->new_notes.nr || !st->ops->keep_notes)
		sealidx_notes_rotate(&st->notes, &st->new_notes);
	if (spool_batch_commit(&st->after) < 0)
		return -1;
	sealidx_remove(st->sp, st->ops->dir, &st->obsolete);
	return 0;
}
