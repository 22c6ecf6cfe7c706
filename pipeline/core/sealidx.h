#ifndef SEALIDX_H
#define SEALIDX_H
#include <stddef.h>
#include "../util/node.h"
#include "../lib/seal.h"
#include "spool.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"
#include "../util/strbuf.h"

/*
 * The pieces of the node's sealed stores (core/sealstore.c, under
 * core/registry.c and core/alert.c): a sealed, tab-separated index file committed atomically
 * after the batch of sealed item files it names, "key\tvalue" notes and
 * state lines, the items of a batch not committed yet, the removal of
 * files the index does not name, and the highest serial used per year.
 * Each store keeps its own index format; these functions only move,
 * seal and clean.
 */

/*
 * Read spool file rel (at most max bytes) and unseal it with key under
 * aad into plain. 0; 1 when the file does not exist; -1 (reported).
 * The caller wipes plain.
 */
int sealidx_read(const struct spool *sp, const unsigned char *key, const char *rel,
		 const char *aad, size_t max, struct strbuf *plain);

/*
 * Load the sealed item file rel (sealed under aad), or take its plain XML
 * pending when it is not NULL (changed in this batch, not committed yet),
 * and parse it into *root. what names the kind of item in messages
 * ("record", "alert"). 0, or -1 (reported).
 */
int sealidx_item_load(const struct spool *sp, const unsigned char *key, const char *what,
		      const char *rel, const char *aad, const char *pending, size_t max,
		      struct node **root);

/*
 * Seal plain with key under aad, in place, and spool_commit() it to rel;
 * plain is released (it holds no plaintext any more). 0, or -1 (reported).
 */
int sealidx_commit(const struct spool *sp, const unsigned char *key, const char *rel,
		   const char *aad, struct strbuf *plain);

/*
 * The same for a plaintext too large to hold whole: fill() appends its
 * next part to chunk, returns 1, and 0 after the last (see seal_stream()).
 */
int sealidx_commit_stream(const struct spool *sp, const unsigned char *key, const char *rel,
			  const char *aad, seal_fill_fn *fill, void *ctx);

/*
 * Split an index line in place at its tabs into at most max fields.
 * Returns the number of fields (at least 1).
 */
int sealidx_split(char *line, char **f, int max);

/*
 * Remove the files of spool folder dirrel that the index does not name,
 * then fsync the folder if any went. keep() is asked for each file name
 * "ID.VERSION" split at its last dot (version is NULL for a name without
 * a dot) and returns non-zero to keep the file. 0, or -1 (reported).
 */
typedef int sealidx_keep_fn(void *ctx, const char *id, const char *version);
int sealidx_clean(const struct spool *sp, const char *dirrel, sealidx_keep_fn *keep,
		  void *ctx);

/*
 * After a commit: remove the spool files listed in files (a missing one
 * is fine, another failure is reported), fsync folder dirrel if there
 * were any, and empty the list.
 */
void sealidx_remove(const struct spool *sp, const char *dirrel, struct strlist *files);

/* "key\tvalue" lists (notes and state). */
void sealidx_kv_add(struct strlist *l, const char *key, const char *value);
/* The value of key in l, or NULL. */
const char *sealidx_kv_get(const struct strlist *l, const char *key);
/* The position of key in l, or -1. */
long sealidx_kv_find(const struct strlist *l, const char *key);
/* Replace the notes of the last commit (dst) by those just committed (src, emptied). */
void sealidx_notes_rotate(struct strlist *dst, struct strlist *src);

/*
 * Items written in the current batch and not committed yet: key (listed
 * in keys) -> a malloc'ed plain XML, or NULL. Wipe and free every value,
 * empty the map and the list.
 */
void sealidx_pending_clear(struct hashmap *pending, struct strlist *keys);

/* The highest serial number used in each year (ids "R2026-000001"…). */
struct sealidx_years {
	struct sealidx_year {
		int year;
		long max;
	} *v;
	size_t nr, alloc;
};
void sealidx_year_note(struct sealidx_years *y, int year, long n);
/* The highest serial noted for year, or 0. */
long sealidx_year_max(const struct sealidx_years *y, int year);
void sealidx_years_release(struct sealidx_years *y);

/* hex (65 bytes) = the HMAC-SHA256 of msg under the data key, in hex. */
void sealidx_keyed_hex(const unsigned char *key, const struct strbuf *msg, char *hex);

#endif
