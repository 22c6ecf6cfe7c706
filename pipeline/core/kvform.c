/*
 * kvform - the key: value reader shared by the operators' request form
 * and the care centers' registration form (see kvform.h).
 *
 * Reads text only; writes nothing.
 *
 * SECURITY: parses text from outside (a signed request mail, a form typed
 * at a care center). Every key must be known and appear once; a problem
 * names the key (cleaned up: printable ASCII, at most 40 bytes) or the
 * line number, never a value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "kvform.h"
#include "../util/xalloc.h"

static int key_index(const char *const *keys, const char *key)
{
	int i;

	for (i = 0; keys[i]; i++)
		if (!strcmp(keys[i], key))
			return i;
	return -1;
}

int kvform_key_line(const char *line, size_t len, const char *const *keys)
{
	int i;

	for (i = 0; keys[i]; i++) {
		size_t k = strlen(keys[i]);

		if (k > len || strncasecmp(line, keys[i], k))
			continue;
		while (k < len && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (k < len && line[k] == ':')
			return i;
	}
	return -1;
}

static void problem(struct strbuf *why, const char *fmt, const char *arg)
{
	if (why->len)
		strbuf_addstr(why, "; ");
	strbuf_addf(why, fmt, arg);
}

static void problem_line(struct strbuf *why, const char *fmt, int lineno)
{
	char n[16];

	snprintf(n, sizeof(n), "%d", lineno);
	problem(why, fmt, n);
}

int kvform_parse(const char *text, const char *const *keys, char **vals,
		 struct strbuf *why)
{
	struct strbuf *cur = NULL, key = STRBUF_INIT;
	struct strbuf *bufs;
	char *present;
	const char *line = text;
	int current = -1, bad = 0, lineno = 0, found = 0;
	size_t k, nkeys;

	for (nkeys = 0; keys[nkeys]; nkeys++)
		vals[nkeys] = NULL;
	bufs = xcalloc(nkeys ? nkeys : 1, sizeof(*bufs));
	present = xcalloc(nkeys ? nkeys : 1, 1);
	for (k = 0; k < nkeys; k++)
		strbuf_init(&bufs[k], 0);
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t raw = end ? (size_t)(end - line) : strlen(line), len = raw;
		const char *colon;

		lineno++;
		while (len && line[len - 1] == '\r')
			len--;
		if (len == 0 || line[0] == '#') {
			if (len == 0)
				current = -1;
		} else if (line[0] == ' ' || line[0] == '\t') {
			size_t s = 0;

			while (s < len && (line[s] == ' ' || line[s] == '\t'))
				s++;
			if (current >= 0) {
				if (s < len) {
					cur = &bufs[current];
					strbuf_addch(cur, ' ');
					strbuf_add(cur, line + s, len - s);
				}
			} else if (s < len && current == -1) {
				problem_line(why, "line %s: a continuation without a key", lineno);
				bad = 1;
			}
		} else if (!(colon = memchr(line, ':', len))) {
			problem_line(why, "line %s: not 'key: value'", lineno);
			bad = 1;
			current = -2;
		} else {
			size_t klen = (size_t)(colon - line), vs;
			int i;

			while (klen && (line[klen - 1] == ' ' || line[klen - 1] == '\t'))
				klen--;
			strbuf_reset(&key);
			for (k = 0; k < klen; k++)
				strbuf_addch(&key, (line[k] >= 'A' && line[k] <= 'Z') ?
					     line[k] + 32 : line[k]);
			i = key_index(keys, key.buf);
			vs = (size_t)(colon - line) + 1;
			while (vs < len && (line[vs] == ' ' || line[vs] == '\t'))
				vs++;
			if (i < 0) {
				/*
				 * Not quoted: the text before a colon may be a
				 * value (a line break typed into a field).
				 */
				problem_line(why, "line %s: unknown key", lineno);
				bad = 1;
				current = -2;
			} else if (present[i]) {
				problem(why, "duplicate key '%s'", keys[i]);
				bad = 1;
				current = -2;
			} else {
				strbuf_add(&bufs[i], line + vs, len - vs);
				present[i] = 1;
				current = i;
				found++;
			}
		}
		line = end ? end + 1 : line + raw;
	}
	for (k = 0; k < nkeys; k++) {
		if (present[k] && !bad) {
			strbuf_trim(&bufs[k]);
			vals[k] = strbuf_detach(&bufs[k], NULL);
		} else {
			strbuf_release(&bufs[k]);
		}
	}
	free(bufs);
	free(present);
	strbuf_release(&key);
	return bad ? -1 : found;
}

void kvform_clear(char **vals, size_t nkeys)
{
	size_t k;

	for (k = 0; k < nkeys; k++) {
		free(vals[k]);
		vals[k] = NULL;
	}
}
