/*
 * test_gpg - the GPGME wrapper (lib/gpg.c) against the real gpg: keys
 * made in a GnuPG home inside each test's folder, encryption to exact
 * recipients, signatures and their primary keys, tampering, integrity.
 */
#include <time.h>
#include "unit.h"
#include "lib/gpg.h"
#include "util/strbuf.h"

static char home[PATH_MAX], home2[PATH_MAX];

static const char text[] = "registration: R2026-000123\nname: 神戸 太郎\n";

/* A GnuPG home named name in the test's folder, made current. */
static int use_home(char *buf, const char *name)
{
	struct strbuf why = STRBUF_INIT;
	char cwd[PATH_MAX - 64];
	int ret;

	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(buf, PATH_MAX, "%s/%s", cwd, name);
	mkdir(buf, 0700);
	ret = gpg_init(buf, &why);
	if (ret)
		fprintf(stderr, "  gpg_init: %s\n", why.buf);
	strbuf_release(&why);
	return ret;
}

static void done(void)
{
	char cmd[PATH_MAX * 2 + 64];

	gpg_release();
	snprintf(cmd, sizeof(cmd), "gpgconf --homedir '%s' --kill gpg-agent", home);
	CHECK_INT(system(cmd), 0);
	if (home2[0]) {
		snprintf(cmd, sizeof(cmd), "gpgconf --homedir '%s' --kill gpg-agent", home2);
		CHECK_INT(system(cmd), 0);
	}
	home[0] = home2[0] = '\0';
}

static int gen(const char *uid, struct strbuf *fpr)
{
	struct strbuf why = STRBUF_INIT;
	int ret = gpg_generate_key(uid, fpr, &why);

	if (ret)
		fprintf(stderr, "  gpg_generate_key: %s\n", why.buf);
	strbuf_release(&why);
	return ret;
}

static int is_upper_fpr(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!strchr("0123456789ABCDEF", s[n]))
			return 0;
	return n == 40;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ret;

	if (!f)
		return -1;
	ret = fwrite(data, 1, len, f) == len ? 0 : -1;
	return fclose(f) || ret ? -1 : 0;
}

/* The number of public-key encrypted session keys in the message at path. */
static int count_recipients(const char *path)
{
	char cmd[PATH_MAX + 256], line[512];
	FILE *p;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "gpg --homedir '%s' --batch --list-only --list-packets "
		 "'%s' 2>/dev/null", home, path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (strstr(line, ":pubkey enc packet:"))
			n++;
	pclose(p);
	return n;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

TEST(encrypt_signed_decrypt)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, ct = STRBUF_INIT, pt = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT;
	struct gpg_sigs sigs;
	const char *to[2];
	double t0;
	int i;

	CHECK(!use_home(home, "gnupg"));
	CHECK(!gen("A <a@example.jp>", &a));
	CHECK(!gen("B <b@example.jp>", &b));
	CHECK(is_upper_fpr(a.buf));
	CHECK(is_upper_fpr(b.buf));
	CHECK(strcmp(a.buf, b.buf));
	CHECK(!gpg_key_check(a.buf, 1, &why));
	CHECK(!gpg_key_check(b.buf, 0, &why));

	to[0] = a.buf;
	to[1] = NULL;
	CHECK(!gpg_encrypt(to, b.buf, text, strlen(text), &ct, &why));
	CHECK(ct.len > 0 && ct.buf && !memmem(ct.buf, ct.len, "-----BEGIN", 10));
	CHECK(!memmem(ct.buf, ct.len, "R2026", 5));
	strbuf_addstr(&pt, ">");
	CHECK(!gpg_decrypt(ct.buf, ct.len, &pt, &sigs, &why));
	CHECK(pt.len == 1 + strlen(text) && !strcmp(pt.buf + 1, text));
	CHECK_INT(sigs.nr, 1);
	CHECK(sigs.was_encrypted);
	CHECK(sigs.integrity_ok);
	if (sigs.nr == 1) {
		CHECK(sigs.sig[0].valid);
		CHECK_STR(sigs.sig[0].primary_fpr, b.buf);
		CHECK_STR(sigs.sig[0].fpr, b.buf);  /* ed25519 primary signs */
	}
	gpg_sigs_release(&sigs);
	CHECK(sigs.nr == 0 && !sigs.sig);

	t0 = now();
	for (i = 0; i < 5; i++) {
		strbuf_reset(&pt);
		CHECK(!gpg_decrypt(ct.buf, ct.len, &pt, &sigs, &why));
		gpg_sigs_release(&sigs);
	}
	fprintf(stderr, "  # %.1f ms per signed decrypt\n", (now() - t0) / 5 * 1000);
	t0 = now();
	for (i = 0; i < 5; i++) {
		strbuf_reset(&ct);
		CHECK(!gpg_encrypt(to, b.buf, text, strlen(text), &ct, &why));
	}
	fprintf(stderr, "  # %.1f ms per signed encrypt\n", (now() - t0) / 5 * 1000);

	done();
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&ct);
	strbuf_release(&pt);
	strbuf_release(&why);
}

