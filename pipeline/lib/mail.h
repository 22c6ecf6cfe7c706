#ifndef MAIL_H
#define MAIL_H
#include <stddef.h>
#include <time.h>
#include "../util/strbuf.h"

/*
 * Mail messages: the libetpan wrapper for parsing (the only module that
 * includes <libetpan/...> for MIME) and the composer of every mail the
 * program sends.
 *
 * SECURITY: mail_parse() reads mail from anyone. It only takes messages
 * apart: it never decides whether a signature counts (the caller checks
 * the exact signed bytes it returns with lib/gpg.c). The composer never
 * lets CR, LF or NUL from a value reach a header.
 *
 * Functions return 0, or -1 with a one-line reason in `why` (no prefix).
 */

/* Largest request mail read (mimamori-dispatch(1)). */
#define MAIL_MAX_SIZE ((size_t)1 << 20)

/* Caps on a header section, checked before libetpan sees it. */
#define MAIL_MAX_FIELD   ((size_t)100 << 10)  /* one field, unfolded */
#define MAIL_MAX_HEADER  ((size_t)256 << 10)  /* the whole header section */
#define MAIL_MAX_NESTING 32                   /* parentheses in a field */

/*
 * Check the header section of a message or MIME entity (its lines up to
 * the first empty line, or all of buf when there is none) before any
 * parser reads it: -1 with "header too large: ..." when a field is over
 * MAIL_MAX_FIELD bytes unfolded or the section over MAIL_MAX_HEADER
 * bytes, "header nested too deeply: ..." when parentheses nest deeper
 * than MAIL_MAX_NESTING in one field. Depth is counted as RFC 5322 reads
 * comments: not inside quoted strings, and a backslash escapes the next
 * character in both. mail_parse() and mail_entity_content() run it on
 * every entity they take apart (libetpan parses comments recursively).
 */
int mail_header_check(const char *buf, size_t len, struct strbuf *why);

enum mail_kind {
	MAIL_PLAIN,       /* neither signed nor encrypted (PGP/MIME) */
	MAIL_SIGNED,      /* multipart/signed; protocol="application/pgp-signature" */
	MAIL_ENCRYPTED,   /* multipart/encrypted; protocol="application/pgp-encrypted" */
};

/* A message (or a MIME entity) taken apart. */
struct mail_in {
	char *from;            /* From: address, decoded; for logs only, never replied to */
	char *message_id;      /* without <>, NULL when absent */
	char *subject;         /* decoded to UTF-8, NULL when absent */
	enum mail_kind kind;
	/*
	 * MAIL_SIGNED: the first part exactly as it stands between the
	 * boundaries, with CRLF line ends (RFC 3156 §5: what was signed),
	 * and the application/pgp-signature part's content.
	 */
	struct strbuf signed_part;
	struct strbuf signature;
	/* MAIL_ENCRYPTED: the application/octet-stream part's content. */
	struct strbuf encrypted;
	/*
	 * MAIL_PLAIN: 1 when the text/plain body begins (after white space)
	 * with "-----BEGIN PGP SIGNED MESSAGE-----" (inline PGP).
	 */
	int inline_pgp;
};
void mail_in_init(struct mail_in *m);
void mail_in_release(struct mail_in *m);

/*
 * Take apart a message or a MIME entity (e.g. the plaintext of an
 * encrypted part, which may itself be multipart/signed) of at most
 * MAIL_MAX_SIZE bytes. Anything that is not a well-formed PGP/MIME
 * signed or encrypted structure at the top is MAIL_PLAIN.
 */
int mail_parse(const char *buf, size_t len, struct mail_in *m, struct strbuf *why);

/*
 * What a (signed) entity says: its text/plain parts, in the order they
 * stand (transfer encoding undone, converted from their charset to UTF-8,
 * CRLF turned into LF; format=flowed is left to the caller, which knows
 * which lines may not be joined), and, when present, the content of an
 * attachment of type application/xml or text/xml (raw bytes). At most
 * MAIL_MAX_TEXTS text parts are kept.
 */
#define MAIL_MAX_TEXTS 16
struct mail_text {
	struct strbuf text;
	int attachment;        /* Content-Disposition: attachment */
	int flowed;            /* format=flowed (RFC 3676) */
	int delsp;             /* with delsp=yes */
};
struct mail_content {
	struct mail_text *texts;
	size_t nr_texts, alloc_texts;
	struct strbuf xml;
};
void mail_content_init(struct mail_content *c);
void mail_content_release(struct mail_content *c);
int mail_entity_content(const char *buf, size_t len, struct mail_content *c,
			struct strbuf *why);

