/*
 * entry_build - the values of one registration form (or one spreadsheet
 * row) into a registration document of schemas/registration.xsd, with
 * every value checked on the way (see entry.h for the contract).
 *
 * Reads the photo a form names (photo-file, beside the form); writes
 * nothing.
 *
 * SECURITY: the values come from people and spreadsheets: any byte may be
 * anywhere. Every value is checked as UTF-8 by the caller; control
 * characters become spaces; words of the form must be among the known
 * ones; a photo is read only by a plain file name in the form's folder,
 * at most 2 MiB, and must start like a JPEG or PNG. Problems name the
 * key or column and what is wrong, never the value (a person's data must
 * not reach stdout, stderr or the audit log). The document is validated
 * against the schema before anyone uses it, and intake checks it again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "entry.h"
#include "../lib/text.h"
#include "../lib/xml.h"
#include "../util/base64.h"
#include "../util/fileio.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define ENTRY_KEY(name, key, column, flags) key,
const char *const entry_keys[ENTRY_NKEYS + 1] = { ENTRY_KEYS(ENTRY_KEY) NULL };
#undef ENTRY_KEY
#define ENTRY_COLUMN(name, key, column, flags) column,
const char *const entry_columns[ENTRY_NKEYS] = { ENTRY_KEYS(ENTRY_COLUMN) };
#undef ENTRY_COLUMN
#define ENTRY_FLAGS(name, key, column, flags) flags,
const unsigned char entry_flags[ENTRY_NKEYS] = { ENTRY_KEYS(ENTRY_FLAGS) };
#undef ENTRY_FLAGS

/* Largest photo, as intake takes it (mimamori-spool(5)). */
#define ENTRY_MAX_PHOTO (2u << 20)

/*
 * The words a field may be written with: the schema's value first, then
 * the paper form's words, "|" between them. Compared after NFKC, in
 * lower case, without spaces.
 */
struct words {
	enum entry_key key;
	const char *value;
	const char *aliases;
};

static const struct words words[] = {
	{ E_BASIS, "self-application", "手上げ方式|手上げ|本人申請" },
	{ E_BASIS, "consent", "同意方式|同意" },
	{ E_BASIS, "agency-sharing", "関係機関共有方式|関係機関共有" },
	{ E_APPLICANT, "self", "本人" },
	{ E_APPLICANT, "guardian", "後見人" },
	{ E_GUARDIAN_KIND, "adult", "成年後見人|成年後見" },
	{ E_GUARDIAN_KIND, "voluntary", "任意後見人|任意後見" },
	{ E_SEX, "female", "女|女性|f" },
	{ E_SEX, "male", "男|男性|m" },
	{ E_BUILD, "obese", "肥満" },
	{ E_BUILD, "slightly-obese", "やや肥満" },
	{ E_BUILD, "medium", "普通|中肉" },
	{ E_BUILD, "thin", "やせ|痩せ|やせ型" },
	{ E_FACE, "triangle", "三角|三角形" },
	{ E_FACE, "inverted-triangle", "逆三角|逆三角形" },
	{ E_FACE, "round", "丸|丸顔|丸型" },
	{ E_FACE, "square", "四角|四角形|角型" },
	{ E_FACE, "oval", "卵型|卵形|面長" },
	{ E_COMPLEXION, "fair", "色白" },
	{ E_COMPLEXION, "pale", "青白い" },
	{ E_COMPLEXION, "normal", "普通" },
	{ E_COMPLEXION, "dark", "色黒|浅黒い" },
	{ E_COMPLEXION, "ruddy", "赤ら顔" },
	{ E_BLOOD_TYPE, "A", "a型" },
	{ E_BLOOD_TYPE, "B", "b型" },
	{ E_BLOOD_TYPE, "AB", "ab型" },
	{ E_BLOOD_TYPE, "O", "o型" },
	{ E_BLOOD_TYPE, "unknown", "不明" },
	{ E_TEETH, "full-dentures", "総入れ歯" },
	{ E_TEETH, "partial-dentures", "部分入れ歯" },
	{ E_GAIT, "unaided", "自力|自力歩行|独歩" },
	{ E_GAIT, "cane", "杖|杖歩行|つえ" },
	{ E_CARE_LEVEL, "support-1", "要支援1" },
	{ E_CARE_LEVEL, "support-2", "要支援2" },
	{ E_CARE_LEVEL, "care-1", "要介護1" },
	{ E_CARE_LEVEL, "care-2", "要介護2" },
	{ E_CARE_LEVEL, "care-3", "要介護3" },
	{ E_CARE_LEVEL, "care-4", "要介護4" },
	{ E_CARE_LEVEL, "care-5", "要介護5" },
	{ E_CONSENT_BROADCAST, "yes", "はい|同意する|有|あり|y" },
	{ E_CONSENT_BROADCAST, "no", "いいえ|同意しない|無|なし|n" },
	{ E_CONSENT_PHOTO, "yes", "はい|同意する|有|あり|y" },
	{ E_CONSENT_PHOTO, "no", "いいえ|同意しない|無|なし|n" },
	{ E_CONSENT_SIGNED_BY, "person", "本人" },
	{ E_CONSENT_SIGNED_BY, "guardian", "後見人" },
};
#define NR_WORDS (sizeof(words) / sizeof(words[0]))

