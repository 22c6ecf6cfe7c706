/*
 * xalloc - allocation wrappers that end the process instead of returning
 * NULL. Reads and writes nothing but memory.
 */
#include <stdlib.h>
#include <string.h>
#include "xalloc.h"
#include "msg.h"

/* 0: out of memory is fatal (70); else the exit code to use instead. */
static int nomem_exit;

void xalloc_set_nomem_exit(int code)
{
	nomem_exit = code;
}

static void nomem(const char *fmt, size_t a, size_t b)
{
	if (nomem_exit)
		msg_die(nomem_exit, fmt, a, b);
	msg_fatal(fmt, a, b);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		nomem("out of memory (%zu bytes)", size, 0);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		nomem("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		nomem("out of memory (%zu bytes)", size, 0);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
