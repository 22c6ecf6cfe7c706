#!/bin/sh
# mimamori(1) and mimamori.xml(5) read literally, black box: the command line, where the
# config is looked for, exit codes in the sysexits set of mimamori(1), one message
# style on stderr, and a config with unknown elements or attributes
# refused with 78 by every command.
. "$(dirname "$0")/lib.sh"

# The exit codes mimamori(1) allows.
in_spec_set() {
	case $1 in 0|64|65|69|70|74|75|78) return 0 ;; esac
	echo "exit code $1 is not one mimamori(1) lists" >&2
	return 1
}

test_expect_success 'setup: demo installation' '
	setup_demo
'

test_expect_success 'no command, an unknown command, a bad option: 64 (usage)' '
	test_expect_code 64 mimamori >out 2>err && ! test -s out &&
	test_expect_code 64 mimamori frobnicate >out 2>err && ! test -s out &&
	grep "frobnicate" err &&
	test_expect_code 64 mimamori --bogus intake >out 2>err && ! test -s out &&
	test_expect_code 64 mimamori -c >out 2>err &&
	test_expect_code 64 mimamori --now >out 2>err
'

test_expect_success 'a --now that is not ISO 8601 is a usage error' '
	test_expect_code 64 mimamori --now yesterday intake >out 2>err &&
	grep "yesterday" err && ! test -s out
'

test_expect_success 'every command with an unknown option or stray argument: 64' '
	for c in check-config intake export import fetch dispatch deliver expire run watch stats; do
		test_expect_code 64 mimamori $c --no-such-option >out 2>err || { echo "$c"; return 1; }
		! test -s out || { echo "$c printed on stdout"; return 1; }
	done &&
	test_expect_code 64 mimamori audit >out 2>err &&
	test_expect_code 64 mimamori audit frob >out 2>err &&
	test_expect_code 64 mimamori show >out 2>err &&
	test_expect_code 64 mimamori submit >out 2>err &&
	test_expect_code 64 mimamori match >out 2>err &&
	test_expect_code 64 mimamori init >out 2>err
'

test_expect_success '-c, then $MIMAMORI_CONFIG, then ./mimamori.xml' '
	mkdir -p here &&
	(cd here && unset MIMAMORI_CONFIG && test_expect_code 78 mimamori stats >../out 2>../err) &&
	grep "mimamori.xml" err &&
	(cd demo && unset MIMAMORI_CONFIG && mimamori stats >../out 2>../err) &&
	grep "^total" out &&
	(cd here && mimamori stats >../out) && grep "^total" out &&
	(cd here && MIMAMORI_CONFIG=/nonexistent.xml mimamori -c ../demo/mimamori.xml stats >../out) &&
	grep "^total" out &&
	(cd here && test_expect_code 78 env MIMAMORI_CONFIG=/nonexistent.xml "$MIMAMORI_BIN" stats >../out 2>../err) &&
	grep "nonexistent.xml" err
'

test_expect_success 'relative paths in the config are relative to its folder' '
	mkdir -p elsewhere &&
	(cd elsewhere && mimamori -c ../demo/mimamori.xml check-config >../out 2>../err) &&
	! test -s err &&
	(cd elsewhere && mimamori -c ../demo/mimamori.xml submit ../demo/samples/registration-guardian.xml >../out) &&
	test -f demo/spool/incoming/registration-guardian.xml &&
	test_path_is_missing elsewhere/spool
'

test_expect_success 'messages go to stderr as "mimamori: STAGE: ...", results to stdout' '
	mimamori --now 2026-03-10 intake >out 2>err &&
	grep -x "accepted incoming/registration-guardian.xml R2026-000001" out &&
	! test -s err &&
	test_expect_code 65 mimamori show R2026-000099 >out 2>err &&
	! test -s out &&
	grep "^mimamori: show: .*R2026-000099" err
'

# Each config differs from the demo one by one thing.
bad_config() {
	sed "$2" demo/mimamori.xml >demo/$1.xml && ! cmp -s demo/$1.xml demo/mimamori.xml
}

test_expect_success 'setup: configs with an unknown element or attribute' '
	bad_config elem "s|<spool>spool</spool>|<spool>spool</spool><colour>red</colour>|" &&
	bad_config elemdeep "s|</agencies>|<colour/></agencies>|" &&
	bad_config attr "s|<node agency=\"council\"/>|<node agency=\"council\" colour=\"red\"/>|" &&
	bad_config attrdeep "s|<retention |<retention colour=\"red\" |" &&
	bad_config ns "s|urn:mimamori:1|urn:mimamori:9|"
'

