#ifndef QUEUE_H
#define QUEUE_H
#include <stddef.h>
#include "spool.h"

/*
 * The outgoing mail queue: every mail the program sends (alerts, updates,
 * replies to operators, reminders, failure reports) is queued here by the
 * stage that made it and sent by `deliver`, as Postfix's cleanup hands
 * messages to qmgr through its queue folders.
 *
 * A queued message QID (e.g. 20261121T004000-1a2b3c4d5e6f7a8b) is two
 * files, renamed into place in this order:
 *
 *   queue/msg/QID    the message exactly as it is sent: RFC 5322 headers
 *                    and body, CRLF line ends, no dot-stuffing
 *   queue/env/QID    its envelope, written last (the commit point):
 *                      sender ADDRESS
 *                      queued UNIX-TIME
 *                      alert ALERT-ID        (optional: the alert it belongs to)
 *                      report FINGERPRINT    (optional: operator told of failures)
 *                      list LIST-ID          (optional: the list the copy went out on)
 *                      verp yes              (optional: XVERP when the relay offers it)
 *                      rcpt ADDRESS          (one line per recipient, each once)
 *
 * deliver keeps each recipient's result in queue/state/QID, an append-only
 * log fsynced after each SMTP transaction, one line per recipient:
 *
 *   UNIX-TIME<TAB>ADDRESS<TAB>sent|deferred|failed<TAB>REPLY
 *
 * (the last line for an address wins; a partial last line is ignored).
 * When every recipient is sent or failed, the three files are removed.
 * A msg/ file without its env/ file is a leftover of an interrupted
 * stage and is removed by deliver when it is older than an hour.
 *
 * No header of a queued message names a recipient: recipients are only in
 * the envelope.
 */

/* The folders' names (SPOOL_QUEUE_*, SPOOL_REACH) are in core/spool.h. */

struct queue_msg {
	const char *sender;            /* envelope sender */
	const char *const *rcpts;      /* recipient addresses */
	size_t nr_rcpts;
	const char *alert_id;          /* NULL: none */
	const char *report;            /* operator fingerprint, NULL: none */
	const void *data;              /* the message */
	size_t len;
	const char *list;              /* the list this copy goes out on, NULL: none */
	int verp;                      /* ask the relay for XVERP (RFC-less, Postfix) */
};

/* Create the queue's folders (0700) when missing. 0 or -1 (reported). */
int queue_init(const struct spool *sp);

/*
 * Add a message to batch b (written now, in place at spool_batch_commit():
 * msg/ first, env/ last). A recipient listed twice is kept once. The new
 * QID is put in qid (at least QUEUE_QID_MAX bytes). 0, or -1 (reported).
 */
#define QUEUE_QID_MAX 48
int queue_add(struct spool_batch *b, const struct queue_msg *m, char *qid);

/*
 * The parts of queue_add() for a stage that must put msg/ and env/ in
 * different batches (dispatch writes envelopes after its own commit
 * point): a new QID, and the envelope text of m (m->data is not used)
 * appended to env. -1 (reported) when an address or id cannot stand on an
 * envelope line.
 */
void queue_new_qid(char *qid);
int queue_envelope(const struct queue_msg *m, struct strbuf *env);

/*
 * After a crash, for such a stage: queued is what its commit point
 * recorded of the messages, "QID=BASE64(ENVELOPE)" words separated by
 * spaces (a claim note's queued part, core/claim.h); write queue/env/QID
 * for each whose queue/msg/QID is there and whose envelope is not (a
 * message without its envelope is never sent). 0, or -1 (reported) when
 * an envelope cannot be written.
 */
#define QUEUE_ENV_MAX ((size_t)1 << 24)   /* an envelope in a note, decoded */
int queue_finish_envelopes(const struct spool *sp, const char *queued);

#endif
