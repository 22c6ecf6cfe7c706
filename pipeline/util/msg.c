/*
 * msg - diagnostics on stderr, one line each, prefixed "mimamori: STAGE: ".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "msg.h"

static const char *stage;

void msg_set_stage(const char *s)
{
	stage = s;
}

const char *msg_stage(void)
{
	return stage ? stage : "";
}

static void vmsg(const char *level, const char *fmt, va_list ap, int err)
{
	char buf[4096];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "mimamori: %s%s%s", stage ? stage : "",
			     stage ? ": " : "", level);
	if (n < sizeof(buf))
		vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (err) {
		n = strlen(buf);
		if (n < sizeof(buf))
			snprintf(buf + n, sizeof(buf) - n, ": %s", strerror(err));
	}
	fflush(stdout);
	fprintf(stderr, "%s\n", buf);
}

void msg_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap, 0);
	va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap, 0);
	va_end(ap);
}

/*
 * End the process. On a thread other than the main one (an allocation
 * that failed while parsing, say), exit() would run the atexit() handlers,
 * which wipe and free the data key and the cipher (lib/seal.c,
 * core/datakey.c), while the main thread may still be sealing with them:
 * such a thread flushes stdout and ends every thread at once with _exit().
 */
static void __attribute__((noreturn)) leave(int code)
{
	if (gettid() != getpid()) {
		fflush(stdout);
		_exit(code);
	}
	exit(code);
}

void msg_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap, 0);
	va_end(ap);
	leave(code);
}

void msg_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("fatal: ", fmt, ap, 0);
	va_end(ap);
	leave(EX_SOFTWARE);
}

void msg_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("panic: ", fmt, ap, 0);
	va_end(ap);
	abort();
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap, 0);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	vmsg("", fmt, ap, err);
	va_end(ap);
	errno = err;
	return -1;
}
