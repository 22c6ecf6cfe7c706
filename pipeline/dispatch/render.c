/*
 * render - alert, update, found, withdraw mails and replies from
 * templates/ (Japanese; English in NAME.en.txt beside).
 *
 * Reads templates/NAME.txt; writes nothing. A template is given only the
 * alert view of a record, the request's circumstances and the police
 * station from the config (struct render_input): the record itself never
 * reaches this file, so nothing else can be rendered by mistake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dispatch.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define TEMPLATE_MAX (64 * 1024)

struct word {
	const char *key, *ja, *en;
};

static const struct word words[] = {
	{ "female", "女性", "female" }, { "male", "男性", "male" },
	{ "obese", "肥満", "obese" }, { "slightly-obese", "やや肥満", "slightly obese" },
	{ "medium", "普通", "medium" }, { "thin", "やせ型", "thin" },
	{ "triangle", "三角形", "triangular" }, { "inverted-triangle", "逆三角形", "inverted triangle" },
	{ "round", "丸顔", "round" }, { "square", "四角", "square" }, { "oval", "卵形", "oval" },
	{ "fair", "色白", "fair" }, { "pale", "青白い", "pale" }, { "normal", "普通", "normal" },
	{ "dark", "色黒", "dark" }, { "ruddy", "赤ら顔", "ruddy" },
	{ "full-dentures", "総入れ歯", "full dentures" },
	{ "partial-dentures", "部分入れ歯", "partial dentures" },
	{ "unaided", "自力で歩く", "walks unaided" }, { "cane", "杖を使う", "walks with a cane" },
	{ "unknown", "不明", "unknown" },
	{ NULL, NULL, NULL }
};

static const char *word(const char *v, int en)
{
	const struct word *w;

	for (w = words; w->key; w++)
		if (!strcmp(w->key, v))
			return en ? w->en : w->ja;
	return v;
}

/* Append v with every control character turned into a space. */
static void add_clean(struct strbuf *out, const char *v)
{
	for (; *v; v++)
		strbuf_addch(out, ((unsigned char)*v < 0x20 || *v == 0x7f) ? ' ' : *v);
}

static int add_time(struct strbuf *out, const char *v, int en)
{
	time_t t;
	char buf[32];
	int y, mo, d, h, mi;

	if (!v || datetime_parse(v, &t) < 0)
		return -1;
	datetime_format(t, buf);
	if (sscanf(buf, "%4d-%2d-%2dT%2d:%2d", &y, &mo, &d, &h, &mi) != 5)
		return -1;
	if (en)
		strbuf_addf(out, "%04d-%02d-%02d %02d:%02d (Japan time)", y, mo, d, h, mi);
	else
		strbuf_addf(out, "%d年%d月%d日 %d時%02d分ごろ", y, mo, d, h, mi);
	return 0;
}

/* The value of key, appended to out; -1 when there is none. */
static int value_of(const struct render_input *in, const char *key, int en,
		    struct strbuf *out)
{
	static const char *const times[] = { "missing-since", "police-report-at", "found-at",
					     NULL };
	static const char *const circ[] = { "last-seen", "clothing", "belongings", "notes",
					    NULL };
	const char *const *p;
	const struct node *f = node_child(in->view, "features");
	const char *v;

	if (!strcmp(key, "alert-id")) {
		add_clean(out, in->alert_id);
		return 0;
	}
	if (!strcmp(key, "exercise-mark")) {
		if (in->exercise)
			strbuf_addstr(out, en ? "【訓練】[EXERCISE] " : "【訓練】");
		return 0;
	}
	if (!strcmp(key, "exercise-line")) {
		if (!in->exercise)
			return -1;
		strbuf_addstr(out, en ? "【訓練】 This is an EXERCISE: nobody is missing."
				      : "【訓練】これは訓練のメールです。実際の行方不明ではありません。");
		return 0;
	}
	if (!strcmp(key, "widen-mark")) {
		if (in->widened)
			strbuf_addstr(out, en ? "【範囲拡大】[WIDER AREA] " : "【範囲拡大】");
		return 0;
	}
	if (!strcmp(key, "widen-line")) {
		if (!in->widened)
			return -1;
		strbuf_addstr(out, en ? "【範囲拡大】 The person has not been found yet: the search "
				        "now covers every ward."
				      : "【範囲拡大】まだ見つかっていないため、捜索の範囲を市内全域に"
				        "広げてお知らせしています。");
		return 0;
	}
	if (!strcmp(key, "police-name") && in->police) {
		add_clean(out, in->police->name);
		return 0;
	}
	if (!strcmp(key, "police-phone") && in->police && in->police->phone) {
		add_clean(out, in->police->phone);
		return 0;
	}
	for (p = times; *p; p++)
		if (!strcmp(key, *p))
			return add_time(out, node_text(in->request, *p), en);
	for (p = circ; *p; p++) {
		if (!strcmp(key, *p)) {
			v = node_text(in->request, *p);
			if (!v)
				return -1;
			add_clean(out, v);
			return 0;
		}
	}
	if (!strcmp(key, "sex") || !strcmp(key, "age") || !strcmp(key, "usual-places") ||
	    !strcmp(key, "previous-residences")) {
		v = node_text(in->view, key);
		if (!v)
			return -1;
		add_clean(out, word(v, en));
		return 0;
	}
	if (!strcmp(key, "lost-before")) {
		const struct node *lb = node_child(in->view, "lost-before");
		const char *count = node_attr(lb, "count");

		if (!lb)
			return -1;
		if (count && !strcmp(count, "0"))
			strbuf_addstr(out, en ? "never" : "なし");
		else if (count)
			strbuf_addf(out, en ? "%s time(s)" : "%s回", count);
		else
			strbuf_addstr(out, en ? "yes" : "あり");
		if (lb->text) {
			strbuf_addstr(out, en ? ": " : "（");
			add_clean(out, lb->text);
			if (!en)
				strbuf_addstr(out, "）");
		}
		return 0;
	}
	if (f && !strncmp(key, "f-", 2)) {
		const struct node *c = node_child(f, key + 2);

		if (!c)
			return -1;
		if (!c->text || !*c->text)
			strbuf_addstr(out, en ? "yes" : "あり");
		else
			add_clean(out, word(c->text, en));
		return 0;
	}
	return -1;
}

