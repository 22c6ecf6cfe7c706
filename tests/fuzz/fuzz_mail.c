/*
 * fuzz_mail - a request mail from anyone, as dispatch takes it apart
 * before any signature is checked: mail_parse() (lib/mail_parse.c, libetpan),
 * mail_entity_content() of the signed part (or of the whole message), the
 * Subject decoded, and the key: value form parser (pipeline/dispatch/
 * form.c) on the text found, its <request> validated against request.xsd.
 *
 * Invariants (FUZZ_CHECK): a refused message, entity or form has a
 * reason; a form that parses gives a <request> tree. (An encrypted
 * message may have an empty encrypted part: gpg then refuses it.)
 *
 * SECURITY: this is the code that reads mail from the Internet.
 */
#include <string.h>
#include "fuzz.h"
#include "lib/mail.h"
#include "../../pipeline/dispatch/dispatch.h"

static void check_form(const char *text)
{
	struct strbuf why = STRBUF_INIT;
	struct node *req = NULL;

	if (form_parse(text, &req, &why) < 0) {
		FUZZ_CHECK(why.len > 0);
	} else {
		FUZZ_CHECK(req && !strcmp(req->name, "request"));
		strbuf_reset(&why);
		xml_validate(req, XML_SCHEMA_REQUEST, &why);
	}
	node_free(req);
	strbuf_release(&why);
}

static void check_entity(const char *buf, size_t len)
{
	struct mail_content c;
	struct strbuf why = STRBUF_INIT;
	struct node *x = NULL;

	mail_content_init(&c);
	if (mail_entity_content(buf, len, &c, &why) < 0) {
		FUZZ_CHECK(why.len > 0);
	} else {
		struct node *req = NULL;
		size_t ignored;

		if (c.nr_texts)
			check_form(c.texts[0].text.buf);
		strbuf_reset(&why);
		if (form_read(&c, &req, &ignored, &why) < 0)
			FUZZ_CHECK(why.len > 0 && !req);
		node_free(req);
		if (c.xml.len) {
			strbuf_reset(&why);
			xml_parse(c.xml.buf, c.xml.len, MAIL_MAX_SIZE, XML_SCHEMA_REQUEST, &x, &why);
			node_free(x);
		}
	}
	mail_content_release(&c);
	strbuf_release(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_in m;
	struct strbuf why = STRBUF_INIT, subj = STRBUF_INIT;

	fuzz_setup();
	mail_in_init(&m);
	if (mail_parse((const char *)data, size, &m, &why) < 0) {
		FUZZ_CHECK(why.len > 0);
		goto out;
	}
	if (m.subject)
		mail_decode_header(m.subject, &subj);
	if (m.kind == MAIL_SIGNED)
		check_entity(m.signed_part.buf, m.signed_part.len);
	else if (m.kind == MAIL_PLAIN)
		check_entity((const char *)data, size);
out:
	mail_in_release(&m);
	strbuf_release(&why);
	strbuf_release(&subj);
	return 0;
}
