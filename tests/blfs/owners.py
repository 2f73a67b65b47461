"""Owners, modes and types kept in user.blfs.attr: blfs holds no
capability, so every backing object it makes is root's with a canonical
mode (0600 files, 0700 directories) and what the workload sees lives in
the attribute. Each case looks at both sides: what the mount shows, and
what the store holds."""

import ctypes
import ctypes.util
import os
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blfstest import Mount, Tap, write_file, read_file, DRIVER, ATTR, BACKING_FILE, BACKING_DIR, \
    err, as_user, err_as_user, attr_get, attr_set, backing, shown, \
    require_root_and_fuse  # noqa: E402

require_root_and_fuse()
t = Tap()
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.syscall.restype = ctypes.c_long
DT = {1: "fifo", 2: "chr", 4: "dir", 6: "blk", 8: "reg", 10: "lnk",
      12: "sock", 0: "unknown"}


def dtypes(path):
    """{name: d_type} from getdents64 itself: what a plain readdir (ls
    without -l, find -type) is told, with no stat behind it."""
    nr = {"x86_64": 217, "aarch64": 61}[os.uname().machine]
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    buf = ctypes.create_string_buffer(1 << 16)
    out = {}
    try:
        while True:
            n = libc.syscall(ctypes.c_long(nr), ctypes.c_int(fd), buf,
                             ctypes.c_size_t(len(buf)))
            if n < 0:
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e))
            if n == 0:
                break
            raw, off = buf.raw[:n], 0
            while off < n:
                reclen, dtype = struct.unpack_from("=HB", raw, off + 16)
                name = raw[off + 19:off + reclen].split(b"\0", 1)[0]
                out[name.decode()] = DT.get(dtype, dtype)
                off += reclen
    finally:
        os.close(fd)
    return out


def find(path, kind):
    r = subprocess.run(["find", path, "-mindepth", "1", "-maxdepth", "1",
                        "-type", kind, "-printf", "%f\n"],
                       stdout=subprocess.PIPE, text=True, check=True)
    return sorted(r.stdout.split())


get = read_file


def put(path, data=b"", mode=0o644):
    write_file(path, data, mode=mode)


os.umask(0)
REG, DIR, LNK = stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK
FIFO, SOCK = stat.S_IFIFO, stat.S_IFSOCK

