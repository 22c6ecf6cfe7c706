#ifndef TEXT_H
#define TEXT_H
#include <stddef.h>
#include "../util/strbuf.h"

/*
 * Text handling over libunistring and iconv: UTF-8 checks, NFKC, the
 * folding the leak guard and duplicate detection compare with, and
 * ISO-2022-JP conversion.
 */

/* Whether s[0..len) is well-formed UTF-8 without NUL bytes. */
int text_is_utf8(const char *s, size_t len);

/* NFKC of s appended to out (s must be UTF-8; invalid input is copied). */
void text_nfkc(const char *s, struct strbuf *out);

/*
 * The comparison form: NFKC (full-width to half-width), lowercase ASCII,
 * and every space (including U+3000), tab, newline and hyphen-like
 * character (- ‐ ‑ ‒ – — − ー ｰ) removed. Appended to out.
 */
void text_fold(const char *s, struct strbuf *out);

/* Only the ASCII digits of NFKC(s), appended to out ("０７８-1" -> "0781"). */
void text_digits(const char *s, struct strbuf *out);

/*
 * Convert UTF-8 s to ISO-2022-JP (JIS X 0208, ending in ASCII). Returns -1
 * when s holds a character that ISO-2022-JP cannot carry (out unchanged).
 */
int text_to_iso2022jp(const char *s, size_t len, struct strbuf *out);
/* Convert from any charset iconv knows to UTF-8. -1 on invalid input. */
int text_to_utf8(const char *charset, const char *s, size_t len, struct strbuf *out);

#endif
