/*
 * test_seal - hashes, HMAC and sealing (lib/seal.c): known answers, round
 * trips, and that every alteration of a sealed file is caught.
 */
#include "unit.h"
#include "lib/seal.h"
#include "util/strbuf.h"

static unsigned char key1[SEAL_KEY_LEN], key2[SEAL_KEY_LEN];

static void keys(void)
{
	seal_init();
	random_bytes(key1, sizeof(key1));
	memcpy(key2, key1, sizeof(key2));
	key2[SEAL_KEY_LEN - 1] ^= 1;
}

TEST(sha256_abc)
{
	struct strbuf hex = STRBUF_INIT;

	seal_init();
	sha256_hex("abc", 3, &hex);
	CHECK_STR(hex.buf, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	strbuf_reset(&hex);
	sha256_hex("", 0, &hex);
	CHECK_STR(hex.buf, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	strbuf_release(&hex);
}

TEST(hmac_rfc4231_case2)
{
	static const char data[] = "what do ya want for nothing?";
	unsigned char md[SHA256_LEN];
	struct strbuf hex = STRBUF_INIT;

	hmac_sha256((const unsigned char *)"Jefe", 4, data, strlen(data), md);
	strbuf_add_hex(&hex, md, sizeof(md));
	CHECK_STR(hex.buf, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	strbuf_release(&hex);
}

TEST(random_differs)
{
	unsigned char a[32], b[32], n1[16], n2[16];

	seal_init();
	random_bytes(a, sizeof(a));
	random_bytes(b, sizeof(b));
	random_nonce(n1, sizeof(n1));
	random_nonce(n2, sizeof(n2));
	CHECK(memcmp(a, b, sizeof(a)));
	CHECK(memcmp(n1, n2, sizeof(n1)));
	wipe(a, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK(!memcmp(a, b, sizeof(a)));
}

TEST(round_trip)
{
	static const char text[] = "name: 神戸 花子\nbirth-date: 1941-03-02\n";
	struct strbuf sealed = STRBUF_INIT, plain = STRBUF_INIT, again = STRBUF_INIT;

	keys();
	strbuf_addstr(&sealed, "prefix");
	CHECK(!seal(key1, "record:R2026-000001", text, strlen(text), &sealed));
	CHECK_INT(sealed.len, 6 + strlen(text) + SEAL_OVERHEAD);
	CHECK(!memcmp(sealed.buf + 6, "MMS1", 4));
	CHECK(!memmem(sealed.buf, sealed.len, "1941", 4));
	strbuf_addstr(&plain, "kept");
	CHECK(!unseal(key1, "record:R2026-000001", sealed.buf + 6, sealed.len - 6, &plain));
	CHECK_INT(plain.len, 4 + strlen(text));
	CHECK(!memcmp(plain.buf, "kept", 4) && !strcmp(plain.buf + 4, text));

	/* the same plaintext seals differently each time (fresh nonce) */
	CHECK(!seal(key1, "record:R2026-000001", text, strlen(text), &again));
	CHECK_INT(again.len, sealed.len - 6);
	CHECK(memcmp(again.buf, sealed.buf + 6, again.len));
	strbuf_release(&sealed);
	strbuf_release(&plain);
	strbuf_release(&again);
}

/* seal_to(): the same sealed form, in a buffer of just its size. */
TEST(seal_to_round_trip)
{
	static const char text[] = "name: 神戸 花子\nbirth-date: 1941-03-02\n";
	struct strbuf plain = STRBUF_INIT;
	char *sealed;
	size_t len;

	keys();
	CHECK(!seal_to(key1, "record:R2026-000001", text, strlen(text), &sealed, &len));
	CHECK_INT(len, strlen(text) + SEAL_OVERHEAD);
	CHECK(!memcmp(sealed, "MMS1", 4));
	CHECK(!memmem(sealed, len, "1941", 4));
	CHECK(!unseal(key1, "record:R2026-000001", sealed, len, &plain));
	CHECK_STR(plain.buf, text);
	CHECK_INT(unseal(key1, "record:R2026-000002", sealed, len, &plain), -1);
	free(sealed);
	strbuf_release(&plain);
}

TEST(wrong_key_or_aad)
{
	struct strbuf sealed = STRBUF_INIT, plain = STRBUF_INIT;

	keys();
	CHECK(!seal(key1, "record:R2026-000001", "secret", 6, &sealed));
	strbuf_addstr(&plain, "kept");
	CHECK_INT(unseal(key2, "record:R2026-000001", sealed.buf, sealed.len, &plain), -1);
	CHECK_INT(unseal(key1, "record:R2026-000002", sealed.buf, sealed.len, &plain), -1);
	CHECK_INT(unseal(key1, "record:R2026-00000", sealed.buf, sealed.len, &plain), -1);
	CHECK_INT(unseal(key1, "", sealed.buf, sealed.len, &plain), -1);
	CHECK_INT(unseal(key1, NULL, sealed.buf, sealed.len, &plain), -1);
	CHECK_STR(plain.buf, "kept");
	CHECK_INT(plain.len, 4);
	/* and the right ones still open it after the failures */
	CHECK(!unseal(key1, "record:R2026-000001", sealed.buf, sealed.len, &plain));
	CHECK_STR(plain.buf, "keptsecret");
	strbuf_release(&sealed);
	strbuf_release(&plain);
}

TEST(every_byte_flip_detected)
{
	struct strbuf sealed = STRBUF_INIT, plain = STRBUF_INIT;
	unsigned char data[300];
	size_t i;
	int bit, opened = 0;

	keys();
	random_bytes(data, sizeof(data));
	CHECK(!seal(key1, "aad", data, sizeof(data), &sealed));
	for (i = 0; i < sealed.len; i++) {
		for (bit = 0; bit < 8; bit++) {
			sealed.buf[i] ^= (char)(1 << bit);
			if (!unseal(key1, "aad", sealed.buf, sealed.len, &plain))
				opened++;
			sealed.buf[i] ^= (char)(1 << bit);
		}
	}
	CHECK_INT(opened, 0);
	CHECK_INT(plain.len, 0);
	CHECK(!unseal(key1, "aad", sealed.buf, sealed.len, &plain));
	CHECK(plain.len == sizeof(data) && !memcmp(plain.buf, data, sizeof(data)));
	strbuf_release(&sealed);
	strbuf_release(&plain);
}

/* In place: the same format as seal()/unseal(), either way round. */
TEST(in_place_round_trip)
{
	struct strbuf buf = STRBUF_INIT, plain = STRBUF_INIT, sealed = STRBUF_INIT;
	unsigned char data[70000];
	size_t i;

	keys();
	random_bytes(data, sizeof(data));
	strbuf_add(&buf, data, sizeof(data));
	CHECK(!seal_in_place(key1, "index", &buf));
	CHECK_INT(buf.len, sizeof(data) + SEAL_OVERHEAD);
	CHECK(memcmp(buf.buf + 16, data, 64) != 0);
	CHECK(!unseal(key1, "index", buf.buf, buf.len, &plain));
	CHECK(plain.len == sizeof(data) && !memcmp(plain.buf, data, sizeof(data)));
	CHECK(!unseal_in_place(key1, "index", &buf));
	CHECK(buf.len == sizeof(data) && !memcmp(buf.buf, data, sizeof(data)));

	/* A buffer full to its last byte has to move to take the seal. */
	strbuf_release(&buf);
	strbuf_grow(&buf, 1000);
	CHECK(buf.alloc <= sizeof(data));
	strbuf_add(&buf, data, buf.alloc - 1);
	i = buf.len;
	CHECK_INT(buf.len + 1, buf.alloc);
	CHECK(!seal_in_place(key1, "index", &buf));
	CHECK_INT(buf.len, i + SEAL_OVERHEAD);
	CHECK(!unseal_in_place(key1, "index", &buf));
	CHECK(buf.len == i && !memcmp(buf.buf, data, i));

	CHECK(!seal(key1, "index", "", 0, &sealed));
	CHECK(!unseal_in_place(key1, "index", &sealed));
	CHECK_INT(sealed.len, 0);
	strbuf_reset(&sealed);
	CHECK(!seal(key1, "index", data, 100, &sealed));
	/* Any flipped bit, the wrong key or aad: refused, and nothing kept. */
	for (i = 0; i < sealed.len; i += 7) {
		strbuf_reset(&buf);
		strbuf_addbuf(&buf, &sealed);
		buf.buf[i] ^= 0x10;
		CHECK_INT(unseal_in_place(key1, "index", &buf), -1);
		CHECK_INT(buf.len, 0);
	}
	strbuf_reset(&buf);
	strbuf_addbuf(&buf, &sealed);
	CHECK(unseal_in_place(key2, "index", &buf) == -1 && buf.len == 0);
	strbuf_addbuf(&buf, &sealed);
	CHECK(unseal_in_place(key1, "record", &buf) == -1 && buf.len == 0);
	strbuf_add(&buf, sealed.buf, 20);
	CHECK(unseal_in_place(key1, "index", &buf) == -1 && buf.len == 0);
	strbuf_release(&buf);
	strbuf_release(&plain);
	strbuf_release(&sealed);
}

/* seal_stream(): uneven pieces in, the same format as seal() out. */
struct stream_case {
	const unsigned char *data;
	size_t len, pos, step;
	struct strbuf out;
};

static int case_fill(void *ctx, struct strbuf *chunk)
{
	struct stream_case *sc = ctx;
	size_t n = sc->len - sc->pos < sc->step ? sc->len - sc->pos : sc->step;

	strbuf_add(chunk, sc->data + sc->pos, n);
	sc->pos += n;
	sc->step = sc->step * 7 % 100003 + 1;
	return sc->pos < sc->len;
}

static int case_out(void *ctx, const void *data, size_t len)
{
	strbuf_add(&((struct stream_case *)ctx)->out, data, len);
	return 0;
}

static int fail_fill(void *ctx, struct strbuf *chunk)
{
	return -1;
}

TEST(stream_round_trip)
{
	static unsigned char data[300001];
	static const size_t lens[] = { 0, 1, 15, 16, 17, 65535, 65536, 65537, 300001 };
	struct strbuf plain = STRBUF_INIT;
	size_t i;

	keys();
	random_bytes(data, sizeof(data));
	for (i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
		struct stream_case sc = { data, lens[i], 0, 5 + i * 1000, STRBUF_INIT };

		CHECK(!seal_stream(key1, "index", case_fill, case_out, &sc));
		CHECK_INT(sc.out.len, lens[i] + SEAL_OVERHEAD);
		strbuf_reset(&plain);
		CHECK(!unseal(key1, "index", sc.out.buf, sc.out.len, &plain));
		CHECK(plain.len == lens[i] && !memcmp(plain.buf, data, lens[i]));
		CHECK_INT(unseal(key1, "record", sc.out.buf, sc.out.len, &plain), -1);
		strbuf_release(&sc.out);
	}
	{
		struct stream_case sc = { data, 10, 0, 1, STRBUF_INIT };

		CHECK_INT(seal_stream(key1, "index", fail_fill, case_out, &sc), -1);
		strbuf_release(&sc.out);
	}
	strbuf_release(&plain);
}

TEST(truncation_detected)
{
	struct strbuf sealed = STRBUF_INIT, plain = STRBUF_INIT;
	size_t n;
	int opened = 0;

	keys();
	CHECK(!seal(key1, "aad", "a record of some length", 23, &sealed));
	for (n = 0; n < sealed.len; n++) {
		if (!unseal(key1, "aad", sealed.buf, n, &plain))
			opened++;
		/* and the tail alone, as if the head were cut off */
		if (!unseal(key1, "aad", sealed.buf + sealed.len - n, n, &plain))
			opened++;
	}
	/* appended bytes are caught too */
	strbuf_addch(&sealed, 0);
	if (!unseal(key1, "aad", sealed.buf, sealed.len, &plain))
		opened++;
	CHECK_INT(opened, 0);
	CHECK_INT(plain.len, 0);
	strbuf_release(&sealed);
	strbuf_release(&plain);
}

TEST(not_sealed)
{
	static const char junk[] = "MMS2 this is not a sealed file at all, really";
	struct strbuf plain = STRBUF_INIT;

	keys();
	CHECK_INT(unseal(key1, "aad", junk, strlen(junk), &plain), -1);
	CHECK_INT(unseal(key1, "aad", "", 0, &plain), -1);
	CHECK_INT(plain.len, 0);
	strbuf_release(&plain);
}

TEST(empty_plaintext)
{
	struct strbuf sealed = STRBUF_INIT, plain = STRBUF_INIT;

	keys();
	CHECK(!seal(key1, "empty", "", 0, &sealed));
	CHECK_INT(sealed.len, SEAL_OVERHEAD);
	CHECK(!unseal(key1, "empty", sealed.buf, sealed.len, &plain));
	CHECK_INT(plain.len, 0);
	CHECK_INT(unseal(key2, "empty", sealed.buf, sealed.len, &plain), -1);
	CHECK_INT(unseal(key1, "other", sealed.buf, sealed.len, &plain), -1);
	strbuf_release(&sealed);
	strbuf_release(&plain);
}

TEST(keys_alternate)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, plain = STRBUF_INIT;
	unsigned char k[SEAL_KEY_LEN];

	keys();
	CHECK(!seal(key1, "x", "one", 3, &a));
	CHECK(!seal(key2, "x", "two", 3, &b));
	CHECK(!unseal(key1, "x", a.buf, a.len, &plain));
	CHECK(!unseal(key2, "x", b.buf, b.len, &plain));
	CHECK_STR(plain.buf, "onetwo");
	/* a key changed in place is noticed, not taken from a cache */
	memcpy(k, key1, sizeof(k));
	CHECK(!unseal(k, "x", a.buf, a.len, &plain));
	k[0] ^= 0x80;
	CHECK_INT(unseal(k, "x", a.buf, a.len, &plain), -1);
	CHECK_STR(plain.buf, "onetwoone");
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&plain);
}

UNIT_MAIN(T(sha256_abc), T(hmac_rfc4231_case2), T(random_differs), T(round_trip),
	  T(seal_to_round_trip),
	  T(wrong_key_or_aad), T(every_byte_flip_detected), T(in_place_round_trip),
	  T(stream_round_trip), T(truncation_detected), T(not_sealed), T(empty_plaintext),
	  T(keys_alternate))