/*
 * Undo RFC 3676 format=flowed on the LF-ended text t of a flowed part,
 * in place: the leading space added by space-stuffing is removed, and a
 * line ending in a space (other than the signature separator "-- ")
 * continues on the next line (the space itself dropped with delsp=yes),
 * unless the next line is "-- " or fresh(line, len, data) says it begins
 * something of its own (fresh may be NULL).
 */
void mail_unflow(struct mail_text *t,
		 int (*fresh)(const char *line, size_t len, void *data), void *data);

/*
 * A delivery status notification (RFC 3464, multipart/report;
 * report-type=delivery-status) taken apart: the content of its
 * message/delivery-status part (transfer encoding undone; per-message
 * and per-recipient field groups as they stand) and the Message-ID of the
 * message it returns (its message/rfc822 or text/rfc822-headers part),
 * when there is one. -1 with a reason when buf is not such a report.
 */
struct mail_report {
	struct strbuf status;
	char *returned_id;     /* without <>, NULL when not found */
};
void mail_report_init(struct mail_report *r);
void mail_report_release(struct mail_report *r);
int mail_report_parse(const char *buf, size_t len, struct mail_report *r, struct strbuf *why);

/*
 * The first top-level header field called name (case does not matter),
 * unfolded and trimmed, into out. 0; 1 when there is none; -1 (why)
 * when the header section is over the caps of mail_header_check().
 */
int mail_header_get(const char *buf, size_t len, const char *name, struct strbuf *out,
		    struct strbuf *why);

/* Headers of a mail to compose. Every value is UTF-8. */
struct mail_out {
	const char *from_address;   /* From: */
	const char *from_name;      /* NULL: address only */
	const char *to;             /* To: exactly as given, e.g. a list address or
				       "undisclosed-recipients:;" */
	const char *subject;
	const char *message_id;     /* without <>; NULL: a new one is made */
	const char *in_reply_to;    /* without <>; NULL: none */
	const char *references;     /* without <>; NULL: none */
	time_t date;                /* 0: now (clock_now()) */
	int iso2022jp;              /* subject and body in ISO-2022-JP */
	int auto_submitted;         /* Auto-Submitted: auto-generated */
	const char *reply_to;       /* Reply-To: an address; NULL: none */
	const char *list_id;        /* List-Id: <VALUE> (RFC 2919); NULL: none */
	const char *list_unsubscribe; /* List-Unsubscribe: <mailto:ADDRESS> (RFC 2369) */
};

/*
 * A text/plain message (Date, Message-ID, MIME-Version, Content-Type with
 * the charset, Content-Transfer-Encoding: 8bit for UTF-8, 7bit for
 * ISO-2022-JP), CRLF line ends. The subject is RFC 2047 encoded when it
 * is not plain ASCII. -1 when a header value holds CR, LF or NUL, or when
 * iso2022jp is asked for a text it cannot carry. The Message-ID used is
 * appended to msgid when msgid is not NULL.
 */
int mail_compose_text(const struct mail_out *h, const char *body, struct strbuf *out,
		      struct strbuf *msgid, struct strbuf *why);

/*
 * A PGP/MIME message (RFC 3156) whose text/plain UTF-8 body is signed by
 * signer_fpr (multipart/signed) and, when encrypt_to (NULL-terminated
 * fingerprints) is not NULL, then encrypted to exactly those keys
 * (multipart/encrypted). Uses lib/gpg.c with the keyring it was opened on.
 */
int mail_compose_pgp(const struct mail_out *h, const char *body, const char *signer_fpr,
		     const char *const *encrypt_to, struct strbuf *out, struct strbuf *msgid,
		     struct strbuf *why);

/*
 * RFC 2047 "B" encoding of a UTF-8 header value in the given charset
 * ("UTF-8" or "ISO-2022-JP"), folded so that no line is longer than 76
 * characters; an encoded word never splits a character (and, for
 * ISO-2022-JP, every word returns to ASCII). `used` is how many
 * characters of the first line are taken already ("Subject: " is 9).
 * ASCII without specials is appended as it is.
 */
int mail_encode_header(const char *value, const char *charset, size_t used,
		       struct strbuf *out);
/* Decode RFC 2047 encoded words in a header value to UTF-8. */
int mail_decode_header(const char *value, struct strbuf *out);

/* Whether s can be put in a header: no CR, LF or NUL (1) or not (0). */
int mail_header_safe(const char *s);

#endif
