/*
 * form - `mimamori form FILE… [-o DIR]`: the paper 登録届 typed as
 * key: value lines (templates/registration-form.ja.txt) turned into
 * registration documents, checked, validated against the schema and put
 * into incoming/ for intake (or, with -o, into DIR).
 *
 * Reads the forms and the photos they name; writes incoming/ (or DIR)
 * and the audit log. Prints "accepted FILE PATH" or "rejected FILE:
 * REASON" per form.
 *
 * SECURITY: a form is untrusted text typed from paper: at most 1 MiB,
 * valid UTF-8, read by core/kvform.c (known keys only, each once), every
 * value checked by entry_build.c. Reasons name keys, never values.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "entry.h"
#include "../util/clock.h"
#include "../core/kvform.h"
#include "../lib/text.h"
#include "../util/fileio.h"
#include "../util/msg.h"

/* Largest form; the photo is a file of its own. */
#define ENTRY_MAX_FORM ((size_t)1 << 20)

/* The form's file name with .xml for its extension, or form-N.xml. */
static void doc_name(const char *file, int n, struct strbuf *out)
{
	const char *base = path_basename(file), *dot = strrchr(base, '.');

	strbuf_reset(out);
	if (!dot || dot == base)
		dot = base + strlen(base);
	strbuf_addf(out, "%.*s.xml", (int)(dot - base), base);
	if (!name_is_safe(out->buf) || dot == base) {
		strbuf_reset(out);
		strbuf_addf(out, "form-%d.xml", n);
	}
}

/* One form: accepted, rejected (0), or unreadable (-1, reported). */
static int one_form(struct entry_out *out, const char *file, int n)
{
	struct strbuf text = STRBUF_INIT, why = STRBUF_INIT, name = STRBUF_INIT;
	struct strbuf what = STRBUF_INIT;
	char *vals[ENTRY_NKEYS + 1];
	struct node *doc = NULL;
	char *dir;
	const char *body;
	int found, ret = 0;

	strbuf_addf(&what, "form=%d", n);
	if (strbuf_read_file(&text, file, ENTRY_MAX_FORM) < 0) {
		if (errno == EFBIG) {
			strbuf_addf(&why, "larger than %zu bytes", ENTRY_MAX_FORM);
			entry_out_reject(out, file, what.buf, why.buf);
		} else {
			error_errno("cannot read '%s'", file);
			ret = -1;
		}
		goto done;
	}
	if (!text_is_utf8(text.buf, text.len)) {
		entry_out_reject(out, file, what.buf, "not UTF-8 text (save the form as UTF-8)");
		goto done;
	}
	body = text.buf;
	if (text.len >= 3 && !memcmp(body, "\xef\xbb\xbf", 3))
		body += 3;
	found = kvform_parse(body, entry_keys, vals, &why);
	if (found == 0) {
		entry_out_reject(out, file, what.buf, "no fields filled in");
		goto done;
	}
	if (found < 0) {
		entry_out_reject(out, file, what.buf, why.buf);
		goto done;
	}
	dir = path_dirname(file);
	if (entry_build(&out->ctx->cfg, vals, dir, ENTRY_FORM, clock_today(), &doc, &why) < 0) {
		entry_out_reject(out, file, what.buf, why.buf);
	} else {
		doc_name(file, n, &name);
		entry_out_add(out, file, name.buf, doc);
	}
	free(dir);
	kvform_clear(vals, ENTRY_NKEYS);
	node_free(doc);
done:
	strbuf_release(&text);
	strbuf_release(&why);
	strbuf_release(&name);
	strbuf_release(&what);
	return ret;
}

int cmd_form(int argc, char **argv, struct context *ctx)
{
	struct entry_out out;
	const char *dir = NULL;
	int i, n = 0, ret, unreadable = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			dir = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1])
			break;
		else
			n++;
	}
	if (i < argc || !n) {
		fprintf(stderr, "usage: mimamori form FILE... [-o DIR]\n");
		return EX_USAGE;
	}
	entry_out_init(&out, ctx, dir);
	n = 0;
	for (i = 1; i < argc && !out.failed; i++) {
		if (!strcmp(argv[i], "-o")) {
			i++;
			continue;
		}
		if (one_form(&out, argv[i], ++n) < 0)
			unreadable = 1;
	}
	ret = entry_out_finish(&out);
	if (!ret && unreadable)
		ret = EX_NOINPUT;
	return ret;
}
