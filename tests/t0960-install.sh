#!/bin/sh
# make install into a staging folder (DESTDIR, no root): every file in
# its place, every man page renders without a warning, the systemd unit
# verifies, and the installed binary runs the demo from the installed
# tree (MIMAMORI_HOME pointing into DESTDIR, since DESTDIR is not PREFIX).
. "$(dirname "$0")/lib.sh"

DEST=$TRASH/dest
P=$DEST/usr/local
IBIN=$P/bin/mimamori

# The installed binary, with the installed tree as its home.
inst() {
	MIMAMORI_HOME=$P/share/mimamori "$IBIN" "$@"
}

test_expect_success 'make install PREFIX=/usr/local DESTDIR=… writes below DESTDIR only' '
	make -C "$TEST_SRC" BUILD="$BUILD" install DESTDIR="$DEST" PREFIX=/usr/local \
		>make.out 2>&1 || { cat make.out; exit 1; }
	test -x "$IBIN" &&
	test "$(stat -c %a "$IBIN")" = 755 &&
	cmp "$IBIN" "$BUILD/mimamori" &&
	(cd "$DEST" && find . -type f | sort) >files &&
	cat files &&
	! grep -v "^./usr/local/" files
'

test_expect_success 'schemas, templates, samples, man pages and the unit are installed' '
	for f in "$TEST_SRC"/schemas/*.xsd; do
		cmp "$f" "$P/share/mimamori/schemas/${f##*/}" || exit 1
	done &&
	for f in "$TEST_SRC"/templates/*.txt; do
		cmp "$f" "$P/share/mimamori/templates/${f##*/}" || exit 1
	done &&
	for f in "$TEST_SRC"/samples/*.xml; do
		cmp "$f" "$P/share/mimamori/samples/${f##*/}" || exit 1
	done &&
	for f in "$TEST_SRC"/man/*.[157]; do
		cmp "$f" "$P/share/man/man${f##*.}/${f##*/}" || exit 1
	done &&
	test -s "$P/share/man/man1/mimamori.1" &&
	test -s "$P/share/man/man5/mimamori.xml.5" &&
	test -s "$P/share/man/man5/mimamori-spool.5" &&
	test -s "$P/share/man/man7/mimamori-design.7" &&
	test -s "$P/lib/systemd/system/mimamori-watch.service"
'

test_expect_success 'the unit runs watch as mimamori, hardened, from the installed binary' '
	u=$P/lib/systemd/system/mimamori-watch.service &&
	grep -x "ExecStart=/usr/local/bin/mimamori -c \${MIMAMORI_CONFIG} watch" "$u" &&
	grep -x "ExecStartPre=/usr/local/bin/mimamori check-config" "$u" &&
	for want in User=mimamori NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
		PrivateTmp=yes Restart=on-failure KillSignal=SIGTERM \
		ReadWritePaths=/var/lib/mimamori; do
		grep -qx "$want" "$u" || { echo "missing: $want"; exit 1; }
	done &&
	! grep "@BINDIR@" "$u"
'

test_expect_success 'systemd-analyze verify finds nothing wrong with the unit' '
	if ! command -v systemd-analyze >/dev/null 2>&1; then
		echo "# skipped: no systemd-analyze"
		exit 0
	fi
	# The unit as it would be at /usr/local (its binary at DESTDIR).
	mkdir -p unit &&
	sed "s|/usr/local/bin/mimamori|$IBIN|g" "$P/lib/systemd/system/mimamori-watch.service" \
		>unit/mimamori-watch.service &&
	MANPATH=$P/share/man systemd-analyze verify unit/mimamori-watch.service >verify.out 2>&1 ||
		{ cat verify.out; exit 1; }
	cat verify.out &&
	! grep -i -e "unknown" -e "ignoring" -e "warning" verify.out
'

