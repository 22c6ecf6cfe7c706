/*
 * request-mail - compose a signed (and optionally encrypted) request mail
 * from form fields, for operators, drills and tests (mimamori-request-mail(1)).
 *
 *   mimamori request-mail --gnupg-home DIR --key FPR --from ADDR --to ADDR
 *           [--encrypt-to FPR]... [--subject S] [--form FILE | --field key=value ...]
 *           [-o FILE]
 *
 * Reads the form (a file, stdin or --field arguments) and the operator's
 * GnuPG home; writes the mail to stdout or to FILE (0600, written under a
 * temporary name and renamed). Needs no configuration and no spool.
 *
 * SECURITY: holds the operator's secret key through gpg. Every key must be
 * one of the form's keys (dispatch/form.c) and no value may hold CR or
 * NUL; a value's line feeds become continuation lines, so no field can
 * start another field, and header values go through mail_compose_pgp(),
 * which refuses CR and LF.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "../commands.h"
#include "../util/clock.h"
#include "../lib/gpg.h"
#include "../lib/mail.h"
#include "../lib/seal.h"
#include "../lib/text.h"
#include "../dispatch/dispatch.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/strbuf.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define FORM_MAX ((size_t)256 << 10)
#define FIELDS_MAX 32

struct opts {
	const char *home, *key, *from, *to, *subject, *form, *out;
	const char **encrypt_to;
	size_t nr_encrypt, alloc_encrypt;
	const char **fields;
	size_t nr_fields, alloc_fields;
};

static int usage_error(const char *what)
{
	error("%s", what);
	fprintf(stderr, "usage: mimamori request-mail --gnupg-home DIR --key FPR --from ADDR "
		"--to ADDR\n"
		"         [--encrypt-to FPR]... [--subject S] [--form FILE | --field key=value ...]"
		"\n         [-o FILE]\n");
	return EX_USAGE;
}

static int key_known(const char *key, size_t len)
{
	size_t i;

	for (i = 0; form_keys[i]; i++)
		if (strlen(form_keys[i]) == len && !memcmp(form_keys[i], key, len))
			return 1;
	return 0;
}

/* Append "key: value" with each line feed of value starting a continuation line. */
static void add_field(struct strbuf *form, const char *key, size_t klen, const char *val)
{
	strbuf_add(form, key, klen);
	strbuf_addstr(form, ":");
	if (*val)
		strbuf_addch(form, ' ');
	for (; *val; val++) {
		strbuf_addch(form, *val);
		if (*val == '\n')
			strbuf_addch(form, ' ');
	}
	strbuf_addch(form, '\n');
}

/* Whether the form already has the key (at a line start). */
static int form_has(const struct strbuf *form, const char *key)
{
	size_t klen = strlen(key);
	const char *p = form->buf;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

/* The form from --field pairs, in the order given. 0, or EX_USAGE. */
static int form_from_fields(const struct opts *o, struct strbuf *form)
{
	size_t i, j;

	for (i = 0; i < o->nr_fields; i++) {
		const char *f = o->fields[i], *eq = strchr(f, '=');
		size_t klen = eq ? (size_t)(eq - f) : 0;

		if (!eq || !klen)
			return usage_error("--field wants key=value");
		if (!key_known(f, klen)) {
			error("unknown key '%.*s'", (int)(klen > 40 ? 40 : klen), f);
			return EX_USAGE;
		}
		if (strchr(eq + 1, '\r')) {
			error("field '%.*s': value holds a carriage return", (int)klen, f);
			return EX_USAGE;
		}
		if (!text_is_utf8(eq + 1, strlen(eq + 1))) {
			error("field '%.*s': value is not UTF-8", (int)klen, f);
			return EX_USAGE;
		}
		for (j = 0; j < i; j++)
			if (!strncmp(o->fields[j], f, klen + 1)) {
				error("field '%.*s' given twice", (int)klen, f);
				return EX_USAGE;
			}
		add_field(form, f, klen, eq + 1);
	}
	return 0;
}

/*
 * Drop "key:" lines left empty (a template's unfilled fields) unless a
 * continuation line follows, so that an unfilled request-id or sent gets
 * its default instead of an empty value.
 */
static void drop_empty(struct strbuf *form)
{
	struct strbuf out = STRBUF_INIT;
	const char *line = form->buf;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
		const char *colon = memchr(line, ':', len);
		size_t k;
		int empty = 0;

		if (colon && line[0] != ' ' && line[0] != '\t') {
			for (k = colon - line + 1; k < len && strchr(" \t\n", line[k]); k++)
				;
			empty = k == len && line[len] != ' ' && line[len] != '\t';
		}
		if (!empty)
			strbuf_add(&out, line, len);
		line += len;
	}
	strbuf_reset(form);
	strbuf_addbuf(form, &out);
	strbuf_release(&out);
}

