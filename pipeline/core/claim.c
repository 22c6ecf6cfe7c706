/*
 * claim - claim notes and the claims a killed run left, for every stage
 * that claims its inputs (see claim.h). Reads the stages' work folders;
 * the notes go with the stage's own commit; claim_finish() writes the
 * envelopes a note names and moves or removes the claim.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "claim.h"
#include "queue.h"
#include "../util/base64.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

static const char *const outcomes[] = { "accepted", "rejected", "done" };

/* Notes hold words: no space, no control character. */
static int is_word(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return 0;
	return len > 0;
}

void claim_note_key(struct strbuf *key, const char *stage, const char *token)
{
	strbuf_reset(key);
	strbuf_addf(key, "%s:%s", stage, token);
}

void claim_note_format(const struct claim_note *n, struct strbuf *value)
{
	if ((unsigned)n->outcome >= sizeof(outcomes) / sizeof(outcomes[0]))
		msg_panic("claim note of no known outcome");
	strbuf_reset(value);
	strbuf_addf(value, "%s ", outcomes[n->outcome]);
	if (n->outcome == CLAIM_ACCEPTED) {
		if (!is_word(n->ref, strlen(n->ref)) || strchr(n->detail, '=') ||
		    strpbrk(n->detail, "\t\n"))
			msg_panic("claim note: bad reference or detail");
		strbuf_addstr(value, n->ref);
		if (n->detail[0])
			strbuf_addf(value, " %s", n->detail);
	} else if (n->text.len) {
		base64_encode(n->text.buf, n->text.len, 0, value);
	} else {
		strbuf_addch(value, '-');
	}
}

void claim_note_queue(struct strbuf *value, const char *qid, const void *env, size_t len)
{
	strbuf_addf(value, " %s=", qid);
	base64_encode(env, len, 0, value);
}

void claim_note_accepted(const char *stage, const char *token, const char *ref,
			 struct strbuf *key, struct strbuf *value)
{
	struct claim_note n = CLAIM_NOTE_INIT;

	if (strlen(ref) >= sizeof(n.ref))
		msg_panic("claim note for '%s': bad reference", stage);
	memcpy(n.ref, ref, strlen(ref) + 1);
	claim_note_key(key, stage, token);
	claim_note_format(&n, value);
}

/* The next word of *p (moved past it and one space); its length, 0 at the end. */
static size_t next_word(const char **p, const char **word)
{
	const char *s = *p, *e = strchr(s, ' ');
	size_t len = e ? (size_t)(e - s) : strlen(s);

	*word = s;
	*p = e ? e + 1 : s + len;
	return len;
}

int claim_note_parse(const char *value, struct claim_note *n)
{
	const char *p = value, *w;
	size_t len, i, detail = 0;

	memset(n, 0, sizeof(*n));
	strbuf_init(&n->text, 0);
	n->queued = "";
	len = next_word(&p, &w);
	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (len == strlen(outcomes[i]) && !strncmp(w, outcomes[i], len))
			break;
	if (i == sizeof(outcomes) / sizeof(outcomes[0]) || w[len] != ' ')
		goto bad;
	n->outcome = (enum claim_outcome)i;
	len = next_word(&p, &w);
	if (!is_word(w, len))
		goto bad;
	if (n->outcome == CLAIM_ACCEPTED) {
		if (len >= sizeof(n->ref) || memchr(w, '=', len))
			goto bad;
		memcpy(n->ref, w, len);
		/* DETAIL words, up to the first QID=ENV. */
		while (*p && !memchr(p, '=', strcspn(p, " "))) {
			len = next_word(&p, &w);
			if (!is_word(w, len) || detail + len + 1 >= sizeof(n->detail))
				goto bad;
			if (detail)
				n->detail[detail++] = ' ';
			memcpy(n->detail + detail, w, len);
			detail += len;
		}
	} else if (!(len == 1 && w[0] == '-') && base64_decode(w, len, 1 << 20, &n->text) < 0) {
		goto bad;
	}
	/* The rest: QID=ENV words only. */
	n->queued = p;
	while (*p) {
		len = next_word(&p, &w);
		if (!is_word(w, len) || !memchr(w, '=', len) || w[0] == '=')
			goto bad;
	}
	return 0;
bad:
	claim_note_release(n);
	return -1;
}

void claim_note_release(struct claim_note *n)
{
	strbuf_release(&n->text);
	n->queued = "";
}

int claim_note_find(claim_note_get_fn *get, const void *ctx, const char *stage,
		    const char *token, struct claim_note *n)
{
	struct strbuf key = STRBUF_INIT;
	const char *value;

	memset(n, 0, sizeof(*n));
	strbuf_init(&n->text, 0);
	n->queued = "";
	claim_note_key(&key, stage, token);
	value = get(ctx, key.buf);
	if (!value)
		value = get(ctx, token);   /* written before the notes were typed */
	strbuf_release(&key);
	return value && !claim_note_parse(value, n);
}

void claim_rel(struct strbuf *rel, const char *workdir, const char *token, const char *name)
{
	strbuf_reset(rel);
	strbuf_addf(rel, "%s/%s-%s", workdir, token, name);
}

size_t claim_left_list(const struct spool *sp, const char *workdir, struct claim_left **v)
{
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(sp, workdir);
	size_t i, nr = 0, alloc = 0;

	*v = NULL;
	dir_list(dir, &names, 1);
	for (i = 0; i < names.nr; i++) {
		char token[SPOOL_TOKEN_LEN + 1];
		const char *name = spool_claim_name(names.items[i], token);

		if (!name)
			continue;
		ALLOC_GROW(*v, nr + 1, alloc);
		memcpy((*v)[nr].token, token, sizeof(token));
		(*v)[nr].name = xstrdup(name);
		(*v)[nr].noted = 0;
		nr++;
	}
	strlist_clear(&names);
	free(dir);
	return nr;
}

void claim_left_free(struct claim_left *v, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		free(v[i].name);
	free(v);
}

int claim_finish(const struct spool *sp, const char *rel, const char *name,
		 const struct claim_note *n)
{
	if (queue_finish_envelopes(sp, n->queued) < 0)
		return -1;
	if (n->outcome != CLAIM_REJECTED) {
		spool_claim_done(sp, rel);
		return 0;
	}
	if (spool_exists(sp, rel) && spool_reject(sp, rel, name, n->text.buf, NULL) < 0)
		return -1;
	return 0;
}

void claim_recover(const struct claim_recovery *r, struct claim_left *left, size_t nr,
		   int pass)
{
	struct strbuf key = STRBUF_INIT;
	size_t i;

	for (i = 0; i < nr && !r->stop(r->ctx); i++) {
		struct claim_note n;
		const char *note;

		if (pass == 1) {
			if (!left[i].noted)
				r->redo(r->ctx, &left[i]);
			continue;
		}
		claim_note_key(&key, r->stage, left[i].token);
		note = r->get(r->store, key.buf);
		left[i].noted = note != NULL;
		if (!note)
			continue;
		if (claim_note_parse(note, &n) < 0) {
			/* Ours, sealed: never so. Left claimed, for a person to look at. */
			error("%s: the note of claim %s-%s cannot be read; left in place",
			      r->stage, left[i].token, left[i].name);
			continue;
		}
		r->finished(r->ctx, &left[i], &n);
		claim_note_release(&n);
	}
	strbuf_release(&key);
}
