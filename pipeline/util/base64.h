#ifndef BASE64_H
#define BASE64_H
#include <stddef.h>
#include "strbuf.h"

/*
 * Decode base64 (RFC 4648, whitespace ignored, padding optional at the end)
 * and append to out; stop with -1 once more than max bytes would result.
 * Returns 0, or -1 on a character outside the alphabet or too much data.
 */
int base64_decode(const char *in, size_t len, size_t max, struct strbuf *out);
/*
 * Whether in[0..len) is in the lexical space of XML Schema's
 * xs:base64Binary (XSD 1.1 Part 2, 3.3.16): XML whitespace anywhere, and
 * without it a multiple of four characters of the alphabet, with one or
 * two '=' only at the end, after a character whose unused bits are zero.
 */
int base64_is_xsd(const char *in, size_t len);
/* The same, and when it is, *size (if not NULL) is the decoded length. */
int base64_xsd_size(const char *in, size_t len, size_t *size);
/* Encode, 76 characters a line with CRLF between lines when wrap is set. */
void base64_encode(const void *in, size_t len, int wrap, struct strbuf *out);

#endif
