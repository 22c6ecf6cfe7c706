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
/*
 * The first byte of s[0..len) that is a NUL or not part of well-formed
 * UTF-8 (overlong forms, surrogates and code points above U+10FFFF are
 * not), or NULL when there is none: the program's one UTF-8 check.
 */
const char *text_utf8_bad(const char *s, size_t len);

/* NFKC of s appended to out (s must be UTF-8; invalid input is copied). */
void text_nfkc(const char *s, struct strbuf *out);

/*
 * The comparison form: NFKC (full-width to half-width), lowercase ASCII,
 * and every space (including U+3000), tab, newline and hyphen-like
 * character (- ‐ ‑ ‒ – — − ー ｰ) removed. Appended to out.
 */
void text_fold(const char *s, struct strbuf *out);

/*
 * The leak guard's comparison form, applied alike to the text searched
 * and to every value searched for, appended to out:
 *  - NFKC (full-width letters and digits to half-width, half-width
 *    katakana to full-width), then katakana to hiragana and lower case;
 *  - kanji numbers 〇一二三四五六七八九十 to digits, read as in dates:
 *    digits alone one by one (一九四一 → 1941), 十 as tens and units
 *    (十 → 10, 十六 → 16, 二十 → 20, 三十一 → 31);
 *  - removed: white space, every dash and hyphen, dots (. 。), middle
 *    dots (・ ･ ·), slashes, underscores, commas (, 、), parentheses
 *    (as in 078(000)0001), zero-width characters and variation
 *    selectors (and every other default-ignorable code point);
 *  - ー (and half-width ｰ) is kept after kana, where it lengthens a
 *    vowel (カード is かーど, not かど), and removed as a dash anywhere
 *    else (090ー0000, 6ー5ー1).
 * When seps is not NULL, one byte is appended to it for each byte
 * appended to out: 1 on the first byte of a character that a removed
 * space or punctuation mark stood before (zero-width characters do not
 * count), else 0. Invalid UTF-8 bytes become U+FFFD.
 */
void text_fold_strict(const char *s, struct strbuf *out, struct strbuf *seps);

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
