/*
 * test_form - the key: value form of a request (dispatch/form.c) and its
 * validation against schemas/request.xsd: comments, continuations, every
 * problem listed, nothing from a value can start another field.
 */
#include "unit.h"
#include "dispatch/dispatch.h"
#include "lib/mail.h"
#include "lib/xml.h"
#include "util/xalloc.h"
#include "util/strbuf.h"

static const char good[] =
	"# a comment\n"
	"request-id: 2026-11-21-0001\r\n"
	"sent: 2026-11-21T09:40:00+09:00\n"
	"Type: alert\n"
	"status: actual\n"
	"\n"
	"registration: R2026-000123\n"
	"requester-name: 神戸 太郎\n"
	"police-station: police-ikuta\n"
	"police-report-at: 2026-11-21T09:30:00+09:00\n"
	"missing-since: 2026-11-21T07:00:00+09:00\n"
	"last-seen: 三宮センター街\n"
	"  東口付近\n"
	"clothing:   紺色のジャンパー  \n"
	"area: chuo nada\n";

TEST(parses_a_good_form)
{
	struct node *req = NULL;
	struct strbuf why = STRBUF_INIT;

	CHECK_INT(form_parse(good, &req, &why), 0);
	CHECK_STR(why.buf, "");
	CHECK_STR(node_text(req, "type"), "alert");
	CHECK_STR(node_text(req, "last-seen"), "三宮センター街 東口付近");
	CHECK_STR(node_text(req, "clothing"), "紺色のジャンパー");
	CHECK_STR(node_text(req, "request-id"), "2026-11-21-0001");
	CHECK_INT(xml_validate(req, XML_SCHEMA_REQUEST, &why), 0);
	CHECK_STR(why.buf, "");
	node_free(req);
	strbuf_release(&why);
}

TEST(lists_every_problem)
{
	struct node *req = NULL;
	struct strbuf why = STRBUF_INIT;

	CHECK(form_parse("type: alert\nfood: rice\ntype: found\nno colon here\n"
			 "Bcc: x@example.org\n", &req, &why) < 0);
	CHECK(req == NULL);
	CHECK_STR(why.buf, "line 2: unknown key; duplicate key 'type'; "
			   "line 4: not 'key: value'; line 5: unknown key");
	strbuf_reset(&why);
	/* What stands before a colon may be a value on a line of its own. */
	CHECK(form_parse("type: alert\nrequester-phone: 090\nKobe Hanako 1941-04-01: x\n"
			 " Zq7x\n", &req, &why) < 0);
	CHECK_STR(why.buf, "line 3: unknown key");
	strbuf_reset(&why);
	CHECK(form_parse("# only a comment\n\n", &req, &why) < 0);
	CHECK_CONTAINS(why.buf, "no request fields");
	strbuf_reset(&why);
	CHECK(form_parse(" starts with a continuation\n", &req, &why) < 0);
	CHECK_CONTAINS(why.buf, "continuation without a key");
	/* A last line ending in CR without LF (once an endless loop). */
	strbuf_reset(&why);
	CHECK_INT(form_parse("type: alert\r", &req, &why), 0);
	CHECK_STR(node_text(req, "type"), "alert");
	node_free(req);
	req = NULL;
	CHECK(form_parse("\r\r", &req, &why) < 0);
	strbuf_release(&why);
}

TEST(schema_refuses_bad_values)
{
	struct node *req = NULL;
	struct strbuf why = STRBUF_INIT;
	static const char *const bad[] = {
		"type: alarm\n", "status: drill\n", "registration: 123\n",
		"sent: yesterday\n", "request-id: a b\n", "area: Chuo;rm\n", NULL
	};
	const char *const *b;

	for (b = bad; *b; b++) {
		struct strbuf form = STRBUF_INIT;

		strbuf_addstr(&form, "request-id: r1\nsent: 2026-11-21T09:40:00+09:00\n"
				     "type: alert\nstatus: actual\n");
		/* The bad line replaces its key. */
		{
			const char *colon = strchr(*b, ':');
			struct strbuf key = STRBUF_INIT, out = STRBUF_INIT;
			const char *line = form.buf;

			strbuf_add(&key, *b, (size_t)(colon - *b + 1));
			while (*line) {
				const char *end = strchr(line, '\n');

				if (strncmp(line, key.buf, key.len))
					strbuf_add(&out, line, (size_t)(end - line + 1));
				line = end + 1;
			}
			strbuf_addstr(&out, *b);
			strbuf_reset(&form);
			strbuf_addbuf(&form, &out);
			strbuf_release(&key);
			strbuf_release(&out);
		}
		strbuf_reset(&why);
		CHECK_INT(form_parse(form.buf, &req, &why), 0);
		strbuf_reset(&why);
		if (req)
			CHECK(xml_validate(req, XML_SCHEMA_REQUEST, &why) < 0);
		CHECK(why.len > 0);
		node_free(req);
		req = NULL;
		strbuf_release(&form);
	}
	strbuf_release(&why);
}

TEST(missing_required_fields_fail_the_schema)
{
	struct node *req = NULL;
	struct strbuf why = STRBUF_INIT;

	CHECK_INT(form_parse("status: actual\n", &req, &why), 0);
	CHECK(xml_validate(req, XML_SCHEMA_REQUEST, &why) < 0);
	CHECK_CONTAINS(why.buf, "type");
	node_free(req);
	req = NULL;
	/* request-id and sent may be left out (dispatch makes them). */
	strbuf_reset(&why);
	CHECK_INT(form_parse("type: alert\nstatus: actual\n", &req, &why), 0);
	CHECK_INT(xml_validate(req, XML_SCHEMA_REQUEST, &why), 0);
	node_free(req);
	strbuf_release(&why);
}

