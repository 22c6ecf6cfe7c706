/*
 * form - the key: value form operators fill in (templates/
 * request-form.ja.txt, .en.txt) turned into the <request> document of
 * schemas/request.xsd.
 *
 * Reads text only (with core/kvform.c, the reader the registration
 * form shares); writes nothing.
 *
 * SECURITY: parses text from a request mail. The signature was checked
 * before, but the text is still only data: every key must be known, none
 * twice, and the result is validated against the schema by the caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dispatch.h"
#include "../core/kvform.h"
#include "../lib/mail.h"
#include "../lib/seal.h"

const char *const form_keys[] = {
	"request-id", "sent", "type", "status", "alert", "registration", "name-kana", "birth-date",
	"requester-name", "requester-relationship", "requester-phone", "police-station",
	"police-report-at", "missing-since", "last-seen", "clothing", "belongings", "area",
	"found-at", "notes", NULL
};

int form_parse(const char *text, struct node **req, struct strbuf *why)
{
	char *vals[sizeof(form_keys) / sizeof(form_keys[0])];
	int found;
	size_t k;

	*req = NULL;
	found = kvform_parse(text, form_keys, vals, why);
	if (found == 0) {
		if (why->len)
			strbuf_addstr(why, "; ");
		strbuf_addstr(why, "no request fields in the signed text");
		found = -1;
	}
	if (found > 0) {
		*req = node_new("request");
		for (k = 0; form_keys[k]; k++)
			if (vals[k])
				node_add(*req, form_keys[k], vals[k]);
	}
	kvform_clear(vals, sizeof(vals) / sizeof(vals[0]) - 1);
	return found > 0 ? 0 : -1;
}

/* A flowed line is never joined onto one that begins a field or a comment. */
static int fresh_line(const char *line, size_t len, void *data)
{
	(void)data;
	return (len && line[0] == '#') || kvform_key_line(line, len, form_keys) >= 0;
}

/* The offset of the first form line in text, or -1. */
static long first_form_line(const char *text, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		const char *nl = memchr(text + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - text - pos) : size - pos;

		if (kvform_key_line(text + pos, len, form_keys) >= 0)
			return (long)pos;
		pos += len + 1;
	}
	return -1;
}

/* Whether a line is one that counts when ignored (not blank, not '#'). */
static int counts(const char *line, size_t len)
{
	size_t i;

	if (len && line[len - 1] == '\r')
		len--;
	if (len && line[0] == '#')
		return 0;
	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return 1;
	return 0;
}

/*
 * The form of text: the greeting before the first form line and the
 * signature block from the "-- " line on become blank lines (so that line
 * numbers stay those of the text), counted in *ignored.
 */
static void strip_form(const char *text, size_t size, long start, struct strbuf *out,
		       size_t *ignored)
{
	size_t pos = 0;
	int sig = 0;

	while (pos < size) {
		const char *line = text + pos, *nl = memchr(line, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - line) : size - pos, clen = len;

		if (clen && line[clen - 1] == '\r')
			clen--;
		if (!sig && (long)pos >= start && clen == 3 && !memcmp(line, "-- ", 3))
			sig = 1;
		if (sig || (long)pos < start) {
			if (counts(line, len))
				(*ignored)++;
		} else {
			strbuf_add(out, line, len);
		}
		strbuf_addch(out, '\n');
		pos += len + 1;
	}
}

int form_read(struct mail_content *c, struct node **req, size_t *ignored,
	      struct strbuf *why)
{
	struct strbuf form = STRBUF_INIT;
	struct mail_text *pick = NULL;
	long start = -1;
	size_t i;
	int pass, ret;

	*req = NULL;
	*ignored = 0;
	for (i = 0; i < c->nr_texts; i++)
		mail_unflow(&c->texts[i], fresh_line, NULL);
	for (pass = 0; pass < 2 && !pick; pass++)
		for (i = 0; i < c->nr_texts && !pick; i++) {
			struct mail_text *t = &c->texts[i];

			if (t->attachment != pass)
				continue;
			start = first_form_line(t->text.buf, t->text.len);
			if (start >= 0)
				pick = t;
		}
	if (!pick) {
		if (why->len)
			strbuf_addstr(why, "; ");
		strbuf_addstr(why, "no request fields in the signed text");
		return -1;
	}
	strip_form(pick->text.buf, pick->text.len, start, &form, ignored);
	ret = form_parse(form.buf, req, why);
	wipe(form.buf, form.len);
	strbuf_release(&form);
	return ret;
}
