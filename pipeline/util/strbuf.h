#ifndef STRBUF_H
#define STRBUF_H
#include <stdarg.h>
#include <stddef.h>

/*
 * A growing byte buffer with git's invariants:
 *
 *  - `buf` is never NULL and always NUL-terminated (buf[len] == '\0'), so it
 *    can be passed to string functions; it may also hold NUL bytes inside.
 *  - A strbuf is initialised with STRBUF_INIT or strbuf_init() and must be
 *    released with strbuf_release(); strbuf_detach() hands the memory over.
 */
struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* Return the buffer (malloc'ed, caller frees) and reinitialise sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addbuf(struct strbuf *sb, const struct strbuf *other);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/*
 * Replace the content of why (when not NULL) with a formatted reason and
 * return -1, so a wrapper reads `return strbuf_fail(why, "bad %s", x)`.
 */
int strbuf_fail(struct strbuf *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Remove trailing (rtrim) or both-side (trim) ASCII whitespace. */
void strbuf_rtrim(struct strbuf *sb);
void strbuf_trim(struct strbuf *sb);

/* Append s with the five XML special characters escaped. */
void strbuf_add_xml_escaped(struct strbuf *sb, const char *s);
/* Append the lowercase hex form of len bytes. */
void strbuf_add_hex(struct strbuf *sb, const unsigned char *data, size_t len);

/*
 * Read a whole file (or at most `max` bytes; more is an error with errno
 * EFBIG). Returns 0, or -1 with errno set and sb unchanged.
 */
int strbuf_read_file(struct strbuf *sb, const char *path, size_t max);
/* Read all of fd until EOF (at most max bytes; more is EFBIG). */
int strbuf_read_fd(struct strbuf *sb, int fd, size_t max);

/* Append s[0..len), turning every bare LF into CRLF. */
void strbuf_add_crlf(struct strbuf *sb, const char *s, size_t len);

#endif
