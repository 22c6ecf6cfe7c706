#!/bin/sh
# mimamori-spool(5) and mimamori-intake(1) read literally, black box: the example registration
# of mimamori-spool(5) filled with valid values is accepted (self, guardian, consent,
# agency-sharing, photo, empty optional features); each required part
# missing is rejected naming it; every bad input of mimamori-intake(1) ends in
# rejected/NAME beside NAME.reason, 0600, with stdout exactly
# "rejected incoming/NAME: REASON", and changes nothing else.
. "$(dirname "$0")/lib.sh"

NOW=2026-03-10

# The example of mimamori-spool(5), every "…" and empty element filled with a value.
spec_example() {
	cat <<-\XML
	<registration xmlns="urn:mimamori:1">
	  <basis>self-application</basis>
	  <applicant kind="self"/>
	  <person>
	    <name>試験 花子</name>
	    <name-kana>しけん はなこ</name-kana>
	    <sex>female</sex>
	    <maiden-name>試山</maiden-name>
	    <birth-date>1941-04-01</birth-date>
	    <address ward="chuo">神戸市中央区試験町1-2-3</address>
	    <phone kind="home">078-111-2222</phone>
	    <phone kind="mobile" carrier="試験通信" holder="本人">090-1111-2222</phone>
	    <usual-places>試験公園</usual-places>
	    <previous-residences>試験市試験町</previous-residences>
	    <features>
	      <height-cm>148</height-cm> <weight-kg>45</weight-kg>
	      <build>thin</build>
	      <face>round</face>
	      <complexion>normal</complexion>
	      <glasses>老眼鏡</glasses> <hair>白髪まじり</hair> <blood-type>A</blood-type>
	      <teeth>partial-dentures</teeth>
	      <shoe-size-cm>22.5</shoe-size-cm> <footwear>運動靴</footwear> <marks>右手に傷</marks> <moles>左頬</moles>
	      <behaviour>歩き回る</behaviour> <dialect>関西弁</dialect> <speech>はっきり</speech> <gait>cane</gait> <hobbies>園芸</hobbies> <other>なし</other>
	    </features>
	    <lost-before count="2">2025年8月、試験駅で保護された</lost-before>
	  </person>
	  <requesters>
	    <requester><name>試験 太郎</name><relationship>長男</relationship><phone kind="mobile">090-3333-4444</phone></requester>
	  </requesters>
	  <care>
	    <level>care-2</level>
	    <diagnosis>試験症</diagnosis> <care-manager><office>試験事業所</office><name>試験 三郎</name><phone>078-555-6666</phone></care-manager> <services>デイサービス</services>
	  </care>
	  <consent date="2026-03-01" share="yes" broadcast="yes" signed-by="person"/>
	  <intake center="center-chuo-1" staff="試験 職員" interview-date="2026-03-01"/>
	</registration>
	XML
}

# variant NAME SED-ARGS...: the example as another person (its own kana).
variant() {
	n=$1
	shift
	spec_example | sed -e "s|しけん はなこ|しけん $n|" "$@" >"$n.xml"
}

test_expect_success 'setup: demo installation' '
	setup_demo &&
	spec_example >example.xml
'

test_expect_success 'the example of mimamori-spool(5) is accepted, with an id, registration and expiry date' '
	mimamori --now $NOW submit example.xml >out &&
	mimamori --now $NOW intake >out 2>err &&
	grep -x "accepted incoming/example.xml R2026-000001" out &&
	test $(wc -l <out) = 1 && ! test -s err &&
	test -z "$(ls -A demo/spool/incoming)" && test -z "$(ls -A demo/spool/rejected)" &&
	mimamori --now $NOW show R2026-000001 >show.out &&
	grep "registered=\"2026-03-10\"" show.out &&
	grep "expires=\"2028-03-10\"" show.out &&
	grep "<name>試験 花子</name>" show.out &&
	grep "<gait>cane</gait>" show.out &&
	grep "<diagnosis>試験症</diagnosis>" show.out
'

