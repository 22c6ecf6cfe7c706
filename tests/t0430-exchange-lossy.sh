#!/bin/sh
# Bundles carried by hand get lost, duplicated, reordered and replayed:
# cumulative bundles heal a loss, receipts prove what each agency applied
# (mimamori exchange, show of a tombstone, expire's warning), a bundle
# built on a state the receiver lacks waits, and export --full resyncs a
# node restored from a backup. Forged and impossible receipts are refused.
. "$(dirname "$0")/lib.sh"
D=2026-11-21
pin_clock ${D}T12:00:00+09:00

fpr() {
	sed -n "s/.*id=\"$1\".*key=\"\([0-9A-F]*\)\".*/\1/p" demo/mimamori.xml
}
home() {
	if [ "$1" = council ]; then echo demo/gnupg; else echo demo/nodes/$1/gnupg; fi
}
# bundle FROM TO SEQ OUT ENTRY...: crafted, signed in FROM's GnuPG home.
bundle() {
	from=$1 to=$2 seq=$3 out=$4 && shift 4 &&
	python3 "$TEST_SRC/tests/craft-bundle.py" "$out.tar" "$from" "$to" "$seq" "$@" &&
	gpg --homedir "$(home $from)" --batch --yes --trust-model always \
		--pinentry-mode loopback --passphrase "" --local-user "$(fpr $from)" \
		--recipient "$(fpr $to)" --encrypt --sign -o "$out" <"$out.tar"
}
W=ward-chuo
OUT=demo/spool/outgoing/$W
# to_ward N...: carry council's bundles N... to the ward office and import.
to_ward() {
	for n in "$@"; do
		cp $OUT/council-$W-$n.tar.gpg demo/nodes/$W/spool/import/ || return 1
	done
	node $W import >out
}
# receipts_back: the ward's next export, carried to the council and imported.
receipts_back() {
	node $W export >wout &&
	cp demo/nodes/$W/spool/outgoing/council/*.tar.gpg demo/spool/import/ &&
	mkdir -p sent && mv demo/nodes/$W/spool/outgoing/council/*.tar.gpg sent/ &&
	mimamori import >cout
}
change() {
	{
		echo "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		echo "<change xmlns=\"urn:mimamori:1\"><id>$1</id><date>$D</date>"
		sed -n "/<person>/,/<\/person>/p" demo/samples/registration-kobe-hanako.xml |
			sed "s/<height-cm>[0-9]*</<height-cm>$2</"
		echo "</change>"
	} >change.xml &&
	mimamori submit change.xml >/dev/null && mimamori intake >iout &&
	grep -q "^accepted incoming/change.xml $1" iout
}

test_expect_success 'setup: three records, bundle 1 reaches the ward office' '
	setup_demo &&
	mimamori submit demo/samples/registration-agency-sharing.xml \
		demo/samples/registration-guardian.xml \
		demo/samples/registration-kobe-hanako.xml >/dev/null &&
	mimamori intake >out && test $(grep -c ^accepted out) -eq 3 &&
	mimamori export >out &&
	grep -q "^wrote outgoing/$W/council-$W-1.tar.gpg 2 records, 0 deletions" out &&
	to_ward 1 && grep -q "^accepted import/council-$W-1.tar.gpg council-1 2/0" out &&
	cp -a demo/nodes/$W/spool backup-spool
'

test_expect_success 'a lost deletion bundle is healed by the next one' '
	sed "s/2026-09-30/$D/" $DATA/registration/cancellation.xml >cancel.xml &&
	mimamori submit cancel.xml >/dev/null && mimamori intake >out &&
	mimamori export >out &&
	grep -q "^wrote outgoing/$W/council-$W-2.tar.gpg 1 records, 1 deletions" out &&
	change R2026-000003 151 &&
	mimamori export >out &&
	grep -q "^wrote outgoing/$W/council-$W-3.tar.gpg 1 records, 1 deletions" out &&
	to_ward 3 && cat out &&
	grep -q "^accepted import/council-$W-3.tar.gpg council-3 1/1" out &&
	test_must_fail node $W show R2026-000001 2>err &&
	grep -q "destroyed on $D (facility)" err &&
	node $W show R2026-000003 | grep -q "version=\"2\""
'

test_expect_success 'a duplicate is refused as a replay, changing nothing' '
	to_ward 3 &&
	grep -q "^rejected import/council-$W-3.tar.gpg: replayed or old bundle: sequence 3" out &&
	node $W show R2026-000003 | grep -q "version=\"2\""
'

test_expect_success 'an older bundle arriving late is refused: the newer held it all' '
	to_ward 2 &&
	grep -q "^rejected import/council-$W-2.tar.gpg: replayed or old bundle: sequence 2" out &&
	test_must_fail node $W show R2026-000001 2>/dev/null
'

test_expect_success 'until receipts come back nothing is acknowledged' '
	mimamori exchange --csv >ex && cat ex &&
	head -1 ex | grep -qx "agency,written,written-date,acknowledged,acknowledged-date,records-pending,deletions-pending,oldest-deletion-days" &&
	grep -qx "$W,3,$D,0,-,1,1,0" ex &&
	test_must_fail mimamori show R2026-000001 >acks 2>/dev/null &&
	grep -qx "$W pending" acks
'

test_expect_success 'the receipt acknowledges bundle 3, and the destruction with it' '
	receipts_back && cat wout cout &&
	grep -q "^wrote outgoing/council/$W-council-1.tar.gpg 0 records, 0 deletions, receipts" wout &&
	grep -q "^accepted import/$W-council-1.tar.gpg $W-1 0/0 receipt 3" cout &&
	mimamori exchange --csv >ex && cat ex &&
	grep -qx "$W,3,$D,3,$D,0,0,-" ex &&
	grep -q "^center-chuo-1,3,$D,0,-,1,1,0" ex &&
	test_must_fail mimamori show R2026-000001 >acks 2>err &&
	grep -q "destroyed on" err &&
	grep -qx "$W $D" acks && grep -qx "center-chuo-1 pending" acks &&
	grep -qx "police-ikuta pending" acks && test_must_fail grep -q ward-nada acks &&
	mimamori exchange | grep -q "^agency "
'

test_expect_success 'acknowledged: nothing more to send the ward office, no receipt loop' '
	mimamori export >out && test_must_fail grep -q "outgoing/$W/" out &&
	node $W export >wout && test_must_fail grep -q ^wrote wout
'

test_expect_success 'a replayed receipt is refused' '
	cp sent/$W-council-1.tar.gpg demo/spool/import/ &&
	mimamori import >out &&
	grep -q "^rejected import/$W-council-1.tar.gpg: replayed or old bundle" out
'

receipt() {
	printf "<?xml version=\"1.0\"?>\n<receipts xmlns=\"urn:mimamori:1\"><applied sequence=\"%s\" date=\"$D\"/></receipts>\n" "$1"
}

test_expect_success 'a receipt forged by another agency is refused' '
	receipt 3 >r.xml && printf "<deletions xmlns=\"urn:mimamori:1\"/>" >d.xml &&
	python3 "$TEST_SRC/tests/craft-bundle.py" forged.tar $W council 2 \
		deletions.xml=d.xml receipts.xml=r.xml &&
	gpg --homedir demo/nodes/police-ikuta/gnupg --batch --yes --trust-model always \
		--local-user "$(fpr police-ikuta)" --recipient "$(fpr council)" \
		--encrypt --sign -o $W-council-2.tar.gpg <forged.tar &&
	cp $W-council-2.tar.gpg demo/spool/import/ && mimamori import >out && cat out &&
	grep -q "^rejected import/$W-council-2.tar.gpg: signed by .*, not by the key of .$W." out &&
	mimamori exchange --csv | grep -q "^police-ikuta,3,$D,0,-,"
'

test_expect_success 'a receipt for a sequence never sent is refused, naming the field' '
	receipt 9 >r.xml &&
	bundle police-ikuta council 1 police-ikuta-council-1.tar.gpg deletions.xml=d.xml receipts.xml=r.xml &&
	cp police-ikuta-council-1.tar.gpg demo/spool/import/ && mimamori import >out && cat out &&
	grep -q "rejected import/police-ikuta-council-1.tar.gpg: receipts.xml: <applied sequence>: 9 was never sent to .police-ikuta." out &&
	mimamori exchange --csv | grep -q "^police-ikuta,3,$D,0,-,"
'

test_expect_success 'a complete bundle from an agency that is not a source is refused' '
	CRAFT_COMPLETE=yes bundle police-ikuta $W 5 police-ikuta-$W-5.tar.gpg deletions.xml=d.xml &&
	cp police-ikuta-$W-5.tar.gpg demo/nodes/$W/spool/import/ && node $W import >out &&
	grep -q "rejected import/police-ikuta-$W-5.tar.gpg: <manifest complete>: .police-ikuta. is not a source of records" out
'

test_expect_success 'restored from a backup, the ward office waits for what it lacks' '
	rm -rf demo/nodes/$W/spool && cp -a backup-spool demo/nodes/$W/spool &&
	node $W show R2026-000001 >/dev/null &&
	change R2026-000003 152 && mimamori export >out &&
	grep -q "^wrote outgoing/$W/council-$W-4.tar.gpg 1 records, 0 deletions" out &&
	to_ward 4 && cat out &&
	grep -qx "waiting import/council-$W-4.tar.gpg: needs bundle 3 from council first" out &&
	test -f demo/nodes/$W/spool/import/council-$W-4.tar.gpg &&
	node $W import >out && grep -q ^waiting out
'

test_expect_success 'export --full resyncs it: what the custodian no longer holds goes' '
	mimamori export --full $W >out && cat out &&
	grep -q "^wrote outgoing/$W/council-$W-5.tar.gpg 1 records, 0 deletions (complete)" out &&
	to_ward 5 && cat out &&
	grep -q "^accepted import/council-$W-5.tar.gpg council-5 1/1" out &&
	node $W import >out &&
	grep -q "^rejected import/council-$W-4.tar.gpg: replayed or old" out &&
	test_must_fail node $W show R2026-000001 2>/dev/null &&
	node $W show R2026-000003 | grep -q "version=\"3\""
'

test_expect_success 'expire warns of destructions unacknowledged after 30 days' '
	mimamori --now 2026-12-20T12:00:00+09:00 expire >out &&
	test_must_fail grep -q ^warning out &&
	mimamori --now 2026-12-22T12:00:00+09:00 expire >out && cat out &&
	grep -qx "warning: R2026-000001 destruction not acknowledged by center-chuo-1 since $D" out &&
	test_must_fail grep -q "by $W" out &&
	grep -q "warning.*id=R2026-000001 destruction not acknowledged by vendor" demo/spool/audit/audit.log
'

test_done
