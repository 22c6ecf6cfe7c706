/*
 * base64: RFC 4648 vectors, whitespace, limits, bad input.
 */
#include "unit.h"
#include "util/base64.h"

static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
				     "Zm9vYmFy" };

TEST(rfc4648_vectors)
{
	size_t i;

	for (i = 0; i < 7; i++) {
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

		base64_encode(plain[i], strlen(plain[i]), 0, &a);
		CHECK_STR(a.buf, coded[i]);
		CHECK_INT(base64_decode(coded[i], strlen(coded[i]), 100, &b), 0);
		CHECK_STR(b.buf, plain[i]);
		strbuf_release(&a);
		strbuf_release(&b);
	}
}

TEST(whitespace_and_limits)
{
	struct strbuf b = STRBUF_INIT;

	CHECK_INT(base64_decode("Zm9v\r\nYmFy", 10, 100, &b), 0);
	CHECK_STR(b.buf, "foobar");
	strbuf_reset(&b);
	CHECK(base64_decode("Zm9vYmFy", 8, 5, &b) < 0);
	CHECK_INT(b.len, 0);
	CHECK_INT(base64_decode("Zm9vYmFy", 8, 6, &b), 0);
	strbuf_reset(&b);
	CHECK(base64_decode("Zm9v!", 5, 100, &b) < 0);
	CHECK(base64_decode("Zg==Zg", 6, 100, &b) < 0);
	CHECK_INT(b.len, 0);
	strbuf_release(&b);
}

/* XSD's xs:base64Binary: what the photo check accepts instead of libxml2. */
TEST(xsd_lexical_space)
{
	static const char *const good[] = {
		"", "AAAA", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9v\nYmE=", " Zm 9v Yg = = ",
		"QQ==", "QUE=", "+/+/", "Zm9v\r\n\tYmFy\n",
	};
	static const char *const bad[] = {
		"A", "AAA", "AAAAA", "Zm9vYg=", "Zm9vYg===", "Zm9v=Yg=", "=AAA", "Zm9v!mFy",
		"Zm9vYh==", "Zm9vYmF=", "Zm9v-_8A", "AA==AAAA", "Zm9v\fYmFy",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (!base64_is_xsd(good[i], strlen(good[i]))) {
			fprintf(stderr, "  refused: '%s'\n", good[i]);
			CHECK(0);
		}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (base64_is_xsd(bad[i], strlen(bad[i]))) {
			fprintf(stderr, "  accepted: '%s'\n", bad[i]);
			CHECK(0);
		}
	/* The size it tells is what decoding gives. */
	for (i = 0; i < sizeof(good) / sizeof(*good); i++) {
		struct strbuf b = STRBUF_INIT;
		size_t size = 12345;

		CHECK(base64_xsd_size(good[i], strlen(good[i]), &size));
		CHECK_INT(base64_decode(good[i], strlen(good[i]), 100, &b), 0);
		if (size != b.len) {
			fprintf(stderr, "  '%s': size %zu, decodes to %zu\n", good[i], size, b.len);
			CHECK(0);
		}
		strbuf_release(&b);
	}
}

/* The lexical space written plainly, one character at a time. */
static int plain_is_xsd(const char *in, size_t len, size_t *size)
{
	size_t i, n = 0, pad = 0;
	int last = 0;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
		} else {
			const char *a = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					       "0123456789+/", c);

			if (pad || !a || !c)
				return 0;
			last = (int)(a - "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789+/");
		}
		n++;
	}
	if (n % 4 || pad > 2 || (pad == 2 && (last & 15)) || (pad == 1 && (last & 3)))
		return 0;
	*size = n / 4 * 3 - pad;
	return 1;
}

/* The fast check (8 bytes at a time) agrees with the plain one. */
TEST(xsd_check_agrees_with_plain)
{
	static const char pool[] = "AAAAAAAAQQgw+/== \n\t!";
	char s[48];
	size_t i, k, len, a, b, valid = 0;
	unsigned seed = 20261122;

	for (i = 0; i < 200000; i++) {
		seed = seed * 1103515245 + 12345;
		len = (seed >> 16) % sizeof(s);
		for (k = 0; k < len; k++) {
			seed = seed * 1103515245 + 12345;
			s[k] = pool[(seed >> 16) % (sizeof(pool) - 1)];
		}
		a = b = 0;
		if (base64_xsd_size(s, len, &a) != plain_is_xsd(s, len, &b) || a != b) {
			fprintf(stderr, "  disagree on '%.*s'\n", (int)len, s);
			CHECK(0);
			return;
		}
		valid += a > 0;
	}
	/* Both answers are common: the comparison means something. */
	if (valid < 1000 || valid > 190000) {
		fprintf(stderr, "  %zu of %zu valid\n", valid, i);
		CHECK(0);
	}
}

UNIT_MAIN(T(rfc4648_vectors), T(whitespace_and_limits), T(xsd_lexical_space),
	  T(xsd_check_agrees_with_plain))
