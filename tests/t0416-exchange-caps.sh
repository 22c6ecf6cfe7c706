#!/bin/sh
# import: caps before any library sees the bytes. A bundle file over
# 512 MiB is refused from its size, unread; the plaintext streams from gpg
# into the archive reader and stops at 4 GiB; whatever the bundle, import
# stays under 256 MiB of memory, rejects the bomb with its reason and
# applies the good bundle behind it in the same run.
. "$(dirname "$0")/lib.sh"

fpr() {
	sed -n "s/.*id=\"$1\".*key=\"\([0-9A-F]*\)\".*/\1/p" demo/mimamori.xml
}

# bomb OUT < plaintext: compressed hard, signed by the custodian, for police-ikuta.
bomb() {
	gpg --homedir demo/gnupg --batch --yes --trust-model always --pinentry-mode loopback \
		--passphrase "" --compress-algo zlib -z 9 --local-user "$(fpr council)" \
		--recipient "$(fpr police-ikuta)" --encrypt --sign -o "$1"
}

PSPOOL=demo/nodes/police-ikuta/spool

# In an strace -f log: a-huge.tar.gpg opened once, and no read() on its
# descriptor before it is closed.
cat >unread.awk <<'AWK'
/openat\(.*a-huge\.tar\.gpg/ { fd = $NF; n++; next }
fd != "" && index($2, "read(" fd ",") == 1 { bad = 1 }
fd != "" && index($2, "close(" fd ")") == 1 { fd = "" }
END { exit !(n == 1 && !bad) }
AWK

# import_measured: import at police-ikuta, its peak resident memory (KiB,
# the largest process: import or a child; gpg included) in rss.
import_measured() {
	/usr/bin/time -v -o time.out "$MIMAMORI_BIN" -c "$TRASH/demo/nodes/police-ikuta/mimamori.xml" \
		import >out 2>err &&
	sed -n "s/.*Maximum resident set size (kbytes): //p" time.out >rss &&
	echo "# import peak RSS: $(cat rss) KiB" &&
	cat out
}

under_256m() {
	if [ -n "$MIMAMORI_SANITIZED" ]; then
		echo "# sanitized build: memory not measured"
		return 0
	fi
	test "$(cat rss)" -lt $((256 * 1024))
}

test_expect_success 'setup: a genuine bundle for police-ikuta, and its plaintext' '
	setup_demo &&
	mimamori submit demo/samples/*.xml >/dev/null && mimamori intake >/dev/null &&
	mimamori export >/dev/null &&
	cp demo/spool/outgoing/police-ikuta/council-police-ikuta-1.tar.gpg good.tar.gpg &&
	gpg --homedir demo/nodes/police-ikuta/gnupg --batch --decrypt good.tar.gpg \
		>good.tar 2>/dev/null &&
	mkdir plain && tar -C plain -xf good.tar && test -f plain/manifest.xml
'

test_expect_success 'a bundle file over 512 MiB is refused unread' '
	truncate -s 513M $PSPOOL/import/a-huge.tar.gpg &&
	# (LeakSanitizer cannot run under ptrace: off for this one command)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -e trace=openat,read,close -o trace "$MIMAMORI_BIN" \
		-c "$TRASH/demo/nodes/police-ikuta/mimamori.xml" import >out &&
	cat out &&
	grep -q "^rejected import/a-huge.tar.gpg: too large: over 512 MiB" out &&
	grep -q "too large" $PSPOOL/rejected/a-huge.tar.gpg.reason &&
	awk -f unread.awk trace &&
	rm $PSPOOL/rejected/a-huge.tar.gpg*
'

test_expect_success 'bombs: 1 GiB in one entry, and over 4 GiB once decrypted' '
	mkdir -p b1/records && cp plain/manifest.xml b1/ &&
	truncate -s 1G b1/records/R2026-000001.xml &&
	tar -C b1 --format=pax -cf - manifest.xml records/R2026-000001.xml | bomb a-bomb.tar.gpg &&
	{ cat good.tar && head -c $(( (4 << 30) + (64 << 20) )) /dev/zero; } | bomb b-bomb.tar.gpg &&
	ls -l a-bomb.tar.gpg b-bomb.tar.gpg &&
	test $(stat -c %s b-bomb.tar.gpg) -lt $((32 << 20))
'

test_expect_success 'the bombs are rejected in bounded memory; the good bundle behind them applies' '
	cp a-bomb.tar.gpg b-bomb.tar.gpg $PSPOOL/import/ &&
	cp good.tar.gpg $PSPOOL/import/council-police-ikuta-1.tar.gpg &&
	import_measured &&
	grep -q "^rejected import/a-bomb.tar.gpg: entry .records/R2026-000001.xml.: larger than 16777216 bytes" out &&
	grep -q "^rejected import/b-bomb.tar.gpg: over 4 GiB once decrypted" out &&
	grep -q "^accepted import/council-police-ikuta-1.tar.gpg council-1 " out &&
	node police-ikuta show R2026-000001 >/dev/null &&
	test -z "$(ls $PSPOOL/import)" && test -z "$(ls $PSPOOL/work/import)" &&
	under_256m
'

test_done
