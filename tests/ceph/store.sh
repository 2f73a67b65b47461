#!/bin/bash
# The ceph store (ceph:FS[/ROOT]) through blctl drive, on a real cluster:
# create, list, get, update and delete; each drive's RADOS namespaces and
# quota; delete refused while another process holds a mount lock (the
# MDS's cluster-wide locks); RWO across holders; the caps a sandbox's
# labels get from the rules (read, read-write, none, ROX, a path grant).
set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
# shellcheck source=tests/lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=tests/ceph/ceph-lib.sh
. "$top_srcdir/tests/ceph/ceph-lib.sh"
HOLD=$top_builddir/tests/ceph/hold-lock

ceph_need
ceph_start

# --- create, get, list --------------------------------------------------------
bctl create x --label env=dev --capacity 1GiB \
	--permission 'team=r:read' --permission 'team=w:read-write:/sub'
is "create_makes_a_drive" "$rc" 0
[ "$rc" = 0 ] || diag "$err"
bctl create x
is "create_twice_exits_1" "$rc" 1
like "create_twice_says_exists" "$err" 'drive "x" already exists in ceph:cephfs/st'
bctl create v --kind volume --size 16MiB
is "create_volume_is_refused" "$rc" 1
like "create_volume_says_why" "$err" 'a ceph store holds no volumes'
bctl get v
is "a_refused_volume_left_nothing" "$rc" 1

bctl --json get x
is "get_succeeds" "$rc" 0
is "get_shows_the_rules" "$(jq -c '[.permissions[] | [.mode, .path]]' <<<"$out")" \
	'[["read","/"],["read-write","/sub"]]'
is "get_shows_the_capacity" "$(jq -r .capacity_bytes <<<"$out")" 1073741824

got=$(admin_py <<'EOF'
import re
dns = fs.getxattr(b"/st/drives/x/data", b"ceph.dir.layout.pool_namespace").decode()
mns = fs.getxattr(b"/st/drives/x", b"ceph.dir.layout.pool_namespace").decode()
q = fs.getxattr(b"/st/drives/x/data", b"ceph.quota.max_bytes").decode()
print("data-ns-ok" if re.fullmatch(r"blagent\.x\.[0-9a-f]{16}", dns) else "data-ns " + dns)
print("meta-ns-ok" if mns == dns + ".meta" else "meta-ns " + mns)
print("quota " + q)
EOF
)
like "data_has_a_namespace_of_its_own" "$got" "data-ns-ok"
like "drive_json_lives_in_the_meta_namespace" "$got" "meta-ns-ok"
like "capacity_is_a_cephfs_quota" "$got" "quota 1073741824"

bctl create y --permission 'team=other'
bctl create rox --access-mode rox --permission 'team=w'
bctl create open
# A drive broken by hand: listed as broken, the listing still succeeds.
admin_py <<'EOF'
fs.mkdir(b"/st/drives/bad", 0o755)
fd = fs.open(b"/st/drives/bad/drive.json", "w", 0o644)
fs.write(fd, b"{not json", 0)
fs.close(fd)
EOF
bctl list
is "list_succeeds_with_a_broken_drive" "$rc" 0
like "list_shows_x" "$out" '^x +x +env=dev +drive +RWX +2 +0$'
like "list_shows_the_broken_one" "$out" '^bad +broken: .*drives/bad/drive.json'
is "list_is_sorted" "$(awk 'NR > 1 { print $1 }' <<<"$out" | paste -sd,)" "bad,open,rox,x,y"

# --- update -----------------------------------------------------------------
bctl update x --display-name "Drive X" --label team=platform --remove-label env
is "update_succeeds" "$rc" 0
bctl --json get x
is "update_display_name_kept" "$(jq -r .display_name <<<"$out")" "Drive X"
is "update_labels_kept" "$(jq -c .labels <<<"$out")" '{"team":"platform"}'
is "update_kept_the_rules" "$(jq '.permissions | length' <<<"$out")" 2
admin_py <<'EOF'
fd = fs.open(b"/st/drives/x/data/f", "w", 0o644)
fs.write(fd, b"x" * 4096, 0)
fs.fsync(fd, 0)
fs.close(fd)
EOF
# rbytes is the MDS's, propagated lazily: wait until it counts the file.
for i in $(seq 50); do
	bctl update x --capacity 1KiB
	[ "$rc" = 1 ] && break
	bctl update x --capacity 2GiB
	sleep 0.2