/*
 * The form from a file ("-": stdin): comment lines ('#') and blank lines
 * dropped, CRLF made LF, every other line either "key: value" with a
 * known key (each once) or a continuation line. 0, or EX_DATAERR / EX_IOERR.
 */
static int form_from_file(const char *path, struct strbuf *form)
{
	struct strbuf raw = STRBUF_INIT, seen = STRBUF_INIT;
	const char *line;
	int ret = 0, lineno = 0, have_key = 0;

	if ((!strcmp(path, "-") ? strbuf_read_fd(&raw, 0, FORM_MAX) :
	     strbuf_read_file(&raw, path, FORM_MAX)) < 0) {
		error_errno("cannot read form '%s'", path);
		return errno == EFBIG ? EX_DATAERR : EX_IOERR;
	}
	if (!text_is_utf8(raw.buf, raw.len)) {
		error("form '%s': not UTF-8 text", path);
		strbuf_release(&raw);
		return EX_DATAERR;
	}
	strbuf_addch(&seen, '\n');
	for (line = raw.buf; *line && !ret;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line), klen;
		const char *colon;

		lineno++;
		if (len && line[len - 1] == '\r')
			len--;
		if (memchr(line, '\r', len)) {
			ret = error("form '%s': line %d: a carriage return inside", path, lineno);
		} else if (!len || line[0] == '#') {
			;
		} else if (line[0] == ' ' || line[0] == '\t') {
			if (!have_key)
				ret = error("form '%s': line %d: a continuation without a key", path,
					    lineno);
			else {
				strbuf_add(form, line, len);
				strbuf_addch(form, '\n');
			}
		} else if (!(colon = memchr(line, ':', len))) {
			ret = error("form '%s': line %d: not 'key: value'", path, lineno);
		} else {
			struct strbuf needle = STRBUF_INIT;

			klen = colon - line;
			strbuf_addch(&needle, '\n');
			strbuf_add(&needle, line, klen);
			strbuf_addch(&needle, '\n');
			if (!key_known(line, klen))
				ret = error("form '%s': line %d: unknown key '%.*s'", path, lineno,
					    (int)(klen > 40 ? 40 : klen), line);
			else if (strstr(seen.buf, needle.buf))
				ret = error("form '%s': line %d: key '%.*s' given twice", path,
					    lineno, (int)klen, line);
			else {
				strbuf_add(&seen, line, klen);
				strbuf_addch(&seen, '\n');
				strbuf_add(form, line, len);
				strbuf_addch(form, '\n');
				have_key = 1;
			}
			strbuf_release(&needle);
		}
		line = end ? end + 1 : line + len;
	}
	strbuf_release(&raw);
	strbuf_release(&seen);
	if (!ret)
		drop_empty(form);
	return ret ? EX_DATAERR : 0;
}

