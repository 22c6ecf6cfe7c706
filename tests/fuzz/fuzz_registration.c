/*
 * fuzz_registration - a registration document from center staff, as
 * intake reads it: xml_parse_base64_unchecked() against registration.xsd
 * and intake_check_document() (the photo), then the checks
 * of pipeline/intake/intake_apply.c that need no registry (basis and
 * guardian, consent, photo, intake center, dates), the record intake
 * would store, and every view of it.
 *
 * Invariants (FUZZ_CHECK): a refused document has a reason; a document
 * intake's path accepts is valid for xml_parse() too (the photo check
 * refuses whatever the schema's xs:base64Binary does); the record
 * made from an accepted registration, or a change applied to a stored
 * record, serialises to XML that validates again (the registry and
 * import rely on it); the full and police views validate and hold nothing
 * beyond their audience (view_within), as import will demand.
 *
 * SECURITY: this is the path of hostile documents (mimamori(1)).
 */
#include "fuzz.h"
#include "../../pipeline/intake/intake_apply.c"
#include "core/view.h"

static struct config cfg;
static struct node *base;   /* a stored record, for changes and renewals */

static void setup(void)
{
	static int done;
	struct strbuf why = STRBUF_INIT, raw = STRBUF_INIT;
	struct node *doc = NULL;
	const struct node *c;

	if (done)
		return;
	done = 1;
	fuzz_setup();
	FUZZ_CHECK(config_load(&cfg, SRCDIR "/tests/data/config/example.xml", &why) == 0);
	FUZZ_CHECK(strbuf_read_file(&raw, SRCDIR "/tests/data/registration/valid-self.xml",
				    1 << 20) >= 0);
	FUZZ_CHECK(xml_parse(raw.buf, raw.len, INTAKE_MAX_SIZE, XML_SCHEMA_REGISTRATION, &doc,
			     &why) == 0);
	base = node_new("record");
	node_set_attr(base, "id", "R2026-000001");
	node_set_attr(base, "version", "1");
	node_set_attr(base, "registered", "2026-04-01");
	node_set_attr(base, "expires", "2028-04-01");
	for (c = doc->child; c; c = c->next)
		node_append(base, node_copy(c));
	node_free(doc);
	strbuf_release(&why);
	strbuf_release(&raw);
}

/* What node_write() makes of r parses and validates again. */
static void check_round_trip(const struct node *r)
{
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	struct node *again = NULL;
	int ret;

	node_write(r, &out);
	ret = xml_parse(out.buf, out.len, INTAKE_MAX_SIZE, XML_SCHEMA_REGISTRATION, &again,
			&why);
	if (ret < 0)
		fprintf(stderr, "re-parse: %s\n%s\n", why.buf, out.buf);
	FUZZ_CHECK(ret == 0);
	node_free(again);
	strbuf_release(&out);
	strbuf_release(&why);
}

static void check_views(const struct node *record, long today)
{
	struct strbuf why = STRBUF_INIT, out = STRBUF_INIT;
	int a;

	for (a = 0; a < AUDIENCE_MAX; a++) {
		struct node *v = view_make(record, a, today);

		FUZZ_CHECK(v);
		if (a != AUDIENCE_ALERT) {
			check_round_trip(v);
			strbuf_reset(&why);
			FUZZ_CHECK(view_within(v, a, &why) == 1);
		} else {
			node_write(v, &out);
		}
		node_free(v);
	}
	strbuf_release(&why);
	strbuf_release(&out);
}

static void registration(const struct node *doc, long today)
{
	struct strbuf why = STRBUF_INIT;
	const struct node *person = node_child(doc, "person"), *c;
	const char *ward;
	struct node *record;
	long expires;

	if (check_basis(doc, today, &why) < 0 ||
	    check_intake(&cfg, node_child(doc, "intake"), today, &why) < 0) {
		FUZZ_CHECK(why.len > 0);
		strbuf_release(&why);
		return;
	}
	ward = node_attr(node_child(person, "address"), "ward");
	FUZZ_CHECK(date_add_duration(today, cfg.validity, 1, &expires) == 0);
	record = node_new("record");
	node_set_attr(record, "id", "R2026-000002");
	node_set_attr(record, "version", "1");
	set_date_attr(record, "registered", today);
	set_date_attr(record, "expires", expires);
	for (c = doc->child; c; c = c->next)
		node_append(record, node_copy(c));
	check_round_trip(record);
	if (ward && strlist_has(&cfg.wards, ward))
		check_views(record, today);
	node_free(record);
	strbuf_release(&why);
}

/* A change or a renewal applied to the stored record. */
static void change(const struct node *doc, long today)
{
	static const char *const sections[] = { "person", "requesters", "care", "intake",
						"consent", NULL };
	struct strbuf why = STRBUF_INIT;
	const char *const *s;
	struct node *record;
	long date;

	if (check_date(doc, "date", "date", today, &date, &why) < 0) {
		FUZZ_CHECK(why.len > 0);
		strbuf_release(&why);
		return;
	}
	if (node_child(doc, "intake"))
		check_intake(&cfg, node_child(doc, "intake"), today, &why);
	if (node_child(doc, "consent"))
		check_consent(node_child(doc, "consent"), today, &why);
	record = node_copy(base);
	for (s = sections; *s; s++)
		if (node_child(doc, *s))
			replace_section(record, node_child(doc, *s));
	bump_version(record);
	check_round_trip(record);
	check_views(record, today);
	node_free(record);
	strbuf_release(&why);
}

/* Whether the whole document, photo included, passes the schema. */
static int full_check(const uint8_t *data, size_t size)
{
	struct strbuf why = STRBUF_INIT;
	struct node *doc = NULL;
	int ok = xml_parse((const char *)data, size, INTAKE_MAX_SIZE, XML_SCHEMA_REGISTRATION,
			   &doc, &why) == 0;

	if (!ok)
		fprintf(stderr, "schema: %s\n", why.buf);
	node_free(doc);
	strbuf_release(&why);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf why = STRBUF_INIT;
	struct node *doc = NULL;
	long today;

	setup();
	today = clock_today();
	if (xml_parse_base64_unchecked((const char *)data, size, INTAKE_MAX_SIZE,
				       XML_SCHEMA_REGISTRATION, "photo", &doc, &why) < 0) {
		FUZZ_CHECK(why.len > 0 && !doc);
	} else if (intake_check_document(doc, &why) < 0) {
		FUZZ_CHECK(why.len > 0);
	} else if (!full_check(data, size)) {
		FUZZ_CHECK(!"accepted with the photo unchecked, refused by the schema");
	} else if (!strcmp(doc->name, "registration")) {
		registration(doc, today);
	} else if (!strcmp(doc->name, "change") || !strcmp(doc->name, "renewal")) {
		change(doc, today);
	} else if (!strcmp(doc->name, "record")) {
		check_round_trip(doc);
		check_views(doc, today);
	}
	node_free(doc);
	strbuf_release(&why);
	return 0;
}