# --- what uid 1000 makes ---------------------------------------------------
with Mount() as m:
    p, b = m.path, m.back
    os.chmod(m.mnt, 0o755)
    os.mkdir(p("home"), 0o755)
    os.chown(p("home"), 1000, 1000)

    def make():
        write_file(p("home", "file"), b"data", mode=0o640)
        os.mkdir(p("home", "dir"), 0o750)
        os.symlink("../home/file", p("home", "link"))
        os.mkfifo(p("home", "fifo"), 0o620)
        s = socket.socket(socket.AF_UNIX)
        s.bind(p("home", "sock"))
        s.close()
        return "made"
    t.eq(as_user(make), "made",
         "uid 1000 makes a file, directory, symlink, FIFO and socket")
    want = {"file": (REG | 0o640, BACKING_FILE),
            "dir": (DIR | 0o750, BACKING_DIR),
            "link": (LNK | 0o777, BACKING_FILE),
            "fifo": (FIFO | 0o620, BACKING_FILE),
            "sock": (SOCK | 0o777, BACKING_FILE)}
    for name, (mode, form) in sorted(want.items()):
        t.eq(shown(p("home", name)), (1000, 1000, mode),
             "%s: the mount shows uid/gid 1000 and mode %o" % (name, mode))
        t.eq((backing(b("home", name)), attr_get(b("home", name))),
             (form, (1000, 1000, mode)),
             "%s: the store has a root %s %o, owner, type and mode in %s"
             % (name, "directory" if form == BACKING_DIR else "regular file",
                form[3], ATTR))

    # Symlinks: target, size, following, and what readdir says.
    t.eq(os.readlink(p("home", "link")), "../home/file", "readlink")
    t.eq(os.lstat(p("home", "link")).st_size, len("../home/file"),
         "st_size of a symlink is the length of its target")
    t.eq(read_file(b("home", "link")), b"../home/file",
         "the backing file holds the target")
    t.eq(read_file(p("home", "link")), b"data", "opening the symlink follows it")
    t.eq(err(os.open, p("home", "link"), os.O_RDONLY | os.O_NOFOLLOW),
         "ELOOP", "O_NOFOLLOW on it: ELOOP (it is a symlink to the kernel)")
    t.eq(dtypes(p("home")),
         {".": "dir", "..": "dir", "file": "reg", "dir": "dir",
          "link": "lnk", "fifo": "fifo", "sock": "sock"},
         "getdents64 gives each its presented type in d_type")
    t.eq((find(p("home"), "l"), find(p("home"), "p"), find(p("home"), "s"),
          find(p("home"), "f")), (["link"], ["fifo"], ["sock"], ["file"]),
         "find -type l, p, s, f")
    with os.scandir(p("home")) as it:
        links = sorted(e.name for e in it if e.is_symlink())
    t.eq(links, ["link"], "os.scandir: the symlink is a symlink")
    t.eq(err(os.link, p("home", "link"), p("home", "hard"),
             follow_symlinks=False), "OK", "a hard link to the symlink")
    t.eq((shown(p("home", "hard"))[2], os.readlink(p("home", "hard"))),
         (LNK | 0o777, "../home/file"), "is the same symlink")
    os.rename(p("home", "hard"), p("home", "moved"))
    t.eq(os.readlink(p("home", "moved")), "../home/file",
         "a renamed symlink stays one")

    # FIFOs and sockets work on the mount (the kernel keeps them there).
    fd = os.open(p("home", "fifo"), os.O_RDWR | os.O_NONBLOCK)
    os.write(fd, b"pipe")
    t.eq(os.read(fd, 16), b"pipe", "the FIFO carries data")
    os.close(fd)
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(p("rootsock"))
    srv.listen(1)
    cli = socket.socket(socket.AF_UNIX)
    t.eq(err(cli.connect, p("rootsock")), "OK",
         "a socket bound on the mount takes a connection")
    cli.close()
    srv.close()
    t.eq(stat.S_IFMT(shown(p("rootsock"))[2]), SOCK,
         "and is shown as a socket")

    # lchown of a symlink by root, and the target keeps its owner.
    t.eq(err(os.lchown, p("home", "link"), 2000, 2001), "OK",
         "root lchowns a symlink")
    t.eq((shown(p("home", "link")), attr_get(b("home", "link"))),
         ((2000, 2001, LNK | 0o777),) * 2, "it shows, and the store has it")
    t.eq(shown(p("home", "file")), (1000, 1000, REG | 0o640),
         "its target keeps its owner")
    t.eq(backing(b("home", "link")), BACKING_FILE,
         "the backing file is still root's 0600")

    # chown clears set-id bits of anything but a directory.
    cases = (("s-ugx", REG, 0o6755, 0o755, "set-user-id and set-group-id "
              "(group may execute)"),
             ("s-ug", REG, 0o6745, 0o2745, "set-user-id only, set-group-id "
              "without group execute stays"),
             ("s-dir", DIR, 0o6755, 0o6755, "nothing on a directory"))
    for name, kind, before, after, what in cases:
        if kind == DIR:
            os.mkdir(p(name))
        else:
            write_file(p(name), b"#!/bin/sh\n")
        os.chmod(p(name), before)
        if kind == REG:
            t.eq(backing(b(name)), BACKING_FILE,
                 "%s: no set-id bit ever on the backing file" % name)
        os.chown(p(name), 1000, 1000)
        t.eq((oct(shown(p(name))[2]), oct(attr_get(b(name))[2])),
             (oct(kind | after),) * 2, "%s: chown by root clears %s"
             % (name, what))
    write_file(p("s-chgrp"), b"x")
    os.chmod(p("s-chgrp"), 0o6755)
    os.chown(p("s-chgrp"), -1, 50)
    t.eq(oct(shown(p("s-chgrp"))[2]), oct(REG | 0o755),
         "a change of group alone clears them too")

    # A write by uid 1000 to its own set-user-id file clears the bit.
    t.eq(err_as_user(put, p("home", "suid"), b"", 0o4755), "OK",
         "uid 1000 makes a set-user-id file of its own")
    t.eq(oct(shown(p("home", "suid"))[2]), oct(REG | 0o4755), "it shows so")

    def append():
        fd = os.open(p("home", "suid"), os.O_WRONLY | os.O_APPEND)
        os.write(fd, b"more")
        os.close(fd)
    as_user(append)
    t.eq((oct(shown(p("home", "suid"))[2]),
          oct(attr_get(b("home", "suid"))[2])), (oct(REG | 0o755),) * 2,
         "its write clears set-user-id, in the store too")

    # A set-group-id directory hands its group on.
    os.mkdir(p("sgid"))
    os.chown(p("sgid"), 0, 50)
    os.chmod(p("sgid"), 0o2777)
    as_user(lambda: write_file(p("sgid", "f"), b"", mode=0o644))
    as_user(lambda: os.mkdir(p("sgid", "sub"), 0o755))
    as_user(lambda: write_file(p("sgid", "x"), b"", mode=0o2755))
    t.eq(shown(p("sgid", "f")), (1000, 50, REG | 0o644),
         "a new file takes the set-group-id directory's group")
    t.eq(shown(p("sgid", "sub")), (1000, 50, DIR | 0o2755),
         "a new subdirectory takes the group and the set-group-id bit")
    t.eq((backing(b("sgid", "sub")), attr_get(b("sgid", "sub"))),
         (BACKING_DIR, (1000, 50, DIR | 0o2755)),
         "on disk the subdirectory is root's 0700, the bit in the attribute")
    t.eq(shown(p("sgid", "x")), (1000, 50, REG | 0o755),
         "set-group-id asked by a non-member is dropped")

    # The workload never reaches user.blfs.*; other user.* work.
    f = p("home", "file")
    os.setxattr(b("home", "file"), "user.blfs.other", b"x")
    before = (shown(f), attr_get(b("home", "file")))
    t.eq(err(os.getxattr, f, ATTR), "ENODATA",
         "root cannot read user.blfs.attr through the mount: ENODATA")
    t.eq(err_as_user(os.getxattr, f, ATTR), "ENODATA",
         "nor can the file's owner")
    t.eq(err(os.getxattr, f, "user.blfs.other"), "ENODATA",
         "nor another user.blfs.* name set in the store")
    t.eq(err(os.setxattr, f, ATTR, b"0 0 104777"), "EPERM",
         "root setting it: EPERM")
    t.eq(err_as_user(os.setxattr, f, ATTR, b"1000 1000 104755"), "EPERM",
         "the owner setting it: EPERM")
    t.eq(err(os.setxattr, f, "user.blfs.new", b"x"), "EPERM",
         "setting another user.blfs.* name: EPERM")
    t.eq(err(os.removexattr, f, ATTR), "EPERM", "removing it: EPERM")
    t.eq(err(os.removexattr, f, "user.blfs.other"), "EPERM",
         "removing another user.blfs.* name: EPERM")
    t.eq(err(os.getxattr, p("home", "dir"), ATTR), "ENODATA",
         "on a directory: ENODATA")
    t.eq(err(os.setxattr, p("home", "dir"), ATTR, b"0 0 40777"), "EPERM",
         "on a directory: EPERM")
    t.eq(err_as_user(os.setxattr, f, "user.note", b"n"), "OK",
         "an ordinary user.* attribute can be set")
    t.eq(as_user(lambda: os.getxattr(f, "user.note")), b"n",
         "and read back")
    t.eq(sorted(os.listxattr(f)), ["user.note"],
         "listxattr names it, and no user.blfs.* one")
    t.eq(err_as_user(os.removexattr, f, "user.note"), "OK", "and removed")
    t.eq((shown(f), attr_get(b("home", "file"))), before,
         "owner and mode untouched by all of it")
    t.eq(os.getxattr(b("home", "file"), "user.blfs.other"), b"x",
         "the store's user.blfs.other untouched too")
    t.ok(m.unmount(), "blfs exits once unmounted")

