#!/bin/sh
# A reason names the field and what is wrong with it, never the value of a
# field of the person, a requester, the care or the intake. Every document
# here carries a marker in a bad value; the marker must be on none of
# stdout, stderr, the .reason file and the audit log.
. "$(dirname "$0")/lib.sh"

NOW=2026-06-01
SELF=$DATA/registration/valid-self.xml

# bad NAME 'REASON' MARKER SED-EXPR...: x/NAME from valid-self.xml with the
# edits (which must change it and put MARKER in it), to be rejected with a
# reason holding REASON.
bad() {
	name=$1 reason=$2 marker=$3
	shift 3
	sed "$@" "$SELF" >"x/$name" &&
	! cmp -s "$SELF" "x/$name" &&
	grep -qF -- "$marker" "x/$name" &&
	printf '%s\t%s\t%s\n' "$name" "$reason" "$marker" >>cases
}

test_expect_success 'setup: demo and the bad documents' '
	setup_demo &&
	mkdir x &&
	: >cases &&
	bad birth-slash.xml "<birth-date>: not a valid date" 1941/04/01 \
		-e "s|<birth-date>1941-04-01<|<birth-date>1941/04/01<|" &&
	bad birth-future.xml "<birth-date>: not a past date" 2031-04-01 \
		-e "s|<birth-date>1941-04-01<|<birth-date>2031-04-01<|" &&
	bad birth-zone.xml "<birth-date>: not a valid date" 1941-04-01+09:00 \
		-e "s|<birth-date>1941-04-01<|<birth-date>1941-04-01+09:00<|" &&
	bad kana-latin.xml "<sex>: not one of female, male" KobeHanakoKana \
		-e "s|<name-kana>[^<]*<|<name-kana>KobeHanakoKana<|" \
		-e "s|<sex>female<|<sex>Fem4le<|" &&
	bad sex.xml "<sex>: not one of female, male" Fem4le \
		-e "s|<sex>female<|<sex>Fem4le<|" &&
	bad phone-long.xml "<phone>: too long" TEL-Zq7x \
		-e "s|>078-000-0001<|>078-TEL-Zq7x-0000000000000000000000000000000000000000000000000000000<|" &&
	bad phone-kind.xml "<phone>: bad attribute '"'"'kind'"'"' (not one of home, mobile, work)" PagerKind \
		-e "s|<phone kind=\"home\">|<phone kind=\"PagerKind\">|" &&
	bad build.xml "<build>: not one of obese, slightly-obese, medium, thin" Skinny9 \
		-e "s|<build>thin<|<build>Skinny9<|" &&
	bad height.xml "<height-cm>: not a number" 148cmTall \
		-e "s|<height-cm>148<|<height-cm>148cmTall<|" &&
	bad care-level.xml "<level>: not one of support-1" care-9x \
		-e "s|<level>care-2<|<level>care-9x<|" &&
	bad requester-phone.xml "<phone>: too long" REQ-Pq4w \
		-e "s|>090-0000-0002<|>090-REQ-Pq4w-00000000000000000000000000000000000000000000000000000000<|" &&
	bad requester-kind.xml "<phone>: bad attribute '"'"'kind'"'"'" FaxKind \
		-e "s|<phone kind=\"work\">|<phone kind=\"FaxKind\">|" &&
	bad ward.xml "<address>: bad attribute '"'"'ward'"'"' (not a ward id)" 加納町Ward \
		-e "s|ward=\"chuo\"|ward=\"加納町Ward\"|" &&
	bad interview.xml "<intake>: bad attribute '"'"'interview-date'"'"' (not a valid date)" 2026/03/01 \
		-e "s|interview-date=\"2026-03-01\"|interview-date=\"2026/03/01\"|" &&
	bad lost.xml "<lost-before>: bad attribute '"'"'count'"'"'" TwiceLost \
		-e "s|count=\"2\"|count=\"TwiceLost\"|" &&
	bad photo.xml "<photo>: not valid base64" U5ErkJggg=Xx \
		-e "s|U5ErkJggg==<|U5ErkJggg=Xx<|" &&
	bad xsi.xml "<birth-date>: not valid" 1941/04/01 \
		-e "s|<birth-date>1941-04-01<|<birth-date xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xsi:type=\"xs:string\">1941/04/01<|" &&
	bad comment.xml "not well-formed XML" Usual-Cm5t \
		-e "s|<usual-places>|<usual-places>Usual-Cm5t <!-- |" &&
	bad cdata.xml "not well-formed XML" Cdata-Rt6y \
		-e "s|<diagnosis>|<diagnosis><![CDATA[Cdata-Rt6y |" &&
	bad entity.xml "not well-formed XML" Diag8u \
		-e "s|<diagnosis>|<diagnosis>\&Diag8u;|" &&
	bad end-tag.xml "not well-formed XML" Hanako5k \
		-e "s|<name>神戸 花子</name>|<name>神戸 </Hanako5k>|" &&
	bad start-tag.xml "not well-formed XML" Taro7j \
		-e "s|<name>神戸 太郎</name>|<name>神戸 <Taro7j</name>|" &&
	test $(wc -l <cases) = 22
'

test_expect_success 'every bad value is rejected naming the element, never the value' '
	mimamori submit x/*.xml >/dev/null &&
	timeout 60 "$MIMAMORI_BIN" --now $NOW intake >out 2>err &&
	cat out err &&
	test $(grep -c "^rejected incoming/" out) = 22 &&
	! grep "^accepted" out &&
	while IFS="	" read -r name reason marker; do
		grep -F "rejected incoming/$name: $reason" out ||
			{ echo "$name: no \"$reason\""; return 1; }
		grep -qF -- "$reason" "demo/spool/rejected/$name.reason" || return 1
		for f in out err demo/spool/rejected/*.reason demo/spool/audit/audit.log; do
			! grep -F -- "$marker" "$f" || { echo "$name: $marker in $f"; return 1; }
		done
	done <cases
'

test_expect_success 'a duplicate names the registration, not the name-kana or birth date' '
	sed -e "s|<name-kana>[^<]*<|<name-kana>Kobe Dup Kana<|" \
	    -e "s|<birth-date>[^<]*<|<birth-date>1939-12-31<|" \
	    "$DATA/registration/valid-minimal.xml" >x/first.xml &&
	sed "s|<name>|<name>Again |" x/first.xml >x/again.xml &&
	mimamori submit x/first.xml >/dev/null &&
	mimamori --now $NOW intake >out 2>err &&
	id=$(sed -n "s|^accepted incoming/first.xml ||p" out) &&
	test -n "$id" &&
	mimamori submit x/again.xml >/dev/null &&
	mimamori --now $NOW intake >out 2>err &&
	grep "^rejected incoming/again.xml: duplicate.*$id" out &&
	for f in out err demo/spool/rejected/again.xml.reason demo/spool/audit/audit.log; do
		! grep -e "Kobe Dup Kana" -e 1939-12-31 -e "Again" "$f" || return 1
	done
'

test_done
