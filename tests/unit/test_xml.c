/*
 * test_xml - lib/xml.c: parsing, the refusals of hostile input, schema
 * validation with reasons that name the element, and the node trees.
 * Reads the fixtures under tests/data/registration/ and tests/data/config/.
 * TEST_XML_VERBOSE=1 prints every reason the tests see.
 */
#include "unit.h"
#include "util/node.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define MAX_DOC (8 * 1024 * 1024)

static char *fixture(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/tests/data/%s", SRCDIR, name);
	if (strbuf_read_file(&sb, path, MAX_DOC) < 0) {
		fprintf(stderr, "  cannot read fixture '%s'\n", path);
		unit_failed = 1;
	}
	return strbuf_detach(&sb, NULL);
}

/* s with the first occurrence of from replaced by to (a new string). */
static char *replace(const char *s, const char *from, const char *to)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = strstr(s, from);

	if (!p) {
		fprintf(stderr, "  '%s' not in the document\n", from);
		unit_failed = 1;
		return xstrdup(s);
	}
	strbuf_add(&sb, s, p - s);
	strbuf_addstr(&sb, to);
	strbuf_addstr(&sb, p + strlen(from));
	return strbuf_detach(&sb, NULL);
}

/* s without the first element that starts with open and ends with close. */
static char *cut(const char *s, const char *open, const char *close)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = strstr(s, open), *q = p ? strstr(p, close) : NULL;

	if (!q) {
		fprintf(stderr, "  '%s' not in the document\n", open);
		unit_failed = 1;
		return xstrdup(s);
	}
	strbuf_add(&sb, s, p - s);
	strbuf_addstr(&sb, q + strlen(close));
	return strbuf_detach(&sb, NULL);
}

static int parse(const char *doc, enum xml_schema schema, struct node **root,
		 struct strbuf *why)
{
	return xml_parse(doc, strlen(doc), MAX_DOC, schema, root, why);
}

/* doc must parse (and validate); returns the tree. */
static struct node *accept(const char *doc, enum xml_schema schema)
{
	struct strbuf why = STRBUF_INIT;
	struct node *root = NULL;

	if (parse(doc, schema, &root, &why) < 0 || !root) {
		fprintf(stderr, "  refused: %s\n", why.buf);
		unit_failed = 1;
	}
	strbuf_release(&why);
	return root;
}

/*
 * doc must be refused with a one-line reason holding needle; returns the
 * reason (caller frees).
 */
static char *refuse_len(const char *doc, size_t len, size_t max, enum xml_schema schema,
			const char *needle, int line)
{
	struct strbuf why = STRBUF_INIT;
	struct node *root = (struct node *)1;
	int ret = xml_parse(doc, len, max, schema, &root, &why);

	if (getenv("TEST_XML_VERBOSE"))
		fprintf(stderr, "  reason: %s\n", why.buf);

	if (ret != -1 || root) {
		fprintf(stderr, "  test_xml.c:%d: accepted, expected a reason with '%s'\n",
			line, needle);
		unit_failed = 1;
		if (root && root != (struct node *)1)
			node_free(root);
	} else if (!strstr(why.buf, needle) || strchr(why.buf, '\n') || !why.len) {
		fprintf(stderr, "  test_xml.c:%d: reason '%s' does not hold '%s'\n", line,
			why.buf, needle);
		unit_failed = 1;
	}
	return strbuf_detach(&why, NULL);
}

#define REFUSE(doc, schema, needle) \
	free(refuse_len((doc), strlen(doc), MAX_DOC, (schema), (needle), __LINE__))
#define REFUSE_IS(doc, schema, reason) \
	do { \
		char *r_ = refuse_len((doc), strlen(doc), MAX_DOC, (schema), (reason), \
				      __LINE__); \
		CHECK_STR(r_, (reason)); \
		free(r_); \
	} while (0)

static size_t count_same(const struct node *n)
{
	size_t nr = 0;

	for (; n; n = node_next_same(n))
		nr++;
	return nr;
}

/* ------------------------------------------------------------------ */

TEST(valid_fixtures_parse)
{
	static const char *const files[][2] = {
		{ "registration/valid-self.xml", "registration" },
		{ "registration/valid-guardian.xml", "registration" },
		{ "registration/valid-agency-sharing.xml", "registration" },
		{ "registration/valid-minimal.xml", "registration" },
		{ "registration/change.xml", "change" },
		{ "registration/cancellation.xml", "cancellation" },
		{ "registration/renewal.xml", "renewal" },
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *doc = fixture(files[i][0]);
		struct node *root = accept(doc, XML_SCHEMA_REGISTRATION);

		if (root)
			CHECK_STR(root->name, files[i][1]);
		else
			fprintf(stderr, "  in %s\n", files[i][0]);
		node_free(root);
		free(doc);
	}
}

TEST(tree_holds_the_document)
{
	char *doc = fixture("registration/valid-self.xml");
	struct node *root = accept(doc, XML_SCHEMA_REGISTRATION), *n;

	if (!root)
		return;
	CHECK_STR(root->name, "registration");
	CHECK(root->text == NULL);
	CHECK(root->parent == NULL);
	CHECK_STR(node_text(root, "basis"), "self-application");
	CHECK_STR(node_attr(node_child(root, "applicant"), "kind"), "self");
	CHECK(node_child(root, "ordinance-clause") == NULL);
	CHECK_STR(node_text(root, "person/name"), "神戸 花子");
	CHECK_STR(node_text(root, "person/name-kana"), "こうべ はなこ");
	CHECK_STR(node_text(root, "person/sex"), "female");
	CHECK_STR(node_text(root, "person/birth-date"), "1941-04-01");
	CHECK_STR(node_text(root, "person/address"), "神戸市中央区加納町6-5-1 見守りハイツ101号");
	CHECK_STR(node_attr(node_path(root, "person/address"), "ward"), "chuo");
	CHECK(node_path(root, "person")->text == NULL);

	n = node_path(root, "person/phone");
	CHECK_INT(count_same(n), 2);
	CHECK_STR(node_attr(n, "kind"), "home");
	CHECK_STR(n->text, "078-000-0001");
	n = node_next_same(n);
	CHECK_STR(node_attr(n, "kind"), "mobile");
	CHECK_STR(node_attr(n, "carrier"), "見守りモバイル");
	CHECK_STR(node_attr(n, "holder"), "神戸 太郎");
	CHECK_STR(n->text, "090-0000-0001");

	CHECK_STR(node_text(root, "person/features/shoe-size-cm"), "22.5");
	CHECK_STR(node_text(root, "person/features/gait"), "cane");
	CHECK(node_path(root, "person/features/other") != NULL);
	CHECK(node_text(root, "person/features/other") == NULL);
	CHECK_STR(node_attr(node_path(root, "person/lost-before"), "count"), "2");
	CHECK_STR(node_attr(node_path(root, "person/photo"), "type"), "image/png");
	CHECK_INT(count_same(node_path(root, "requesters/requester")), 2);
	CHECK_STR(node_text(root, "requesters/requester/relationship"), "長男");
	CHECK_STR(node_text(root, "care/care-manager/name"), "須磨 一郎");
	CHECK_STR(node_attr(node_child(root, "consent"), "signed-by"), "person");
	CHECK_STR(node_attr(node_child(root, "intake"), "center"), "center-chuo-1");
	CHECK_STR(node_attr(node_child(root, "intake"), "interview-date"), "2026-03-01");
	CHECK(node_child(root, "intake")->parent == root);
	CHECK(root->last == node_child(root, "intake"));
	node_free(root);
	free(doc);
}

