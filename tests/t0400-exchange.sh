#!/bin/sh
# export and import: bundles from the custodian to every demo agency,
# each node with its own spool and GnuPG home; each ends up with exactly
# the records of its scope, in its view; changes and deletions follow.
. "$(dirname "$0")/lib.sh"
# Registration ids and dates below are of 2026: the clock is pinned there.
pin_clock 2026-11-21T12:00:00+09:00

AGENCIES="ward-chuo ward-nada center-chuo-1 center-nada-1 police-ikuta police-nada vendor"

# Carry every bundle for an agency to its node and import them there;
# then carry the receipts the agencies write back to the custodian.
deliver() {
	for a in $AGENCIES; do
		for f in demo/spool/outgoing/$a/*.tar.gpg; do
			[ -f "$f" ] || continue
			cp "$f" demo/nodes/$a/spool/import/ && rm "$f" || return 1
		done
		node $a import >>import-$a.out || return 1
	done
	receipts
}
receipts() {
	for a in $AGENCIES; do
		node $a export >>export-$a.out || return 1
		for f in demo/nodes/$a/spool/outgoing/council/*.tar.gpg; do
			[ -f "$f" ] || continue
			cp "$f" demo/spool/import/ && rm "$f" || return 1
		done
	done
	mimamori import >>import-council.out
}

# has AGENCY ID...: the node holds these records; hasnt: it does not.
has() {
	a=$1 && shift &&
	for rid in "$@"; do
		node $a show $rid >/dev/null || { echo "$a lacks $rid" >&2; return 1; }
	done
}
hasnt() {
	a=$1 && shift &&
	for rid in "$@"; do
		if node $a show $rid >/dev/null 2>&1; then
			echo "$a holds $rid" >&2
			return 1
		fi
	done
}

# R1 chuo/center-chuo-1 (agency-sharing), R2 nada/center-nada-1 (guardian,
# care), R3 chuo/center-chuo-1 (requesters, care), R4 nada/center-nada-1.
test_expect_success 'setup: four registrations at the custodian' '
	setup_demo &&
	mimamori submit demo/samples/registration-agency-sharing.xml \
		demo/samples/registration-guardian.xml \
		demo/samples/registration-kobe-hanako.xml >/dev/null &&
	mimamori intake >out &&
	make_registration 1 >r4.xml && mimamori submit r4.xml >/dev/null &&
	mimamori intake >>out &&
	test $(grep -c ^accepted out) -eq 4 &&
	grep -q "^accepted incoming/r4.xml R2026-000004" out
'

test_expect_success 'export writes one bundle per agency, none for itself' '
	mimamori export >out &&
	cat out &&
	test $(grep -c "^wrote outgoing/" out) -eq 7 &&
	for a in $AGENCIES; do
		test -f demo/spool/outgoing/$a/council-$a-1.tar.gpg || return 1
	done &&
	test_path_is_missing demo/spool/outgoing/council &&
	grep -q "^wrote outgoing/police-ikuta/council-police-ikuta-1.tar.gpg 2 records, 0 deletions" out &&
	grep -q "^wrote outgoing/vendor/council-vendor-1.tar.gpg 4 records" out &&
	test -z "$(ls demo/spool/work/export)" &&
	test "$(stat -c %a demo/spool/outgoing/vendor/council-vendor-1.tar.gpg)" = 600
'

test_expect_success 'nothing pending: a second export writes nothing' '
	mimamori export >out &&
	test_must_fail grep ^wrote out
'

test_expect_success 'bundles are encrypted to the addressee only' '
	f=demo/spool/outgoing/police-ikuta/council-police-ikuta-1.tar.gpg &&
	test_must_fail grep -qF "神戸" $f &&
	gpg --homedir demo/nodes/police-ikuta/gnupg --batch --decrypt $f >police.tar 2>gpg.err &&
	grep -q "Good signature" gpg.err &&
	test_must_fail gpg --homedir demo/nodes/ward-chuo/gnupg --batch --decrypt $f \
		>/dev/null 2>&1 &&
	test_must_fail gpg --homedir demo/gnupg --batch --decrypt $f >/dev/null 2>&1
'

test_expect_success 'the police bundle holds the person only: check the bytes' '
	tar tf police.tar >names &&
	printf "%s\n" manifest.xml deletions.xml records/R2026-000001.xml records/R2026-000003.xml entries.xml >expect &&
	test_cmp expect names &&
	grep -qF "神戸 花子" police.tar &&
	grep -qF "<person>" police.tar &&
	for s in "<requesters" "<requester>" "<care" "<consent" "<intake" "<basis" \
		 "<applicant" "<ordinance-clause" "灘 次郎" "090-0000-0002" "078-000-0003" \
		 "須磨 一郎" "アルツハイマー" "デイサービス" "垂水 さくら" "中央みまもり"; do
		if grep -qF "$s" police.tar; then echo "police bundle holds $s"; return 1; fi
	done
'

test_expect_success 'the ward office bundle holds the whole record' '
	gpg --homedir demo/nodes/ward-chuo/gnupg --batch --decrypt \
		demo/spool/outgoing/ward-chuo/council-ward-chuo-1.tar.gpg >ward.tar 2>/dev/null &&
	grep -qF "<care>" ward.tar && grep -qF "灘 次郎" ward.tar && grep -qF "<intake" ward.tar
'

test_expect_success 'import at every agency' '
	deliver &&
	grep -q "^wrote outgoing/council/ward-chuo-council-1.tar.gpg 0 records, 0 deletions, receipts" export-ward-chuo.out &&
	test $(grep -c "^accepted import/.*-council-1.tar.gpg .* 0/0 receipt 1" import-council.out) -eq 7 &&
	for a in $AGENCIES; do
		grep -q "^accepted import/council-$a-1.tar.gpg council-1 " import-$a.out || return 1
		test -z "$(ls demo/nodes/$a/spool/import)" || return 1
		test -z "$(ls demo/nodes/$a/spool/rejected)" || return 1
	done
'

test_expect_success 'each node holds exactly the records of its scope' '
	has ward-chuo R2026-000001 R2026-000003 && hasnt ward-chuo R2026-000002 R2026-000004 &&
	has ward-nada R2026-000002 R2026-000004 && hasnt ward-nada R2026-000001 R2026-000003 &&
	has center-chuo-1 R2026-000001 R2026-000003 &&
	hasnt center-chuo-1 R2026-000002 R2026-000004 &&
	has center-nada-1 R2026-000002 R2026-000004 &&
	hasnt center-nada-1 R2026-000001 R2026-000003 &&
	has police-ikuta R2026-000001 R2026-000003 &&
	hasnt police-ikuta R2026-000002 R2026-000004 &&
	has police-nada R2026-000002 R2026-000004 && hasnt police-nada R2026-000001 R2026-000003 &&
	has vendor R2026-000001 R2026-000002 R2026-000003 R2026-000004
'

test_expect_success 'each node holds its view: the police no care, the ward all of it' '
	node police-ikuta show R2026-000003 >p &&
	grep -qF "神戸 花子" p && test_must_fail grep -qe "<care" -e "<requesters" -e "<intake" p &&
	node ward-chuo show R2026-000003 >w &&
	grep -qF "<care>" w && grep -qF "灘 次郎" w &&
	test_must_fail spool_grep "神戸 花子" demo/nodes/ward-chuo/spool
'

test_expect_success 'receiving nodes do not pass records on, nor receipt twice' '
	for a in $AGENCIES; do
		node $a export >out.$a || return 1
		test_must_fail grep -q ^wrote out.$a || return 1
	done &&
	mimamori export >out && test_must_fail grep -q ^wrote out &&
	mimamori exchange --csv >ex &&
	grep -q "^vendor,1,2026-11-21,1,2026-11-21,0,0,-$" ex
'

test_expect_success 'a change travels; a ward change reaches the old ward as a deletion' '
	{
		echo "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		echo "<change xmlns=\"urn:mimamori:1\"><id>R2026-000003</id><date>2026-11-21</date>"
		sed -n "/<person>/,/<\/person>/p" demo/samples/registration-kobe-hanako.xml |
			sed "s/ward=\"chuo\"/ward=\"nada\"/"
		echo "</change>"
	} >move.xml &&
	mimamori submit move.xml >/dev/null && mimamori intake >out &&
	grep -q "^accepted incoming/move.xml R2026-000003" out &&
	mimamori export >out &&
	cat out &&
	grep -q "^wrote outgoing/ward-chuo/council-ward-chuo-2.tar.gpg 0 records, 1 deletions" out &&
	grep -q "^wrote outgoing/police-ikuta/council-police-ikuta-2.tar.gpg 0 records, 1 deletions" out &&
	grep -q "^wrote outgoing/ward-nada/council-ward-nada-2.tar.gpg 1 records, 0 deletions" out &&
	grep -q "^wrote outgoing/center-chuo-1/council-center-chuo-1-2.tar.gpg 1 records, 0 deletions" out &&
	test_path_is_missing demo/spool/outgoing/center-nada-1/council-center-nada-1-2.tar.gpg &&
	deliver &&
	hasnt ward-chuo R2026-000003 && hasnt police-ikuta R2026-000003 &&
	has ward-nada R2026-000003 && has police-nada R2026-000003 &&
	node ward-nada show R2026-000003 | grep -q "version=\"2\"" &&
	node vendor show R2026-000003 | grep -q "ward=\"nada\""
'

test_expect_success 'a cancellation destroys the copies everywhere it was sent' '
	sed "s/R2026-000001/R2026-000002/; s/2026-09-30/2026-11-21/" \
		$DATA/registration/cancellation.xml >cancel.xml &&
	mimamori submit cancel.xml >/dev/null && mimamori intake >out &&
	grep -q ^accepted out &&
	mimamori export >out &&
	test $(grep -c "^wrote.* 0 records, 1 deletions" out) -eq 4 &&
	deliver &&
	for a in ward-nada center-nada-1 police-nada vendor; do
		hasnt $a R2026-000002 || return 1
	done &&
	has vendor R2026-000001 R2026-000003 R2026-000004 &&
	grep -q "destroy.*id=R2026-000002 reason=facility from=council" \
		demo/nodes/police-nada/spool/audit/audit.log
'

test_expect_success 'the audit logs name bundles, never persons' '
	grep -q "bundle.*to=police-ikuta seq=1 previous=0 records=2" demo/spool/audit/audit.log &&
	grep -q "apply.*from=council seq=1" demo/nodes/vendor/spool/audit/audit.log &&
	test_must_fail grep -rqF "神戸" demo/spool/audit demo/nodes/vendor/spool/audit &&
	mimamori audit verify && node vendor audit verify
'

test_done
