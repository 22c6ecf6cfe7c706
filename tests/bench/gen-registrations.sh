#!/bin/sh
# Write N synthetic registrations into DIR, one file each (reg-NNNNNN.xml),
# valid against schemas/registration.xsd: Japanese names with their kana,
# Kobe addresses, phones, free text (usual places, former homes, features,
# past wanderings), 0 to 3 requesters, care details for most, and 1 in 10
# with a real ~50 KB PNG photo (tests/bench/gen-photo.pl). Everything is
# made up from small lists of common words: no real person's data.
#
#   sh gen-registrations.sh N DIR [CENTERS]
#
# CENTERS: the intake care centers, space-separated, each "center-WARD-K"
# (default "center-chuo-1 center-nada-1"); a record's ward is its
# center's. The output is the same for the same N and CENTERS, and no two
# people share name-kana and birth date (intake would reject the second
# as a duplicate), for N up to 1,000,000.
N=${1:?usage: gen-registrations.sh N DIR [CENTERS]}
DIR=${2:?usage: gen-registrations.sh N DIR [CENTERS]}
CENTERS=${3:-center-chuo-1 center-nada-1}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$DIR" || exit 1
PHOTO=$(perl "$HERE/gen-photo.pl" 20261121 | base64 -w 0) || exit 1
[ -n "$PHOTO" ] || exit 1