# --- across an unmount: the attribute, not blfs's memory -------------------
m1 = Mount()
try:
    p = m1.path
    write_file(p("x"), b"x")
    os.chmod(p("x"), 0o640)
    os.chown(p("x"), 1000, 50)
    os.mkdir(p("d"))
    os.chown(p("d"), 1000, 1000)
    os.chmod(p("d"), 0o2750)
    os.symlink("x", p("l"))
    os.lchown(p("l"), 1000, 1000)
    os.mkfifo(p("q"), 0o600)
    os.chown(p("q"), 2000, 2000)
    seen = [shown(p(n)) for n in ("x", "d", "l", "q")]
    t.eq(seen, [(1000, 50, REG | 0o640), (1000, 1000, DIR | 0o2750),
                (1000, 1000, LNK | 0o777), (2000, 2000, FIFO | 0o600)],
         "chmod and chown show on the first mount")
    t.ok(m1.unmount(), "the first blfs exits")
    with Mount(tmp=m1.tmp) as m2:
        t.eq([shown(m2.path(n)) for n in ("x", "d", "l", "q")], seen,
             "a new blfs on the same store shows the same owners and modes")
        t.eq(os.readlink(m2.path("l")), "x", "and the symlink's target")
finally:
    m1.cleanup()

# --- device nodes: inert entries ---------------------------------------------
# mknod of a block or character device by root (CAP_MKNOD) makes a backing
# regular file like a FIFO's, type and number in the attribute. The mount
# is nodev, so the kernel refuses to open one as a device before blfs is
# asked, exactly as on any nodev mount: a tmpfs mounted nodev shows what.
CHR, BLK = stat.S_IFCHR, stat.S_IFBLK