TEST(exact_recipients)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, ct = STRBUF_INIT, pt = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT, home_a = STRBUF_INIT;
	struct gpg_sigs sigs;
	static const char missing[] = "0123456789ABCDEF0123456789ABCDEF01234567";
	const char *to[3];
	char conf[PATH_MAX + 16];

	CHECK(!use_home(home, "gnupg"));
	CHECK(!gen("A <a@example.jp>", &a));
	CHECK(!gen("B <b@example.jp>", &b));

	/* a missing key fails, names it, and writes nothing */
	to[0] = a.buf;
	to[1] = missing;
	to[2] = NULL;
	strbuf_addstr(&ct, "kept");
	CHECK_INT(gpg_encrypt(to, NULL, text, strlen(text), &ct, &why), -1);
	CHECK_CONTAINS(why.buf, missing);
	CHECK_STR(ct.buf, "kept");
	/* so does a name or a short id: only full fingerprints pick keys */
	to[1] = "B <b@example.jp>";
	CHECK_INT(gpg_encrypt(to, NULL, text, strlen(text), &ct, &why), -1);
	CHECK_CONTAINS(why.buf, "not a full fingerprint");
	to[1] = b.buf + 24;
	CHECK_INT(gpg_encrypt(to, NULL, text, strlen(text), &ct, &why), -1);
	CHECK_CONTAINS(why.buf, "not a full fingerprint");
	/* and a missing signer */
	to[1] = NULL;
	CHECK_INT(gpg_encrypt(to, missing, text, strlen(text), &ct, &why), -1);
	CHECK_CONTAINS(why.buf, missing);
	CHECK_INT(gpg_encrypt(NULL, NULL, text, strlen(text), &ct, &why), -1);
	CHECK_STR(ct.buf, "kept");

	/* encrypted to A only: unsigned, and B's secret key does not open it */
	strbuf_reset(&ct);
	CHECK(!gpg_encrypt(to, NULL, text, strlen(text), &ct, &why));
	CHECK(!gpg_decrypt(ct.buf, ct.len, &pt, &sigs, &why));
	CHECK(sigs.nr == 0 && sigs.was_encrypted && sigs.integrity_ok);
	CHECK_STR(pt.buf, text);
	gpg_sigs_release(&sigs);

	/* encrypt-to and hidden-encrypt-to in gpg.conf are ignored */
	snprintf(conf, sizeof(conf), "%s/gpg.conf", home);
	strbuf_addf(&why, "encrypt-to %s\nhidden-encrypt-to %s\n", b.buf, b.buf);
	CHECK(!write_file(conf, why.buf, why.len));
	strbuf_reset(&ct);
	CHECK(!gpg_encrypt(to, NULL, text, strlen(text), &ct, &why));
	CHECK(!write_file("ct", ct.buf, ct.len));
	CHECK_INT(count_recipients("ct"), 1);
	unlink(conf);

	/* a home holding B and only A's public key cannot decrypt */
	CHECK(!gpg_export_public(a.buf, &home_a, &why));
	CHECK(!strncmp(home_a.buf, "-----BEGIN PGP PUBLIC KEY BLOCK-----", 36));
	CHECK(!use_home(home2, "gnupg2"));
	CHECK(!gpg_import(home_a.buf, home_a.len, &why));
	CHECK(!gpg_key_check(a.buf, 0, &why));
	CHECK_INT(gpg_key_check(a.buf, 1, &why), -1);
	CHECK_CONTAINS(why.buf, a.buf);
	CHECK_INT(gpg_key_check(b.buf, 0, &why), -1);
	CHECK_CONTAINS(why.buf, b.buf);
	strbuf_reset(&pt);
	CHECK_INT(gpg_decrypt(ct.buf, ct.len, &pt, &sigs, &why), -1);
	CHECK_INT(pt.len, 0);
	fprintf(stderr, "  # no secret key: %s\n", why.buf);
	CHECK_INT(gpg_import("not a key", 9, &why), -1);

	done();
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&ct);
	strbuf_release(&pt);
	strbuf_release(&why);
	strbuf_release(&home_a);
}

