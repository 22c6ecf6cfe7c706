#!/bin/sh
# match: 50 synthetic people with distinct features hidden among 1,000
# registrations; a description of each (sex, an age and a height range,
# the ward, two words of its features, one in half-width kana) ranks that
# person first, at the custodian and at a police node on its person-only
# copies. Names appear only with --show-names; the audit log holds the
# criteria given, never the words.
. "$(dirname "$0")/lib.sh"

MARKS="右頬にほくろ 左手の甲にあざ 額に傷跡 首に大きなほくろ 右耳に補聴器 左目の下にしみ 顎に傷 右手首に火傷の跡 左頬にえくぼ 鼻の横にいぼ"
MARKW="右頬 左手 額 首 補聴器 左目 顎 火傷 えくぼ いぼ"
HOBBIES="カラオケ 囲碁 盆栽 俳句 ゲートボール"
HOBBYW="ｶﾗｵｹ 囲碁 盆栽 俳句 ｹﾞｰﾄﾎﾞｰﾙ"

nth() {
	echo "$2" | tr ' ' '\n' | sed -n "$(($1 + 1))p"
}

# target K (1..50): the K-th hidden person, all in chuo.
target() {
	k=$1
	if [ $((k % 2)) -eq 0 ]; then sex=female; else sex=male; fi
	registration_doc name="照合 対象$k" kana="しょうごう たいしょう$k" sex=$sex \
		birth=$((1930 + k % 15))-01-10 address="神戸市中央区照合町$k-1" \
		home=078-777-$(printf %04d "$k") places=三宮の公園 consent=2026-03-01 \
		features="<height-cm>$((140 + k * 7 % 40))</height-cm><marks>$(nth $((k % 10)) "$MARKS")</marks><hobbies>$(nth $((k / 10 % 5)) "$HOBBIES")</hobbies>"
}

# describe K: the options describing target K, as a witness would.
describe() {
	k=$1
	if [ $((k % 2)) -eq 0 ]; then sex=female; else sex=male; fi
	age=$((2026 - 1930 - k % 15))
	h=$((140 + k * 7 % 40))
	echo "--sex $sex --age $((age - 2))-$((age + 2)) --height $((h - 3))-$((h + 2)) --ward chuo"
	echo "$(nth $((k % 10)) "$MARKW") $(nth $((k / 10 % 5)) "$HOBBYW")"
}

test_expect_success 'setup: 950 generated people and 50 targets, sent to the police' '
	setup_demo &&
	sh "$TEST_SRC/tests/bench/gen-registrations.sh" 950 gen >/dev/null &&
	k=1 && while [ $k -le 50 ]; do target $k >gen/target-$k.xml; k=$((k + 1)); done &&
	mkdir -p demo/spool/incoming && cp gen/*.xml demo/spool/incoming/ &&
	mimamori --now 2026-11-21 intake >out &&
	test $(grep -c ^accepted out) -eq 1000 &&
	grep "^accepted incoming/target-" out | sed "s/^accepted incoming\/target-\([0-9]*\).xml /\1 /" >ids &&
	test $(wc -l <ids) -eq 50 &&
	mimamori --now 2026-11-21 export >/dev/null &&
	cp demo/spool/outgoing/police-ikuta/*.tar.gpg demo/nodes/police-ikuta/spool/import/ &&
	node police-ikuta --now 2026-11-21 import >out &&
	grep -q ^accepted out
'

for where in custodian police; do
	test_expect_success "each target ranks first at the $where node, no names shown" '
		if [ $where = police ]; then run="node police-ikuta"; else run=mimamori; fi &&
		: >misses &&
		k=1 && while [ $k -le 50 ]; do
			opts=$(describe $k | sed -n 1p) && words=$(describe $k | sed -n 2p) &&
			$run --now 2026-11-21 match $opts --text "$words" --limit 5 >m.$k || return 1
			want=$(sed -n "s/^$k //p" ids)
			first=$(sed -n "1s/ .*//p" m.$k)
			[ "$first" = "$want" ] || echo "target $k: wanted $want, got $first" >>misses
			test $(sed -n "1p" m.$k | cut -d" " -f2) -eq 10 || echo "target $k: score" >>misses
			k=$((k + 1))
		done &&
		cat misses && test_must_fail test -s misses &&
		cat m.* >all &&
		test_must_fail grep -e "照合" -e "しょうごう" -e "佐藤" -e "さとう" all &&
		grep -q "word:ｶﾗｵｹ\|word:カラオケ" all
	'
done

test_expect_success 'what matched is listed; the second best scores less' '
	sed -n 1p m.12 | grep -q " 10 age,height,ward,word:" &&
	s2=$(sed -n 2p m.12 | cut -d" " -f2) && test "$s2" -lt 10
'

test_expect_success 'names only with --show-names' '
	opts=$(describe 7 | sed -n 1p) &&
	node police-ikuta --now 2026-11-21 match $opts --text "$(describe 7 | sed -n 2p)" \
		--show-names --limit 1 >named &&
	grep -q "照合 対象7 (しょうごう たいしょう7)" named
'

test_expect_success 'a sex mismatch excludes; bad options are usage errors' '
	node police-ikuta --now 2026-11-21 match --sex male --text "ほくろ" --limit 100 >out &&
	female=$(sed -n "s/^10 //p" ids) && male=$(sed -n "s/^3 //p" ids) &&
	grep -q "^$male 2 word:ほくろ$" out &&
	test_must_fail grep -q "^$female " out &&
	test_expect_code 64 mimamori match &&
	test_expect_code 64 mimamori match --age 90-80 &&
	test_expect_code 64 mimamori match --sex other &&
	test_expect_code 64 mimamori match --limit 0 --ward chuo
'

test_expect_success 'the audit log has the criteria and counts, not the words' '
	grep "	match	" demo/nodes/police-ikuta/spool/audit/audit.log >log &&
	grep -q "criteria=sex,age,height,ward,text words=2 candidates=" log &&
	grep -q "show-names=1" log &&
	test_must_fail grep -e "ほくろ" -e "右頬" -e "ｶﾗｵｹ" -e "照合" log &&
	node police-ikuta audit verify
'

test_done
