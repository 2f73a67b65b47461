#!/bin/sh
# Installs everything blagent needs to build, test, fuzz and benchmark on
# Debian 12, as root. Safe to run again.
#
# Ceph 16.2 (mon, mgr, osd, mds, the ceph command, ceph-fuse, libcephfs
# and librados with their headers and python bindings) is part of it: the
# ceph store builds against libcephfs-dev and librados-dev, and
# tests/ceph/ in `make check` runs a cluster of its own
# (contrib/ceph-cluster.sh). BLAGENT_DEPS_CEPH=0 leaves it out, for a
# build without the ceph store (configure --with-ceph=auto finds none).
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
	e2fsprogs tar gzip zstd xz-utils
"

if [ "${BLAGENT_DEPS_CEPH:-1}" = 1 ]; then
	packages="$packages
	ceph-mon ceph-mgr ceph-osd ceph-mds ceph-common ceph-fuse
	libcephfs-dev librados-dev python3-cephfs python3-rados
"
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (apt-get install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $packages
