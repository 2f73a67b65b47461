#!/bin/sh
# Installs everything blagent needs to build, test, fuzz and benchmark on
# Debian 12, as root. Safe to run again.
set -eu

packages="
	build-essential autoconf automake pkg-config perl
	libevent-dev libmsgpack-dev libfuse3-dev fuse3 libcap-dev libseccomp-dev
	libjansson-dev libssl-dev openssl
	clang libclang-rt-14-dev
	python3 python3-msgpack
	redis-server redis-tools bindfs fio
	glusterfs-server glusterfs-client
	util-linux procps iproute2 jq attr strace
"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (apt-get install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $packages