done
is "update_capacity_below_use_is_refused" "$rc" 1
like "update_capacity_below_use_says_why" "$err" 'below what drive "x" uses now'
bctl update x --capacity 2GiB
got=$(admin_py <<'EOF'
print(fs.getxattr(b"/st/drives/x/data", b"ceph.quota.max_bytes").decode())
EOF
)
is "update_capacity_moves_the_quota" "$got" 2147483648
bctl update x --size 32MiB
is "update_size_of_a_drive_is_refused" "$rc" 1

# --- mount locks, delete -----------------------------------------------------------
# hold NAME SESSION [ro]: a process holding a mount lock until its stdin
# closes (release); sets HOLD_PID, and HOLD_LINE to what it said.
hold() {
	coproc HOLDER { exec "$HOLD" "ceph:$FS/st" "$C/ceph.conf" "$C/admin.keyring" "$@"; }
	HOLD_PID=$HOLDER_PID
	ceph_pids="$ceph_pids $HOLD_PID"
	# Our own copies: bash forgets HOLDER when the holder ends. The
	# originals are closed, or release would never close its stdin.
	exec {HOLD_IN}>&"${HOLDER[1]}" {HOLD_OUT}<&"${HOLDER[0]}"
	eval "exec ${HOLDER[1]}>&- ${HOLDER[0]}<&-"
	HOLD_LINE=
	read -r -t 60 HOLD_LINE <&"$HOLD_OUT"
}
release() {
	exec {HOLD_IN}>&-
	exec {HOLD_OUT}<&-
	wait "$HOLD_PID" 2>/dev/null
}

hold x s1 ro
is "another_process_takes_a_mount_lock" "$HOLD_LINE" held
bctl delete x
is "delete_while_held_exits_1" "$rc" 1
like "delete_while_held_says_busy" "$err" 'drive "x" is mounted \(session s1\)'
bctl get x
like "get_counts_the_mount" "$out" 'mounts: +1'
bctl list
like "list_counts_the_mount" "$out" '^x .* 1$'
release
bctl delete x
is "delete_after_release_succeeds" "$rc" 0
bctl get x
like "the_deleted_drive_is_gone" "$err" 'no such drive "x"'
got=$(admin_py <<'EOF'
d = fs.opendir(b"/st/trash")
n = 0
while True:
    e = fs.readdir(d)
    if e is None:
        break
    n += e.d_name not in (b".", b"..")
fs.closedir(d)
print(n)
EOF
)
is "delete_leaves_nothing_in_trash" "$got" 0

bctl create solo --access-mode rwo
hold solo a1
is "rwo_first_holder_gets_it" "$HOLD_LINE" held
first=$HOLD_PID
first_in=$HOLD_IN
first_out=$HOLD_OUT
got=$("$HOLD" "ceph:$FS/st" "$C/ceph.conf" "$C/admin.keyring" solo a2 </dev/null)
like "rwo_second_holder_is_busy" "$got" 'error .*drive solo is RWO .*mounted already \(session a1\)'
bctl update solo --access-mode rwx
got=$("$HOLD" "ceph:$FS/st" "$C/ceph.conf" "$C/admin.keyring" rox r1 </dev/null)
like "rox_refuses_a_read_write_lock" "$got" 'error .*rox'
HOLD_PID=$first HOLD_IN=$first_in HOLD_OUT=$first_out release

# A holder killed outright (a sandbox that died): the MDS keeps its
# session, its caps and its locks until the session times out (the file
# system's session_timeout, 60 s by default); clients touching what it
# held wait meanwhile, as with any CephFS client. Then delete goes through.
bctl create k
hold k k1
kill -KILL "$HOLD_PID"
wait "$HOLD_PID" 2>/dev/null
exec {HOLD_IN}>&- {HOLD_OUT}<&-
t0=$(date +%s%3N)
until bctl delete k; [ "$rc" = 0 ] || [ $(($(date +%s%3N) - t0)) -gt 240000 ]; do
	diag "delete k after its holder died: ${err:0:160}"
	sleep 1
