/*
 * fuzz_photo - the photo metadata stripper (core/photo.c): it reads the
 * photo of a registration, which comes from intake centers and bundles.
 *
 * The input: the image bytes as they are.
 *
 * Invariants (FUZZ_CHECK): photo_strip() never reads out of bounds (the
 * sanitizers see it); on failure nothing is appended; on success the
 * result is no longer than the input, starts with the input's signature,
 * holds no COM or APPn segment but APP0/APP14 (JPEG) and no tEXt, iTXt,
 * zTXt, tIME or eXIf chunk (PNG), and stripping it again changes nothing.
 */
#include <string.h>
#include "fuzz.h"
#include "core/photo.h"

/* Walk the stripped JPEG's segments up to the first SOS. */
static void check_jpeg(const unsigned char *d, size_t len)
{
	size_t pos = 2;

	while (pos + 4 <= len && d[pos] == 0xff) {
		unsigned char m = d[pos + 1];
		size_t seg;

		if (m == 0xda || m == 0xd9)
			return;
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
			pos += 2;
			continue;
		}
		FUZZ_CHECK(m != 0xfe);
		FUZZ_CHECK(!(m >= 0xe1 && m <= 0xef && m != 0xee));
		seg = ((size_t)d[pos + 2] << 8) | d[pos + 3];
		pos += 2 + seg;
	}
}

static void check_png(const unsigned char *d, size_t len)
{
	size_t pos = 8;

	while (pos + 12 <= len) {
		size_t n = ((size_t)d[pos] << 24) | ((size_t)d[pos + 1] << 16) |
			   ((size_t)d[pos + 2] << 8) | d[pos + 3];

		FUZZ_CHECK(memcmp(d + pos + 4, "tEXt", 4) && memcmp(d + pos + 4, "iTXt", 4) &&
			   memcmp(d + pos + 4, "zTXt", 4) && memcmp(d + pos + 4, "tIME", 4) &&
			   memcmp(d + pos + 4, "eXIf", 4));
		pos += n + 12;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT, again = STRBUF_INIT, why = STRBUF_INIT;

	strbuf_addstr(&out, "x");
	if (photo_strip(data, size, &out, &why) < 0) {
		FUZZ_CHECK(out.len == 1 && why.len);
		goto done;
	}
	FUZZ_CHECK(out.len - 1 <= size);
	FUZZ_CHECK(photo_sniff((const unsigned char *)out.buf + 1, out.len - 1) ==
		   photo_sniff(data, size));
	if (photo_sniff(data, size) == PHOTO_JPEG)
		check_jpeg((const unsigned char *)out.buf + 1, out.len - 1);
	else
		check_png((const unsigned char *)out.buf + 1, out.len - 1);
	FUZZ_CHECK(photo_strip((const unsigned char *)out.buf + 1, out.len - 1, &again, &why) == 0);
	FUZZ_CHECK(again.len == out.len - 1 && !memcmp(again.buf, out.buf + 1, again.len));
done:
	strbuf_release(&out);
	strbuf_release(&again);
	strbuf_release(&why);
	return 0;
}
