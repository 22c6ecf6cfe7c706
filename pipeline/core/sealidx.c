/*
 * sealidx - what the sealed stores (registry.c, alert.c) share: reading
 * and committing a sealed spool file, cleaning the files an index does
 * not name, "key\tvalue" notes, uncommitted items, serials per year and
 * keyed hashes. Reads and writes the files the stores name.
 *
 * SECURITY: the sealed files read here are treated as hostile until
 * unseal() has authenticated them; plain texts handed to the caller are
 * wiped by it, uncommitted items are wiped here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sealidx.h"
#include "../lib/seal.h"
#include "../lib/xml.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

int sealidx_read(const struct spool *sp, const unsigned char *key, const char *rel,
		 const char *aad, size_t max, struct strbuf *plain)
{
	struct strbuf raw = STRBUF_INIT;
	char *path = spool_path(sp, rel);
	int ret = -1;

	if (strbuf_read_file(&raw, path, max) < 0) {
		if (errno == ENOENT)
			ret = 1;
		else
			error_errno("cannot read '%s'", path);
	} else if (unseal_in_place(key, aad, &raw) < 0) {
		error("cannot open '%s': damaged, or sealed with another data key", path);
	} else {
		/* No second copy: an index can be tens of megabytes. */
		strbuf_release(plain);
		*plain = raw;
		strbuf_init(&raw, 0);
		ret = 0;
	}
	strbuf_release(&raw);
	free(path);
	return ret;
}

int sealidx_item_load(const struct spool *sp, const unsigned char *key, const char *what,
		      const char *rel, const char *aad, const char *pending, size_t max,
		      struct node **root)
{
	struct strbuf raw = STRBUF_INIT, plain = STRBUF_INIT, why = STRBUF_INIT;
	char *path = spool_path(sp, rel);
	int ret = -1;

	if (pending) {
		strbuf_addstr(&plain, pending);
	} else if (strbuf_read_file(&raw, path, max) < 0) {
		error_errno("cannot read %s '%s'", what, rel);
		goto out;
	} else if (unseal(key, aad, raw.buf, raw.len, &plain) < 0) {
		error("cannot open %s '%s': damaged or not ours", what, rel);
		goto out;
	}
	if (xml_parse(plain.buf, plain.len, max, XML_SCHEMA_NONE, root, &why) < 0) {
		error("%s '%s': %s", what, rel, why.buf);
		goto out;
	}
	ret = 0;
out:
	if (plain.len)
		wipe(plain.buf, plain.len);
	strbuf_release(&plain);
	strbuf_release(&raw);
	strbuf_release(&why);
	free(path);
	return ret;
}

int sealidx_commit(const struct spool *sp, const unsigned char *key, const char *rel,
		   const char *aad, struct strbuf *plain)
{
	int ret = seal_in_place(key, aad, plain);

	if (!ret)
		ret = spool_commit(sp, rel, plain->buf, plain->len);
	strbuf_release(plain);
	return ret;
}

struct stream_commit {
	const unsigned char *key;
	const char *aad;
	seal_fill_fn *fill;
	void *ctx;
	int fd;
	const char *rel;
};

static int stream_out(void *ctx, const void *data, size_t len)
{
	struct stream_commit *sc = ctx;

	if (write_full(sc->fd, data, len) < 0)
		return error_errno("cannot write '%s'", sc->rel);
	return 0;
}

static int stream_fill(void *ctx, struct strbuf *chunk)
{
	struct stream_commit *sc = ctx;

	return sc->fill(sc->ctx, chunk);
}

static int stream_write(void *ctx, int fd)
{
	struct stream_commit *sc = ctx;

	sc->fd = fd;
	return seal_stream(sc->key, sc->aad, stream_fill, stream_out, sc);
}

int sealidx_commit_stream(const struct spool *sp, const unsigned char *key, const char *rel,
			  const char *aad, seal_fill_fn *fill, void *ctx)
{
	struct stream_commit sc = { key, aad, fill, ctx, -1, rel };

	return spool_commit_stream(sp, rel, stream_write, &sc);
}

