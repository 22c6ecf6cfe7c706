#!/bin/sh
# import: no sender exceeds its authority. Only the sources (source="yes",
# or, when no agency is marked, the custodians) may send records and
# deletions; a record must be in the receiving node's scope; and nothing
# may replace or delete a record the node registered itself. Each bundle
# here is validly signed by its sender's own pinned key.
. "$(dirname "$0")/lib.sh"

# The fingerprint of a demo agency's key.
fpr() {
	sed -n "s/.*id=\"$1\".*key=\"\([0-9A-F]*\)\".*/\1/p" demo/mimamori.xml
}

home() {
	if [ "$1" = council ]; then echo demo/gnupg; else echo demo/nodes/$1/gnupg; fi
}

# run AGENCY ARGS...: mimamori as that agency's node.
run() {
	a=$1 && shift &&
	if [ "$a" = council ]; then mimamori "$@"; else node "$a" "$@"; fi
}

spool() {
	if [ "$1" = council ]; then echo demo/spool; else echo demo/nodes/$1/spool; fi
}

# bundle FROM TO SEQ OUT ENTRY...: a bundle made by craft-bundle.py,
# signed with FROM's key in FROM's own GnuPG home, encrypted to TO.
bundle() {
	from=$1 to=$2 seq=$3 out=$4 && shift 4 &&
	python3 "$TEST_SRC/tests/craft-bundle.py" "$out.tar" "$from" "$to" "$seq" "$@" &&
	gpg --homedir "$(home $from)" --batch --yes --trust-model always \
		--pinentry-mode loopback --passphrase "" --local-user "$(fpr $from)" \
		--recipient "$(fpr $to)" --encrypt --sign -o "$out" <"$out.tar"
}

# refused AGENCY FILE REASON: importing FILE at AGENCY rejects it with
# REASON in its .reason, and applies nothing.
refused() {
	a=$1 f=$2 && shift 2 &&
	cp "$f" "$(spool $a)/import/" &&
	run $a import >out 2>err &&
	cat out &&
	grep -q "^rejected import/$f: " out &&
	grep -qF -- "$*" "$(spool $a)/rejected/$f.reason" &&
	test -z "$(ls "$(spool $a)/import")"
}

# holds AGENCY ID TEXT: the node holds the record and it contains TEXT.
holds() {
	run $1 show $2 >shown && grep -qF -- "$3" shown
}

deletions() {
	printf '<?xml version="1.0" encoding="UTF-8"?>\n<deletions xmlns="urn:mimamori:1">'
	for id in "$@"; do
		printf '<deletion id="%s" date="2026-11-21" reason="other"/>' "$id"
	done
	printf '</deletions>\n'
}

# R1 chuo/center-chuo-1, R2 nada/center-nada-1, R3 chuo/center-chuo-1,
# R4 nada/center-nada-1 (the fixture's minimal registration).
test_expect_success 'setup: four records at the custodian, copies at the agencies' '
	setup_demo &&
	mimamori submit demo/samples/registration-agency-sharing.xml \
		demo/samples/registration-guardian.xml \
		demo/samples/registration-kobe-hanako.xml >/dev/null &&
	mimamori intake >out &&
	make_registration 1 >r4.xml && mimamori submit r4.xml >/dev/null &&
	mimamori intake >>out && test $(grep -c ^accepted out) -eq 4 &&
	mimamori export >/dev/null &&
	for a in police-ikuta police-nada ward-chuo ward-nada center-chuo-1; do
		f=demo/spool/outgoing/$a/council-$a-1.tar.gpg &&
		mkdir plain-$a &&
		gpg --homedir "$(home $a)" --batch --decrypt $f 2>/dev/null |
			tar -C plain-$a -xf - &&
		mv $f "$(spool $a)/import/" &&
		node $a import >out &&
		grep -q "^accepted" out || return 1
	done &&
	holds council R2026-000003 "神戸 花子" &&
	holds police-ikuta R2026-000001 "<person>"
'

test_expect_success 'police deleting records at the custodian is refused' '
	deletions R2026-000001 R2026-000002 R2026-000003 R2026-000004 >dels.xml &&
	bundle police-ikuta council 1 police-dels.tar.gpg deletions.xml=dels.xml &&
	refused council police-dels.tar.gpg "'\''police-ikuta'\'' is not a source of records" &&
	for id in R2026-000001 R2026-000002 R2026-000003 R2026-000004; do
		mimamori show $id >/dev/null || return 1
	done
'

