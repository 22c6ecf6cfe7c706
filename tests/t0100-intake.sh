#!/bin/sh
# intake, the good path: the samples accepted with their ids, show and its
# views, change, renewal and cancellation, and no personal data in clear
# anywhere in the spool.
. "$(dirname "$0")/lib.sh"

REG=$DATA/registration
SAMPLES=$TEST_SRC/samples

# incoming/ holds nothing but what intake must leave alone.
incoming_is_done() {
	test "$(ls -A demo/spool/incoming | tr "\n" " ")" = ".partial.xml sub "
}

test_expect_success 'setup: demo installation' '
	setup_demo &&
	test -z "$(ls -A demo/spool/incoming)"
'

test_expect_success 'intake with an empty incoming/ prints nothing and exits 0' '
	mimamori intake >out 2>err &&
	! test -s out &&
	! test -s err
'

test_expect_success 'a dot-file and a subfolder in incoming/ are left alone' '
	make_registration 1 >demo/spool/incoming/.partial.xml &&
	mkdir demo/spool/incoming/sub &&
	make_registration 2 >demo/spool/incoming/sub/inner.xml &&
	cp demo/spool/incoming/.partial.xml partial.keep &&
	cp demo/spool/incoming/sub/inner.xml inner.keep &&
	mimamori --now 2026-03-10 intake >out 2>err &&
	! test -s out &&
	! test -s err &&
	cmp partial.keep demo/spool/incoming/.partial.xml &&
	cmp inner.keep demo/spool/incoming/sub/inner.xml &&
	test -z "$(ls -A demo/spool/rejected)" &&
	test -z "$(ls -A demo/spool/registry/records 2>/dev/null)"
'

test_expect_success 'submit copies the samples into incoming/, 0600' '
	mimamori --now 2026-03-10 submit "$SAMPLES"/registration-*.xml >out &&
	cat >expect <<-\EOF &&
	submitted incoming/registration-agency-sharing.xml
	submitted incoming/registration-guardian.xml
	submitted incoming/registration-kobe-hanako.xml
	EOF
	test_cmp expect out &&
	for f in "$SAMPLES"/registration-*.xml; do
		n=$(basename "$f") &&
		cmp "$f" "demo/spool/incoming/$n" &&
		test "$(stat -c %a "demo/spool/incoming/$n")" = 600 || exit 1
	done
'

test_expect_success 'intake accepts the three samples with ids R2026-000001..3' '
	mimamori --now 2026-03-10 intake >out 2>err &&
	cat out err &&
	cat >expect <<-\EOF &&
	accepted incoming/registration-agency-sharing.xml R2026-000001
	accepted incoming/registration-guardian.xml R2026-000002
	accepted incoming/registration-kobe-hanako.xml R2026-000003
	EOF
	test_cmp expect out &&
	! test -s err &&
	incoming_is_done &&
	test -z "$(ls -A demo/spool/work/intake)" &&
	test -z "$(ls -A demo/spool/rejected)" &&
	ls demo/spool/registry/records >records &&
	test $(wc -l <records) -eq 3 &&
	grep "^R2026-000001" records && grep "^R2026-000002" records &&
	grep "^R2026-000003" records
'

test_expect_success 'the spool holds files 0600 and folders 0700 only' '
	find demo/spool -path demo/spool/incoming -prune -o -type f ! -perm 600 -print >bad &&
	find demo/spool -path demo/spool/incoming -prune -o -type d ! -perm 700 -print >>bad &&
	test "$(stat -c %a demo/spool/incoming)" = 700 &&
	! test -s bad
'

