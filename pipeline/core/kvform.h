#ifndef KVFORM_H
#define KVFORM_H
#include "../util/strbuf.h"

/*
 * The key: value text that people fill in: operators' request forms
 * (dispatch/form.c) and the registration form of the care centers
 * (entry/form.c) are read by this one reader.
 *
 *   # a comment line
 *   key: value
 *     a continuation line (starts with a space or tab; joined with one space)
 *
 * Keys are compared in ASCII lower case; blank lines end a value.
 */

/*
 * Parse text against the NULL-terminated list keys. vals must have room
 * for one pointer per key; each is set to a new string (the value,
 * trimmed; "" for "key:" alone) or left NULL when the key is absent; the
 * caller frees them. Returns the number of keys found, or -1 with every
 * problem appended to why, separated by "; " (unknown keys, quoted
 * cleaned up; duplicate keys; lines without a key). Values are never
 * quoted in a problem.
 */
int kvform_parse(const char *text, const char *const *keys, char **vals,
		 struct strbuf *why);

/*
 * Whether the len bytes at line are a form line: one of keys (in ASCII
 * lower case or not), optional spaces or tabs, then a colon. The key's
 * index, or -1.
 */
int kvform_key_line(const char *line, size_t len, const char *const *keys);

/* Free the values kvform_parse() set (nkeys of them) and reset them. */
void kvform_clear(char **vals, size_t nkeys);

#endif