def open_close_fd(path, flags):
    os.close(os.open(path, flags))


def nodev_open_errors():
    """The errno of opening a character and a block device node on a
    native nodev mount, for reading and for writing."""
    tmp = tempfile.mkdtemp(prefix="blfs-nodev-")
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "nodev", "none", tmp],
                       check=True)
        try:
            os.mknod(os.path.join(tmp, "c"), CHR | 0o666, os.makedev(1, 3))
            os.mknod(os.path.join(tmp, "b"), BLK | 0o666, os.makedev(7, 0))
            return [err(open_close_fd, os.path.join(tmp, n), fl)
                    for n in ("c", "b") for fl in (os.O_RDONLY, os.O_WRONLY)]
        finally:
            subprocess.run(["umount", "-l", tmp])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rdev(path):
    st = os.lstat(path)
    return (stat.S_IFMT(st.st_mode), os.major(st.st_rdev),
            os.minor(st.st_rdev))


native = nodev_open_errors()
t.eq(native, ["EACCES"] * 4,
     "on a native nodev mount, opening a device node fails with EACCES")
d1 = Mount()
try:
    p, b = d1.path, d1.back
    os.chmod(d1.mnt, 0o755)
    t.eq(err(os.mknod, p("null"), CHR | 0o666, os.makedev(1, 3)), "OK",
         "root mknods a character device 1:3")
    t.eq(err(os.mknod, p("disk"), BLK | 0o660, os.makedev(8, 16)), "OK",
         "and a block device 8:16")
    t.eq(err(os.mknod, p("big"), CHR | 0o600,
             os.makedev(4095, 1048575)), "OK",
         "and a character device of the largest number Linux holds")
    t.eq([rdev(p(n)) for n in ("null", "disk", "big")],
         [(CHR, 1, 3), (BLK, 8, 16), (CHR, 4095, 1048575)],
         "stat shows each one's type and number")
    t.eq([shown(p(n)) for n in ("null", "disk")],
         [(0, 0, CHR | 0o666), (0, 0, BLK | 0o660)],
         "and the mode asked for, root's")
    t.eq([(backing(b(n)), os.getxattr(b(n), ATTR))
          for n in ("null", "disk")],
         [(BACKING_FILE, b"0 0 20666 1:3"), (BACKING_FILE, b"0 0 60660 8:16")],
         "the store has root 0600 regular files, type and number in %s"
         % ATTR)
    t.eq([err(open_close_fd, p(n), fl) for n in ("null", "disk")
          for fl in (os.O_RDONLY, os.O_WRONLY)], native,
         "opening them fails as on a native nodev mount (%s)" % native[0])
    t.eq(read_file(b("null")), b"", "the backing files stay empty")
    t.eq(err(open_close_fd, p("null"), os.O_PATH), "OK",
         "an O_PATH open works, as anywhere")
    t.eq(err(os.mknod, p("null"), CHR | 0o666, os.makedev(1, 3)), "EEXIST",
         "mknod onto an existing name: EEXIST")
    os.mkdir(p("tmp"), 0o1777)
    t.eq(err_as_user(os.mknod, p("tmp", "nope"), CHR | 0o666,
                     os.makedev(1, 3)), "EPERM",
         "uid 1000 (no CAP_MKNOD) may not make one, even where it may "
         "write: EPERM")
    os.rmdir(p("tmp"))
    t.eq(dtypes(d1.mnt), {".": "dir", "..": "dir", "null": "chr",
                          "disk": "blk", "big": "chr"},
         "getdents64 gives them d_type chr and blk")
    t.eq((find(d1.mnt, "c"), find(d1.mnt, "b")), (["big", "null"], ["disk"]),
         "find -type c, b")
    with os.scandir(d1.mnt) as it:
        kinds = sorted((e.name, stat.S_IFMT(e.stat(follow_symlinks=False)
                                            .st_mode)) for e in it)
    t.eq(kinds, [("big", CHR), ("disk", BLK), ("null", CHR)],
         "os.scandir stats them right")

    os.rename(p("null"), p("zero"))
    t.eq((os.path.lexists(p("null")), rdev(p("zero"))), (False, (CHR, 1, 3)),
         "rename: the node keeps its type and number")
    os.chmod(p("zero"), 0o640)
    os.chown(p("zero"), 1000, 50)
    t.eq((shown(p("zero")), rdev(p("zero")), os.getxattr(b("zero"), ATTR),
          backing(b("zero"))),
         ((1000, 50, CHR | 0o640), (CHR, 1, 3), b"1000 50 20640 1:3",
          BACKING_FILE),
         "chmod and chown: shown and stored, the number kept")
    os.chmod(p("disk"), 0o6660)
    os.chown(p("disk"), 6, 6)
    t.eq(shown(p("disk")), (6, 6, BLK | 0o2660),
         "chown clears set-user-id from a device node as from a file")
    t.eq(os.getxattr(b("disk"), ATTR), b"6 6 62660 8:16",
         "and the stored number is still there")
    t.eq(err(os.link, p("zero"), p("zero2")), "OK", "a hard link to it")
    t.eq((rdev(p("zero2")), os.lstat(p("zero")).st_nlink), ((CHR, 1, 3), 2),
         "is the same node")
    t.eq(err(os.unlink, p("zero2")), "OK", "unlink of one name")
    t.eq(err(os.unlink, p("big")), "OK", "unlink of a device node")
    t.eq((os.path.lexists(p("big")), os.path.lexists(b("big"))),
         (False, False), "gone from the mount and the store")
    t.ok(d1.unmount(), "blfs exits once unmounted")
    with Mount(tmp=d1.tmp) as d2:
        t.eq([(shown(d2.path(n)), rdev(d2.path(n))) for n in ("zero", "disk")],
             [((1000, 50, CHR | 0o640), (CHR, 1, 3)),
              ((6, 6, BLK | 0o2660), (BLK, 8, 16))],
             "a new blfs on the same store shows the same nodes")
