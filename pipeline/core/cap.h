#ifndef CAP_H
#define CAP_H
#include <time.h>
#include "alert.h"
#include "config.h"
#include "../util/strbuf.h"

/*
 * The alert feed for machine consumers (apps, LINE accounts, FAX
 * gateways): each alert, update, found and withdraw as a CAP 1.2
 * document (urn:oasis:names:tc:emergency:cap:1.2, schemas/cap12.xsd) in
 * spool/feed/IDENTIFIER.xml, and spool/feed/index.atom with one entry
 * per open alert (its latest document).
 *
 * Built from what the alert mail holds (its subject and body, rendered
 * from the alert view only and passed by the leak guard), the police
 * station from the config and the area's ward ids: nothing else of a
 * registration can reach it. Written in the alert store's batch, so a
 * document exists once the store's commit says so and never before it
 * matters; destroyed with the alert data.
 */

#define CAP_NS  "urn:oasis:names:tc:emergency:cap:1.2"
#define ATOM_NS "http://www.w3.org/2005/Atom"

struct cap_input {
	const char *sender;          /* the config's sender address */
	const char *sender_name;
	const char *identifier;      /* ALERT-ID.N */
	const char *sent;            /* RFC 3339, +09:00 */
	int exercise;                /* status Exercise, else Actual */
	const char *msg_type;        /* "Alert", "Update", "Cancel" */
	const char *response_type;   /* "Monitor", "AllClear" or NULL */
	const struct strlist *references;  /* "sender,identifier,sent" each */
	const char *lang;            /* "ja" or "en" */
	const char *headline;        /* the mail's subject */
	const char *description;     /* the mail's body */
	const char *police_name, *police_phone;
	const char *area;            /* ward ids, space-separated; NULL: every ward */
};

/* The CAP 1.2 document for in, appended to out. */
void cap_document(const struct cap_input *in, struct strbuf *out);

/*
 * The next document of alert a: its identifier (ALERT-ID.N) into id and
 * the CAP references to its earlier documents into refs.
 */
void cap_next(const struct alert *a, const char *sender, struct strbuf *id,
	      struct strlist *refs);

/*
 * Queue document doc (identifier id, sent, msg_type, headline) as
 * feed/ID.xml in the store's batch and note it in a->caps (before
 * alert_put()). 0, or -1 (reported).
 */
int feed_put(struct alert_store *st, const struct spool *sp, struct alert *a,
	     const char *id, const char *sent, const char *msg_type, const char *headline,
	     const struct strbuf *doc);

/*
 * Rewrite feed/index.atom in the store's batch: one entry per open alert,
 * its latest document (after every alert_put() of the commit). 0, or -1.
 */
int feed_index(struct alert_store *st, const struct config *cfg, const struct spool *sp,
	       time_t now);

/*
 * Remove, after the store's next commit, the documents of alerts the
 * store does not know or has destroyed (those destroyed in this commit
 * and leftovers of an interrupted run). Returns how many.
 */
size_t feed_forget(struct alert_store *st, const struct spool *sp);

#endif