test_expect_success 'check-config: an unknown element or attribute is an error (78) naming it' '
	for c in elem elemdeep attr attrdeep ns; do
		test_expect_code 78 mimamori -c demo/$c.xml check-config >out 2>err || { echo $c; return 1; }
		test -s err || return 1
	done &&
	for c in elem elemdeep attr attrdeep; do
		mimamori -c demo/$c.xml check-config 2>err; grep "colour" err || return 1
	done
'

test_expect_success 'every command refuses such a config with 78, spool untouched' '
	make_registration 3 >demo/spool/incoming/wait.xml &&
	ls -laR demo/spool >before &&
	for c in intake export import dispatch deliver expire run stats "show R2026-000001" "audit verify" "submit demo/samples/registration-guardian.xml" "match --sex female"; do
		test_expect_code 78 mimamori -c demo/attr.xml $c >out 2>err || { echo "$c"; return 1; }
		! test -s out || { echo "$c wrote on stdout"; return 1; }
	done &&
	ls -laR demo/spool >after &&
	test_cmp before after
'

test_expect_success 'check-config prints every problem, not only the first' '
	sed -e "s| phone=\"078-000-0119\"||" \
	    -e "s|wards=\"nada\" address=\"alert-agency-nada|wards=\"kita\" address=\"alert-agency-nada|" \
	    -e "s|<member address=\"helper1@example.jp\" name=\"協力者 一\" pledge=\"2026-04-01\"/>|<member address=\"helper1@example.jp\" name=\"協力者 一\"/>|" \
	    -e "s|<member address=\"helper2@example.jp\" name=\"協力者 二\" pledge=\"2026-04-01\"|<member address=\"helper2@example.jp\" name=\"協力者 二\" pledge=\"2099-01-01\"|" \
	    demo/mimamori.xml >demo/many.xml &&
	test_expect_code 78 mimamori --now 2026-11-21 -c demo/many.xml check-config >out 2>err &&
	cat err &&
	grep "police-nada" err &&
	grep "kita" err &&
	grep "helper1@example.jp" err &&
	grep "helper2@example.jp" err &&
	test $(wc -l <err) -ge 4
'

test_expect_success 'a member without pledge or with a future one: check-config says so' '
	sed "s| pledge=\"2025-10-01\"||" demo/mimamori.xml >demo/nopledge.xml &&
	test_expect_code 0 mimamori --now 2026-11-21 -c demo/nopledge.xml check-config >out 2>err &&
	grep "warning: .*commissioner-chuo@example.jp" err &&
	grep -i "pledge" err
'

test_expect_success 'a line break in the sender name (it would reach From:) is a problem' '
	sed "s|name=\"高齢者安心登録事業\"|name=\"Alerts\&#13;\&#10;Bcc: evil@example.org\"|" demo/mimamori.xml >demo/crlf.xml &&
	grep -q "&#10;Bcc" demo/crlf.xml &&
	test_expect_code 78 mimamori -c demo/crlf.xml check-config >out 2>err &&
	grep "<sender>" err
'

test_expect_success 'a config with a missing required element: 78' '
	sed "/<sender /d" demo/mimamori.xml >demo/nosender.xml &&
	test_expect_code 78 mimamori -c demo/nosender.xml check-config >out 2>err &&
	grep "sender" err
'

test_expect_success 'a key that is not a full fingerprint, a bad kind, a bad wards list: 78' '
	sed "s|key=\"[0-9A-F]*\" wards=\"nada\" phone|key=\"DEADBEEF\" wards=\"nada\" phone|" demo/mimamori.xml >demo/shortkey.xml &&
	! cmp -s demo/shortkey.xml demo/mimamori.xml &&
	test_expect_code 78 mimamori -c demo/shortkey.xml check-config >out 2>err &&
	sed "s|kind=\"police\"|kind=\"constabulary\"|" demo/mimamori.xml >demo/kind.xml &&
	test_expect_code 78 mimamori -c demo/kind.xml check-config >out 2>err &&
	grep "constabulary" err
'

test_expect_success 'the example config of mimamori.xml(5) passes the schema: only its keys and password file are missing' '
	mkdir -p ex && cp "$DATA/config/example.xml" ex/mimamori.xml && cp -a demo/gnupg ex/gnupg &&
	find ex/gnupg -name "S.*" -delete &&
	test_expect_code 78 mimamori -c ex/mimamori.xml check-config >out 2>err &&
	test $(wc -l <err) = 7 &&
	! grep -v "in the keyring\$\|cannot read password file" err
'

test_expect_success 'every command exits with a code of mimamori(1)' '
	for c in "submit /nonexistent/x.xml" "init demo" "show R2099-000001" "show R2026-000001 --as nobody" \
		 "match --age 90-80" "audit frob"; do
		mimamori $c >out 2>err; in_spec_set $? || { echo "$c"; return 1; }
	done
'

test_done
