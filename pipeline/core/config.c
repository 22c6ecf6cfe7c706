/*
 * config - loads mimamori.xml (validated by schemas/config.xsd) into
 * struct config, and the deeper checks of check-config.
 *
 * SECURITY: the configuration decides who may trigger an alert (operator
 * keys) and who receives what (agency kinds, lists, pledges); it is trusted
 * input, but is still parsed with the hardened parser and checked strictly:
 * an unknown element or attribute is an error, never ignored.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "../util/clock.h"
#include "../lib/gpg.h"
#include "../lib/xml.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define CONFIG_MAX (4 << 20)

static const char *const kind_names[AGENCY_KIND_MAX] = {
	"city", "custodian", "ward-office", "care-center", "police", "mail-vendor",
};

int agency_kind_parse(const char *name)
{
	int i;

	for (i = 0; i < AGENCY_KIND_MAX; i++)
		if (!strcmp(kind_names[i], name))
			return i;
	return -1;
}

const char *agency_kind_name(enum agency_kind kind)
{
	return kind < AGENCY_KIND_MAX ? kind_names[kind] : "?";
}

int wards_has(const struct wards *w, const char *ward)
{
	return w->all || strlist_has(&w->ids, ward);
}

int wards_meet(const struct wards *a, const struct wards *b)
{
	size_t i;

	if ((a->all && (b->all || b->ids.nr)) || (b->all && a->ids.nr))
		return 1;
	for (i = 0; i < a->ids.nr; i++)
		if (strlist_has(&b->ids, a->ids.items[i]))
			return 1;
	return 0;
}

static void wards_parse(struct wards *w, const char *spec)
{
	const char *p = spec;

	memset(w, 0, sizeof(*w));
	if (!spec)
		return;
	while (*p) {
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		len = strcspn(p, " \t\n");
		if (!len)
			break;
		if (len == 1 && *p == '*') {
			w->all = 1;
		} else {
			char *id = xstrndup(p, len);

			strlist_add(&w->ids, id);
			free(id);
		}
		p += len;
	}
	strlist_sort(&w->ids);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static char *upper_dup(const char *s)
{
	char *u = xstrdup(s), *p;

	for (p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

/* A path from the config: absolute, or relative to the config's folder. */
static char *config_relpath(const struct config *cfg, const char *p)
{
	if (p[0] == '/')
		return xstrdup(p);
	return path_join(cfg->dir, p);
}

static void problem(struct strbuf *problems, const struct config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct strbuf *problems, const struct config *cfg, const char *fmt, ...)
{
	va_list ap;

	strbuf_addf(problems, "mimamori: %s: '%s': ", msg_stage(), cfg->path);
	va_start(ap, fmt);
	strbuf_vaddf(problems, fmt, ap);
	va_end(ap);
	strbuf_addch(problems, '\n');
}

static int load_agencies(struct config *cfg, const struct node *root, struct strbuf *pr)
{
	const struct node *n;
	size_t alloc = 0, i;
	int bad = 0, any_source = 0;

	for (n = node_path(root, "agencies/agency"); n; n = node_next_same(n)) {
		struct agency *a;

		ALLOC_GROW(cfg->agencies, cfg->nr_agencies + 1, alloc);
		a = &cfg->agencies[cfg->nr_agencies++];
		memset(a, 0, sizeof(*a));
		a->id = xstrdup(node_attr(n, "id"));
		a->kind = (enum agency_kind)agency_kind_parse(node_attr(n, "kind"));
		a->name = xstrdup(node_attr(n, "name"));
		a->key = upper_dup(node_attr(n, "key"));
		a->address = dup_or_null(node_attr(n, "address"));
		a->phone = dup_or_null(node_attr(n, "phone"));
		a->source = node_attr(n, "source") && !strcmp(node_attr(n, "source"), "yes");
		any_source |= a->source;
		wards_parse(&a->wards, node_attr(n, "wards"));
		for (i = 0; i < a->wards.ids.nr; i++)
			if (!strlist_has(&cfg->wards, a->wards.ids.items[i])) {
				strlist_add(&cfg->wards, a->wards.ids.items[i]);
				strlist_sort(&cfg->wards);
			}
		if (!name_is_safe(a->id)) {
			problem(pr, cfg, "agency id '%s' cannot be used as a file name", a->id);
			bad = 1;
		}
		for (i = 0; i + 1 < cfg->nr_agencies; i++)
			if (!strcmp(cfg->agencies[i].id, a->id)) {
				problem(pr, cfg, "agency '%s' listed twice", a->id);
				bad = 1;
			}
	}
	/* No source="yes" anywhere: the custodians are the sources. */
	for (i = 0; i < cfg->nr_agencies && !any_source; i++)
		cfg->agencies[i].source = cfg->agencies[i].kind == AGENCY_CUSTODIAN;
	return bad ? -1 : 0;
}

