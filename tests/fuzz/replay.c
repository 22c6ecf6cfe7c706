/*
 * replay - run one fuzz target (linked with it, see fuzz.h) on files,
 * without libFuzzer, so that make check replays the seed corpus and every
 * input that once broke the code with the normal compiler.
 *
 *   test_fuzz_NAME            every file of tests/fuzz/corpus/NAME/ and
 *                             tests/fuzz/regressions/NAME/
 *   test_fuzz_NAME FILE...    those files (to reproduce a crash)
 *
 * Each input runs in a child process on a buffer of exactly its size (so
 * the sanitizer build sees any read past the end); a child that dies by a
 * signal or exits non-zero fails that input, and so does one still
 * running after REPLAY_TIMEOUT seconds (a hang: SIGALRM). Output as tests/unit/unit.h:
 * "ok - test_fuzz_NAME: corpus (N inputs)" or "not ok - ...", failing
 * inputs named above it; exit status 1 when any failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fuzz.h"

#define REPLAY_TIMEOUT 20

static int run_one(const char *path)
{
	struct stat st;
	uint8_t *buf;
	ssize_t n;
	size_t got = 0;
	pid_t pid;
	int fd, status;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "  cannot read '%s': %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		abort();
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, st.st_size - got)) > 0)
		got += n;
	close(fd);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		free(buf);
		fprintf(stderr, "  cannot fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		alarm(REPLAY_TIMEOUT);
		LLVMFuzzerTestOneInput(buf, got);
		_exit(0);
	}
	free(buf);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM)
			fprintf(stderr, "  '%s': still running after %d seconds (a hang)\n",
				path, REPLAY_TIMEOUT);
		else
			fprintf(stderr, "  '%s': died by signal %d\n", path, WTERMSIG(status));
		return -1;
	}
	if (WEXITSTATUS(status)) {
		fprintf(stderr, "  '%s': exited %d\n", path, WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

/* Every regular file of dir (absent: none). Counts inputs and failures. */
static void run_dir(const char *dir, size_t *inputs, size_t *failed)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		(*inputs)++;
		if (run_one(path) < 0)
			(*failed)++;
	}
	closedir(d);
}

static int report(const char *what, size_t inputs, size_t failed)
{
	printf("%sok - test_fuzz_%s: %s (%zu inputs%s)\n", failed || !inputs ? "not " : "",
	       FUZZ_TARGET, what, inputs, failed ? ", some failed" : "");
	fflush(stdout);
	return failed || !inputs;
}

int main(int argc, char **argv)
{
	size_t inputs = 0, failed = 0;
	int i, bad;

	fuzz_setup();
	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			inputs++;
			if (run_one(argv[i]) < 0)
				failed++;
		}
		return report("given inputs", inputs, failed);
	}
	run_dir(SRCDIR "/tests/fuzz/corpus/" FUZZ_TARGET, &inputs, &failed);
	bad = report("seed corpus", inputs, failed);
	inputs = failed = 0;
	run_dir(SRCDIR "/tests/fuzz/regressions/" FUZZ_TARGET, &inputs, &failed);
	if (inputs)
		bad |= report("regressions", inputs, failed);
	return bad;
}
