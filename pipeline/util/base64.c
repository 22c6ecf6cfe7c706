/*
 * base64 - RFC 4648 encoding and decoding.
 */
#include "base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Each byte's value in the alphabet, -1 for any other byte. */
static const signed char value_of[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int is_xml_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether the 8 bytes at p are all in the alphabet. */
static int alphabet8(const unsigned char *p)
{
	return (value_of[p[0]] | value_of[p[1]] | value_of[p[2]] | value_of[p[3]] |
		value_of[p[4]] | value_of[p[5]] | value_of[p[6]] | value_of[p[7]]) >= 0;
}

int base64_xsd_size(const char *in, size_t len, size_t *size)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + len, *q;
	size_t n = 0, pad = 0;
	int last = 0;   /* the value of the last character before any '=' */

	/* The alphabet and whitespace (mostly 8 bytes at a time), then at
	 * most the padding. */
	for (;;) {
		while (end - p >= 8 && alphabet8(p)) {
			p += 8;
			n += 8;
		}
		if (p == end)
			break;
		if (value_of[*p] >= 0)
			n++;
		else if (!is_xml_space(*p))
			break;
		p++;
	}
	for (q = p; q > (const unsigned char *)in; q--)
		if (!is_xml_space(q[-1])) {
			last = value_of[q[-1]];
			break;
		}
	for (; p < end; p++) {
		if (*p == '=')
			pad++;
		else if (!is_xml_space(*p))
			return 0;
	}
	n += pad;
	if (n % 4 || pad > 2)
		return 0;
	/* "xx==" leaves 4 bits of the last character unused, "xxx=" 2. */
	if (pad == 2 && (last & 15))
		return 0;
	if (pad == 1 && (last & 3))
		return 0;
	if (size)
		*size = n / 4 * 3 - pad;
	return 1;
}

int base64_is_xsd(const char *in, size_t len)
{
	return base64_xsd_size(in, len, NULL);
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
		const unsigned char *q = (const unsigned char *)in + i;
		int c = *q, v;

		/* The common case: four characters of the alphabet, three bytes. */
		if (!bits && !pad && len - i >= 4) {
			int a = value_of[q[0]], b2 = value_of[q[1]], c2 = value_of[q[2]],
			    d = value_of[q[3]];

			if ((a | b2 | c2 | d) >= 0) {
				if ((size_t)(dst - (out->buf + start)) + 3 > max)
					goto fail;
				*dst++ = (char)(a << 2 | b2 >> 4);
				*dst++ = (char)((b2 & 15) << 4 | c2 >> 2);
				*dst++ = (char)((c2 & 3) << 6 | d);
				i += 3;
				continue;
			}
		}
		if (is_xml_space(c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = value_of[c];
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
