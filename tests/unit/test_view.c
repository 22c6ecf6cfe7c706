/*
 * Views: what each audience gets of a full record (mimamori-design(7)).
 */
#include "unit.h"
#include "core/view.h"
#include "util/timeutil.h"

static struct node *sample_record(void)
{
	struct node *r = node_new("record"), *p, *f, *q, *c;

	node_set_attr(r, "id", "R2026-000007");
	node_set_attr(r, "version", "2");
	node_set_attr(r, "registered", "2026-03-01");
	node_set_attr(r, "expires", "2028-03-01");
	node_add(r, "basis", "consent");
	node_set_attr(node_add(r, "applicant", NULL), "kind", "self");
	p = node_add(r, "person", NULL);
	node_add(p, "name", "試験 花子");
	node_add(p, "name-kana", "しけん はなこ");
	node_add(p, "sex", "female");
	node_add(p, "maiden-name", "旧姓");
	node_add(p, "birth-date", "1941-04-01");
	node_set_attr(node_add(p, "address", "神戸市中央区試験町1-2-3"), "ward", "chuo");
	node_set_attr(node_add(p, "phone", "078-000-1234"), "kind", "home");
	node_add(p, "usual-places", "試験公園");
	node_add(p, "previous-residences", "試験市");
	f = node_add(p, "features", NULL);
	node_add(f, "height-cm", "150");
	node_add(f, "marks", "右手にあざ");
	node_set_attr(node_add(p, "lost-before", "駅で保護"), "count", "1");
	node_set_attr(node_add(p, "photo", "iVBORw0KGgo="), "type", "image/png");
	q = node_add(node_add(r, "requesters", NULL), "requester", NULL);
	node_add(q, "name", "試験 太郎");
	c = node_add(r, "care", NULL);
	node_add(c, "diagnosis", "試験病");
	node_set_attr(node_add(r, "consent", NULL), "share", "yes");
	node_set_attr(node_add(r, "intake", NULL), "center", "center-chuo-1");
	return r;
}

static char *render(const struct node *n)
{
	struct strbuf sb = STRBUF_INIT;

	node_write(n, &sb);
	return strbuf_detach(&sb, NULL);
}

static const char *const personal[] = {
	"試験 花子", "しけん はなこ", "旧姓", "1941-04-01", "試験町", "078-000-1234",
	"試験 太郎", "試験病", "R2026-000007", "center-chuo-1", "iVBORw0KGgo", NULL,
};

TEST(full_view_is_the_whole_record)
{
	struct node *r = sample_record(), *v = view_make(r, AUDIENCE_FULL, 0);
	char *a = render(r), *b = render(v);

	CHECK_STR(a, b);
	free(a);
	free(b);
	node_free(v);
	node_free(r);
}

TEST(police_view_has_person_and_dates_only)
{
	struct node *r = sample_record(), *v = view_make(r, AUDIENCE_POLICE, 0);
	char *x = render(v);
	struct strbuf why = STRBUF_INIT;

	CHECK_STR(node_attr(v, "id"), "R2026-000007");
	CHECK_STR(node_attr(v, "expires"), "2028-03-01");
	CHECK_STR(node_text(v, "person/name"), "試験 花子");
	CHECK(!node_child(v, "requesters"));
	CHECK(!node_child(v, "care"));
	CHECK(!node_child(v, "consent"));
	CHECK(!node_child(v, "intake"));
	CHECK(!node_child(v, "basis"));
	CHECK(!strstr(x, "試験 太郎"));
	CHECK(!strstr(x, "試験病"));
	CHECK(!strstr(x, "center-chuo-1"));
	CHECK_INT(view_within(v, AUDIENCE_POLICE, &why), 1);
	CHECK_INT(view_within(r, AUDIENCE_POLICE, &why), 0);
	CHECK_CONTAINS(why.buf, "<basis>");
	free(x);
	strbuf_release(&why);
	node_free(v);
	node_free(r);
}

TEST(alert_view_has_no_personal_field)
{
	struct node *r = sample_record(), *v;
	long today;
	char *x;
	int i;

	date_parse("2026-11-21", &today);
	v = view_make(r, AUDIENCE_ALERT, today);
	x = render(v);
	CHECK_STR(v->name, "alert-view");
	CHECK_STR(node_text(v, "sex"), "female");
	CHECK_STR(node_text(v, "age"), "85");
	CHECK_STR(node_text(v, "usual-places"), "試験公園");
	CHECK_STR(node_text(v, "features/marks"), "右手にあざ");
	CHECK_STR(node_attr(node_child(v, "lost-before"), "count"), "1");
	for (i = 0; personal[i]; i++)
		CHECK(!strstr(x, personal[i]));
	free(x);
	node_free(v);
	node_free(r);
}

TEST(age_counts_birthdays)
{
	struct node *r = sample_record(), *v;
	long d;

	date_parse("2026-03-31", &d);
	v = view_make(r, AUDIENCE_ALERT, d);
	CHECK_STR(node_text(v, "age"), "84");
	node_free(v);
	date_parse("2026-04-01", &d);
	v = view_make(r, AUDIENCE_ALERT, d);
	CHECK_STR(node_text(v, "age"), "85");
	node_free(v);
	node_free(r);
}

TEST(unknown_fields_stay_out_of_views)
{
	struct node *r = sample_record(), *v;
	char *x;

	/* A field the views do not name never reaches an audience. */
	node_add(node_child(r, "person"), "secret-note", "非公開メモ");
	node_add(r, "internal", "非公開メモ");
	v = view_make(r, AUDIENCE_POLICE, 0);
	x = render(v);
	CHECK(strstr(x, "非公開メモ") != NULL); /* inside person: police see person */
	free(x);
	node_free(v);
	v = view_make(r, AUDIENCE_ALERT, 0);
	x = render(v);
	CHECK(!strstr(x, "非公開メモ"));
	free(x);
	node_free(v);
	node_free(r);
}

TEST(audiences_by_kind)
{
	CHECK_INT(audience_parse("police"), AUDIENCE_POLICE);
	CHECK_INT(audience_parse("ward-office"), AUDIENCE_FULL);
	CHECK_INT(audience_parse("care-center"), AUDIENCE_FULL);
	CHECK_INT(audience_parse("mail-vendor"), AUDIENCE_FULL);
	CHECK_INT(audience_parse("custodian"), AUDIENCE_FULL);
	CHECK_INT(audience_parse("city"), AUDIENCE_FULL);
	CHECK_INT(audience_parse("alert"), AUDIENCE_ALERT);
	CHECK_INT(audience_parse("nobody"), -1);
}

UNIT_MAIN(T(full_view_is_the_whole_record), T(police_view_has_person_and_dates_only),
	  T(alert_view_has_no_personal_field), T(age_counts_birthdays),
	  T(unknown_fields_stay_out_of_views), T(audiences_by_kind))
