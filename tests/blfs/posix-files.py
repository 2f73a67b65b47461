"""POSIX through blfs: open, create, truncate, unlink, link, symlink,
mkfifo/mknod; each case asserts the errno, as root and as uid 1000."""

import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blfstest import Mount, Tap, write_file as write, read_file as read, BACKING_FILE, BACKING_DIR, err, \
    open_close, as_user, err_as_user, attr_get, backing, shown, \
    require_root_and_fuse  # noqa: E402

require_root_and_fuse()
t = Tap()


with Mount() as m:
    p = m.path
    os.umask(0)
    status = dict(line.split(":", 1) for line in
                  open("/proc/%d/status" % m.pid) if ":" in line)
    t.eq(status["Seccomp"].strip(), "2",
         "blfs serves under its seccomp filter")
    t.eq([status[c].strip() for c in ("CapEff", "CapPrm", "CapBnd",
                                       "CapAmb")], ["0000000000000000"] * 4,
         "with no capability at all, bounding set included")

    # open / create
    t.eq(err(write, p("f"), b"hello", mode=0o640), "OK", "create a file")
    st = os.stat(p("f"))
    t.eq(stat.S_IMODE(st.st_mode), 0o640, "create keeps the mode asked for")
    t.eq((st.st_uid, st.st_gid), (0, 0), "root's new file is root's")
    t.eq(read(m.back("f")), b"hello", "the data reaches the store")
    t.eq(read(p("f")), b"hello", "and reads back through the mount")
    t.eq(err(open_close, p("f"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600),
         "EEXIST", "O_CREAT|O_EXCL on an existing file: EEXIST")
    t.eq(err(open_close, p("nope"), os.O_RDONLY), "ENOENT",
         "open of a missing file: ENOENT")
    os.mkdir(p("d"), 0o755)
    t.eq(err(open_close, p("d"), os.O_WRONLY), "EISDIR",
         "open of a directory for writing: EISDIR")
    t.eq(err(open_close, p("f"), os.O_RDONLY | os.O_DIRECTORY), "ENOTDIR",
         "O_DIRECTORY on a file: ENOTDIR")
    t.eq(err(open_close, p("f", "x"), os.O_RDONLY), "ENOTDIR",
         "a file used as a directory: ENOTDIR")
    t.eq(err(open_close, p("n" * 256), os.O_CREAT | os.O_WRONLY, 0o644),
         "ENAMETOOLONG", "a 256-byte name: ENAMETOOLONG")
    t.eq(err(write, p("n" * 255), b"x"), "OK", "a 255-byte name is fine")
    write(p("f"), b"", os.O_WRONLY | os.O_TRUNC)
    t.eq(os.stat(p("f")).st_size, 0, "O_TRUNC truncates")
    write(p("f"), b"ab", os.O_WRONLY)
    write(p("f"), b"cd", os.O_WRONLY | os.O_APPEND)
    t.eq(read(p("f")), b"abcd", "O_APPEND appends")
    fd = os.open(p("rw"), os.O_RDWR | os.O_CREAT, 0o600)
    os.pwrite(fd, b"0123456789", 0)
    os.pwrite(fd, b"XY", 4)
    t.eq(os.pread(fd, 10, 0), b"0123XY6789", "pwrite/pread at offsets")
    os.close(fd)
    fd = os.open(p("big"), os.O_RDWR | os.O_CREAT, 0o600)
    blob = os.urandom(3 * 1024 * 1024 + 123)
    os.write(fd, blob)
    os.close(fd)
    t.eq(read(p("big")) == blob, True, "3 MiB written and read back intact")
    t.eq(err(open_close, p("big"), os.O_RDONLY | os.O_NOFOLLOW), "OK",
         "O_NOFOLLOW on a regular file opens it")

    # permissions as uid 1000
    os.chmod(m.mnt, 0o755)
    t.eq(err_as_user(write, p("u1"), b"x"), "EACCES",
         "uid 1000 creating in root's 0755 directory: EACCES")
    write(p("secret"), b"s", mode=0o600)
    t.eq(err_as_user(open_close, p("secret"), os.O_RDONLY), "EACCES",
         "uid 1000 reading root's 0600 file: EACCES")
    write(p("pub"), b"p", mode=0o644)
    t.eq(err_as_user(open_close, p("pub"), os.O_WRONLY), "EACCES",
         "uid 1000 writing root's 0644 file: EACCES")
    t.eq(as_user(lambda: read(p("pub"))), b"p",
         "uid 1000 reads root's 0644 file")
    os.mkdir(p("tmp"), 0o1777)
    t.eq(err_as_user(write, p("tmp", "mine"), b"m", mode=0o640), "OK",
         "uid 1000 creates in a 1777 directory")
    t.eq(shown(p("tmp", "mine")), (1000, 1000, stat.S_IFREG | 0o640),
         "the new file belongs to uid/gid 1000")
    t.eq((backing(m.back("tmp", "mine")), attr_get(m.back("tmp", "mine"))),
         (BACKING_FILE, (1000, 1000, stat.S_IFREG | 0o640)),
         "on disk: root's 0600 file, owner and mode in user.blfs.attr")
    t.eq(err_as_user(os.mkdir, p("tmp", "mydir"), 0o750), "OK",
         "uid 1000 makes a directory")
    t.eq(shown(p("tmp", "mydir")), (1000, 1000, stat.S_IFDIR | 0o750),
         "the new directory is uid 1000's")
    t.eq((backing(m.back("tmp", "mydir")), attr_get(m.back("tmp", "mydir"))),
         (BACKING_DIR, (1000, 1000, stat.S_IFDIR | 0o750)),
         "on disk: root's 0700 directory, owner and mode in user.blfs.attr")
    t.eq(err_as_user(os.symlink, "target", p("tmp", "mylink")), "OK",
         "uid 1000 makes a symlink")
    t.eq(shown(p("tmp", "mylink")), (1000, 1000, stat.S_IFLNK | 0o777),
         "the symlink is uid 1000's")
    t.eq(err_as_user(os.mkfifo, p("tmp", "myfifo"), 0o600), "OK",
         "uid 1000 makes a fifo")
    t.eq(shown(p("tmp", "myfifo")), (1000, 1000, stat.S_IFIFO | 0o600),
         "the fifo is uid 1000's")
    os.mkdir(p("sgid"), 0o2777)
    os.chown(p("sgid"), 0, 50)
    os.chmod(p("sgid"), 0o2777)
    t.eq(err_as_user(write, p("sgid", "f"), b"g"), "OK",
         "uid 1000 creates in a set-group-id directory")
    st = os.stat(p("sgid", "f"))
    t.eq((st.st_uid, st.st_gid), (1000, 50),
         "the file takes the set-group-id directory's group")
    as_user(lambda: os.mkdir(p("sgid", "sub"), 0o755))
    st = os.stat(p("sgid", "sub"))
    t.eq((st.st_gid, bool(st.st_mode & stat.S_ISGID)), (50, True),
         "a subdirectory inherits group and set-group-id bit")
    t.eq(err_as_user(write, p("tmp", "suid"), b"", mode=0o4755), "OK",
         "uid 1000 creates a set-user-id file of its own")
    t.eq(stat.S_IMODE(os.stat(p("tmp", "suid")).st_mode), 0o4755,
         "its set-user-id bit survives the hand-over to uid 1000")
    t.eq(err_as_user(write, p("tmp", "mine"), b"more"), "OK",
         "uid 1000 rewrites its file")

    # truncate
    t.eq(err(os.truncate, p("f"), 0), "OK", "truncate to 0")
    t.eq(os.stat(p("f")).st_size, 0, "size is 0")
    os.truncate(p("f"), 1 << 20)
    t.eq(os.stat(m.back("f")).st_size, 1 << 20, "truncate grows to 1 MiB")
    t.eq(err(os.truncate, p("f"), -1), "EINVAL", "negative size: EINVAL")
    t.eq(err(os.truncate, p("d"), 0), "EISDIR",
         "truncate of a directory: EISDIR")
    t.eq(err_as_user(os.truncate, p("pub"), 0), "EACCES",
         "uid 1000 truncating root's 0644 file: EACCES")
    fd = os.open(p("rw"), os.O_RDWR)
    os.ftruncate(fd, 3)
    t.eq(os.fstat(fd).st_size, 3, "ftruncate on an open file")
    os.close(fd)
    fd = os.open(p("rw"), os.O_RDONLY)
    t.eq(err(os.ftruncate, fd, 0), "EINVAL",
         "ftruncate of a read-only descriptor: EINVAL")
    os.close(fd)
    os.chmod(p("pub"), 0o4766)
    as_user(lambda: write(p("pub"), b"w", os.O_WRONLY))
    t.eq(oct(stat.S_IMODE(os.stat(p("pub")).st_mode)), oct(0o766),
         "a write by uid 1000 clears set-user-id")

    # unlink
    t.eq(err(os.unlink, p("rw")), "OK", "unlink a file")
    t.eq(os.path.exists(m.back("rw")), False, "gone from the store")
    t.eq(err(os.unlink, p("rw")), "ENOENT", "unlink again: ENOENT")
    t.eq(err(os.unlink, p("d")), "EISDIR", "unlink a directory: EISDIR")
    t.eq(err_as_user(os.unlink, p("pub")), "EACCES",
         "uid 1000 unlinking in root's 0755 directory: EACCES")
    write(p("tmp", "roots"), b"r")
    t.eq(err_as_user(os.unlink, p("tmp", "roots")), "EPERM",
         "uid 1000 unlinking root's file in a sticky directory: EPERM")
    t.eq(err_as_user(os.unlink, p("tmp", "mine")), "OK",
         "uid 1000 unlinks its own file in a sticky directory")
    fd = os.open(p("open-unlinked"), os.O_RDWR | os.O_CREAT, 0o600)
    os.unlink(p("open-unlinked"))
    os.write(fd, b"still here")
    t.eq(os.pread(fd, 20, 0), b"still here",
         "an open file stays usable after unlink")
    t.eq(os.fstat(fd).st_nlink, 0, "and fstat shows no links")
    os.close(fd)

    # link
    write(p("l1"), b"link")
    t.eq(err(os.link, p("l1"), p("l2")), "OK", "hard link")
    t.eq(os.stat(p("l1")).st_nlink, 2, "link count 2")
    t.eq(os.stat(p("l1")).st_ino, os.stat(p("l2")).st_ino,
         "both names are one inode")
    t.eq(err(os.link, p("l1"), p("l2")), "EEXIST",
         "link onto an existing name: EEXIST")
    t.eq(err(os.link, p("d"), p("dlink")), "EPERM",
         "hard link to a directory: EPERM")
    t.eq(err(os.link, p("missing"), p("l3")), "ENOENT",
         "link of a missing file: ENOENT")
    os.unlink(p("l1"))
    t.eq(read(p("l2")), b"link", "the other name still reads after unlink")
    t.eq(err_as_user(os.link, p("secret"), p("tmp", "stolen")), "EPERM",
         "uid 1000 linking root's 0600 file: EPERM (protected_hardlinks)")
    os.symlink("l2", p("sl"))
    t.eq(err(os.link, p("sl"), p("sl2"), follow_symlinks=False), "OK",
         "hard link to a symlink itself")
    t.eq(os.readlink(p("sl2")), "l2", "the link of a symlink is a symlink")

    # symlink
    t.eq(err(os.symlink, "no/such/target", p("dangling")), "OK",
         "a dangling symlink")
    t.eq(os.readlink(p("dangling")), "no/such/target", "readlink")
    t.eq(stat.S_ISLNK(os.lstat(p("dangling")).st_mode), True,
         "lstat says symlink")
    t.eq(err(os.symlink, "x", p("dangling")), "EEXIST",
         "symlink onto an existing name: EEXIST")
    long_target = "a/" * 2047 + "b"
    t.eq(err(os.symlink, long_target, p("longlink")), "OK",
         "a 4095-byte target")
    t.eq(os.readlink(p("longlink")), long_target,
         "the long target reads back whole")
    t.eq(err(open_close, p("sl"), os.O_RDONLY | os.O_NOFOLLOW), "ELOOP",
         "O_NOFOLLOW on a symlink: ELOOP")
    t.eq(read(p("sl")), b"link", "opening a symlink follows it in the mount")

    # mkfifo / mknod
    t.eq(err(os.mkfifo, p("fifo"), 0o600), "OK", "mkfifo")
    t.eq(stat.S_ISFIFO(os.stat(p("fifo")).st_mode), True,
         "the mount shows a fifo")
    t.eq((backing(m.back("fifo")), attr_get(m.back("fifo"))),
         (BACKING_FILE, (0, 0, stat.S_IFIFO | 0o600)),
         "the store has a root 0600 regular file standing for it")
    fd = os.open(p("fifo"), os.O_RDWR | os.O_NONBLOCK)
    os.write(fd, b"pipe")
    t.eq(os.read(fd, 10), b"pipe", "the fifo works through the mount")
    os.close(fd)
    # Device nodes are inert entries (the mount is nodev): owners.py.
    t.eq(err(os.mknod, p("chr"), 0o600 | stat.S_IFCHR, os.makedev(1, 3)),
         "OK", "mknod of a character device")
    t.eq(err(os.mknod, p("blk"), 0o600 | stat.S_IFBLK, os.makedev(7, 0)),
         "OK", "mknod of a block device")
    t.eq([(stat.S_IFMT(st.st_mode), st.st_rdev)
          for st in (os.lstat(p("chr")), os.lstat(p("blk")))],
         [(stat.S_IFCHR, os.makedev(1, 3)), (stat.S_IFBLK, os.makedev(7, 0))],
         "they show their types and numbers")
    t.eq((backing(m.back("chr")), backing(m.back("blk"))),
         (BACKING_FILE, BACKING_FILE),
         "and no device in the store: root 0600 regular files")
    t.eq(err(os.mknod, p("reg"), 0o600 | stat.S_IFREG), "OK",
         "mknod of a regular file")
    t.eq(err(os.mknod, p("sock"), 0o600 | stat.S_IFSOCK), "OK",
         "mknod of a socket")
    t.eq(err(os.mkfifo, p("fifo"), 0o600), "EEXIST",
         "mkfifo onto an existing name: EEXIST")
    t.ok(m.unmount(), "blfs exits once unmounted")

t.done()
