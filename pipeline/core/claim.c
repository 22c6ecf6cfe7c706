/*
 * claim - claim notes and the claims a killed run left, for every stage
 * that claims its inputs (see claim.h). Reads the stages' work folders;
 * writes nothing itself (the notes go with the stage's own commit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "claim.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

#define ACCEPTED "accepted "

void claim_note_key(struct strbuf *key, const char *stage, const char *token)
{
	strbuf_reset(key);
	strbuf_addf(key, "%s:%s", stage, token);
}

void claim_note_format(const struct claim_note *n, struct strbuf *value)
{
	strbuf_reset(value);
	switch (n->outcome) {
	case CLAIM_ACCEPTED:
		strbuf_addf(value, ACCEPTED "%s", n->ref);
		return;
	}
	msg_panic("claim note of no known outcome");
}

void claim_note_accepted(const char *stage, const char *token, const char *ref,
			 struct strbuf *key, struct strbuf *value)
{
	struct claim_note n = { CLAIM_ACCEPTED, "" };

	if (strlen(ref) >= sizeof(n.ref) || strpbrk(ref, " \t\n"))
		msg_panic("claim note for '%s': bad reference", stage);
	memcpy(n.ref, ref, strlen(ref) + 1);
	claim_note_key(key, stage, token);
	claim_note_format(&n, value);
}

int claim_note_parse(const char *value, struct claim_note *n)
{
	size_t len = strlen(ACCEPTED);

	memset(n, 0, sizeof(*n));
	if (strncmp(value, ACCEPTED, len) || !value[len] ||
	    strlen(value + len) >= sizeof(n->ref) || strpbrk(value + len, " \t\n"))
		return -1;
	n->outcome = CLAIM_ACCEPTED;
	memcpy(n->ref, value + len, strlen(value + len) + 1);
	return 0;
}

int claim_note_find(claim_note_get_fn *get, const void *ctx, const char *stage,
		    const char *token, struct claim_note *n)
{
	struct strbuf key = STRBUF_INIT;
	const char *value;

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
