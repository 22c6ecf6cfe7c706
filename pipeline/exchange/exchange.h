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
 * Whether agency a is entitled to the record of e (mimamori-spool(5), BUNDLES): ward
 * offices and police to the records of their wards, a care center to the
 * records it took in, the others to all.
 */
int exchange_in_scope(const struct agency *a, const struct reg_entry *e);
/* The same for a record of this ward and intake center (either may be NULL). */
int exchange_scope_has(const struct agency *a, const char *ward, const char *center);

#endif
