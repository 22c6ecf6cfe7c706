#!/bin/sh
# mimamori-spool(5) read literally, black box: one bundle per agency with pending
# changes, named <from>-<to>-<seq>.tar.gpg, encrypted to that agency and
# signed by this node; a pax tar of manifest.xml (from, to, sequence,
# created, entries with SHA-256), records/<id>.xml (the agency's view) and
# deletions.xml; scope per agency kind; import prints the §3 lines, keeps
# rejected bundles in rejected/ with NAME.reason, refuses a replay.
. "$(dirname "$0")/lib.sh"

# open_bundle AGENCY FILE: decrypt with the agency's key into b.tar; the
# signer's primary fingerprint into signer.
open_bundle() {
	gpg --homedir demo/nodes/$1/gnupg --batch --status-fd 3 --decrypt "$2" \
		3>status >b.tar 2>/dev/null &&
	sed -n "s/^\[GNUPG:\] VALIDSIG .* \([0-9A-F]\{40\}\)\$/\1/p" status >signer &&
	test $(grep -c "^\[GNUPG:\] GOODSIG" status) = 1
}

fpr_of() {
	sed -n "s/.*<agency id=\"$1\"[^>]* key=\"\([0-9A-F]*\)\".*/\1/p" demo/mimamori.xml
}

