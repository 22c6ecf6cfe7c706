# mimamori - build, test, demo.  See README.md.

CC      ?= cc
PKGS     = libxml-2.0 gpgme libarchive libgcrypt libetpan
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS_ALL = -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lunistring
BUILD   ?= build

SRCS     = $(sort $(wildcard pipeline/util/*.c pipeline/core/*.c) \
             $(filter-out pipeline/util/% pipeline/core/%,$(wildcard pipeline/*/*.c)))
OBJS     = $(SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ = $(BUILD)/obj/pipeline/mimamori.o
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)

all: $(BUILD)/mimamori

$(BUILD)/mimamori: $(MAIN_OBJ) $(BUILD)/libmimamori.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/libmimamori.a: $(OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: %.c $(wildcard pipeline/*/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS_ALL) -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libmimamori.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS_ALL) -Ipipeline -DSRCDIR=\"$(CURDIR)\" -o $@ $< $(BUILD)/libmimamori.a $(LIBS)

units: $(UNIT_BINS)

# Debian packages the build, the tests and the demo need.  Idempotent.
DEPS = build-essential pkg-config libetpan-dev libxml2-dev libxml2-utils \
       libgpgme-dev gnupg gpg-agent libarchive-dev libgcrypt20-dev \
       libunistring-dev postfix dovecot-imapd time
deps:
	@sh tests/install-deps.sh $(DEPS)

check: deps
	$(MAKE) all units
	@sh tests/run.sh $(BUILD)

asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" all units

check-asan: deps asan
	@ASAN_OPTIONS=detect_leaks=0 sh tests/run.sh build-asan

demo: deps
	$(MAKE) all
	@sh tests/demo.sh $(BUILD)

clean:
	rm -rf build build-asan

.PHONY: all units deps check asan check-asan demo clean