TEST(comments_cdata_and_whitespace)
{
	const char *doc =
		"<?xml version='1.0' encoding='utf-8'?>\n"
		"<!-- a comment before the root -->\n"
		"<?some-pi data?>\n"
		"<cancellation xmlns='urn:mimamori:1'>\n"
		"  <!-- dropped -->\n"
		"  <id>R2026-000001</id><?pi dropped?>\n"
		"  <date><![CDATA[2026-09-30]]></date>\n"
		"  <reason>\n    other\n  </reason>\n"
		"</cancellation>\n";
	struct node *root = accept(doc, XML_SCHEMA_REGISTRATION), *c;
	size_t nr = 0;

	if (!root)
		return;
	for (c = root->child; c; c = c->next)
		nr++;
	CHECK_INT(nr, 3);
	CHECK_STR(node_text(root, "date"), "2026-09-30");
	/* Text is kept as written; the schema saw it collapsed. */
	CHECK_STR(node_text(root, "reason"), "\n    other\n  ");
	node_free(root);

	/* Without a schema, too; but never mixed content. */
	root = accept("<a xmlns='urn:mimamori:1'><b>x</b> <c/></a>", XML_SCHEMA_NONE);
	CHECK(root && !root->text && node_child(root, "c") && !node_text(root, "c"));
	node_free(root);
	REFUSE("<a xmlns='urn:mimamori:1'>text<b/></a>", XML_SCHEMA_NONE, "<a>: text mixed");
	REFUSE("<a xmlns='urn:mimamori:1'><x:b xmlns:x='urn:x'/></a>", XML_SCHEMA_NONE,
	       "<b>: not in namespace");
	REFUSE("<a xmlns='urn:mimamori:1' xmlns:x='urn:x' x:y='1'/>", XML_SCHEMA_NONE,
	       "<a>: attribute 'x:y' not allowed");
}

TEST(person_required_elements_named)
{
	static const char *const required[][2] = {
		{ "<name>", "</name>" },
		{ "<name-kana>", "</name-kana>" },
		{ "<sex>", "</sex>" },
		{ "<birth-date>", "</birth-date>" },
		{ "<address ", "</address>" },
		{ "<phone ", "</phone>" },
		{ "<usual-places>", "</usual-places>" },
		{ "<previous-residences>", "</previous-residences>" },
	};
	static const char *const fixtures[] = {
		"registration/valid-minimal.xml",
		"registration/valid-self.xml",
	};
	size_t i, f;

	for (f = 0; f < 2; f++) {
		char *doc = fixture(fixtures[f]);

		for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
			char *bad = cut(doc, required[i][0], required[i][1]), *tmp;
			char name[64];

			/* valid-self has two phones: take both away. */
			if (f == 1 && !strcmp(required[i][0], "<phone ")) {
				tmp = cut(bad, "<phone ", "</phone>");
				free(bad);
				bad = tmp;
			}
			snprintf(name, sizeof(name), "missing %.*s", (int)strcspn(required[i][0], " >"),
				 required[i][0]);
			strcat(name, ">");
			REFUSE(bad, XML_SCHEMA_REGISTRATION, name);
			REFUSE(bad, XML_SCHEMA_REGISTRATION, "in <person>");
			free(bad);
		}
		free(doc);
	}
}