done
is "delete_goes_through_once_a_dead_holder_is_evicted" "$rc" 0
diag "a dead holder's lock lasted $(($(date +%s%3N) - t0)) ms"

# --- caps -------------------------------------------------------------------------
bctl create x2 --permission 'team=r:read' --permission 'team=w:read-write:/sub'
ns=$(admin_py <<'EOF'
print(fs.getxattr(b"/st/drives/x2/data", b"ceph.dir.layout.pool_namespace").decode())
EOF
)
bctl --json caps --labels team=r
is "caps_succeeds" "$rc" 0
is "caps_read_grant" "$(jq -c '[.grants[] | select(.drive == "x2" or .drive == "open")]' <<<"$out")" \
	'[{"drive":"open","mode":"read-write","path":"/"},{"drive":"x2","mode":"read","path":"/"}]'
like "caps_read_mds_data_is_r" "$(jq -r .caps.mds <<<"$out")" "allow r path=/st/drives/x2/data(,|$)"
like "caps_read_osd_namespace_is_r" "$(jq -r .caps.osd <<<"$out")" "allow r pool=cephfs.data namespace=$ns(,|$)"
like "caps_drive_json_is_r" "$(jq -r .caps.mds <<<"$out")" "allow r path=/st/drives/x2/drive.json"
like "caps_meta_namespace_is_r" "$(jq -r .caps.osd <<<"$out")" "allow r pool=cephfs.data namespace=$ns.meta"
like "caps_mount_locks_are_rw" "$(jq -r .caps.mds <<<"$out")" "allow rw path=/st/drives/x2/mounts"
is "caps_mon_is_r" "$(jq -r .caps.mon <<<"$out")" "allow r"
unlike() { if printf '%s\n' "$2" | grep -Eq -- "$3"; then not_ok "$1: '$3' in '$2'"; else ok "$1"; fi; }
unlike "caps_read_grants_no_rw_on_x2_data" "$(jq -r .caps.mds <<<"$out")" "allow rw path=/st/drives/x2/data"
unlike "caps_read_grants_nothing_of_y" "$out" "drives/y/|blagent\\.y\\."

bctl --json caps --labels team=w
like "caps_rw_path_grant" "$(jq -r .caps.mds <<<"$out")" "allow rw path=/st/drives/x2/data/sub(,|$)"
like "caps_rw_osd_namespace_is_rw" "$(jq -r .caps.osd <<<"$out")" "allow rw pool=cephfs.data namespace=$ns(,|$)"
like "caps_rox_grants_read_only" "$(jq -c '.grants[] | select(.drive == "rox")' <<<"$out")" '"mode":"read"'
like "caps_skips_the_broken_drive" "$(jq -r '.skipped[]' <<<"$out")" '^bad: '

bctl caps --labels team=nobody
is "caps_no_rule_succeeds" "$rc" 0
like "caps_no_rule_grants_only_ruleless_drives" "$out" '# drive open: read-write at /'
unlike "caps_no_rule_grants_no_ruled_drive" "$out" "x2|drives/y/|drives/rox/"

bctl update open --permission 'team=q:read:/a dir'
bctl caps --labels team=q
like "caps_quote_a_path_with_a_blank" "$out" 'allow r path="/st/drives/open/data/a dir"'
bctl caps --labels 'team=q,bad'
is "caps_bad_labels_are_a_usage_error" "$rc" 2

# Only the ceph store has identities; only it takes --ceph-*.
out=$("$BLCTL" drive --store "$T/posix" create p 2>&1)
out=$("$BLCTL" drive --store "$T/posix" caps 2>&1)
rc=$?
is "posix_caps_exits_1" "$rc" 1
like "posix_caps_says_why" "$out" 'is a posix store: its files are guarded by blagent'
out=$("$BLCTL" drive --store "$T/posix" --ceph-id sb list 2>&1)
like "posix_refuses_ceph_options" "$out" '--ceph-id: store .* is a posix store, which takes no such option'

tap_done
