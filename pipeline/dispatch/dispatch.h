#ifndef DISPATCH_H
#define DISPATCH_H
#include "../core/config.h"
#include "../util/node.h"
#include "../util/strbuf.h"

/*
 * The dispatch stage's parts: form.c (the key: value form of a request
 * into <request> XML), render.c (mails from templates and the alert view
 * only), dispatch.c (the loop, claims, the commit, crash recovery),
 * dispatch_auth.c, dispatch_checks.c, dispatch_compose.c,
 * dispatch_reply.c and dispatch_widen.c (their shared structures in
 * dispatch_int.h).
 */

/*
 * Parse the signed text of a request: "key: value" lines, continuation
 * lines starting with a space or tab (joined with one space), '#' comment
 * lines and blank lines ignored. Keys are those of schemas/request.xsd.
 * On success returns 0 with a new <request> tree in *req (elements in the
 * schema's order). Otherwise -1 with every problem appended to why,
 * separated by "; " (unknown keys, duplicates, lines without a key).
 */
int form_parse(const char *text, struct node **req, struct strbuf *why);

/*
 * Read the form of a request from the text parts of its signed entity
 * (mail_entity_content()): format=flowed undone, without joining a line
 * onto one that begins with a form key or '#'; the form is in the first
 * inline text part that holds a form line (a form key, then a colon),
 * else in the first attachment that does. The greeting before the first
 * form line and the signature block (the line "-- " and everything after
 * it) are left out; *ignored is how many of their lines were not blank or
 * '#' lines. Then as form_parse().
 */
struct mail_content;
int form_read(struct mail_content *c, struct node **req, size_t *ignored,
	      struct strbuf *why);

/* The keys a form may hold, NULL-terminated, in the schema's order. */
extern const char *const form_keys[];

/* What a template may be given: never the record. */
struct render_input {
	const struct node *view;      /* view_make(record, AUDIENCE_ALERT, today) */
	const struct node *request;   /* the validated <request> */
	const struct agency *police;  /* name and phone from the config */
	const char *alert_id;
	int exercise;
	int widened;                  /* the area was widened to every ward */
};

/*
 * Render template NAME (templates/NAME.txt, or NAME.en.txt for lang
 * "en") found in the installation folder home: its first line is
 * "Subject: …", then a blank line, then the body. Placeholders {{key}}
 * are replaced by values from in (a missing value renders as "不明" /
 * "unknown"); lines holding only placeholders whose values are all
 * missing are left out when they start with "?". Values never carry a
 * control character (CR, LF, NUL … become spaces).
 */
int render_mail(const char *home, const char *name, const char *lang,
		const struct render_input *in, struct strbuf *subject, struct strbuf *body,
		struct strbuf *why);

/* Render with plain key/value pairs (replies), NULL-terminated pairs. */
int render_pairs(const char *home, const char *name, const char *lang,
		 const char *const *pairs, struct strbuf *subject, struct strbuf *body,
		 struct strbuf *why);

/*
 * Widen the open alerts that are due (<escalation after=…/>) and close
 * held alerts past their approval window, as dispatch does after its
 * inbox: for expire. 0, or an exit code (74 disk, 69 gpg-agent, 78).
 */
struct context;
int dispatch_widen_cmd(struct context *ctx);

#endif
