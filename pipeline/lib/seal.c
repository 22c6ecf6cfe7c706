/*
 * seal - the libgcrypt wrapper: SHA-256, HMAC-SHA256, randomness and the
 * sealing (AES-256-GCM) of everything the node keeps at rest. Reads and
 * writes only memory.
 *
 * SECURITY: handles the node's data key. libgcrypt's secure memory is set
 * up here (locked, wiped on free); the cipher context holding the expanded
 * key and our copy of the key live in it. One cipher handle is kept for the
 * process and rekeyed only when a different key is passed, so sealing many
 * records costs no key schedule each; it is closed and wiped at exit.
 * unseal() treats its input as hostile: every byte, the magic and nonce
 * included, is authenticated before any plaintext is handed out, and a
 * failure leaves the output as it was (what was decrypted is wiped).
 */
#include <stdlib.h>
#include <string.h>
#include <gcrypt.h>
#include "seal.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

#define SEAL_MAGIC "MMS1"
#define MAGIC_LEN 4
#define NONCE_LEN 12
#define TAG_LEN 16
#define HEAD_LEN (MAGIC_LEN + NONCE_LEN)

static int initialised;
static gcry_cipher_hd_t cipher;
static unsigned char *cipher_key;  /* secure memory: the key set in cipher */
static int cipher_keyed;
static gcry_md_hd_t hmac;         /* keyed with hmac_key */
#define HMAC_KEY_MAX 64
static unsigned char *hmac_key;    /* secure memory */
static size_t hmac_keylen;

static void seal_atexit(void)
{
	if (cipher) {
		gcry_cipher_close(cipher);
		cipher = NULL;
	}
	if (cipher_key) {
		wipe(cipher_key, SEAL_KEY_LEN);
		gcry_free(cipher_key);
		cipher_key = NULL;
	}
	cipher_keyed = 0;
	if (hmac) {
		gcry_md_close(hmac);
		hmac = NULL;
	}
	if (hmac_key) {
		wipe(hmac_key, HMAC_KEY_MAX);
		gcry_free(hmac_key);
		hmac_key = NULL;
	}
	hmac_keylen = 0;
}

void seal_init(void)
{
	if (initialised)
		return;
	if (!gcry_check_version(GCRYPT_VERSION))
		msg_fatal("libgcrypt is older than %s", GCRYPT_VERSION);
	if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
		gcry_control(GCRYCTL_SUSPEND_SECMEM_WARN);
		gcry_control(GCRYCTL_INIT_SECMEM, 65536, 0);
		gcry_control(GCRYCTL_RESUME_SECMEM_WARN);
		gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	}
	initialised = 1;
	atexit(seal_atexit);
}

void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	seal_init();
	gcry_md_hash_buffer(GCRY_MD_SHA256, out, data, len);
}

void sha256_hex(const void *data, size_t len, struct strbuf *out)
{
	unsigned char md[SHA256_LEN];

	sha256(data, len, md);
	strbuf_add_hex(out, md, sizeof(md));
}

void hmac_sha256(const unsigned char *key, size_t keylen, const void *data, size_t len,
		 unsigned char out[SHA256_LEN])
{
	gcry_error_t err;

	seal_init();
	/*
	 * One keyed handle is kept, as for the cipher: opening one in secure
	 * memory and keying it costs far more than hashing a short text.
	 * gcry_md_reset() keeps an HMAC handle's key.
	 */
	if (hmac && (keylen != hmac_keylen || memcmp(hmac_key, key, keylen))) {
		gcry_md_close(hmac);
		hmac = NULL;
	}
	if (!hmac) {
		err = gcry_md_open(&hmac, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC | GCRY_MD_FLAG_SECURE);
		if (err)
			msg_fatal("cannot start HMAC-SHA256: %s", gcry_strerror(err));
		err = gcry_md_setkey(hmac, key, keylen);
		if (err)
			msg_fatal("cannot set the HMAC key: %s", gcry_strerror(err));
		if (!hmac_key)
			hmac_key = gcry_malloc_secure(HMAC_KEY_MAX);
		if (!hmac_key)
			msg_fatal("out of secure memory");
		hmac_keylen = keylen <= HMAC_KEY_MAX ? keylen : 0;
		memcpy(hmac_key, key, hmac_keylen);
	} else {
		gcry_md_reset(hmac);
	}
	gcry_md_write(hmac, data, len);
	memcpy(out, gcry_md_read(hmac, GCRY_MD_SHA256), SHA256_LEN);
	if (!hmac_keylen) {
		/* A key too long to remember: not kept. */
		gcry_md_close(hmac);
		hmac = NULL;
	}
}

void random_bytes(void *buf, size_t len)
{
	seal_init();
	gcry_randomize(buf, len, GCRY_STRONG_RANDOM);
}

void random_nonce(void *buf, size_t len)
{
	seal_init();
	gcry_create_nonce(buf, len);
}

