/*
 * gpg_stream - decryption and encryption as streams, for bundles too
 * large to hold (lib/gpg.h): the decryption runs in a child process that
 * hands the plaintext out on a pipe and its outcome (integrity,
 * signatures) on another at the end; the encryption runs gpg itself on a
 * pipe, writing straight into the caller's file.
 *
 * SECURITY: the same rules as gpg.c: no plaintext read from a stream may
 * be believed before gpg_decrypt_finish() says 0 (integrity and
 * signatures are known only at the end); encryption to exactly the given
 * full fingerprints, no encrypt-to, no network, no pinentry. The children
 * keep no descriptor of ours but their own (a lock held through one would
 * outlive a killed parent).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gpgme.h>
#include "gpg.h"
#include "gpg_int.h"
#include "../util/xalloc.h"

/*
 * Streaming decryption: a child process runs the decryption, writing the
 * plaintext into a pipe as gpg hands it out, and at the end sends its
 * outcome (below) on a second pipe. The reader may stop at any point and
 * close its end: the child's next write fails and the decryption ends.
 */
#define STREAM_MAX_SIGS 16

struct stream_outcome {
	int ok;
	int was_encrypted, integrity_ok;
	size_t nr;
	char why[400];
};

struct gpg_stream {
	pid_t pid;
	int outcome_fd;
};

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static size_t read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/*
 * The child keeps no descriptor of its parent's but its three: a lock
 * held through an inherited descriptor would outlive a killed parent.
 */
static void close_others(int a, int b, int c)
{
	long fd, max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		if (fd != a && fd != b && fd != c)
			close((int)fd);
}

static void __attribute__((noreturn)) stream_child(int in_fd, int out_fd, int outcome_fd)
{
	struct stream_outcome o;
	struct gpg_sigs sigs = { NULL, 0, 0, 0 };
	struct strbuf why = STRBUF_INIT;
	gpgme_data_t din = NULL, dout = NULL;
	gpgme_error_t err;

	memset(&o, 0, sizeof(o));
	close_others(in_fd, out_fd, outcome_fd);
	err = gpgme_data_new_from_fd(&din, in_fd);
	if (!err)
		err = gpgme_data_new_from_fd(&dout, out_fd);
	if (!err)
		gpgme_data_set_flag(dout, "io-buffer-size", "65536");
	if (err) {
		strbuf_fail(&why, "cannot set up GPGME data: %s", gpgme_strerror(err));
	} else {
		err = gpgme_op_decrypt_verify(gpg_context(), din, dout);
		close(out_fd);
		o.ok = gpg_decrypt_outcome(err, &sigs, &why) == 0;
	}
	o.was_encrypted = sigs.was_encrypted;
	o.integrity_ok = sigs.integrity_ok;
	o.nr = sigs.nr < STREAM_MAX_SIGS ? sigs.nr : STREAM_MAX_SIGS;
	snprintf(o.why, sizeof(o.why), "%s", why.buf);
	if (write_full(outcome_fd, &o, sizeof(o)) == 0 && o.nr)
		write_full(outcome_fd, sigs.sig, o.nr * sizeof(*sigs.sig));
	_exit(0);
}