/* Kobe's nine wards: the names a spreadsheet may use for the ward ids. */
static const char *const ward_names[][2] = {
	{ "higashinada", "東灘区" }, { "nada", "灘区" }, { "chuo", "中央区" },
	{ "hyogo", "兵庫区" }, { "kita", "北区" }, { "nagata", "長田区" },
	{ "suma", "須磨区" }, { "tarumi", "垂水区" }, { "nishi", "西区" },
};

struct build {
	const struct config *cfg;
	char *const *val;
	enum entry_style style;
	struct strbuf *why;
	int bad;
};

static const char *label(const struct build *b, enum entry_key k, struct strbuf *tmp)
{
	strbuf_reset(tmp);
	if (b->style == ENTRY_CSV)
		strbuf_addf(tmp, "%s (%s)", entry_columns[k], entry_keys[k]);
	else
		strbuf_addstr(tmp, entry_keys[k]);
	return tmp->buf;
}

__attribute__((format(printf, 3, 4)))
static void problem(struct build *b, enum entry_key k, const char *fmt, ...)
{
	struct strbuf l = STRBUF_INIT;
	va_list ap;

	if (b->why->len)
		strbuf_addstr(b->why, "; ");
	strbuf_addf(b->why, "%s: ", label(b, k, &l));
	va_start(ap, fmt);
	strbuf_vaddf(b->why, fmt, ap);
	va_end(ap);
	strbuf_release(&l);
	b->bad = 1;
}

static const char *get(const struct build *b, enum entry_key k)
{
	const char *v = b->val[k];

	return v && *v ? v : NULL;
}

static const char *need(struct build *b, enum entry_key k)
{
	const char *v = get(b, k);

	if (!v)
		problem(b, k, "required");
	return v;
}

