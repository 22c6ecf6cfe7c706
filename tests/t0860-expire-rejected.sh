#!/bin/sh
# expire: rejected/ keeps an input retention/@rejected (default P30D) from
# its rejection on the program's clock, then removes it with its reason,
# audited without personal data.
. "$(dirname "$0")/lib.sh"

DAY0=2026-11-21T10:00:00+09:00

test_expect_success 'setup: a registration and a bundle rejected on day 0' '
	setup_demo &&
	sed "s|<birth-date>[^<]*</birth-date>|<birth-date>not-a-date</birth-date>|" \
		demo/samples/registration-kobe-hanako.xml >demo/spool/incoming/bad.xml &&
	echo "not a bundle" >demo/spool/import/junk.tar.gpg &&
	mimamori --now $DAY0 intake >out && grep -q "^rejected incoming/bad.xml" out &&
	mimamori --now $DAY0 import >out && grep -q "^rejected import/junk.tar.gpg" out &&
	test -f demo/spool/rejected/bad.xml && test -f demo/spool/rejected/junk.tar.gpg.reason
'

test_expect_success 'kept for 29 days' '
	mimamori --now 2026-12-20T23:00:00+09:00 expire >out &&
	test_must_fail grep -q "^removed" out &&
	test -f demo/spool/rejected/bad.xml && test -f demo/spool/rejected/bad.xml.reason &&
	test -f demo/spool/rejected/junk.tar.gpg
'

test_expect_success 'removed with its reason 30 days after its rejection' '
	mimamori --now 2026-12-21T08:00:00+09:00 expire >out &&
	cat out &&
	grep -q "^removed rejected/bad.xml rejected 2026-11-21" out &&
	grep -q "^removed rejected/junk.tar.gpg rejected 2026-11-21" out &&
	test -z "$(ls demo/spool/rejected)" &&
	test -z "$(ls demo/spool/work/rejected)" &&
	test_must_fail spool_grep "神戸 花子" demo/spool/rejected
'

test_expect_success 'audited by file name, without personal data' '
	grep -q "	remove	input=rejected/bad.xml rejected=2026-11-21" demo/spool/audit/audit.log &&
	test_must_fail grep -qF "神戸" demo/spool/audit/audit.log &&
	mimamori audit verify
'

test_expect_success 'retention rejected="P7D" is read from the config' '
	sed -i "s|<retention |&rejected=\"P7D\" |" demo/mimamori.xml &&
	grep -q "rejected=\"P7D\"" demo/mimamori.xml &&
	echo "not a bundle" >demo/spool/import/junk2.tar.gpg &&
	mimamori --now $DAY0 import >/dev/null &&
	mimamori --now 2026-11-27T10:00:00+09:00 expire >out &&
	test -f demo/spool/rejected/junk2.tar.gpg &&
	mimamori --now 2026-11-28T10:00:00+09:00 expire >out &&
	grep -q "^removed rejected/junk2.tar.gpg" out &&
	test_path_is_missing demo/spool/rejected/junk2.tar.gpg
'

test_done