TEST(tampering_detected)
{
	struct strbuf a = STRBUF_INIT, ct = STRBUF_INIT, pt = STRBUF_INIT, why = STRBUF_INIT;
	struct gpg_sigs sigs;
	const char *to[2];
	char big[4096];
	size_t i, step;
	int opened = 0;

	CHECK(!use_home(home, "gnupg"));
	CHECK(!gen("A <a@example.jp>", &a));
	to[0] = a.buf;
	to[1] = NULL;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i * 7 % 26);
	CHECK(!gpg_encrypt(to, a.buf, big, sizeof(big), &ct, &why));
	step = ct.len / 40 + 1;
	for (i = 0; i < ct.len; i += step) {
		ct.buf[i] ^= 0x10;
		strbuf_reset(&pt);
		if (!gpg_decrypt(ct.buf, ct.len, &pt, &sigs, &why)) {
			/* only a change that altered nothing signed or encrypted may open */
			if (!sigs.integrity_ok || sigs.nr != 1 || !sigs.sig[0].valid ||
			    pt.len != sizeof(big) || memcmp(pt.buf, big, sizeof(big))) {
				fprintf(stderr, "  flip at %zu of %zu opened\n", i, ct.len);
				opened++;
			}
		} else {
			CHECK_INT(pt.len, 0);
		}
		gpg_sigs_release(&sigs);
		ct.buf[i] ^= 0x10;
	}
	CHECK_INT(opened, 0);
	/* truncated */
	strbuf_reset(&pt);
	CHECK_INT(gpg_decrypt(ct.buf, ct.len - 20, &pt, &sigs, &why), -1);
	CHECK_INT(pt.len, 0);
	CHECK_INT(gpg_decrypt("", 0, &pt, &sigs, &why), -1);
	CHECK_INT(gpg_decrypt(text, strlen(text), &pt, &sigs, &why), -1);
	CHECK_INT(pt.len, 0);

	done();
	strbuf_release(&a);
	strbuf_release(&ct);
	strbuf_release(&pt);
	strbuf_release(&why);
}

/* Messages made by gpg itself: without MDC, and signed but not encrypted. */
TEST(integrity_and_not_encrypted)
{
	struct strbuf a = STRBUF_INIT, in = STRBUF_INIT, pt = STRBUF_INIT, why = STRBUF_INIT;
	struct gpg_sigs sigs;
	char cmd[PATH_MAX * 2 + 256];
	static const char *const how[] = {
		"--rfc2440 --cipher-algo CAST5 -e",
		"--rfc2440 --cipher-algo AES256 -e",
		"-s",
	};
	size_t i;

	CHECK(!use_home(home, "gnupg"));
	CHECK(!gen("A <a@example.jp>", &a));
	CHECK(!write_file("plain", text, strlen(text)));
	for (i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
		snprintf(cmd, sizeof(cmd),
			 "gpg --homedir '%s' --batch --quiet --trust-model always -u %s -r %s "
			 "%s -o msg plain 2>/dev/null", home, a.buf, a.buf, how[i]);
		unlink("msg");
		CHECK_INT(system(cmd), 0);
		strbuf_reset(&in);
		CHECK(!strbuf_read_file(&in, "msg", 1 << 20));
		strbuf_reset(&pt);
		CHECK_INT(gpg_decrypt(in.buf, in.len, &pt, &sigs, &why), -1);
		CHECK(!sigs.integrity_ok);
		CHECK_INT(pt.len, 0);
		fprintf(stderr, "  # gpg %s: %s\n", how[i], why.buf);
		if (i < 2)
			CHECK_CONTAINS(why.buf, "not integrity protected");
		gpg_sigs_release(&sigs);
	}
	done();
	strbuf_release(&a);
	strbuf_release(&in);
	strbuf_release(&pt);
	strbuf_release(&why);
}