test_expect_success 'police replacing a master record by a person-only copy is refused' '
	sed -e "s/神戸 花子/偽名 太郎/" -e "s/version=\"1\"/version=\"7\"/" \
		plain-police-ikuta/records/R2026-000003.xml >fake.xml &&
	grep -qF "偽名 太郎" fake.xml &&
	bundle police-ikuta council 1 police-rec.tar.gpg records/R2026-000003.xml=fake.xml &&
	refused council police-rec.tar.gpg "'\''police-ikuta'\'' is not a source of records" &&
	holds council R2026-000003 "神戸 花子" && grep -qF "<care" shown
'

test_expect_success 'an empty bundle from a non-source is taken (nothing to apply)' '
	deletions >none.xml &&
	bundle police-ikuta council 1 police-empty.tar.gpg deletions.xml=none.xml &&
	cp police-empty.tar.gpg demo/spool/import/ &&
	mimamori import >out &&
	grep -q "^accepted import/police-empty.tar.gpg police-ikuta-1 0/0" out
'

test_expect_success 'a peer replacing a record at another peer is refused' '
	sed "s/version=\"1\"/version=\"9\"/" plain-police-ikuta/records/R2026-000001.xml |
		sed "s|<name>[^<]*</name>|<name>偽名 次郎</name>|" >peer.xml &&
	bundle ward-chuo police-ikuta 1 peer.tar.gpg records/R2026-000001.xml=peer.xml &&
	refused police-ikuta peer.tar.gpg "'\''ward-chuo'\'' is not a source of records" &&
	deletions R2026-000001 >peer-dels.xml &&
	bundle ward-chuo police-ikuta 1 peer-dels.tar.gpg deletions.xml=peer-dels.xml &&
	refused police-ikuta peer-dels.tar.gpg "'\''ward-chuo'\'' is not a source of records" &&
	holds police-ikuta R2026-000001 "version=\"1\""
'

test_expect_success 'a record outside the receiving node'\''s scope is refused' '
	bundle council police-ikuta 2 nada.tar.gpg \
		records/R2026-000002.xml=plain-police-nada/records/R2026-000002.xml &&
	refused police-ikuta nada.tar.gpg \
		"record R2026-000002: outside the scope of this node (" &&
	test_must_fail node police-ikuta show R2026-000002 >/dev/null 2>&1 &&
	bundle council center-chuo-1 2 center.tar.gpg \
		records/R2026-000002.xml=plain-ward-nada/records/R2026-000002.xml &&
	refused center-chuo-1 center.tar.gpg "record R2026-000002: outside the scope" &&
	test_must_fail node center-chuo-1 show R2026-000002 >/dev/null 2>&1
'

test_expect_success 'source="yes" makes a source; only marked agencies are then' '
	sed -i "s|<agency id=\"ward-chuo\" |&source=\"yes\" |" demo/nodes/police-ikuta/mimamori.xml &&
	node police-ikuta check-config >/dev/null 2>&1; node police-ikuta show R2026-000001 >/dev/null &&
	bundle ward-chuo police-ikuta 1 peer-ok.tar.gpg records/R2026-000001.xml=peer.xml &&
	cp peer-ok.tar.gpg demo/nodes/police-ikuta/spool/import/ &&
	node police-ikuta import >out &&
	grep -q "^accepted import/peer-ok.tar.gpg ward-chuo-1 1/0" out &&
	holds police-ikuta R2026-000001 "偽名 次郎" &&
	bundle council police-ikuta 2 custodian.tar.gpg deletions.xml=peer-dels.xml &&
	refused police-ikuta custodian.tar.gpg "'\''council'\'' is not a source of records"
'

test_expect_success 'no bundle replaces or deletes a record the node registered itself' '
	sed -i -e "s|<agency id=\"ward-chuo\" |&source=\"yes\" |" \
		-e "s|<agency id=\"council\" |&source=\"yes\" |" demo/mimamori.xml &&
	sed -e "s/version=\"1\"/version=\"5\"/" -e "s/神戸 花子/偽名 花子/" \
		plain-ward-chuo/records/R2026-000003.xml >own.xml &&
	bundle ward-chuo council 1 own.tar.gpg records/R2026-000003.xml=own.xml &&
	refused council own.tar.gpg "record R2026-000003: registered by this node" &&
	deletions R2026-000003 >own-dels.xml &&
	bundle ward-chuo council 1 own-dels.tar.gpg deletions.xml=own-dels.xml &&
	refused council own-dels.tar.gpg "deletion of record R2026-000003: registered by this node" &&
	holds council R2026-000003 "神戸 花子" &&
	test_must_fail grep -rqF "偽名" demo/spool/audit
'

test_expect_success 'rejections are audited without personal data' '
	test $(grep -c "	reject	input=import/" demo/spool/audit/audit.log) -eq 4 &&
	test_must_fail grep -qF "神戸" demo/spool/audit/audit.log &&
	mimamori audit verify && node police-ikuta audit verify
'

test_done
