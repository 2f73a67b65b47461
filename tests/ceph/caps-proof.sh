#!/bin/bash
# The storage servers hold the rules, off the sandbox: with the keyring
# `blctl drive authorize` wrote for a sandbox whose rule grants read on
# drive x, a libcephfs client of our own (python3-cephfs) cannot create,
# write, truncate, setattr, rename or unlink anything in x, cannot mount
# drive y it has no rule for, and a RADOS client (python3-rados) cannot
# write x's objects nor read any outside x's namespaces. The controls: a
# read-write identity can write x, never x's drive.json; and a rule
# change takes effect when authorize runs again.
set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
# shellcheck source=tests/lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=tests/ceph/ceph-lib.sh
. "$top_srcdir/tests/ceph/ceph-lib.sh"

ceph_need
ceph_start

bctl create x --permission 'team=r:read' --permission 'team=w:read-write'
is "drive_x_created" "$rc" 0
bctl create y --permission 'team=y'
is "drive_y_created" "$rc" 0

# Files the admin puts there, and what the probes need to know of them.
facts=$(admin_py <<'EOF'
import rados
def put(path, data):
    fd = fs.open(path, "w", 0o644)
    fs.write(fd, data, 0)
    fs.fsync(fd, 0)
    fs.close(fd)
put(b"/st/drives/x/data/f", b"hello x\n")
fs.mkdir(b"/st/drives/x/data/d", 0o755)
put(b"/st/drives/y/data/secret", b"y's secret\n")
ns = lambda p: fs.getxattr(p, b"ceph.dir.layout.pool_namespace").decode()
print(ns(b"/st/drives/x/data"), ns(b"/st/drives/y/data"),
      "%x" % fs.stat(b"/st/drives/x/data/f").st_ino,
      "%x" % fs.stat(b"/st/drives/y/data/secret").st_ino,
      "%x" % fs.stat(b"/st/drives/x/drive.json").st_ino)
r = rados.Rados(conffile=d + "/ceph.conf", name="client.admin",
                conf={"keyring": d + "/admin.keyring"})
r.connect(timeout=30)
io = r.open_ioctx("cephfs.data")
io.write_full("blagent-probe", b"in the default namespace\n")
io.close()
r.shutdown()
EOF
)
read -r NSX NSY INOF INOS INOJ <<<"$facts"
check "the_admin_wrote_the_files" test -n "$INOJ"

bctl authorize --id client.sb-r --labels team=r --keyring-out "$T/sb-r.keyring"
is "authorize_read_sandbox" "$rc" 0
[ "$rc" = 0 ] || diag "$err"
is "keyring_is_0600" "$(stat -c %a "$T/sb-r.keyring")" 600
like "keyring_names_the_identity" "$(head -n1 "$T/sb-r.keyring")" '^\[client\.sb-r\]$'
bctl authorize --id client.sb-w --labels team=w --keyring-out "$T/sb-w.keyring"
is "authorize_read_write_sandbox" "$rc" 0