awk -v n="$N" -v dir="$DIR" -v photo="$PHOTO" -v centers="$CENTERS" '
function pick(arr, cnt) { return arr[1 + int(rand() * cnt)] }
function phone(area) { return sprintf("%s-%03d-%04d", area, int(rand() * 1000), int(rand() * 10000)) }
# Day number d (0 = 1930-01-01) as an ISO date.
function date_of(d,    y, m, ml, len) {
	y = 1930
	for (;;) {
		len = (y % 4 == 0) ? 366 : 365
		if (d < len) break
		d -= len; y++
	}
	split("31 28 31 30 31 30 31 31 30 31 30 31", ml, " ")
	if (y % 4 == 0) ml[2] = 29
	for (m = 1; d >= ml[m]; m++) d -= ml[m]
	return sprintf("%04d-%02d-%02d", y, m, d + 1)
}
BEGIN {
	srand(20261121)
	nf = split("佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 清水 斎藤 山崎 森 池田 橋本 阿部 石川 前田 藤田 後藤 岡田 長谷川 村上 近藤 石井 坂本 遠藤 青木 藤井 西村 福田 太田 三浦 藤原 岡本 松田 中川 中野 原田 小野 竹内 金子", fam, " ")
	split("さとう すずき たかはし たなか いとう わたなべ やまもと なかむら こばやし かとう よしだ やまだ ささき やまぐち まつもと いのうえ きむら しみず さいとう やまざき もり いけだ はしもと あべ いしかわ まえだ ふじた ごとう おかだ はせがわ むらかみ こんどう いしい さかもと えんどう あおき ふじい にしむら ふくだ おおた みうら ふじわら おかもと まつだ なかがわ なかの はらだ おの たけうち かねこ", famk, " ")
	ngf = split("花子 和子 節子 幸子 久子 美代子 静子 文子 春子 千代子 トシ子 ふみ 清子 照子 京子 光子 道子 信子 孝子 八重子", gf, " ")
	split("はなこ かずこ せつこ さちこ ひさこ みよこ しずこ ふみこ はるこ ちよこ としこ ふみ きよこ てるこ きょうこ みつこ みちこ のぶこ たかこ やえこ", gfk, " ")
	ngm = split("一郎 正雄 清 茂 弘 勝 実 進 博之 隆 武 昭 勇 修 敏夫 豊 保 明夫 義男 忠", gm, " ")
	split("いちろう まさお きよし しげる ひろし まさる みのる すすむ ひろゆき たかし たけし あきら いさむ おさむ としお ゆたか たもつ あきお よしお ただし", gmk, " ")
	# (no given-name kana twice, and no family kana is the start of
	# another: name-kana without spaces stays unique per (family, given))
	split("加納町 北長狭通 中山手通 下山手通 元町通 栄町通 海岸通 港島中町 八幡通 二宮町 熊内町 布引町 琴ノ緒町 葺合町 脇浜町 東川崎町", towns_chuo, " ")
	split("桜口町 篠原本町 高羽町 六甲町 徳井町 新在家南町 岩屋中町 水道筋 大石東町 備後町 楠丘町 畑原通 森後町 琵琶町 灘北通 稗原町", towns_nada, " ")
	np = split("三宮センター街 元町商店街 王子公園 六甲道駅前 東遊園地 水道筋商店街 摩耶ケーブル下 JR灘駅 阪急王子公園駅 大丸神戸店 南京町 メリケンパーク 生田神社 湊川神社 六甲八幡神社 布引の滝 市役所前の広場 近所のスーパー 行きつけの理髪店 公民館の囲碁クラブ", places, " ")
	nc = split("白い運動靴 黒い革靴 茶色のサンダル 灰色のウォーキングシューズ 紺色のスニーカー マジックテープの介護シューズ", shoes, " ")
	nb = split("「家に帰る」と言って歩き続ける 夕方になると落ち着かなくなる 話しかけると丁寧に返事をする 昔の勤め先に向かおうとする 電車に乗りたがる 声をかけられると驚いて早足になる 同じ質問を繰り返す 道を尋ねると「大丈夫」と答える", behav, " ")
	nh = split("園芸 演歌 囲碁 将棋 俳句 書道 散歩 カラオケ 詩吟 盆栽 手芸 ラジオ体操 阪神タイガースの応援 日本舞踊 写経", hobby, " ")
	nd = split("アルツハイマー型認知症 血管性認知症 レビー小体型認知症 前頭側頭型認知症 軽度認知障害", diag, " ")
	nr = split("長男 長女 次男 次女 妻 夫 甥 姪 孫 娘婿 長男の妻 妹 弟", rel, " ")
	split("obese slightly-obese medium thin", builds, " ")
	split("triangle inverted-triangle round square oval", faces, " ")
	split("fair pale normal dark ruddy", complexions, " ")
	split("A B AB O unknown", bloods, " ")
	split("support-1 support-2 care-1 care-2 care-3 care-4 care-5", levels, " ")
	split("ゆっくり話す 早口 声が小さい 耳が遠いので大きな声で 標準語", speech, " ")
	split("播州弁 関西弁 神戸弁 鹿児島弁 土佐弁 東北の言葉", dialect, " ")
	ncen = split(centers, cen, " ")
	nsex = ngf
	for (i = 1; i <= n; i++) {
		# (name, day) is unique per i: see the header comment.
		day = i % 7300
		k = (int(i / 7300) + i) % (nf * nsex)
		f = 1 + int(k / nsex); g = 1 + k % nsex
		female = (i % 5 != 0)    # most people registered are women
		given = female ? gf[g] : gm[g]
		givenk = female ? gfk[g] : gmk[g]
		c = cen[1 + (i % ncen)]
		ward = c; sub(/^center-/, "", ward); sub(/-[0-9]+$/, "", ward)
		wardname = (ward == "nada") ? "灘区" : "中央区"
		town = (ward == "nada") ? towns_nada[1 + int(rand() * 16)] : towns_chuo[1 + int(rand() * 16)]
		file = sprintf("%s/reg-%06d.xml", dir, i)
		printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<registration xmlns=\"urn:mimamori:1\">\n" > file
		printf "  <basis>self-application</basis>\n  <applicant kind=\"self\"/>\n  <person>\n" > file
		printf "    <name>%s %s</name>\n    <name-kana>%s %s</name-kana>\n", fam[f], given, famk[f], givenk > file
		printf "    <sex>%s</sex>\n", female ? "female" : "male" > file
		if (female && rand() < 0.5)
			printf "    <maiden-name>%s</maiden-name>\n", pick(fam, nf) > file
		printf "    <birth-date>%s</birth-date>\n", date_of(day) > file
		printf "    <address ward=\"%s\">神戸市%s%s%d-%d-%d</address>\n", ward, wardname, town, 1 + int(rand() * 6), 1 + int(rand() * 30), 1 + int(rand() * 20) > file
		printf "    <phone kind=\"home\">%s</phone>\n", phone("078") > file
		if (rand() < 0.4)
			printf "    <phone kind=\"mobile\">%s</phone>\n", phone("090") > file
		printf "    <usual-places>%s、%s、%sのあたり</usual-places>\n", pick(places, np), pick(places, np), pick(places, np) > file
		printf "    <previous-residences>神戸市%s%s(昭和%d年〜平成%d年)、%s県の実家</previous-residences>\n", (ward == "nada") ? "中央区" : "灘区", (ward == "nada") ? towns_chuo[1 + int(rand() * 16)] : towns_nada[1 + int(rand() * 16)], 30 + int(rand() * 30), 1 + int(rand() * 20), (rand() < 0.5) ? "兵庫" : "岡山" > file
		printf "    <features>\n      <height-cm>%d</height-cm>\n      <weight-kg>%d</weight-kg>\n", female ? 140 + int(rand() * 20) : 155 + int(rand() * 20), 38 + int(rand() * 30) > file
		printf "      <build>%s</build>\n      <face>%s</face>\n      <complexion>%s</complexion>\n", builds[1 + int(rand() * 4)], faces[1 + int(rand() * 5)], complexions[1 + int(rand() * 5)] > file
		if (rand() < 0.6)
			printf "      <glasses>%s</glasses>\n", (rand() < 0.5) ? "銀縁の老眼鏡" : "黒縁の眼鏡" > file
		printf "      <hair>%s</hair>\n      <blood-type>%s</blood-type>\n", (rand() < 0.5) ? "白髪まじり、短め" : "白髪、後ろで束ねている", bloods[1 + int(rand() * 5)] > file
		printf "      <footwear>%s</footwear>\n", pick(shoes, nc) > file
		printf "      <behaviour>%s。%s</behaviour>\n", pick(behav, nb), pick(behav, nb) > file
		printf "      <dialect>%s</dialect>\n      <speech>%s</speech>\n", dialect[1 + int(rand() * 6)], speech[1 + int(rand() * 5)] > file
		printf "      <gait>%s</gait>\n      <hobbies>%s、%s</hobbies>\n    </features>\n", (rand() < 0.3) ? "cane" : "unaided", pick(hobby, nh), pick(hobby, nh) > file
		if (rand() < 0.3)
			printf "    <lost-before count=\"%d\">%d年%d月、%sで保護された</lost-before>\n", 1 + int(rand() * 3), 2020 + int(rand() * 6), 1 + int(rand() * 12), pick(places, np) > file
		if (i % 10 == 0)
			printf "    <photo type=\"image/png\">%s</photo>\n", photo > file
		printf "  </person>\n" > file
		nreq = int(rand() * 4)
		if (nreq) {
			printf "  <requesters>\n" > file
			for (r = 0; r < nreq; r++)
				printf "    <requester>\n      <name>%s %s</name>\n      <relationship>%s</relationship>\n      <phone kind=\"mobile\">%s</phone>\n    </requester>\n", fam[f], pick(gm, ngm), pick(rel, nr), phone("080") > file
			printf "  </requesters>\n" > file
		}
		if (rand() < 0.8)
			printf "  <care>\n    <level>%s</level>\n    <diagnosis>%s</diagnosis>\n    <care-manager>\n      <office>%sみまもり居宅介護支援事業所</office>\n      <name>%s %s</name>\n      <phone>%s</phone>\n    </care-manager>\n    <services>デイサービス(週%d回)</services>\n  </care>\n", levels[1 + int(rand() * 7)], pick(diag, nd), wardname, pick(fam, nf), pick(gf, ngf), phone("078"), 1 + int(rand() * 3) > file
		printf "  <consent date=\"2026-03-01\" share=\"yes\" broadcast=\"%s\" signed-by=\"person\"/>\n", (rand() < 0.9) ? "yes" : "no" > file
		printf "  <intake center=\"%s\" staff=\"%s %s\" interview-date=\"2026-03-01\"/>\n</registration>\n", c, pick(fam, nf), pick(gf, ngf) > file
		close(file)
	}
}'
