#!/bin/sh
# form: the paper registration form typed as key: value lines, with every
# field and with the required ones only, dates as the paper writes them
# (eras, kanji numerals, full-width digits), submitted into incoming/ and
# taken in by intake; bad forms named by key, never by value.
. "$(dirname "$0")/lib.sh"

pin_clock 2026-03-10T12:00:00+09:00
AUDIT=demo/spool/audit/audit.log

# A PNG of one pixel (the one of samples/registration-kobe-hanako.xml).
make_photo() {
	sed -n 's|.*<photo type="image/png">\([^<]*\)</photo>.*|\1|p' \
		"$TEST_SRC/samples/registration-kobe-hanako.xml" | base64 -d >"$1"
}

test_expect_success 'setup: demo installation, forms' '
	setup_demo &&
	mkdir forms &&
	make_photo forms/hanako.png &&
	cat >forms/full.txt <<-\EOF &&
	# 登録届
	basis: 同意方式
	applicant: 後見人
	guardian-kind: 成年後見人
	guardian-name: 神戸 一郎
	guardian-certificate: 第0000-0000号
	name: 神戸 花子
	name-kana: こうべ はなこ
	sex: 女
	maiden-name: 山田
	birth-date: 昭和十六年四月一日
	address: 神戸市中央区加納町6-5-1
	  見守りハイツ101号
	ward: 中央区
	phone-home: ０７８ー０００ー０００１
	phone-mobile: 090－0000‐0001
	mobile-carrier: 見守りモバイル
	mobile-holder: 神戸 太郎
	usual-places: 三宮センター街、元町商店街の喫茶店
	previous-residences: 神戸市灘区篠原本町
	height-cm: １４８
	weight-kg: 45kg
	build: やせ
	face: 丸顔
	complexion: 普通
	glasses: 銀縁の老眼鏡
	hair: 白髪
	blood-type: A型
	teeth: 部分入れ歯
	shoe-size-cm: 22.5
	footwear: 白い運動靴
	marks: 右手の甲にやけどの跡
	moles: 左頬
	behaviour: 歩き続ける
	dialect: 播州弁
	speech: ゆっくり話す
	gait: 杖
	hobbies: 園芸
	other: なし
	lost-before-count: 2回
	lost-before: 2025年8月、三宮駅で保護された
	photo-file: hanako.png
	requester-1-name: 神戸 太郎
	requester-1-relationship: 長男
	requester-1-phone: 090-0000-0002
	requester-2-name: 灘 次郎
	requester-2-relationship: 甥
	requester-2-phone: 078-000-0003
	requester-3-name: 須磨 三郎
	requester-3-relationship: 孫
	requester-3-phone: 080-0000-0004
	care-level: 要介護2
	diagnosis: アルツハイマー型認知症
	care-manager-office: 中央みまもり居宅介護支援事業所
	care-manager-name: 須磨 一郎
	care-manager-phone: 078-000-0005
	services: デイサービス
	consent-date: 令和8年3月1日
	consent-broadcast: はい
	consent-photo: はい
	consent-signed-by: 後見人
	intake-center: 中央あんしんすこやかセンター
	intake-staff: 垂水 さくら
	interview-date: R8.3.1
	EOF
	cat >forms/minimal.txt <<-\EOF
	name: 須磨 春子
	name-kana: すま はるこ
	sex: female
	birth-date: 1950-01-15
	address: 神戸市灘区岩屋中町3-3-3
	ward: nada
	phone-home: 078-000-0301
	usual-places: 岩屋駅前のスーパー
	previous-residences: 明石市
	consent-date: 2026-03-10
	consent-broadcast: yes
	intake-center: center-nada-1
	intake-staff: 御影 ゆり
	interview-date: 2026-03-10
	EOF
'

test_expect_success 'the templates are forms the reader takes (all keys known)' '
	for t in ja en; do
		mimamori form "$TEST_SRC/templates/registration-form.$t.txt" -o . >out 2>err &&
		grep "^rejected .*registration-form.$t.txt: name: required;" out &&
		! grep -q "unknown key" out || exit 1
	done
'

test_expect_success 'form with every field and one with the required ones are submitted' '
	mimamori form forms/full.txt forms/minimal.txt >out 2>err &&
	cat >expect <<-\EOF &&
	accepted forms/full.txt incoming/full.xml
	accepted forms/minimal.txt incoming/minimal.xml
	EOF
	test_cmp expect out &&
	! test -s err &&
	xmllint --noout --schema "$TEST_SRC/schemas/registration.xsd" \
		demo/spool/incoming/full.xml demo/spool/incoming/minimal.xml
'

test_expect_success 'the document says what the form said, normalised' '
	f=demo/spool/incoming/full.xml &&
	grep "<basis>consent</basis>" $f &&
	grep "<applicant kind=\"guardian\" guardian=\"adult\">" $f &&
	grep "<birth-date>1941-04-01</birth-date>" $f &&
	grep "<address ward=\"chuo\">神戸市中央区加納町6-5-1 見守りハイツ101号</address>" $f &&
	grep "<phone kind=\"home\">078-000-0001</phone>" $f &&
	grep "<phone kind=\"mobile\" carrier=\"見守りモバイル\" holder=\"神戸 太郎\">090-0000-0001</phone>" $f &&
	grep "<height-cm>148</height-cm>" $f &&
	grep "<weight-kg>45</weight-kg>" $f &&
	grep "<build>thin</build>" $f && grep "<face>round</face>" $f &&
	grep "<blood-type>A</blood-type>" $f && grep "<gait>cane</gait>" $f &&
	grep "<lost-before count=\"2\">" $f &&
	grep "<photo type=\"image/png\">iVBORw0KGgo" $f &&
	test $(grep -c "<requester>" $f) = 3 &&
	grep "<phone kind=\"home\">078-000-0003</phone>" $f &&
	grep "<level>care-2</level>" $f &&
	grep "<consent date=\"2026-03-01\" share=\"yes\" broadcast=\"yes\" signed-by=\"guardian\" photo=\"yes\"/>" $f &&
	! grep -q "photo=" demo/spool/incoming/minimal.xml &&
	grep "<intake center=\"center-chuo-1\" staff=\"垂水 さくら\" interview-date=\"2026-03-01\"/>" $f
