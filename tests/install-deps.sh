#!/bin/sh
# Install the Debian packages named as arguments that are missing.
# Postfix is preseeded to "No configuration", so no mail system starts.
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "mimamori: deps: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null &&
apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
	{ echo "mimamori: deps: apt-get install failed:$missing" >&2; exit 1; }