test_expect_success 'the man pages render without a warning' '
	for m in "$P"/share/man/man[157]/*; do
		MANWIDTH=80 man --warnings -E UTF-8 -l "$m" >page.txt 2>groff.out &&
		! test -s groff.out || { echo "$m:"; cat groff.out; exit 1; }
		grep -q "^NAME" page.txt && grep -q "^SEE ALSO" page.txt ||
			{ echo "$m: no NAME or SEE ALSO"; exit 1; }
	done &&
	MANWIDTH=80 man -l "$P/share/man/man1/mimamori.1" >man1.txt 2>man.err &&
	grep "^SYNOPSIS" man1.txt &&
	grep "^       status \[--check\]" man1.txt &&
	grep "^EXIT STATUS" man1.txt &&
	grep "^       MIMAMORI_HOME" man1.txt &&
	MANWIDTH=80 man -l "$P/share/man/man5/mimamori.xml.5" >man5.txt 2>>man.err &&
	grep "<retention" man5.txt &&
	! test -s man.err
'

test_expect_success 'every command of the program is in mimamori(1)' '
	"$IBIN" --help 2>&1 | sed -n "s/^commands: //p" | tr " " "\n" >commands &&
	test $(wc -l <commands) -ge 19 &&
	while read -r c; do
		grep -q "^       $c\( \|$\)" man1.txt || { echo "not in mimamori(1): $c"; exit 1; }
	done <commands
'

test_expect_success 'every command has its page, and mimamori(1) points to it' '
	while read -r c; do
		test -s "$P/share/man/man1/mimamori-$c.1" || { echo "no page: mimamori-$c.1"; exit 1; }
		grep -q "mimamori-$c(1)" man1.txt || { echo "not cited in mimamori(1): mimamori-$c(1)"; exit 1; }
	done <commands
'

test_expect_success 'every element of the configuration is in mimamori.xml(5)' '
	grep -o "element name=\"[a-z-]*\"" "$TEST_SRC/schemas/config.xsd" |
		sed "s/element name=\"\(.*\)\"/\1/" | sort -u >elements &&
	test $(wc -l <elements) -ge 14 &&
	while read -r e; do
		grep -q "<$e\( \|>\|/\)" man5.txt || { echo "not in mimamori.xml(5): $e"; exit 1; }
	done <elements
'

test_expect_success 'the installed binary looks in PREFIX/share/mimamori, compiled in' '
	grep -c "/usr/local/share/mimamori" "$IBIN" &&
	MIMAMORI_HOME= "$IBIN" init plain --agency council --kind custodian --name Test >/dev/null &&
	if test -f /usr/local/share/mimamori/schemas/config.xsd; then
		echo "# /usr/local/share/mimamori is installed on this machine"
	else
		test_expect_code 70 env -u MIMAMORI_HOME "$IBIN" -c plain/mimamori.xml \
			check-config 2>err &&
		grep -F "/usr/local/share/mimamori/schemas/config.xsd" err
	fi
'

test_expect_success 'the build tree still finds its own schemas without MIMAMORI_HOME' '
	env -u MIMAMORI_HOME "$MIMAMORI_BIN" -c plain/mimamori.xml check-config >out &&
	grep "is fine" out
'

test_expect_success 'the demo from the installed tree: init --demo, check-config' '
	inst init d --demo >out &&
	test -f d/mimamori.xml &&
	ls d/samples/*.xml >samples &&
	test $(wc -l <samples) -eq $(ls "$TEST_SRC"/samples/*.xml | wc -l) &&
	inst -c d/mimamori.xml check-config >out &&
	grep "is fine" out
'

test_expect_success '... submit, intake, show, export' '
	inst -c d/mimamori.xml submit d/samples/*.xml >out &&
	test $(grep -c "^submitted incoming/" out) -eq 3 &&
	inst -c d/mimamori.xml intake >out &&
	test $(grep -c "^accepted incoming/" out) -eq 3 &&
	id=$(sed -n "1s/^accepted [^ ]* //p" out) &&
	echo "$id" >id &&
	inst -c d/mimamori.xml show "$id" >rec.xml &&
	grep "<birth-date>" rec.xml &&
	inst -c d/mimamori.xml show "$id" --as alert >alert.xml &&
	! grep "<birth-date>" alert.xml &&
	inst -c d/mimamori.xml export >out &&
	grep "^wrote outgoing/" out
'

test_expect_success '... a request dispatched (templates of the installed tree) and delivered' '
	op=$(sed -n "s/.*<operator key=\"\([0-9A-F]*\)\".*/\1/p" d/mimamori.xml) &&
	node=$(sed -n "s/.*<agency id=\"council\"[^>]* key=\"\([0-9A-F]*\)\".*/\1/p" d/mimamori.xml) &&
	reg=$(cat id) &&
	test -n "$reg" &&
	{
		echo "type: alert"
		echo "status: exercise"
		echo "registration: $reg"
		echo "requester-name: 試験 太郎"
		echo "requester-relationship: 長男"
		echo "police-station: police-ikuta"
		echo "police-report-at: $(date -d "-10 min" +%Y-%m-%dT%H:%M:00%:z)"
		echo "missing-since: $(date -d "-3 hours" +%Y-%m-%dT%H:%M:00%:z)"
		echo "last-seen: 駅前"
		echo "clothing: 紺色の上着"
		echo "area: chuo"
	} >request.form &&
	inst request-mail --gnupg-home d/operator/gnupg --key "$op" --from ops@vendor.example.jp \
		--to alerts@example.jp --encrypt-to "$node" --form request.form \
		-o d/spool/inbox/new/request-1 &&
	inst -c d/mimamori.xml dispatch >out 2>err &&
	cat out err &&
	grep "^accepted inbox/new/request-1 A[0-9]*-[0-9]* " out &&
	inst -c d/mimamori.xml deliver >out &&
	grep "^sent queue/" out &&
	ls d/spool/mail/*/new/* >mails &&
	test -s mails &&
	inst -c d/mimamori.xml status >out &&
	grep -x "alerts: 1 open, 0 held for approval" out
'

test_expect_success 'make uninstall removes what install wrote' '
	make -C "$TEST_SRC" BUILD="$BUILD" uninstall DESTDIR="$DEST" PREFIX=/usr/local \
		>make.out 2>&1 &&
	(cd "$DEST" && find . -type f) >left &&
	! test -s left
'

test_done
