#ifndef DELIVER_H
#define DELIVER_H
#include <stddef.h>
#include <time.h>
#include "../commands.h"
#include "../lib/smtp.h"
#include "../util/strbuf.h"

/*
 * The deliver stage: sends the mail queue (core/queue.h) to the SMTP
 * relay of the config, or into local Maildirs under spool/mail/ when no
 * relay is configured.
 */

/*
 * Send every queued message's recipients that are due (never tried, or
 * deferred and past their retry time), record each outcome, finish the
 * messages whose recipients are all sent or failed (a failure report to
 * the operator first, when asked for), print one line per message.
 * Takes the "deliver" lock. Callable by `run` and `watch`. Returns 0 when
 * nothing stays deferred, EX_TEMPFAIL (75) when something does, EX_IOERR
 * (74) when the spool could not be written.
 */
int deliver_run(struct context *ctx);

/* ---- inside the stage ---- */

/*
 * Retry schedule, as Postfix's queue manager does it: after a deferral,
 * the next try waits as long as the message had been queued then, at
 * least 1 minute, at most 30: tries at 0, 1, 2, 4, 8, 16, 32, 62 … minutes.
 */
#define DELIVER_RETRY_MIN   60
#define DELIVER_RETRY_MAX   1800
/* Deferred recipients are failed this long after the message was queued. */
#define DELIVER_LIFETIME    (24 * 3600)

enum rcpt_status { RCPT_NEW, RCPT_SENT, RCPT_DEFERRED, RCPT_FAILED };

struct rcpt {
	const char *addr;         /* points into the entry's envelope */
	enum rcpt_status status;
	time_t last;              /* time of its last recorded outcome */
	char *reply;              /* last recorded reply (failed ones only), or NULL */
};

/* A queued message: env/QID, msg/QID, state/QID. */
struct qentry {
	char *qid;
	struct strbuf env;        /* the envelope, lines cut at NUL */
	const char *sender;
	time_t queued;
	const char *alert;        /* NULL: none */
	const char *report;       /* NULL: none */
	const char *list;         /* the list of this copy, NULL: none */
	int verp;                 /* XVERP asked for */
	struct rcpt *rcpts;
	size_t nr;
	struct strbuf msg;
	int state_fd;             /* -1 until the first append */
	size_t state_len;         /* bytes of complete lines in state/QID */
};

/*
 * Load queue entry qid (deliver_state.c). The state log is read line by
 * line; one that has grown past two lines per recipient is rewritten
 * with the last line of each (atomically). Returns 0; 1 when the entry is
 * unusable (reason in why: no message, a broken envelope); -1 on an I/O
 * error (reported).
 */
int qentry_load(const struct spool *sp, const char *qid, struct qentry *e,
		struct strbuf *why);
/*
 * The same, read only and without the message (e->msg stays empty): for
 * `status`, which takes no lock and must not rewrite what deliver is
 * appending to.
 */
int qentry_peek(const struct spool *sp, const char *qid, struct qentry *e,
		struct strbuf *why);
void qentry_release(struct qentry *e);

/* Whether recipient r of e is due at now. */
int rcpt_due(const struct qentry *e, const struct rcpt *r, time_t now);
/* When r is next due (deferred ones only). */
time_t rcpt_next_try(const struct qentry *e, const struct rcpt *r);

/*
 * Record outcomes in state/QID: one line per recipient in lines (already
 * formatted by state_line()), appended and fdatasync'ed. 0 or -1 (reported).
 */
int state_append(const struct spool *sp, struct qentry *e, const struct strbuf *lines);
/*
 * Apply an outcome to r and add its state line to lines. code: 2xx sent,
 * 5xx failed, anything else deferred (failed past the lifetime).
 */
void rcpt_record(struct qentry *e, struct rcpt *r, int code, const char *reply, time_t now,
		 struct strbuf *lines);

/*
 * Deliver data into the Maildirs spool/mail/ADDR of addrs[0..n)
 * (deliver_local.c), made durable together; out[i] gets 250 when
 * delivered, 550 when the address cannot be a folder name, 450 on an I/O
 * error, with a reply text.
 */
void maildir_deliver_batch(const struct spool *sp, const char *const *addrs, size_t n,
			   const char *data, size_t len, struct smtp_reply *out);
/* The same for one address; the reply text is appended to text. */
int maildir_deliver(const struct spool *sp, const char *addr, const char *data, size_t len,
		    struct strbuf *text);

#endif