/* The value of key in the form (first line only), or "" */
static void form_value(const struct strbuf *form, const char *key, struct strbuf *out)
{
	size_t klen = strlen(key);
	const char *p = form->buf;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			p += klen + 1;
			while (*p == ' ')
				p++;
			strbuf_add(out, p, strcspn(p, "\n"));
			strbuf_trim(out);
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

/* request-id: and sent: first, when the form lacks them. */
static void add_defaults(struct strbuf *form)
{
	struct strbuf head = STRBUF_INIT;
	time_t now = clock_now(), jst = now + JST_OFFSET;
	char when[32];
	unsigned char r[2];
	struct tm tm;

	if (!form_has(form, "request-id")) {
		random_nonce(r, sizeof(r));
		gmtime_r(&jst, &tm);
		strbuf_addf(&head, "request-id: %04d-%02d-%02d-%02d%02d%02d-", tm.tm_year + 1900,
			    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		strbuf_add_hex(&head, r, sizeof(r));
		strbuf_addch(&head, '\n');
	}
	if (!form_has(form, "sent")) {
		datetime_format(now, when);
		strbuf_addf(&head, "sent: %s\n", when);
	}
	strbuf_addbuf(&head, form);
	strbuf_reset(form);
	strbuf_addbuf(form, &head);
	strbuf_release(&head);
}

/*
 * Write data to path, 0600, under a temporary name renamed into place. The
 * temporary name is a dot file, which no stage takes as an input (path may
 * be in a watched folder such as inbox/new).
 */
static int write_out(const char *path, const struct strbuf *data)
{
	struct strbuf tmp = STRBUF_INIT;
	char *dir = path_dirname(path);
	int fd, ret = -1;

	strbuf_addf(&tmp, "%s/.%s.tmp.%ld", dir, path_basename(path), (long)getpid());
	free(dir);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		error_errno("cannot create '%s'", path);
		strbuf_release(&tmp);
		return -1;
	}
	if (write_full(fd, data->buf, data->len) < 0 || fsync(fd) < 0)
		error_errno("cannot write '%s'", tmp.buf);
	else if (close(fd) < 0)
		fd = -1, error_errno("cannot write '%s'", tmp.buf);
	else if ((fd = -1, rename(tmp.buf, path) < 0))
		error_errno("cannot rename '%s' to '%s'", tmp.buf, path);
	else
		ret = 0;
	if (fd >= 0)
		close(fd);
	if (ret)
		unlink(tmp.buf);
	else {
		dir = path_dirname(path);
		fsync_dir(dir);
		free(dir);
	}
	strbuf_release(&tmp);
	return ret;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq = NULL;
		size_t n = strlen(a);

		if (!strncmp(a, "--", 2) && (eq = strchr(a, '='))) {
			n = eq - a;
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[i + 1];
		}
#define OPT(name) (strlen(name) == n && !strncmp(a, name, n))
		if (!(OPT("--gnupg-home") || OPT("--key") || OPT("--from") || OPT("--to") ||
		      OPT("--encrypt-to") || OPT("--subject") || OPT("--form") ||
		      OPT("--field") || OPT("-o"))) {
			error("unknown option '%s'", a);
			return -1;
		}
		if (!v) {
			error("option '%s' needs a value", a);
			return -1;
		}
		if (!eq)
			i++;
		if (OPT("--gnupg-home"))
			o->home = v;
		else if (OPT("--key"))
			o->key = v;
		else if (OPT("--from"))
			o->from = v;
		else if (OPT("--to"))
			o->to = v;
		else if (OPT("--subject"))
			o->subject = v;
		else if (OPT("--form"))
			o->form = v;
		else if (OPT("-o"))
			o->out = v;
		else if (OPT("--encrypt-to")) {
			ALLOC_GROW(o->encrypt_to, o->nr_encrypt + 2, o->alloc_encrypt);
			o->encrypt_to[o->nr_encrypt++] = v;
			o->encrypt_to[o->nr_encrypt] = NULL;
		} else {
			ALLOC_GROW(o->fields, o->nr_fields + 1, o->alloc_fields);
			o->fields[o->nr_fields++] = v;
		}
#undef OPT
	}
	return 0;
}