static int load_template(const char *home, const char *name, const char *lang,
			 struct strbuf *tpl, struct strbuf *why)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;

	strbuf_addf(&path, "%s/templates/%s%s%s.txt", home, name,
		    lang && strcmp(lang, "ja") ? "." : "", lang && strcmp(lang, "ja") ? lang : "");
	if (strbuf_read_file(tpl, path.buf, TEMPLATE_MAX) < 0) {
		strbuf_addf(why, "cannot read template '%s'", path.buf);
		ret = -1;
	}
	strbuf_release(&path);
	return ret;
}

typedef int (*lookup_fn)(const void *data, const char *key, int en, struct strbuf *out);

/* Expand one line; -1 when a placeholder has no value. */
static int expand(const char *line, size_t len, lookup_fn look, const void *data, int en,
		  struct strbuf *out)
{
	struct strbuf key = STRBUF_INIT;
	size_t i = 0;
	int missing = 0;

	while (i < len) {
		const char *open = memmem(line + i, len - i, "{{", 2), *close;

		if (!open) {
			strbuf_add(out, line + i, len - i);
			break;
		}
		strbuf_add(out, line + i, (size_t)(open - line) - i);
		close = memmem(open + 2, len - (size_t)(open + 2 - line), "}}", 2);
		if (!close) {
			strbuf_add(out, open, len - (size_t)(open - line));
			break;
		}
		strbuf_reset(&key);
		strbuf_add(&key, open + 2, (size_t)(close - open - 2));
		if (look(data, key.buf, en, out) < 0) {
			missing = 1;
			strbuf_addstr(out, en ? "unknown" : "不明");
		}
		i = (size_t)(close + 2 - line);
	}
	strbuf_release(&key);
	return missing ? -1 : 0;
}

static int render(const char *home, const char *name, const char *lang, lookup_fn look,
		  const void *data, struct strbuf *subject, struct strbuf *body,
		  struct strbuf *why)
{
	struct strbuf tpl = STRBUF_INIT, line = STRBUF_INIT;
	const char *p, *end;
	int en = lang && !strcmp(lang, "en"), first = 1;

	if (load_template(home, name, lang, &tpl, why) < 0)
		return -1;
	if (strncmp(tpl.buf, "Subject: ", 9)) {
		strbuf_addf(why, "template '%s' does not start with 'Subject: '", name);
		strbuf_release(&tpl);
		return -1;
	}
	for (p = tpl.buf; *p; p = end ? end + 1 : p + strlen(p)) {
		size_t len;
		int optional;

		end = strchr(p, '\n');
		len = end ? (size_t)(end - p) : strlen(p);
		if (first) {
			expand(p + 9, len - 9, look, data, en, subject);
			first = 0;
			if (end && end[1] == '\n')
				end++;
			continue;
		}
		optional = len && p[0] == '?';
		strbuf_reset(&line);
		if (expand(p + optional, len - optional, look, data, en, &line) < 0 && optional)
			continue;
		strbuf_addbuf(body, &line);
		strbuf_addch(body, '\n');
		if (!end)
			break;
	}
	strbuf_release(&line);
	strbuf_release(&tpl);
	return 0;
}

static int input_lookup(const void *data, const char *key, int en, struct strbuf *out)
{
	return value_of(data, key, en, out);
}

int render_mail(const char *home, const char *name, const char *lang,
		const struct render_input *in, struct strbuf *subject, struct strbuf *body,
		struct strbuf *why)
{
	return render(home, name, lang, input_lookup, in, subject, body, why);
}

static int pairs_lookup(const void *data, const char *key, int en, struct strbuf *out)
{
	const char *const *p;

	for (p = data; p[0]; p += 2) {
		if (!strcmp(p[0], key)) {
			if (!p[1])
				return -1;
			strbuf_addstr(out, p[1]);
			return 0;
		}
	}
	return -1;
}

int render_pairs(const char *home, const char *name, const char *lang,
		 const char *const *pairs, struct strbuf *subject, struct strbuf *body,
		 struct strbuf *why)
{
	return render(home, name, lang, pairs_lookup, pairs, subject, body, why);
}
