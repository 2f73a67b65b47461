"""FUSE passthrough, with a real agent and real mounts: on a drive without
a capacity the kernel reads and writes files straight from the store
(blfs counts no byte of it), the agent registering the backing files for
blfs; registrations kept after a close serve reopens; what is written is read back natively in the store and from a
second mount, while the writer still holds the file open, mmap included;
a read-only mount is passed through for reading and still refuses every
write; a drive with a capacity is never passed through (blfs counts
every byte, and ENOSPC still holds); a mount with the writeback cache is
not passed through. Run as root."""

import errno
import mmap
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mounttest import blrpc, blctl, err, need_root, \
    unmount_all_under  # noqa: E402

MIB = 1024 * 1024

t = blrpc.Tap()
need_root()

top = tempfile.mkdtemp(prefix="blpt.", dir="/var/tmp")
os.chmod(top, 0o755)
store = os.path.join(top, "store")
blfs = os.path.join(blrpc.builddir(), "blfs", "blfs")


def pattern(n, seed):
    b = bytes((i * 7 + seed) & 0xff for i in range(256))
    return (b * (n // 256 + 1))[:n]


def stats(c, mp):
    e, res = c.call("Stats", {"mount_path": mp})
    return res["mounts"][0] if e is None else {}


def mount(c, drive, mp, **kw):
    os.makedirs(mp, exist_ok=True)
    p = {"drive": drive, "mount_path": mp, "wait": True}
    p.update(kw)
    e, res = c.call("Mount", p, timeout=20)
    t.ok(e is None and res["state"] == "mounted", "%s mounted at %s %s" %
         (drive, os.path.basename(mp), kw or ""), str(e))


def read(path):
    with open(path, "rb") as f:
        return f.read()


try:
    for d, extra in (("d", []), ("cap", ["--capacity", "8MiB"])):
        r = blctl("drive", "--store", store, "create", d, *extra)
        t.ok(r.returncode == 0, "drive %s" % d, r.stderr)
    data = os.path.join(store, "drives", "d", "data")
    a = t.agent("--store", store, "--blfs", blfs,
                tmpdir=tempfile.mkdtemp(prefix="a.", dir=top))
    c = blrpc.Client(a.control)
    ma, mb, mro = (os.path.join(top, x) for x in ("a", "b", "ro"))
    mount(c, "d", ma)
    mount(c, "d", mb)

    # Written through mount a: none of it reaches blfs.
    big = pattern(4 * MIB, 1)
    with open(os.path.join(ma, "big"), "wb") as f:
        f.write(big)
    s = stats(c, ma)
    t.ok(s.get("bytes_written") == 0 and s["operations"]["write"] == 0,
         "4 MiB written through the mount: blfs served no write (the "
         "kernel passed them through)", str(s.get("operations")))
    t.ok(read(os.path.join(data, "big")) == big,
         "the store holds what was written")
    t.ok(read(os.path.join(mb, "big")) == big,
         "the second mount reads it back")
    t.ok(stats(c, mb).get("bytes_read") == 0,
         "and blfs of the second mount served no read")

    # While the writer holds it open: the other mount and the store see
    # each write at once, in place and appended.
    p = os.path.join(ma, "live")
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, b"one")
    t.ok(read(os.path.join(mb, "live")) == b"one",
         "a write is seen from the second mount before the close")
    os.pwrite(fd, b"ONE", 0)
    os.write(fd, b"two")
    t.ok(read(os.path.join(mb, "live")) == b"ONEtwo" and
         read(os.path.join(data, "live")) == b"ONEtwo",
         "rewritten and appended: seen from the other mount and the store")
    # A second open of the same file, read-only, shares the passthrough.
    with open(p, "rb") as f2:
        t.ok(f2.read() == b"ONEtwo", "a second handle of the open file "
             "reads it")
    # Shared mappings write to the store too.
    os.ftruncate(fd, 8192)
    with mmap.mmap(fd, 8192) as mm:
        mm[4096:4101] = b"mmap!"
        mm.flush()
    os.close(fd)
    t.ok(read(os.path.join(data, "live"))[4096:4101] == b"mmap!",
         "a shared mapping's write reaches the store")
    t.ok(read(os.path.join(mb, "live"))[4096:4101] == b"mmap!",
         "and the second mount")

    # Closed, the registration is kept for a reopen: the file reopened,
    # removed and made again under its name is each time the right one.
    p = os.path.join(ma, "again")
    for i in range(3):
        with open(p, "wb") as f:
            f.write(pattern(64 * 1024, i))
        t.ok(read(p) == pattern(64 * 1024, i) and
             read(os.path.join(data, "again")) == pattern(64 * 1024, i),
             "round %d: rewritten after a close, read back" % i)
        os.unlink(p)
    t.ok(not os.path.exists(os.path.join(data, "again")),
         "and removed from the store")

    # Written in the store directly: read through the mount.
    with open(os.path.join(data, "native"), "wb") as f:
        f.write(pattern(MIB, 9))
    t.ok(read(os.path.join(ma, "native")) == pattern(MIB, 9),
         "a file written natively reads the same through the mount")
    # Truncation and fsync still go through blfs.
    with open(os.path.join(ma, "native"), "r+b") as f:
        f.truncate(1000)
        f.write(b"x" * 10)
        os.fsync(f.fileno())
    t.ok(os.path.getsize(os.path.join(data, "native")) == 1000 and
         read(os.path.join(data, "native"))[:10] == b"x" * 10,
         "truncate and write through one handle")

    # Read-only: passed through for reading, every write refused.
    mount(c, "d", mro, read_only=True)
    t.ok(read(os.path.join(mro, "big")) == big,
         "the read-only mount reads the file")
    t.ok(stats(c, mro).get("bytes_read") == 0,
         "passed through: its blfs served no read")
    for flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_APPEND,
                  os.O_RDONLY | os.O_TRUNC):
        t.ok(err(os.open, os.path.join(mro, "big"), flags) == "EROFS",
             "read-only mount: open flags %#o is EROFS" % flags)
    with open(os.path.join(mro, "big"), "rb") as f:
        t.ok(err(os.write, f.fileno(), b"x") == "EBADF",
             "a read-only handle cannot write")
        t.ok(err(mmap.mmap, f.fileno(), 4096, mmap.MAP_SHARED,
                 mmap.PROT_WRITE) in ("EACCES", "EROFS"),
             "nor map it shared for writing")
    t.ok(read(os.path.join(data, "big")) == big, "the file is unchanged")

    # A capacity: every byte through blfs, which counts it.
    mc = os.path.join(top, "cap")
    mount(c, "cap", mc)
    with open(os.path.join(mc, "f"), "wb") as f:
        f.write(pattern(MIB, 3))
    s = stats(c, mc)
    t.ok(s.get("bytes_written") == MIB,
         "a drive with a capacity is not passed through: blfs wrote "
         "%s bytes" % s.get("bytes_written"))
    t.ok(read(os.path.join(store, "drives", "cap", "data", "f")) ==
         pattern(MIB, 3), "and the data is there")
    fd = os.open(os.path.join(mc, "g"), os.O_WRONLY | os.O_CREAT, 0o644)
    res = "OK"
    try:
        for _ in range(8):
            os.write(fd, b"y" * MIB)
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    os.close(fd)
    t.ok(res == "ENOSPC" and os.path.getsize(
        os.path.join(store, "drives", "cap", "data", "g")) <= 7 * MIB,
        "and past the capacity a write fails with ENOSPC", res)

    # The writeback cache excludes passthrough: blfs serves the writes.
    mw = os.path.join(top, "wb")
    mount(c, "d", mw, options={"writeback": True})
    with open(os.path.join(mw, "w"), "wb") as f:
        f.write(pattern(MIB, 5))
    t.ok(stats(c, mw).get("bytes_written") == MIB,
         "with the writeback cache blfs writes the data itself")
    t.ok(read(os.path.join(ma, "w")) == pattern(MIB, 5),
         "and the passed-through mount reads it")

    for mp in (ma, mb, mro, mc, mw):
        e, _ = c.call("Unmount", {"mount_path": mp}, timeout=30)
        t.ok(e is None, "unmounted %s" % os.path.basename(mp), str(e))
    t.ok(read(os.path.join(data, "big")) == big, "the data outlives the "
         "mounts")
finally:
    for ag in t.agents:
        ag.stop()
    unmount_all_under(top)
    subprocess.run(["sync"])
    shutil.rmtree(top, ignore_errors=True)
t.done()
