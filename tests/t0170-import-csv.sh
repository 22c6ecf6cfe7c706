#!/bin/sh
# import-csv: a register kept in a spreadsheet, as Excel (CP932, CRLF)
# and LibreOffice (UTF-8) save it, with a BOM or without; RFC 4180
# quoting; one registration per row into incoming/, then intake; bad rows
# named by row and column, never by value; an unknown column refuses the
# file. Then list.
. "$(dirname "$0")/lib.sh"

pin_clock 2026-03-10T12:00:00+09:00
AUDIT=demo/spool/audit/audit.log
HEAD='氏名,ふりがな,性別,生年月日,住所,区,電話（自宅）,携帯電話,よく行く場所,以前の居住地,同意日,一斉配信への同意,受付センター,受付担当者,面接日'

# crlf: LF to CRLF, as Excel ends its lines.
crlf() {
	sed 's/$/\r/'
}

test_expect_success 'setup: demo installation' '
	setup_demo
'

# Row 2 spans two lines (a line break inside quotes): the next is row 3;
# the blank row 4 (commas only, as Excel writes it) is no registration.
test_expect_success 'an Excel CSV (CP932, CRLF, quoted fields) becomes one document per row' '
	{
		echo "$HEAD,身長,依頼者1氏名,依頼者1続柄,依頼者1電話,要介護度" &&
		echo "神戸 花子,こうべ はなこ,女,昭和16年4月1日,\"神戸市中央区加納町6-5-1, 見守りハイツ101号\",中央区,０７８－０００－０００１,,\"三宮の\"\"喫茶店\"\"" &&
		echo "元町商店街\",神戸市灘区,令和8年3月1日,はい,中央あんしんすこやかセンター,垂水 さくら,2026/3/1,148,神戸 太郎,長男,090-0000-0002,要介護2" &&
		echo "灘 次郎,なだ じろう,男,S10.5.5,神戸市灘区岩屋中町1-1,灘区,,090-0000-0101,岩屋駅,明石市,2026-03-02,いいえ,center-nada-1,御影 ゆり,2026-03-02,,,,," &&
		echo ",,,,,,,,,,,,,,,,,,,"
	} | crlf | iconv -f UTF-8 -t CP932 >excel.csv &&
	! iconv -f UTF-8 -t UTF-8 excel.csv >/dev/null 2>&1 &&
	mimamori import-csv excel.csv >out 2>err &&
	cat >expect <<-\EOF &&
	accepted 2 incoming/excel-000002.xml
	accepted 3 incoming/excel-000003.xml
	EOF
	test_cmp expect out &&
	! test -s err &&
	f=demo/spool/incoming/excel-000002.xml &&
	grep "<address ward=\"chuo\">神戸市中央区加納町6-5-1, 見守りハイツ101号</address>" $f &&
	grep "<phone kind=\"home\">078-000-0001</phone>" $f &&
	grep "<birth-date>1941-04-01</birth-date>" $f &&
	grep "三宮の&quot;喫茶店&quot;" $f && grep "^元町商店街</usual-places>" $f &&
	grep "<requester>" $f && grep "<level>care-2</level>" $f &&
	grep "<consent date=\"2026-03-01\" share=\"yes\" broadcast=\"yes\"" $f &&
	grep "broadcast=\"no\"" demo/spool/incoming/excel-000003.xml &&
	xmllint --noout --schema "$TEST_SRC/schemas/registration.xsd" demo/spool/incoming/*.xml
'

test_expect_success 'intake accepts them; show has them' '
	mimamori intake >out 2>err &&
	cat >expect <<-\EOF &&
	accepted incoming/excel-000002.xml R2026-000001
	accepted incoming/excel-000003.xml R2026-000002
	EOF
	test_cmp expect out &&
	mimamori show R2026-000001 >show.out &&
	grep "<name>神戸 花子</name>" show.out &&
	mimamori show R2026-000002 >show.out &&
	grep "<birth-date>1935-05-05</birth-date>" show.out
'

test_expect_success 'a UTF-8 CSV with a BOM, LF, the form keys as headers' '
	{
		printf "\\357\\273\\277" &&
		echo "name,name-kana,sex,birth-date,address,ward,phone-home,phone-mobile,usual-places,previous-residences,consent-date,consent-broadcast,intake-center,intake-staff,interview-date" &&
		echo "須磨 春子,すま はるこ,female,平成元年1月8日,神戸市灘区岩屋中町3-3-3,nada,078-000-0301,,スーパー,明石市,2026-03-10,yes,center-nada-1,御影 ゆり,2026-03-10"
	} >bom.csv &&
	mimamori import-csv bom.csv >out 2>err &&
	echo "accepted 2 incoming/bom-000002.xml" >expect &&
	test_cmp expect out &&
	grep "<birth-date>1989-01-08</birth-date>" demo/spool/incoming/bom-000002.xml &&
	mimamori intake >out &&
	grep "^accepted incoming/bom-000002.xml R2026-000003$" out
'

test_expect_success '--encoding forces the reading' '
	test_expect_code 65 mimamori import-csv --encoding utf-8 excel.csv >out 2>err &&
	grep "not valid UTF-8" err &&
	! test -s out
'

test_expect_success 'bad rows are named by row and column, never by value; the others go on' '
	{
		echo "$HEAD" &&
		echo "垂水 一子,たるみ いちこ,女,1940-01-01,神戸市垂水区1,火星区,078-000-0401,,海岸,明石市,2026-03-01,はい,center-chuo-1,垂水 さくら,2026-03-01" &&
		echo "垂水 二子,たるみ ふたこ,女,1940-01-02,\"神戸市中央区" &&
		echo "2丁目\",chuo,,,海岸,明石市,2026-03-01,はい,center-chuo-1,垂水 さくら,2026-03-01" &&
		echo "垂水 三子,たるみ みつこ,女,昭和64年1月8日,神戸市中央区3,chuo,078-000-0403,,海岸,明石市,2026-03-01,はい,center-chuo-1,垂水 さくら,2026-03-01" &&
		echo "垂水 四子,たるみ よつこ,女,1940-01-04,神戸市中央区4,chuo,078-000-0404,,海岸,明石市,2026-03-01,たぶん,center-chuo-1,垂水 さくら,2026-03-01" &&
		echo "垂水 五子,たるみ いつこ,女,1940-01-05,神戸市中央区5,chuo,078-000-0405,,海岸,明石市,2026-03-01,はい,center-chuo-1,垂水 さくら,2026-03-01"
	} | crlf >bad.csv &&
	mimamori import-csv bad.csv >out 2>err &&
	cat out &&
	cat >expect <<-\EOF &&
	rejected 2: 区 (ward): unknown ward (a ward id of the configuration or a ward'"'"'s name, e.g. chuo or 中央区)
	rejected 3: 電話（自宅） (phone-home): required (or phone-mobile)
	rejected 4: 生年月日 (birth-date): no such date
	rejected 5: 一斉配信への同意 (consent-broadcast): not one of yes, no
	accepted 6 incoming/bad-000006.xml
	EOF
	test_cmp expect out &&
	! test -s err &&
	for v in 火星 たるみ 垂水 昭和64 たぶん 0401 中央区3; do
		! grep -F "$v" out err "$AUDIT" || exit 1
	done &&
	grep "import-csv	reject	row=2" "$AUDIT"
'

test_expect_success 'an unknown column refuses the whole file (65), naming the column' '
	{
		echo "$HEAD,好きな色" &&
		echo "垂水 六子,たるみ むつこ,女,1940-01-06,神戸市中央区6,chuo,078-000-0406,,海岸,明石市,2026-03-01,はい,center-chuo-1,垂水 さくら,2026-03-01,青"
	} >unknown.csv &&
	rm -f demo/spool/incoming/* &&
	test_expect_code 65 mimamori import-csv unknown.csv >out 2>err &&
	cat err &&
	grep "unknown column 16 (P) in the header row; nothing was imported" err &&
	! test -s out &&
	test -z "$(ls demo/spool/incoming)" &&
	! grep -F "好きな色" err
'

test_expect_success 'a missing required column refuses the file' '
	printf "氏名,ふりがな\\n神戸 花子,こうべ はなこ\\n" >short.csv &&
	test_expect_code 65 mimamori import-csv short.csv >out 2>err &&
	grep "missing column 性別 (sex)" err &&
	grep "missing column 面接日 (interview-date)" err
'

test_expect_success 'caps: a file over 64 MiB is refused before it is read' '
	truncate -s 65M huge.csv &&
	test_expect_code 65 mimamori import-csv huge.csv 2>err &&
	grep "larger than 64 MiB" err
'

test_expect_success 'a CSV exported by LibreOffice Calc' '
	if ! command -v soffice >/dev/null 2>&1; then
		echo "# skipped: soffice (libreoffice-calc-nogui) is not installed" &&
		exit 0
	fi &&
	{
		cat <<-\EOF &&
		<?xml version="1.0" encoding="UTF-8"?>
		<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
		 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
		 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
		 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
		<office:body><office:spreadsheet><table:table table:name="名簿">
		EOF
		for row in "$HEAD" "北 七子,きた ななこ,女,昭和十二年七月七日,神戸市中央区7,中央区,078-000-0707,,\"鈴蘭台, 駅前\",三田市,2026-03-01,はい,center-chuo-1,垂水 さくら,2026-03-01"; do
			echo "<table:table-row>" &&
			echo "$row" | sed "s/\"\\([^\"]*\\)\"/\\1/" | awk -F, -v q="\"" "{
				# the quoted cell of the second row keeps its comma
				for (i = 1; i <= NF; i++) {
					v = \$i
					if (v ~ /^鈴蘭台/) { v = v \",\" \$(i + 1); i++ }
					printf \"<table:table-cell office:value-type=%sstring%s><text:p>%s</text:p></table:table-cell>\\n\", q, q, v
				}
			}" &&
			echo "</table:table-row>" || exit 1
		done &&
		echo "</table:table></office:spreadsheet></office:body></office:document>"
	} >lo.fods &&
	HOME=$TRASH timeout 120 soffice --headless -env:UserInstallation=file://$TRASH/lo-profile \
		--convert-to "csv:Text - txt - csv (StarCalc):44,34,76" --outdir lo lo.fods >lo.log 2>&1 &&
	cat lo/lo.csv &&
	grep "\"鈴蘭台, 駅前\"" lo/lo.csv &&
	mimamori import-csv lo/lo.csv >out 2>err &&
	echo "accepted 2 incoming/lo-000002.xml" >expect &&
	test_cmp expect out &&
	grep "<birth-date>1937-07-07</birth-date>" demo/spool/incoming/lo-000002.xml
'

test_expect_success 'list: ids, wards, centers, dates, states; names only when asked' '
	rm -f demo/spool/incoming/* &&
	mimamori list >out &&
	cat out &&
	head -n 1 out | grep "^id  *ward  *center  *registered  *expires  *state$" &&
	grep "^R2026-000001  *chuo  *center-chuo-1  *2026-03-10 2028-03-10 active$" out &&
	grep "^R2026-000002  *nada  *center-nada-1 " out &&
	! grep -F "神戸" out &&
	mimamori list --ward nada --csv >out &&
	cat >expect <<-\EOF &&
	id,ward,center,registered,expires,state
	R2026-000002,nada,center-nada-1,2026-03-10,2028-03-10,active
	R2026-000003,nada,center-nada-1,2026-03-10,2028-03-10,active
	EOF
	test_cmp expect out &&
	mimamori list --csv --show-names --ward chuo >out &&
	grep "^R2026-000001,chuo,center-chuo-1,2026-03-10,2028-03-10,active,神戸 花子,こうべ はなこ$" out &&
	mimamori list --expiring >out &&
	test $(wc -l <out) = 1 &&
	mimamori --now 2028-02-01 list --expiring --csv >out &&
	test $(grep -c ",expiring$" out) = 3 &&
	grep "list	list	ward=chuo expiring=0 all=0 csv=1 show-names=1 shown=1" "$AUDIT" &&
	test_expect_code 64 mimamori list --ward mars &&
	mimamori audit verify
'

test_done
