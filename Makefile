# mimamori - build, test, demo.  See README.md.

CC      ?= cc
PKGS     = libxml-2.0 gpgme libarchive libgcrypt libetpan
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS_ALL = -D_GNU_SOURCE -pthread $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lunistring -pthread
BUILD   ?= build
# make install: where the program lives (PREFIX, compiled into the binary
# as the folder of its schemas and templates) and where the files are
# written (DESTDIR, for packaging and tests: DESTDIR/PREFIX/...).
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
DATADIR  = $(PREFIX)/share/mimamori
MANDIR   = $(PREFIX)/share/man
UNITDIR  = $(PREFIX)/lib/systemd/system

SRCS     = $(sort $(wildcard pipeline/util/*.c pipeline/lib/*.c pipeline/core/*.c) \
             $(filter-out pipeline/util/% pipeline/lib/% pipeline/core/%,$(wildcard pipeline/*/*.c)))
OBJS     = $(SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ = $(BUILD)/obj/pipeline/mimamori.o
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)

all: $(BUILD)/mimamori

$(BUILD)/mimamori: $(MAIN_OBJ) $(BUILD)/libmimamori.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# The installation's data folder, compiled into mimamori.o; the stamp
# changes (and mimamori.o is rebuilt) only when PREFIX does.
$(BUILD)/datadir: FORCE
	@mkdir -p $(BUILD)
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' >$@

$(MAIN_OBJ): $(BUILD)/datadir
$(MAIN_OBJ): CPPFLAGS_ALL += -DMIMAMORI_DATADIR='"$(DATADIR)"'

