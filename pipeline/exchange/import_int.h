#ifndef IMPORT_INT_H
#define IMPORT_INT_H
#include "exchange.h"
#include "../commands.h"
#include "../lib/archive.h"
#include "../lib/gpg.h"
#include "../util/hashmap.h"
#include "../util/strbuf.h"

/*
 * What the parts of import share: import.c (the loop, the claims, the
 * commit), import_read.c (decryption, the manifest, the entries and their
 * caps, each record checked) and import_apply.c (records by version,
 * deletions, complete bundles, receipts due).
 */

#define WORK_DIR  SPOOL_WORK "/import"
#define ID_LEN    12   /* R2026-000001 */

/*
 * A document of more elements than this is refused before it is parsed:
 * libxml2 spends over a hundred bytes on each, and a few MiB of "<a/>"
 * would otherwise cost a GiB. A record has a few dozen; a manifest one
 * per entry.
 */
#define RECORD_MAX_MARKUP    20000
#define MANIFEST_MAX_MARKUP  (TAR_MAX_ENTRIES + 1000)

/* One bundle, from its claim to its commit or rejection. */
struct bundle {
	char token[SPOOL_TOKEN_LEN + 1];
	char *name;          /* its name in import/ */
	char *rel;           /* work/import/TOKEN-NAME */
	struct strbuf reason;
	const struct agency *from;
	long seq;
	long previous;       /* the highest of ours the sender saw acknowledged */
	int complete;        /* complete="yes": reconcile against it */
	int waiting;         /* previous is above what we applied: not yet */
	long receipt;        /* highest of our sequences it acknowledges, 0 none */
	size_t nr_records, nr_deletions, changed;
	int temporary;       /* not the bundle's fault: gpg-agent is down */
	int touched;         /* the registry was changed: undo by reopening it */
	/* While it is read: */
	struct node *manifest;
	struct hashmap listed;      /* entry name -> <entry>, until it is seen */
	int trailer;                /* entries listed last, in entries.xml */
	int ended;                  /* entries.xml was read */
	struct hashmap seen;        /* trailer: entry name -> "SHA256 SIZE" */
	struct strlist seen_vals;
	struct hashmap sent;        /* ids of the records it holds */
	struct hashmap deleted;     /* ids it deletes */
	struct strlist ids;         /* the keys of sent and deleted */
	struct strlist destroyed;   /* "ID reason=R" destroyed, audited after the commit */
};

struct import {
	struct context *ctx;
	struct registry *reg;
	size_t accepted, rejected, waiting;
	int io_error;
	int agent_down;      /* stop: what is left waits for the next run */
};

/* Set b's reason; returns -1. */
int bundle_reject(struct bundle *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* import_read.c */

/*
 * Read, decrypt and check a claimed bundle, putting its records and
 * deletions in the registry as they come (committed only by the caller).
 * 0: checked, to be applied; 1: signed by its sender but waiting for an
 * earlier bundle; -1: rejected (b->reason; b->temporary when gpg-agent
 * could not be reached).
 */
int import_read_bundle(struct import *im, struct bundle *b);
/* records/R2026-000001.xml -> the id in id (ID_LEN + 1); 0 when the name
 * is not of that form. */
int import_record_id(const char *name, char *id);
/* The number of '<' in an entry: its elements, at most. */
size_t import_count_markup(const struct tar_file *f);
/* Reject b: its sender may not send records or deletions. */
int import_not_a_source(struct bundle *b);

/*
 * What can be known of one record from the record alone, as this node
 * (import_record_check()): its caps, schema, id, view and scope. Needs
 * neither the bundle nor the registry, so it runs on the checking
 * threads (import_read.c); import_record_verdict() then adds what the
 * bundle said before it.
 */
struct record_check {
	struct node *tree;   /* valid, within this node's view and scope; else NULL */
	struct strbuf why;   /* else the reason ("record ID: ...") */
	int capped;          /* the reason is a cap (size, elements): it comes first */
};
#define RECORD_CHECK_INIT { NULL, STRBUF_INIT, 0 }
void import_record_check(const struct agency *self, const struct tar_file *f,
			 const char *id, struct record_check *rc);
void record_check_release(struct record_check *rc);
/*
 * The verdict on record id of bundle b, in the order a record is checked
 * (authority, caps, a deletion of it, schema, id, view, scope): 0 with
 * its tree in *r (taken from rc), or -1 with b's reason.
 */
int import_record_verdict(struct bundle *b, const char *id, struct record_check *rc,
			  struct node **r);
/*
 * Both at once: check one record as this node (authority, size, schema,
 * id, view, scope) and hand back its tree in *r. No registry needed.
 */
int import_check_record(struct import *im, struct bundle *b, const struct tar_file *f,
			const char *id, struct node **r);

/* import_apply.c */

/*
 * Judge record id of b, checked by import_record_check() into rc, and put
 * it in the registry (not yet committed).
 */
int import_take_record(struct import *im, struct bundle *b, const char *id,
		       struct record_check *rc);
/* Check the deletions and make them in the registry (not yet committed). */
int import_take_deletions(struct import *im, struct bundle *b, const struct tar_file *f);
/* A complete bundle: destroy every record from its sender it lacks. */
void import_reconcile(struct import *im, struct bundle *b);
/* Remember to acknowledge sequence n of agency a in our next bundle to it. */
void import_receipt_due(struct import *im, const struct agency *a, long n);

#endif
