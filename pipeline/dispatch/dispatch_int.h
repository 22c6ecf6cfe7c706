#ifndef DISPATCH_INT_H
#define DISPATCH_INT_H
/*
 * The dispatch stage's own parts, shared by dispatch.c (the loop, claims,
 * commit and recovery), dispatch_auth.c (signatures and the form),
 * dispatch_checks.c (every check of a request) and dispatch_compose.c
 * (recipients, the alert and notice mails, the leak guard, replies).
 * Nothing outside pipeline/dispatch/ includes it.
 */
#include <time.h>
#include "dispatch.h"
#include "../commands.h"
#include "../core/alert.h"
#include "../core/registry.h"
#include "../core/spool.h"
#include "../lib/gpg.h"
#include "../util/strbuf.h"

#define MAX_AGE     (24 * 3600)
#define MAX_SKEW    300        /* seconds a clock may be ahead */
#define APPROVAL_WINDOW (2 * 3600) /* a held alert may be approved this long */
/* The worker's limits (core/supervise.h). */
#define DISPATCH_MEM_MIB 256
#define INPUT_SECONDS    60

struct dispatch {
	struct context *ctx;
	struct registry *reg;
	struct alert_store *st;
	const char *lang;
	long today;
	time_t now;
	size_t accepted, rejected;
	/*
	 * A failure of the node itself: the run stops and leaves the input
	 * where it was. io_error: the disk (74); node_error: any other exit
	 * code (69 gpg-agent down, 78 the installation). Nothing a request
	 * holds ever sets them: a request is rejected or finished instead.
	 */
	int io_error, node_error;
};

/* One message to queue. */
struct outmsg {
	struct strbuf data;
	struct strlist rcpts;
	const char *alert_id;
	const char *report;
	char *sender;             /* envelope sender, NULL: the config's sender */
	const char *list;         /* the list of a list copy (the config's id), or NULL */
	int verp;                 /* XVERP asked for */
};

/* One claimed request. */
struct req {
	char token[SPOOL_TOKEN_LEN + 1];
	char *name;               /* as it was in inbox/new */
	char *rel;                /* work/dispatch/TOKEN-NAME */
	struct strbuf reasons;    /* "; "-separated */
	const struct operator *op;        /* the verified signer */
	const struct operator *reply_to;  /* who is told, or NULL */
	char *rid;                /* the id the signer's request is remembered by */
	char *msgid;              /* the request's Message-ID, when well-formed */
	time_t signed_at;         /* the signature's creation time */
	size_t ignored;           /* greeting and signature lines left out */
	int replay;               /* rid was seen before */
	struct node *request;
	struct node *record;
	struct reg_entry *entry;
	struct alert_entry *open;         /* the open alert (update/found/withdraw) */
	const struct agency *police;
	const char *type;
	int exercise;
	int held;                 /* an alert held for a second operator */
	int dropped;              /* a held alert withdrawn before approval */
	int widened;              /* the area widened to every ward (no request) */
	struct alert alert;       /* the alert made or changed */
	/* Its CAP document (core/cap.h), when one is published. */
	const char *cap_type;     /* "Alert" "Update" "Cancel", or NULL */
	const char *cap_response; /* "Monitor" "AllClear" or NULL */
	struct strbuf cap_doc;
	struct strbuf cap_id, cap_headline;
	char cap_sent[32];
	size_t nr_rcpts;
	struct outmsg *out;
	size_t nr_out, alloc_out;
};

/* dispatch.c: append a reason ("; "-separated); a new message to queue. */
void req_reason(struct req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct outmsg *req_out_new(struct req *r);

/* dispatch_auth.c: the signer (sets r->op) and the form (r->request). */
int dispatch_authenticate(struct dispatch *d, struct req *r, const struct strbuf *raw,
			struct strbuf *entity);
int dispatch_read_request(struct dispatch *d, struct req *r, const struct strbuf *entity);

/* dispatch_checks.c: a form value or NULL; the wards of the area; checks. */
const char *req_value(const struct req *r, const char *key);
void req_area(const struct req *r, struct wards *w);
void dispatch_check_replay(struct dispatch *d, struct req *r, const struct strbuf *entity);
void dispatch_checks(struct dispatch *d, struct req *r);

/* dispatch.c: the commit of one request (or of a widening). */
int dispatch_commit(struct dispatch *d, struct req *r, int accepted);
/* After a crash: the envelopes a commit's note holds whose message is there. */
void req_setup(struct req *r, const char *token, const char *name);
void req_release(struct req *r);

/*
 * dispatch_widen.c: widen every open actual alert whose area was not
 * every ward once <escalation after=…/> has passed since it was sent;
 * finish the envelopes of a widening a crash interrupted.
 */
void dispatch_widen(struct dispatch *d);
void dispatch_widen_recover(struct dispatch *d);

/* dispatch_compose.c: the alert or notice mails. */
int dispatch_mails(struct dispatch *d, struct req *r);
/* Every member the alert of r would reach (its request's area). */
void dispatch_all_recipients(struct dispatch *d, struct req *r, struct strlist *rcpts);
/* The widening mails of r->alert (loaded) to rcpts, the recipients not yet reached. */
int dispatch_widen_mails(struct dispatch *d, struct req *r, const struct strlist *rcpts);
/* dispatch_reply.c: the reply to the operator (or none, said why). */
int dispatch_reply(struct dispatch *d, struct req *r, int accepted);

#endif
