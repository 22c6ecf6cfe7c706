#ifndef LISTS_INT_H
#define LISTS_INT_H
/*
 * The listmail stage's own parts, shared by lists_mail.c (the loop,
 * claims, commit, subscriptions), lists_bounce.c (DSNs, scores, probes)
 * and lists_send.c (the mails the stage sends). Nothing outside
 * pipeline/lists/ includes it.
 */
#include <time.h>
#include "lists.h"
#include "../util/hashmap.h"

#define LM_MEM_MIB     256
#define LM_SECONDS     60
/* Most recipients of one DSN looked at (a DSN bomb counts once a day anyway). */
#define LM_DSN_MAX     100
/* The first line receive --list writes: the envelope recipient. */
#define LM_RCPT_HEADER "X-Mimamori-Recipient:"

struct lm {
	struct context *ctx;
	struct lstore *st;
	long today;
	time_t now;
	size_t done, rejected;
	int io_error, node_error;
	int msgids_loaded;
	struct hashmap msgids;       /* Message-ID -> alert id (both in ids) */
	struct strlist ids;
};

struct lm_out {
	struct strbuf data;
	char *rcpt;
	char *sender;
};

/* One claimed input. */
struct lin {
	char token[SPOOL_TOKEN_LEN + 1];
	char *name;                  /* as it was in listbox/new */
	char *rel;                   /* work/listmail/TOKEN-NAME */
	struct strbuf reasons;       /* "; "-separated; empty: done */
	struct strbuf result;        /* what was done, no address: "subscribe: confirmation sent" */
	const char *list;            /* the list's id, for the audit log */
	struct lm_out *out;
	size_t nr_out, alloc_out;
};

void lin_reason(struct lin *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lin_result(struct lin *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * lists_send.c: render template name with pairs and add the mail for
 * rcpt to the input's outgoing mails, from the config's sender, envelope
 * sender `sender`, Reply-To reply_to (may be NULL). 0, or -1 (the node:
 * templates, sets lm->node_error).
 */
int lm_send(struct lm *lm, struct lin *in, const char *tpl, const char *const *pairs,
	    const char *rcpt, const char *sender, const char *reply_to);

/* A recipient group of a delivery-status body (RFC 3464), values cleaned. */
struct dsn_rcpt {
	char addr[256];              /* Final-Recipient after its "rfc822;", "" none */
	char action[16];
	char status[16];
};
/*
 * lists_bounce.c: the recipient groups of a message/delivery-status
 * body, at most max (the per-message group, which names none of
 * Final-Recipient, Action and Status, is left out). Values are cut to
 * their field's size, controls and spaces dropped.
 */
size_t lm_dsn_read(const struct strbuf *status, struct dsn_rcpt *out, size_t max);
/* 2 (hard: 5.x.x failed), 1 (soft: 4.x.x failed, delayed), 0 (not a failure). */
int lm_dsn_weight(const struct dsn_rcpt *r);

/* lists_bounce.c: a mail to ID+bounces@ (and XVERP forms) and to ID+probe-TOKEN@. */
void lm_bounce(struct lm *lm, struct lin *in, const struct lcommand *c, const char *raw,
	       size_t len);
void lm_probe(struct lm *lm, struct lin *in, const struct lcommand *c, const char *raw,
	      size_t len);
/* Probes older than LISTS_PROBE_DAYS not bounced: score reset. Returns how many. */
size_t lm_probes_lapse(struct lm *lm);

#endif