TEST(detached_signatures)
{
	struct strbuf a = STRBUF_INIT, sig = STRBUF_INIT, why = STRBUF_INIT;
	struct strbuf changed = STRBUF_INIT;
	struct gpg_sigs sigs;
	static const char missing[] = "0123456789ABCDEF0123456789ABCDEF01234567";

	CHECK(!use_home(home, "gnupg"));
	CHECK(!gen("A <a@example.jp>", &a));
	CHECK(!gpg_sign_detached(a.buf, text, strlen(text), &sig, &why));
	CHECK(!strncmp(sig.buf, "-----BEGIN PGP SIGNATURE-----", 29));
	CHECK(!gpg_verify_detached(text, strlen(text), sig.buf, sig.len, &sigs, &why));
	CHECK(sigs.nr == 1 && !sigs.was_encrypted);
	if (sigs.nr == 1) {
		CHECK(sigs.sig[0].valid);
		CHECK_STR(sigs.sig[0].primary_fpr, a.buf);
	}
	gpg_sigs_release(&sigs);

	strbuf_addstr(&changed, text);
	changed.buf[5] ^= 1;
	CHECK(!gpg_verify_detached(changed.buf, changed.len, sig.buf, sig.len, &sigs, &why));
	CHECK_INT(sigs.nr, 1);
	if (sigs.nr == 1) {
		CHECK(!sigs.sig[0].valid);
		fprintf(stderr, "  # changed text: %s\n", sigs.sig[0].status);
	}
	gpg_sigs_release(&sigs);
	/* one byte more is a change too */
	strbuf_reset(&changed);
	strbuf_addstr(&changed, text);
	strbuf_addch(&changed, '\n');
	CHECK(!gpg_verify_detached(changed.buf, changed.len, sig.buf, sig.len, &sigs, &why));
	CHECK(sigs.nr == 1 && !sigs.sig[0].valid);
	gpg_sigs_release(&sigs);
	CHECK_INT(gpg_verify_detached(text, strlen(text), "garbage", 7, &sigs, &why), -1);
	CHECK_INT(sigs.nr, 0);

	/* following operations are not signed or armoured by accident */
	strbuf_reset(&sig);
	CHECK_INT(gpg_sign_detached(missing, text, strlen(text), &sig, &why), -1);
	CHECK_CONTAINS(why.buf, missing);
	CHECK_INT(sig.len, 0);

	done();
	strbuf_release(&a);
	strbuf_release(&sig);
	strbuf_release(&why);
	strbuf_release(&changed);
}

/* A signature by a signing subkey is reported with its primary key. */
TEST(subkey_signature)
{
	struct strbuf c = STRBUF_INIT, sig = STRBUF_INIT, why = STRBUF_INIT;
	struct gpg_sigs sigs;
	char cmd[PATH_MAX + 256];

	CHECK(!use_home(home, "gnupg"));
	CHECK(!gen("C <c@example.jp>", &c));
	snprintf(cmd, sizeof(cmd),
		 "gpg --homedir '%s' --batch --quiet --passphrase '' --pinentry-mode loopback "
		 "--quick-add-key %s ed25519 sign never 2>/dev/null", home, c.buf);
	CHECK_INT(system(cmd), 0);
	CHECK(!gpg_sign_detached(c.buf, text, strlen(text), &sig, &why));
	CHECK(!gpg_verify_detached(text, strlen(text), sig.buf, sig.len, &sigs, &why));
	CHECK_INT(sigs.nr, 1);
	if (sigs.nr == 1) {
		CHECK(sigs.sig[0].valid);
		CHECK(strcmp(sigs.sig[0].fpr, c.buf));  /* the subkey signed */
		CHECK_STR(sigs.sig[0].primary_fpr, c.buf);
		/* a subkey's fingerprint does not name a key */
		CHECK_INT(gpg_key_check(sigs.sig[0].fpr, 0, &why), -1);
		CHECK_CONTAINS(why.buf, "not the fingerprint of a primary key");
	}
	gpg_sigs_release(&sigs);
	done();
	strbuf_release(&c);
	strbuf_release(&sig);
	strbuf_release(&why);
}

TEST(key_check_reasons)
{
	struct strbuf why = STRBUF_INIT;
	static const char missing[] = "0123456789ABCDEF0123456789ABCDEF01234567";

	CHECK(!use_home(home, "gnupg"));
	CHECK_INT(gpg_key_check(missing, 0, &why), -1);
	CHECK_CONTAINS(why.buf, missing);
	CHECK_INT(gpg_key_check("alice@example.jp", 0, &why), -1);
	CHECK_CONTAINS(why.buf, "not a full fingerprint");
	CHECK_INT(gpg_init("relative/gnupg", &why), -1);
	CHECK_CONTAINS(why.buf, "absolute");
	done();
	strbuf_release(&why);
}

UNIT_MAIN(T(encrypt_signed_decrypt), T(exact_recipients), T(tampering_detected),
	  T(integrity_and_not_encrypted), T(detached_signatures), T(subkey_signature),
	  T(key_check_reasons))
