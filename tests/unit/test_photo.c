/*
 * photo: metadata removal from the seeds of tests/fuzz/corpus/photo/ —
 * EXIF, IPTC and COM out of JPEGs (before and between scans), tEXt, iTXt,
 * zTXt, tIME and eXIf out of PNGs, the image kept; hostile lengths refused.
 */
#include <string.h>
#include "unit.h"
#include "core/photo.h"
#include "util/fileio.h"

static void seed(const char *name, struct strbuf *sb)
{
	char path[512];

	snprintf(path, sizeof(path), SRCDIR "/tests/fuzz/corpus/photo/%s", name);
	strbuf_reset(sb);
	CHECK(strbuf_read_file(sb, path, 1 << 20) >= 0);
}

static int has(const struct strbuf *sb, const char *s)
{
	return memmem(sb->buf, sb->len, s, strlen(s)) != NULL;
}

TEST(jpeg_metadata_removed_image_kept)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT, why = STRBUF_INIT;

	seed("exif-com.jpg", &in);
	CHECK(has(&in, "SECRET-EXIF") && has(&in, "SECRET-COMMENT") && has(&in, "SECRET-IPTC"));
	CHECK(photo_strip((unsigned char *)in.buf, in.len, &out, &why) == 0);
	CHECK(!has(&out, "SECRET"));
	CHECK(has(&out, "JFIF") && has(&out, "Adobe"));
	CHECK(!memcmp(out.buf, "\xff\xd8", 2));
	CHECK(!memcmp(out.buf + out.len - 2, "\xff\xd9", 2));
	/* The scan, stuffed bytes and RST markers included, byte for byte. */
	CHECK(memmem(out.buf, out.len, "\x12\x34\xff\x00\x56\xff\xd0\x78\xff\xd9", 10) != NULL);
	seed("com-between-scans.jpg", &in);
	strbuf_reset(&out);
	CHECK(photo_strip((unsigned char *)in.buf, in.len, &out, &why) == 0);
	CHECK(!has(&out, "SECRET"));
	CHECK(!memcmp(out.buf + out.len - 2, "\xff\xd9", 2));
	strbuf_release(&in);
	strbuf_release(&out);
	strbuf_release(&why);
}

TEST(png_text_chunks_removed)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT, why = STRBUF_INIT;

	seed("text-chunks.png", &in);
	CHECK(photo_strip((unsigned char *)in.buf, in.len, &out, &why) == 0);
	CHECK(!has(&out, "SECRET") && !has(&out, "tIME") && !has(&out, "zTXt"));
	CHECK(!has(&out, "TRAILING"));
	CHECK(has(&out, "IHDR") && has(&out, "IDAT") && has(&out, "IEND"));
	strbuf_release(&in);
	strbuf_release(&out);
	strbuf_release(&why);
}

TEST(hostile_shapes_refused)
{
	static const char *const bad[][2] = {
		{ "truncated-segment.jpg", "JPEG segment length past the end" },
		{ "length-past-end.jpg", "JPEG segment length past the end" },
		{ "length-one.jpg", "JPEG segment length under 2" },
		{ "no-eoi.jpg", "truncated JPEG: no end of image" },
		{ "huge-chunk.png", "PNG chunk length over 2^31-1" },
		{ "chunk-2g.png", "PNG chunk length over 2^31-1" },
		{ "no-iend.png", "truncated PNG: no IEND chunk" },
		{ "empty", "not a JPEG or PNG image" },
	};
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT, why = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		seed(bad[i][0], &in);
		strbuf_reset(&out);
		strbuf_reset(&why);
		CHECK(photo_strip((unsigned char *)in.buf, in.len, &out, &why) < 0);
		CHECK(out.len == 0);
		CHECK_STR(why.buf, bad[i][1]);
	}
	/* Every prefix of a good image: refused or stripped, never a read past it. */
	seed("exif-com.jpg", &in);
	for (i = 0; i < in.len; i++) {
		strbuf_reset(&out);
		strbuf_reset(&why);
		CHECK(photo_strip((unsigned char *)in.buf, i, &out, &why) < 0);
	}
	strbuf_release(&in);
	strbuf_release(&out);
	strbuf_release(&why);
}

UNIT_MAIN(T(jpeg_metadata_removed_image_kept), T(png_text_chunks_removed),
	  T(hostile_shapes_refused))
