/*
 * base64 - RFC 4648 encoding and decoding.
 */
#include "base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t len, size_t max, struct strbuf *out)
{
	size_t i, start = out->len, room = len / 4 * 3 + 3;
	unsigned acc = 0;
	int bits = 0, pad = 0;
	char *dst;

	strbuf_grow(out, room < max + 3 ? room : max + 3);
	dst = out->buf + out->len;
	for (i = 0; i < len; i++) {
		int c = (unsigned char)in[i], v;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = value(c);
		if (v < 0 || pad)
			goto fail;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if ((size_t)(dst - (out->buf + start)) >= max)
				goto fail;
			*dst++ = (char)((acc >> bits) & 0xff);
		}
	}
	if (pad > 2)
		goto fail;
	strbuf_setlen(out, (size_t)(dst - out->buf));
	return 0;
fail:
	strbuf_setlen(out, start);
	return -1;
}

void base64_encode(const void *in, size_t len, int wrap, struct strbuf *out)
{
	const unsigned char *p = in;
	size_t i, col = 0;

	for (i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		if (wrap && col == 76) {
			strbuf_addstr(out, "\r\n");
			col = 0;
		}
		strbuf_addch(out, alphabet[(v >> 18) & 63]);
		strbuf_addch(out, alphabet[(v >> 12) & 63]);
		strbuf_addch(out, i + 1 < len ? alphabet[(v >> 6) & 63] : '=');
		strbuf_addch(out, i + 2 < len ? alphabet[v & 63] : '=');
		col += 4;
	}
}