int gpg_decrypt_start(int in_fd, struct gpg_stream **sp, int *out_fd, struct strbuf *why)
{
	int data[2], outcome[2];
	pid_t pid;

	*sp = NULL;
	*out_fd = -1;
	if (gpg_need_ctx(why))
		return -1;
	if (pipe(data) < 0)
		return strbuf_fail(why, "cannot make a pipe: %s", strerror(errno));
	if (pipe(outcome) < 0) {
		close(data[0]);
		close(data[1]);
		return strbuf_fail(why, "cannot make a pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		close(data[0]);
		close(data[1]);
		close(outcome[0]);
		close(outcome[1]);
		return strbuf_fail(why, "cannot fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(data[0]);
		close(outcome[0]);
		stream_child(in_fd, data[1], outcome[1]);
	}
	close(data[1]);
	close(outcome[1]);
	fcntl(data[0], F_SETFD, FD_CLOEXEC);
	fcntl(outcome[0], F_SETFD, FD_CLOEXEC);
	*sp = xcalloc(1, sizeof(**sp));
	(*sp)->pid = pid;
	(*sp)->outcome_fd = outcome[0];
	*out_fd = data[0];
	return 0;
}

int gpg_decrypt_finish(struct gpg_stream *s, struct gpg_sigs *sigs, struct strbuf *why)
{
	struct stream_outcome o;
	int status = 0;
	size_t got;

	memset(sigs, 0, sizeof(*sigs));
	got = read_full(s->outcome_fd, &o, sizeof(o));
	if (got == sizeof(o) && o.nr <= STREAM_MAX_SIGS) {
		sigs->sig = xcalloc(o.nr ? o.nr : 1, sizeof(*sigs->sig));
		if (read_full(s->outcome_fd, sigs->sig, o.nr * sizeof(*sigs->sig)) ==
		    o.nr * sizeof(*sigs->sig))
			sigs->nr = o.nr;
		else
			got = 0;
	}
	close(s->outcome_fd);
	while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
		;
	free(s);
	if (got != sizeof(o)) {
		gpg_sigs_release(sigs);
		if (WIFSIGNALED(status))
			return strbuf_fail(why, "cannot decrypt: the decryption process died "
					   "(signal %d)", WTERMSIG(status));
		return strbuf_fail(why, "cannot decrypt: the decryption process failed");
	}
	o.why[sizeof(o.why) - 1] = '\0';
	sigs->was_encrypted = o.was_encrypted;
	sigs->integrity_ok = o.integrity_ok;
	if (!o.ok) {
		gpg_sigs_release(sigs);
		sigs->was_encrypted = o.was_encrypted;
		return strbuf_fail(why, "%s", o.why);
	}
	return 0;
}


/*
 * Encryption as a stream: gpg itself, the engine GPGME uses, runs as a
 * child reading the plaintext from a pipe and writing the encrypted data
 * straight to out_fd (GPGME would copy every byte through this process
 * twice, and look each key up in a gpg process of its own first). Its
 * outcome is its exit status, its reason the last line it printed. The
 * fingerprints are checked for form here; an unusable key is gpg's to
 * refuse.
 */
struct gpg_enc_stream {
	pid_t pid;
	int err_fd;
};

static const char *engine_path(void)
{
	gpgme_engine_info_t info;

	if (gpgme_get_engine_info(&info))
		return NULL;
	for (; info; info = info->next)
		if (info->protocol == GPGME_PROTOCOL_OpenPGP)
			return info->file_name;
	return NULL;
}

int gpg_encrypt_start(const char *const *recipients, const char *signer_fpr, int out_fd,
		      struct gpg_enc_stream **sp, int *in_fd, struct strbuf *why)
{
	const char *gpg = engine_path();
	const char *argv[40];
	int data[2] = { -1, -1 }, err[2] = { -1, -1 };
	size_t i, n = 0, argc = 0;
	pid_t pid;
	int ret = -1;

	*sp = NULL;
	*in_fd = -1;
	if (gpg_need_ctx(why))
		return -1;
	if (!gpg)
		return strbuf_fail(why, "no usable gpg");
	while (recipients && recipients[n])
		n++;
	if (!n || n > 8)
		return strbuf_fail(why, n ? "too many recipients" : "no recipients");
	for (i = 0; i < n; i++)
		if (!gpg_is_fpr(recipients[i]))
			return strbuf_fail(why, "'%s' is not a key fingerprint", recipients[i]);
	if (signer_fpr && !gpg_is_fpr(signer_fpr))
		return strbuf_fail(why, "'%s' is not a key fingerprint", signer_fpr);
	argv[argc++] = gpg;
	argv[argc++] = "--homedir";
	argv[argc++] = gpg_home();
	argv[argc++] = "--batch";
	argv[argc++] = "--quiet";
	argv[argc++] = "--no-tty";
	argv[argc++] = "--no-greeting";
	argv[argc++] = "--pinentry-mode";
	argv[argc++] = "loopback";
	argv[argc++] = "--trust-model";
	argv[argc++] = "always";
	argv[argc++] = "--no-encrypt-to";
	argv[argc++] = "--disable-dirmngr";
	argv[argc++] = "--no-auto-key-retrieve";
	argv[argc++] = "--encrypt";
	if (signer_fpr) {
		argv[argc++] = "--sign";
		argv[argc++] = "--local-user";
		argv[argc++] = signer_fpr;
	}
	for (i = 0; i < n; i++) {
		argv[argc++] = "--recipient";
		argv[argc++] = recipients[i];
	}
	argv[argc++] = "--output";
	argv[argc++] = "-";
	argv[argc] = NULL;
	if (pipe(data) < 0 || pipe(err) < 0) {
		strbuf_fail(why, "cannot make a pipe: %s", strerror(errno));
		goto done;
	}
	pid = fork();
	if (pid < 0) {
		strbuf_fail(why, "cannot fork: %s", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		if (dup2(data[0], 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err[1], 2) < 0)
			_exit(127);
		close_others(-1, -1, -1);
		execv(gpg, (char *const *)argv);
		_exit(127);
	}
	fcntl(data[1], F_SETFD, FD_CLOEXEC);
	fcntl(err[0], F_SETFD, FD_CLOEXEC);
	/* A deep pipe: fewer hand-overs between the writer and gpg. */
	fcntl(data[1], F_SETPIPE_SZ, 1 << 20);
	*sp = xcalloc(1, sizeof(**sp));
	(*sp)->pid = pid;
	(*sp)->err_fd = err[0];
	*in_fd = data[1];
	data[1] = err[0] = -1;
	ret = 0;
done:
	if (data[0] >= 0)
		close(data[0]);
	if (data[1] >= 0)
		close(data[1]);
	if (err[0] >= 0)
		close(err[0]);
	if (err[1] >= 0)
		close(err[1]);
	return ret;
}

int gpg_encrypt_finish(struct gpg_enc_stream *s, struct strbuf *why)
{
	struct strbuf msg = STRBUF_INIT;
	char buf[1024];
	ssize_t got;
	int status = 0, ret = 0;

	while ((got = read(s->err_fd, buf, sizeof(buf))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		if (msg.len < 4096)
			strbuf_add(&msg, buf, (size_t)got);
	}
	close(s->err_fd);
	while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
		;
	free(s);
	if (WIFSIGNALED(status)) {
		ret = strbuf_fail(why, "cannot encrypt: gpg died (signal %d)", WTERMSIG(status));
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char *nl;

		strbuf_rtrim(&msg);
		nl = strrchr(msg.buf, '\n');
		ret = strbuf_fail(why, "cannot encrypt: %s", msg.len ? (nl ? nl + 1 : msg.buf)
						: "gpg failed");
	}
	strbuf_release(&msg);
	return ret;
}
