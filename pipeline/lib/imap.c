/*
 * imap - the IMAP client on libetpan (the only module including its IMAP
 * headers): connect, LOGIN, SELECT, UID SEARCH UNSEEN UNDELETED, UID FETCH
 * with a size cap, UID STORE of flags, (UID) EXPUNGE, IDLE, LOGOUT. It reads
 * from the network and writes nothing: `fetch` decides where bytes go.
 *
 * SECURITY: talks to a server that relays mail from anyone. Message bytes
 * are only copied, never interpreted here; every fetch asks for at most
 * max + 1 bytes (a partial BODY.PEEK[]<0.N>), so a server that lies about
 * a message's size cannot make us hold more than that (libetpan itself
 * reads each literal whole, so a hostile server can still make it
 * allocate: the server is the organisation's own). The password is
 * passed to libetpan and not kept.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <libetpan/libetpan.h>
#include <libetpan/uidplus.h>
#include "imap.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

struct imap {
	mailimap *s;
	int broken;   /* the connection is gone: no LOGOUT */
};

/* Turn a libetpan result into our class, with a reason. */
static int status(struct imap *im, int r, const char *what, struct strbuf *why)
{
	const char *resp = im && im->s ? im->s->imap_response : NULL;

	switch (r) {
	case MAILIMAP_NO_ERROR:
	case MAILIMAP_NO_ERROR_AUTHENTICATED:
	case MAILIMAP_NO_ERROR_NON_AUTHENTICATED:
		return IMAP_OK;
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_PARSE:
	case MAILIMAP_ERROR_FATAL:
	case MAILIMAP_ERROR_MEMORY:
	case MAILIMAP_ERROR_BAD_STATE:
		if (im)
			im->broken = 1;
		strbuf_addf(why, "%s: connection lost (%s)", what,
			    r == MAILIMAP_ERROR_STREAM ? "closed or timed out" :
			    r == MAILIMAP_ERROR_PARSE ? "unreadable response" :
			    r == MAILIMAP_ERROR_BAD_STATE ? "bad state" : "fatal error");
		return IMAP_BROKEN;
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
		if (im)
			im->broken = 1;
		strbuf_addf(why, "%s: connection refused", what);
		return IMAP_UNAVAILABLE;
	default:
		strbuf_addf(why, "%s: refused by the server", what);
		if (resp && *resp) {
			size_t i, n = strlen(resp);

			strbuf_addstr(why, ": ");
			/* the server's words, without control characters */
			for (i = 0; i < n && i < 200; i++)
				strbuf_addch(why, (unsigned char)resp[i] < 0x20 ? ' ' : resp[i]);
		}
		return IMAP_REFUSED;
	}
}

/*
 * libetpan (1.9.4) treats a read of 0 bytes (the server closed the
 * connection) inside a literal as "no data yet" and spins forever. Every
 * session's socket driver is replaced by a copy whose read turns end of
 * file into an error: for IMAP, an end of file is always one.
 */
static mailstream_low_driver eof_driver;
static ssize_t (*socket_read)(mailstream_low *, void *, size_t);

static ssize_t read_eof_is_error(mailstream_low *s, void *buf, size_t count)
{
	ssize_t r = socket_read(s, buf, count);

	return r == 0 ? -1 : r;
}

static void guard_eof(mailimap *s)
{
	mailstream_low *low;

	if (!s->imap_stream || !(low = s->imap_stream->low) || !low->driver)
		return;
	if (!socket_read) {
		eof_driver = *low->driver;
		socket_read = eof_driver.mailstream_read;
		eof_driver.mailstream_read = read_eof_is_error;
	}
	if (low->driver->mailstream_read == socket_read)
		low->driver = &eof_driver;
}

int imap_connect(struct imap **out, const char *host, int port, int timeout,
		 struct strbuf *why)
{
	struct imap *im = xcalloc(1, sizeof(*im));
	int r;

