#!/bin/sh
# Installs every Debian 12 package mapi-bpf needs to build, test, demo and
# benchmark.  Idempotent: when everything is present it changes nothing.
set -eu

PACKAGES="
  make gcc clang llvm libclang-rt-14-dev pkg-config python3
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libpcap-dev libcmocka-dev
  tcpdump tcpreplay iproute2 ethtool procps util-linux bsdutils valgrind strace
  passwd
  vsftpd curl
  prometheus
"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
