#ifndef CLAIM_H
#define CLAIM_H
#include <stddef.h>
#include "spool.h"
#include "../util/strbuf.h"

/*
 * Claims and their notes, written once for every stage that claims its
 * inputs (intake, import, dispatch, listmail; see spool.h for the claim
 * itself).
 *
 * A stage takes an input by renaming it to work/STAGE/TOKEN-NAME, and the
 * commit that applies it carries a note about it, keyed "STAGE:TOKEN"
 * (claim_note_key()), whose value is typed:
 *
 *   accepted REF [DETAIL...] [QID=ENV...]
 *   rejected BASE64(REASON) [QID=ENV...]
 *   done BASE64(WHAT) [QID=ENV...]            ('-' for an empty text)
 *
 * REF says what the input became (a record id, a bundle's sender and
 * sequence number, an alert id), DETAIL words what else the stage keeps
 * of it (no '=' in them), and each QID=ENV a message the commit queued
 * with its envelope in base64 (queue_finish_envelopes() writes those
 * still missing). A run that finds claims left by a killed run lists
 * them (claim_left_list()) and looks each token up in the notes of the
 * last commit: a noted claim was applied and is only finished; any other
 * is processed again. Which is which is decided once, from the listing,
 * before the run commits anything: its first commit replaces the notes.
 */

enum claim_outcome { CLAIM_ACCEPTED, CLAIM_REJECTED, CLAIM_DONE };

struct claim_note {
	enum claim_outcome outcome;
	char ref[96];          /* accepted: what the input became (an agency id is up to 63) */
	char detail[96];       /* accepted: the DETAIL words, space-separated ("" for none) */
	struct strbuf text;    /* rejected: the reason; done: what was done */
	const char *queued;    /* parsed: the QID=ENV words, within the parsed value */
};
#define CLAIM_NOTE_INIT { CLAIM_ACCEPTED, "", "", STRBUF_INIT, "" }

/* "STAGE:TOKEN", the key of a claim's note. */
void claim_note_key(struct strbuf *key, const char *stage, const char *token);
/* The value of note n (reset first), without queued messages. */
void claim_note_format(const struct claim_note *n, struct strbuf *value);
/* Add a queued message, QID and its envelope, to a note's value. */
void claim_note_queue(struct strbuf *value, const char *qid, const void *env, size_t len);
/*
 * The key and the value (both reset first) of the note saying that
 * stage's claim token was accepted as ref.
 */
void claim_note_accepted(const char *stage, const char *token, const char *ref,
			 struct strbuf *key, struct strbuf *value);
/*
 * Parse a note's value into n (n->queued points into value; release n
 * with claim_note_release()). 0, or -1 when it is not a claim note.
 */
int claim_note_parse(const char *value, struct claim_note *n);
void claim_note_release(struct claim_note *n);

/*
 * The note of stage's claim token from get(ctx, key) (a store's note
 * lookup), parsed into n. Notes written before the notes were typed were
 * keyed by the bare token: looked up too. 1 when noted, else 0.
 */
typedef const char *claim_note_get_fn(const void *ctx, const char *key);
int claim_note_find(claim_note_get_fn *get, const void *ctx, const char *stage,
		    const char *token, struct claim_note *n);

/* work/STAGE/TOKEN-NAME into rel (reset first). */
void claim_rel(struct strbuf *rel, const char *workdir, const char *token, const char *name);

/* A claim left in a work folder by a run that was killed. */
struct claim_left {
	char token[SPOOL_TOKEN_LEN + 1];
	char *name;   /* the name it had before it was claimed */
	int noted;    /* for the stage: the last commit noted it (0 from the list) */
};
/*
 * The claims in spool folder workdir (files TOKEN-NAME; any other file is
 * passed over), in name order, into *v (freed with claim_left_free()).
 * Returns how many.
 */
size_t claim_left_list(const struct spool *sp, const char *workdir, struct claim_left **v);
void claim_left_free(struct claim_left *v, size_t nr);

/*
 * Finish a claim whose commit is done, from its note: the envelopes of
 * the messages it queued (queue_finish_envelopes()), then the claim at
 * rel: moved to rejected/ as name with the note's reason (rejected), or
 * removed. A claim already gone is passed over. 0, or -1 (reported).
 */
int claim_finish(const struct spool *sp, const char *rel, const char *name,
		 const struct claim_note *n);

/*
 * The claims a killed run left (listed before the run commits anything),
 * for a stage that finishes the noted ones first and redoes the others
 * after the inputs that arrived since: pass 0 looks each up in the notes
 * (get(store, "STAGE:TOKEN")), marks it and calls finished() for a noted
 * one; pass 1 calls redo() for each one pass 0 found unnoted. A note that
 * does not parse leaves its claim in place, reported. Each pass stops
 * when stop(ctx) says so (an error of the node).
 */
struct claim_recovery {
	const char *stage;
	claim_note_get_fn *get;
	const void *store;
	void *ctx;
	void (*finished)(void *ctx, const struct claim_left *c, const struct claim_note *n);
	void (*redo)(void *ctx, const struct claim_left *c);
	int (*stop)(void *ctx);
};
void claim_recover(const struct claim_recovery *r, struct claim_left *left, size_t nr,
		   int pass);

#endif