test_expect_success 'its variants are accepted: guardian (adult, voluntary), consent, agency-sharing, photo, empty features' '
	variant g1 -e "s|<applicant kind=\"self\"/>|<applicant kind=\"guardian\" guardian=\"adult\"><name>後見 一</name><certificate>第1号</certificate></applicant>|" &&
	variant g2 -e "s|<applicant kind=\"self\"/>|<applicant kind=\"guardian\" guardian=\"voluntary\"><name>後見 二</name><certificate>第2号</certificate></applicant>|" &&
	variant c1 -e "s|<basis>self-application</basis>|<basis>consent</basis>|" &&
	variant s1 -e "s|<basis>self-application</basis>|<basis>agency-sharing</basis><ordinance-clause>条例第5条第2項</ordinance-clause>|" -e "/<consent /d" &&
	jpeg=$(printf "\377\330\377\340\000\020JFIF\000\001\001\000\000\001\000\001\000\000\377\331" | base64 -w0) &&
	png=$(printf "\211PNG\r\n\032\n\000\000\000\rIHDR\000\000\000\001\000\000\000\001\010\002\000\000\000" | base64 -w0) &&
	variant p1 -e "s|</lost-before>|</lost-before><photo type=\"image/jpeg\">$jpeg</photo>|" &&
	variant p2 -e "s|</lost-before>|</lost-before><photo type=\"image/png\">$png</photo>|" &&
	variant e1 -e "s|<glasses>[^<]*</glasses>|<glasses/>|" -e "s|<hair>[^<]*</hair>|<hair/>|" \
		-e "s|<footwear>[^<]*</footwear>|<footwear/>|" -e "s|<marks>[^<]*</marks>|<marks/>|" \
		-e "s|<moles>[^<]*</moles>|<moles/>|" -e "s|<behaviour>[^<]*</behaviour>|<behaviour/>|" \
		-e "s|<dialect>[^<]*</dialect>|<dialect/>|" -e "s|<speech>[^<]*</speech>|<speech/>|" \
		-e "s|<hobbies>[^<]*</hobbies>|<hobbies/>|" -e "s|<other>[^<]*</other>|<other/>|" &&
	variant m1 -e "/<maiden-name>/d" -e "/<features>/,/<\/features>/d" -e "/<lost-before/d" \
		-e "/<requesters>/,/<\/requesters>/d" -e "/<care>/,/<\/care>/d" -e "/kind=\"mobile\" carrier/d" &&
	variant l0 -e "s|<lost-before count=\"2\">[^<]*</lost-before>|<lost-before count=\"0\"/>|" &&
	variant r3 -e "s|</requesters>|<requester><name>試験 次郎</name><relationship>次男</relationship><phone kind=\"home\">078-777-8888</phone></requester><requester><name>試験 三子</name><relationship>長女</relationship><phone kind=\"mobile\">090-5555-6666</phone></requester></requesters>|" &&
	for lv in support-1 support-2 care-1 care-5; do
		variant "lv$lv" -e "s|<level>care-2</level>|<level>$lv</level>|" || return 1
	done &&
	mimamori --now $NOW submit g1.xml g2.xml c1.xml s1.xml p1.xml p2.xml e1.xml m1.xml l0.xml r3.xml lv*.xml >/dev/null &&
	mimamori --now $NOW intake >out 2>err &&
	cat out err &&
	test $(grep -c "^accepted incoming/[a-z0-9-]*\.xml R2026-0000[0-9][0-9]\$" out) = 14 &&
	! test -s err && test -z "$(ls -A demo/spool/rejected)"
'

test_expect_success 'a guardian with neither name nor certificate, four requesters: rejected' '
	variant gx -e "s|<applicant kind=\"self\"/>|<applicant kind=\"guardian\" guardian=\"adult\"/>|" &&
	variant r4 -e "s|</requesters>|<requester><name>二</name><relationship>次男</relationship><phone kind=\"home\">078-777-0002</phone></requester><requester><name>三</name><relationship>三男</relationship><phone kind=\"home\">078-777-0003</phone></requester><requester><name>四</name><relationship>四男</relationship><phone kind=\"home\">078-777-0004</phone></requester></requesters>|" &&
	mimamori --now $NOW submit gx.xml r4.xml >/dev/null &&
	mimamori --now $NOW intake >out &&
	grep "^rejected incoming/gx.xml: .*<\(name\|certificate\)>" out &&
	grep "^rejected incoming/r4.xml: .*requester" out
'

