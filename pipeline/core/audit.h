#ifndef AUDIT_H
#define AUDIT_H
#include "spool.h"

/*
 * The audit log, audit/audit.log: one line per operation, hash-chained.
 *
 *   TIME<TAB>USER<TAB>COMMAND<TAB>EVENT<TAB>DETAILS<TAB>HASH
 *
 * TIME is UTC RFC 3339 of the real clock (not --now, which is recorded in
 * DETAILS as now=… when set), USER the login name of the real uid,
 * COMMAND the subcommand, EVENT one word (accept, reject, show …),
 * DETAILS space-separated key=value words (ids, counts, spool paths) and
 * never personal data. HASH is the lowercase hex SHA-256 of the previous
 * line's HASH (64 zeros for the first line) followed by this line up to
 * and including the tab before HASH. audit/audit.head holds the number of
 * lines and the last HASH, so a removed last line is found too.
 *
 * Lines are buffered by audit_add() and written by audit_flush() under a
 * lock, with one fsync; a stage flushes after each durable step.
 */
void audit_begin(const struct spool *sp, const char *command);
void audit_add(const char *event, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int audit_flush(void);

/*
 * Check the chain. Returns 0 when it is intact; otherwise prints to stderr
 * which line is the first bad one ("line 7: hash mismatch") and returns -1.
 * `lines` gets the number of lines read.
 */
int audit_verify(const struct spool *sp, long *lines, struct strbuf *why);

#endif
