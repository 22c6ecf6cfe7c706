#ifndef EXCHANGE_H
#define EXCHANGE_H
#include "../core/config.h"
#include "../core/registry.h"

/*
 * The exchange stage's shared parts: export.c writes bundles for other
 * agencies, import.c applies the ones they sent (mimamori-export(1), mimamori-import(1)).
 *
 * A bundle is outgoing/<to>/<from>-<to>-<sequence>.tar.gpg: a pax tar of
 * manifest.xml, deletions.xml and records/<id>.xml (the addressee's view),
 * encrypted to the addressee's pinned key only and signed by the sender's.
 *
 * Registry state kept by the two (core/registry.h, committed with the
 * registry):
 *   export-n:<agency>     the sequence number of the last bundle written
 *   export-seq:<agency>   the registry change counter that bundle covered
 *   import-seq:<agency>   the sequence number of the last bundle applied
 *   import-token:<agency> the claim token of that bundle (crash recovery)
 *   export-date:<agency>  the day the last bundle was written
 *   sent-log:<agency>     the bundles written and not yet acknowledged,
 *                         "N:SEQ:DAY,...": number, change counter covered,
 *                         day written
 *   ack-n:<agency>        the highest sequence the agency acknowledged
 *   ack-seq:<agency>      the change counter that bundle covered: every
 *                         change up to it is in the agency's registry
 *   ack-date:<agency>     the day that receipt was imported
 *   receipt-due:<agency>  sequences applied from it, not yet receipted
 *   receipt-seq:<agency>  our change counter when the last receipt to it
 *                         was written (its records list what came since)
 *
 * Bundles are cumulative (mimamori-spool(5)): each holds every change in
 * the agency's scope since the state it acknowledged, so any one that
 * arrives heals the loss of those before it.
 */

/* Largest bundle file read: a larger one is refused from fstat(). */
#define BUNDLE_MAX_SIZE    ((size_t)512 << 20)
/* Most plaintext a bundle may decrypt to. */
#define BUNDLE_MAX_PLAIN   (4ULL << 30)
/* Largest entry (the manifest of 100,000 entries fits) and record. */
#define BUNDLE_MAX_ENTRY   ((size_t)16 << 20)
#define BUNDLE_MAX_RECORD  ((size_t)8 << 20)
#define BUNDLE_SUFFIX      ".tar.gpg"

/*
 * Records a node received from another agency are marked in their sent_to
 * list with this word (never an agency id, which cannot hold '<'), so that
 * export sends only what the node holds as its own.
 */
#define EXCHANGE_IMPORTED  "<import>"

/*
 * SPOOL_WORK_BUNDLES/<to>-<n> (work/bundles/): the ids of the records
 * held by bundle <n> for agency <to>, written before the bundle itself
 * (lines "to=AGENCY", "n=N", "since=SEQ" — the export-seq the bundle
 * started from — then one id a line; ids are not personal data). expire
 * reads them to withdraw a bundle not yet collected that holds a
 * destroyed record, and removes those whose bundle is gone (collected).
 */

/*
 * Marks kept in a record's sent_to list besides agency ids (none of them
 * can be an agency id, which cannot hold '<'):
 *   <from:AGENCY>           the record came from that agency's bundles
 *   <ack:AGENCY:YYYY-MM-DD> the agency acknowledged the record's
 *                           destruction on that day (tombstones)
 */
void exchange_mark_from(struct registry *reg, struct reg_entry *e, const char *agency);
/* Whether e came from agency (or, imported before origins were kept, from
 * any agency). */
int exchange_is_from(const struct reg_entry *e, const char *agency);
void exchange_mark_acked(struct registry *reg, struct reg_entry *e, const char *agency,
			 long day);
/* The day agency acknowledged the destruction of e, or -1. */
long exchange_acked_on(const struct reg_entry *e, const char *agency);

/* Registry state "PREFIX:AGENCY" as a number (0 when unset), and set. */
long exchange_state_long(struct registry *reg, const char *prefix, const char *agency);
void exchange_state_set_long(struct registry *reg, const char *prefix, const char *agency,
			     long n);
const char *exchange_state_str(struct registry *reg, const char *prefix,
			       const char *agency);
void exchange_state_set_str(struct registry *reg, const char *prefix, const char *agency,
			    const char *value);

/*
 * The change counter bundle n for agency covered, from its sent-log; -1
 * when n is not a bundle written to it and not yet acknowledged.
 */
long exchange_sent_seq(struct registry *reg, const char *agency, long n);
/* Append bundle n (covering seq, written on day) to agency's sent-log. */
void exchange_log_sent(struct registry *reg, const char *agency, long n, long seq, long day);

/*
 * Agency a acknowledged bundle n (it applied it): ack-n, ack-seq,
 * ack-date advance, the log forgets n and the bundles before it, and
 * every tombstone sent to a whose destruction n carried is marked
 * acknowledged on day. Nothing when n is not above ack-n.
 */
void exchange_acknowledge(struct registry *reg, const struct agency *a, long n, long day);

/* What agency a has not acknowledged yet (`mimamori exchange`). */
struct exchange_pending {
	size_t records, deletions;
	long oldest_destroyed;   /* day of the oldest destruction, -1 none */
};
void exchange_pending(struct registry *reg, const struct agency *a,
		      struct exchange_pending *p);
/* Whether e is this node's own (not imported) and due to a as a record
 * (1), as a deletion (2), or not at all (0), ignoring acknowledgement. */
int exchange_due_kind(const struct agency *a, const struct reg_entry *e);

/*
 * Check receipts.xml (data, len) of a bundle from agency `from`: every
 * sequence it names must be of a bundle this node wrote to `from` (one
 * acknowledged already is allowed: receipts may cross). *highest is the
 * highest sequence named. -1 with a reason naming the field in why.
 */
int exchange_receipts_check(struct registry *reg, const struct agency *from,
			    const char *data, size_t len, long *highest, struct strbuf *why);

/*
 * Whether agency a is entitled to the record of e (mimamori-spool(5), BUNDLES): ward
 * offices and police to the records of their wards, a care center to the
 * records it took in, the others to all.
 */
int exchange_in_scope(const struct agency *a, const struct reg_entry *e);
/* The same for a record of this ward and intake center (either may be NULL). */
int exchange_scope_has(const struct agency *a, const char *ward, const char *center);

#endif