# expect_rejected NAME WORD...: intake rejected NAME with a reason holding
# each WORD, on stdout and in rejected/NAME.reason, input kept as it was.
expect_rejected() {
	n=$1
	shift
	grep "^rejected incoming/$n: " out >line || { echo "no line for $n"; cat out; return 1; }
	for w in "$@"; do
		grep -qF -- "$w" line || { echo "$n: no \"$w\" in: $(cat line)"; return 1; }
		grep -qF -- "$w" "demo/spool/rejected/$n.reason" || { echo "$n.reason lacks $w"; return 1; }
	done
	cmp "$n" "demo/spool/rejected/$n" &&
	test "$(stat -c %a "demo/spool/rejected/$n")" = 600 &&
	test "$(stat -c %a "demo/spool/rejected/$n.reason")" = 600
}

test_expect_success 'each required part missing is rejected naming it' '
	variant x-basis -e "/<basis>/d" &&
	variant x-applicant -e "/<applicant /d" &&
	variant x-name -e "/<name>試験 花子/d" &&
	variant x-sex -e "/<sex>/d" &&
	variant x-birth-date -e "/<birth-date>/d" &&
	variant x-address -e "/<address /d" &&
	variant x-phone -e "/<phone kind=\"home\">078-111/d" -e "/<phone kind=\"mobile\" carrier/d" &&
	variant x-usual-places -e "/<usual-places>/d" &&
	variant x-previous-residences -e "/<previous-residences>/d" &&
	variant x-intake -e "/<intake /d" &&
	variant x-consent -e "/<consent /d" &&
	variant x-ordinance-clause -e "s|<basis>self-application</basis>|<basis>agency-sharing</basis>|" -e "/<consent /d" &&
	spec_example | sed "/<name-kana>/d" >x-name-kana.xml &&
	ls -R demo/spool/registry >reg.before &&
	mimamori --now $NOW submit x-*.xml >/dev/null &&
	mimamori --now $NOW intake >out 2>err &&
	cat out &&
	for e in basis applicant name name-kana sex birth-date address phone usual-places previous-residences intake consent ordinance-clause; do
		expect_rejected x-$e.xml "<$e>" || return 1
	done &&
	test $(wc -l <out) = 13 &&
	ls -R demo/spool/registry >reg.after &&
	test_cmp reg.before reg.after
'

test_expect_success 'an unknown ward, an unknown center, no ward: rejected naming it' '
	variant y-ward -e "s|ward=\"chuo\"|ward=\"kita\"|" &&
	variant y-center -e "s|center=\"center-chuo-1\"|center=\"center-kita-9\"|" &&
	variant y-police -e "s|center=\"center-chuo-1\"|center=\"police-ikuta\"|" &&
	mimamori --now $NOW submit y-*.xml >/dev/null &&
	mimamori --now $NOW intake >out &&
	expect_rejected y-ward.xml kita &&
	expect_rejected y-center.xml center-kita-9 &&
	expect_rejected y-police.xml police-ikuta
'

test_expect_success 'the same person again is a duplicate naming the existing id' '
	cp example.xml again.xml &&
	mimamori --now $NOW submit again.xml >/dev/null &&
	mimamori --now $NOW intake >out &&
	expect_rejected again.xml R2026-000001 &&
	grep -i "duplicate\|already" demo/spool/rejected/again.xml.reason
'

test_expect_success 'mimamori-intake(1): not well-formed, wrong namespace, schema violations name the element' '
	spec_example | sed "s|</registration>||" >z-truncated.xml &&
	spec_example | sed "s|<sex>female</sex>|<sex>female</sexx>|" >z-notwf.xml &&
	spec_example | sed "s|urn:mimamori:1|urn:example:other|" >z-ns.xml &&
	spec_example | sed "s|<build>thin</build>|<build>skinny</build>|" >z-enum.xml &&
	spec_example | sed "s|<usual-places>|<favourite>x</favourite><usual-places>|" >z-unknown.xml &&
	spec_example | sed "s|<birth-date>1941-04-01|<birth-date>1941-13-45|" >z-date.xml &&
	spec_example | head -c 500 >z-cut.xml &&
	: >z-empty.xml &&
	mimamori --now $NOW submit z-*.xml >/dev/null &&
	mimamori --now $NOW intake >out 2>err &&
	cat out &&
	expect_rejected z-truncated.xml "" &&
	expect_rejected z-notwf.xml "well-formed" &&
	expect_rejected z-ns.xml "namespace" &&
	expect_rejected z-enum.xml "<build>" "not one of" &&
	! grep -F skinny out demo/spool/rejected/z-enum.xml.reason &&
	expect_rejected z-unknown.xml "<favourite>" &&
	expect_rejected z-date.xml "<birth-date>" &&
	expect_rejected z-cut.xml "" &&
	expect_rejected z-empty.xml ""
