#!/bin/bash
# contrib/ceph-cluster.sh: a failed start leaves nothing running and stop
# still cleans up; a real start serves a CephFS that libcephfs reads and
# writes, on loopback only, with every file under its directory; kill -9 of
# one OSD during fsync'd writes loses none of them, writes and reads go on,
# and the restarted OSD brings every PG back to active+clean; stop leaves
# no daemon and no directory behind. Prints the start and stop times and
# the daemons' memory (RSS) as TAP diagnostics.
#
# In `make check` (tests/ceph/local.mk) beside the ceph store's tests;
# skipped where Ceph is not installed (contrib/install-deps.sh installs
# it). By hand, from the source tree, as root or not:
#   top_srcdir=. top_builddir=. tests/ceph/cluster.sh
# It needs Debian 12's ceph-mon, ceph-mgr, ceph-osd, ceph-mds, ceph-common
# and python3-cephfs.
set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
PY=${PYTHON3:-/usr/bin/python3}
CLUSTER=$top_srcdir/contrib/ceph-cluster.sh

for b in ceph ceph-mon ceph-mgr ceph-osd ceph-mds; do
	if ! command -v $b >/dev/null; then
		echo "1..0 # SKIP $b not installed (contrib/install-deps.sh installs Ceph)"
		exit 77
	fi
done
if ! "$PY" -c 'import cephfs, rados' 2>/dev/null; then
	echo "1..0 # SKIP python3-cephfs not installed"
	exit 77
fi

# shellcheck source=tests/lib.sh
. "$top_srcdir/tests/lib.sh"

