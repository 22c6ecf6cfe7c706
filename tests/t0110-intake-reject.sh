#!/bin/sh
# intake rejects every bad document with a reason naming the problem, keeps
# it in rejected/ beside NAME.reason, and changes nothing else.
. "$(dirname "$0")/lib.sh"

NOW=2026-06-01
REG=$DATA/registration
SELF=$REG/valid-self.xml

# derive NAME SED-EXPR...: x/NAME from valid-self.xml with the edits; fails
# when they change nothing, so a case cannot test the valid document.
derive() {
	name=$1
	shift
	sed "$@" "$SELF" >"x/$name" &&
	! cmp -s "$SELF" "x/$name"
}

# What must not change when a document is rejected.
registry_state() {
	(cd demo/spool/registry/records && ls -A && sha256sum -- *)
}

# reject NAME TEXT...: submit x/NAME, run intake, and check that it was
# rejected with a reason holding every TEXT, kept as submitted, and that
# nothing else changed.
reject() {
	name=$1
	shift
	registry_state >reg.before &&
	mimamori submit "x/$name" >submit.out &&
	grep -Fx "submitted incoming/$name" submit.out &&
	timeout 20 "$MIMAMORI_BIN" --now $NOW intake >out 2>err &&
	cat out err &&
	test $(wc -l <out) -eq 1 &&
	! test -s err &&
	grep "^rejected incoming/$name: ." out &&
	sed "s|^rejected incoming/$name: ||" out >reason.out &&
	for t in "$@"; do
		grep -F -- "$t" reason.out || { echo "reason lacks '$t'"; return 1; }
	done &&
	test_cmp reason.out "demo/spool/rejected/$name.reason" &&
	cmp "x/$name" "demo/spool/rejected/$name" &&
	test "$(stat -c %a "demo/spool/rejected/$name")" = 600 &&
	test "$(stat -c %a "demo/spool/rejected/$name.reason")" = 600 &&
	test -z "$(ls -A demo/spool/incoming)" &&
	test -z "$(ls -A demo/spool/work/intake)" &&
	registry_state >reg.after &&
	test_cmp reg.before reg.after &&
	mimamori show "$BASE" >show.out &&
	grep -F "<name-kana>すま はるこ</name-kana>" show.out
}

test_expect_success 'setup: demo and one accepted registration' '
	setup_demo &&
	mkdir x &&
	mimamori submit "$REG/valid-minimal.xml" >/dev/null &&
	mimamori --now $NOW intake >out &&
	grep -x "accepted incoming/valid-minimal.xml R2026-000001" out &&
	echo R2026-000001 >base &&
	test $(ls demo/spool/registry/records | wc -l) -eq 1
'
BASE=$(cat base 2>/dev/null)

# Each required element missing, one at a time.
for e in basis applicant person name name-kana sex birth-date address phone \
	 usual-places previous-residences intake consent; do
	case $e in
	person)	expr='/<person>/,/<\/person>/d' ;;
	name)	expr='/^    <name>/d' ;;
	phone)	expr='/^    <phone /d' ;;
	*)	expr="/^ *<$e[ >/]/d" ;;
	esac
	test_expect_success "missing <$e> is rejected naming it" "
		derive missing-$e.xml -e '$expr' &&
		reject missing-$e.xml 'missing <$e>'
	"
done

test_expect_success 'missing <phone> removes only the person'"'"'s phones' '
	grep -c "^      <phone" x/missing-phone.xml &&
	! grep "^    <phone" x/missing-phone.xml
'