TEST(reasons_for_missing_elements)
{
	char *doc = fixture("registration/valid-minimal.xml"), *bad;

	bad = cut(doc, "<birth-date>", "</birth-date>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "missing <birth-date> in <person> (found <address>)");
	free(bad);
	bad = cut(doc, "<intake ", "/>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "missing <intake> in <registration>");
	free(bad);
	bad = cut(doc, "<basis>", "</basis>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "missing <basis> in <registration> (found <applicant>)");
	free(bad);
	bad = cut(doc, "<applicant ", "/>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "missing <applicant> in <registration> (found <person>)");
	free(bad);
	bad = cut(doc, "<person>", "</person>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "missing <person> in <registration> (found <consent>)");
	free(bad);
	/* The last element of person gone: libxml2 says so on the parent. */
	bad = cut(doc, "<previous-residences>", "</previous-residences>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "missing <previous-residences> in <person>");
	free(bad);
	free(doc);

	doc = fixture("registration/cancellation.xml");
	bad = cut(doc, "<reason>", "</reason>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "missing <reason> in <cancellation>");
	free(bad);
	free(doc);

	/* A change must replace at least one section. */
	REFUSE("<change xmlns='urn:mimamori:1'><id>R2026-000001</id><date>2026-01-01</date></change>",
	       XML_SCHEMA_REGISTRATION, "missing <person>, <requesters>, <care> or <intake> in <change>");

	/* Requesters: 1 to 3, each with name, relationship and a phone. */
	doc = fixture("registration/valid-self.xml");
	bad = cut(doc, "<relationship>", "</relationship>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "missing <relationship> in <requester> (found <phone>)");
	free(bad);
	bad = replace(doc, "</requesters>",
		      "<requester><name>a</name><relationship>b</relationship><phone kind='home'>1</phone></requester>"
		      "<requester><name>a</name><relationship>b</relationship><phone kind='home'>1</phone></requester>"
		      "</requesters>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "unexpected <requester> in <requesters>");
	free(bad);
	free(doc);
}

TEST(reasons_for_unexpected_elements)
{
	char *doc = fixture("registration/valid-minimal.xml"), *bad, *bad2;

	bad = replace(doc, "<sex>female</sex>", "<sex>female</sex><sex>male</sex>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION,
		  "unexpected <sex> in <person> (expected <maiden-name> or <birth-date>)");
	free(bad);
	bad = replace(doc, "<sex>female</sex>", "<sex>female</sex><nickname>はな</nickname>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION,
		  "unexpected <nickname> in <person> (expected <maiden-name> or <birth-date>)");
	free(bad);
	bad = replace(doc, "</person>", "<unknown/></person>");
	REFUSE(bad, XML_SCHEMA_REGISTRATION, "unexpected <unknown> in <person> (expected <features>,");
	free(bad);
	/* Out of order. */
	bad = replace(doc, "<address ward=\"nada\">神戸市灘区岩屋中町3-3-3</address>", "");
	bad2 = replace(bad, "</person>", "<address ward=\"nada\">x</address></person>");
	REFUSE_IS(bad2, XML_SCHEMA_REGISTRATION, "<address> must come before <phone> in <person>");
	free(bad2);
	free(bad);
	bad = replace(doc, "<birth-date>1950-01-15</birth-date>", "");
	bad2 = replace(bad, "<phone ", "<birth-date>1950-01-15</birth-date><phone ");
	REFUSE_IS(bad2, XML_SCHEMA_REGISTRATION, "<birth-date> must come before <address> in <person>");
	free(bad2);
	free(bad);
	{
		struct strbuf name = STRBUF_INIT;
		int i;

		strbuf_addstr(&name, "<registration xmlns='urn:mimamori:1'><");
		for (i = 0; i < 1000; i++)
			strbuf_addstr(&name, "x");
		strbuf_addstr(&name, "/></registration>");
		REFUSE_IS(name.buf, XML_SCHEMA_REGISTRATION, "unexpected "
			  "<xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...> in <registration> "
			  "(expected <basis>)");
		strbuf_release(&name);
	}
	bad = replace(doc, "</registration>", "<extra/></registration>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "unexpected <extra> in <registration>");
	free(bad);
	bad = replace(doc, "<sex>female</sex>", "<sex><b>female</b></sex>");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<sex>: child elements not allowed");
	free(bad);
	bad = replace(doc, "<person>", "<person>text");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<person>: text not allowed here");
	free(bad);
	free(doc);
}

TEST(enumerations_named)
{
	static const char *const cases[][4] = {
		/* fixture, from, to, element */
		{ "valid-self.xml", "<basis>self-application<", "<basis>self<", "<basis>" },
		{ "valid-self.xml", "<sex>female<", "<sex>woman<", "<sex>" },
		{ "valid-self.xml", "<build>thin<", "<build>slim<", "<build>" },
		{ "valid-self.xml", "<face>round<", "<face>long<", "<face>" },
		{ "valid-self.xml", "<complexion>normal<", "<complexion>tanned<", "<complexion>" },
		{ "valid-self.xml", "<blood-type>A<", "<blood-type>C<", "<blood-type>" },
		{ "valid-self.xml", "<teeth>partial-dentures<", "<teeth>none<", "<teeth>" },
		{ "valid-self.xml", "<gait>cane<", "<gait>wheelchair<", "<gait>" },
		{ "valid-self.xml", "<level>care-2<", "<level>care-6<", "<level>" },
		{ "valid-self.xml", "<phone kind=\"home\">", "<phone kind=\"fax\">", "<phone>: bad attribute 'kind'" },
		{ "valid-self.xml", "share=\"yes\"", "share=\"maybe\"", "<consent>: bad attribute 'share'" },
		{ "valid-self.xml", "broadcast=\"yes\"", "broadcast=\"1\"", "<consent>: bad attribute 'broadcast'" },
		{ "valid-self.xml", "signed-by=\"person\"", "signed-by=\"staff\"", "<consent>: bad attribute 'signed-by'" },
		{ "valid-self.xml", "kind=\"self\"", "kind=\"other\"", "<applicant>: bad attribute 'kind'" },
		{ "valid-guardian.xml", "guardian=\"adult\"", "guardian=\"parent\"", "<applicant>: bad attribute 'guardian'" },
		{ "valid-self.xml", "type=\"image/png\"", "type=\"image/gif\"", "<photo>: bad attribute 'type'" },
		{ "cancellation.xml", "<reason>facility<", "<reason>bored<", "<reason>" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[128], *doc, *bad;

		snprintf(path, sizeof(path), "registration/%s", cases[i][0]);
		doc = fixture(path);
		bad = replace(doc, cases[i][1], cases[i][2]);
		REFUSE(bad, XML_SCHEMA_REGISTRATION, cases[i][3]);
		REFUSE(bad, XML_SCHEMA_REGISTRATION, "not one of");
		free(bad);
		free(doc);
	}
}

TEST(reasons_for_values_and_attributes)
{
	char *doc = fixture("registration/valid-self.xml"), *bad;

	/* A field of the person: what is wrong, never the value. */
	bad = replace(doc, "<sex>female<", "<sex>woman<");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<sex>: not one of female, male");
	free(bad);
	bad = replace(doc, "<birth-date>1941-04-01<", "<birth-date>abc<");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<birth-date>: not a valid date");
	free(bad);
	bad = replace(doc, "<birth-date>1941-04-01<", "<birth-date>1941-02-30<");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<birth-date>: not a valid date");
	free(bad);
	bad = replace(doc, "<birth-date>1941-04-01<", "<birth-date>1941-04-01Z<");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<birth-date>: not a valid date (YYYY-MM-DD)");
	free(bad);
	bad = replace(doc, "<name>神戸 花子<", "<name> \n <");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<name>: empty");
	free(bad);
	bad = replace(doc, "<height-cm>148<", "<height-cm>20<");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<height-cm>: less than 50");
	free(bad);
	bad = replace(doc, "<weight-kg>45<", "<weight-kg>301<");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<weight-kg>: more than 300");
	free(bad);
	bad = replace(doc, "<shoe-size-cm>22.5<", "<shoe-size-cm>big<");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<shoe-size-cm>: not a number");
	free(bad);
	bad = replace(doc, "<phone kind=\"home\">078-000-0001<",
		      "<phone kind=\"home\">078-000-0001-0000-0000-0000-0000-0000-0000-0000-0000-0000-0000-0000-0000<");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<phone>: too long (length 72, at most 64)");
	free(bad);
	bad = replace(doc, "count=\"2\"", "count=\"-1\"");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION,
		  "<lost-before>: bad attribute 'count' (not a whole number of 0 or more)");
	free(bad);
	bad = replace(doc, "U5ErkJggg==<", "U5ErkJggg=x<");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<photo>: not valid base64");
	free(bad);
	bad = replace(doc, " ward=\"chuo\"", "");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<address>: missing attribute 'ward'");
	free(bad);
	bad = replace(doc, "ward=\"chuo\"", "ward=\"../chuo\"");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<address>: bad attribute 'ward' (not a ward id)");
	free(bad);
	bad = replace(doc, "share=\"yes\"", "share=\"maybe\"");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION,
		  "<consent>: bad attribute 'share' value 'maybe' (not one of yes, no)");
	free(bad);
	bad = replace(doc, "<consent ", "<consent witness=\"x\" ");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<consent>: unknown attribute 'witness'");
	free(bad);
	bad = replace(doc, " staff=\"垂水 さくら\"", " staff=\" \"");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<intake>: empty attribute 'staff'");
	free(bad);
	bad = replace(doc, "interview-date=\"2026-03-01\"", "interview-date=\"March\"");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION,
		  "<intake>: bad attribute 'interview-date' (not a valid date)");
	free(bad);
	free(doc);

	/* Ids, dates and kinds of a document are quoted. */
	doc = fixture("registration/change.xml");
	bad = replace(doc, "R2026-000001", "R2026-1");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION,
		  "<id>: 'R2026-1' is not a registration id (R2026-000123)");
	free(bad);
	free(doc);
	/* A long value is cut; control characters never reach the reason. */
	doc = fixture("registration/cancellation.xml");
	bad = replace(doc, "<reason>facility<",
		      "<reason>a\tvery&#10;long value that goes on and on and on and on and on<");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<reason>: 'a very long value that goes on "
		  "and on an...' is not one of death, facility, moved-out, other");
	free(bad);
	free(doc);
}

/*
 * Every shape of error libxml2 reports about a field of a person, a
 * requester, the care or the intake: the reason names the element and
 * what is wrong, and holds nothing of the marked value.
 */
#define MARK "Zq7x"

struct leak_case {
	const char *fixture, *from, *to, *reason;
};

static void refuse_without_mark(const char *doc, enum xml_schema schema, const char *reason,
				int all, int line)
{
	struct strbuf why = STRBUF_INIT;
	struct node *root = NULL;
	int ret = all ? xml_parse_all(doc, strlen(doc), MAX_DOC, schema, &root, &why) :
			xml_parse(doc, strlen(doc), MAX_DOC, schema, &root, &why);

	if (getenv("TEST_XML_VERBOSE"))
		fprintf(stderr, "  reason: %s\n", why.buf);
	if (ret != -1 || root) {
		fprintf(stderr, "  test_xml.c:%d: accepted, expected '%s'\n", line, reason);
		unit_failed = 1;
		node_free(root);
	} else if (strstr(why.buf, MARK) || strstr(why.buf, "1941/04/01") ||
		   strstr(why.buf, "神戸") || strstr(why.buf, "花子")) {
		fprintf(stderr, "  test_xml.c:%d: reason '%s' quotes the value\n", line, why.buf);
		unit_failed = 1;
	} else if (reason && strcmp(why.buf, reason)) {
		fprintf(stderr, "  test_xml.c:%d: reason '%s', expected '%s'\n", line, why.buf,
			reason);
		unit_failed = 1;
	}
	strbuf_release(&why);
}

static void run_leak_cases(const struct leak_case *c, size_t nr, enum xml_schema schema)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		char path[128], *doc, *bad;

		snprintf(path, sizeof(path), "%s", c[i].fixture);
		doc = fixture(path);
		bad = replace(doc, c[i].from, c[i].to);
		refuse_without_mark(bad, schema, c[i].reason, 0, (int)i);
		refuse_without_mark(bad, schema, NULL, 1, (int)i);
		free(bad);
		free(doc);
	}
}

TEST(reasons_hold_no_personal_value)
{
	static const struct leak_case reg[] = {
#define SELF "registration/valid-self.xml"
		{ SELF, "<birth-date>1941-04-01<", "<birth-date>1941/04/01<",
		  "<birth-date>: not a valid date" },
		{ SELF, "<birth-date>1941-04-01<", "<birth-date>1941-04-01" MARK "<",
		  "<birth-date>: not a valid date" },
		{ SELF, "<birth-date>1941-04-01<", "<birth-date> 1941-04-01Z <",
		  "<birth-date>: not a valid date (YYYY-MM-DD)" },
		{ SELF, "<name>神戸 花子<", "<name>\t<", "<name>: empty" },
		{ SELF, "<sex>female<", "<sex>" MARK "<", "<sex>: not one of female, male" },
		{ SELF, "<build>thin<", "<build>" MARK "<",
		  "<build>: not one of obese, slightly-obese, medium, thin" },
		{ SELF, "<blood-type>A<", "<blood-type>" MARK "<",
		  "<blood-type>: not one of A, B, AB, O, unknown" },
		{ SELF, "<gait>cane<", "<gait>" MARK "<", "<gait>: not one of unaided, cane" },
		{ SELF, "<height-cm>148<", "<height-cm>" MARK "<", "<height-cm>: not a number" },
		{ SELF, "<height-cm>148<", "<height-cm>20<", "<height-cm>: less than 50" },
		{ SELF, "<weight-kg>45<", "<weight-kg>3000<", "<weight-kg>: more than 300" },
		{ SELF, "<shoe-size-cm>22.5<", "<shoe-size-cm>" MARK "<",
		  "<shoe-size-cm>: not a number" },
		{ SELF, "<phone kind=\"home\">078-000-0001<",
		  "<phone kind=\"home\">078-" MARK "-0000000000000000000000000000000000000000000000000000000000<",
		  "<phone>: too long (length 67, at most 64)" },
		{ SELF, "<phone kind=\"home\">", "<phone kind=\"" MARK "\">",
		  "<phone>: bad attribute 'kind' (not one of home, mobile, work)" },
		{ SELF, "holder=\"神戸 太郎\"", "holder=\" \"", "<phone>: empty attribute 'holder'" },
		{ SELF, "count=\"2\"", "count=\"" MARK "\"",
		  "<lost-before>: bad attribute 'count' (not a whole number of 0 or more)" },
		{ SELF, "U5ErkJggg==<", "U5ErkJggg=" MARK "<", "<photo>: not valid base64" },
		{ SELF, "type=\"image/png\"", "type=\"image/" MARK "\"",
		  "<photo>: bad attribute 'type' (not one of image/jpeg, image/png)" },
		{ SELF, "ward=\"chuo\"", "ward=\"神戸 " MARK "\"",
		  "<address>: bad attribute 'ward' (not a ward id)" },
		{ SELF, "<level>care-2<", "<level>care-" MARK "<",
		  "<level>: not one of support-1, support-2, care-1, care-2, care-3, care-4, care-5" },
		{ SELF, "interview-date=\"2026-03-01\"", "interview-date=\"1941/04/01\"",
		  "<intake>: bad attribute 'interview-date' (not a valid date)" },
		{ SELF, "center=\"center-chuo-1\"", "center=\"" MARK " 花子\"",
		  "<intake>: bad attribute 'center' (not an agency id)" },
		/* xsi:type and xsi:nil are libxml2's own words: never used. */
		{ SELF, "<birth-date>1941-04-01<",
		  "<birth-date xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' "
		  "xmlns:xs='http://www.w3.org/2001/XMLSchema' xsi:type='xs:" MARK "'>1941/04/01<",
		  "<birth-date>: not valid" },
		{ SELF, "<birth-date>1941-04-01<",
		  "<birth-date xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' "
		  "xsi:nil='true'>1941/04/01<", "<birth-date>: not valid" },
		/* Not well-formed: libxml2's messages quote the document. */
		{ SELF, "<name>神戸 花子<", "<name>神戸 &" MARK ";<",
		  "not well-formed XML (line 6): an entity that is not defined "
		  "('&' not written as &amp;?)" },
		{ SELF, "<name>神戸 花子<", "<name><!-- 神戸 " MARK "<",
		  "not well-formed XML (line 66): a comment that is not closed" },
		{ SELF, "<name>神戸 花子<", "<name><![CDATA[神戸 " MARK "<",
		  "not well-formed XML (line 66): a CDATA section that is not closed" },
		{ SELF, "<name>神戸 花子<", "<name><?" MARK " 花子 <",
		  "not well-formed XML (line 66): a processing instruction that is not closed" },
		{ SELF, "<name>神戸 花子</name>", "<name>神戸</" MARK ">",
		  "not well-formed XML (line 6): <name> ends with another end tag" },
		{ SELF, "<name>神戸 花子</name>", "<name>神戸<" MARK "></name>",
		  "not well-formed XML (line 6): an end tag that does not match its start tag" },
		{ SELF, "<name>神戸 花子</name>", "<name 神戸" MARK ">a</name>",
		  "not well-formed XML (line 6): an attribute without a value" },
		{ SELF, "holder=\"神戸 太郎\"", "holder=神戸" MARK,
		  "not well-formed XML (line 13): an attribute value without quotes" },
		{ SELF, "holder=\"神戸 太郎\"", "holder=\"神戸 <" MARK "\"",
		  "not well-formed XML (line 13): '<' in an attribute value" },
		/* A prefix not declared: only a warning to libxml2. */
		{ SELF, "<name>神戸 花子</name>", "<p:name>神戸 " MARK "</p:name>",
		  "<p:name>: not in namespace urn:mimamori:1" },
		{ SELF, "<name>神戸 花子</name>", "<name>神戸 ]]> " MARK "</name>",
		  "not well-formed XML (line 6): ']]>' in text" },
#undef SELF
	};
	static const struct leak_case req[] = {
#define ALERT "request/alert.xml"
		{ ALERT, "<birth-date>1938-11-23<", "<birth-date>1941/04/01<",
		  "<birth-date>: not a valid date" },
		{ ALERT, "<name-kana>なだ かずお<", "<name-kana>" MARK "&#9;<",
		  "<name-kana>: blank, or holds a control character" },
		{ ALERT, "<area>", "<requester-phone>090-" MARK "&#10;</requester-phone><area>",
		  "<requester-phone>: blank, or holds a control character" },
		{ ALERT, "<area>", "<requester-name>" MARK
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</requester-name><area>",
		  "<requester-name>: too long (length 207, at most 200)" },
		{ ALERT, "<area>", "<requester-relationship> </requester-relationship><area>",
		  "<requester-relationship>: empty" },
#undef ALERT
	};

	run_leak_cases(reg, sizeof(reg) / sizeof(reg[0]), XML_SCHEMA_REGISTRATION);
	run_leak_cases(req, sizeof(req) / sizeof(req[0]), XML_SCHEMA_REQUEST);
}

/* The fields of a request that are not personal are quoted, as before. */
TEST(request_ids_and_kinds_quoted)
{
	char *doc = fixture("request/alert.xml"), *bad;

	bad = replace(doc, "<type>alert<", "<type>alarm<");
	REFUSE_IS(bad, XML_SCHEMA_REQUEST,
		  "<type>: 'alarm' is not one of alert, update, found, withdraw, approve");
	free(bad);
	bad = replace(doc, "<area>nada<", "<area>Nada<");
	REFUSE_IS(bad, XML_SCHEMA_REQUEST,
		  "<area>: 'Nada' is not ward ids separated by spaces, or *");
	free(bad);
	bad = replace(doc, "<area>", "<registration>R2026-1</registration><area>");
	REFUSE_IS(bad, XML_SCHEMA_REQUEST,
		  "<registration>: 'R2026-1' is not a registration id (R2026-000123)");
	free(bad);
	free(doc);
}

TEST(guardian_rule_is_left_to_intake)
{
	/*
	 * The schema cannot tie <name> and <certificate> to guardian="...";
	 * the document validates and intake must refuse it.
	 */
	char *doc = fixture("registration/bad-guardian-no-certificate.xml");
	struct node *root = accept(doc, XML_SCHEMA_REGISTRATION), *app;

	app = node_child(root, "applicant");
	CHECK_STR(node_attr(app, "kind"), "guardian");
	CHECK(node_child(app, "name") != NULL);
	CHECK(node_child(app, "certificate") == NULL);
	node_free(root);
	free(doc);
}

TEST(doctype_refused)
{
	char *doc;

	doc = fixture("registration/bad-doctype.xml");
	REFUSE_IS(doc, XML_SCHEMA_REGISTRATION, "DOCTYPE not allowed");
	REFUSE_IS(doc, XML_SCHEMA_NONE, "DOCTYPE not allowed");
	free(doc);
	doc = fixture("registration/bad-billion-laughs.xml");
	REFUSE_IS(doc, XML_SCHEMA_REGISTRATION, "DOCTYPE not allowed");
	free(doc);

	REFUSE_IS("<!DOCTYPE cancellation SYSTEM \"http://127.0.0.1:1/x.dtd\">\n"
		  "<cancellation xmlns='urn:mimamori:1'/>", XML_SCHEMA_NONE,
		  "DOCTYPE not allowed");
	REFUSE_IS("\xef\xbb\xbf<?xml version='1.0'?><!-- c --><?pi x?>\n"
		  "<!DOCTYPE a [<!ENTITY e 'x'>]><a xmlns='urn:mimamori:1'>&e;</a>",
		  XML_SCHEMA_NONE, "DOCTYPE not allowed");
	/* A DOCTYPE out of place is not well-formed, and never read. */
	REFUSE("<a xmlns='urn:mimamori:1'/><!DOCTYPE a [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
	       XML_SCHEMA_NONE, "not well-formed XML (line 1)");
	/* Without a DTD, an entity is undeclared: no expansion, no file read. */
	REFUSE_IS("<a xmlns='urn:mimamori:1'>&xxe;</a>", XML_SCHEMA_NONE,
		  "not well-formed XML (line 1): an entity that is not defined "
		  "('&' not written as &amp;?)");
	/* XInclude is not processed: the element is simply not ours. */
	REFUSE("<a xmlns='urn:mimamori:1' xmlns:xi='http://www.w3.org/2001/XInclude'>"
	       "<xi:include href='file:///etc/passwd' parse='text'/></a>",
	       XML_SCHEMA_NONE, "<include>: not in namespace");
}

TEST(encoding_refused)
{
	char *doc = fixture("registration/bad-latin1.xml"), *bad;
	static const char nul[] = "<a xmlns='urn:mimamori:1'>\n<b>x\0y</b></a>";

	REFUSE_IS(doc, XML_SCHEMA_REGISTRATION, "not UTF-8 (line 6)");
	free(doc);

	free(refuse_len(nul, sizeof(nul) - 1, MAX_DOC, XML_SCHEMA_NONE, "not UTF-8 (line 2)",
			__LINE__));
	REFUSE_IS("<a xmlns='urn:mimamori:1'>\xc0\xaf</a>", XML_SCHEMA_NONE, "not UTF-8 (line 1)");
	REFUSE_IS("<a xmlns='urn:mimamori:1'>\xed\xa0\x80</a>", XML_SCHEMA_NONE, "not UTF-8 (line 1)");
	REFUSE_IS("<a xmlns='urn:mimamori:1'>\xe3\x81</a>", XML_SCHEMA_NONE, "not UTF-8 (line 1)");
	REFUSE_IS("<a xmlns='urn:mimamori:1'>\n\n\xf4\x90\x80\x80</a>", XML_SCHEMA_NONE,
		  "not UTF-8 (line 3)");
	REFUSE_IS("\xff\xfe<\0a\0/\0>\0", XML_SCHEMA_NONE, "not UTF-8 (line 1)");

	doc = fixture("registration/valid-minimal.xml");
	bad = replace(doc, "encoding=\"UTF-8\"", "encoding=\"Shift_JIS\"");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "not UTF-8 (declared encoding 'Shift_JIS')");
	free(bad);
	bad = replace(doc, "encoding=\"UTF-8\"", "encoding = 'iso-8859-1'");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "not UTF-8 (declared encoding 'iso-8859-1')");
	free(bad);
	bad = replace(doc, "encoding=\"UTF-8\"", "encoding='utf-8'");
	node_free(accept(bad, XML_SCHEMA_REGISTRATION));
	free(bad);
	bad = replace(doc, " encoding=\"UTF-8\"", "");
	node_free(accept(bad, XML_SCHEMA_REGISTRATION));
	free(bad);
	/* libxml2 is told to ignore the declaration: what it would switch to
	 * must be refused before, or be malformed. */
	bad = replace(doc, "encoding=\"UTF-8\"", "encoding=Shift_JIS");
	REFUSE(bad, XML_SCHEMA_REGISTRATION, "not well-formed");
	free(bad);
	bad = replace(doc, "encoding=\"UTF-8\"", "encoding=\"UTF-16\"");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "not UTF-8 (declared encoding 'UTF-16')");
	free(bad);
	{
		struct strbuf bom = STRBUF_INIT;

		strbuf_addf(&bom, "\xef\xbb\xbf%s", doc);
		node_free(accept(bom.buf, XML_SCHEMA_REGISTRATION));
		strbuf_release(&bom);
	}
	free(doc);
}

TEST(size_limit)
{
	char *doc = fixture("registration/valid-minimal.xml");
	size_t len = strlen(doc);
	char expect[96];
	struct strbuf why = STRBUF_INIT;
	struct node *root = NULL;

	snprintf(expect, sizeof(expect), "too large (%zu bytes, limit 100)", len);
	free(refuse_len(doc, len, 100, XML_SCHEMA_REGISTRATION, expect, __LINE__));
	CHECK_INT(xml_parse(doc, len, len, XML_SCHEMA_REGISTRATION, &root, &why), 0);
	node_free(root);
	snprintf(expect, sizeof(expect), "too large (%zu bytes, limit %zu)", len, len - 1);
	free(refuse_len(doc, len, len - 1, XML_SCHEMA_REGISTRATION, expect, __LINE__));
	strbuf_release(&why);
	free(doc);
}

TEST(namespace_checked)
{
	char *doc = fixture("registration/bad-namespace.xml"), *bad;

	REFUSE_IS(doc, XML_SCHEMA_REGISTRATION,
		  "wrong namespace 'urn:example:other' (expected urn:mimamori:1)");
	free(doc);
	doc = fixture("registration/valid-minimal.xml");
	bad = replace(doc, " xmlns=\"urn:mimamori:1\"", "");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "no namespace (expected urn:mimamori:1)");
	free(bad);
	bad = replace(doc, "<person>", "<person xmlns=\"urn:x\">");
	REFUSE_IS(bad, XML_SCHEMA_REGISTRATION, "<person>: not in namespace urn:mimamori:1");
	free(bad);
	free(doc);
	REFUSE_IS("<foo xmlns='urn:mimamori:1'/>", XML_SCHEMA_REGISTRATION,
		  "unexpected root element <foo>");
	REFUSE_IS("<person xmlns='urn:mimamori:1'/>", XML_SCHEMA_REGISTRATION,
		  "unexpected root element <person>");
}

