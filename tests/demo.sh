#!/bin/sh
# make demo: a throwaway installation in ./demo, run once on sample data.
# Safe to run again: the previous demo folder is replaced.
#   sh tests/demo.sh [BUILD-DIR]
set -e
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
DEMO=${DEMO_DIR:-$TOP/demo}
export MIMAMORI_HOME=$TOP
M="$BUILD/mimamori"

step() {
	printf '\n== %s\n' "$*"
}

for h in $(find "$DEMO" -type d -name gnupg 2>/dev/null); do
	gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null || true
done
rm -rf "$DEMO"

step "init: demo agencies, keys and sample data in $DEMO"
"$M" init "$DEMO" --demo
cd "$DEMO"
export MIMAMORI_CONFIG="$DEMO/mimamori.xml"

step "check-config: the custodian's configuration and keyring"
"$M" check-config

step "submit + intake: the sample registrations enter the registry (encrypted at rest)"
"$M" submit samples/*.xml
"$M" intake

step "a duplicate is rejected with its reason"
"$M" submit samples/registration-kobe-hanako.xml
"$M" intake
echo "reason file: spool/rejected/registration-kobe-hanako.xml.reason:"
sed 's/^/  /' spool/rejected/registration-kobe-hanako.xml.reason

id=$(ls spool/registry/records | sed -n 3p | sed 's/\.[0-9]*$//')
step "show $id --as police: what a police station may hold (person section only)"
"$M" show "$id" --as police | head -12
echo "  ..."

step "show $id --as alert: what an alert may say (no name, birth date, address, phone)"
"$M" show "$id" --as alert | head -12
echo "  ..."

step "encrypted at rest: the persons' names appear in no spool file"
if grep -rl -e '神戸 花子' -e 'こうべ はなこ' -e '090-0000-0001' spool --exclude-dir=rejected; then
	echo "LEAK: the files above hold personal data in clear" >&2
	exit 1
fi
echo "  none (registry/records/* and registry/index are sealed with the node's data key)"

step "audit verify: the hash-chained log of every operation"
"$M" audit verify
tail -n 3 spool/audit/audit.log | cut -f1-5 | sed 's/^/  /'

step "export: encrypted, signed bundles for each agency"
"$M" export
for a in police-ikuta ward-chuo; do
	cp spool/outgoing/$a/*.tar.gpg nodes/$a/spool/import/
	step "import at $a: what it may hold of $id"
	"$M" -c nodes/$a/mimamori.xml import
	"$M" -c nodes/$a/mimamori.xml show "$id" | grep -v '<photo' | head -14
	echo "  ..."
done

# The operator's key and the node's, from the demo configuration.
op=$(sed -n 's/.*<operator key="\([0-9A-F]*\)".*/\1/p' mimamori.xml)
node=$(sed -n 's/.*<agency id="council"[^>]* key="\([0-9A-F]*\)".*/\1/p' mimamori.xml)
hanako=$(ls spool/registry/records | sed 's/\.[0-9]*$//' | while read r; do
	"$M" show "$r" 2>/dev/null | grep -q 'こうべ はなこ' && echo "$r"; done | head -1)

step "request-mail: the operator signs (and encrypts to this node) a missing-person request for $hanako"
{
	echo "type: alert"
	echo "status: actual"
	echo "registration: $hanako"
	echo "requester-name: 神戸 太郎"
	echo "requester-relationship: 長男"
	echo "police-station: police-ikuta"
	echo "police-report-at: $(date -d '-10 min' +%Y-%m-%dT%H:%M:00%:z)"
	echo "missing-since: $(date -d '-3 hours' +%Y-%m-%dT%H:%M:00%:z)"
	echo "last-seen: 三宮センター街 東口付近"
	echo "clothing: 紺色のジャンパー、灰色のズボン、白い運動靴"
	echo "belongings: 茶色の手提げかばん"
	echo "area: chuo nada"
} >request.form
sed 's/^/  /' request.form
"$M" request-mail --gnupg-home operator/gnupg --key "$op" --from ops@vendor.example.jp \
	--to alerts@example.jp --encrypt-to "$node" --form request.form -o spool/inbox/new/request-1

step "dispatch: verify the signature, check, render from the alert view, leak guard, queue"
"$M" dispatch

step "deliver: no <smtp> in the demo config, so into local Maildirs under spool/mail/"
"$M" deliver
ls spool/mail | sed 's/^/  /'

step "the alert as helper1@example.jp sees it (no name, birth date, address or phone)"
sed 's/^/  /' "$(ls -d spool/mail/helper1@example.jp/new/* | head -1)"

step "found: the operator reports the person found; the same recipients are told"
sed -e 's/^type: alert/type: found/' -e '/^area:/d' request.form >found.form
echo "notes: 元町駅で保護されました" >>found.form
"$M" request-mail --gnupg-home operator/gnupg --key "$op" --from ops@vendor.example.jp \
	--to alerts@example.jp --encrypt-to "$node" --form found.form -o spool/inbox/new/request-2
"$M" dispatch
"$M" deliver
f=$(ls -t spool/mail/helper1@example.jp/new/* | head -1)
sed -n '/^Subject:/p;/^References:/p;/^$/,$p' "$f" | sed 's/^/  /'

step "stats: the register's figures"
"$M" stats

expiry=$(date -d '+2 years +1 day' +%Y-%m-%d)
step "expire --now $expiry: two years later, every record not renewed is destroyed"
"$M" --now "$expiry" expire
"$M" --now "$expiry" show "$id" || echo "  (show exits $?: only the tombstone is left)"

for h in $(find "$DEMO" -type d -name gnupg); do
	gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null || true
done
step "done. Look around in $DEMO: mimamori.xml, spool/, nodes/*/spool/, samples/"