# Each enumeration violated: the reason names the element and the allowed
# values. The value is quoted for the kinds of a document (basis, applicant,
# consent), never for a field of the person or the care.
enum_case() {
	test_expect_success "a bad $1 is rejected naming <$3> and '$4'" "
		derive enum-$1.xml -e '$2' &&
		reject enum-$1.xml '<$3>' '$4' 'not one of'
	"
}
enum_hidden() {
	test_expect_success "a bad $1 is rejected naming <$3>, not '$4'" "
		derive enum-$1.xml -e '$2' &&
		reject enum-$1.xml '<$3>' 'not one of' &&
		! grep -F -- \"'$4'\" reason.out
	"
}
enum_case basis 's|<basis>self-application<|<basis>self<|' basis self
enum_hidden sex 's|<sex>female<|<sex>woman<|' sex woman
enum_hidden build 's|<build>thin<|<build>skinny<|' build skinny
enum_hidden face 's|<face>round<|<face>circle<|' face circle
enum_hidden complexion 's|<complexion>normal<|<complexion>green<|' complexion green
enum_hidden blood-type 's|<blood-type>A<|<blood-type>C<|' blood-type C
enum_hidden teeth 's|<teeth>partial-dentures<|<teeth>none<|' teeth none
enum_hidden gait 's|<gait>cane<|<gait>walker<|' gait walker
enum_hidden care-level 's|<level>care-2<|<level>care-6<|' level care-6
enum_hidden phone-kind 's|<phone kind="home">078-000-0001|<phone kind="fax">078-000-0001|' phone fax
enum_case share 's|share="yes"|share="maybe"|' consent maybe
enum_case broadcast 's|broadcast="yes"|broadcast="sometimes"|' consent sometimes
enum_case signed-by 's|signed-by="person"|signed-by="neighbour"|' consent neighbour
enum_case applicant-kind 's|<applicant kind="self"/>|<applicant kind="friend"/>|' applicant friend
enum_case guardian-kind 's|<applicant kind="self"/>|<applicant kind="guardian" guardian="parent"><name>須磨 二郎</name><certificate>第0000号</certificate></applicant>|' applicant parent

test_expect_success 'the enumeration edits changed the value asked' '
	grep "<phone kind=\"fax\">" x/enum-phone-kind.xml &&
	grep "<applicant kind=\"friend\"/>" x/enum-applicant-kind.xml
'

test_expect_success 'the ward attribute missing is rejected naming it' '
	derive no-ward.xml -e "s|<address ward=\"chuo\">|<address>|" &&
	reject no-ward.xml "<address>" "ward"
'

test_expect_success 'a wrong namespace is rejected' '
	cp "$REG/bad-namespace.xml" x/ &&
	reject bad-namespace.xml "namespace" "urn:example:other"
'

test_expect_success 'a document that is not well-formed is rejected' '
	cp "$REG/bad-not-well-formed.xml" x/ &&
	reject bad-not-well-formed.xml "not well-formed"
'

test_expect_success 'a truncated document is rejected' '
	sed 20q "$SELF" >x/truncated.xml &&
	reject truncated.xml "not well-formed"
'

test_expect_success 'an empty file is rejected' '
	: >x/empty.xml &&
	reject empty.xml "not well-formed"
'

test_expect_success 'a DOCTYPE with an external entity is rejected unread' '
	cp "$REG/bad-doctype.xml" x/ &&
	grep -F "file:///etc/passwd" x/bad-doctype.xml &&
	reject bad-doctype.xml "DOCTYPE" &&
	line=$(head -n 1 /etc/passwd) && test -n "$line" &&
	! grep -F -- "$line" out err &&
	! grep -rlF -- "$line" demo/spool
'

test_expect_success 'an internal entity without DOCTYPE is not expanded' '
	derive entity.xml -e "s|<usual-places>[^<]*|<usual-places>\&xxe;|" &&
	reject entity.xml "entity that is not defined" &&
	test -z "$(ls -A demo/spool/work/intake)"
'

test_expect_success 'billion laughs is rejected fast' '
	cp "$REG/bad-billion-laughs.xml" x/ &&
	start=$(date +%s) &&
	reject bad-billion-laughs.xml "DOCTYPE" &&
	test $(($(date +%s) - start)) -lt 20 &&
	! grep -c lollol out
'

test_expect_success 'invalid UTF-8 (a 0xE9 byte) is rejected' '
	derive latin1.xml -e "s|<name>神戸 花子|<name>Ren$(printf "\351")e Kobe|" &&
	iconv -f UTF-8 -t UTF-8 "$SELF" >/dev/null &&
	! iconv -f UTF-8 -t UTF-8 x/latin1.xml >/dev/null 2>&1 &&
	reject latin1.xml "UTF-8"
