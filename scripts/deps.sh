#!/bin/sh
# deps.sh: install the Debian packages tern needs to build and test, if missing.
# Idempotent and quiet when everything is there; run as root (or with sudo on PATH).
set -e

PKGS="build-essential pkg-config libssl-dev libevent-dev libsqlite3-dev libgsasl-dev
      libcrypt-dev zlib1g-dev libunistring-dev libxml2-dev openssl python3 clang libclang-rt-14-dev
      libspf2-dev libopendkim-dev libopendmarc-dev publicsuffix libcurl4-openssl-dev
      ldnsutils nsd
      isync curl offlineimap3 fetchmail swaks libnet-ssleay-perl libio-socket-ssl-perl
      chromium chromium-driver testssl.sh libunbound-dev libseccomp-dev dnsmasq-base python3-dkim python3-nacl"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
