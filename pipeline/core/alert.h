#ifndef ALERT_H
#define ALERT_H
#include <stddef.h>
#include <time.h>
#include "config.h"
#include "spool.h"
#include "../util/node.h"
#include "../util/fileio.h"
#include "../util/strbuf.h"

/*
 * The alert store: every alert this node sent, sealed at rest with the
 * node's data key (core/datakey.h, lib/seal.h), and its index.
 *
 * On disk (under spool/alerts/):
 *   index      sealed (AD "alerts-index"): one line per alert or tombstone,
 *              the id counter per year, the request-ids already seen (as
 *              keyed hashes) and the notes of the last commit
 *   ID.V       sealed (AD "alert:ID.V"): version V of the full alert (<alert> XML: the
 *              request as received, recipients, Message-IDs, operator)
 *
 * The index is the commit point, as for the registry: alert_commit() makes
 * the alert files (and whatever the caller added to alert_batch()) durable,
 * then replaces the index, then applies what was added with
 * alert_after_commit(). An alert file the index does not name is a
 * leftover of an interrupted run and is removed when the store is next
 * opened for writing. A missing index while alert files exist is damage:
 * the store refuses to open (core/sealstore.h).
 *
 * The index holds no personal data: ids, the ward, the status and times.
 */

/*
 * ALERT_HELD: an actual alert waiting for a second operator's approval
 * (<requests approval="second-operator"/>); nothing was sent for it. It
 * counts as open for its registration (alert_find_open()).
 */
enum alert_state { ALERT_OPEN, ALERT_CLOSED, ALERT_DESTROYED, ALERT_HELD };
enum alert_close { ALERT_CLOSE_NONE, ALERT_FOUND, ALERT_WITHDRAWN, ALERT_EXPIRED };

/* One alert as the index knows it (what stays of a destroyed one, too). */
struct alert_entry {
	char id[24];              /* A<year>-<6 digits> */
	char registration[24];    /* R<year>-<6 digits> */
	char ward[32];
	int exercise;             /* status: 0 actual, 1 exercise */
	enum alert_state state;
	time_t opened;
	time_t closed;            /* 0 while open */
	enum alert_close close_type;
	time_t missing_since;     /* 0: unknown (kept after destruction) */
	time_t found_at;          /* 0: not found (kept after destruction) */
	long hours_missing;       /* missing-since -> found, whole hours; -1 unknown */
	int version;              /* of its file (ID.VERSION), the store's own */
};

/* "open" "closed" "destroyed" "held"; "found" "withdrawn" "expired" ("" for none). */
const char *alert_state_name(enum alert_state s);
const char *alert_close_name(enum alert_close c);

/* The whole of an alert (alert_load()); owned by the caller. */
struct alert {
	struct alert_entry entry;   /* a copy of the index entry */
	struct node *request;       /* <request> as validated (request.xsd):
				       circumstances, requester name, police station */
	char *request_id;
	char *operator_fpr;         /* the operator who asked for it */
	char *police;               /* police agency id (from the config) */
	struct strlist recipients;  /* addresses, sorted, each once */
	struct strlist message_ids; /* of every mail sent for it, without <> */
	time_t sent_at;             /* when it was sent to the lists (0: held) */
	char *approved_by;          /* the second operator's key, or NULL */
	time_t approved_at;
	time_t widened_at;          /* when its area was widened (0: never) */
	/* Its CAP documents in spool/feed/ (core/cap.h), oldest first:
	   "IDENTIFIER\tSENT\tMSGTYPE\tHEADLINE" each. */
	struct strlist caps;
};
void alert_init(struct alert *a);
void alert_release(struct alert *a);

struct alert_store;

/*
 * Open the store of this node (creating spool/alerts/ when missing).
 * With for_write the lock "alerts" is held until alert_store_close() and
 * leftovers of interrupted runs are removed. -1 (reported) when the data
 * key cannot be had or the index is damaged or missing while alert files
 * exist.
 */
int alert_store_open(struct alert_store **st, const struct config *cfg,
		     const struct spool *sp, int for_write);
void alert_store_close(struct alert_store *st);

/* Entries by position (0 .. count-1), in the order they were opened. */
size_t alert_count(const struct alert_store *st);
struct alert_entry *alert_entry(struct alert_store *st, size_t i);
struct alert_entry *alert_find(struct alert_store *st, const char *id);
/* The open alert for this registration, or NULL. */
struct alert_entry *alert_find_open(struct alert_store *st, const char *registration);

/* Decrypt and parse the full alert (not destroyed). -1 (reported). */
int alert_load(struct alert_store *st, const struct alert_entry *e, struct alert *a);

/*
 * A new alert: a fresh id for `opened` (A<year>-<6 digits>, never reused,
 * the year of opened in Japan), filled into a->entry together with
 * state open; the caller fills the rest of a and calls alert_put().
 */
void alert_new(struct alert_store *st, time_t opened, struct alert *a);

/*
 * Store a (a new alert, or a changed one: more message-ids, closed):
 * its file is written now, durable at alert_commit(), and its index entry
 * is created or replaced by a->entry. 0, or -1 (reported).
 */
int alert_put(struct alert_store *st, const struct alert *a);

/*
 * Close an alert: state closed, closed = at, type; for ALERT_FOUND
 * found_at and hours_missing are set (from missing_since). Only the index
 * entry changes (a caller that also changes the alert's data calls
 * alert_put() with the updated entry).
 */
void alert_close(struct alert_store *st, struct alert_entry *e, enum alert_close type,
		 time_t at);

/*
 * Destroy an alert: its file is removed at commit and only the tombstone
 * stays: id, registration id, ward, status, opened, closed, close type,
 * missing-since, found-at, hours missing. An open alert is closed as
 * expired first.
 */
void alert_destroy(struct alert_store *st, struct alert_entry *e, time_t at);

/*
 * Request-ids already used, per operator: kept as keyed hashes in the
 * index, for eight days on the program's clock (clock_now(); a request
 * older than 24 hours is refused anyway). alert_request_seen() gives the
 * time it was marked, 0 when it was not.
 */
time_t alert_request_seen(const struct alert_store *st, const char *operator_fpr,
			  const char *request_id);
void alert_request_mark(struct alert_store *st, const char *operator_fpr,
			const char *request_id, time_t at);

/*
 * Notes attached to the next commit (key and value without tab or
 * newline), readable after the commit (and after a crash that followed
 * it) until the next commit that has notes of its own: a commit without
 * notes (expire's, say) keeps them.
 */
void alert_note(struct alert_store *st, const char *key, const char *value);
const char *alert_note_get(const struct alert_store *st, const char *key);

/*
 * The batch the next commit makes durable before the index: a caller adds
 * its own files (e.g. queued messages) that must exist once the index
 * says so. alert_after_commit() is a second batch applied after the
 * index (e.g. queue envelopes, removal of the claimed input).
 */
struct spool_batch *alert_batch(struct alert_store *st);
struct spool_batch *alert_after_commit(struct alert_store *st);

/*
 * Make every change durable: alert_batch() with the alert files, then
 * the index, then alert_after_commit() and the removal of destroyed
 * alerts' files. -1 (reported); the store must then be closed.
 */
int alert_commit(struct alert_store *st);

#endif