'

test_expect_success 'a document over 8 MiB is rejected as too large' '
	{ sed -n 1p "$SELF" &&
	  printf "<!-- " && head -c 8388608 /dev/zero | tr "\0" x && printf " -->\n" &&
	  sed 1d "$SELF"; } >x/oversize.xml &&
	test $(wc -c <x/oversize.xml) -gt 8388608 &&
	reject oversize.xml "too large"
'

test_expect_success 'a text field over 8 MiB is rejected as too large' '
	pad=$(head -c 8388700 /dev/zero | tr "\0" y) &&
	{ sed "/<other\/>/,\$d" "$SELF" &&
	  printf "      <other>%s</other>\n" "$pad" &&
	  sed "1,/<other\/>/d" "$SELF"; } >x/oversize-text.xml &&
	test $(wc -c <x/oversize-text.xml) -gt 8388608 &&
	reject oversize-text.xml "too large"
'

test_expect_success 'an unknown ward is rejected naming it' '
	derive unknown-ward.xml -e "s|ward=\"chuo\"|ward=\"nowhere\"|" &&
	reject unknown-ward.xml "<address>" "nowhere"
'

test_expect_success 'an unknown intake center is rejected naming it' '
	derive unknown-center.xml -e "s|center=\"center-chuo-1\"|center=\"center-nowhere\"|" &&
	reject unknown-center.xml "<intake>" "center-nowhere"
'

test_expect_success 'an agency that is not a care center cannot take in' '
	derive police-center.xml -e "s|center=\"center-chuo-1\"|center=\"police-ikuta\"|" &&
	reject police-center.xml "<intake>" "police-ikuta" "care center"
'

test_expect_success 'a guardian applicant without certificate is rejected' '
	cp "$REG/bad-guardian-no-certificate.xml" x/ &&
	reject bad-guardian-no-certificate.xml "<certificate>"
'

test_expect_success 'agency-sharing without ordinance clause is rejected' '
	sed "/<ordinance-clause>/d" "$REG/valid-agency-sharing.xml" >x/no-ordinance.xml &&
	! cmp -s "$REG/valid-agency-sharing.xml" x/no-ordinance.xml &&
	reject no-ordinance.xml "<ordinance-clause>"
'

test_expect_success 'consent share="no" is rejected' '
	derive share-no.xml -e "s|share=\"yes\"|share=\"no\"|" &&
	reject share-no.xml "<consent>" "share"
'

test_expect_success 'a birth date in the future is rejected' '
	derive future-birth.xml -e "s|<birth-date>1941-04-01<|<birth-date>2030-04-01<|" &&
	reject future-birth.xml "<birth-date>: not a past date" &&
	! grep -F "2030" reason.out
'

test_expect_success 'a consent date after --now is rejected' '
	derive future-consent.xml -e "s|consent date=\"2026-03-01\"|consent date=\"2026-07-01\"|" &&
	reject future-consent.xml "<consent>" "2026-07-01"
'

test_expect_success 'a photo that is not a PNG or JPEG is rejected' '
	derive photo-hello.xml -e "s|<photo type=\"image/png\">[^<]*<|<photo type=\"image/png\">$(printf hello | base64)<|" &&
	reject photo-hello.xml "<photo>"
'

test_expect_success 'a JPEG photo that is a PNG is rejected' '
	derive photo-type.xml -e "s|<photo type=\"image/png\">|<photo type=\"image/jpeg\">|" &&
	reject photo-type.xml "<photo>"
'

test_expect_success 'a photo over 2 MiB decoded is rejected' '
	{ sed "/<photo /,\$d" "$SELF" &&
	  printf "    <photo type=\"image/png\">" &&
	  { printf "\211PNG\r\n\032\n"; head -c 2097152 /dev/zero; } | base64 -w0 &&
	  printf "</photo>\n" &&
	  sed "1,/<photo /d" "$SELF"; } >x/photo-big.xml &&
	test $(wc -c <x/photo-big.xml) -lt 8388608 &&
	reject photo-big.xml "<photo>"
