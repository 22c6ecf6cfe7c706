#ifndef MSG_H
#define MSG_H
#include <stdarg.h>

/*
 * Diagnostics on stderr in one style:
 *
 *   mimamori: intake: 'x.xml': missing <birth-date>
 *
 * msg_set_stage() sets the word after "mimamori: " (the running command).
 * Messages are lowercase, without a final period, and say what failed first.
 */
void msg_set_stage(const char *stage);
const char *msg_stage(void);

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print and exit with the given sysexits code. */
void msg_die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Print and exit 70 (EX_SOFTWARE): resources exhausted or "cannot happen". */
void msg_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* A bug: print and abort(). */
void msg_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* git's error(): print and return -1, so code reads `return error(...)`. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like error(), but appends ": strerror(errno)". */
int error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