'

test_expect_success 'mimamori-intake(1): any DOCTYPE, not UTF-8, oversize (8 MiB), photo too big or not an image' '
	{ echo "<!DOCTYPE registration>"; spec_example; } >d-doctype.xml &&
	{ echo "<?xml version=\"1.0\"?>"; echo "<!DOCTYPE r [ <!ENTITY e SYSTEM \"file:///etc/passwd\"> ]>"; spec_example | sed "s|試験公園|\&e;|"; } >d-entity.xml &&
	spec_example | iconv -f UTF-8 -t SHIFT_JIS >d-sjis.xml &&
	spec_example >base.xml &&
	python3 -c "
import base64
s = open(\"base.xml\", encoding=\"utf-8\").read()
open(\"d-big.xml\", \"w\").write(s.replace(\"<basis>\", \"<!-- \" + \"x\" * 9000000 + \" --><basis>\", 1))
jpeg = base64.b64encode(b\"\\xff\\xd8\\xff\\xe0\" + bytes(2200000)).decode()
open(\"d-photobig.xml\", \"w\").write(s.replace(\"</lost-before>\", \"</lost-before><photo type=\\\"image/jpeg\\\">\" + jpeg + \"</photo>\", 1))
" &&
	test $(stat -c %s d-big.xml) -gt 8388608 &&
	grep -q "<photo type=\"image/jpeg\">/9j/4" d-photobig.xml &&
	variant d-gif -e "s|</lost-before>|</lost-before><photo type=\"image/jpeg\">$(printf "GIF89a....." | base64 -w0)</photo>|" &&
	mimamori --now $NOW submit d-*.xml >/dev/null &&
	mimamori --now $NOW intake >out 2>err &&
	cat out &&
	expect_rejected d-doctype.xml DOCTYPE &&
	expect_rejected d-entity.xml DOCTYPE &&
	expect_rejected d-sjis.xml "UTF-8" &&
	expect_rejected d-big.xml "too large" &&
	expect_rejected d-photobig.xml "<photo>" &&
	expect_rejected d-gif.xml "<photo>" &&
	! grep -rF "$(head -n1 /etc/passwd)" demo/spool out err
'

test_expect_success 'every input ended in exactly one place; nothing left in incoming/ or work/' '
	test -z "$(ls -A demo/spool/incoming)" &&
	test -z "$(ls -A demo/spool/work/intake)" &&
	n=$(ls demo/spool/rejected | grep -vc "\.reason\$") &&
	test "$n" = "$(ls demo/spool/rejected | grep -c "\.reason\$")"
'

test_expect_success 'mimamori-spool(5): every file the program wrote is 0600, every folder 0700' '
	find demo/spool -type f ! -perm 600 >bad &&
	find demo/spool -type d ! -perm 700 >>bad &&
	! test -s bad
'

test_expect_success 'mimamori-spool(5): a config and an empty spool folder are enough' '
	mkdir fresh && cp demo/mimamori.xml fresh/ && cp -a demo/gnupg fresh/ &&
	find fresh/gnupg -name "S.*" -delete &&
	mkdir fresh/spool &&
	for c in intake import dispatch deliver expire export run stats "audit verify"; do
		mimamori -c fresh/mimamori.xml $c >out 2>err || { echo "$c: $(cat err)"; return 1; }
	done &&
	cp example.xml fresh/spool/incoming/ &&
	mimamori -c fresh/mimamori.xml --now $NOW intake >out &&
	grep -x "accepted incoming/example.xml R2026-000001" out &&
	find fresh/spool -mindepth 1 -type f ! -perm 600 >bad &&
	find fresh/spool -mindepth 1 -type d ! -perm 700 >>bad &&
	! test -s bad
'

test_expect_success 'mimamori-spool(5): every accept and reject of intake is audited, without personal data' '
	L=demo/spool/audit/audit.log &&
	test $(grep -cP "\tintake\taccept\t" $L) = 15 &&
	test $(grep -cP "\tintake\treject\t" $L) = $(ls demo/spool/rejected | grep -vc "\.reason\$") &&
	for s in 試験 しけん 1941-04-01 078-111 090-1111 試験町; do
		! grep -F "$s" $L || return 1
	done &&
	mimamori audit verify
'

test_done
