#!/bin/sh
# Photos for those allowed to see them (mimamori-dispatch(1), Photos): a
# list marked photo="yes" gets the alert and its updates with the
# registration's photo attached, metadata removed, only when the consent
# says photo="yes"; an address on a photo list and another list gets the
# copy with the photo, once; no other list, no found or withdraw, and not
# the feed ever carry it; the leak guard still runs on the text. Every
# image is synthetic, made by tests/data/photo/phototool.py.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

PT="python3 $DATA/photo/phototool.py"

# photo_setup IMAGE TYPE CONSENT: the demo with cooperators a trained photo
# list (after agencies-chuo in the config), ward-chuo@ on both, and 神戸 花子's
# registration carrying IMAGE (TYPE) with consent photo=CONSENT.
photo_setup() {
	setup_demo &&
	dispatch_keys &&
	sed -i "s|<list id=\"cooperators\" |<list id=\"cooperators\" trained=\"yes\" photo=\"yes\" |; s|\(<member address=\"helper1@example.jp\"[^>]*/>\)|\1\n      <member address=\"ward-chuo@example.jp\" name=\"中央区役所\" pledge=\"2026-04-01\"/>|" demo/mimamori.xml &&
	mimamori check-config >cc.out 2>&1 &&
	b64=$(base64 -w0 "$1") &&
	sed -i "s|<photo type=\"image/png\">[^<]*</photo>|<photo type=\"$2\">$b64</photo>|; s|<consent \([^/]*\)/>|<consent \1 photo=\"$3\"/>|" \
		demo/samples/registration-kobe-hanako.xml &&
	grep -q "photo=\"$3\"" demo/samples/registration-kobe-hanako.xml &&
	mimamori --now 2026-11-01 submit demo/samples/registration-*.xml >/dev/null &&
	mimamori --now 2026-11-01 intake >intake.out &&
	grep -q "registration-kobe-hanako.xml R2026-000003" intake.out
}

# copies: the queued list copies (not the replies), one line each
# (phototool.py queue), parts in parts/.
copies() {
	rm -rf parts && mkdir parts && $PT queue demo/spool parts | sed "/ multipart\/encrypted -$/d"
}

test_expect_success 'setup: synthetic photos with metadata' '
	$PT jpeg in.jpg && $PT png in.png &&
	$PT check in.jpg >c && grep -q "^marker GPSLatitude" c && grep -q "^marker MARKER-NAME" c &&
	grep -q "^marker MARKER-COMMENT" c &&
	$PT check in.png >c && grep -q "^png IHDR tEXt iTXt zTXt tIME eXIf IDAT IEND end" c &&
	photo_setup in.jpg image/jpeg yes
'

test_expect_success 'an alert: the photo list has the photo, the other list not' '
	request p1 area=chuo &&
	mimamori --now $NOW dispatch >out &&
	echo "accepted inbox/new/p1 A2026-000001 5" >expect &&
	test_cmp expect out &&
	copies >list &&
	grep " cooperators " list >coop &&
	test $(wc -l <coop) = 2 &&
	! grep -v " image/jpeg photo.jpg\$" coop &&
	grep " agencies-chuo " list >agency &&
	test $(wc -l <agency) = 1 &&
	grep -q " center-chuo-1@example.jp text/plain -\$" agency
'

test_expect_success 'the address on both lists gets the copy with the photo, once' '
	test $(grep -c "ward-chuo@example.jp" list) = 1 &&
	grep "ward-chuo@example.jp" list | grep -q " cooperators .* multipart/mixed image/jpeg photo.jpg\$"
'

test_expect_success 'the attachment has no metadata left and is still a JPEG' '
	q=$(grep " cooperators .*helper1@" list | cut -d" " -f1) &&
	$PT check parts/$q >c &&
	echo "jpeg eoi jfif adobe no-exif" >expect &&
	test_cmp expect c &&
	! grep -a -q "MARKER\|GPSLatitude\|Hanako" parts/$q
'

test_expect_success 'the text is the same plain text in every copy (ISO-2022-JP too)' '
	q1=$(grep " cooperators .*helper1@" list | cut -d" " -f1) &&
	q2=$(grep " agencies-chuo " list | cut -d" " -f1) &&
	q3=$(grep " cooperators .*helper2@" list | cut -d" " -f1) &&
	test_cmp parts/$q2.txt parts/$q1.txt &&
	test_cmp parts/$q2.txt parts/$q3.txt &&
	grep -q "三宮センター街 東口付近" parts/$q1.txt &&
	grep -q "^Content-Type: text/plain; charset=ISO-2022-JP" demo/spool/queue/msg/$q3 &&
	grep -q "^Content-Disposition: attachment; filename=\"photo.jpg\"" demo/spool/queue/msg/$q1
'

test_expect_success 'the feed carries no photo' '
	test -f demo/spool/feed/A2026-000001.1.xml &&
	! grep -q "image/jpeg\|/9j/\|photo" demo/spool/feed/A2026-000001.1.xml
'

test_expect_success 'an update carries the photo on the photo list only; found none' '
	rm -f demo/spool/queue/env/* demo/spool/queue/msg/* &&
	request u1 type=update status= clothing=灰色のセーター &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/u1 A2026-000001 5" out &&
	copies >list &&
	grep " cooperators " list >coop && test $(wc -l <coop) = 2 &&
	! grep -v " image/jpeg photo.jpg\$" coop &&
	grep -q " agencies-chuo .* text/plain -\$" list &&
	rm -f demo/spool/queue/env/* demo/spool/queue/msg/* &&
	request f1 type=found status= found-at=2026-11-21T09:55:00+09:00 &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/f1 A2026-000001 5" out &&
	copies >list &&
	test $(grep -c " text/plain -\$" list) = $(grep -c "^" list) &&
	! grep -q "multipart\|image/" list
'

test_expect_success 'the leak guard still runs: a name in the text holds the alert, nothing sent' '
	rm -f demo/spool/queue/env/* demo/spool/queue/msg/* &&
	request p2 area=chuo "notes=花子さんと呼ぶと振り向きます" &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^rejected inbox/new/p2: leak guard: the alert text contains the person.s given name in <notes>" out &&
	copies >list &&
	! grep -q "image/\| cooperators \| agencies-chuo " list
'

test_expect_success 'a PNG: its text, time and eXIf chunks are gone, the image whole' '
	photo_setup in.png image/png yes &&
	request p3 area=chuo &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/p3 A2026-000001 5" out &&
	copies >list &&
	q=$(grep " cooperators .*helper1@" list | cut -d" " -f1) &&
	grep "^$q " list | grep -q " image/png photo.png\$" &&
	$PT check parts/$q >c &&
	echo "png IHDR IDAT IEND end" >expect &&
	test_cmp expect c &&
	! grep -a -q "MARKER\|GPSLatitude" parts/$q &&
	grep -q " agencies-chuo .* text/plain -\$" list
'

test_expect_success 'consent photo="no": no photo anywhere, even on the photo list' '
	photo_setup in.jpg image/jpeg no &&
	request p4 area=chuo &&
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/p4 A2026-000001 5" out &&
	copies >list &&
	test $(grep -c " text/plain -\$" list) = $(grep -c "^" list) &&
	! grep -a -q "photo.jpg\|image/jpeg" demo/spool/queue/msg/* &&
	grep "ward-chuo@example.jp" list | grep -q " agencies-chuo "
'

kill_agents
test_done