TEST(not_well_formed)
{
	char *doc = fixture("registration/bad-not-well-formed.xml");

	REFUSE_IS(doc, XML_SCHEMA_REGISTRATION,
		  "not well-formed XML (line 9): <birth-date> ends with another end tag");
	free(doc);
	REFUSE("", XML_SCHEMA_REGISTRATION, "not well-formed XML");
	REFUSE("   \n", XML_SCHEMA_NONE, "not well-formed XML");
	REFUSE("<a xmlns='urn:mimamori:1'>", XML_SCHEMA_NONE, "not well-formed XML (line 1)");
	REFUSE("<a xmlns='urn:mimamori:1'/><b/>", XML_SCHEMA_NONE, "not well-formed XML");
	REFUSE("<a xmlns='urn:mimamori:1'>\x01</a>", XML_SCHEMA_NONE, "not well-formed XML");
	REFUSE("<a xmlns='urn:mimamori:1'>&#0;</a>", XML_SCHEMA_NONE, "not well-formed XML");
	REFUSE("<a xmlns='urn:mimamori:1' b='1' b='2'/>", XML_SCHEMA_NONE, "not well-formed XML");
	REFUSE("<?xml version='1.0'", XML_SCHEMA_NONE, "not well-formed XML");
	REFUSE("<!-- unterminated", XML_SCHEMA_NONE, "not well-formed XML");
}

