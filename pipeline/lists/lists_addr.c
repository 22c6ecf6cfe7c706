/*
 * lists_addr - a list's command addresses (ID+subscribe@DOMAIN …, from
 * the list's id and its address's domain), its List-Id, the tokens of
 * confirmations and probes, and the members who get a list's alerts
 * (the config's <member> lines and the member store's active members).
 *
 * SECURITY: lists_command() reads recipient addresses that came with
 * mail from anyone: it only compares them with the config and copies a
 * token made of hex digits; a VERP address is taken only when it can
 * stand on an envelope (lists_address_ok()).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lists.h"
#include "../core/sealidx.h"
#include "../util/hashmap.h"
#include "../util/xalloc.h"

const char *lists_domain(const struct list *l)
{
	const char *at = strrchr(l->address, '@');

	return at ? at + 1 : l->address;
}

void lists_address(const struct list *l, const char *what, struct strbuf *out)
{
	strbuf_addf(out, "%s+%s@%s", l->id, what, lists_domain(l));
}

void lists_list_id(const struct list *l, struct strbuf *out)
{
	strbuf_addf(out, "%s.%s", l->id, lists_domain(l));
}

int lists_address_ok(const char *s)
{
	const char *at = s ? strchr(s, '@') : NULL;
	size_t i, n = s ? strlen(s) : 0;

	if (!at || at == s || !at[1] || strchr(at + 1, '@') || n > 254)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c <= ' ' || c >= 0x7f || strchr("<>()[]\\,;:\"", c))
			return 0;
	}
	return 1;
}

static int is_hex_token(const char *s, size_t n)
{
	size_t i;

	if (n != LISTS_TOKEN_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	return 1;
}

int lists_command(const struct config *cfg, const char *rcpt, struct lcommand *c)
{
	const char *at = rcpt ? strrchr(rcpt, '@') : NULL, *plus;
	size_t i, idlen;

	memset(c, 0, sizeof(*c));
	if (!at || !(plus = memchr(rcpt, '+', at - rcpt)))
		return -1;
	idlen = plus - rcpt;
	for (i = 0; i < cfg->nr_lists; i++) {
		const struct list *l = &cfg->lists[i];

		if (strlen(l->id) == idlen && !strncasecmp(l->id, rcpt, idlen) &&
		    !strcasecmp(at + 1, lists_domain(l))) {
			c->list = l;
			break;
		}
	}
	if (!c->list)
		return -1;
	{
		const char *w = plus + 1;
		size_t n = at - w;

		if (n == 9 && !strncasecmp(w, "subscribe", 9)) {
			c->cmd = LC_SUBSCRIBE;
		} else if (n == 11 && !strncasecmp(w, "unsubscribe", 11)) {
			c->cmd = LC_UNSUBSCRIBE;
		} else if (n == 7 && !strncasecmp(w, "bounces", 7)) {
			c->cmd = LC_BOUNCES;
		} else if (n > 8 && !strncasecmp(w, "bounces+", 8)) {
			/* XVERP: ID+bounces+USER=HOST@DOMAIN (the last '=' is the '@') */
			struct strbuf v = STRBUF_INIT;
			const char *eq = w + n - 1;

			while (eq > w + 8 && *eq != '=')
				eq--;
			if (*eq != '=')
				return -1;
			strbuf_add(&v, w + 8, eq - (w + 8));
			strbuf_addch(&v, '@');
			strbuf_add(&v, eq + 1, at - eq - 1);
			if (!lists_address_ok(v.buf)) {
				strbuf_release(&v);
				return -1;
			}
			c->cmd = LC_BOUNCES;
			c->verp = strbuf_detach(&v, NULL);
		} else if (n > 8 && !strncasecmp(w, "confirm-", 8) && is_hex_token(w + 8, n - 8)) {
			c->cmd = LC_CONFIRM;
			memcpy(c->token, w + 8, LISTS_TOKEN_LEN);
		} else if (n > 6 && !strncasecmp(w, "probe-", 6) && is_hex_token(w + 6, n - 6)) {
			c->cmd = LC_PROBE;
			memcpy(c->token, w + 6, LISTS_TOKEN_LEN);
		} else {
			return -1;
		}
	}
	return 0;
}

void lcommand_release(struct lcommand *c)
{
	free(c->verp);
	c->verp = NULL;
}

void lists_token(const unsigned char *key, const char *kind, const char *list, char action,
		 const char *address, long day, char *token)
{
	struct strbuf msg = STRBUF_INIT;
	char hex[65];
	const char *p;

	strbuf_addf(&msg, "%s", kind);
	strbuf_addch(&msg, '\0');
	strbuf_addstr(&msg, list);
	strbuf_addch(&msg, '\0');
	strbuf_addch(&msg, action);
	strbuf_addch(&msg, '\0');
	for (p = address; *p; p++)
		strbuf_addch(&msg, tolower((unsigned char)*p));
	strbuf_addch(&msg, '\0');
	strbuf_addf(&msg, "%ld", day);
	sealidx_keyed_hex(key, &msg, hex);
	memcpy(token, hex, LISTS_TOKEN_LEN);
	token[LISTS_TOKEN_LEN] = '\0';
	strbuf_release(&msg);
}

void lists_members_of(const struct config *cfg, struct lstore *st, const struct list *l,
		      long today, struct lmembers *out)
{
	struct hashmap seen = HASHMAP_INIT;
	struct strlist lower = STRLIST_INIT;
	size_t i;

	for (i = 0; i < l->nr_members; i++) {
		struct member *m = &l->members[i];

		if (l->audience == LIST_COMMUNITY && !member_pledged(m, today))
			continue;
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr] = *m;
		out->v[out->nr].address = xstrdup(m->address);
		out->v[out->nr].name = xstrdup(m->name ? m->name : "");
		out->nr++;
	}
	for (i = 0; i < out->nr; i++) {
		char *k = xstrdup(out->v[i].address), *p;

		for (p = k; *p; p++)
			*p = tolower((unsigned char)*p);
		strlist_add(&lower, k);
		free(k);
		hashmap_put(&seen, lower.items[lower.nr - 1], out->v + i);
	}
	for (i = 0; st && i < lstore_count(st); i++) {
		const struct lmember *m = lstore_member(st, i);
		struct strbuf k = STRBUF_INIT;
		const char *p;

		if (strcmp(m->list, l->id) || lstore_shown(cfg, m, today) != LMS_ACTIVE)
			continue;
		for (p = m->address; *p; p++)
			strbuf_addch(&k, tolower((unsigned char)*p));
		if (!hashmap_get(&seen, k.buf)) {
			ALLOC_GROW(out->v, out->nr + 1, out->alloc);
			out->v[out->nr].address = xstrdup(m->address);
			out->v[out->nr].name = xstrdup(m->name);
			out->v[out->nr].pledge = m->pledge;
			out->v[out->nr].iso2022jp = m->iso2022jp;
			out->nr++;
			strlist_add(&lower, k.buf);
			hashmap_put(&seen, lower.items[lower.nr - 1], (void *)1);
		}
		strbuf_release(&k);
	}
	hashmap_clear(&seen);
	strlist_clear(&lower);
}

void lists_members_release(struct lmembers *m)
{
	size_t i;

	for (i = 0; i < m->nr; i++) {
		free(m->v[i].address);
		free(m->v[i].name);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}
