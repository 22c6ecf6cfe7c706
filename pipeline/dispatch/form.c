/*
 * form - the key: value form operators fill in (templates/request-form.txt)
 * turned into the <request> document of schemas/request.xsd.
 *
 * Reads text only; writes nothing.
 *
 * SECURITY: parses text from a request mail. The signature was checked
 * before, but the text is still only data: every key must be known, none
 * twice, and the result is validated against the schema by the caller.
 * Reasons name lines and known keys, never text of the form: what stands
 * before a colon may be a value that went on a line of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dispatch.h"
#include "../util/xalloc.h"

const char *const form_keys[] = {
	"request-id", "sent", "type", "status", "registration", "name-kana", "birth-date",
	"requester-name", "requester-relationship", "requester-phone", "police-station",
	"police-report-at", "missing-since", "last-seen", "clothing", "belongings", "area",
	"found-at", "notes", NULL
};

static int key_index(const char *key)
{
	int i;

	for (i = 0; form_keys[i]; i++)
		if (!strcmp(form_keys[i], key))
			return i;
	return -1;
}

static void problem(struct strbuf *why, const char *fmt, const char *arg)
{
	if (why->len)
		strbuf_addstr(why, "; ");
	strbuf_addf(why, fmt, arg);
}

int form_parse(const char *text, struct node **req, struct strbuf *why)
{
	struct strbuf *vals[32] = { NULL };
	struct strbuf key = STRBUF_INIT;
	const char *line = text;
	int current = -1, bad = 0, lineno = 0, any = 0;
	size_t k;

	*req = NULL;
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
					strbuf_addch(vals[current], ' ');
					strbuf_add(vals[current], line + s, len - s);
				}
			} else if (s < len && current == -1) {
				char n[16];

				snprintf(n, sizeof(n), "%d", lineno);
				problem(why, "line %s: a continuation without a key", n);
				bad = 1;
			}
		} else if (!(colon = memchr(line, ':', len))) {
			char n[16];

			snprintf(n, sizeof(n), "%d", lineno);
			problem(why, "line %s: not 'key: value'", n);
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
			i = key_index(key.buf);
			vs = (size_t)(colon - line) + 1;
			while (vs < len && (line[vs] == ' ' || line[vs] == '\t'))
				vs++;
			if (i < 0) {
				/*
				 * Not quoted: the text before a colon may be a
				 * value (a line break typed into a field).
				 */
				char n[16];

				snprintf(n, sizeof(n), "%d", lineno);
				problem(why, "line %s: unknown key", n);
				bad = 1;
				current = -2;
			} else if (vals[i]) {
				problem(why, "duplicate key '%s'", form_keys[i]);
				bad = 1;
				current = -2;
			} else {
				vals[i] = xmalloc(sizeof(struct strbuf));
				strbuf_init(vals[i], 0);
				strbuf_add(vals[i], line + vs, len - vs);
				current = i;
				any = 1;
			}
		}
		line = end ? end + 1 : line + raw;
	}
	if (!any && !bad) {
		problem(why, "%s", "no request fields in the signed text");
		bad = 1;
	}
	if (!bad) {
		*req = node_new("request");
		for (k = 0; form_keys[k]; k++) {
			if (!vals[k])
				continue;
			strbuf_trim(vals[k]);
			node_add(*req, form_keys[k], vals[k]->buf);
		}
	}
	for (k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
		if (vals[k]) {
			strbuf_release(vals[k]);
			free(vals[k]);
		}
	}
	strbuf_release(&key);
	return bad ? -1 : 0;
}