TEST(deep_nesting_refused)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	strbuf_addstr(&sb, "<a xmlns='urn:mimamori:1'>");
	for (i = 0; i < 100000; i++)
		strbuf_addstr(&sb, "<a>");
	REFUSE_IS(sb.buf, XML_SCHEMA_NONE, "not well-formed XML (line 1): nested too deeply");
	strbuf_release(&sb);
}

TEST(validate_tree)
{
	char *doc = fixture("registration/valid-self.xml");
	struct node *root = accept(doc, XML_SCHEMA_REGISTRATION), *rec, *n;
	struct strbuf why = STRBUF_INIT;

	if (!root)
		return;
	CHECK_INT(xml_validate(root, XML_SCHEMA_REGISTRATION, &why), 0);
	node_remove(node_path(root, "person/birth-date"));
	CHECK_INT(xml_validate(root, XML_SCHEMA_REGISTRATION, &why), -1);
	CHECK_STR(why.buf, "missing <birth-date> in <person> (found <address>)");
	node_free(root);
	free(doc);

	/* The stored form: a record, and the police view of it. */
	doc = fixture("registration/valid-self.xml");
	root = accept(doc, XML_SCHEMA_REGISTRATION);
	rec = node_new("record");
	node_set_attr(rec, "id", "R2026-000001");
	node_set_attr(rec, "version", "1");
	node_set_attr(rec, "registered", "2026-03-02");
	node_set_attr(rec, "expires", "2028-03-02");
	for (n = root->child; n; n = n->next)
		node_append(rec, node_copy(n));
	CHECK_INT(xml_validate(rec, XML_SCHEMA_REGISTRATION, &why), 0);
	node_set_attr(rec, "renewed", "2028-02-01");
	CHECK_INT(xml_validate(rec, XML_SCHEMA_REGISTRATION, &why), 0);
	while (rec->child && strcmp(rec->child->name, "person"))
		node_remove(rec->child);
	while (rec->last && strcmp(rec->last->name, "person"))
		node_remove(rec->last);
	CHECK(rec->child == rec->last);
	CHECK_INT(xml_validate(rec, XML_SCHEMA_REGISTRATION, &why), 0);
	node_set_attr(rec, "version", "0");
	CHECK_INT(xml_validate(rec, XML_SCHEMA_REGISTRATION, &why), -1);
	CHECK_STR(why.buf, "<record>: bad attribute 'version' value '0' "
			   "(not a whole number of 1 or more)");
	node_set_attr(rec, "version", "2");
	node_set_attr(rec, "id", "2026-000001");
	CHECK_INT(xml_validate(rec, XML_SCHEMA_REGISTRATION, &why), -1);
	CHECK_STR(why.buf, "<record>: bad attribute 'id' value '2026-000001' "
			   "(not a registration id (R2026-000123))");
	node_set_attr(rec, "id", "R2026-000001");
	node_remove(rec->child);
	CHECK_INT(xml_validate(rec, XML_SCHEMA_REGISTRATION, &why), -1);
	CHECK_STR(why.buf, "missing <person> in <record>");
	/* Text with markup characters survives the round trip. */
	node_free(rec);
	n = node_path(root, "person/usual-places");
	node_set_text(n, "<三宮> & \"元町\" 'x' ]]>");
	CHECK_INT(xml_validate(root, XML_SCHEMA_REGISTRATION, &why), 0);
	node_free(root);
	strbuf_release(&why);
	free(doc);
}