# probe ID MODE: python3-cephfs and python3-rados as client.ID; prints
# PASS/FAIL lines, turned into TAP here.
probe() {
	"$PY" - "$C" "$T/$1.keyring" "$1" "$2" "$NSX" "$NSY" "$INOF" "$INOS" "$INOJ" <<'EOF' 2>&1
import cephfs, errno, rados, sys
d, keyring, ident, mode, nsx, nsy, inof, inos, inoj = sys.argv[1:10]
tag = ident + "_"
DENIED = (errno.EACCES, errno.EPERM)

def say(name, ok, why=""):
    print(("PASS " if ok else "FAIL ") + tag + name + ("" if ok else ": " + why))

def code(e):
    return getattr(e, "errno", None) or (e.args[0] if e.args and isinstance(e.args[0], int) else None)

def denied(name, f):
    try:
        f()
        say(name, False, "it succeeded")
    except (cephfs.Error, rados.Error, OSError) as e:
        say(name, abs(code(e) or 0) in DENIED, "expected EACCES or EPERM, got %r" % (e,))

def works(name, f, want=None):
    try:
        got = f()
        say(name, want is None or got == want, "got %r, expected %r" % (got, want))
    except Exception as e:
        say(name, False, repr(e))

def mount(root):
    fs = cephfs.LibCephFS(conffile=d + "/ceph.conf", auth_id=ident,
                          conf={"keyring": keyring, "client_mount_timeout": "20"})
    fs.mount(mount_root=root, filesystem_name=b"cephfs")
    return fs

def read(fs, path):
    fd = fs.open(path, "r")
    try:
        return fs.read(fd, 0, 100)
    finally:
        fs.close(fd)

def write_new(fs, path):
    fd = fs.open(path, "w", 0o644)
    fs.write(fd, b"written\n", 0)
    fs.fsync(fd, 0)
    fs.close(fd)

fs = mount(b"/st/drives/x/data")
works("reads_x", lambda: read(fs, b"/f"), b"hello x\n")
if mode == "r":
    denied("cannot_create_in_x", lambda: write_new(fs, b"/new"))
    denied("cannot_open_x_for_write", lambda: fs.open(b"/f", "r+"))
    denied("cannot_truncate_in_x", lambda: fs.truncate(b"/f", 0))
    denied("cannot_chmod_in_x", lambda: fs.chmod(b"/f", 0o600))
    denied("cannot_chown_in_x", lambda: fs.chown(b"/f", 1000, 1000))
    denied("cannot_setxattr_in_x", lambda: fs.setxattr(b"/f", b"user.k", b"v", 0))
    denied("cannot_unlink_in_x", lambda: fs.unlink(b"/f"))
    denied("cannot_rename_in_x", lambda: fs.rename(b"/f", b"/g"))
    denied("cannot_mkdir_in_x", lambda: fs.mkdir(b"/e", 0o755))
    denied("cannot_rmdir_in_x", lambda: fs.rmdir(b"/d"))
    works("x_is_unchanged", lambda: read(fs, b"/f"), b"hello x\n")
else:
    works("creates_in_x", lambda: write_new(fs, b"/new"))
    works("truncates_in_x", lambda: fs.truncate(b"/new", 3))
    works("chmods_in_x", lambda: fs.chmod(b"/new", 0o600))
    works("unlinks_in_x", lambda: fs.unlink(b"/new"))
# Layouts are the admin's: no identity moves x's files elsewhere.
denied("cannot_change_x_namespace", lambda: fs.setxattr(b"/d",
       b"ceph.dir.layout.pool_namespace", nsy.encode(), 0))
fs.unmount()
fs.shutdown()

for root in (b"/st/drives/y/data", b"/st/drives/y", b"/st", b"/"):
    denied("cannot_mount_" + (root.decode().strip("/").replace("/", "_") or "root"),
           lambda root=root: mount(root))
fs = mount(b"/st/drives/x/drive.json")
works("reads_x_drive_json", lambda: read(fs, b"/")[:9], b'{\n  "name')
fs.unmount()
fs.shutdown()

r = rados.Rados(conffile=d + "/ceph.conf", name="client." + ident,
                conf={"keyring": keyring})
r.connect(timeout=20)
io = r.open_ioctx("cephfs.data")
io.set_namespace(nsx)
works("rados_reads_x_objects", lambda: io.read(inof + ".00000000"), b"hello x\n")
if mode == "r":
    denied("rados_cannot_write_x_objects", lambda: io.write_full(inof + ".00000000", b"evil\n"))
    denied("rados_cannot_remove_x_objects", lambda: io.remove_object(inof + ".00000000"))
    denied("rados_cannot_create_x_objects", lambda: io.write_full("planted", b"evil\n"))
else:
    works("rados_writes_x_objects", lambda: io.write_full("planted", b"ok\n"))
    works("rados_removes_what_it_wrote", lambda: io.remove_object("planted"))
io.set_namespace(nsx + ".meta")
works("rados_reads_x_drive_json", lambda: io.read(inoj + ".00000000")[:9], b'{\n  "name')
denied("rados_cannot_write_x_drive_json", lambda: io.write_full(inoj + ".00000000", b"{}"))
io.set_namespace(nsy)
denied("rados_cannot_read_y_objects", lambda: io.read(inos + ".00000000"))
# Listing is not refused, but the OSDs list nothing the caps do not grant.
works("rados_lists_nothing_of_y", lambda: [o.key for o in io.list_objects()], [])
io.set_namespace("")
denied("rados_cannot_read_the_default_namespace", lambda: io.read("blagent-probe"))
io.set_namespace(rados.LIBRADOS_ALL_NSPACES)
works("rados_lists_nothing_outside_x", lambda: [(o.nspace, o.key)
      for o in io.list_objects() if o.nspace not in (nsx, nsx + ".meta")], [])
io.close()
denied("rados_cannot_open_the_metadata_pool",
       lambda: r.open_ioctx("cephfs.meta").read("1.00000000"))
r.shutdown()
EOF
}

tap_probe() {
	local line
	while IFS= read -r line; do
		case $line in
		PASS\ *) ok "${line#PASS }" ;;
		FAIL\ *) not_ok "${line#FAIL }" ;;
		*) diag "$line" ;;
		esac
	done
}

tap_probe < <(probe sb-r r)
tap_probe < <(probe sb-w rw)

# A rule change reaches the servers when authorize runs again.
bctl update x --permission 'team=r:read-write'
bctl authorize --id client.sb-r --labels team=r --keyring-out "$T/sb-r.keyring"
is "authorize_again_after_a_rule_change" "$rc" 0
like "the_new_caps_grant_rw" "$out" "allow rw pool=cephfs.data namespace=$NSX(\"|,)"
got=$("$PY" - "$C" "$T/sb-r.keyring" <<'EOF' 2>&1
import cephfs, sys
d, keyring = sys.argv[1:3]
fs = cephfs.LibCephFS(conffile=d + "/ceph.conf", auth_id="sb-r",
                      conf={"keyring": keyring, "client_mount_timeout": "20"})
fs.mount(mount_root=b"/st/drives/x/data", filesystem_name=b"cephfs")
fd = fs.open(b"/after-rule-change", "w", 0o644)
fs.write(fd, b"ok\n", 0)
fs.fsync(fd, 0)
fs.close(fd)
print("wrote")
EOF
)
is "a_new_session_writes_after_the_change" "$got" wrote

tap_done
