#!/bin/sh
# make valgrind: the demo's end-to-end commands, each run under valgrind's
# memcheck on a demo installation (intake, export, import, request-mail,
# dispatch, deliver into local Maildirs, stats, match, show, expire).
# A command fails its test when memcheck reports an error or a definite
# leak (exit 99) or when the command itself fails; the report of every
# command is kept in tests/trash/valgrind/vg.NAME.log and the errors of a
# failing one are printed.  Not part of make check (it takes minutes).
#   BUILD=build-valgrind sh tests/valgrind.sh
. "$(dirname "$0")/lib.sh"

supp=
[ -f "$TEST_SRC/tests/valgrind.supp" ] && supp="--suppressions=$TEST_SRC/tests/valgrind.supp"
# vg NAME ARGS...: mimamori ARGS under memcheck; its output on stdout.
vg() {
	log=$TRASH/vg.$1.log
	shift
	valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite \
		--track-origins=yes --num-callers=30 $supp --log-file="$log" \
		"$MIMAMORI_BIN" "$@"
	code=$?
	if [ -s "$log" ]; then
		echo "memcheck report ($log):" >&2
		cat "$log" >&2
	fi
	return $code
}

test_expect_success 'setup: a demo installation' '
	setup_demo
'

test_expect_success 'intake' '
	mkdir -p demo/spool/incoming &&
	cp demo/samples/*.xml demo/spool/incoming/ &&
	vg intake intake >out && cat out &&
	grep -q "^accepted" out &&
	cp demo/samples/registration-kobe-hanako.xml demo/spool/incoming/ &&
	vg intake-reject intake >out && cat out &&
	grep -q "^rejected .*duplicate" out
'

test_expect_success 'show (full and --as alert)' '
	id=$(ls demo/spool/registry/records | sed -n 1p | sed "s/\.[0-9]*$//") &&
	echo "show $id" &&
	vg show show "$id" >out && cat out && grep -q "<record" out &&
	vg show-alert show "$id" --as alert >out && cat out && grep -q "<" out
'

test_expect_success 'export' '
	vg export export >out && cat out &&
	ls demo/spool/outgoing/police-ikuta/*.tar.gpg
'

test_expect_success 'import (police node)' '
	cp demo/spool/outgoing/police-ikuta/*.tar.gpg demo/nodes/police-ikuta/spool/import/ &&
	vg import -c "$TRASH/demo/nodes/police-ikuta/mimamori.xml" import >out && cat out &&
	grep -q "^accepted" out
'

test_expect_success 'request-mail' '
	op=$(sed -n "s/.*<operator key=\"\([0-9A-F]*\)\".*/\1/p" demo/mimamori.xml) &&
	node=$(sed -n "s/.*<agency id=\"council\"[^>]* key=\"\([0-9A-F]*\)\".*/\1/p" demo/mimamori.xml) &&
	hanako=$(ls demo/spool/registry/records | sed "s/\.[0-9]*$//" | while read r; do
		mimamori show "$r" 2>/dev/null | grep -q "こうべ はなこ" && echo "$r"; done | head -1) &&
	test -n "$hanako" &&
	{
		echo "type: alert"
		echo "status: actual"
		echo "registration: $hanako"
		echo "requester-name: 神戸 太郎"
		echo "requester-relationship: 長男"
		echo "police-station: police-ikuta"
		echo "police-report-at: $(date -d "-10 min" +%Y-%m-%dT%H:%M:00%:z)"
		echo "missing-since: $(date -d "-3 hours" +%Y-%m-%dT%H:%M:00%:z)"
		echo "last-seen: 三宮センター街 東口付近"
		echo "clothing: 紺色のジャンパー、灰色のズボン、白い運動靴"
		echo "area: chuo nada"
	} >request.form &&
	mkdir -p demo/spool/inbox/new &&
	vg request-mail request-mail --gnupg-home demo/operator/gnupg --key "$op" \
		--from ops@vendor.example.jp --to alerts@example.jp --encrypt-to "$node" \
		--form request.form -o demo/spool/inbox/new/request-1 &&
	test -s demo/spool/inbox/new/request-1
'

test_expect_success 'dispatch' '
	vg dispatch dispatch >out && cat out &&
	grep -q "^accepted" out
'

test_expect_success 'deliver (local Maildirs)' '
	vg deliver deliver >out && cat out &&
	ls demo/spool/mail/helper1@example.jp/new/* >/dev/null
'

test_expect_success 'stats' '
	vg stats stats >out && cat out && test -s out
'

test_expect_success 'match' '
	vg match match --text "ジャンパー 白髪" --limit 5 >out && cat out &&
	vg match-police -c "$TRASH/demo/nodes/police-ikuta/mimamori.xml" \
		match --sex female --age 70-95 --text "眼鏡" --limit 3 >out && cat out
'

test_expect_success 'expire (two years later)' '
	expiry=$(date -d "+2 years +1 day" +%Y-%m-%d) &&
	vg expire --now "$expiry" expire >out && cat out &&
	vg expire-police -c "$TRASH/demo/nodes/police-ikuta/mimamori.xml" --now "$expiry" expire
'

test_expect_success 'audit verify' '
	vg audit-verify audit verify
'

test_done
