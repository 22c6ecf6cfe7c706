#ifndef SEALSTORE_H
#define SEALSTORE_H
#include <stddef.h>
#include "config.h"
#include "sealidx.h"
#include "spool.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"

/*
 * The sealed store: the skeleton the registry (core/registry.c) and the
 * alert store (core/alert.c) share, written once.
 *
 *   open     lock (for writing), data key, load the sealed index, and
 *            then, for writing, remove the item files it does not name;
 *            a missing index is a new store only when there are no item
 *            files: otherwise the store refuses to open (starting again
 *            would remove every item and give their ids out again);
 *   entries  one per item, by position and by id, with the highest
 *            serial used per year (ids never reused);
 *   notes    "key\tvalue" attached to a commit, readable after it (and
 *            after a crash that followed it);
 *   commit   the batch of item files, then the index (the commit point),
 *            then the after-commit batch and the removal of the files the
 *            index no longer names.
 *
 * Each store keeps its own entry type and index lines (struct
 * sealstore_ops); the entry type must begin with `char id[24]`.
 */

struct sealstore;

struct sealstore_ops {
	const char *what;        /* "registry", "alert": in messages */
	const char *lock;        /* lock name */
	const char *dir;         /* spool folder of the item files */
	const char *index_rel;   /* the index (it may be in dir) */
	const char *index_aad;
	size_t index_max;
	size_t entry_size;       /* of the store's entry type */
	char id_letter;          /* ids are <letter><year>-<serial> */
	/*
	 * A commit without notes keeps those of the last commit (1), or
	 * leaves none (0).
	 */
	int keep_notes;
	/* The index's first line: 0, or -1 (the caller reports it). */
	int (*header)(void *owner, const char *line);
	/*
	 * One index line other than a note, split at its tabs: 0, or -1
	 * (reported as a bad line).
	 */
	int (*line)(void *owner, char **f, int nf);
	/*
	 * Append the next part of the index (its first line, entries and the
	 * store's own lines; the notes are added here) to out; 1 while there
	 * is more, 0 after the last part.
	 */
	int (*fill)(void *owner, struct strbuf *out);
	/* Whether item file ID.VERSION (version NULL: no dot) is to be kept. */
	int (*keep)(void *owner, const char *id, const char *version);
};

struct sealstore {
	const struct sealstore_ops *ops;
	void *owner;                 /* passed to the ops */
	const struct config *cfg;
	const struct spool *sp;
	const unsigned char *key;    /* the data key */
	int lockfd;
	void **entries;              /* ops->entry_size each */
	size_t nr, alloc;
	struct hashmap by_id;
	struct sealidx_years years;
	struct strlist notes;        /* of the last commit */
	struct strlist new_notes;    /* for the next */
	struct spool_batch batch;    /* durable before the index */
	struct spool_batch after;    /* applied after it */
	struct strlist obsolete;     /* item files removed after the commit */
	int writing;                 /* the fill in progress has written the notes */
};

/*
 * Open the store described by ops (see above); owner is passed to the ops,
 * which are called while the index loads. With for_write the lock is held
 * until sealstore_release(). 0, or -1 (reported; release st all the same).
 */
int sealstore_open(struct sealstore *st, const struct sealstore_ops *ops, void *owner,
		   const struct config *cfg, const struct spool *sp, int for_write);
/* Free the entries and everything else; let go of the lock. */
void sealstore_release(struct sealstore *st);

/*
 * A new zeroed entry for id (its first bytes), added at the end and to
 * the ids; its serial is noted for its year.
 */
void *sealstore_entry_add(struct sealstore *st, const char *id);
void *sealstore_find(const struct sealstore *st, const char *id);
/* The serial of a new id for year (one more than the highest noted). */
long sealstore_next_serial(struct sealstore *st, int year);

/* Attach a note to the next commit (no tab or newline); one of the last commit. */
void sealstore_note(struct sealstore *st, const char *key, const char *value);
const char *sealstore_note_get(const struct sealstore *st, const char *key);

/* An item file to remove once the next commit is durable. */
void sealstore_obsolete(struct sealstore *st, const char *rel);

/*
 * The batch, the index, the notes rotated, the after-commit batch, the
 * obsolete files removed. 0, or -1 (reported; the store must then be
 * closed without further use).
 */
int sealstore_commit(struct sealstore *st);

#endif
