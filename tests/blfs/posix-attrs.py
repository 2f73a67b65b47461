"""POSIX through blfs: chmod, chown, utimens (UTIME_NOW/OMIT), xattrs,
statfs; each case asserts the errno, as root and as uid 1000."""

import ctypes
import ctypes.util
import os
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blfstest import Mount, Tap, BACKING_FILE, err, as_user, err_as_user, \
    attr_get, backing, require_root_and_fuse  # noqa: E402

require_root_and_fuse()
t = Tap()
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def utimensat(path, atime, mtime, flags=0):
    """(sec, nsec) pairs, or UTIME_NOW / UTIME_OMIT as the nsec."""
    ts = (Timespec * 2)(Timespec(*atime), Timespec(*mtime))
    if libc.utimensat(AT_FDCWD, path.encode(), ts, flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def touch(path, mode=0o644, uid=0, gid=0):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, mode)
    os.close(fd)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


with Mount() as m:
    p = m.path
    os.umask(0)
    os.chmod(m.mnt, 0o755)

    # chmod
    touch(p("f"))
    t.eq(err(os.chmod, p("f"), 0o751), "OK", "chmod")
    t.eq(stat.S_IMODE(os.stat(p("f")).st_mode), 0o751, "the mount shows it")
    t.eq((backing(m.back("f")), attr_get(m.back("f"))),
         (BACKING_FILE, (0, 0, stat.S_IFREG | 0o751)),
         "the store keeps it in user.blfs.attr of a root 0600 file")
    os.chmod(p("f"), 0o4755)
    t.eq(stat.S_IMODE(os.stat(p("f")).st_mode), 0o4755,
         "root may set set-user-id")
    os.mkdir(p("d"), 0o700)
    t.eq(err(os.chmod, p("d"), 0o1777), "OK", "chmod of a directory")
    t.eq(stat.S_IMODE(os.stat(p("d")).st_mode), 0o1777,
         "sticky bit on the directory")
    touch(p("d", "u"), 0o600, 1000, 1000)
    t.eq(err_as_user(os.chmod, p("d", "u"), 0o644), "OK",
         "uid 1000 chmods its own file")
    t.eq(err_as_user(os.chmod, p("f"), 0o777), "EPERM",
         "uid 1000 chmodding root's file: EPERM")
    t.eq(err(os.chmod, p("missing"), 0o600), "ENOENT",
         "chmod of a missing file: ENOENT")
    os.symlink("f", p("sl"))
    t.eq(err(os.chmod, p("sl"), 0o600), "OK", "chmod through a symlink")
    t.eq((stat.S_IMODE(os.stat(p("f")).st_mode), attr_get(m.back("f"))),
         (0o600, (0, 0, stat.S_IFREG | 0o600)),
         "reaches the target in the drive")
    fd = os.open(p("f"), os.O_RDONLY)
    os.fchmod(fd, 0o640)
    os.close(fd)
    t.eq((stat.S_IMODE(os.stat(p("f")).st_mode), attr_get(m.back("f"))),
         (0o640, (0, 0, stat.S_IFREG | 0o640)), "fchmod")

    # chown
    t.eq(err(os.chown, p("f"), 1000, 1000), "OK", "root chowns to 1000")
    st = os.stat(p("f"))
    t.eq((st.st_uid, st.st_gid), (1000, 1000), "the mount shows the owner")
    t.eq((backing(m.back("f")), attr_get(m.back("f"))),
         (BACKING_FILE, (1000, 1000, stat.S_IFREG | 0o640)),
         "the store keeps it in user.blfs.attr, the file stays root's")
    t.eq(err(os.chown, p("f"), -1, 2000), "OK", "chgrp only")
    st = os.stat(p("f"))
    t.eq((st.st_uid, st.st_gid, attr_get(m.back("f"))),
         (1000, 2000, (1000, 2000, stat.S_IFREG | 0o640)),
         "uid kept, gid changed")
    t.eq(err(os.lchown, p("sl"), 1000, 1000), "OK", "lchown of a symlink")
    t.eq((os.lstat(p("sl")).st_uid, attr_get(m.back("sl"))),
         (1000, (1000, 1000, stat.S_IFLNK | 0o777)),
         "the symlink changed owner")
    t.eq((os.stat(p("f")).st_gid, attr_get(m.back("f"))),
         (2000, (1000, 2000, stat.S_IFREG | 0o640)), "its target did not")
    t.eq(err_as_user(os.chown, p("d", "u"), 0, -1), "EPERM",
         "uid 1000 giving its file to root: EPERM")
    t.eq(err_as_user(os.chown, p("d", "u"), -1, 0), "EPERM",
         "uid 1000 chgrp to a group it is not in: EPERM")
    t.eq(err_as_user(os.chown, p("d", "u"), -1, 1000), "OK",
         "uid 1000 chgrp to its own group")
    t.eq(as_user(lambda: os.chown(p("d", "u"), 1000, 1000, ) or 1), 1,
         "uid 1000 chown to itself")
    os.chmod(p("f"), 0o6755)
    os.chown(p("f"), 0, 0)
    t.eq(stat.S_IMODE(os.stat(p("f")).st_mode) & 0o4000, 0,
         "chown clears set-user-id")

    # utimens
    touch(p("t"))
    t.eq(err(os.utime, p("t"), ns=(1000000001, 2000000002)), "OK",
         "utimes with nanoseconds")
    st = os.stat(m.back("t"))
    t.eq((st.st_atime_ns, st.st_mtime_ns), (1000000001, 2000000002),
         "the store has both times exactly")
    utimensat(p("t"), (0, UTIME_OMIT), (5000, 0))
    st = os.stat(m.back("t"))
    t.eq((st.st_atime_ns, st.st_mtime_ns), (1000000001, 5000 * 10**9),
         "UTIME_OMIT leaves atime, mtime set")
    before = time.time() - 2
    utimensat(p("t"), (0, UTIME_NOW), (0, UTIME_OMIT))
    st = os.stat(m.back("t"))
    t.eq((st.st_atime > before, st.st_mtime_ns), (True, 5000 * 10**9),
         "UTIME_NOW sets atime to now, OMIT keeps mtime")
    os.chmod(p("t"), 0o666)
    t.eq(err_as_user(os.utime, p("t"), None), "OK",
         "uid 1000 with write access sets times to now")
    t.eq(err_as_user(os.utime, p("t"), (1, 1)), "EPERM",
         "uid 1000 setting explicit times on root's file: EPERM")
    os.chmod(p("t"), 0o644)
    t.eq(err_as_user(os.utime, p("t"), None), "EACCES",
         "uid 1000 without write access setting now: EACCES")
    os.symlink("t", p("tl"))
    target_mtime = os.stat(m.back("t")).st_mtime_ns
    t.eq(err(utimensat, p("tl"), (7, 0), (8, 0), AT_SYMLINK_NOFOLLOW), "OK",
         "utimensat AT_SYMLINK_NOFOLLOW on a symlink")
    t.eq((os.lstat(m.back("tl")).st_mtime, os.stat(m.back("t")).st_mtime_ns),
         (8.0, target_mtime), "the link's times changed, not the target's")
    fd = os.open(p("t"), os.O_RDWR)
    os.utime(fd, ns=(3 * 10**9, 4 * 10**9))
    os.close(fd)
    t.eq(os.stat(m.back("t")).st_mtime_ns, 4 * 10**9, "futimens")

    # xattrs
    touch(p("x"))
    t.eq(err(os.setxattr, p("x"), "user.a", b"1"), "OK", "setxattr user.a")
    t.eq(os.getxattr(m.back("x"), "user.a"), b"1", "the store has it")
    t.eq(os.getxattr(p("x"), "user.a"), b"1", "getxattr")
    os.setxattr(p("x"), "user.big", b"v" * 4000)
    t.eq(len(os.getxattr(p("x"), "user.big")), 4000, "a 4000-byte value")
    t.eq(sorted(os.listxattr(p("x"))), ["user.a", "user.big"], "listxattr")
    t.eq(err(os.getxattr, p("x"), "user.none"), "ENODATA",
         "getxattr of a missing name: ENODATA")
    t.eq(err(os.setxattr, p("x"), "user.a", b"2", os.XATTR_CREATE),
         "EEXIST", "XATTR_CREATE on an existing name: EEXIST")
    t.eq(err(os.setxattr, p("x"), "user.n", b"2", os.XATTR_REPLACE),
         "ENODATA", "XATTR_REPLACE of a missing name: ENODATA")
    t.eq(err(os.removexattr, p("x"), "user.a"), "OK", "removexattr")
    t.eq(err(os.removexattr, p("x"), "user.a"), "ENODATA",
         "removexattr again: ENODATA")
    t.eq(err(os.setxattr, p("d"), "user.dir", b"d"), "OK",
         "xattr on a directory")
    t.eq(os.getxattr(p("d"), "user.dir"), b"d", "reads back")
    t.eq(err(os.setxattr, p("sl"), "user.l", b"l", follow_symlinks=False),
         "EPERM", "user xattr on a symlink itself: EPERM")
    t.eq(err(os.getxattr, p("sl"), "user.l", follow_symlinks=False),
         "ENODATA", "and none to get: ENODATA")
    t.eq(err(os.listxattr, p("sl"), follow_symlinks=False), "OK",
         "listxattr of a symlink is empty, not an error")
    acl = (b"\x02\0\0\0" + b"\x01\0\x06\0\xff\xff\xff\xff"
           + b"\x04\0\x04\0\xff\xff\xff\xff"
           + b"\x08\0\x07\0\xe8\x03\0\0"
           + b"\x10\0\x07\0\xff\xff\xff\xff"
           + b"\x20\0\x04\0\xff\xff\xff\xff")
    t.ok(err(os.setxattr, p("x"), "system.posix_acl_access", acl)
         in ("EOPNOTSUPP", "EPERM"), "a POSIX ACL is refused")
    t.eq(err(os.getxattr, m.back("x"), "system.posix_acl_access"),
         "ENODATA", "and the store file has no ACL")
    t.eq(err_as_user(os.setxattr, p("x"), "user.u", b"u"), "EACCES",
         "uid 1000 setting an xattr on root's 0644 file: EACCES")
    t.eq(err_as_user(os.setxattr, p("d", "u"), "user.u", b"u"), "OK",
         "uid 1000 sets an xattr on its own file")
    os.mkfifo(p("fifo"))
    t.eq(err(os.getxattr, p("fifo"), "user.f"), "ENODATA",
         "getxattr on a fifo does not block: ENODATA")
    t.eq(err(os.setxattr, p("x"), "trusted.t", b"t"), "EPERM",
         "trusted.* needs CAP_SYS_ADMIN blfs lacks: EPERM")

    # statfs
    a = os.statvfs(p())
    b = os.statvfs(m.root)
    t.eq((a.f_bsize, a.f_blocks, a.f_files), (b.f_bsize, b.f_blocks, b.f_files),
         "statfs reports the store's filesystem")
    t.ok(abs(a.f_bfree - b.f_bfree) < b.f_blocks / 100,
         "free blocks match the store's")
    t.ok(m.unmount(), "blfs exits once unmounted")

t.done()