$(BUILD)/libmimamori.a: $(OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: %.c $(wildcard pipeline/*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS_ALL) -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c tests/unit/unit.h tests/unit/unit_node.h $(BUILD)/libmimamori.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS_ALL) -Ipipeline -DSRCDIR=\"$(CURDIR)\" -o $@ $< $(BUILD)/libmimamori.a $(LIBS)

# Fuzz targets (tests/fuzz/fuzz.h): replayed on their corpora by make check
# as BUILD/unit/test_fuzz_NAME; fuzzed with clang's libFuzzer by make fuzz.
FUZZ_SRCS   = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY = $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=$(BUILD)/unit/test_fuzz_%)

$(BUILD)/unit/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(BUILD)/libmimamori.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS_ALL) -Ipipeline -DSRCDIR=\"$(CURDIR)\" -DFUZZ_TARGET=\"$*\" -o $@ tests/fuzz/replay.c $< $(BUILD)/libmimamori.a $(LIBS)

units: $(UNIT_BINS) $(FUZZ_REPLAY)

# Debian packages the build, the tests and the demo need.  Idempotent.
DEPS = build-essential pkg-config libetpan-dev libxml2-dev libxml2-utils \
       libgpgme-dev gnupg gpg-agent libarchive-dev libgcrypt20-dev \
       libunistring-dev postfix dovecot-imapd time perl faketime \
       strace man-db groff-base python3
deps:
	@sh tests/install-deps.sh $(DEPS)

check: deps
	$(MAKE) all units
	@sh tests/run.sh $(BUILD)

asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" all units

# LeakSanitizer is on: a leak makes the command exit 23 (its test then fails,
# unless it only expects a failure).
# UBSan stops the process at its first finding: a test that passes while
# stderr (kept only on failure) says "runtime error" would hide it.
# The kill -9 scripts run fewer rounds here (each round is the same code
# path; make crash runs many) and the convergence test a smaller history.
check-asan: deps asan
	@MIMAMORI_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		CRASH_RUNS=$${CRASH_RUNS:-8} CONVERGE_CHANGES=$${CONVERGE_CHANGES:-60} \
		sh tests/run.sh build-asan

# The tests whose outcome could depend on the day they run, once more
# with every clock (ours, gpg's, the shell's) two years ahead (Debian's
# faketime): a test that compares a fixed date with the real clock fails
# here long before that date comes. CI runs it after check-asan. Files'
# times are left as the kernel keeps them (NO_FAKE_STAT). Scripts that
# age files with touch -d (t0600) or talk to dovecot (t07*) are not here:
# faketime moves their files' or the server's times apart from ours, and
# they hold no fixed date.
FUTURE   ?= +2y
FUTURE_SCRIPTS = tests/t0100-intake.sh tests/t0400-exchange.sh \
	tests/t0410-exchange-reject.sh tests/t0450-request-mail.sh \
	tests/t0500-dispatch.sh tests/t0510-dispatch-reject.sh \
	tests/t0800-expire.sh tests/t0810-stats.sh \
	tests/t0830-expire-alerts.sh tests/t0910-full-disk.sh \
	tests/t0930-export-killed-twice.sh tests/t0952-spec-alert.sh
check-future: deps
	@sh tests/install-deps.sh faketime
	$(MAKE) all units
	@RUN_UNITS=1 FAKETIME_DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1 faketime -f '$(FUTURE)' \
		sh tests/run.sh $(BUILD) $(FUTURE_SCRIPTS)

# Memcheck on the demo's end-to-end commands (tests/valgrind.sh), on a
# plain -O1 -g build in build-valgrind.
valgrind: deps
	$(MAKE) BUILD=build-valgrind CFLAGS="-O1 -g" all
	@BUILD=build-valgrind nice -n 10 sh tests/valgrind.sh

demo: deps
	$(MAKE) all
	@sh tests/demo.sh $(BUILD)

# The benchmarks: B1-B4 against their baselines (BENCH_N, BENCH_FULL=1: see
# tests/bench/bench.sh).
bench: deps
	$(MAKE) all
	@nice -n 10 sh tests/bench/bench.sh $(BUILD)

# make crash [CRASH_RUNS=N]: every tests/t*-crash.sh with N kill -9 runs
# (make check runs them with about 30).
CRASH_RUNS ?= 200
crash: deps
	$(MAKE) all units
	@sh tests/crash/run.sh $(BUILD) $(CRASH_RUNS)

# make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="bundle ..."]: each target N
# seconds under libFuzzer, one at a time, niced; crashes are kept in
# build-fuzz/crashes/NAME/ (copy them to tests/fuzz/regressions/NAME/).
FUZZ_DEPS    = clang libclang-rt-14-dev
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined
fuzz:
	@sh tests/install-deps.sh $(FUZZ_DEPS)
	$(MAKE) BUILD=build-fuzz CC=clang WARN="-Wall -Wno-unused-parameter" \
		CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" fuzz-targets
	@sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-targets: $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/libmimamori.a
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(WARN) $(CPPFLAGS_ALL) -Ipipeline \
		-DSRCDIR=\"$(CURDIR)\" -o $@ $< $(BUILD)/libmimamori.a $(filter-out -specs=%,$(LIBS))

# make install PREFIX=/usr/local DESTDIR=: the binary, its schemas,
# templates and demo samples, the man pages and the systemd unit for
# watch (man/mimamori-watch.service.in, with BINDIR filled in); every
# man/*.1, *.5 and *.7. Needs root
# only when DESTDIR/PREFIX is a system folder.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/schemas \
		$(DESTDIR)$(DATADIR)/templates $(DESTDIR)$(DATADIR)/samples \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/mimamori $(DESTDIR)$(BINDIR)/mimamori
	install -m 0644 schemas/*.xsd $(DESTDIR)$(DATADIR)/schemas/
	install -m 0644 templates/*.txt $(DESTDIR)$(DATADIR)/templates/
	install -m 0644 samples/*.xml $(DESTDIR)$(DATADIR)/samples/
	install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	sed 's|@BINDIR@|$(BINDIR)|g' man/mimamori-watch.service.in \
		>$(DESTDIR)$(UNITDIR)/mimamori-watch.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/mimamori-watch.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mimamori $(DESTDIR)$(UNITDIR)/mimamori-watch.service \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard man/*.5))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(wildcard man/*.7)))
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-asan build-fuzz build-valgrind

.PHONY: FORCE install uninstall all units deps check check-future asan check-asan valgrind demo clean fuzz fuzz-targets crash bench