C=$T/ceph
cleanup() {
	# Whatever happened, the cluster goes: stop works in any state.
	[ -f "$C/.ceph-cluster" ] && "$CLUSTER" stop "$C" >/dev/null 2>&1
	[ -f "$T/failed/.ceph-cluster" ] && "$CLUSTER" stop "$T/failed" >/dev/null 2>&1
	# No agent ran here: bl_cleanup has nothing to do but remove $T.
	rm -rf "$T"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
ceph_() { timeout 60 ceph -c "$C/ceph.conf" -k "$C/admin.keyring" "$@"; }
pid_of() { cat "$C/pid/$1.pid" 2>/dev/null; }
# ours DIR PID: PID runs (not a zombie) a command line naming DIR/ceph.conf.
ours() {
	local stat
	stat=$(cat "/proc/$2/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat:0:1}" != Z ] || return 1
	tr '\0' ' ' <"/proc/$2/cmdline" 2>/dev/null | grep -qF -- "-c $1/ceph.conf"
}
# daemons_of DIR: pids of every running process whose command line names
# DIR/ceph.conf, recorded or not.
daemons_of() {
	local f p
	for f in /proc/[0-9]*/cmdline; do
		p=${f#/proc/}
		p=${p%/cmdline}
		ours "$1" "$p" && echo "$p"
	done
	return 0
}
rss_total_kib() {
	local n p t=0 r
	for n in $daemons; do
		p=$(pid_of "$n")
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || r=0
		t=$((t + ${r:-0}))
	done
	echo $t
}
daemons="mon.a mgr.x osd.0 osd.1 osd.2 mds.a"

# libcephfs as client.admin: python3 -c on the cluster in $C.
fs_py() {
	"$PY" - "$C" "$@" <<EOF
import cephfs, os, sys, time
d = sys.argv[1]
fs = cephfs.LibCephFS(conffile=d + "/ceph.conf", auth_id="admin",
                      conf={"keyring": d + "/admin.keyring"})
fs.mount(filesystem_name=b"cephfs")
$(cat)
fs.unmount()
fs.shutdown()
EOF
}

# --- a failed start ---------------------------------------------------------
# One second is too short to serve: start fails, stops what it started and
# keeps its logs; stop then removes everything.
out=$(CEPH_CLUSTER_TIMEOUT=1 "$CLUSTER" start "$T/failed" 2>&1)
rc=$?
is "start with a 1 s timeout fails" "$rc" 1
like "it says why and how to clean up" "$out" "not serving after 1s|cluster unreachable"
like "it names stop" "$out" "ceph-cluster.sh stop $T/failed"
is "no daemon of the failed start runs" "$(daemons_of "$T/failed")" ""
check "its logs are kept" test -s "$T/failed/log/ceph-mon.a.log"
out=$("$CLUSTER" stop "$T/failed" 2>&1)
is "stop after a failed start succeeds" "$?" 0
check "and removes the directory" test ! -e "$T/failed"

mkdir "$T/notours"
touch "$T/notours/precious"
out=$("$CLUSTER" stop "$T/notours" 2>&1)
is "stop refuses a directory it did not make" "$?" 1
check "and leaves it alone" test -f "$T/notours/precious"
out=$("$CLUSTER" start "$T/notours" 2>&1)
is "start refuses a directory that is not empty" "$?" 1

# --- start ------------------------------------------------------------------
t0=$(now_ms)
out=$("$CLUSTER" start "$C" 2>&1)
rc=$?
start_ms=$(($(now_ms) - t0))
is "start succeeds" "$rc" 0
if [ $rc -ne 0 ]; then
	printf '%s\n' "$out" | sed 's/^/# /'
	tail -n 20 "$C"/log/*.out 2>/dev/null | sed 's/^/# /'
	tap_done
	exit 1
fi
diag "$out"
diag "start took ${start_ms} ms (load average $(cut -d' ' -f1-3 /proc/loadavg))"
diag "daemons' RSS once serving: $(($(rss_total_kib) / 1024)) MiB in all"
check "ceph.conf written" test -s "$C/ceph.conf"
check "admin.keyring holds client.admin" grep -q '^\[client.admin\]' "$C/admin.keyring"
for n in $daemons; do
	check "$n runs under its recorded pid" ours "$C" "$(pid_of "$n")"
done

st=$(ceph_ -s -f json)
is "ceph -s: HEALTH_OK" "$(jq -r .health.status <<<"$st")" HEALTH_OK
is "ceph -s: 3 OSDs up" "$(jq -r .osdmap.num_up_osds <<<"$st")" 3
is "ceph -s: every PG active+clean" \
	"$(jq -r '[.pgmap.pgs_by_state[] | select(.state_name == "active+clean") | .count] | add == '"$(jq .pgmap.num_pgs <<<"$st")" <<<"$st")" true
is "ceph -s: MDS active" "$(jq -r '.fsmap.by_rank[0].status' <<<"$st")" up:active
fsls=$(ceph_ fs ls -f json)
is "ceph fs ls: cephfs" "$(jq -r '.[0].name' <<<"$fsls")" cephfs
is "ceph fs ls: its data pool" "$(jq -r '.[0].data_pools[0]' <<<"$fsls")" cephfs.data
is "pools have size 3" \
	"$(ceph_ osd pool ls detail -f json | jq -r '[.[] | .size] | unique | join(",")')" 3
# cephx on: a client.admin with another key is refused.
ceph-authtool --create-keyring "$T/wrong.keyring" --gen-key -n client.admin >/dev/null
out=$(timeout 60 ceph -c "$C/ceph.conf" -k "$T/wrong.keyring" --connect-timeout 10 -s 2>&1)
rc=$?
check "cephx on: a wrong key is refused" test $rc -ne 0
like "with a permission error" "$out" "[Pp]ermission denied|EACCES|handle_auth_bad_method|authenticate"

# Loopback only: every socket a daemon listens on.
pids=$(for n in $daemons; do pid_of "$n"; done | paste -sd'|')
listen=$(ss -Hltnp 2>/dev/null | grep -E "pid=($pids)," | awk '{ print $4 }' | sort -u)
like "daemons listen" "$listen" "127\.0\.0\.1:"
is "daemons listen on 127.0.0.1 only" \
	"$(printf '%s\n' "$listen" | grep -vc '^127\.0\.0\.1:')" 0
# Every file a daemon has open lies under the cluster's directory.
outside=$(for n in $daemons; do
	for f in "/proc/$(pid_of "$n")/fd/"*; do readlink "$f"; done 2>/dev/null
done | grep '^/'  | grep -v -e "^$C/" -e '^/dev/' | sort -u)
is "daemons' open files are all under DIR" "$outside" ""

# --- libcephfs --------------------------------------------------------------
got=$(fs_py <<'EOF'
fd = fs.open(b"/hello", "w", 0o644)
fs.write(fd, b"hello from libcephfs\n", 0)
fs.fsync(fd, 0)
fs.close(fd)
fd = fs.open(b"/hello", "r")
sys.stdout.write(fs.read(fd, 0, 100).decode())
fs.close(fd)
EOF
)
is "libcephfs writes and reads a file" "$got" "hello from libcephfs"
got=$(fs_py <<'EOF'
print(fs.stat(b"/hello").st_size)
EOF
)
is "and its size" "$got" 21

# --- kill -9 of one OSD during writes ----------------------------------------
# A writer creates 64 KiB files, fsyncs each and logs it once fsync returned.
cat >"$T/writer.py" <<'EOF'
import cephfs, os, sys, time
d, log, stop = sys.argv[1:4]
fs = cephfs.LibCephFS(conffile=d + "/ceph.conf", auth_id="admin",
                      conf={"keyring": d + "/admin.keyring"})
fs.mount(filesystem_name=b"cephfs")
fs.mkdir(b"/w", 0o755)
i = 0
with open(log, "w") as out:
    while not os.path.exists(stop):
        fd = fs.open(b"/w/f%06d" % i, "w", 0o644)
        fs.write(fd, b"%08d" % i * 8192, 0)
        fs.fsync(fd, 0)
        fs.close(fd)
        out.write("%d %.3f\n" % (i, time.time()))
        out.flush()
        i += 1
fs.unmount()
fs.shutdown()
EOF
acked() { { wc -l <"$T/acked"; } 2>/dev/null || echo 0; }
# wait_acked N SECONDS: until N files are acknowledged.
wait_acked() {
	local i=0
	while [ "$(acked)" -lt "$1" ]; do
		i=$((i + 1))
		[ $i -le $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}
"$PY" "$T/writer.py" "$C" "$T/acked" "$T/stop" 2>"$T/writer.err" &
writer=$!
check "writer under way" wait_acked 10 60
victim=$(pid_of osd.1)
kill -9 "$victim"
t_kill=$(date +%s.%N)
before=$(acked)
diag "osd.1 (pid $victim) killed with SIGKILL after $before fsync'd files"
check "the killed OSD is gone" test "$(ours "$C" "$victim" && echo alive)" = ""
check "writes go on with osd.1 down (20 more files fsync'd)" wait_acked $((before + 20)) 60
# The writer stops here: writing on through the recovery only makes it
# longer (memstore keeps every byte in memory, three times).
touch "$T/stop"
wait "$writer"
is "the writer never failed" "$?" 0
[ -s "$T/writer.err" ] && sed 's/^/# writer: /' "$T/writer.err"
diag "$(acked) files fsync'd in all; longest wait for one after the kill: $(awk -v k="$t_kill" '
	{ if (p && $2 > k && $2 - p > m) m = $2 - p; p = $2 }
	END { printf "%.2f s", m }' "$T/acked")"
down=$(ceph_ osd dump -f json | jq -r '.osds[] | select(.osd == 1) | .up')
is "the mon sees osd.1 down" "$down" 0
# Reads go on too: every file acknowledged so far, read back now.
cp "$T/acked" "$T/acked.down"
bad=$(fs_py "$T/acked.down" <<'EOF'
bad = 0
for line in open(sys.argv[2]):
    i = int(line.split()[0])
    fd = fs.open(b"/w/f%06d" % i, "r")
    if fs.read(fd, 0, 65536) != b"%08d" % i * 8192:
        bad += 1
    fs.close(fd)
print(bad)
EOF
)
is "every acknowledged file reads back with osd.1 down" "$bad" 0

out=$("$CLUSTER" restart "$C" osd.1 2>&1)
is "osd.1 restarts" "$?" 0
t0=$(now_ms)
out=$(CEPH_CLUSTER_TIMEOUT=90 "$CLUSTER" wait "$C" 2>&1)
rc=$?
recover_ms=$(($(now_ms) - t0))
is "all PGs active+clean again after the restart (within 90 s)" "$rc" 0
[ $rc -eq 0 ] || diag "$out"
diag "back to active+clean ${recover_ms} ms after the restart"
bad=$(fs_py "$T/acked" <<'EOF'
bad = 0
for line in open(sys.argv[2]):
    i = int(line.split()[0])
    fd = fs.open(b"/w/f%06d" % i, "r")
    if fs.read(fd, 0, 65536) != b"%08d" % i * 8192:
        bad += 1
    fs.close(fd)
print(bad)
EOF
)
is "nothing acknowledged by fsync is lost" "$bad" 0
is "HEALTH_OK again" "$(ceph_ health)" HEALTH_OK

"$CLUSTER" status "$C" | grep -E 'pid|total' | sed 's/^/# /'
diag "daemons' RSS after the writes: $(($(rss_total_kib) / 1024)) MiB in all"

# --- stop ---------------------------------------------------------------------
recorded=$(for n in $daemons; do pid_of "$n"; done)
t0=$(now_ms)
out=$("$CLUSTER" stop "$C" 2>&1)
rc=$?
stop_ms=$(($(now_ms) - t0))
is "stop succeeds" "$rc" 0
diag "stop took ${stop_ms} ms"
left=
for p in $recorded; do ours "$C" "$p" && left="$left $p"; done
is "no recorded daemon is left" "$left" ""
is "no daemon of the cluster at all is left" "$(daemons_of "$C")" ""
check "DIR is gone" test ! -e "$C"
out=$("$CLUSTER" stop "$C" 2>&1)
is "stop again is harmless" "$?" 0

tap_done
