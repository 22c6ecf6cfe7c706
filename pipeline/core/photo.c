/*
 * photo - JPEG and PNG metadata removal (photo.h): our own small parser,
 * so that what leaves the node is exactly what this file copies.
 *
 * Reads a byte buffer; writes a strbuf.
 *
 * SECURITY: the bytes come from a registration document (base64 in the
 * record), which came from an intake center or a bundle: treat them as
 * hostile. Every length is checked against what is left before it is
 * used (sizes in size_t, no addition that can wrap: lengths are compared
 * with the remaining count, never added to a position first); a
 * segment or chunk that runs past the end, a JPEG without EOI, a PNG
 * without IEND, a chunk length over 2^31-1 are refused, not repaired.
 * Over PHOTO_MAX_SIZE the input is refused unread.
 */
#include <string.h>
#include "photo.h"

static int fail(struct strbuf *why, const char *what)
{
	strbuf_addstr(why, what);
	return -1;
}

static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

enum photo_type photo_sniff(const unsigned char *data, size_t len)
{
	if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
		return PHOTO_JPEG;
	if (len >= sizeof(png_sig) && !memcmp(data, png_sig, sizeof(png_sig)))
		return PHOTO_PNG;
	return PHOTO_NONE;
}

/* Whether JPEG marker m starts a segment that is metadata. */
static int jpeg_metadata(unsigned char m)
{
	if (m == 0xfe)                           /* COM */
		return 1;
	return m >= 0xe0 && m <= 0xef && m != 0xe0 && m != 0xee;  /* APPn but APP0, APP14 */
}

/*
 * Entropy-coded data after SOS: up to the next marker that is neither a
 * stuffed 0xFF00 nor RSTn. Returns its length from data[pos].
 */
static size_t jpeg_scan_len(const unsigned char *d, size_t len, size_t pos)
{
	size_t i = pos;

	while (i < len) {
		if (d[i] != 0xff) {
			i++;
			continue;
		}
		if (len - i < 2)
			return len - pos;            /* truncated: caller sees no EOI */
		if (d[i + 1] == 0x00 || (d[i + 1] >= 0xd0 && d[i + 1] <= 0xd7)) {
			i += 2;
			continue;
		}
		if (d[i + 1] == 0xff) {          /* fill byte before a marker */
			i++;
			continue;
		}
		break;
	}
	return i - pos;
}

static int strip_jpeg(const unsigned char *d, size_t len, struct strbuf *out,
		      struct strbuf *why)
{
	size_t pos = 2;

	strbuf_add(out, d, 2);                       /* SOI */
	for (;;) {
		unsigned char m;
		size_t seg;

		if (pos >= len)
			return fail(why, "truncated JPEG: no end of image");
		if (d[pos] != 0xff)
			return fail(why, "JPEG: bytes where a marker should be");
		while (pos < len && d[pos] == 0xff)  /* fill bytes */
			pos++;
		if (pos >= len)
			return fail(why, "truncated JPEG: no end of image");
		m = d[pos++];
		if (m == 0xd9) {                      /* EOI */
			strbuf_addch(out, (char)0xff);
			strbuf_addch(out, (char)m);
			return 0;
		}
		if (m == 0x00 || m == 0xd8)
			return fail(why, "JPEG: a marker out of place");
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {  /* no length */
			strbuf_addch(out, (char)0xff);
			strbuf_addch(out, (char)m);
			continue;
		}
		if (len - pos < 2)
			return fail(why, "truncated JPEG segment");
		seg = ((size_t)d[pos] << 8) | d[pos + 1];
		if (seg < 2)
			return fail(why, "JPEG segment length under 2");
		if (seg > len - pos)
			return fail(why, "JPEG segment length past the end");
		if (!jpeg_metadata(m)) {
			strbuf_addch(out, (char)0xff);
			strbuf_addch(out, (char)m);
			strbuf_add(out, d + pos, seg);
		}
		pos += seg;
		if (m == 0xda) {                      /* SOS: the scan's data follows */
			size_t n = jpeg_scan_len(d, len, pos);

			strbuf_add(out, d + pos, n);
			pos += n;
		}
	}
}

static unsigned long be32(const unsigned char *p)
{
	return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) |
	       ((unsigned long)p[2] << 8) | (unsigned long)p[3];
}

static int png_metadata(const unsigned char *type)
{
	static const char *const drop[] = { "tEXt", "iTXt", "zTXt", "tIME", "eXIf", NULL };
	const char *const *p;

	for (p = drop; *p; p++)
		if (!memcmp(type, *p, 4))
			return 1;
	return 0;
}

static int strip_png(const unsigned char *d, size_t len, struct strbuf *out,
		     struct strbuf *why)
{
	size_t pos = sizeof(png_sig);

	strbuf_add(out, d, sizeof(png_sig));
	for (;;) {
		unsigned long n;
		size_t whole;
		const unsigned char *type;

		if (len - pos < 12)
			return fail(why, "truncated PNG: no IEND chunk");
		n = be32(d + pos);
		if (n > 0x7fffffffUL)
			return fail(why, "PNG chunk length over 2^31-1");
		if ((size_t)n > len - pos - 12)
			return fail(why, "PNG chunk length past the end");
		whole = (size_t)n + 12;
		type = d + pos + 4;
		if (!png_metadata(type))
			strbuf_add(out, d + pos, whole);
		pos += whole;
		if (!memcmp(type, "IEND", 4))
			return 0;
	}
}

int photo_strip(const unsigned char *data, size_t len, struct strbuf *out,
		struct strbuf *why)
{
	size_t start = out->len;
	int ret;

	if (len > PHOTO_MAX_SIZE)
		return fail(why, "photo over 8 MiB");
	switch (photo_sniff(data, len)) {
	case PHOTO_JPEG:
		ret = strip_jpeg(data, len, out, why);
		break;
	case PHOTO_PNG:
		ret = strip_png(data, len, out, why);
		break;
	default:
		strbuf_addstr(why, "not a JPEG or PNG image");
		return -1;
	}
	if (ret < 0)
		strbuf_setlen(out, start);
	return ret;
}