static void load_operators(struct config *cfg, const struct node *root)
{
	const struct node *n;
	size_t alloc = 0;

	for (n = node_path(root, "operators/operator"); n; n = node_next_same(n)) {
		struct operator *o;

		ALLOC_GROW(cfg->operators, cfg->nr_operators + 1, alloc);
		o = &cfg->operators[cfg->nr_operators++];
		o->key = upper_dup(node_attr(n, "key"));
		o->name = xstrdup(node_attr(n, "name"));
		o->address = xstrdup(node_attr(n, "address"));
	}
}

static int yes(const char *v)
{
	return v && !strcmp(v, "yes");
}

/*
 * An ISO 8601 duration of days, hours, minutes and seconds (P1D, PT3H,
 * PT90M) in seconds; -1 when it is none or is zero.
 */
static long duration_seconds(const char *v)
{
	static const char units[] = "DHMS";
	static const long secs[] = { 86400, 3600, 60, 1 };
	const char *p = v;
	long total = 0;
	int last = -1, time_part = 0;

	if (*p++ != 'P' || !*p)
		return -1;
	while (*p) {
		char *end;
		long n;
		const char *u;

		if (*p == 'T' && !time_part) {
			time_part = 1;
			p++;
			continue;
		}
		if (*p < '0' || *p > '9')
			return -1;
		n = strtol(p, &end, 10);
		u = *end ? strchr(units, *end) : NULL;
		if (!u || (int)(u - units) <= last || (u == units) == time_part ||
		    n > 366L * 86400)
			return -1;
		last = (int)(u - units);
		total += n * secs[last];
		p = end + 1;
	}
	return total > 0 ? total : -1;
}

static int load_lists(struct config *cfg, const struct node *root, struct strbuf *pr)
{
	const struct node *n, *m;
	size_t lalloc = 0;
	int bad = 0;

	for (n = node_path(root, "lists/list"); n; n = node_next_same(n)) {
		struct list *l;
		size_t alloc = 0;

		ALLOC_GROW(cfg->lists, cfg->nr_lists + 1, lalloc);
		l = &cfg->lists[cfg->nr_lists++];
		memset(l, 0, sizeof(*l));
		l->id = xstrdup(node_attr(n, "id"));
		l->audience = strcmp(node_attr(n, "audience"), "agency") ? LIST_COMMUNITY
									  : LIST_AGENCY;
		wards_parse(&l->wards, node_attr(n, "wards"));
		l->address = xstrdup(node_attr(n, "address"));
		if (node_attr(n, "owner"))
			l->owner = xstrdup(node_attr(n, "owner"));
		l->photo = yes(node_attr(n, "photo"));
		l->trained = yes(node_attr(n, "trained"));
		if (l->photo && l->audience == LIST_COMMUNITY && !l->trained) {
			problem(pr, cfg, "list '%s': photo=\"yes\" on a community list "
				"needs trained=\"yes\"", l->id);
			bad = 1;
		}
		for (m = node_child(n, "member"); m; m = node_next_same(m)) {
			struct member *mb;
			const char *pledge = node_attr(m, "pledge");
			const char *cs = node_attr(m, "charset");

			ALLOC_GROW(l->members, l->nr_members + 1, alloc);
			mb = &l->members[l->nr_members++];
			mb->address = xstrdup(node_attr(m, "address"));
			mb->name = xstrdup(node_attr(m, "name"));
			mb->pledge = -1;
			mb->iso2022jp = cs && !strcmp(cs, "iso-2022-jp");
			if (pledge && date_parse(pledge, &mb->pledge) < 0) {
				problem(pr, cfg, "list '%s': member '%s': bad pledge date '%s'",
					l->id, mb->address, pledge);
				bad = 1;
			}
		}
	}
	return bad ? -1 : 0;
}

