#!/bin/sh
# import refuses every bad bundle whole, with its reason beside it in
# rejected/, and applies nothing of it. Hostile bundles are made here with
# python3's tarfile and gpg in the agencies' own GnuPG homes.
. "$(dirname "$0")/lib.sh"
# Registration ids and dates below are of 2026: the clock is pinned there.
pin_clock 2026-11-21T12:00:00+09:00

# The fingerprint of a demo agency's key.
fpr() {
	sed -n "s/.*id=\"$1\".*key=\"\([0-9A-F]*\)\".*/\1/p" demo/mimamori.xml
}

# seal HOME OUT [SIGNER...] < tar: encrypt to police-ikuta, signed by each
# SIGNER (none: unsigned), with gpg in HOME.
seal() {
	home=$1 out=$2 && shift 2 &&
	signs= &&
	for s in "$@"; do signs="$signs --local-user $s"; done &&
	[ -z "$signs" ] || signs="--sign$signs" &&
	gpg --homedir "$home" --batch --yes --trust-model always --pinentry-mode loopback \
		--passphrase "" --recipient "$(fpr police-ikuta)" --encrypt $signs -o "$out"
}

# try NAME: import NAME at police-ikuta; it must be rejected, its reason
# must contain the rest of the arguments, and nothing may be applied.
try() {
	name=$1 && shift &&
	cp "$name" demo/nodes/police-ikuta/spool/import/ &&
	node police-ikuta import >out 2>err &&
	cat out &&
	grep -q "^rejected import/$name: " out &&
	grep -qF -- "$*" demo/nodes/police-ikuta/spool/rejected/$name.reason &&
	test -f demo/nodes/police-ikuta/spool/rejected/$name &&
	test -z "$(ls demo/nodes/police-ikuta/spool/import)" &&
	test -z "$(ls demo/nodes/police-ikuta/spool/work/import)" &&
	test_must_fail node police-ikuta show R2026-000001 >/dev/null 2>&1
}

R1=plain/records/R2026-000001.xml
R3=plain/records/R2026-000003.xml

cp "$TEST_SRC/tests/craft-bundle.py" craft.py

