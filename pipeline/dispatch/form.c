/*
 * form - the key: value form operators fill in (templates/request-form.txt)
 * turned into the <request> document of schemas/request.xsd.
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

const char *const form_keys[] = {
	"request-id", "sent", "type", "status", "registration", "name-kana", "birth-date",
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