static int load_retention(struct config *cfg, const struct node *root, struct strbuf *pr)
{
	const struct node *r = node_child(root, "retention");
	const char *names[] = { "validity", "reminder", "alert-data", "rejected" };
	const char *defaults[] = { "P2Y", "P60D", "P30D", "P30D" };
	char **slots[] = { &cfg->validity, &cfg->reminder, &cfg->alert_data, &cfg->rejected };
	int i, bad = 0;

	for (i = 0; i < 4; i++) {
		const char *v = node_attr(r, names[i]);
		long out;

		*slots[i] = xstrdup(v ? v : defaults[i]);
		if (date_add_duration(0, *slots[i], 1, &out) < 0 || out <= 0) {
			problem(pr, cfg, "<retention>: bad %s '%s' (expected a duration "
				"such as P2Y or P60D)", names[i], *slots[i]);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

int config_load(struct config *cfg, const char *path, struct strbuf *problems)
{
	struct strbuf buf = STRBUF_INIT, why = STRBUF_INIT;
	struct node *root = NULL, *n;
	char *abs = NULL, cwd[4096];
	int bad = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)))
		abs = path_join(cwd, path);
	cfg->path = abs ? abs : xstrdup(path);
	cfg->dir = path_dirname(cfg->path);
	if (strbuf_read_file(&buf, path, CONFIG_MAX) < 0) {
		strbuf_addf(problems, "mimamori: %s: cannot read config '%s': %s\n",
			    msg_stage(), path, strerror(errno));
		goto fail;
	}
	if (xml_parse_all(buf.buf, buf.len, CONFIG_MAX, XML_SCHEMA_CONFIG, &root, &why) < 0) {
		char *line, *save = NULL;

		for (line = strtok_r(why.buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			problem(problems, cfg, "%s", line);
		goto fail;
	}
	cfg->node_agency = xstrdup(node_attr(node_child(root, "node"), "agency"));
	cfg->spool = config_relpath(cfg, node_text(root, "spool"));
	cfg->gnupg_home = config_relpath(cfg, node_text(root, "gnupg-home"));
	n = node_child(root, "sender");
	cfg->sender_address = xstrdup(node_attr(n, "address"));
	cfg->sender_name = dup_or_null(node_attr(n, "name"));
	if ((n = node_child(root, "smtp"))) {
		cfg->smtp_host = xstrdup(node_attr(n, "host"));
		cfg->smtp_port = node_attr(n, "port") ? atoi(node_attr(n, "port")) : 25;
	}
	if ((n = node_child(root, "imap"))) {
		const char *mb = node_attr(n, "mailbox"), *after = node_attr(n, "after");

		cfg->imap_host = xstrdup(node_attr(n, "host"));
		cfg->imap_port = atoi(node_attr(n, "port"));
		cfg->imap_user = xstrdup(node_attr(n, "user"));
		cfg->imap_password_file = config_relpath(cfg, node_attr(n, "password-file"));
		cfg->imap_mailbox = xstrdup(mb ? mb : "INBOX");
		cfg->imap_delete = after && !strcmp(after, "delete");
	}
	if ((n = node_child(root, "requests"))) {
		const char *enc = node_attr(n, "encrypted");

		const char *appr = node_attr(n, "approval");

		cfg->require_encrypted = enc && !strcmp(enc, "required");
		cfg->approval = appr && !strcmp(appr, "second-operator");
	}
	if ((n = node_child(root, "escalation"))) {
		cfg->escalate_after = duration_seconds(node_attr(n, "after"));
		if (cfg->escalate_after < 0) {
			problem(problems, cfg, "<escalation>: bad after '%s' (expected a "
				"duration such as PT3H)", node_attr(n, "after"));
			bad = 1;
		}
	}
	bad |= load_agencies(cfg, root, problems);
	load_operators(cfg, root);
	bad |= load_lists(cfg, root, problems);
	bad |= load_retention(cfg, root, problems);
	cfg->self = config_agency(cfg, cfg->node_agency);
	if (!cfg->self) {
		problem(problems, cfg, "<node>: agency '%s' is not listed in <agencies>",
			cfg->node_agency);
		bad = 1;
	}
	node_free(root);
	strbuf_release(&buf);
	strbuf_release(&why);
	return bad ? -1 : 0;
fail:
	node_free(root);
	strbuf_release(&buf);
	strbuf_release(&why);
	return -1;
}

/* A warning: the program runs, but someone should look (check-config exits 0). */
static void warning(struct strbuf *warnings, const struct config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warning(struct strbuf *warnings, const struct config *cfg, const char *fmt, ...)
{
	va_list ap;

	strbuf_addf(warnings, "warning: '%s': ", cfg->path);
	va_start(ap, fmt);
	strbuf_vaddf(warnings, fmt, ap);
	va_end(ap);
	strbuf_addch(warnings, '\n');
}

/*
 * A key missing or unusable is an error, except that another agency's or
 * an operator's key that has expired or been revoked is a warning (the
 * node runs; nothing goes to or is taken from that key). A key expiring
 * within CONFIG_KEY_WARN_DAYS of the program's clock is a warning.
 */
static void check_key(const struct config *cfg, const char *what, const char *fpr,
		      int own, struct strbuf *pr, struct strbuf *warn, int *count)
{
	struct strbuf why = STRBUF_INIT;
	struct gpg_key_life life;
	time_t now = clock_now();

	if (gpg_key_check(fpr, own, &why) < 0) {
		if (!own && !gpg_key_life(fpr, &life, NULL) && (life.expired || life.revoked)) {
			warning(warn, cfg, "%s: key %s: %s", what, fpr, why.buf);
		} else {
			problem(pr, cfg, "%s: key %s: %s", what, fpr, why.buf);
			(*count)++;
		}
	} else if (!gpg_key_life(fpr, &life, NULL) && life.expires &&
		   life.expires - now < (time_t)CONFIG_KEY_WARN_DAYS * 86400) {
		char d[11];

		date_format(date_of(life.expires), d);
		if (life.expires <= now)
			warning(warn, cfg, "%s: key %s expired on %s", what, fpr, d);
		else
			warning(warn, cfg, "%s: key %s expires on %s, in %lld days", what, fpr, d,
				(long long)((life.expires - now + 86399) / 86400));
	}
	strbuf_release(&why);
}

static void check_addresses(const struct config *cfg, struct strbuf *pr, struct strbuf *warn,
			    int *count)
{
	size_t i, j, k;

	for (i = 0; i < cfg->nr_lists; i++) {
		const struct list *l = &cfg->lists[i];

		for (j = i + 1; j < cfg->nr_lists; j++)
			if (!strcasecmp(l->address, cfg->lists[j].address))
				warning(warn, cfg, "lists '%s' and '%s' have the same address '%s'",
					l->id, cfg->lists[j].id, l->address);
		for (j = 0; j < l->nr_members; j++)
			for (k = j + 1; k < l->nr_members; k++)
				if (!strcasecmp(l->members[j].address, l->members[k].address)) {
					problem(pr, cfg, "list '%s': member '%s' listed twice",
						l->id, l->members[j].address);
					(*count)++;
				}
	}
	for (i = 0; i < cfg->nr_operators; i++)
		for (j = i + 1; j < cfg->nr_operators; j++)
			if (!strcmp(cfg->operators[i].key, cfg->operators[j].key)) {
				problem(pr, cfg, "operator key %s listed twice",
					cfg->operators[i].key);
				(*count)++;
			}
}

static void check_wards(const struct config *cfg, const char *what, const struct wards *w,
			struct strbuf *pr, int *count)
{
	size_t i;

	for (i = 0; i < w->ids.nr; i++)
		if (!strlist_has(&cfg->wards, w->ids.items[i])) {
			problem(pr, cfg, "%s: unknown ward '%s' (no agency serves it)", what,
				w->ids.items[i]);
			(*count)++;
		}
}

/* A control character (a line break above all) in s. */
static int has_control(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int config_check(const struct config *cfg, struct strbuf *pr, struct strbuf *warn)
{
	struct strbuf what = STRBUF_INIT;
	long today = clock_today();
	int count = 0;
	size_t i, j;

	for (i = 0; i < cfg->nr_agencies; i++) {
		const struct agency *a = &cfg->agencies[i];

		strbuf_reset(&what);
		strbuf_addf(&what, "agency '%s'", a->id);
		check_key(cfg, what.buf, a->key, a == cfg->self, pr, warn, &count);
		if ((a->kind == AGENCY_WARD_OFFICE || a->kind == AGENCY_CARE_CENTER ||
		     a->kind == AGENCY_POLICE) && !a->wards.all && !a->wards.ids.nr) {
			problem(pr, cfg, "%s: a %s needs wards", what.buf,
				agency_kind_name(a->kind));
			count++;
		}
		if (a->kind == AGENCY_POLICE && !a->phone) {
			problem(pr, cfg, "%s: a police station needs a phone (alerts give it)",
				what.buf);
			count++;
		}
	}
	for (i = 0; i < cfg->nr_operators; i++) {
		strbuf_reset(&what);
		strbuf_addf(&what, "operator '%s'", cfg->operators[i].address);
		check_key(cfg, what.buf, cfg->operators[i].key, 0, pr, warn, &count);
	}
	for (i = 0; i < cfg->nr_lists; i++) {
		const struct list *l = &cfg->lists[i];

		strbuf_reset(&what);
		strbuf_addf(&what, "list '%s'", l->id);
		check_wards(cfg, what.buf, &l->wards, pr, &count);
		if (l->audience != LIST_COMMUNITY)
			continue;
		for (j = 0; j < l->nr_members; j++) {
			const struct member *m = &l->members[j];
			char d[11];

			/* Normal while a pledge is being signed: a warning. */
			if (m->pledge < 0) {
				warning(warn, cfg, "list '%s': member '%s' has no confidentiality "
					"pledge and gets no alert", l->id, m->address);
			} else if (m->pledge > today) {
				date_format(m->pledge, d);
				warning(warn, cfg, "list '%s': member '%s' pledge date %s is in the "
					"future and gets no alert until then", l->id, m->address, d);
			}
		}
	}
	check_addresses(cfg, pr, warn, &count);
	if (has_control(cfg->sender_name) || has_control(cfg->sender_address)) {
		/* The mail composer refuses it: no mail could be sent. */
		problem(pr, cfg, "<sender>: a control character (line break) in its name or "
			"address");
		count++;
	}
	if (cfg->imap_password_file && access(cfg->imap_password_file, R_OK) < 0) {
		problem(pr, cfg, "<imap>: cannot read password file '%s'",
			cfg->imap_password_file);
		count++;
	} else if (cfg->imap_password_file) {
		struct stat st;

		/* fetch refuses such a file too (pipeline/fetch/fetch.c) */
		if (stat(cfg->imap_password_file, &st) == 0 && (st.st_mode & 077)) {
			problem(pr, cfg, "<imap>: password file '%s' is readable or writable "
				"by group or others (chmod 600)", cfg->imap_password_file);
			count++;
		}
	}
	strbuf_release(&what);
	return count;
}

static void wards_release(struct wards *w)
{
	strlist_clear(&w->ids);
}

void config_release(struct config *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->nr_agencies; i++) {
		struct agency *a = &cfg->agencies[i];

		free(a->id);
		free(a->name);
		free(a->key);
		free(a->address);
		free(a->phone);
		wards_release(&a->wards);
	}
	free(cfg->agencies);
	for (i = 0; i < cfg->nr_operators; i++) {
		free(cfg->operators[i].key);
		free(cfg->operators[i].name);
		free(cfg->operators[i].address);
	}
	free(cfg->operators);
	for (i = 0; i < cfg->nr_lists; i++) {
		struct list *l = &cfg->lists[i];

		for (j = 0; j < l->nr_members; j++) {
			free(l->members[j].address);
			free(l->members[j].name);
		}
		free(l->members);
		free(l->id);
		free(l->address);
		free(l->owner);
		wards_release(&l->wards);
	}
	free(cfg->lists);
	strlist_clear(&cfg->wards);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->node_agency);
	free(cfg->spool);
	free(cfg->gnupg_home);
	free(cfg->sender_address);
	free(cfg->sender_name);
	free(cfg->smtp_host);
	free(cfg->imap_host);
	free(cfg->imap_user);
	free(cfg->imap_password_file);
	free(cfg->imap_mailbox);
	free(cfg->validity);
	free(cfg->reminder);
	free(cfg->alert_data);
	free(cfg->rejected);
	memset(cfg, 0, sizeof(*cfg));
}

struct agency *config_agency(const struct config *cfg, const char *id)
{
	size_t i;

	for (i = 0; id && i < cfg->nr_agencies; i++)
		if (!strcmp(cfg->agencies[i].id, id))
			return &cfg->agencies[i];
	return NULL;
}

struct agency *config_agency_by_name(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; name && i < cfg->nr_agencies; i++)
		if (!strcmp(cfg->agencies[i].name, name))
			return &cfg->agencies[i];
	return NULL;
}

struct operator *config_operator(const struct config *cfg, const char *fpr)
{
	size_t i;

	for (i = 0; fpr && i < cfg->nr_operators; i++)
		if (!strcasecmp(cfg->operators[i].key, fpr))
			return &cfg->operators[i];
	return NULL;
}

int member_pledged(const struct member *m, long today)
{
	return m->pledge >= 0 && m->pledge <= today;
}
