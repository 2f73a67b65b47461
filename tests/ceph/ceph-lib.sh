# Shared by the ceph store's tests: skip where Ceph is missing, a cluster
# of our own (contrib/ceph-cluster.sh) under $T, stopped by its recorded
# pids whatever happens, and blctl on a ceph store. Source it after
# tests/lib.sh.

PY=${PYTHON3:-/usr/bin/python3}
CLUSTER=$top_srcdir/contrib/ceph-cluster.sh
C=$T/ceph
FS=cephfs
ceph_pids=""

ceph_skip() {
	echo "1..0 # SKIP $*"
	rm -rf "$T"
	exit 77
}

ceph_need() {
	local b
	for b in ceph ceph-mon ceph-mgr ceph-osd ceph-mds; do
		command -v $b >/dev/null ||
			ceph_skip "$b not installed (contrib/install-deps.sh installs Ceph)"
	done
	"$PY" -c 'import cephfs, rados' 2>/dev/null ||
		ceph_skip "python3-cephfs or python3-rados missing for $PY"
	# A build without libcephfs-dev has no ceph store: say so.
	if "$BLCTL" drive --store ceph:x list 2>&1 | grep -q 'no store kind "ceph"'; then
		ceph_skip "this blctl has no ceph store (configure found no libcephfs-dev/librados-dev)"
	fi
}

ceph_cleanup() {
	set +e
	# Our own helpers first (by pid), then the cluster (by its pids).
	for p in $ceph_pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $ceph_pids; do wait "$p" 2>/dev/null; done
	[ -f "$C/.ceph-cluster" ] && "$CLUSTER" stop "$C" >/dev/null 2>&1
	rm -rf "$T"
	return 0
}

# Starts the cluster; on failure, says why in TAP and exits.
ceph_start() {
	local t0 out
	trap ceph_cleanup EXIT
	t0=$(date +%s%3N)
	if ! out=$("$CLUSTER" start "$C" 2>&1); then
		not_ok "the test cluster starts"
		printf '%s\n' "$out" | sed 's/^/# /'
		tap_done
		exit 1
	fi
	diag "cluster serving after $(($(date +%s%3N) - t0)) ms (load $(cut -d' ' -f1-3 /proc/loadavg))"
}

# bctl ARGS...: blctl drive on the store as client.admin; sets out, err, rc.
bctl() {
	out=$("$BLCTL" drive --store "ceph:$FS/st" --ceph-conf "$C/ceph.conf" \
		--ceph-keyring "$C/admin.keyring" "$@" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
}

# admin_py [ARGS]: python (stdin) with fs, libcephfs as client.admin at /;
# sys.argv[2:] are ARGS.
admin_py() {
	local body
	body=$(cat)
	"$PY" - "$C" "$@" <<EOF
import cephfs, sys
d = sys.argv[1]
fs = cephfs.LibCephFS(conffile=d + "/ceph.conf", auth_id="admin",
                      conf={"keyring": d + "/admin.keyring"})
fs.mount(filesystem_name=b"$FS")
$body
fs.unmount()
fs.shutdown()
EOF
}
