#!/bin/sh
# request-mail: the mail it writes is PGP/MIME that plain gpg verifies (the
# parts cut out with python3's email package), the encrypted variant opens
# only with the node's key, the fields come back exactly, and no field,
# subject or address can add a header line.
. "$(dirname "$0")/lib.sh"

VERIFY=$DATA/mail/verify-signed.py
NOW=2026-11-21T09:40:00+09:00

op_fpr() {
	sed -n 's/.*<operator key="\([0-9A-F]*\)".*/\1/p' demo/mimamori.xml
}
agency_fpr() {
	sed -n "s/.*id=\"$1\".*key=\"\([0-9A-F]*\)\".*/\1/p" demo/mimamori.xml
}

# rm ARGS...: request-mail as the demo operator, to the council's inbox.
rm_mail() {
	mimamori --now $NOW request-mail --gnupg-home demo/operator/gnupg --key "$OP" \
		--from ops@vendor.example.jp --to requests@example.jp "$@"
}

# verify HOME MAIL: gpg in HOME verifies MAIL (signed by the operator);
# the signed text goes to stdout.
verify() {
	GNUPGHOME=$1 python3 "$VERIFY" "$2" "$OP"
}

test_expect_success 'setup: demo installation and its keys' '
	setup_demo &&
	OP=$(op_fpr) && COUNCIL=$(agency_fpr council) &&
	test ${#OP} -eq 40 && test ${#COUNCIL} -eq 40 &&
	echo "OP=$OP COUNCIL=$COUNCIL" >keys.sh
'
. ./keys.sh

test_expect_success 'a signed request from fields verifies with gpg, fields intact' '
	rm_mail --field request-id=2026-11-21-0001 --field type=alert \
		--field status=exercise --field registration=R2026-000001 \
		--field "requester-name=神戸 太郎" --field "clothing=紺色のジャンパー、灰色のズボン" \
		--field "notes=trailing = and From and ." >m1.eml 2>err &&
	! test -s err &&
	verify demo/gnupg m1.eml >got &&
	cat >want <<-\EOF &&
	sent: 2026-11-21T09:40:00+09:00
	request-id: 2026-11-21-0001
	type: alert
	status: exercise
	registration: R2026-000001
	requester-name: 神戸 太郎
	clothing: 紺色のジャンパー、灰色のズボン
	notes: trailing = and From and .
	EOF
	test_cmp want got
'

test_expect_success 'its headers: From, To, Date +0900, Message-ID, encoded subject' '
	sed -n "1,/^\r\$/p" m1.eml | tr -d "\r" >head &&
	grep -qx "From: ops@vendor.example.jp" head &&
	grep -qx "To: requests@example.jp" head &&
	grep -qx "Date: Sat, 21 Nov 2026 09:40:00 +0900" head &&
	grep -qx "Message-ID: <1795221600\.[0-9a-f]*@vendor\.example\.jp>" head &&
	grep -q "^Content-Type: multipart/signed; micalg=pgp-sha[0-9]*;" head &&
	grep -q "protocol=\"application/pgp-signature\"" head &&
	python3 -c "
import email, email.header, sys
m = email.message_from_binary_file(open(\"m1.eml\", \"rb\"))
s = str(email.header.make_header(email.header.decode_header(m[\"Subject\"])))
sys.exit(s != \"【訓練】request 2026-11-21-0001\")" &&
	! grep -qi "^bcc:" head &&
	test "$(grep -c "" head)" -le 14
'

test_expect_success 'every line ends in CRLF and is 7-bit' '
	python3 -c "
import sys
d = open(\"m1.eml\", \"rb\").read()
bad = d.replace(b\"\r\n\", b\"\").count(b\"\n\") + d.replace(b\"\r\n\", b\"\").count(b\"\r\")
sys.exit(bad or not d.endswith(b\"\r\n\") or max(d) > 126)"
'

test_expect_success 'one byte changed in the signed text: gpg refuses it' '
	sed "s/^type: alert/type: alerT/" m1.eml >bad.eml &&
	! cmp -s m1.eml bad.eml &&
	test_must_fail verify demo/gnupg bad.eml >/dev/null 2>err &&
	grep -q "gpg --verify" err
'

test_expect_success 'encrypted to the council: only its key opens it, then it verifies' '
	rm_mail --encrypt-to "$COUNCIL" --field type=alert --field registration=R2026-000001 \
		--field "clothing=紺色" -o m2.eml &&
	test "$(stat -c %a m2.eml)" = 600 &&
	grep -q "^Content-Type: multipart/encrypted;" m2.eml &&
	grep -q "BEGIN PGP MESSAGE" m2.eml &&
	! grep -q "registration" m2.eml &&
	test_must_fail verify demo/operator/gnupg m2.eml >/dev/null 2>err &&
	grep -q "cannot decrypt" err &&
	verify demo/gnupg m2.eml >got &&
	grep -qx "registration: R2026-000001" got &&
	grep -qx "clothing: 紺色" got &&
	grep -qx "sent: 2026-11-21T09:40:00+09:00" got &&
	grep -qx "request-id: 2026-11-21-094000-[0-9a-f]\{4\}" got
'

test_expect_success 'a field with CR LF is refused with 64, nothing written' '
	test_expect_code 64 rm_mail --field type=alert \
		--field "$(printf "clothing=a\r\nBcc: x@example.jp")" -o m3.eml 2>err &&
	grep -q "clothing.*carriage return" err &&
	test_path_is_missing m3.eml
'

test_expect_success 'a field with LF becomes a continuation line, never a header' '
	rm_mail --field type=alert --field "clothing=a
Bcc: x@example.jp
Subject: hi" >m4.eml &&
	! tr -d "\r" <m4.eml | grep -qi "^bcc:" &&
	! tr -d "\r" <m4.eml | grep -q "^Subject: hi" &&
	verify demo/gnupg m4.eml >got &&
	printf "clothing: a\n Bcc: x@example.jp\n Subject: hi\n" >want &&
	tail -n 3 got >tail &&
	test_cmp want tail
'

test_expect_success 'a subject, From or To with a line break is refused with 64' '
	test_expect_code 64 rm_mail --subject "$(printf "s\r\nBcc: x@example.jp")" \
		--field type=alert >out 2>err &&
	! test -s out &&
	test_expect_code 64 mimamori request-mail --gnupg-home demo/operator/gnupg \
		--key "$OP" --from "$(printf "a@example.jp\nBcc: x@example.jp")" \
		--to requests@example.jp --field type=alert >out 2>/dev/null &&
	! test -s out &&
	test_expect_code 64 mimamori request-mail --gnupg-home demo/operator/gnupg \
		--key "$OP" --from ops@vendor.example.jp \
		--to "$(printf "r@example.jp\rBcc: x@example.jp")" --field type=alert >out &&
	! test -s out
'

test_expect_success 'an unknown key, a twice-given key, a bad --field: 64' '
	test_expect_code 64 rm_mail --field type=alert --field name=神戸 -o m5.eml 2>err &&
	grep -q "unknown key .name." err &&
	test_path_is_missing m5.eml &&
	test_expect_code 64 rm_mail --field type=alert --field type=found 2>err &&
	grep -q "given twice" err &&
	test_expect_code 64 rm_mail --field typealert 2>err &&
	test_expect_code 64 rm_mail --form f --field type=alert 2>err &&
	test_expect_code 64 rm_mail 2>err &&
	test_expect_code 64 mimamori request-mail --key "$OP" --field type=alert 2>err &&
	test_expect_code 64 rm_mail --field type=alert --bogus 2>err
'

test_expect_success 'a key that is not in the keyring: 78' '
	test_expect_code 78 mimamori request-mail --gnupg-home demo/operator/gnupg \
		--key 0123456789ABCDEF0123456789ABCDEF01234567 --from ops@vendor.example.jp \
		--to requests@example.jp --field type=alert >out 2>err &&
	! test -s out &&
	test_expect_code 78 rm_mail --encrypt-to 0123456789ABCDEF0123456789ABCDEF01234567 \
		--field type=alert >out 2>err &&
	! test -s out
'

test_expect_success '-o into a folder that is not there: 74, no stray file' '
	test_expect_code 74 rm_mail --field type=alert -o nodir/m.eml 2>err &&
	grep -q "cannot create .nodir/m.eml" err &&
	test_path_is_missing nodir &&
	test_expect_code 74 rm_mail --form missing.txt 2>err &&
	grep -q "cannot read form .missing.txt" err
'

test_expect_success 'a form file round-trips: comments dropped, continuations kept' '
	cat >form.txt <<-\EOF &&
	# a comment the parser ignores
	request-id: 2026-11-21-0002
	type: update
	status: actual

	registration: R2026-000001
	last-seen: 三宮センター街
	  東口付近
	# another comment
	notes: 一行目
	 二行目
	EOF
	rm_mail --form form.txt >m6.eml &&
	verify demo/gnupg m6.eml >got &&
	grep -v "^#" form.txt | grep -v "^\$" >want.body &&
	{ echo "sent: 2026-11-21T09:40:00+09:00" && cat want.body; } >want &&
	test_cmp want got &&
	rm_mail --form - <form.txt >m7.eml &&
	verify demo/gnupg m7.eml >got7 &&
	test_cmp want got7
'

test_expect_success 'a form file with an unknown key or a stray line: 65' '
	printf "type: alert\nname: 神戸\n" >bad1.txt &&
	test_expect_code 65 rm_mail --form bad1.txt >out 2>err &&
	grep -q "line 2: unknown key .name." err &&
	! test -s out &&
	printf " continuation first\ntype: alert\n" >bad2.txt &&
	test_expect_code 65 rm_mail --form bad2.txt >out 2>err &&
	printf "type: alert\njust words\n" >bad3.txt &&
	test_expect_code 65 rm_mail --form bad3.txt >out 2>err &&
	grep -q "line 2: not .key: value." err &&
	printf "type: alert\ntype: found\n" >bad4.txt &&
	test_expect_code 65 rm_mail --form bad4.txt >out 2>err &&
	printf "type: al\377ert\n" >bad5.txt &&
	test_expect_code 65 rm_mail --form bad5.txt >out 2>err &&
	! test -s out
'

test_expect_success 'the Japanese and English templates make valid mails' '
	for t in request-form.ja.txt request-form.en.txt; do
		sed -e "s/^registration:\$/registration: R2026-000001/" \
			"$TEST_SRC/templates/$t" >filled.txt &&
		rm_mail --form filled.txt >t.eml &&
		verify demo/gnupg t.eml >got &&
		grep -qx "registration: R2026-000001" got &&
		grep -qx "request-id: 2026-11-21-094000-[0-9a-f]\{4\}" got &&
		grep -qx "sent: 2026-11-21T09:40:00+09:00" got &&
		! grep -q "^#" got &&
		! grep -q "^requester-name:" got || return 1
	done
'

test_done