	signal(SIGPIPE, SIG_IGN);
	im->s = mailimap_new(0, NULL);
	if (!im->s)
		msg_fatal("out of memory");
	mailimap_set_timeout(im->s, timeout);
	r = mailimap_socket_connect(im->s, host, (uint16_t)port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR) {
		strbuf_addf(why, "cannot connect to %s:%d: %s", host, port,
			    r == MAILIMAP_ERROR_CONNECTION_REFUSED ? "connection refused" :
			    r == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION ? "the server turned us away" :
			    "no greeting");
		im->broken = 1;
		imap_close(im);
		*out = NULL;
		return IMAP_UNAVAILABLE;
	}
	guard_eof(im->s);
	*out = im;
	return IMAP_OK;
}

int imap_login(struct imap *im, const char *user, const char *password, struct strbuf *why)
{
	int r = mailimap_login(im->s, user, password);

	return status(im, r, "login", why);
}

int imap_select(struct imap *im, const char *mailbox, uint32_t *uidvalidity,
		struct strbuf *why)
{
	int r = mailimap_select(im->s, mailbox);
	int ret = status(im, r, "select", why);

	if (ret)
		return ret;
	if (!im->s->imap_selection_info || !im->s->imap_selection_info->sel_uidvalidity) {
		strbuf_addf(why, "select: the server gave no UIDVALIDITY for '%s'", mailbox);
		return IMAP_REFUSED;
	}
	*uidvalidity = im->s->imap_selection_info->sel_uidvalidity;
	return IMAP_OK;
}

static struct mailimap_search_key *simple_key(int type)
{
	return mailimap_search_key_new(type, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
				       NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL,
				       NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL);
}

static int cmp_msg(const void *a, const void *b)
{
	uint32_t x = ((const struct imap_msg *)a)->uid, y = ((const struct imap_msg *)b)->uid;

	return x < y ? -1 : x > y;
}

/* The UID and RFC822.SIZE of one FETCH response. */
static void msg_att_uid_size(struct mailimap_msg_att *att, uint32_t *uid, size_t *size)
{
	clistiter *it;

	for (it = clist_begin(att->att_list); it; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);

		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
			*uid = item->att_data.att_static->att_data.att_uid;
		else if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
			*size = item->att_data.att_static->att_data.att_rfc822_size;
	}
}

int imap_unseen(struct imap *im, struct imap_msg **msgs, size_t *nr, struct strbuf *why)
{
	struct mailimap_search_key *key;
	struct mailimap_set *set = NULL;
	struct mailimap_fetch_type *ft = NULL;
	clist *found = NULL, *fetched = NULL;
	clistiter *it;
	size_t n = 0, alloc = 0;
	int r, ret;

	*msgs = NULL;
	*nr = 0;
	key = mailimap_search_key_new_multiple_empty();
	mailimap_search_key_multiple_add(key, simple_key(MAILIMAP_SEARCH_KEY_UNSEEN));
	mailimap_search_key_multiple_add(key, simple_key(MAILIMAP_SEARCH_KEY_UNDELETED));
	r = mailimap_uid_search(im->s, NULL, key, &found);
	mailimap_search_key_free(key);
	if ((ret = status(im, r, "search", why)))
		return ret;
	if (clist_isempty(found)) {
		mailimap_search_result_free(found);
		return IMAP_OK;
	}
	set = mailimap_set_new_empty();
	for (it = clist_begin(found); it; it = clist_next(it))
		mailimap_set_add_single(set, *(uint32_t *)clist_content(it));
	mailimap_search_result_free(found);

	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
	r = mailimap_uid_fetch(im->s, set, ft, &fetched);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if ((ret = status(im, r, "fetch sizes", why)))
		return ret;
	for (it = clist_begin(fetched); it; it = clist_next(it)) {
		uint32_t uid = 0;
		size_t size = 0;

		msg_att_uid_size(clist_content(it), &uid, &size);
		if (!uid)
			continue;
		ALLOC_GROW(*msgs, n + 1, alloc);
		(*msgs)[n].uid = uid;
		(*msgs)[n].size = size;
		n++;
	}
	mailimap_fetch_list_free(fetched);
	if (n)
		qsort(*msgs, n, sizeof(**msgs), cmp_msg);
	*nr = n;
	return IMAP_OK;
}

