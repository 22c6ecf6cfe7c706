#ifndef REGISTRY_H
#define REGISTRY_H
#include <stddef.h>
#include "config.h"
#include "spool.h"
#include "../util/node.h"

/*
 * The registry: every record this node holds, sealed at rest with the
 * node's data key (core/datakey.h), and an index of them.
 *
 * On disk (under spool/registry/):
 *   datakey.gpg          the data key, encrypted to the node's own key
 *   index                sealed; one line per record or tombstone, plus
 *                        the notes of the last commit (see below)
 *   records/ID.VERSION   sealed record XML (<record> of registration.xsd)
 *
 * The skeleton (lock, load, clean, entries, notes, commit) is the sealed
 * store's (core/sealstore.h), shared with the alert store.
 *
 * The index is the commit point. registry_commit() makes new record files
 * durable, then replaces the index; a record file the index does not name
 * is left over from an interrupted run and is removed when the registry is
 * next opened for writing, as are versions the index has moved past.
 *
 * Notes: a stage may attach short notes to a commit (e.g. "claim token ->
 * accepted R2026-000001"), kept in the index until the next commit, so that
 * after a crash it can tell which of its claimed inputs were committed.
 */

enum reg_state { REG_ACTIVE, REG_DESTROYED };

struct reg_entry {
	char id[24];
	int version;
	enum reg_state state;
	long seq;            /* registry-wide change counter at its last change */
	long registered;     /* dates (days) */
	long expires;
	long renewed;        /* last renewal date, -1 none */
	long reminded;       /* the expiry date a reminder was sent for, -1 none */
	/*
	 * ward, center and sent_to are shared by every entry with the same
	 * value (a few distinct ones among 100,000 entries) and live as long
	 * as the registry: never free or write them.
	 */
	const char *ward;
	const char *center;  /* intake center agency id */
	char sex;            /* 'f', 'm' */
	int no_broadcast;    /* agency-sharing basis or consent broadcast="no" */
	char person[65];     /* hex keyed hash of folded name-kana + birth date */
	long destroyed;      /* tombstone: date, -1 while active */
	char reason[16];     /* tombstone: death facility moved-out other expired */
	const char *sent_to; /* agencies the record was ever sent to, "a,b" */
};

struct registry;

/*
 * Open the registry of this node. With for_write the registry lock is
 * held until registry_close(), and leftovers of interrupted runs are
 * cleaned. -1 (reported) when the data key cannot be had or the index is
 * damaged or missing while records exist.
 */
int registry_open(struct registry **reg, const struct config *cfg,
		  const struct spool *sp, int for_write);
void registry_close(struct registry *reg);

size_t registry_count(const struct registry *reg);
/* Entries by position (0 .. count-1), in no particular order. */
struct reg_entry *registry_entry(struct registry *reg, size_t i);
struct reg_entry *registry_find(struct registry *reg, const char *id);
/* The active entry with this name-kana and birth date, or NULL. */
struct reg_entry *registry_find_person(struct registry *reg, const char *kana,
					const char *birth_date);

/* Decrypt and parse a record (the entry must be active). -1 (reported). */
int registry_load(struct registry *reg, const struct reg_entry *e, struct node **record);

/*
 * A new id for a record registered on `date` (R<year>-<6 digits>, never
 * reused, tombstones included).
 */
void registry_new_id(struct registry *reg, long date, char *id, size_t idlen);

/*
 * Store record (a <record> tree with id, version, registered, expires set)
 * as the entry's new version: written now, durable at registry_commit().
 * The entry is created when the id is new. Returns the entry.
 */
struct reg_entry *registry_put(struct registry *reg, const struct node *record);

/*
 * From now on (until the registry is closed) registry_put() hands each
 * record file to a thread that writes it behind (spool_batch_create_async()),
 * for a stage that puts thousands at a time: a file that cannot be written
 * is reported once and makes registry_commit() fail, rather than ending the
 * process at once.
 */
void registry_write_behind(struct registry *reg);

/*
 * Destroy a record: its files are removed at commit and the entry becomes
 * a tombstone (id, date, reason).
 */
int registry_destroy(struct registry *reg, struct reg_entry *e, long date, const char *reason);

/*
 * Small persistent values committed atomically with the registry (kept in
 * the index): e.g. "export-seq:ward-chuo" -> "12". Keys and values are
 * short, without tabs or newlines, and never personal data. NULL when unset.
 */
void registry_state_set(struct registry *reg, const char *key, const char *value);
const char *registry_state_get(const struct registry *reg, const char *key);
/* Remove a value (at the next commit); nothing when it is not set. */
void registry_state_unset(struct registry *reg, const char *key);

/* Record that the record of e was sent to agency (kept in e->sent_to). */
void registry_mark_sent(struct registry *reg, struct reg_entry *e, const char *agency);
/* Whether it was. */
int registry_was_sent(const struct reg_entry *e, const char *agency);

/* Attach a note to the next commit; look up a note of the last commit. */
void registry_note(struct registry *reg, const char *key, const char *value);
const char *registry_note_get(const struct registry *reg, const char *key);

/*
 * Make every change durable: new record files, then the index, then the
 * removal of versions it no longer names. -1 (reported); the registry
 * must then be closed without further use.
 */
int registry_commit(struct registry *reg);

/* The registry-wide change counter (for exports). */
long registry_seq(const struct registry *reg);

#endif
