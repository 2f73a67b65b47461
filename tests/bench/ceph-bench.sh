#!/bin/sh
# blfs on a ceph store against ceph-fuse over the same CephFS directory,
# both served by one throwaway cluster (contrib/ceph-cluster.sh) this
# script starts and stops by pid whatever happens. The cases and the
# figures are ceph-bench.py's; this part only sets the stage.
#
# Skipped, with a message and success (make bench goes on), where Ceph,
# ceph-fuse, python3-cephfs or this build's ceph store are missing.
#
# Environment: CEPH_BENCH_ROUNDS (default 3), CEPH_BENCH_FILES (files of
# the create/stat/unlink cases, default 5000), CEPH_BENCH_ONLY ("data" or
# "meta"), BLFS_BENCH_BLFS (the blfs binary, default the build's),
# CEPH_BENCH_ARGS (more blfs arguments), CEPH_BENCH_FUSE_ARGS (more
# ceph-fuse arguments, say --debug_client=0/0 to give it the debug levels
# blfs sets), CEPH_CLUSTER_OSD_BYTES (each memstore OSD's size, default
# here 2 GiB).
set -u
: "${top_builddir:?}" "${top_srcdir:?}"
DRIVER="$top_builddir/tests/blfs/blfs-mount"
PY=${PYTHON3:-/usr/bin/python3}
BLFS=${BLFS_BENCH_BLFS:-$top_builddir/blfs/blfs}
ARGS=${CEPH_BENCH_ARGS:-}
FUSE_ARGS=${CEPH_BENCH_FUSE_ARGS:-}
CLUSTER=$top_srcdir/contrib/ceph-cluster.sh

skip() {
	echo "ceph-bench: skipped: $*"
	exit 0
}
bail() { echo "ceph-bench: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (mounts, drop_caches)"
for c in ceph ceph-mon ceph-mgr ceph-osd ceph-mds; do
	command -v $c >/dev/null ||
		skip "$c is not installed (contrib/install-deps.sh installs Ceph)"
done
command -v ceph-fuse >/dev/null || skip "ceph-fuse is not installed"
command -v fio >/dev/null || skip "fio is not installed"
"$PY" -c 'import cephfs' 2>/dev/null ||
	skip "python3-cephfs is missing for $PY"
[ -x "$DRIVER" ] || make -C "$top_builddir" tests/blfs/blfs-mount \
	>/dev/null || bail "cannot build tests/blfs/blfs-mount"
[ -x "$BLFS" ] || bail "no blfs at $BLFS"
if "$BLFS" --fuse-fd 0 --ceph-fs x --ceph-root / --ceph-id x \
    --ceph-conf-fd 0 --ceph-keyring-fd 0 --drive d --session s \
    --mount-path /m 2>&1 | grep -q "built without libcephfs"; then
	skip "this blfs was built without libcephfs (libcephfs-dev)"
fi

tmp=$(mktemp -d /tmp/ceph-bench.XXXXXX)
C=$tmp/cluster
fuse_pid=""
cleanup() {
	set +e
	"$DRIVER" umount "$tmp/blfs" 2>/dev/null
	if [ -n "$fuse_pid" ]; then
		fusermount3 -u "$tmp/fuse" 2>/dev/null ||
			umount -l "$tmp/fuse" 2>/dev/null
		# ceph-fuse leaves once unmounted; a bound, then by its pid.
		i=0
		while kill -0 "$fuse_pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$fuse_pid" 2>/dev/null
		wait "$fuse_pid" 2>/dev/null
	fi
	if [ -s "$tmp/blfs.pid" ]; then
		p=$(cat "$tmp/blfs.pid")
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	fi
	[ -f "$C/.ceph-cluster" ] && "$CLUSTER" stop "$C" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

echo "ceph-bench: starting a cluster (load average" \
	"$(cut -d' ' -f1-3 /proc/loadavg))"
CEPH_CLUSTER_OSD_BYTES=${CEPH_CLUSTER_OSD_BYTES:-2147483648} \
	"$CLUSTER" start "$C" >"$tmp/cluster.out" 2>&1 ||
	bail "the cluster did not start: $(tail -20 "$tmp/cluster.out")"

# The directory both serve, made as another client would.
"$PY" - "$C" <<'EOF' || bail "cannot make /bench in CephFS"
import cephfs, sys
d = sys.argv[1]
fs = cephfs.LibCephFS(conffile=d + "/ceph.conf", auth_id="admin",
                      conf={"keyring": d + "/admin.keyring"})
fs.mount(filesystem_name=b"cephfs")
fs.mkdir(b"/bench", 0o755)
fs.unmount()
fs.shutdown()
EOF

mkdir -p "$tmp/fuse" "$tmp/blfs"
# ceph-fuse with its defaults (plus $FUSE_ARGS), in the foreground under
# our pid.
# shellcheck disable=SC2086
ceph-fuse -f -c "$C/ceph.conf" -k "$C/admin.keyring" --id admin \
	--client_fs cephfs -r /bench $FUSE_ARGS "$tmp/fuse" \
	>"$tmp/fuse.out" 2>&1 &
fuse_pid=$!
# blfs as the agent starts it, plus $ARGS.
# shellcheck disable=SC2086
"$DRIVER" mount --blfs "$BLFS" --log "$tmp/blfs.log" \
	--pidfile "$tmp/blfs.pid" --ceph "$C/ceph.conf" "$C/admin.keyring" \
	admin cephfs /bench "$tmp/blfs" -- $ARGS ||
	bail "blfs mount failed: $(cat "$tmp/blfs.log")"
i=0
until grep -q " $tmp/fuse fuse" /proc/mounts; do
	kill -0 "$fuse_pid" 2>/dev/null ||
		bail "ceph-fuse failed: $(cat "$tmp/fuse.out")"
	[ $i -lt 300 ] || bail "ceph-fuse did not mount in 30 s"
	sleep 0.1
	i=$((i + 1))
done

echo "ceph-bench: blfs $BLFS $ARGS against ceph-fuse $FUSE_ARGS" \
	"($(ceph-fuse --version | cut -d' ' -f1-3)) on cephfs:/bench"
"$PY" "$top_srcdir/tests/bench/ceph-bench.py" "$tmp" "$C"
rc=$?
echo "ceph-bench: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