test_expect_success 'setup: a genuine bundle for police-ikuta, and its plaintext' '
	setup_demo &&
	mimamori submit demo/samples/*.xml >/dev/null && mimamori intake >/dev/null &&
	mimamori export >/dev/null &&
	cp demo/spool/outgoing/police-ikuta/council-police-ikuta-1.tar.gpg good.tar.gpg &&
	gpg --homedir demo/nodes/police-ikuta/gnupg --batch --decrypt good.tar.gpg \
		>good.tar 2>/dev/null &&
	mkdir plain && tar -C plain -xf good.tar &&
	test -f plain/records/R2026-000001.xml &&
	gpg --homedir demo/nodes/ward-chuo/gnupg --batch --decrypt \
		demo/spool/outgoing/ward-chuo/council-ward-chuo-1.tar.gpg >ward.tar 2>/dev/null &&
	mkdir full && tar -C full -xf ward.tar &&
	python3 craft.py same.tar council police-ikuta 1 \
		records/R2026-000001.xml=$R1 records/R2026-000003.xml=$R3 &&
	seal demo/gnupg same.tar.gpg "$(fpr council)" <same.tar &&
	cp same.tar.gpg control.tar.gpg
'

test_expect_success 'altered ciphertext' '
	cp good.tar.gpg altered.tar.gpg &&
	size=$(stat -c %s altered.tar.gpg) &&
	printf "\377\377\377\377" | dd of=altered.tar.gpg bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null &&
	try altered.tar.gpg "decrypt"
'

test_expect_success 'truncated file' '
	head -c $(( $(stat -c %s good.tar.gpg) * 2 / 3 )) good.tar.gpg >truncated.tar.gpg &&
	try truncated.tar.gpg ""
'

test_expect_success 'signed by a valid key of another agency (ward-chuo)' '
	seal demo/nodes/ward-chuo/gnupg by-ward.tar.gpg "$(fpr ward-chuo)" <same.tar &&
	try by-ward.tar.gpg "signed by $(fpr ward-chuo), not by the key of '\''council'\''"
'

test_expect_success 'signed by the right agency name but an unknown key' '
	mkdir -m 700 stranger &&
	gpg --homedir stranger --batch --passphrase "" --quick-gen-key "mallory <council@example.jp>" \
		ed25519 sign never 2>/dev/null &&
	gpg --homedir stranger --batch --passphrase "" --quick-add-key \
		$(gpg --homedir stranger --with-colons -K | sed -n "s/^fpr:*\([0-9A-F]*\):*$/\1/p" | head -1) \
		cv25519 encr never 2>/dev/null &&
	gpg --homedir demo/gnupg --export "$(fpr police-ikuta)" | gpg --homedir stranger --import 2>/dev/null &&
	seal stranger by-stranger.tar.gpg council@example.jp <same.tar &&
	try by-stranger.tar.gpg "bad signature"
'

test_expect_success 'encrypted but unsigned' '
	seal demo/gnupg unsigned.tar.gpg <same.tar &&
	try unsigned.tar.gpg "not signed"
'

test_expect_success 'two signatures (the sender and another agency)' '
	mkdir -m 700 both &&
	for a in council ward-chuo; do
		h=demo/gnupg && [ $a = council ] || h=demo/nodes/$a/gnupg
		gpg --homedir $h --batch --pinentry-mode loopback --passphrase "" \
			--export-secret-keys "$(fpr $a)" | gpg --homedir both --batch --import 2>/dev/null
	done &&
	gpg --homedir demo/gnupg --export "$(fpr police-ikuta)" | gpg --homedir both --import 2>/dev/null &&
	seal both two-sigs.tar.gpg "$(fpr council)" "$(fpr ward-chuo)" <same.tar &&
	try two-sigs.tar.gpg "2 signatures"
'

test_expect_success 'addressed to another agency' '
	python3 craft.py to-other.tar council police-nada 1 records/R2026-000001.xml=$R1 &&
	seal demo/gnupg to-other.tar.gpg "$(fpr council)" <to-other.tar &&
	try to-other.tar.gpg "addressed to '\''police-nada'\''"
'

test_expect_success 'claims to come from an unknown agency' '
	python3 craft.py unknown.tar mallory police-ikuta 1 records/R2026-000001.xml=$R1 &&
	seal demo/gnupg unknown.tar.gpg "$(fpr council)" <unknown.tar &&
	try unknown.tar.gpg "unknown agency"
'

for e in "../x" "/etc/x" "records/../../x"; do
	test_expect_success "an entry named $e" '
		echo x >x &&
		python3 craft.py path.tar council police-ikuta 1 "!$e=x" &&
		n=path-$(echo "$e" | tr -c "a-z\n" _).tar.gpg &&
		seal demo/gnupg $n "$(fpr council)" <path.tar &&
		try $n "entry '\''$e'\''"
	'
done

test_expect_success 'a symbolic link' '
	python3 craft.py link.tar council police-ikuta 1 records/R2026-000001.xml@symlink=/etc/passwd &&
	seal demo/gnupg symlink.tar.gpg "$(fpr council)" <link.tar &&
	try symlink.tar.gpg "a symbolic link"
'

test_expect_success 'a hard link' '
	python3 craft.py hard.tar council police-ikuta 1 records/R2026-000001.xml@hardlink=manifest.xml &&
	seal demo/gnupg hardlink.tar.gpg "$(fpr council)" <hard.tar &&
	try hardlink.tar.gpg "a hard link"
'

test_expect_success 'a device and a FIFO' '
	python3 craft.py dev.tar council police-ikuta 1 records/R2026-000001.xml@chr &&
	seal demo/gnupg device.tar.gpg "$(fpr council)" <dev.tar &&
	try device.tar.gpg "a character device" &&
	python3 craft.py fifo.tar council police-ikuta 1 records/R2026-000001.xml@fifo &&
	seal demo/gnupg fifo.tar.gpg "$(fpr council)" <fifo.tar &&
	try fifo.tar.gpg "a FIFO"
'

test_expect_success 'an entry bigger than the cap (16 MiB)' '
	python3 craft.py big.tar council police-ikuta 1 records/R2026-000001.xml@zeros=16777217 &&
	seal demo/gnupg big.tar.gpg "$(fpr council)" <big.tar &&
	try big.tar.gpg "larger than 16777216 bytes"
'

test_expect_success 'a record bigger than the record cap (8 MiB)' '
	python3 craft.py bigrec.tar council police-ikuta 1 records/R2026-000001.xml@zeros=8388609 &&
	seal demo/gnupg bigrec.tar.gpg "$(fpr council)" <bigrec.tar &&
	try bigrec.tar.gpg "record R2026-000001: larger than 8388608 bytes"
'

test_expect_success 'more entries than the cap (100,000)' '
	python3 craft.py many.tar council police-ikuta 1 many@100001 &&
	seal demo/gnupg many.tar.gpg "$(fpr council)" <many.tar &&
	try many.tar.gpg "more than 100000 entries"
'

test_expect_success 'an entry not in the manifest, or not matching it' '
	cp plain/manifest.xml m.xml &&
	python3 craft.py extra.tar council police-ikuta 1 records/R2026-000001.xml=$R1 &&
	python3 - <<-PY &&
	import tarfile, io
	t = tarfile.open("extra.tar", "a")
	d = open("$R3", "rb").read()
	ti = tarfile.TarInfo("records/R2026-000003.xml"); ti.size = len(d)
	t.addfile(ti, io.BytesIO(d)); t.close()
	PY
	seal demo/gnupg extra.tar.gpg "$(fpr council)" <extra.tar &&
	try extra.tar.gpg "entry '\''records/R2026-000003.xml'\'' is not listed" &&
	sed -e "s/<sex>female</<sex>male</;t" -e "s/<sex>male</<sex>female</" $R1 >changed.xml &&
	! cmp -s $R1 changed.xml &&
	python3 craft.py mismatch.tar council police-ikuta 1 records/R2026-000001.xml=$R1 &&
	python3 - <<-PY &&
	import tarfile, io
	src = tarfile.open("mismatch.tar"); out = tarfile.open("mismatch2.tar", "w", format=tarfile.PAX_FORMAT)
	for m in src.getmembers():
	    d = src.extractfile(m).read()
	    if m.name.startswith("records/"):
	        d = open("changed.xml", "rb").read(); m.size = len(d)
	    out.addfile(m, io.BytesIO(d))
	out.close()
	PY
	seal demo/gnupg mismatch.tar.gpg "$(fpr council)" <mismatch2.tar &&
	try mismatch.tar.gpg "does not match the manifest"
'

test_expect_success 'a record that fails the schema' '
	sed "s|<sex>[a-z]*</sex>|<sex>Zq7xSex</sex>|" $R1 >bad-record.xml &&
	python3 craft.py schema.tar council police-ikuta 1 records/R2026-000001.xml=bad-record.xml &&
	seal demo/gnupg schema.tar.gpg "$(fpr council)" <schema.tar &&
	try schema.tar.gpg "record R2026-000001: <sex>: not one of female, male" &&
	sed "s|<birth-date>[^<]*</birth-date>|<birth-date>1941/04/01</birth-date>|" $R1 >bad-birth.xml &&
	python3 craft.py birth.tar council police-ikuta 1 records/R2026-000001.xml=bad-birth.xml &&
	seal demo/gnupg birth.tar.gpg "$(fpr council)" <birth.tar &&
	try birth.tar.gpg "record R2026-000001: <birth-date>: not a valid date" &&
	! grep -rF -e Zq7xSex -e 1941/04/01 out err demo/nodes/police-ikuta/spool/rejected/*.reason \
		demo/nodes/police-ikuta/spool/audit/audit.log &&
	sed "s/R2026-000001/R2026-000009/" $R1 >other-id.xml &&
	python3 craft.py id.tar council police-ikuta 1 records/R2026-000001.xml=other-id.xml &&
	seal demo/gnupg id.tar.gpg "$(fpr council)" <id.tar &&
	try id.tar.gpg "record R2026-000001: its id is '\''R2026-000009'\''"
'

test_expect_success 'a record with care data arriving at a police node' '
	sed "s|</person>|</person><care><level>care-2</level><diagnosis>秘密</diagnosis></care>|" \
		plain/records/R2026-000003.xml >care.xml &&
	python3 craft.py care.tar council police-ikuta 1 records/R2026-000001.xml=$R1 \
		records/R2026-000003.xml=care.xml &&
	seal demo/gnupg care.tar.gpg "$(fpr council)" <care.tar &&
	try care.tar.gpg "record R2026-000003: holds <care>, more than a police node may see" &&
	python3 craft.py fullrec.tar council police-ikuta 1 \
		records/R2026-000003.xml=full/records/R2026-000003.xml &&
	seal demo/gnupg fullrec.tar.gpg "$(fpr council)" <fullrec.tar &&
	try fullrec.tar.gpg "more than a police node may see"
'

test_expect_success 'after all that, the genuine bundle is applied, once' '
	cp good.tar.gpg demo/nodes/police-ikuta/spool/import/ &&
	node police-ikuta import >out &&
	grep -q "^accepted import/good.tar.gpg council-1 2/0" out &&
	node police-ikuta show R2026-000001 >/dev/null &&
	cp good.tar.gpg demo/nodes/police-ikuta/spool/import/replay.tar.gpg &&
	try_applied=1 &&
	node police-ikuta import >out &&
	grep -q "^rejected import/replay.tar.gpg: replayed or old bundle: sequence 1" out &&
	cp control.tar.gpg demo/nodes/police-ikuta/spool/import/ &&
	node police-ikuta import >out &&
	grep -q "^rejected import/control.tar.gpg: replayed or old bundle" out
'

test_expect_success 'an older sequence after a newer one' '
	python3 craft.py s3.tar council police-ikuta 3 records/R2026-000001.xml=$R1 &&
	seal demo/gnupg s3.tar.gpg "$(fpr council)" <s3.tar &&
	python3 craft.py s2.tar council police-ikuta 2 records/R2026-000001.xml=$R1 &&
	seal demo/gnupg s2.tar.gpg "$(fpr council)" <s2.tar &&
	cp s3.tar.gpg demo/nodes/police-ikuta/spool/import/ &&
	node police-ikuta import >out &&
	grep -q "^accepted import/s3.tar.gpg council-3" out &&
	cp s2.tar.gpg demo/nodes/police-ikuta/spool/import/ &&
	node police-ikuta import >out &&
	grep -q "^rejected import/s2.tar.gpg: replayed or old bundle: sequence 2 from '\''council'\'', 3 already applied" out
'

test_expect_success 'every rejection is audited without personal data' '
	log=demo/nodes/police-ikuta/spool/audit/audit.log &&
	test $(grep -c "	reject	input=import/" $log) -ge 20 &&
	test_must_fail grep -qF "神戸" $log &&
	node police-ikuta audit verify
'

test_done
