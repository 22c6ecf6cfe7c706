#ifndef PHOTO_H
#define PHOTO_H
#include <stddef.h>
#include "../util/strbuf.h"

/*
 * A registration's photo made fit to leave the node: its metadata
 * removed (camera, GPS position, times, comments, thumbnails in EXIF).
 *
 * JPEG: every APPn segment but APP0 (JFIF) and APP14 (Adobe), and every
 * COM segment, are left out, before the first scan and between scans.
 * PNG: the tEXt, iTXt, zTXt, tIME and eXIf chunks are left out.
 * Everything else is copied byte for byte; nothing after the end of the
 * image (EOI, IEND) is kept.
 */

#define PHOTO_MAX_SIZE ((size_t)8 << 20)

enum photo_type { PHOTO_NONE, PHOTO_JPEG, PHOTO_PNG };

/* The type the bytes say they are (by their signature), or PHOTO_NONE. */
enum photo_type photo_sniff(const unsigned char *data, size_t len);

/*
 * The image in data without its metadata, appended to out: 0, or -1
 * with why ("truncated JPEG segment", "PNG chunk length past the end")
 * and nothing appended. Never reads outside data[0..len).
 */
int photo_strip(const unsigned char *data, size_t len, struct strbuf *out,
		struct strbuf *why);

#endif
