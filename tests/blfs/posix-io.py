"""POSIX through blfs: fallocate, copy_file_range, SEEK_DATA/SEEK_HOLE,
flock and fcntl locks between processes, mmap, fsync, O_DIRECT."""

import ctypes
import ctypes.util
import fcntl
import mmap
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blfstest import Mount, Tap, err, open_close, as_user, \
    require_root_and_fuse  # noqa: E402

require_root_and_fuse()
t = Tap()
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2


def fallocate(fd, mode, off, length):
    if libc.fallocate(fd, mode, ctypes.c_long(off), ctypes.c_long(length)):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def in_child(fn):
    """fn() in a forked process (locks belong to processes); its result."""
    return as_user(fn, uid=0, gid=0)


with Mount() as m:
    p = m.path

    # fallocate
    fd = os.open(p("fa"), os.O_RDWR | os.O_CREAT, 0o644)
    t.eq(err(os.posix_fallocate, fd, 0, 1 << 20), "OK", "posix_fallocate")
    t.eq(os.fstat(fd).st_size, 1 << 20, "grows the file to 1 MiB")
    t.ok(os.stat(m.back("fa")).st_blocks * 512 >= 1 << 20,
         "blocks really allocated in the store")
    os.pwrite(fd, b"\xff" * 65536, 0)
    t.eq(err(fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
             4096, 8192), "OK", "punch a hole")
    t.eq(os.pread(fd, 8192, 4096), b"\0" * 8192, "the hole reads as zeros")
    t.eq(os.pread(fd, 4096, 0), b"\xff" * 4096, "data before it stays")
    t.ok(err(fallocate, fd, 0x100, 0, 4096) in ("EOPNOTSUPP", "ENOTSUP"),
         "an unknown mode: EOPNOTSUPP")
    os.close(fd)
    fd = os.open(p("fa"), os.O_RDONLY)
    t.eq(err(os.posix_fallocate, fd, 0, 4096), "EBADF",
         "fallocate on a read-only descriptor: EBADF")
    os.close(fd)

    # copy_file_range
    data = os.urandom(300000)
    with open(p("src"), "wb") as f:
        f.write(data)
    src = os.open(p("src"), os.O_RDONLY)
    dst = os.open(p("dst"), os.O_WRONLY | os.O_CREAT, 0o644)
    done = 0
    while done < len(data):
        n = os.copy_file_range(src, dst, len(data) - done, done, done)
        if n <= 0:
            break
        done += n
    os.close(src)
    os.close(dst)
    with open(m.back("dst"), "rb") as f:
        t.eq(f.read() == data, True, "copy_file_range copies 300000 bytes")
    src = os.open(p("src"), os.O_RDONLY)
    dst = os.open(p("dst"), os.O_WRONLY)
    t.eq(os.copy_file_range(src, dst, 10, 100, 5), 10,
         "copy_file_range at offsets")
    os.close(dst)
    os.close(src)
    with open(p("dst"), "rb") as f:
        got = f.read()
    t.eq(got[5:15], data[100:110], "the bytes landed at the offset")

    # SEEK_DATA / SEEK_HOLE
    fd = os.open(p("sparse"), os.O_RDWR | os.O_CREAT, 0o644)
    os.pwrite(fd, b"a" * 4096, 0)
    os.pwrite(fd, b"b" * 4096, 1 << 20)
    os.fsync(fd)
    nfd = os.open(m.back("sparse"), os.O_RDONLY)
    want = (os.lseek(nfd, 0, os.SEEK_HOLE), os.lseek(nfd, 8192, os.SEEK_DATA))
    os.close(nfd)
    got = (os.lseek(fd, 0, os.SEEK_HOLE), os.lseek(fd, 8192, os.SEEK_DATA))
    t.eq(got, want, "SEEK_HOLE and SEEK_DATA as on the store")
    t.eq(err(os.lseek, fd, (1 << 20) + 8192, os.SEEK_DATA), "ENXIO",
         "SEEK_DATA past the end: ENXIO")
    os.close(fd)

    # flock between processes
    with open(p("lock"), "w"):
        pass
    a = os.open(p("lock"), os.O_RDWR)
    fcntl.flock(a, fcntl.LOCK_EX)

    def try_flock(kind):
        fd = os.open(p("lock"), os.O_RDWR)
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return "OK"
        except OSError as e:
            return "EWOULDBLOCK" if e.errno == 11 else str(e.errno)
        finally:
            os.close(fd)
    t.eq(in_child(lambda: try_flock(fcntl.LOCK_EX)), "EWOULDBLOCK",
         "flock: a second process cannot take the exclusive lock")
    t.eq(in_child(lambda: try_flock(fcntl.LOCK_SH)), "EWOULDBLOCK",
         "nor a shared one")
    fcntl.flock(a, fcntl.LOCK_UN)
    t.eq(in_child(lambda: try_flock(fcntl.LOCK_EX)), "OK",
         "after unlock it can")
    fcntl.flock(a, fcntl.LOCK_SH)
    t.eq(in_child(lambda: try_flock(fcntl.LOCK_SH)), "OK",
         "shared locks share")
    fcntl.flock(a, fcntl.LOCK_UN)

    # fcntl (POSIX) record locks between processes
    fcntl.lockf(a, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 0)

    def try_lockf(start, length):
        fd = os.open(p("lock"), os.O_RDWR)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, length, start)
            return "OK"
        except OSError as e:
            return {11: "EAGAIN", 13: "EACCES"}.get(e.errno, str(e.errno))
        finally:
            os.close(fd)
    t.ok(in_child(lambda: try_lockf(50, 10)) in ("EAGAIN", "EACCES"),
         "fcntl: an overlapping record lock is refused")
    t.eq(in_child(lambda: try_lockf(200, 10)), "OK",
         "a disjoint record lock is granted")

    def getlk():
        fd = os.open(p("lock"), os.O_RDWR)
        import struct
        arg = struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 10, 0)
        r = fcntl.fcntl(fd, fcntl.F_GETLK, arg)
        os.close(fd)
        return struct.unpack("hhqqi", r)
    lk = in_child(getlk)
    t.eq((lk[0], lk[4]), (fcntl.F_WRLCK, os.getpid()),
         "F_GETLK names the holder's pid")
    fcntl.lockf(a, fcntl.LOCK_UN, 100, 0)
    t.eq(in_child(lambda: try_lockf(50, 10)), "OK", "free after unlock")
    os.close(a)

    # mmap
    with open(p("mm"), "wb") as f:
        f.write(b"\0" * 8192)
    fd = os.open(p("mm"), os.O_RDWR)
    mp = mmap.mmap(fd, 8192)
    mp[100:105] = b"hello"
    mp.flush()
    mp.close()
    os.close(fd)
    with open(m.back("mm"), "rb") as f:
        t.eq(f.read()[100:105], b"hello", "a shared mmap write reaches "
             "the store")

    # fsync, O_DIRECT, O_SYNC
    fd = os.open(p("sync"), os.O_WRONLY | os.O_CREAT | os.O_SYNC, 0o644)
    os.write(fd, b"s" * 10)
    t.eq(err(os.fsync, fd), "OK", "fsync")
    t.eq(err(os.fdatasync, fd), "OK", "fdatasync")
    os.close(fd)
    with open(p("direct"), "wb") as f:
        f.write(b"d" * 65536)
    t.eq(err(open_close, p("direct"), os.O_RDONLY | os.O_DIRECT), "OK",
         "O_DIRECT opens")
    fd = os.open(p("direct"), os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 65536)
    n = os.readv(fd, [buf])
    os.close(fd)
    t.eq((n, buf[:4]), (65536, b"dddd"), "an O_DIRECT read")
    with open(m.back("direct"), "r+b") as f:
        f.write(b"X")
    time.sleep(1.2)	# attributes expire; the size is the same
    fd = os.open(p("direct"), os.O_RDONLY | os.O_DIRECT)
    n = os.readv(fd, [buf])
    os.close(fd)
    t.eq(buf[:2], b"Xd", "O_DIRECT sees a change made on the store")
    t.ok(m.unmount(), "blfs exits once unmounted")

t.done()