'

# Intake checks the photo's base64 itself (the schema sees a stand-in):
# what xs:base64Binary refuses must be refused all the same.
test_expect_success 'a photo that is not xs:base64Binary is rejected' '
	p=$(sed -n "s|.*<photo type=\"image/png\">\([^<]*\)<.*|\1|p" "$SELF") &&
	test -n "$p" &&
	for bad in "!${p#?}" "${p%?}" "AA==$p" "iVBORw0KGgp=" "iVBORw0KGh==" "${p%????}-_AA"; do
		derive photo-b64.xml -e "s|<photo type=\"image/png\">[^<]*<|<photo type=\"image/png\">$bad<|" &&
		reject photo-b64.xml "<photo>" "base64" || return 1
		rm -f demo/spool/rejected/photo-b64.xml demo/spool/rejected/photo-b64.xml.reason
	done
'

test_expect_success 'a change for an unknown id is rejected naming it' '
	sed "s|R2026-000001|R2026-999999|; s|2026-06-01|$NOW|" "$REG/change.xml" >x/change-unknown.xml &&
	reject change-unknown.xml "R2026-999999"
'

test_expect_success 'a renewal for an unknown id is rejected naming it' '
	sed "s|R2026-000001|R2026-999999|; s|2028-02-01|$NOW|g" "$REG/renewal.xml" >x/renewal-unknown.xml &&
	reject renewal-unknown.xml "R2026-999999"
'

test_expect_success 'a cancellation for an unknown id is rejected naming it' '
	sed "s|R2026-000001|R2026-999999|; s|2026-09-30|$NOW|" "$REG/cancellation.xml" >x/cancel-unknown.xml &&
	reject cancel-unknown.xml "R2026-999999"
'

test_expect_success 'a stored <record> cannot be submitted' '
	mimamori show "$BASE" >x/record.xml &&
	sed -i "s|R2026-000001|R2026-000777|" x/record.xml &&
	reject record.xml "<record>" &&
	test_expect_code 65 mimamori show R2026-000777
'

test_expect_success 'the same person again is a duplicate naming the id' '
	sed "s|<name>須磨 春子|<name>須磨 はる子|" "$REG/valid-minimal.xml" >x/dup.xml &&
	reject dup.xml "duplicate" "$BASE"
'

test_expect_success 'a duplicate with the kana spaced differently is found' '
	sed "s|<name-kana>すま はるこ<|<name-kana> すま　はるこ <|" "$REG/valid-minimal.xml" >x/dup-space.xml &&
	grep "すま　はるこ" x/dup-space.xml &&
	reject dup-space.xml "duplicate" "$BASE" &&
	sed "s|<name-kana>すま はるこ<|<name-kana>すまはるこ<|" "$REG/valid-minimal.xml" >x/dup-nospace.xml &&
	grep "すまはるこ" x/dup-nospace.xml &&
	reject dup-nospace.xml "duplicate" "$BASE"
'

test_expect_success 'setup: a person registered with full-width katakana' '
	sed "s|<name-kana>なだ かずお<|<name-kana>ナダ カズオ<|" "$REG/valid-guardian.xml" >x/katakana.xml &&
	mimamori submit x/katakana.xml >/dev/null &&
	mimamori --now $NOW intake >out &&
	grep -x "accepted incoming/katakana.xml R2026-000002" out
'

test_expect_success 'a duplicate in half-width katakana is found' '
	sed "s|<name-kana>なだ かずお<|<name-kana>ﾅﾀﾞ ｶｽﾞｵ<|" "$REG/valid-guardian.xml" >x/dup-halfwidth.xml &&
	grep "ﾅﾀﾞ" x/dup-halfwidth.xml &&
	reject dup-halfwidth.xml "duplicate" "R2026-000002"
'