/* A text part as mail_entity_content() gives it. */
static void add_text(struct mail_content *c, const char *text, int attachment, int flowed,
		     int delsp)
{
	struct mail_text *t;

	ALLOC_GROW(c->texts, c->nr_texts + 1, c->alloc_texts);
	t = &c->texts[c->nr_texts++];
	strbuf_init(&t->text, 0);
	strbuf_addstr(&t->text, text);
	t->attachment = attachment;
	t->flowed = flowed;
	t->delsp = delsp;
}

TEST(greeting_and_signature_are_ignored)
{
	struct mail_content c;
	struct node *req = NULL;
	struct strbuf why = STRBUF_INIT;
	size_t ignored = 99;

	mail_content_init(&c);
	add_text(&c, "お疲れさまです。\n以下のとおり依頼します。\n\n# form\n"
		 "type: alert\nstatus: actual\nnotes: a\n b: c\n\n"
		 "-- \n見守り係 山田\n\n電話 078-000-0000\n", 0, 0, 0);
	CHECK_INT(form_read(&c, &req, &ignored, &why), 0);
	CHECK_STR(why.buf, "");
	CHECK_INT(ignored, 5);
	CHECK_STR(node_text(req, "type"), "alert");
	CHECK_STR(node_text(req, "notes"), "a b: c");
	node_free(req);
	mail_content_release(&c);
	/* No form line anywhere. */
	mail_content_init(&c);
	add_text(&c, "hello\n-- \nsig\n", 0, 0, 0);
	CHECK(form_read(&c, &req, &ignored, &why) < 0);
	CHECK_CONTAINS(why.buf, "no request fields");
	CHECK(req == NULL);
	mail_content_release(&c);
	strbuf_release(&why);
}

TEST(flowed_never_joins_onto_a_field)
{
	struct mail_content c;
	struct node *req = NULL;
	struct strbuf why = STRBUF_INIT;
	size_t ignored;
	int delsp;

	for (delsp = 0; delsp < 2; delsp++) {
		mail_content_init(&c);
		add_text(&c, "type: alert\nclothing: 紺色のジャンパー、白い運動靴 \n"
			 "belongings: 茶色の \nかばん\n# note \nlast-seen: 駅 \n# x\n", 0, 1, delsp);
		CHECK_INT(form_read(&c, &req, &ignored, &why), 0);
		CHECK_STR(why.buf, "");
		CHECK_STR(node_text(req, "clothing"), "紺色のジャンパー、白い運動靴");
		CHECK_STR(node_text(req, "belongings"), delsp ? "茶色のかばん" : "茶色の かばん");
		CHECK_STR(node_text(req, "last-seen"), "駅");
		node_free(req);
		req = NULL;
		mail_content_release(&c);
	}
	strbuf_release(&why);
}

TEST(the_form_may_be_an_attachment)
{
	struct mail_content c;
	struct node *req = NULL;
	struct strbuf why = STRBUF_INIT;
	size_t ignored;

	mail_content_init(&c);
	add_text(&c, "Please find the form attached.\nRegards:\n", 0, 0, 0);
	add_text(&c, "type: found\nstatus: exercise\n", 1, 0, 0);
	add_text(&c, "type: withdraw\n", 1, 0, 0);
	CHECK_INT(form_read(&c, &req, &ignored, &why), 0);
	CHECK_STR(node_text(req, "type"), "found");
	CHECK_INT(ignored, 0);
	node_free(req);
	mail_content_release(&c);
	/* An inline form wins over an attached one. */
	mail_content_init(&c);
	add_text(&c, "type: found\n", 1, 0, 0);
	add_text(&c, "hi\ntype: update\n", 0, 0, 0);
	CHECK_INT(form_read(&c, &req, &ignored, &why), 0);
	CHECK_STR(node_text(req, "type"), "update");
	CHECK_INT(ignored, 1);
	node_free(req);
	mail_content_release(&c);
	strbuf_release(&why);
}

/* Random lines made of form pieces and bytes: never a crash, always a verdict. */
TEST(random_input_never_breaks_it)
{
	static const char *const pieces[] = {
		"type", "status", ":", " ", "\t", "\n", "\r\n", "#", "request-id",
		"clothing", "日本語", "\xff\xfe", "\xe3\x80", "notes: ", "  cont", "\0x", "::",
		"area: chuo", "Bcc: x@example.org", "\n\n", NULL
	};
	size_t npieces = 0, i, j;
	unsigned int seed = 12345;

	while (pieces[npieces])
		npieces++;
	for (i = 0; i < 3000; i++) {
		struct strbuf in = STRBUF_INIT, why = STRBUF_INIT;
		struct node *req = NULL;
		size_t n = (seed = seed * 1103515245 + 12345) % 40;
		int r;

		for (j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			if (seed % 7 == 0)
				strbuf_addch(&in, (char)(seed >> 8));
			else
				strbuf_addstr(&in, pieces[(seed >> 4) % npieces]);
		}
		r = form_parse(in.buf, &req, &why);
		CHECK_INT((r == 0), (req != NULL));
		CHECK(r == 0 || why.len > 0);
		if (req) {
			strbuf_reset(&why);
			xml_validate(req, XML_SCHEMA_REQUEST, &why);
		}
		node_free(req);
		strbuf_release(&in);
		strbuf_release(&why);
	}
}

UNIT_MAIN(T(parses_a_good_form), T(random_input_never_breaks_it), T(lists_every_problem), T(schema_refuses_bad_values),
	  T(missing_required_fields_fail_the_schema), T(greeting_and_signature_are_ignored),
	  T(flowed_never_joins_onto_a_field), T(the_form_may_be_an_attachment))
