#!/bin/sh
# Write N synthetic registrations into DIR (one file each), 1 in 10 with a
# ~50 KB photo. Names, addresses and free text are made up from small
# lists of common Japanese words; no real person's data.
#   sh gen-registrations.sh N DIR
N=${1:?N}
DIR=${2:?DIR}
mkdir -p "$DIR" || exit 1
# A ~50 KB PNG-signed blob, base64 (the content is random bytes after the
# PNG signature: intake checks the signature and the size, not the pixels).
PHOTO=$( { printf '\211PNG\r\n\032\n'; head -c 51200 /dev/urandom; } | base64 -w 0)
awk -v n="$N" -v dir="$DIR" -v photo="$PHOTO" '
BEGIN {
	split("佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 清水", fam, " ");
	split("さとう すずき たかはし たなか いとう わたなべ やまもと なかむら こばやし かとう よしだ やまだ ささき やまぐち まつもと いのうえ きむら はやし さいとう しみず", famk, " ");
	split("花子 和子 節子 幸子 久子 一郎 正雄 清 茂 弘 トシ 春子 文子 勝 実", giv, " ");
	split("はなこ かずこ せつこ さちこ ひさこ いちろう まさお きよし しげる ひろし とし はるこ ふみこ まさる みのる", givk, " ");
	split("chuo nada", wards, " ");
	split("中央区加納町 灘区桜口町", addr, " ");
	split("三宮センター街 元町商店街 王子公園 六甲道駅前 東遊園地 水道筋商店街 摩耶ケーブル下", places, " ");
	split("obese slightly-obese medium thin", builds, " ");
	for (i = 1; i <= n; i++) {
		f = (i % 20) + 1; g = (int(i / 20) % 15) + 1; w = (i % 2) + 1;
		file = sprintf("%s/reg-%06d.xml", dir, i);
		printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<registration xmlns=\"urn:mimamori:1\">\n" > file;
		printf "  <basis>self-application</basis>\n  <applicant kind=\"self\"/>\n  <person>\n" >> file;
		printf "    <name>%s %s</name>\n    <name-kana>%s %s %d</name-kana>\n", fam[f], giv[g], famk[f], givk[g], i >> file;
		printf "    <sex>%s</sex>\n", (g <= 5 || g >= 12) ? "female" : "male" >> file;
		printf "    <birth-date>19%02d-%02d-%02d</birth-date>\n", 30 + i % 20, 1 + i % 12, 1 + i % 28 >> file;
		printf "    <address ward=\"%s\">神戸市%s%d-%d-%d</address>\n", wards[w], addr[w], 1 + i % 9, 1 + i % 30, 1 + i % 12 >> file;
		printf "    <phone kind=\"home\">078-%03d-%04d</phone>\n", i % 1000, i % 10000 >> file;
		printf "    <usual-places>%s、%s周辺の喫茶店</usual-places>\n", places[1 + i % 7], places[1 + (i + 3) % 7] >> file;
		printf "    <previous-residences>神戸市%s(昭和%d年から)</previous-residences>\n", addr[3 - w], 30 + i % 30 >> file;
		printf "    <features>\n      <height-cm>%d</height-cm>\n      <build>%s</build>\n      <hair>白髪まじり</hair>\n      <gait>%s</gait>\n    </features>\n", 140 + i % 40, builds[1 + i % 4], (i % 3) ? "unaided" : "cane" >> file;
		if (i % 10 == 0)
			printf "    <photo type=\"image/png\">%s</photo>\n", photo >> file;
		printf "  </person>\n" >> file;
		printf "  <consent date=\"2026-03-01\" share=\"yes\" broadcast=\"yes\" signed-by=\"person\"/>\n" >> file;
		printf "  <intake center=\"center-%s-1\" staff=\"職員 %d\" interview-date=\"2026-03-01\"/>\n</registration>\n", wards[w], i % 50 >> file;
		close(file);
	}
}'
