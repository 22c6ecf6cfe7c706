/*
 * fuzz_header - the header encoder (lib/mail_compose.c) and decoder (lib/mail_parse.c): every
 * alert's Subject goes through mail_encode_header(), and mail_decode_header()
 * reads the Subject of requests from anyone.
 *
 * The input: one byte giving how much of the first line is taken already
 * (0..39; "Subject: " is 9), then the header value.
 *
 * Invariants (FUZZ_CHECK): decoding never fails on any input; a value with
 * CR or LF is refused by the encoder (mail_header_safe), and no encoded
 * header holds a bare CR or LF; a UTF-8 value encodes, in UTF-8, into lines
 * of at most 76 characters (the first counting what was taken) that
 * decode back to the value (up to runs of spaces and tabs, which the
 * decoder, reading the value as a phrase, folds into one); in ISO-2022-JP, when the text can be
 * carried, the lines are short and 7-bit and decode without failing.
 */
#include <string.h>
#include "fuzz.h"
#include "lib/mail.h"
#include "lib/text.h"

/* Lines of at most 76 characters, the first with `used` taken, joined by
 * CRLF SP only; returns the value unfolded (CRLF removed) in unfolded. */
static void check_lines(const struct strbuf *enc, size_t used, int ascii_only,
			struct strbuf *unfolded)
{
	const char *p = enc->buf, *end = enc->buf + enc->len;
	size_t col = used;

	for (; p < end; p++) {
		if (*p == '\r') {
			FUZZ_CHECK(p + 2 < end && p[1] == '\n' && p[2] == ' ');
			p++;
			col = 0;
			continue;
		}
		FUZZ_CHECK(*p != '\n');
		FUZZ_CHECK(!ascii_only || ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f));
		strbuf_addch(unfolded, *p);
		col++;
		FUZZ_CHECK(col <= 76);
	}
}

/* s with every run of spaces and tabs made one space, none at the ends. */
static void squeeze(const char *s, struct strbuf *out)
{
	int space = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\t') {
			space = out->len > 0;
			continue;
		}
		if (space)
			strbuf_addch(out, ' ');
		space = 0;
		strbuf_addch(out, *s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf value = STRBUF_INIT, enc = STRBUF_INIT, dec = STRBUF_INIT;
	struct strbuf unfolded = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	size_t used;

	fuzz_setup();
	if (size < 1)
		return 0;
	used = data[0] % 40;
	strbuf_add(&value, data + 1, size - 1);

	/* The decoder takes anything (NUL ends the value). */
	mail_decode_header(value.buf, &dec);

	if (!mail_header_safe(value.buf)) {
		FUZZ_CHECK(strchr(value.buf, '\r') || strchr(value.buf, '\n'));
		FUZZ_CHECK(mail_encode_header(value.buf, "UTF-8", used, &enc) < 0);
		goto out;
	}
	if (strlen(value.buf) != value.len || !text_is_utf8(value.buf, value.len)) {
		FUZZ_CHECK(mail_encode_header(value.buf, "UTF-8", used, &enc) < 0 ||
			   strlen(value.buf) != value.len);
		goto out;
	}
	FUZZ_CHECK(mail_encode_header(value.buf, "UTF-8", used, &enc) == 0);
	check_lines(&enc, used, 0, &unfolded);
	strbuf_reset(&dec);
	FUZZ_CHECK(mail_decode_header(unfolded.buf, &dec) == 0);
	strbuf_reset(&a);
	strbuf_reset(&b);
	squeeze(value.buf, &a);
	squeeze(dec.buf, &b);
	if (strcmp(a.buf, b.buf))
		fprintf(stderr, "value   '%s'\nencoded '%s'\ndecoded '%s'\n", value.buf,
			enc.buf, dec.buf);
	FUZZ_CHECK(!strcmp(a.buf, b.buf));

	strbuf_reset(&enc);
	strbuf_reset(&unfolded);
	if (mail_encode_header(value.buf, "ISO-2022-JP", used, &enc) == 0) {
		check_lines(&enc, used, 1, &unfolded);
		strbuf_reset(&dec);
		FUZZ_CHECK(mail_decode_header(unfolded.buf, &dec) == 0);
	}
out:
	strbuf_release(&value);
	strbuf_release(&enc);
	strbuf_release(&dec);
	strbuf_release(&unfolded);
	strbuf_release(&a);
	strbuf_release(&b);
	return 0;
}