void wipe(void *buf, size_t len)
{
	/* glibc's explicit_bzero: a memset the compiler may not drop. */
	explicit_bzero(buf, len);
}

/*
 * The process's cipher handle, keyed with key and set to nonce, with the
 * header and aad authenticated. NULL on a libgcrypt failure, reported
 * unless quiet.
 */
static gcry_cipher_hd_t cipher_start(const unsigned char key[SEAL_KEY_LEN],
				     const unsigned char head[HEAD_LEN], const char *aad,
				     int quiet)
{
	gcry_error_t err;
	const char *what;

	seal_init();
	if (!cipher) {
		what = "open AES-256-GCM";
		err = gcry_cipher_open(&cipher, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM,
				       GCRY_CIPHER_SECURE);
		if (err) {
			cipher = NULL;
			goto fail;
		}
		cipher_key = gcry_malloc_secure(SEAL_KEY_LEN);
		if (!cipher_key)
			msg_fatal("out of secure memory");
	}
	if (!cipher_keyed || memcmp(cipher_key, key, SEAL_KEY_LEN)) {
		cipher_keyed = 0;
		what = "set the sealing key";
		err = gcry_cipher_setkey(cipher, key, SEAL_KEY_LEN);
		if (err)
			goto fail;
		memcpy(cipher_key, key, SEAL_KEY_LEN);
		cipher_keyed = 1;
	}
	what = "start sealing";
	err = gcry_cipher_reset(cipher);
	if (!err)
		err = gcry_cipher_setiv(cipher, head + MAGIC_LEN, NONCE_LEN);
	if (!err)
		err = gcry_cipher_authenticate(cipher, head, HEAD_LEN);
	if (!err && aad)
		err = gcry_cipher_authenticate(cipher, aad, strlen(aad));
	if (err)
		goto fail;
	return cipher;
fail:
	if (!quiet)
		error("cannot %s: %s", what, gcry_strerror(err));
	return NULL;
}

/* A new header (magic, random nonce) in head, and the cipher started for it. */
static gcry_cipher_hd_t seal_start(const unsigned char key[SEAL_KEY_LEN], const char *aad,
				   unsigned char head[HEAD_LEN])
{
	memcpy(head, SEAL_MAGIC, MAGIC_LEN);
	random_nonce(head + MAGIC_LEN, NONCE_LEN);
	return cipher_start(key, head, aad, 0);
}

/*
 * Room for extra more bytes in buf; if that moves the buffer, the old one
 * is wiped before it is freed (it holds the plaintext about to be sealed).
 */
static void grow_wiping(struct strbuf *buf, size_t extra)
{
	char *fresh;

	if (!buf->alloc || buf->len + extra + 1 <= buf->alloc) {
		strbuf_grow(buf, extra);
		return;
	}
	fresh = xmalloc(buf->len + extra + 1);
	memcpy(fresh, buf->buf, buf->len + 1);
	wipe(buf->buf, buf->alloc);
	free(buf->buf);
	buf->buf = fresh;
	buf->alloc = buf->len + extra + 1;
}

/*
 * Seal buf->buf[from..len) where it lies. On failure that part is wiped
 * and cut off.
 */
static int seal_tail(const unsigned char key[SEAL_KEY_LEN], const char *aad,
		     struct strbuf *buf, size_t from)
{
	unsigned char head[HEAD_LEN];
	unsigned char *p;
	gcry_cipher_hd_t hd = seal_start(key, aad, head);
	gcry_error_t err = 0;
	size_t len = buf->len - from;

	if (hd) {
		grow_wiping(buf, HEAD_LEN + TAG_LEN);
		p = (unsigned char *)buf->buf + from;
		memmove(p + HEAD_LEN, p, len);
		memcpy(p, head, HEAD_LEN);
		err = gcry_cipher_final(hd);
		if (!err)
			err = gcry_cipher_encrypt(hd, p + HEAD_LEN, len, NULL, 0);
		if (!err)
			err = gcry_cipher_gettag(hd, p + HEAD_LEN + len, TAG_LEN);
		if (!err) {
			strbuf_setlen(buf, from + HEAD_LEN + len + TAG_LEN);
			return 0;
		}
		len += HEAD_LEN;
	}
	wipe(buf->buf + from, len);
	strbuf_setlen(buf, from);
	return hd ? error("cannot seal: %s", gcry_strerror(err)) : -1;
}

int seal(const unsigned char key[SEAL_KEY_LEN], const char *aad, const void *in,
	 size_t len, struct strbuf *out)
{
	size_t from = out->len;

	strbuf_add(out, in, len);
	return seal_tail(key, aad, out, from);
}