/* NFKC, ASCII lower case, without white space: how words are compared. */
static void fold_word(const char *s, struct strbuf *out)
{
	struct strbuf nf = STRBUF_INIT;
	size_t i;

	text_nfkc(s, &nf);
	for (i = 0; i < nf.len; i++) {
		char c = nf.buf[i];

		if (c == ' ' || c == '\t' || c == '\n')
			continue;
		strbuf_addch(out, (c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	strbuf_release(&nf);
}

static int alias_match(const char *aliases, const char *folded)
{
	size_t n = strlen(folded);
	const char *p = aliases;

	while (*p) {
		size_t len = strcspn(p, "|");

		if (len == n && !memcmp(p, folded, n))
			return 1;
		p += len;
		if (*p == '|')
			p++;
	}
	return 0;
}

/* The schema's value for a word of the form; NULL (reported) if unknown. */
static const char *word(struct build *b, enum entry_key k, const char *dflt)
{
	const char *v = get(b, k);
	struct strbuf f = STRBUF_INIT, lv = STRBUF_INIT, list = STRBUF_INIT;
	const char *res = NULL;
	size_t i;

	if (!v)
		return dflt;
	fold_word(v, &f);
	for (i = 0; i < NR_WORDS && !res; i++) {
		if (words[i].key != k)
			continue;
		strbuf_reset(&lv);
		fold_word(words[i].value, &lv);
		if (!strcmp(lv.buf, f.buf) || alias_match(words[i].aliases, f.buf))
			res = words[i].value;
	}
	if (!res) {
		for (i = 0; i < NR_WORDS; i++) {
			if (words[i].key != k)
				continue;
			if (list.len)
				strbuf_addstr(&list, ", ");
			strbuf_addstr(&list, words[i].value);
			if (k != E_CONSENT_BROADCAST && k != E_CONSENT_PHOTO) {
				size_t len = strcspn(words[i].aliases, "|");

				strbuf_addf(&list, " (%.*s)", (int)len, words[i].aliases);
			}
		}
		problem(b, k, "not one of %s", list.buf);
	}
	strbuf_release(&f);
	strbuf_release(&lv);
	strbuf_release(&list);
	return res;
}

/* A date: ISO into out (11 bytes); -1 (reported) when bad. */
static int date_field(struct build *b, enum entry_key k, long today, char *out)
{
	const char *v = get(b, k);
	long d;
	int r;

	if (!v)
		return -1;
	r = entry_parse_date(v, &d);
	if (r == -1) {
		problem(b, k, "not a date (write 1941-04-01 or 昭和16年4月1日)");
		return -1;
	}
	if (r == -2) {
		problem(b, k, "no such date");
		return -1;
	}
	if (d > today) {
		problem(b, k, "in the future");
		return -1;
	}
	date_format(d, out);
	return 0;
}

static int phone_field(struct build *b, enum entry_key k, struct strbuf *out)
{
	const char *v = get(b, k);

	strbuf_reset(out);
	if (!v)
		return -1;
	if (entry_parse_phone(v, out) < 0) {
		problem(b, k, "not a phone number (10 or 11 digits, starting with 0)");
		return -1;
	}
	return 0;
}

/* A decimal number with a unit people may write after it, in [lo, hi]. */
static void number_field(struct build *b, struct node *parent, enum entry_key k,
			 const char *unit, int lo, int hi)
{
	const char *v = get(b, k);
	struct strbuf f = STRBUF_INIT;
	char *end;
	double x;
	size_t n;

	if (!v)
		return;
	fold_word(v, &f);
	n = strlen(unit);
	if (f.len > n && !strcmp(f.buf + f.len - n, unit))
		strbuf_setlen(&f, f.len - n);
	x = f.len && f.len < 8 && strspn(f.buf, "0123456789.") == f.len &&
		f.buf[0] != '.' && strchr(f.buf, '.') == strrchr(f.buf, '.') ?
		strtod(f.buf, &end) : -1;
	if (x < lo || x > hi)
		problem(b, k, "not a number from %d to %d", lo, hi);
	else
		node_add(parent, entry_keys[k], f.buf);
	strbuf_release(&f);
}

static void ward_field(struct build *b, struct node *address)
{
	const char *v = get(b, E_WARD);
	struct strbuf f = STRBUF_INIT, n = STRBUF_INIT;
	const char *id = NULL;
	size_t i;

	if (!v)
		return;
	fold_word(v, &f);
	for (i = 0; i < b->cfg->wards.nr && !id; i++)
		if (!strcasecmp(b->cfg->wards.items[i], f.buf))
			id = b->cfg->wards.items[i];
	for (i = 0; i < sizeof(ward_names) / sizeof(ward_names[0]) && !id; i++) {
		strbuf_reset(&n);
		strbuf_addstr(&n, ward_names[i][1]);
		/* 中央区, or 中央 */
		if (!strcmp(f.buf, n.buf) ||
		    (f.len + strlen("区") == n.len && !strncmp(f.buf, n.buf, f.len)))
			id = ward_names[i][0];
	}
	/* The ward offices' names in the config: 中央区役所 -> its ward. */
	for (i = 0; i < b->cfg->nr_agencies && !id; i++) {
		const struct agency *a = &b->cfg->agencies[i];

		strbuf_reset(&n);
		fold_word(a->name, &n);
		if (a->kind == AGENCY_WARD_OFFICE && a->wards.ids.nr == 1 &&
		    n.len > f.len && !strncmp(n.buf, f.buf, f.len) &&
		    (!strcmp(n.buf + f.len, "役所") || !strcmp(n.buf + f.len, "区役所")))
			id = a->wards.ids.items[0];
	}
	if (!id || !strlist_has(&b->cfg->wards, id))
		problem(b, E_WARD, "unknown ward (a ward id of the configuration or a "
			"ward's name, e.g. chuo or 中央区)");
	else
		node_set_attr(address, "ward", id);
	strbuf_release(&f);
	strbuf_release(&n);
}

static const char *center_field(struct build *b)
{
	const char *v = get(b, E_INTAKE_CENTER);
	struct strbuf f = STRBUF_INIT, n = STRBUF_INIT;
	const struct agency *a;
	size_t i;

	if (!v)
		return NULL;
	a = config_agency(b->cfg, v);
	fold_word(v, &f);
	for (i = 0; i < b->cfg->nr_agencies && !a; i++) {
		strbuf_reset(&n);
		fold_word(b->cfg->agencies[i].name, &n);
		if (!strcmp(n.buf, f.buf))
			a = &b->cfg->agencies[i];
	}
	strbuf_release(&f);
	strbuf_release(&n);
	if (!a || a->kind != AGENCY_CARE_CENTER) {
		problem(b, E_INTAKE_CENTER, "unknown care center (an agency id or name of "
			"the configuration)");
		return NULL;
	}
	return a->id;
}

/* The photo beside the form: base64 into the person's <photo>. */
static void photo_field(struct build *b, struct node *person, const char *dir)
{
	const char *v = get(b, E_PHOTO_FILE);
	struct strbuf data = STRBUF_INIT, b64 = STRBUF_INIT;
	const char *type = NULL;
	char *path;
	struct node *photo;

	if (!v)
		return;
	if (!name_is_safe(v) || strchr(v, '/')) {
		problem(b, E_PHOTO_FILE, "not a plain file name beside the form");
		return;
	}
	path = path_join(dir ? dir : ".", v);
	if (strbuf_read_file(&data, path, ENTRY_MAX_PHOTO) < 0) {
		problem(b, E_PHOTO_FILE, "cannot be read, or larger than %u bytes",
			ENTRY_MAX_PHOTO);
	} else if (data.len >= 3 && !memcmp(data.buf, "\xff\xd8\xff", 3)) {
		type = "image/jpeg";
	} else if (data.len >= 8 && !memcmp(data.buf, "\x89PNG\r\n\x1a\n", 8)) {
		type = "image/png";
	} else {
		problem(b, E_PHOTO_FILE, "not a JPEG or PNG image");
	}
	if (type) {
		base64_encode(data.buf, data.len, 0, &b64);
		photo = node_add(person, "photo", b64.buf);
		node_set_attr(photo, "type", type);
	}
	free(path);
	strbuf_release(&data);
	strbuf_release(&b64);
}

static void features(struct build *b, struct node *person)
{
	struct node *f = node_new("features");
	static const enum entry_key free_text[] = {
		E_GLASSES, E_HAIR, E_FOOTWEAR, E_MARKS, E_MOLES, E_BEHAVIOUR, E_DIALECT,
		E_SPEECH, E_HOBBIES, E_OTHER,
	};
	int k;
	size_t i;

	/* In the schema's order, which is the form's: E_HEIGHT_CM .. E_OTHER. */
	for (k = E_HEIGHT_CM; k <= E_OTHER; k++) {
		const char *v;

		switch (k) {
		case E_HEIGHT_CM:
			number_field(b, f, k, "cm", 50, 250);
			continue;
		case E_WEIGHT_KG:
			number_field(b, f, k, "kg", 10, 300);
			continue;
		case E_SHOE_SIZE_CM:
			number_field(b, f, k, "cm", 10, 40);
			continue;
		default:
			break;
		}
		for (i = 0; i < sizeof(free_text) / sizeof(free_text[0]); i++)
			if (free_text[i] == (enum entry_key)k)
				break;
		if (i < sizeof(free_text) / sizeof(free_text[0])) {
			if ((v = get(b, k)))
				node_add(f, entry_keys[k], v);
		} else if ((v = word(b, k, NULL))) {
			node_add(f, entry_keys[k], v);
		}
	}
	if (f->child)
		node_append(person, f);
	else
		node_free(f);
}

static void lost_before(struct build *b, struct node *person)
{
	const char *c = get(b, E_LOST_BEFORE_COUNT), *t = get(b, E_LOST_BEFORE);
	struct strbuf f = STRBUF_INIT;
	struct node *n;

	if (!c && !t)
		return;
	if (!c) {
		problem(b, E_LOST_BEFORE_COUNT, "required with %s", entry_keys[E_LOST_BEFORE]);
		return;
	}
	fold_word(c, &f);
	if (f.len > strlen("回") && !strcmp(f.buf + f.len - strlen("回"), "回"))
		strbuf_setlen(&f, f.len - strlen("回"));
	if (!strcmp(f.buf, "なし") || !strcmp(f.buf, "無") || !strcmp(f.buf, "no"))
		strbuf_reset(&f), strbuf_addch(&f, '0');
	if (!f.len || f.len > 3 || strspn(f.buf, "0123456789") != f.len) {
		problem(b, E_LOST_BEFORE_COUNT, "not a number of times (0 to 999)");
	} else {
		while (f.len > 1 && f.buf[0] == '0')
			memmove(f.buf, f.buf + 1, f.len--);
		n = node_add(person, "lost-before", t ? t : "");
		node_set_attr(n, "count", f.buf);
	}
	strbuf_release(&f);
}

static void person(struct build *b, struct node *doc, const char *dir, long today)
{
	struct node *p = node_add(doc, "person", NULL), *n;
	struct strbuf ph = STRBUF_INIT;
	const char *v;
	char d[11];

	if ((v = need(b, E_NAME)))
		node_add(p, "name", v);
	if ((v = need(b, E_NAME_KANA)))
		node_add(p, "name-kana", v);
	need(b, E_SEX);
	if ((v = word(b, E_SEX, NULL)))
		node_add(p, "sex", v);
	if ((v = get(b, E_MAIDEN_NAME)))
		node_add(p, "maiden-name", v);
	if (need(b, E_BIRTH_DATE) && !date_field(b, E_BIRTH_DATE, today, d))
		node_add(p, "birth-date", d);
	v = need(b, E_ADDRESS);
	n = node_add(p, "address", v ? v : "");
	need(b, E_WARD);
	ward_field(b, n);
	if (!get(b, E_PHONE_HOME) && !get(b, E_PHONE_MOBILE))
		problem(b, E_PHONE_HOME, "required (or %s)", entry_keys[E_PHONE_MOBILE]);
	if (!phone_field(b, E_PHONE_HOME, &ph))
		node_set_attr(node_add(p, "phone", ph.buf), "kind", "home");
	if (!phone_field(b, E_PHONE_MOBILE, &ph)) {
		n = node_add(p, "phone", ph.buf);
		node_set_attr(n, "kind", "mobile");
		if ((v = get(b, E_MOBILE_CARRIER)))
			node_set_attr(n, "carrier", v);
		if ((v = get(b, E_MOBILE_HOLDER)))
			node_set_attr(n, "holder", v);
	} else if (!get(b, E_PHONE_MOBILE)) {
		if (get(b, E_MOBILE_CARRIER))
			problem(b, E_MOBILE_CARRIER, "given without %s", entry_keys[E_PHONE_MOBILE]);
		if (get(b, E_MOBILE_HOLDER))
			problem(b, E_MOBILE_HOLDER, "given without %s", entry_keys[E_PHONE_MOBILE]);
	}
	if ((v = need(b, E_USUAL_PLACES)))
		node_add(p, "usual-places", v);
	if ((v = need(b, E_PREVIOUS_RESIDENCES)))
		node_add(p, "previous-residences", v);
	features(b, p);
	lost_before(b, p);
	photo_field(b, p, dir);
	strbuf_release(&ph);
}

static void requesters(struct build *b, struct node *doc)
{
	struct node *rs = node_new("requesters"), *r;
	struct strbuf ph = STRBUF_INIT;
	int i;

	for (i = 0; i < 3; i++) {
		enum entry_key kn = E_REQUESTER_1_NAME + 3 * i, kr = kn + 1, kp = kn + 2;
		const char *name, *rel;

		if (!get(b, kn) && !get(b, kr) && !get(b, kp))
			continue;
		name = need(b, kn);
		rel = need(b, kr);
		if (need(b, kp) && !phone_field(b, kp, &ph) && name && rel) {
			r = node_add(rs, "requester", NULL);
			node_add(r, "name", name);
			node_add(r, "relationship", rel);
			/* 070, 080, 090: a mobile; anything else a fixed line. */
			node_set_attr(node_add(r, "phone", ph.buf), "kind",
				      (ph.buf[0] == '0' && strchr("789", ph.buf[1]) &&
				       ph.buf[2] == '0') ? "mobile" : "home");
		}
	}
	if (rs->child)
		node_append(doc, rs);
	else
		node_free(rs);
	strbuf_release(&ph);
}

static void care(struct build *b, struct node *doc)
{
	struct node *c = node_new("care"), *m;
	struct strbuf ph = STRBUF_INIT;
	const char *v;

	if ((v = word(b, E_CARE_LEVEL, NULL)))
		node_add(c, "level", v);
	if ((v = get(b, E_DIAGNOSIS)))
		node_add(c, "diagnosis", v);
	m = node_new("care-manager");
	if ((v = get(b, E_CARE_MANAGER_OFFICE)))
		node_add(m, "office", v);
	if ((v = get(b, E_CARE_MANAGER_NAME)))
		node_add(m, "name", v);
	if (!phone_field(b, E_CARE_MANAGER_PHONE, &ph))
		node_add(m, "phone", ph.buf);
	if (m->child)
		node_append(c, m);
	else
		node_free(m);
	if ((v = get(b, E_SERVICES)))
		node_add(c, "services", v);
	if (c->child)
		node_append(doc, c);
	else
		node_free(c);
	strbuf_release(&ph);
}

static void consent(struct build *b, struct node *doc, int sharing, long today)
{
	const char *broadcast, *signed_by, *photo;
	struct node *c;
	char d[11];
	int ok = 1;

	/* With agency-sharing there need be no consent; when there is, whole. */
	if (sharing && !get(b, E_CONSENT_DATE) && !get(b, E_CONSENT_BROADCAST))
		return;
	if (!need(b, E_CONSENT_DATE) || date_field(b, E_CONSENT_DATE, today, d))
		ok = 0;
	if (!need(b, E_CONSENT_BROADCAST) || !(broadcast = word(b, E_CONSENT_BROADCAST, NULL)))
		ok = 0;
	photo = word(b, E_CONSENT_PHOTO, "no");
	signed_by = word(b, E_CONSENT_SIGNED_BY, "person");
	if (!ok || !signed_by || !photo)
		return;
	c = node_add(doc, "consent", NULL);
	node_set_attr(c, "date", d);
	/* Signing the 登録届 is the consent to share it (statement 1). */
	node_set_attr(c, "share", "yes");
	node_set_attr(c, "broadcast", broadcast);
	node_set_attr(c, "signed-by", signed_by);
	if (!strcmp(photo, "yes"))
		node_set_attr(c, "photo", "yes");
}

static void intake(struct build *b, struct node *doc, long today)
{
	const char *center, *staff;
	struct node *n;
	char d[11];
	int ok = 1;

	need(b, E_INTAKE_CENTER);
	center = center_field(b);
	staff = need(b, E_INTAKE_STAFF);
	if (!need(b, E_INTERVIEW_DATE) || date_field(b, E_INTERVIEW_DATE, today, d))
		ok = 0;
	if (!ok || !center || !staff)
		return;
	n = node_add(doc, "intake", NULL);
	node_set_attr(n, "center", center);
	node_set_attr(n, "staff", staff);
	node_set_attr(n, "interview-date", d);
}

/*
 * A schema reason without the value it may quote ("<sex>: 'x' is not
 * one of …", "bad attribute 'share' value 'maybe' …"): the element, and
 * that its value is not valid.
 */
static void scrub_reason(const char *reason, struct strbuf *out)
{
	const char *v = strstr(reason, " value '"), *q = strstr(reason, ">: '");

	if (v)
		strbuf_addf(out, "%.*s value is not valid", (int)(v - reason), reason);
	else if (q)
		strbuf_addf(out, "%.*s>: not a valid value", (int)(q - reason), reason);
	else if (strchr(reason, '\''))
		strbuf_addf(out, "%.*s", (int)(strchr(reason, '\'') - reason), reason);
	else
		strbuf_addstr(out, reason);
}

/* Control characters (but newlines in text that may have lines) to spaces. */
static char *clean_value(const char *v)
{
	char *s = xstrdup(v), *p, *q;

	for (p = q = s; *p; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;  /* CRLF inside a quoted CSV field: one line break */
		*q++ = (((unsigned char)*p < 0x20 && *p != '\n') || *p == 0x7f) ? ' ' : *p;
	}
	*q = '\0';
	return s;
}

int entry_build(const struct config *cfg, char *const *val, const char *dir,
		enum entry_style style, long today, struct node **doc, struct strbuf *why)
{
	char *clean[ENTRY_NKEYS];
	struct build b = { cfg, clean, style, why, 0 };
	struct strbuf l = STRBUF_INIT, reason = STRBUF_INIT;
	struct node *d = node_new("registration"), *app;
	const char *basis, *applicant, *v;
	int k;

	for (k = 0; k < ENTRY_NKEYS; k++) {
		struct strbuf t = STRBUF_INIT;

		clean[k] = NULL;
		if (!val[k])
			continue;
		strbuf_addstr(&t, val[k]);
		strbuf_trim(&t);
		clean[k] = clean_value(t.buf);
		strbuf_release(&t);
	}
	basis = word(&b, E_BASIS, "self-application");
	node_add(d, "basis", basis ? basis : "self-application");
	if (basis && !strcmp(basis, "agency-sharing")) {
		if ((v = need(&b, E_ORDINANCE_CLAUSE)))
			node_add(d, "ordinance-clause", v);
	} else if (get(&b, E_ORDINANCE_CLAUSE)) {
		problem(&b, E_ORDINANCE_CLAUSE, "only with basis agency-sharing");
	}
	applicant = word(&b, E_APPLICANT, "self");
	app = node_add(d, "applicant", NULL);
	node_set_attr(app, "kind", applicant ? applicant : "self");
	if (applicant && !strcmp(applicant, "guardian")) {
		need(&b, E_GUARDIAN_KIND);
		if ((v = word(&b, E_GUARDIAN_KIND, NULL)))
			node_set_attr(app, "guardian", v);
		if ((v = need(&b, E_GUARDIAN_NAME)))
			node_add(app, "name", v);
		if ((v = need(&b, E_GUARDIAN_CERTIFICATE)))
			node_add(app, "certificate", v);
	} else {
		for (k = E_GUARDIAN_KIND; k <= E_GUARDIAN_CERTIFICATE; k++)
			if (get(&b, k))
				problem(&b, k, "only with applicant guardian");
	}
	person(&b, d, dir, today);
	requesters(&b, d);
	care(&b, d);
	consent(&b, d, basis && !strcmp(basis, "agency-sharing"), today);
	intake(&b, d, today);
	if (!b.bad && xml_validate(d, XML_SCHEMA_REGISTRATION, &reason) < 0) {
		if (why->len)
			strbuf_addstr(why, "; ");
		strbuf_addstr(why, "the document does not validate: ");
		scrub_reason(reason.buf, why);
		b.bad = 1;
	}
	for (k = 0; k < ENTRY_NKEYS; k++)
		free(clean[k]);
	strbuf_release(&l);
	strbuf_release(&reason);
	if (b.bad) {
		node_free(d);
		*doc = NULL;
		return -1;
	}
	*doc = d;
	return 0;
}