int imap_fetch(struct imap *im, uint32_t uid, int header_only, size_t max,
	       struct strbuf *out, struct strbuf *why)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_section *sec = header_only ? mailimap_section_new_header()
						   : mailimap_section_new(NULL);
	clist *fetched = NULL;
	clistiter *it, *jt;
	int r, ret, found = 0;

	strbuf_setlen(out, 0);
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
		ft, mailimap_fetch_att_new_body_peek_section_partial(sec, 0, (uint32_t)(max + 1)));
	r = mailimap_uid_fetch(im->s, set, ft, &fetched);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if ((ret = status(im, r, "fetch", why)))
		return ret;
	for (it = clist_begin(fetched); it && !found; it = clist_next(it)) {
		struct mailimap_msg_att *att = clist_content(it);
		uint32_t got = 0;
		size_t dummy = 0;

		msg_att_uid_size(att, &got, &dummy);
		if (got != uid)
			continue;
		for (jt = clist_begin(att->att_list); jt; jt = clist_next(jt)) {
			struct mailimap_msg_att_item *item = clist_content(jt);
			struct mailimap_msg_att_body_section *bs;

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
			    item->att_data.att_static->att_type != MAILIMAP_MSG_ATT_BODY_SECTION)
				continue;
			bs = item->att_data.att_static->att_data.att_body_section;
			if (bs && bs->sec_body_part) {
				size_t len = bs->sec_length > max + 1 ? max + 1 : bs->sec_length;

				strbuf_add(out, bs->sec_body_part, len);
			}
			found = 1;
		}
	}
	mailimap_fetch_list_free(fetched);
	if (!found) {
		strbuf_addf(why, "fetch: the server sent no message for UID %lu (expunged meanwhile?)",
			    (unsigned long)uid);
		return IMAP_REFUSED;
	}
	return IMAP_OK;
}

int imap_flag(struct imap *im, uint32_t uid, int deleted, struct strbuf *why)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa;
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r;

	mailimap_flag_list_add(fl, mailimap_flag_new_seen());
	if (deleted)
		mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	r = mailimap_uid_store(im->s, set, sa);
	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);
	return status(im, r, "store flags", why);
}

int imap_expunge(struct imap *im, const uint32_t *uids, size_t nr, struct strbuf *why)
{
	struct mailimap_capability_data *cap = NULL;
	struct mailimap_set *set;
	size_t i;
	int r;

	if (!nr)
		return IMAP_OK;
	r = mailimap_capability(im->s, &cap);
	if (r == MAILIMAP_NO_ERROR)
		mailimap_capability_data_free(cap);
	else if (status(im, r, "capability", why) == IMAP_BROKEN)
		return IMAP_BROKEN;
	strbuf_setlen(why, 0);
	if (!mailimap_has_uidplus(im->s))
		return status(im, mailimap_expunge(im->s), "expunge", why);
	set = mailimap_set_new_empty();
	for (i = 0; i < nr; i++)
		mailimap_set_add_single(set, uids[i]);
	r = mailimap_uid_expunge(im->s, set);
	mailimap_set_free(set);
	return status(im, r, "uid expunge", why);
}

int imap_idle_start(struct imap *im, struct strbuf *why)
{
	struct mailimap_capability_data *cap = NULL;
	int r = mailimap_capability(im->s, &cap);

	if (r == MAILIMAP_NO_ERROR)
		mailimap_capability_data_free(cap);
	else if (status(im, r, "capability", why) == IMAP_BROKEN)
		return IMAP_BROKEN;
	strbuf_setlen(why, 0);
	if (!mailimap_has_idle(im->s)) {
		strbuf_addstr(why, "the server does not offer IDLE");
		return IMAP_REFUSED;
	}
	return status(im, mailimap_idle(im->s), "idle", why);
}

int imap_idle_fd(struct imap *im)
{
	return mailimap_idle_get_fd(im->s);
}

int imap_idle_done(struct imap *im, struct strbuf *why)
{
	return status(im, mailimap_idle_done(im->s), "idle done", why);
}

void imap_close(struct imap *im)
{
	if (!im)
		return;
	if (im->s) {
		if (!im->broken)
			mailimap_logout(im->s);
		mailimap_free(im->s);
	}
	free(im);
}