int seal_to(const unsigned char key[SEAL_KEY_LEN], const char *aad, const void *in,
	    size_t len, char **out, size_t *outlen)
{
	unsigned char head[HEAD_LEN], *p;
	gcry_cipher_hd_t hd = seal_start(key, aad, head);
	gcry_error_t err;

	*out = NULL;
	*outlen = 0;
	if (!hd)
		return -1;
	p = xmalloc(HEAD_LEN + len + TAG_LEN);
	memcpy(p, head, HEAD_LEN);
	err = gcry_cipher_final(hd);
	if (!err)
		err = gcry_cipher_encrypt(hd, p + HEAD_LEN, len, in, len);
	if (!err)
		err = gcry_cipher_gettag(hd, p + HEAD_LEN + len, TAG_LEN);
	if (err) {
		free(p);
		return error("cannot seal: %s", gcry_strerror(err));
	}
	*out = (char *)p;
	*outlen = HEAD_LEN + len + TAG_LEN;
	return 0;
}

int unseal(const unsigned char key[SEAL_KEY_LEN], const char *aad, const void *in,
	   size_t len, struct strbuf *out)
{
	const unsigned char *s = in;
	unsigned char *p;
	gcry_cipher_hd_t hd;
	gcry_error_t err;
	size_t ctlen;

	if (len < SEAL_OVERHEAD || memcmp(s, SEAL_MAGIC, MAGIC_LEN))
		return -1;
	ctlen = len - SEAL_OVERHEAD;
	hd = cipher_start(key, s, aad, 1);
	if (!hd)
		return -1;
	strbuf_grow(out, ctlen);
	p = (unsigned char *)out->buf + out->len;
	err = gcry_cipher_final(hd);
	if (!err)
		err = gcry_cipher_decrypt(hd, p, ctlen, s + HEAD_LEN, ctlen);
	if (!err)
		err = gcry_cipher_checktag(hd, s + HEAD_LEN + ctlen, TAG_LEN);
	if (err) {
		wipe(p, ctlen);
		out->buf[out->len] = '\0';
		return -1;
	}
	strbuf_setlen(out, out->len + ctlen);
	return 0;
}

int seal_in_place(const unsigned char key[SEAL_KEY_LEN], const char *aad, struct strbuf *buf)
{
	return seal_tail(key, aad, buf, 0);
}

int unseal_in_place(const unsigned char key[SEAL_KEY_LEN], const char *aad, struct strbuf *buf)
{
	unsigned char *p = (unsigned char *)buf->buf;
	gcry_cipher_hd_t hd;
	gcry_error_t err;
	size_t ctlen;

	if (buf->len < SEAL_OVERHEAD || memcmp(p, SEAL_MAGIC, MAGIC_LEN))
		goto fail;
	ctlen = buf->len - SEAL_OVERHEAD;
	hd = cipher_start(key, p, aad, 1);
	if (!hd)
		goto fail;
	err = gcry_cipher_final(hd);
	if (!err)
		err = gcry_cipher_decrypt(hd, p + HEAD_LEN, ctlen, NULL, 0);
	if (!err)
		err = gcry_cipher_checktag(hd, p + HEAD_LEN + ctlen, TAG_LEN);
	if (err)
		goto fail;
	memmove(p, p + HEAD_LEN, ctlen);
	wipe(p + ctlen, SEAL_OVERHEAD);
	strbuf_setlen(buf, ctlen);
	return 0;
fail:
	wipe(buf->buf, buf->len);
	strbuf_setlen(buf, 0);
	return -1;
}

int seal_stream(const unsigned char key[SEAL_KEY_LEN], const char *aad, seal_fill_fn *fill,
		seal_out_fn *out, void *ctx)
{
	unsigned char head[HEAD_LEN], tag[TAG_LEN];
	struct strbuf chunk = STRBUF_INIT;
	gcry_cipher_hd_t hd;
	gcry_error_t err = 0;
	int more = 1, ret = -1;

	hd = seal_start(key, aad, head);
	if (!hd || out(ctx, head, HEAD_LEN) < 0)
		goto out;
	while (more) {
		size_t n;

		more = fill(ctx, &chunk);
		if (more < 0)
			goto out;
		/* GCM takes whole blocks until the last piece. */
		n = more ? chunk.len - chunk.len % 16 : chunk.len;
		if (more && n < 65536)
			continue;
		if (!more)
			err = gcry_cipher_final(hd);
		if (!err)
			err = gcry_cipher_encrypt(hd, chunk.buf, n, NULL, 0);
		if (err)
			break;
		if (out(ctx, chunk.buf, n) < 0)
			goto out;
		/* The rest (under a block) is still plaintext: keep it first. */
		memmove(chunk.buf, chunk.buf + n, chunk.len - n);
		strbuf_setlen(&chunk, chunk.len - n);
	}
	if (!err)
		err = gcry_cipher_gettag(hd, tag, TAG_LEN);
	if (err) {
		error("cannot seal: %s", gcry_strerror(err));
		goto out;
	}
	ret = out(ctx, tag, TAG_LEN);
out:
	if (chunk.alloc)
		wipe(chunk.buf, chunk.alloc);
	strbuf_release(&chunk);
	return ret;
}