TEST(config_example)
{
	char *doc = fixture("config/example.xml"), *bad;
	struct node *root = accept(doc, XML_SCHEMA_CONFIG), *n;

	if (root) {
		CHECK_STR(root->name, "config");
		CHECK_STR(node_attr(node_child(root, "node"), "agency"), "council");
		CHECK_STR(node_text(root, "spool"), "spool");
		n = node_path(root, "agencies/agency");
		CHECK_INT(count_same(n), 5);
		CHECK_STR(node_attr(n, "key"), "3F1A9C0B7E2D4A6F8B1C3E5D7A9B0C2E4F6A8B1D");
		CHECK_STR(node_attr(node_path(root, "lists/list"), "audience"), "agency");
		CHECK_STR(node_attr(node_path(root, "imap"), "password-file"), "imap.pw");
	}
	node_free(root);

	/* Not a registration, and no registration is a config. */
	REFUSE_IS(doc, XML_SCHEMA_REGISTRATION, "unexpected root element <config>");
	{
		char *reg = fixture("registration/valid-minimal.xml");

		REFUSE_IS(reg, XML_SCHEMA_CONFIG, "unexpected root element <registration>");
		free(reg);
	}

	/* Optional parts may go. */
	bad = cut(doc, "<smtp ", "/>");
	node_free(accept(bad, XML_SCHEMA_CONFIG));
	free(bad);
	bad = cut(doc, "<imap ", "/>");
	node_free(accept(bad, XML_SCHEMA_CONFIG));
	free(bad);
	bad = cut(doc, "<retention ", "/>");
	node_free(accept(bad, XML_SCHEMA_CONFIG));
	free(bad);
	bad = replace(doc, "<agencies>", "<requests encrypted=\"required\"/><agencies>");
	node_free(accept(bad, XML_SCHEMA_CONFIG));
	free(bad);
	bad = replace(doc, "password-file=\"imap.pw\"",
		      "password-file=\"imap.pw\" mailbox=\"INBOX.requests\" after=\"delete\"");
	node_free(accept(bad, XML_SCHEMA_CONFIG));
	free(bad);
	bad = replace(doc, "validity=\"P2Y\"", "validity=\"P4W\"");
	node_free(accept(bad, XML_SCHEMA_CONFIG));
	free(bad);

	/* Unknown elements and attributes fail. */
	bad = replace(doc, "<spool>", "<verbose/><spool>");
	REFUSE_IS(bad, XML_SCHEMA_CONFIG, "unexpected <verbose> in <config> (expected <spool>)");
	free(bad);
	bad = replace(doc, "</agencies>", "<agency-group/></agencies>");
	REFUSE_IS(bad, XML_SCHEMA_CONFIG, "unexpected <agency-group> in <agencies> (expected <agency>)");
	free(bad);
	bad = replace(doc, "<smtp host=", "<smtp tls=\"yes\" host=");
	REFUSE_IS(bad, XML_SCHEMA_CONFIG, "<smtp>: unknown attribute 'tls'");
	free(bad);
	bad = replace(doc, "<node agency=", "<node debug=\"1\" agency=");
	REFUSE_IS(bad, XML_SCHEMA_CONFIG, "<node>: unknown attribute 'debug'");
	free(bad);

	/* Values. */
	bad = replace(doc, "kind=\"police\"", "kind=\"fire\"");
	REFUSE_IS(bad, XML_SCHEMA_CONFIG, "<agency>: bad attribute 'kind' value 'fire' "
		  "(not one of city, custodian, ward-office, care-center, police, mail-vendor)");
	free(bad);
	bad = replace(doc, "key=\"3F1A9C0B7E2D4A6F8B1C3E5D7A9B0C2E4F6A8B1D\"", "key=\"3F1A9C0B\"");
	REFUSE_IS(bad, XML_SCHEMA_CONFIG, "<agency>: bad attribute 'key' value '3F1A9C0B'");
	free(bad);
	bad = replace(doc, " key=\"3F1A9C0B7E2D4A6F8B1C3E5D7A9B0C2E4F6A8B1D\"", "");
	REFUSE_IS(bad, XML_SCHEMA_CONFIG, "<agency>: missing attribute 'key'");
	free(bad);
	bad = replace(doc, "reminder=\"P60D\"", "reminder=\"PT60M\"");
	REFUSE_IS(bad, XML_SCHEMA_CONFIG, "<retention>: bad attribute 'reminder' value 'PT60M'");
	free(bad);
	bad = replace(doc, "charset=\"iso-2022-jp\"", "charset=\"shift_jis\"");
	REFUSE(bad, XML_SCHEMA_CONFIG, "<member>: bad attribute 'charset' value 'shift_jis'");
	free(bad);
	bad = replace(doc, "port=\"2525\"", "port=\"70000\"");
	REFUSE(bad, XML_SCHEMA_CONFIG, "<smtp>: bad attribute 'port' value '70000'");
	free(bad);
	bad = replace(doc, "wards=\"*\"", "wards=\"chuo *\"");
	REFUSE(bad, XML_SCHEMA_CONFIG, "<list>: bad attribute 'wards'");
	free(bad);
	bad = replace(doc, "wards=\"chuo\"", "wards=\"chuo nada\"");
	node_free(accept(bad, XML_SCHEMA_CONFIG));
	free(bad);
	bad = replace(doc, "address=\"ops@vendor.example.jp\"", "address=\"../../etc@vendor.example.jp\"");
	REFUSE(bad, XML_SCHEMA_CONFIG, "<operator>: bad attribute 'address'");
	free(bad);
	bad = cut(doc, "<agencies>", "</agencies>");
	REFUSE_IS(bad, XML_SCHEMA_CONFIG, "missing <agencies> in <config> (found <operators>)");
	free(bad);
	free(doc);
}

