#!/bin/sh
# B6 spreadsheet: import-csv of N rows of a CP932 CSV (as Excel saves it),
# then intake, against submit + intake of the same N documents (made by
# import-csv -o beforehand, untimed), each in a fresh demo installation.
# Target: ours <= 1.5x the baseline's time.
#
#   sh tests/bench/bench-csv.sh [BUILD-DIR]
#
# Run alone, or by tests/bench/bench.sh (which also takes BENCH_ONLY=B6).
# Environment: BENCH_N (rows, default 10000), BENCH_DIR (default
# tests/trash/bench-csv), BENCH_KEEP=1, BENCH_RES (a file to append the
# result row to, as bench.sh's table wants it).
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
SRC=$(pwd)
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
BIN=$BUILD/mimamori
N=${BENCH_N:-10000}
W=${BENCH_DIR:-$SRC/tests/trash/bench-csv}
export MIMAMORI_HOME=$SRC
# The registrations are dated 2026-03-01: the clock is pinned after it.
export MIMAMORI_NOW=2026-03-10T12:00:00+09:00
unset GNUPGHOME

say() { printf '%s\n' "$*"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", ($*) }"; }
kill_agents() {
	for h in "$W/ours/gnupg" "$W/base/gnupg"; do
		[ -d "$h" ] && gpgconf --homedir "$h" --kill all 2>/dev/null
	done
	return 0
}
die() { echo "bench-csv: $*" >&2; kill_agents; exit 1; }
trap 'kill_agents' EXIT

[ -x "$BIN" ] || die "no binary '$BIN'"
rm -rf "$W" && mkdir -p "$W" || exit 1
"$BIN" init "$W/ours" --demo >/dev/null && "$BIN" init "$W/base" --demo >/dev/null ||
	die "init --demo failed"

# N synthetic rows: names and readings from small lists plus a number,
# dates of birth in the eras as the paper form writes them (unique per
# row together with the reading), Kobe-like addresses, made-up phones.
say "B6 spreadsheet: $N rows, CP932 CSV: import-csv + intake vs submit + intake (load:$(uptime | sed 's/.*load average://'))"
awk -v n="$N" 'BEGIN {
	srand(20261121)
	split("神戸 灘 須磨 垂水 長田 兵庫 北野 御影", fam, " ")
	split("こうべ なだ すま たるみ ながた ひょうご きたの みかげ", famk, " ")
	split("花子 春子 一郎 次郎 和子 茂 幸子 清", giv, " ")
	split("はなこ はるこ いちろう じろう かずこ しげる さちこ きよし", givk, " ")
	printf "氏名,ふりがな,性別,生年月日,住所,区,電話（自宅）,携帯電話,よく行く場所,以前の居住地,同意日,一斉配信への同意,受付センター,受付担当者,面接日,身長,要介護度,依頼者1氏名,依頼者1続柄,依頼者1電話\n"
	for (i = 1; i <= n; i++) {
		f = 1 + i % 8; g = 1 + int(i / 8) % 8
		y = 1930 + i % 30; m = 1 + i % 12; d = 1 + i % 28
		if (i % 2) bd = sprintf("昭和%d年%d月%d日", y - 1925, m, d)
		else bd = sprintf("%d-%02d-%02d", y, m, d)
		ward = (i % 2) ? "中央区" : "灘区"
		center = (i % 2) ? "center-chuo-1" : "center-nada-1"
		printf "%s %s%d,%s %s%d,%s,%s,\"神戸市%s試験町%d-%d, 見守りハイツ%d号\",%s,078-%03d-%04d,,\"三宮センター街、\"\"喫茶店\"\"\",明石市,2026-03-01,%s,%s,試験 職員,2026-03-01,%d,要介護%d,%s 太郎,長男,090-%04d-%04d\n",
			fam[f], giv[g], i, famk[f], givk[g], i, (g % 2) ? "女" : "男", bd, ward, i % 9, i % 30,
			i, ward, i % 1000, i % 10000, (i % 5) ? "はい" : "いいえ", center,
			140 + i % 40, 1 + i % 5, fam[f], i % 10000, int(i / 7) % 10000
	}
}' | sed 's/$/\r/' | iconv -f UTF-8 -t CP932 >"$W/register.csv" || die "cannot make the CSV"
say "  generated $(du -h "$W/register.csv" | cut -f1) of CP932 CSV"
mkdir -p "$W/docs" && MIMAMORI_CONFIG=$W/base/mimamori.xml "$BIN" import-csv -o "$W/docs" \
	"$W/register.csv" >"$W/docs.out" 2>"$W/docs.err" || die "import-csv -o failed: $(tail -n 3 "$W/docs.err")"
[ "$(ls "$W/docs" | wc -l)" -eq "$N" ] ||
	die "import-csv -o made $(ls "$W/docs" | wc -l) documents: $(grep -m 3 '^rejected' "$W/docs.out")"
sync

# ours
export MIMAMORI_CONFIG=$W/ours/mimamori.xml
t0=$(now)
"$BIN" import-csv "$W/register.csv" >"$W/ours-csv.out" 2>"$W/ours-csv.err" || die "import-csv failed"
t1=$(now)
"$BIN" intake >"$W/ours-intake.out" 2>"$W/ours-intake.err" || die "intake failed"
t2=$(now)
acc=$(grep -c '^accepted' "$W/ours-intake.out")
[ "$acc" -eq "$N" ] || die "intake took $acc of $N: $(grep -m 3 '^rejected' "$W/ours-intake.out")"
OURS_CSV=$(calc "$t1 - $t0") OURS_INT=$(calc "$t2 - $t1") OURS=$(calc "$t2 - $t0")
say "  ours:     import-csv $OURS_CSV s + intake $OURS_INT s = $OURS s"
sync

# baseline: the same documents, submitted and taken in
export MIMAMORI_CONFIG=$W/base/mimamori.xml
t0=$(now)
find "$W/docs" -name '*.xml' | sort | xargs -n 5000 "$BIN" submit >"$W/base-submit.out" 2>"$W/base-submit.err" ||
	die "submit failed"
t1=$(now)
"$BIN" intake >"$W/base-intake.out" 2>"$W/base-intake.err" || die "intake failed"
t2=$(now)
acc=$(grep -c '^accepted' "$W/base-intake.out")
[ "$acc" -eq "$N" ] || die "baseline intake took $acc of $N"
BASE_SUB=$(calc "$t1 - $t0") BASE_INT=$(calc "$t2 - $t1") BASE=$(calc "$t2 - $t0")
RATIO=$(calc "$OURS / $BASE")
say "  baseline: submit $BASE_SUB s + intake $BASE_INT s = $BASE s (the same $N documents)"
say "  ratio:    ${RATIO}x the baseline's time (target <= 1.5x)"
met=no
[ "$(calc "$RATIO <= 1.5")" = 1.000 ] && met=yes
[ -n "$BENCH_RES" ] &&
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "B6 import-csv $N" "$OURS s" "$BASE s" \
		"${RATIO}x time" "-" "<=1.5x" $met >>"$BENCH_RES"
kill_agents
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"
exit 0