test_expect_success 'setup: the three samples and one more at the custodian' '
	setup_demo &&
	mimamori --now 2026-03-10 submit demo/samples/*.xml >/dev/null &&
	make_registration 7 >r4.xml && mimamori --now 2026-03-10 submit r4.xml >/dev/null &&
	mimamori --now 2026-03-10 intake >out &&
	test $(grep -c "^accepted " out) = 4 &&
	mimamori --now 2026-03-10 show R2026-000004 | grep -q "ward=\"chuo\""
'

test_expect_success 'export: one <from>-<to>-<seq>.tar.gpg per other agency, none for itself' '
	mimamori --now 2026-03-10 export >out &&
	for a in ward-chuo ward-nada center-chuo-1 center-nada-1 police-ikuta police-nada vendor; do
		test -f demo/spool/outgoing/$a/council-$a-1.tar.gpg || { echo "none for $a"; return 1; }
		test "$(ls demo/spool/outgoing/$a | wc -l)" = 1 || return 1
	done &&
	test_path_is_missing demo/spool/outgoing/council &&
	find demo/spool/outgoing -type f ! -perm 600 >bad && find demo/spool/outgoing -type d ! -perm 700 >>bad &&
	! test -s bad
'

test_expect_success 'a bundle: encrypted to the agency, signed once by the node key, a pax tar' '
	open_bundle ward-chuo demo/spool/outgoing/ward-chuo/council-ward-chuo-1.tar.gpg &&
	test "$(cat signer)" = "$(fpr_of council)" &&
	test "$(dd if=b.tar bs=1 skip=257 count=6 2>/dev/null | od -An -c | tr -d " ")" = "ustar\\0" &&
	test "$(dd if=b.tar bs=1 skip=263 count=2 2>/dev/null)" = 00 &&
	! gpg --homedir demo/nodes/ward-nada/gnupg --batch --decrypt \
		demo/spool/outgoing/ward-chuo/council-ward-chuo-1.tar.gpg >/dev/null 2>&1
'

test_expect_success 'the tar holds manifest.xml first, deletions.xml, records/<id>.xml, entries.xml last' '
	tar tf b.tar >names &&
	test "$(head -n 1 names)" = manifest.xml &&
	grep -qx deletions.xml names &&
	test "$(tail -n 1 names)" = entries.xml &&
	! grep -v "^manifest.xml\$\|^deletions.xml\$\|^receipts.xml\$\|^entries.xml\$\|^records/R[0-9]\{4\}-[0-9]\{6\}\.xml\$" names &&
	grep -q "^records/R" names
'

test_expect_success 'manifest.xml: from, to, sequence, previous, created; entries.xml: every entry with its SHA-256' '
	tar xOf b.tar manifest.xml >manifest.xml &&
	grep -q "<from>council</from>" manifest.xml &&
	grep -q "<to>ward-chuo</to>" manifest.xml &&
	grep -q "<sequence>1</sequence>" manifest.xml &&
	grep -q "<previous>0</previous>" manifest.xml &&
	grep -q "<created>20[0-9-]*T[0-9:]*" manifest.xml &&
	tar xOf b.tar entries.xml >entries.xml &&
	for n in $(grep "^records/\|^deletions.xml" names); do
		h=$(tar xOf b.tar "$n" | sha256sum | cut -d" " -f1) &&
		grep -q "name=\"$n\" sha256=\"$h\"" entries.xml || { echo "$n: $h not in entries.xml"; return 1; }
	done
'

test_expect_success 'scope: ward offices and police their wards, a center its own, vendor all' '
	for a in ward-chuo ward-nada center-chuo-1 center-nada-1 police-ikuta police-nada vendor; do
		open_bundle $a demo/spool/outgoing/$a/council-$a-1.tar.gpg &&
		tar tf b.tar | sed -n "s|^records/\(.*\)\.xml\$|\1|p" | sort | tr "\n" " " >ids.$a || return 1
	done &&
	test "$(cat ids.vendor)" = "R2026-000001 R2026-000002 R2026-000003 R2026-000004 " &&
	test "$(cat ids.ward-chuo)" = "$(cat ids.police-ikuta)" &&
	test "$(cat ids.ward-nada)" = "$(cat ids.police-nada)" &&
	for id in $(cat ids.ward-chuo); do mimamori show $id | grep -q "ward=\"chuo\"" || return 1; done &&
	for id in $(cat ids.ward-nada); do mimamori show $id | grep -q "ward=\"nada\"" || return 1; done &&
	for id in $(cat ids.center-chuo-1); do mimamori show $id | grep -q "center=\"center-chuo-1\"" || return 1; done &&
	test -n "$(cat ids.ward-chuo)" && test -n "$(cat ids.ward-nada)"
'

test_expect_success 'the police view: id, dates and person only' '
	open_bundle police-ikuta demo/spool/outgoing/police-ikuta/council-police-ikuta-1.tar.gpg &&
	for n in $(tar tf b.tar | grep "^records/"); do
		tar xOf b.tar $n >rec.xml &&
		grep -q "<person>" rec.xml &&
		! grep -q "<requesters\|<care\|<consent\|<intake\|<basis\|<applicant" rec.xml || { cat rec.xml; return 1; }
	done
'

test_expect_success 'import at the ward: "accepted import/NAME ..." and its records' '
	cp demo/spool/outgoing/ward-chuo/council-ward-chuo-1.tar.gpg demo/nodes/ward-chuo/spool/import/ &&
	node ward-chuo import >out 2>err &&
	grep "^accepted import/council-ward-chuo-1.tar.gpg " out &&
	test $(wc -l <out) = 1 &&
	for id in $(cat ids.ward-chuo); do node ward-chuo show $id >/dev/null || return 1; done &&
	test -z "$(ls demo/nodes/ward-chuo/spool/import)"
'

test_expect_success 'a replay is rejected: "rejected import/NAME: REASON", rejected/NAME + NAME.reason' '
	cp demo/spool/outgoing/ward-chuo/council-ward-chuo-1.tar.gpg demo/nodes/ward-chuo/spool/import/ &&
	node ward-chuo import >out 2>err &&
	grep "^rejected import/council-ward-chuo-1.tar.gpg: ." out &&
	test $(wc -l <out) = 1 &&
	R=demo/nodes/ward-chuo/spool/rejected &&
	cmp demo/spool/outgoing/ward-chuo/council-ward-chuo-1.tar.gpg $R/council-ward-chuo-1.tar.gpg &&
	test -s $R/council-ward-chuo-1.tar.gpg.reason &&
	test "$(stat -c %a $R/council-ward-chuo-1.tar.gpg)" = 600 &&
	test "$(stat -c %a $R/council-ward-chuo-1.tar.gpg.reason)" = 600
'

test_expect_success 'a bundle meant for another agency is rejected' '
	cp demo/spool/outgoing/ward-nada/council-ward-nada-1.tar.gpg demo/nodes/ward-chuo/spool/import/ &&
	node ward-chuo import >out 2>err &&
	grep "^rejected import/council-ward-nada-1.tar.gpg: ." out
'

test_expect_success 'a cancellation reaches the agency as deletions.xml and destroys its copy' '
	id=$(cut -d" " -f1 ids.ward-chuo) &&
	printf "%s\n" "<cancellation xmlns=\"urn:mimamori:1\"><id>$id</id><date>2026-03-11</date><reason>moved-out</reason></cancellation>" >cancel.xml &&
	mimamori --now 2026-03-11 submit cancel.xml >/dev/null &&
	mimamori --now 2026-03-11 intake >out &&
	grep -x "accepted incoming/cancel.xml $id" out &&
	mimamori --now 2026-03-11 export >out &&
	f=$(ls demo/spool/outgoing/ward-chuo/council-ward-chuo-*.tar.gpg | grep -v -- "-1.tar.gpg") &&
	open_bundle ward-chuo $f &&
	tar xOf b.tar deletions.xml >del.xml &&
	grep -q "<deletion id=\"$id\" date=\"2026-03-11\" reason=\"moved-out\"" del.xml &&
	tar xOf b.tar entries.xml | grep -q "name=\"deletions.xml\" sha256=\"$(sha256sum <del.xml | cut -d" " -f1)\"" &&
	cp $f demo/nodes/ward-chuo/spool/import/ &&
	node ward-chuo import >out &&
	grep "^accepted import/" out &&
	test_expect_code 65 node ward-chuo show $id >out 2>err
'

test_expect_success 'mimamori-spool(5): bundle written, applied and rejected are audited' '
	grep -P "\texport\tbundle\t.*to=ward-chuo" demo/spool/audit/audit.log &&
	L=demo/nodes/ward-chuo/spool/audit/audit.log &&
	grep -P "\timport\t(apply|accept)\t" $L &&
	test $(grep -cP "\timport\treject\t" $L) = 2 &&
	grep -P "\timport\tdestroy\t" $L &&
	node ward-chuo audit verify
'

test_done