'

test_expect_success 'intake takes both in; show has them' '
	mimamori intake >out 2>err &&
	cat >expect <<-\EOF &&
	accepted incoming/full.xml R2026-000001
	accepted incoming/minimal.xml R2026-000002
	EOF
	test_cmp expect out &&
	mimamori show R2026-000001 >show.out &&
	grep "<name-kana>こうべ はなこ</name-kana>" show.out &&
	grep "<diagnosis>アルツハイマー型認知症</diagnosis>" show.out &&
	mimamori show R2026-000002 >show.out &&
	grep "<birth-date>1950-01-15</birth-date>" show.out
'

test_expect_success '-o DIR writes the document there and submits nothing' '
	mkdir outdir &&
	mimamori form -o outdir forms/minimal.txt >out &&
	echo "accepted forms/minimal.txt outdir/minimal.xml" >expect &&
	test_cmp expect out &&
	test -z "$(ls demo/spool/incoming)" &&
	grep "<name>須磨 春子</name>" outdir/minimal.xml
'

# bad KEY VALUE: minimal.txt with KEY set to VALUE (or removed when empty).
bad() {
	grep -v "^$1:" forms/minimal.txt
	if [ -n "$2" ]; then echo "$1: $2"; fi
}

test_expect_success 'era dates at their boundaries' '
	mkdir era &&
	bad birth-date "昭和64年1月7日" | sed "s/すま はるこ/すま いち/" >era/s64.txt &&
	bad birth-date "平成元年1月8日" | sed "s/すま はるこ/すま に/" >era/h1.txt &&
	bad birth-date "昭和64年1月8日" >era/none.txt &&
	mimamori form -o era era/s64.txt era/h1.txt era/none.txt >out &&
	grep "<birth-date>1989-01-07</birth-date>" era/s64.xml &&
	grep "<birth-date>1989-01-08</birth-date>" era/h1.xml &&
	grep "^rejected era/none.txt: birth-date: no such date$" out &&
	! grep "昭和64" out
'

test_expect_success 'bad forms are rejected naming the key, never the value; exit 0' '
	mkdir bad &&
	bad birth-date "昭和64年1月8日" >bad/date.txt &&
	bad ward "火星区" >bad/ward.txt &&
	bad phone-home "" >bad/phone.txt &&
	bad phone-home "07８-ばつ" >bad/phone2.txt &&
	bad consent-broadcast "" >bad/broadcast.txt &&
	bad sex "不詳" >bad/sex.txt &&
	bad intake-center "center-mars-9" >bad/center.txt &&
	bad interview-date "2026-12-01" >bad/future.txt &&
	{ cat forms/minimal.txt && echo "favourite-colour: 青"; } >bad/unknown.txt &&
	{ cat forms/minimal.txt && echo "name: 二重 登録"; } >bad/twice.txt &&
	bad photo-file "../../etc/passwd" >bad/photo.txt &&
	printf "name: \\377\\376\\n" >bad/latin1.txt &&
	: >bad/empty.txt &&
	mimamori form bad/*.txt >out 2>err &&
	cat out &&
	grep "^rejected bad/date.txt: birth-date: no such date$" out &&
	grep "^rejected bad/ward.txt: ward: unknown ward" out &&
	grep "^rejected bad/phone.txt: phone-home: required (or phone-mobile)$" out &&
	grep "^rejected bad/phone2.txt: phone-home: not a phone number" out &&
	grep "^rejected bad/broadcast.txt: consent-broadcast: required$" out &&
	grep "^rejected bad/sex.txt: sex: not one of female (女), male (男)$" out &&
	grep "^rejected bad/center.txt: intake-center: unknown care center" out &&
	grep "^rejected bad/future.txt: interview-date: in the future$" out &&
	grep "^rejected bad/unknown.txt: line [0-9]*: unknown key$" out &&
	grep "^rejected bad/twice.txt: duplicate key .name.$" out &&
	grep "^rejected bad/photo.txt: photo-file: not a plain file name" out &&
	grep "^rejected bad/latin1.txt: not UTF-8" out &&
	grep "^rejected bad/empty.txt: no fields filled in$" out &&
	test $(grep -c "^rejected" out) = 13 &&
	test -z "$(ls demo/spool/incoming)" &&
	for v in 昭和64 火星 ばつ 不詳 mars 2026-12-01 青 二重 passwd; do
		! grep -F "$v" out err "$AUDIT" || exit 1
	done
'

test_expect_success 'a missing file is an error (66); the others go on' '
	test_expect_code 66 mimamori form -o outdir nothere.txt forms/minimal.txt >out 2>err &&
	grep "cannot read .nothere.txt." err &&
	grep "^accepted forms/minimal.txt outdir/minimal.1.xml$" out
'

test_expect_success 'usage' '
	test_expect_code 64 mimamori form &&
	test_expect_code 64 mimamori form --bogus x.txt
'

test_done