finally:
    d1.cleanup()

# A value written before device numbers were stored: a device type alone
# is the device 0:0, and older values read as they always did.
def prepare_old(m):
    write_file(m.back("old-chr"), b"", mode=0o600)
    os.setxattr(m.back("old-chr"), ATTR, b"0 0 20644")
    write_file(m.back("old-file"), b"x", mode=0o600)
    os.setxattr(m.back("old-file"), ATTR, b"1000 1000 100644")


with Mount(prepare=prepare_old) as m:
    t.eq((rdev(m.path("old-chr")), shown(m.path("old-file"))),
         ((CHR, 0, 0), (1000, 1000, REG | 0o644)),
         "a device type without a number is 0:0; a file's value is as ever")

# --- from outside: legacy files, seeded files, bad attributes ---------------
BAD = (b"garbage", b"1000 1000", b"1000 1000 99", b"1000 1000 0644 x",
       b"1000  1000 0644", b"-1 0 0644", b"4294967295 0 0644",
       b"1000 1000 040755", b"1000 1000 1000644", b" 1000 1000 0644")


def prepare(m):
    b = m.back
    write_file(b("legacy"), b"old", mode=0o644)
    os.chmod(b("legacy"), 0o644)
    os.mkdir(b("legacy-dir"), 0o755)
    write_file(b("seeded"), b"seed", mode=0o600)
    attr_set(b("seeded"), 1000, 1000, 0o644)
    write_file(b("seeded-link"), b"seeded", mode=0o600)
    attr_set(b("seeded-link"), 0, 0, LNK | 0o777)
    write_file(b("theirs"), b"private", mode=0o600)
    os.chown(b("theirs"), 1000, 1000)
    write_file(b("theirs-open"), b"open", mode=0o666)
    os.chmod(b("theirs-open"), 0o666)
    os.chown(b("theirs-open"), 1000, 1000)
    os.mkfifo(b("legacy-fifo"), 0o644)
    os.symlink("legacy", b("legacy-link"))
    os.chmod(b("legacy-fifo"), 0o644)
    for i, v in enumerate(BAD):
        write_file(b("bad%d" % i), b"", mode=0o644)
        os.chmod(b("bad%d" % i), 0o644)
        os.setxattr(b("bad%d" % i), ATTR, v)
    os.mkdir(b("bad-dir"), 0o755)
    os.chmod(b("bad-dir"), 0o755)
    os.setxattr(b("bad-dir"), ATTR, b"0 0 120777")


