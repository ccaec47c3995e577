#!/usr/bin/env bash
# Debian packages the test suite needs: PostgreSQL (a throw-away cluster per test session),
# iproute2 (network namespaces for live capture), python3-venv, and the real protocol peers
# that tests/tests_support/peers.py records inside namespaces: tcpdump (the recorder), dcmtk
# (storescp, storescu, echoscu), dnsmasq-base (the dnsmasq binary only: the "dnsmasq"
# package would also install and start a system DNS/DHCP service), isc-dhcp-client
# (dhclient) and udhcpc (BusyBox's DHCP client). Installed when missing; needs root or sudo.
# Prints what it does.
set -euo pipefail

packages=(postgresql iproute2 python3-venv procps
  tcpdump dcmtk dnsmasq-base isc-dhcp-client udhcpc)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${packages[*]})"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null; then
  SUDO="sudo"
else
  echo "system packages: need root or sudo to install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