test_expect_success 'the same person twice in one batch: the second is a duplicate' '
	make_registration 7 >x/twin-a.xml &&
	make_registration 7 >x/twin-b.xml &&
	mimamori submit x/twin-a.xml x/twin-b.xml >/dev/null &&
	mimamori --now $NOW intake >out &&
	cat out &&
	test $(wc -l <out) -eq 2 &&
	grep -x "accepted incoming/twin-a.xml R2026-000003" out &&
	grep -x "rejected incoming/twin-b.xml: .*duplicate.*R2026-000003.*" out &&
	test -f demo/spool/rejected/twin-b.xml &&
	! test -e demo/spool/rejected/twin-a.xml
'

test_expect_success 'a name rejected twice keeps both rejections' '
	cp demo/spool/rejected/share-no.xml.reason first.reason &&
	mimamori submit x/share-no.xml >/dev/null &&
	mimamori --now $NOW intake >out &&
	grep "^rejected incoming/share-no.xml: " out &&
	test_cmp first.reason demo/spool/rejected/share-no.xml.reason &&
	ls demo/spool/rejected/ | grep "^share-no\..*xml$" >names &&
	test $(wc -l <names) -eq 2
'

test_expect_success 'rejections are in the audit log, without personal data' '
	mimamori audit verify &&
	grep -c reject demo/spool/audit/audit.log &&
	! grep -F "須磨" demo/spool/audit/audit.log &&
	! grep -F "すま" demo/spool/audit/audit.log
'

test_expect_success 'a photo wrapped in lines (as base64(1) writes it) is accepted, unchanged' '
	make_registration 41 "$SELF" >x/photo-wrapped.xml &&
	perl "$TEST_SRC/tests/bench/gen-photo.pl" 41 >photo.png &&
	base64 photo.png >photo.b64 &&
	test $(wc -l <photo.b64) -gt 100 &&
	perl -0pi -e "open F, q(photo.b64); local \$/; \$b = <F>; s|(<photo type=\"image/png\">)[^<]*<|\$1\n\$b    <|" x/photo-wrapped.xml &&
	mimamori submit x/photo-wrapped.xml >/dev/null &&
	mimamori --now $NOW intake >out &&
	id=$(sed -n "s|^accepted incoming/photo-wrapped.xml ||p" out) &&
	test -n "$id" &&
	mimamori show "$id" >show.out &&
	perl -0ne "print \$1 if m|<photo [^>]*>([^<]*)</photo>|" show.out | base64 -di >got.png &&
	cmp photo.png got.png
'

# The type check decodes only the first bytes: they may be spread over
# whitespace too.
test_expect_success 'a photo with whitespace before and inside its first bytes is accepted' '
	make_registration 42 "$SELF" >x/photo-spaced.xml &&
	perl "$TEST_SRC/tests/bench/gen-photo.pl" 42 | base64 -w 2 >photo.b64 &&
	perl -0pi -e "open F, q(photo.b64); local \$/; \$b = <F>; s|(<photo type=\"image/png\">)[^<]*<|\$1\n\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n\$b    <|" x/photo-spaced.xml &&
	mimamori submit x/photo-spaced.xml >/dev/null &&
	mimamori --now $NOW intake >out &&
	grep "^accepted incoming/photo-spaced.xml " out
'

# Intake counts a photo's size from its base64 without decoding it all:
# the limit is exact.
test_expect_success 'a photo of exactly 2 MiB decoded is accepted, one byte more is not' '
	make_registration 43 "$SELF" >base43.xml &&
	for n in 2097152 2097153; do
		{ sed "/<photo /,\$d" base43.xml &&
		  printf "    <photo type=\"image/png\">" &&
		  { printf "\211PNG\r\n\032\n"; head -c $((n - 8)) /dev/zero; } | base64 -w0 &&
		  printf "</photo>\n" &&
		  sed "1,/<photo /d" base43.xml; } >x/photo-$n.xml || return 1
	done &&
	reject photo-2097153.xml "<photo>: larger than 2097152 bytes" &&
	mimamori submit x/photo-2097152.xml >/dev/null &&
	mimamori --now $NOW intake >out &&
	grep "^accepted incoming/photo-2097152.xml " out
'

test_done