with Mount(prepare=prepare, args=["--cache-size=0"]) as m:
    p, b = m.path, m.back
    os.chmod(m.mnt, 0o755)
    t.eq((shown(p("legacy")), attr_get(b("legacy"))),
         ((0, 0, REG | 0o644), None),
         "a file put in the store shows as it is: root 0644, no attribute")
    t.eq(err(put, p("legacy"), b"new", 0o644), "OK",
         "root writes it through the mount")
    t.eq((read_file(b("legacy")), shown(p("legacy")), attr_get(b("legacy"))),
         (b"new", (0, 0, REG | 0o644), None),
         "the data lands, owner and mode as before")
    t.eq(err_as_user(put, p("legacy"), b"x"), "EACCES",
         "uid 1000 may not write root's 0644 file: EACCES")
    t.eq(err(put, p("legacy-dir", "new"), b"n"), "OK",
         "root creates in a directory put in the store")
    t.eq((backing(b("legacy-dir", "new")), attr_get(b("legacy-dir")),
          backing(b("legacy-dir"))),
         (BACKING_FILE, None, (0, 0, DIR, 0o755)),
         "the new file is blfs's, the directory left as it was")
    os.chmod(p("legacy"), 0o640)
    t.eq((shown(p("legacy")), backing(b("legacy")), attr_get(b("legacy"))),
         ((0, 0, REG | 0o640), BACKING_FILE, (0, 0, REG | 0o640)),
         "its first chmod gives it the attribute and the backing mode 0600")

    t.eq(shown(p("seeded")), (1000, 1000, REG | 0o644),
         "a file seeded with user.blfs.attr \"1000 1000 0644\" is uid 1000's")
    t.eq(err_as_user(put, p("seeded"), b"mine", 0o644), "OK",
         "uid 1000 writes it")
    t.eq(as_user(lambda: err(put, p("seeded"), b"x"), uid=2000, gid=2000),
         "EACCES", "uid 2000 may not: EACCES")
    t.eq(as_user(lambda: read_file(p("seeded")), uid=2000, gid=2000), b"mine",
         "uid 2000 reads it (0644)")
    t.eq((shown(p("seeded-link")), os.readlink(p("seeded-link"))),
         ((0, 0, LNK | 0o777), "seeded"),
         "a regular file seeded with type 120777 is a symlink")

    t.eq(shown(p("theirs")), (1000, 1000, REG | 0o600),
         "a backing file chowned to uid 1000 shows uid 1000")
    hint = "blctl drive adopt"
    t.ok(hint not in read_file(m.log).decode(),
         "no hint in blfs's log while only the kernel refused")
    t.eq(err(get, p("theirs")), "EACCES",
         "and blfs cannot open it (0600, no CAP_DAC_OVERRIDE): EACCES")
    t.ok(hint in read_file(m.log).decode(),
         "blfs's log says what to do about it: blctl drive adopt")
    t.eq(read_file(p("theirs-open")), b"open",
         "a backing file of uid 1000 with mode 0666 it can")
    # blfs could write its attribute but not give it the backing mode: it
    # must not change half (blfs.8: EPERM, nothing changed).
    r = err(os.chmod, p("theirs-open"), 0o600)
    t.eq((r, shown(p("theirs-open")), attr_get(b("theirs-open"))),
         ("EPERM", (1000, 1000, REG | 0o666), None),
         "chmod of it: EPERM, and nothing changes")
    # A symlink or FIFO put there can carry no user.* attribute, and blfs
    # cannot chown or chmod what is not its own (blfs.8): EPERM, nothing
    # changed.
    t.eq((err(os.chmod, p("legacy-fifo"), 0o600),
          err(os.chown, p("legacy-fifo"), 1000, 1000),
          shown(p("legacy-fifo")), backing(b("legacy-fifo"))),
         ("EPERM", "EPERM", (0, 0, FIFO | 0o644), (0, 0, FIFO, 0o644)),
         "chmod and chown of a FIFO put in the store: EPERM, nothing changed")
    t.eq((err(os.lchown, p("legacy-link"), 1000, 1000),
          shown(p("legacy-link"))[:2], os.lstat(b("legacy-link")).st_uid),
         ("EPERM", (0, 0), 0),
         "lchown of a symlink put in the store: EPERM, nothing changed")

    for i, v in enumerate(BAD):
        t.eq(shown(p("bad%d" % i)), (0, 0, REG | 0o644),
             "a bad attribute %r is ignored: the backing root 0644 shows" % v)
    t.eq(shown(p("bad-dir")), (0, 0, DIR | 0o755),
         "a symlink type on a backing directory is ignored")
    t.ok(m.unmount(), "blfs exits once unmounted")