TEST(why_is_replaced_not_appended)
{
	struct strbuf why = STRBUF_INIT;
	struct node *root = NULL;

	strbuf_addstr(&why, "old text");
	CHECK_INT(xml_parse("<a/>", 4, 100, XML_SCHEMA_NONE, &root, &why), -1);
	CHECK_STR(why.buf, "no namespace (expected urn:mimamori:1)");
	CHECK(root == NULL);
	strbuf_release(&why);
}

TEST(cleanup_and_again)
{
	char *doc = fixture("registration/valid-minimal.xml");

	node_free(accept(doc, XML_SCHEMA_REGISTRATION));
	xml_cleanup();
	node_free(accept(doc, XML_SCHEMA_REGISTRATION));
	REFUSE("<!DOCTYPE a><a/>", XML_SCHEMA_NONE, "DOCTYPE");
	free(doc);
	xml_cleanup();
}

UNIT_MAIN(
	T(valid_fixtures_parse),
	T(tree_holds_the_document),
	T(comments_cdata_and_whitespace),
	T(person_required_elements_named),
	T(reasons_for_missing_elements),
	T(reasons_for_unexpected_elements),
	T(enumerations_named),
	T(reasons_for_values_and_attributes),
	T(reasons_hold_no_personal_value),
	T(request_ids_and_kinds_quoted),
	T(guardian_rule_is_left_to_intake),
	T(doctype_refused),
	T(encoding_refused),
	T(size_limit),
	T(namespace_checked),
	T(not_well_formed),
	T(deep_nesting_refused),
	T(validate_tree),
	T(config_example),
	T(why_is_replaced_not_appended),
	T(cleanup_and_again),
)
