#ifndef XALLOC_H
#define XALLOC_H
#include <stddef.h>

/*
 * Allocation that never returns NULL: on failure the process ends with
 * msg_fatal(), so callers never check.
 */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/*
 * Exit with code (instead of 70) when memory runs out: a supervised
 * worker (core/supervise.c) tells its supervisor that an input was too
 * big for its memory limit.
 */
void xalloc_set_nomem_exit(int code);

/* Grow an array: ALLOC_GROW(items, nr + 1, alloc), as git does. */
#define ALLOC_GROW(x, nr, alloc) \
	do { \
		if ((nr) > (alloc)) { \
			(alloc) = (alloc) < 16 ? 16 : (alloc) * 2; \
			if ((alloc) < (nr)) \
				(alloc) = (nr); \
			(x) = xrealloc((x), (alloc) * sizeof(*(x))); \
		} \
	} while (0)

#endif