# --- a store without user extended attributes -------------------------------
# ramfs keeps none (tmpfs does since Linux 6.6): blfs must refuse it, and
# the same layout on tmpfs mounts, so the refusal is about the attributes.
for fstype, works in (("tmpfs", True), ("ramfs", False)):
    tmp = tempfile.mkdtemp(prefix="blfs-test-")
    os.chmod(tmp, 0o755)
    store, mnt = os.path.join(tmp, "store"), os.path.join(tmp, "mnt")
    os.mkdir(store)
    os.mkdir(mnt)
    try:
        subprocess.run(["mount", "-t", fstype, "none", store], check=True)
        os.mkdir(os.path.join(store, "drive"))
        # blfs's own stderr to a file: the pipe would stay open with it.
        r = subprocess.run([DRIVER, "mount", "--log",
                            os.path.join(tmp, "log"), store, "drive", mnt],
                           stderr=subprocess.PIPE, text=True)
        if works:
            t.ok(r.returncode == 0, "a store on tmpfs mounts",
                 r.stderr.strip())
        else:
            print("# %s" % r.stderr.strip())
            t.ok(r.returncode != 0 and "extended attributes" in r.stderr,
                 "a store on ramfs is refused, the cause naming extended "
                 "attributes", "rc %d: %s" % (r.returncode, r.stderr.strip()))
        chk = subprocess.run([DRIVER, "check", mnt], stdout=subprocess.PIPE,
                             text=True).stdout.strip()
        if not works:
            t.eq(chk, "none", "and nothing is left mounted")
    finally:
        subprocess.run([DRIVER, "umount", mnt], stderr=subprocess.DEVNULL)
        subprocess.run(["umount", "-l", store], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)

t.done()
