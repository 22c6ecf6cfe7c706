#ifndef INTAKE_H
#define INTAKE_H
#include "../core/config.h"
#include "../util/node.h"
#include "../core/registry.h"
#include "../core/spool.h"
#include "../util/hashmap.h"
#include "../util/strbuf.h"

/*
 * The intake stage's parts: intake.c walks incoming/ (claims, batches,
 * recovery), intake_apply.c applies one validated document to the
 * registry.
 */

/* Largest registration document accepted (mimamori-spool(5)). */
#define INTAKE_MAX_SIZE   (8u << 20)
/* Largest photo, decoded (mimamori-spool(5)). */
#define INTAKE_MAX_PHOTO  (2u << 20)

/*
 * The checks that need the document alone, not the registry (the photo's
 * encoding, size and type): intake runs them on its parsing threads. 0,
 * or -1 with the reason in why. intake_apply() assumes they passed.
 */
int intake_check_document(const struct node *doc, struct strbuf *why);

/*
 * Apply one document (the root of a validated registration, change,
 * cancellation or renewal, that passed intake_check_document()) to the
 * registry, as of `today`. On success the affected id goes in id and 0
 * is returned; on a rejection the reason goes in why and -1 is returned,
 * and the registry is unchanged. A registration's sections are lent to
 * its record, not copied: doc is the same tree afterwards, and no part
 * of it is freed here (intake frees it on the thread that parsed it).
 */
int intake_apply(struct registry *reg, const struct config *cfg, struct node *doc,
		 long today, char *id, size_t idlen, struct strbuf *why);

/*
 * A free spool-relative name in incoming/ for a file called name: name
 * itself, else name with ".1", ".2" … before its extension, taken neither
 * in incoming/ nor among taken_here (the names of a batch not yet
 * committed). Into rel. submit.c; the entry commands name their
 * documents the same way.
 */
void submit_free_name(const struct spool *sp, const struct hashmap *taken_here,
		      const char *name, struct strbuf *rel);

#endif