int sealidx_split(char *line, char **f, int max)
{
	char *p = line;
	int nf = 0;

	while (nf < max) {
		f[nf++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	return nf;
}

int sealidx_clean(const struct spool *sp, const char *dirrel, sealidx_keep_fn *keep,
		  void *ctx)
{
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(sp, dirrel);
	size_t i, removed = 0;
	int ret = 0;

	if (dir_list(dir, &names, 1) < 0) {
		ret = error_errno("cannot list '%s'", dir);
		goto out;
	}
	for (i = 0; i < names.nr; i++) {
		char *dot = strrchr(names.items[i], '.'), *p;
		int kept;

		if (dot)
			*dot = '\0';
		kept = keep(ctx, names.items[i], dot ? dot + 1 : NULL);
		if (dot)
			*dot = '.';
		if (kept)
			continue;
		p = path_join(dir, names.items[i]);
		if (unlink(p) < 0 && errno != ENOENT)
			ret = error_errno("cannot remove '%s'", p);
		free(p);
		removed++;
	}
	if (removed && fsync_dir(dir) < 0)
		ret = error_errno("cannot fsync '%s'", dir);
out:
	strlist_clear(&names);
	free(dir);
	return ret;
}

void sealidx_remove(const struct spool *sp, const char *dirrel, struct strlist *files)
{
	size_t i;

	for (i = 0; i < files->nr; i++) {
		char *p = spool_path(sp, files->items[i]);

		if (unlink(p) < 0 && errno != ENOENT)
			error_errno("cannot remove '%s'", p);
		free(p);
	}
	if (files->nr) {
		char *dir = spool_path(sp, dirrel);

		fsync_dir(dir);
		free(dir);
	}
	strlist_clear(files);
}

void sealidx_kv_add(struct strlist *l, const char *key, const char *value)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s\t%s", key, value);
	strlist_add(l, sb.buf);
	strbuf_release(&sb);
}

long sealidx_kv_find(const struct strlist *l, const char *key)
{
	size_t i, klen = strlen(key);

	for (i = 0; i < l->nr; i++)
		if (!strncmp(l->items[i], key, klen) && l->items[i][klen] == '\t')
			return (long)i;
	return -1;
}

const char *sealidx_kv_get(const struct strlist *l, const char *key)
{
	long i = sealidx_kv_find(l, key);

	return i < 0 ? NULL : l->items[i] + strlen(key) + 1;
}

void sealidx_notes_rotate(struct strlist *dst, struct strlist *src)
{
	size_t i;

	strlist_clear(dst);
	for (i = 0; i < src->nr; i++)
		strlist_add(dst, src->items[i]);
	strlist_sort(dst);
	strlist_clear(src);
}

void sealidx_pending_clear(struct hashmap *pending, struct strlist *keys)
{
	size_t i;

	for (i = 0; i < keys->nr; i++) {
		char *xml = hashmap_get(pending, keys->items[i]);

		if (xml) {
			wipe(xml, strlen(xml));
			free(xml);
		}
	}
	hashmap_clear(pending);
	strlist_clear(keys);
}

void sealidx_year_note(struct sealidx_years *y, int year, long n)
{
	size_t i;

	for (i = 0; i < y->nr; i++) {
		if (y->v[i].year == year) {
			if (n > y->v[i].max)
				y->v[i].max = n;
			return;
		}
	}
	ALLOC_GROW(y->v, y->nr + 1, y->alloc);
	y->v[y->nr].year = year;
	y->v[y->nr].max = n;
	y->nr++;
}

long sealidx_year_max(const struct sealidx_years *y, int year)
{
	long max = 0;
	size_t i;

	for (i = 0; i < y->nr; i++)
		if (y->v[i].year == year)
			max = y->v[i].max;
	return max;
}

void sealidx_years_release(struct sealidx_years *y)
{
	free(y->v);
	y->v = NULL;
	y->nr = y->alloc = 0;
}

void sealidx_keyed_hex(const unsigned char *key, const struct strbuf *msg, char *hex)
{
	struct strbuf out = STRBUF_INIT;
	unsigned char mac[SHA256_LEN];

	hmac_sha256(key, SEAL_KEY_LEN, msg->buf, msg->len, mac);
	strbuf_add_hex(&out, mac, sizeof(mac));
	memcpy(hex, out.buf, 65);
	strbuf_release(&out);
}
