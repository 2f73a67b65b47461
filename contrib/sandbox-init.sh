#!/bin/sh
# An example sandbox init: start blagent with the drives this sandbox
# boots with, wait until they are mounted, then run the workload under
# bljail, so that neither the identity token, nor the drive store, nor
# blfs, nor the control socket is within its reach, and a read-only drive
# stays read-only even though the workload runs as root.
#
#   sandbox-init.sh [--uid N] -- COMMAND [ARG...]
#
# Edit the variables below (or set them in the environment) for your image.
set -eu

SBIN=${SBIN:-/usr/local/sbin}
BIN=${BIN:-/usr/local/bin}
LIBEXEC=${LIBEXEC:-/usr/local/libexec}
BLJAIL=${BLJAIL:-$BIN/bljail}
STORE=${STORE:-/var/lib/blagent/store}
TOKEN=${TOKEN:-/var/run/secrets/blaxel.ai/identity/token}
RUN=${RUN:-/run/blagent}
# A ceph store (STORE=ceph:FS/ROOT, README "Drives on Ceph"): the
# cluster's configuration, this sandbox's cephx identity and the keyring
# `blctl drive authorize` wrote for it. Only the agent reads the keyring
# (blfs gets it by fd); bljail hides it from the workload like the token.
CEPH_CONF=${CEPH_CONF:-/etc/ceph/ceph.conf}
CEPH_ID=${CEPH_ID:-sandbox}
CEPH_KEYRING=${CEPH_KEYRING:-/var/run/secrets/blagent/ceph.keyring}
# Drives mounted at boot: one read-write, one read-only subdirectory.
MOUNTS=${MOUNTS:-"drive=workspace,path=/mnt/workspace drive=datasets,path=/mnt/datasets,drive-path=/public,ro"}
WAIT=${WAIT:-30s}
# What the agent executes (its binaries, libraries, the loader, and
# /etc/ld.so.preload) must not be writable by a root workload, or the
# next blfs would run the workload's code: see README, "Read-only that
# holds". Drop a path here only if the image keeps it read-only itself.
RO_PATHS=${RO_PATHS:-"/usr /etc /lib /lib64"}

store_args="--store $STORE"
hide_args=
case $STORE in
ceph:*)
	store_args="$store_args --ceph-conf $CEPH_CONF --ceph-id $CEPH_ID"
	store_args="$store_args --ceph-keyring $CEPH_KEYRING"
	hide_args="--hide $CEPH_KEYRING"
	;;
esac
ro_args=
for p in $RO_PATHS; do ro_args="$ro_args --read-only $p"; done
uid_args=
if [ "${1:-}" = --uid ]; then
	uid_args="--uid $2 --gid $2"
	shift 2
fi
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { echo "usage: sandbox-init.sh [--uid N] -- COMMAND [ARG...]" >&2; exit 2; }

# 1. The agent, as root, detached. It returns once its sockets serve and
#    the boot mounts settled (or WAIT passed): from here on a workload
#    sees its drives, and the orchestrator can mount more at run time.
mount_args=
for m in $MOUNTS; do mount_args="$mount_args --mount $m"; done
# shellcheck disable=SC2086
"$SBIN/blagent" $store_args --token "$TOKEN" \
	--control-socket "$RUN/control.sock" --status-socket "$RUN/status.sock" \
	--state-dir "$RUN/state" --blfs "$LIBEXEC/blfs" \
	$mount_args --wait-mounts "$WAIT"

# 2. Say what is mounted (the status socket is the workload's to read too).
"$BIN/blctl" --socket "$RUN/status.sock" status

# 3. The workload: its own mount and pid namespaces, the agent's secrets
#    and tools masked, dangerous capabilities gone for good, no_new_privs,
#    and a seccomp filter against mounting, namespaces and ptrace. The
#    exit status is the command's.
# shellcheck disable=SC2086
exec "$BLJAIL" $uid_args $ro_args $hide_args --store "$STORE" --token "$TOKEN" \
	--state-dir "$RUN/state" --control-socket "$RUN/control.sock" \
	--status-socket "$RUN/status.sock" --blfs "$LIBEXEC/blfs" -- "$@"