test_expect_success 'the registry is encrypted: no record file is XML' '
	for f in demo/spool/registry/records/*; do
		! grep -q "<person>" "$f" && ! grep -q "urn:mimamori" "$f" || exit 1
	done
'

test_expect_success 'intake again finds nothing to do' '
	mimamori --now 2026-03-10 intake >out 2>err &&
	! test -s out && ! test -s err
'

test_expect_success 'show ID prints the whole record with its dates' '
	mimamori --now 2026-03-10 show R2026-000003 >show.out &&
	grep "<record .*id=\"R2026-000003\"" show.out &&
	grep "version=\"1\"" show.out &&
	grep "registered=\"2026-03-10\"" show.out &&
	grep "expires=\"2028-03-10\"" show.out &&
	grep "<name>神戸 花子</name>" show.out &&
	grep "<name-kana>こうべ はなこ</name-kana>" show.out &&
	grep "<birth-date>1941-04-01</birth-date>" show.out &&
	grep "<phone kind=\"home\">078-000-0001</phone>" show.out &&
	grep "<requesters>" show.out &&
	grep "<level>care-2</level>" show.out &&
	grep "<consent " show.out &&
	grep "<intake center=\"center-chuo-1\"" show.out
'

test_expect_success 'show of each sample holds its own person' '
	mimamori show R2026-000001 >one &&
	grep "<name-kana>ちゅうおう さぶろう</name-kana>" one &&
	grep "<ordinance-clause>" one &&
	mimamori show R2026-000002 >two &&
	grep "<name-kana>なだ かずお</name-kana>" two &&
	grep "<certificate>" two
'

test_expect_success 'show --as police: the person, but no requesters, care, consent, intake' '
	mimamori show R2026-000003 --as police >police.out &&
	grep "id=\"R2026-000003\"" police.out &&
	grep "<person>" police.out &&
	grep "<name>神戸 花子</name>" police.out &&
	grep "<phone kind=\"home\">078-000-0001</phone>" police.out &&
	! grep "<requesters>\|<requester>\|<care>\|<consent\|<intake\|<diagnosis>" police.out &&
	! grep -F "神戸 太郎</name>" police.out &&
	! grep -F "アルツハイマー" police.out &&
	! grep -F "垂水" police.out
'

test_expect_success 'show --as alert: no name, kana, birth date, address, phone or id' '
	mimamori --now 2026-03-10 show R2026-000003 --as alert >alert.out &&
	grep "<sex>female</sex>" alert.out &&
	grep "<age>84</age>" alert.out &&
	grep "<usual-places>" alert.out &&
	grep "<previous-residences>" alert.out &&
	grep "<features>" alert.out &&
	grep "<lost-before" alert.out &&
	! grep "<name>\|<name-kana>\|<maiden-name>\|<birth-date>\|<address\|<phone\|<requesters>\|<care>\|<consent\|<intake" alert.out &&
	for s in "神戸 花子" "神戸 太郎" こうべ 山田 1941 加納町 078-000 090-0000 R2026-000003 アルツハイマー 垂水; do
		! grep -F -- "$s" alert.out || { echo "leaked: $s"; exit 1; }
	done
'

test_expect_success 'show --as an office kind is the whole record; a bad kind is usage' '
	mimamori show R2026-000003 --as ward-office >ward.out &&
	grep "<care>" ward.out && grep "<consent " ward.out &&
	test_expect_code 64 mimamori show R2026-000003 --as neighbour >out 2>err &&
	! test -s out && grep "neighbour" err &&
	test_expect_code 65 mimamori show R2026-000099 >out 2>err &&
	! test -s out && grep "R2026-000099" err
'

test_expect_success 'a change replaces its sections and bumps the version' '
	sed "s|R2026-000001|R2026-000003|" "$REG/change.xml" >change.xml &&
	grep "<id>R2026-000003</id>" change.xml &&
	mimamori --now 2026-06-01 submit change.xml >/dev/null &&
	mimamori --now 2026-06-01 intake >out 2>err &&
	cat out err &&
	test "$(cat out)" = "accepted incoming/change.xml R2026-000003" &&
	! test -s err &&
	incoming_is_done &&
	mimamori --now 2026-06-01 show R2026-000003 >show.out &&
	grep "version=\"2\"" show.out &&
	grep "registered=\"2026-03-10\"" show.out &&
	grep "expires=\"2028-03-10\"" show.out &&
	grep "<level>care-3</level>" show.out &&
	grep "090-0000-0009" show.out &&
	! grep "<level>care-2</level>" show.out &&
	! grep "灘 次郎" show.out &&
	! grep "090-0000-0002" show.out &&
	grep "<name>神戸 花子</name>" show.out &&
	grep "<intake center=\"center-chuo-1\"" show.out
'

test_expect_success 'the old version of a changed record is not kept' '
	ls demo/spool/registry/records >records &&
	test $(grep -c "^R2026-000003" records) -eq 1 &&
	test $(wc -l <records) -eq 3
'

test_expect_success 'two changes to one record in one run: the second builds on the first' '
	sed -e "s|care-3|care-4|" \
	    -e "/<requesters>/,/<\/requesters>/d" "$REG/change.xml" >change-1.xml &&
	sed -e "s|090-0000-0009|090-0000-0008|" \
	    -e "/<care>/,/<\/care>/d" "$REG/change.xml" >change-2.xml &&
	mimamori --now 2026-06-01 submit change-1.xml change-2.xml >/dev/null &&
	mimamori --now 2026-06-01 intake >out 2>err &&
	printf "accepted incoming/change-%s.xml R2026-000001\n" 1 2 >expect &&
	test_cmp expect out &&
	mimamori --now 2026-06-01 show R2026-000001 >show.out &&
	grep "version=\"3\"" show.out &&
	grep "<level>care-4</level>" show.out &&
	grep "090-0000-0008" show.out &&
	test "$(ls demo/spool/registry/records | grep -c "^R2026-000001")" = 1
'

test_expect_success 'a renewal while valid moves the expiry to date + validity' '
	sed "s|R2026-000001|R2026-000003|" "$REG/renewal.xml" >renewal.xml &&
	mimamori --now 2028-02-01 submit renewal.xml >/dev/null &&
	mimamori --now 2028-02-01 intake >out 2>err &&
	test "$(cat out)" = "accepted incoming/renewal.xml R2026-000003" &&
	! test -s err &&
	mimamori --now 2028-02-01 show R2026-000003 >show.out &&
	grep "version=\"3\"" show.out &&
	grep "registered=\"2026-03-10\"" show.out &&
	grep "expires=\"2030-02-01\"" show.out &&
	grep "<consent date=\"2028-02-01\"" show.out &&
	grep "<level>care-3</level>" show.out
'

test_expect_success 'a renewal after the expiry is rejected' '
	sed -e "s|R2026-000001|R2026-000002|" -e "s|2028-02-01|2028-03-11|g" \
	    "$REG/renewal.xml" >late-renewal.xml &&
	mimamori --now 2028-03-11 submit late-renewal.xml >/dev/null &&
	mimamori --now 2028-03-11 intake >out 2>err &&
	grep "^rejected incoming/late-renewal.xml: .*R2026-000002.*expired" out &&
	test $(wc -l <out) -eq 1 &&
	test -f demo/spool/rejected/late-renewal.xml.reason &&
	mimamori --now 2028-03-01 show R2026-000002 >show.out &&
	grep "expires=\"2028-03-10\"" show.out &&
	grep "version=\"1\"" show.out
'

test_expect_success 'a cancellation (death) destroys the record' '
	sed -e "s|<reason>facility<|<reason>death<|" -e "s|2026-09-30|2028-02-05|" \
	    "$REG/cancellation.xml" >cancellation.xml &&
	grep "<reason>death</reason>" cancellation.xml &&
	mimamori --now 2028-02-05 submit cancellation.xml >/dev/null &&
	mimamori --now 2028-02-05 intake >out 2>err &&
	test "$(cat out)" = "accepted incoming/cancellation.xml R2026-000001" &&
	! test -s err &&
	test_expect_code 65 mimamori --now 2028-02-05 show R2026-000001 >show.out 2>show.err &&
	! test -s show.out &&
	grep "R2026-000001.*destroyed" show.err &&
	! ls demo/spool/registry/records | grep R2026-000001 &&
	test_expect_code 65 mimamori --now 2028-02-05 show R2026-000001 --as police >show.out 2>/dev/null &&
	! test -s show.out
'

test_expect_success 'the other records are still there after the cancellation' '
	mimamori --now 2028-02-05 show R2026-000003 >show.out &&
	grep "<name>神戸 花子</name>" show.out &&
	mimamori --now 2028-02-05 show R2026-000002 >show.out &&
	grep "<name>灘 一夫</name>" show.out
'

test_expect_success 'a change to a destroyed record is rejected' '
	sed -e "s|2026-06-01|2028-02-06|" "$REG/change.xml" >late-change.xml &&
	grep "<id>R2026-000001</id>" late-change.xml &&
	mimamori --now 2028-02-06 submit late-change.xml >/dev/null &&
	mimamori --now 2028-02-06 intake >out &&
	grep "^rejected incoming/late-change.xml: .*R2026-000001.*destroyed" out &&
	! ls demo/spool/registry/records | grep R2026-000001
'

test_expect_success 'a cancelled person may register again, under a new id' '
	sed "s|2026-03-05|2028-02-06|" "$SAMPLES/registration-agency-sharing.xml" >again.xml &&
	mimamori --now 2028-02-07 submit again.xml >/dev/null &&
	mimamori --now 2028-02-07 intake >out 2>err &&
	grep -x "accepted incoming/again.xml R2028-[0-9]\{6\}" out &&
	id=$(sed "s|.* ||" out) &&
	mimamori --now 2028-02-07 show "$id" >show.out &&
	grep "<name-kana>ちゅうおう さぶろう</name-kana>" show.out &&
	grep "registered=\"2028-02-07\"" show.out
'

# Every name, kana, maiden name and phone number of the accepted people,
# as written and folded (no spaces, digits only).
test_expect_success 'setup: the personal data of the accepted people' '
	sed -n "s#.*<\(name\|name-kana\|maiden-name\|phone\|address\)\( [^>]*\)\{0,1\}>\([^<][^<]*\)</.*#\3#p" \
	    "$SAMPLES"/registration-*.xml change.xml >secrets.raw &&
	tr -d " " <secrets.raw >secrets.nospace &&
	tr -dc "0-9\n" <secrets.raw | grep "^0[0-9]\{9,\}$" >secrets.digits &&
	cat secrets.raw secrets.nospace secrets.digits | sort -u >secrets &&
	grep -x "神戸 花子" secrets && grep -x "こうべはなこ" secrets &&
	grep -x "山田" secrets && grep -x "09000000001" secrets &&
	grep -x "090-0000-0009" secrets && grep -x "灘 一夫" secrets &&
	grep -x "神戸市中央区加納町6-5-1 見守りハイツ101号" secrets &&
	test $(wc -l <secrets) -ge 30
'

test_expect_success 'the search finds the data where it is in clear' '
	grep -rlF -f secrets "$SAMPLES" >found &&
	test $(wc -l <found) -eq 3
'

test_expect_success 'no name, kana or phone in clear anywhere in the spool' '
	{ grep -rlF -f secrets --exclude-dir=rejected demo/spool >found; test $? -eq 1; } &&
	! test -s found
'

test_expect_success 'the dot-file and the subfolder are still untouched' '
	cmp partial.keep demo/spool/incoming/.partial.xml &&
	cmp inner.keep demo/spool/incoming/sub/inner.xml
'

test_expect_success 'the audit log holds every accept and show, and verifies' '
	mimamori audit verify &&
	test $(grep -c "accept" demo/spool/audit/audit.log) -ge 7 &&
	grep "show" demo/spool/audit/audit.log | grep -q R2026-000003
'

test_expect_success 'submit: an unreadable file holds back none of the others' '
	echo one >dup.xml && echo two >other.xml &&
	test_expect_code 74 mimamori submit dup.xml missing.xml other.xml dup.xml >out 2>err &&
	cat >expect <<-\EOF &&
	submitted incoming/dup.xml
	submitted incoming/other.xml
	submitted incoming/dup.1.xml
	EOF
	test_cmp expect out &&
	grep -q "cannot read .missing.xml" err &&
	cmp dup.xml demo/spool/incoming/dup.1.xml &&
	cmp other.xml demo/spool/incoming/other.xml &&
	test -z "$(ls -A demo/spool/tmp)" &&
	rm demo/spool/incoming/dup.xml demo/spool/incoming/dup.1.xml demo/spool/incoming/other.xml
'

test_done
