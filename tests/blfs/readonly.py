"""Read-only mounts refuse every write path with EROFS: when the kernel
mount is read-only, and when it is read-write but blfs has --read-only
(blfs refuses on its own). Reads keep working; the store is unchanged."""

import ctypes
import ctypes.util
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blfstest import Mount, Tap, DRIVER, TOP_BUILDDIR, err, open_close, \
    err_as_user, attr_set, require_root_and_fuse  # noqa: E402

require_root_and_fuse()
t = Tap()
RENAMEAT2 = os.path.join(TOP_BUILDDIR, "tests/blfs/renameat2")
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def prepare(m):
    os.makedirs(m.back("dir", "sub"))
    with open(m.back("file"), "wb") as f:
        f.write(b"data")
    os.chmod(m.back("file"), 0o666)
    os.chmod(m.back("dir"), 0o777)
    os.setxattr(m.back("file"), "user.keep", b"k")
    attr_set(m.back("file"), 1000, 1000, 0o666)
    os.symlink("file", m.back("link"))


def snapshot(root):
    """Every name under root with its backing mode, owner, size, mtime and
    user.* attributes: blfs keeps what the workload sees of owners and
    modes in user.blfs.attr, so a chmod or chown would change only that."""
    res = []
    for dp, dns, fns in os.walk(root):
        for n in sorted(dns + fns):
            p = os.path.join(dp, n)
            st = os.lstat(p)
            attrs = () if stat.S_ISLNK(st.st_mode) else tuple(
                (a, os.getxattr(p, a)) for a in sorted(os.listxattr(p)))
            res.append((os.path.relpath(p, root), st.st_mode, st.st_uid,
                        st.st_size, st.st_mtime_ns, attrs))
    return sorted(res)


def copy_range(src, dst):
    a = os.open(src, os.O_RDONLY)
    b = os.open(dst, os.O_RDONLY)
    try:
        os.copy_file_range(a, b, 4)
    finally:
        os.close(a)
        os.close(b)


for kernel_ro, label in ((True, "ro mount"), (False, "rw mount, blfs ro")):
    with Mount(prepare=prepare, ro=kernel_ro, blfs_ro=True) as m:
        p = m.path
        before = snapshot(m.root)
        check = subprocess.run([DRIVER, "check", m.mnt],
                               stdout=subprocess.PIPE, text=True).stdout
        t.eq(check.split()[:3],
             ["ro" if kernel_ro else "rw", "nosuid", "nodev"],
             "%s: mountinfo says %s,nosuid,nodev" %
             (label, "ro" if kernel_ro else "rw"))
        cases = [
            ("create", lambda: open_close(p("new"), os.O_WRONLY | os.O_CREAT)),
            ("open O_WRONLY", lambda: open_close(p("file"), os.O_WRONLY)),
            ("open O_RDWR", lambda: open_close(p("file"), os.O_RDWR)),
            ("open O_RDONLY|O_TRUNC",
             lambda: open_close(p("file"), os.O_RDONLY | os.O_TRUNC)),
            ("truncate", lambda: os.truncate(p("file"), 0)),
            ("chmod", lambda: os.chmod(p("file"), 0o600)),
            ("chown", lambda: os.chown(p("file"), 1000, 1000)),
            ("lchown", lambda: os.lchown(p("link"), 1000, 1000)),
            ("utimes", lambda: os.utime(p("file"), (1, 1))),
            ("utimes now", lambda: os.utime(p("file"), None)),
            ("mkdir", lambda: os.mkdir(p("newdir"))),
            ("rmdir", lambda: os.rmdir(p("dir", "sub"))),
            ("unlink", lambda: os.unlink(p("file"))),
            ("rename", lambda: os.rename(p("file"), p("moved"))),
            ("link", lambda: os.link(p("file"), p("hard"))),
            ("symlink", lambda: os.symlink("x", p("sym"))),
            ("mkfifo", lambda: os.mkfifo(p("fifo"))),
            ("mknod", lambda: os.mknod(p("node"), 0o600 | 0o100000)),
            ("setxattr", lambda: os.setxattr(p("file"), "user.x", b"1")),
            ("removexattr", lambda: os.removexattr(p("file"), "user.keep")),
        ]
        for name, fn in cases:
            t.eq(err(fn), "EROFS", "%s: %s refused with EROFS" % (label,
                                                                   name))
        t.eq(err(copy_range, p("file"), p("file")), "EBADF",
             "%s: no handle to copy_file_range into (EBADF)" % label)
        r = subprocess.run([RENAMEAT2, "exchange", p("file"), p("dir")],
                           stdout=subprocess.PIPE, text=True)
        t.eq(r.stdout.strip(), "EROFS",
             "%s: RENAME_EXCHANGE refused with EROFS" % label)
        t.eq(err_as_user(open_close, p("file"), os.O_WRONLY), "EROFS",
             "%s: uid 1000 writing a 0666 file: EROFS" % label)
        t.eq(err_as_user(open_close, p("dir", "u"), os.O_WRONLY | os.O_CREAT),
             "EROFS", "%s: uid 1000 creating in a 0777 directory: EROFS" %
             label)
        with open(p("file"), "rb") as f:
            t.eq(f.read(), b"data", "%s: reads work" % label)
        t.eq(os.getxattr(p("file"), "user.keep"), b"k",
             "%s: getxattr works" % label)
        t.eq(sorted(os.listdir(p())), ["dir", "file", "link"],
             "%s: readdir works" % label)
        t.eq(snapshot(m.root), before, "%s: the store is unchanged" % label)
        t.ok(m.unmount(), "%s: blfs exits once unmounted" % label)

t.done()