int cmd_request_mail(int argc, char **argv, struct context *ctx)
{
	struct opts o;
	struct strbuf form = STRBUF_INIT, mail = STRBUF_INIT, why = STRBUF_INIT;
	struct strbuf subject = STRBUF_INIT, status = STRBUF_INIT;
	struct mail_out h;
	char home[PATH_MAX];
	size_t i;
	int ret = 0;

	memset(&o, 0, sizeof(o));
	if (parse_opts(argc, argv, &o) < 0) {
		ret = usage_error("bad arguments");
		goto done;
	}
	if (!o.home || !o.key || !o.from || !o.to) {
		ret = usage_error("--gnupg-home, --key, --from and --to are needed");
		goto done;
	}
	if (o.form && o.nr_fields) {
		ret = usage_error("give --form or --field, not both");
		goto done;
	}
	if (!o.form && !o.nr_fields) {
		ret = usage_error("no form: give --form FILE or --field key=value");
		goto done;
	}
	if (!mail_header_safe(o.from) || !mail_header_safe(o.to) ||
	    (o.subject && !mail_header_safe(o.subject))) {
		ret = EX_USAGE;
		error("--from, --to and --subject may not hold a line break");
		goto done;
	}
	ret = o.form ? form_from_file(o.form, &form) : form_from_fields(&o, &form);
	if (ret)
		goto done;
	add_defaults(&form);

	if (!realpath(o.home, home)) {
		ret = EX_CONFIG;
		error_errno("cannot use gnupg home '%s'", o.home);
		goto done;
	}
	if (gpg_init(home, &why) < 0 || gpg_key_check(o.key, 1, &why) < 0) {
		ret = EX_CONFIG;
		error("key '%s': %s", o.key, why.buf);
		goto done;
	}
	for (i = 0; i < o.nr_encrypt; i++)
		if (gpg_key_check(o.encrypt_to[i], 0, &why) < 0) {
			ret = EX_CONFIG;
			error("--encrypt-to '%s': %s", o.encrypt_to[i], why.buf);
			goto done;
		}

	if (o.subject) {
		strbuf_addstr(&subject, o.subject);
	} else {
		struct strbuf id = STRBUF_INIT;

		form_value(&form, "status", &status);
		form_value(&form, "request-id", &id);
		strbuf_addf(&subject, "%srequest %s", strcmp(status.buf, "exercise") ? "" :
			    "【訓練】", id.buf);
		strbuf_release(&id);
	}
	memset(&h, 0, sizeof(h));
	h.from_address = o.from;
	h.to = o.to;
	h.subject = subject.buf;
	if (mail_compose_pgp(&h, form.buf, o.key, o.nr_encrypt ? o.encrypt_to : NULL, &mail,
			     NULL, &why) < 0) {
		if (!strncmp(why.buf, "bad ", 4) || strstr(why.buf, "line break"))
			ret = EX_USAGE;
		else if (strstr(why.buf, "sign") || strstr(why.buf, "encrypt"))
			ret = EX_UNAVAILABLE;
		else
			ret = EX_DATAERR;
		error("cannot compose the mail: %s", why.buf);
		goto done;
	}
	if (o.out) {
		if (write_out(o.out, &mail) < 0)
			ret = EX_IOERR;
	} else if (write_full(1, mail.buf, mail.len) < 0) {
		error_errno("cannot write the mail");
		ret = EX_IOERR;
	}
done:
	gpg_release();
	free(o.encrypt_to);
	free(o.fields);
	strbuf_release(&form);
	strbuf_release(&mail);
	strbuf_release(&why);
	strbuf_release(&subject);
	strbuf_release(&status);
	return ret;
}
