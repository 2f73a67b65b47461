"""A store on a filesystem that is not local, here a FUSE filesystem
(bindfs with no caching of its own, as a GlusterFS client is mounted for
blagent): blfs falls back where the store lacks something (O_TMPFILE),
keeps the promise for such stores (close-to-open: an open after a change
made elsewhere sees that data and size; names and attributes at most 1 s
old), and everything around mounts works there (mount locks, delete of a
mounted drive, adopt). Changes made beneath bindfs, not through it, stand
for another machine's: nothing on this machine is told of them. A store
without user xattrs fails the Mount with a cause naming them. Root."""

import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mounttest import blrpc, until, need_root, \
    unmount_all_under  # noqa: E402

BOUND = 1.1		# names and attributes at most 1 s old, and a margin


def run(*argv):
    return subprocess.run(list(argv), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)


def secs(took):
    return "never" if took is None else "%.3f s" % took


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


t = blrpc.Tap()
need_root()
if shutil.which("bindfs") is None:
    print("Bail out! bindfs is not installed (contrib/install-deps.sh)")
    sys.exit(1)

top = tempfile.mkdtemp(prefix="blfuse.", dir="/tmp")
os.chmod(top, 0o755)
under = os.path.join(top, "under")	# "another machine" writes here
store = os.path.join(top, "store")	# the store: a FUSE mount of it
bare = os.path.join(top, "bare")	# the same without user xattrs
for d in (under, store, bare):
    os.mkdir(d)
blfs = os.path.join(blrpc.builddir(), "blfs", "blfs")
mounted = []
try:
    # use_ino: blfs knows files by their inode numbers, which a FUSE
    # store must keep stable across names (GlusterFS does).
    r = run("bindfs", "-o", "use_ino,attr_timeout=0,entry_timeout=0,"
            "negative_timeout=0", under, store)
    t.ok(r.returncode == 0, "bindfs mounts the store", r.stderr)
    mounted.append(store)
    r = run(blrpc.blctl_path(), "drive", "--store", store, "create", "d")
    t.ok(r.returncode == 0, "a drive on the FUSE store", r.stderr)
    data = os.path.join(under, "drives", "d", "data")

    a = t.agent("--store", store, "--blfs", blfs,
                tmpdir=tempfile.mkdtemp(prefix="a.", dir=top))
    ca = blrpc.Client(a.control)
    mp = os.path.join(top, "mnt")
    err, res = ca.call("Mount", {"drive": "d", "mount_path": mp,
                                 "wait": True}, timeout=15)
    t.ok(err is None and res["state"] == "mounted", "it mounts", str(err))

    def m(*p):
        return os.path.join(mp, *p)

    def u(*p):
        return os.path.join(data, *p)

    log = open(a.logpath).read()
    t.ok("not local" in log, "blfs sees that the store is not local")

    # Every path of blfs on a store without O_TMPFILE.
    write(m("f"), b"hello")
    t.ok(read(u("f")) == b"hello", "a file made through the mount is "
         "on the store (made without O_TMPFILE)")
    t.ok(os.getxattr(u("f"), "user.blfs.attr").startswith(b"0 0 "),
         "with its owners in the attribute")
    os.mkdir(m("dir"))
    os.symlink("f", m("link"))
    os.mkfifo(m("fifo"))
    os.link(m("f"), m("hard"))
    os.rename(m("hard"), m("dir", "hard"))
    os.chown(m("dir"), 1000, 1000)
    os.chmod(m("f"), 0o640)
    os.setxattr(m("f"), "user.note", b"n")
    t.ok(os.readlink(m("link")) == "f" and
         stat.S_ISFIFO(os.lstat(m("fifo")).st_mode) and
         os.stat(m("dir")).st_uid == 1000 and
         stat.S_IMODE(os.stat(m("f")).st_mode) == 0o640 and
         os.getxattr(m("f"), "user.note") == b"n" and
         read(m("dir", "hard")) == b"hello",
         "directory, symlink, FIFO, link, rename, chown, chmod, xattr")

    # Close-to-open: a file this mount has cached, changed elsewhere.
    t.ok(read(m("f")) == b"hello", "read (and cached)")
    write(u("f"), b"HELLO", "r+b")	# same size, another machine
    t.ok(read(m("f")) == b"HELLO", "an open after a same-size overwrite "
         "made elsewhere sees the new data at once")
    read(m("f"))
    write(u("f"), b" world", "ab")
    t.ok(read(m("f")) == b"HELLO world", "an open after an append made "
         "elsewhere sees the new data and size at once")
    fd = os.open(m("f"), os.O_RDONLY)
    t.ok(os.fstat(fd).st_size == 11, "and fstat on it the new size")
    os.close(fd)

    # Names and attributes: at most 1 s old.
    os.path.exists(m("new"))
    write(u("new"), b"n")
    took = until(lambda: os.path.exists(m("new")), 3, 0.01)
    t.ok(took is not None and took <= BOUND,
         "a file made elsewhere shows within 1 s (%s)" % secs(took))
    os.listdir(m("dir"))
    os.unlink(u("dir", "hard"))
    took = until(lambda: "hard" not in os.listdir(m("dir")) and
                 not os.path.exists(m("dir", "hard")), 3, 0.01)
    t.ok(took is not None and took <= BOUND,
         "a file removed elsewhere goes within 1 s (%s)" % secs(took))
    os.rename(u("new"), u("renamed"))
    took = until(lambda: os.path.exists(m("renamed")) and
                 not os.path.exists(m("new")), 3, 0.01)
    t.ok(took is not None and took <= BOUND,
         "a rename made elsewhere shows within 1 s (%s)" % secs(took))
    os.stat(m("f"))
    os.setxattr(u("f"), "user.blfs.attr", b"0 0 100604")
    took = until(lambda: stat.S_IMODE(os.stat(m("f")).st_mode) == 0o604,
                 3, 0.01)
    t.ok(took is not None and took <= BOUND,
         "a chmod made elsewhere shows within 1 s (%s)" % secs(took))

    # Mount locks on the FUSE store: a second agent (another sandbox).
    b = t.agent("--store", store, "--blfs", blfs,
                tmpdir=tempfile.mkdtemp(prefix="b.", dir=top))
    cb = blrpc.Client(b.control)
    mpb = os.path.join(top, "mntb")
    err, res = cb.call("Mount", {"drive": "d", "mount_path": mpb,
                                 "read_only": True, "wait": True},
                       timeout=15)
    t.ok(err is None and res["state"] == "mounted",
         "another agent mounts it read-only", str(err))
    r = run(blrpc.blctl_path(), "drive", "--store", store, "delete", "d")
    t.ok(r.returncode != 0 and "mounted" in r.stderr,
         "delete of the mounted drive is refused", r.stderr)
    t.ok(read(os.path.join(mpb, "f")) == b"HELLO world",
         "the second mount reads the same")
    ca.call("Unmount", {"mount_path": mp}, timeout=30)
    cb.call("Unmount", {"mount_path": mpb}, timeout=30)

    # adopt on the FUSE store.
    write(u("seeded"), b"s")
    os.chown(u("seeded"), 1000, 1000)
    os.chmod(u("seeded"), 0o644)
    os.removexattr(u("seeded"), "user.blfs.attr") \
        if "user.blfs.attr" in os.listxattr(u("seeded")) else None
    # Special files adopt makes regular, here without O_TMPFILE.
    os.symlink("seeded", u("seedlink"))
    os.mkfifo(u("seedfifo"))
    r = run(blrpc.blctl_path(), "drive", "--store", store, "adopt", "d")
    t.ok(r.returncode == 0, "adopt works on the FUSE store", r.stderr)
    t.ok(os.getxattr(u("seeded"), "user.blfs.attr") == b"1000 1000 100644",
         "and gave the seeded file its attribute")
    err, res = ca.call("Mount", {"drive": "d", "mount_path": mp,
                                 "wait": True}, timeout=15)
    t.ok(err is None and os.stat(m("seeded")).st_uid == 1000,
         "through the mount it is uid 1000's", str(err))
    t.ok(os.readlink(m("seedlink")) == "seeded" and
         stat.S_ISFIFO(os.lstat(m("seedfifo")).st_mode) and
         not [n for n in os.listdir(data) if n.startswith(".blfs")],
         "a symlink and a FIFO adopted on a store without O_TMPFILE, "
         "nothing left behind")
    # renameat2 RENAME_NOREPLACE, which the store itself refuses.
    r2 = os.path.join(blrpc.builddir(), "tests", "blfs", "renameat2")
    write(m("nr-a"), b"a")
    write(m("nr-b"), b"b")
    os.mkdir(m("nr-d"))
    r = run(r2, "noreplace", m("nr-a"), m("nr-b"))
    t.ok(r.returncode != 0 and read(m("nr-b")) == b"b",
         "RENAME_NOREPLACE over a name that exists fails, changing "
         "nothing", r.stdout + r.stderr)
    r = run(r2, "noreplace", m("nr-a"), m("nr-c"))
    r3 = run(r2, "noreplace", m("nr-d"), m("nr-e"))
    t.ok(r.returncode == 0 and r3.returncode == 0 and
         read(m("nr-c")) == b"a" and not os.path.exists(m("nr-a")) and
         os.path.isdir(m("nr-e")),
         "and to a free name it renames a file and a directory",
         r.stdout + r.stderr + r3.stdout + r3.stderr)
    ca.call("Unmount", {"mount_path": mp}, timeout=30)

    # A FUSE store that keeps no user xattrs: refused, with the cause.
    shutil.copytree(os.path.join(under, "drives"),
                    os.path.join(top, "bare-under", "drives"),
                    symlinks=True)
    r = run("bindfs", "--xattr-none", os.path.join(top, "bare-under"), bare)
    t.ok(r.returncode == 0, "a FUSE store without xattrs", r.stderr)
    mounted.append(bare)
    c = t.agent("--store", bare, "--blfs", blfs,
                tmpdir=tempfile.mkdtemp(prefix="c.", dir=top))
    cc = blrpc.Client(c.control)
    err, res = cc.call("Mount", {"drive": "d", "mount_path":
                                 os.path.join(top, "mntc"), "wait": True},
                       timeout=15)
    cause = (res or {}).get("error") or err or {}
    t.ok((err is not None or res["state"] == "failed") and
         "extended attributes" in str(cause.get("message")),
         "its Mount fails naming extended attributes",
         "%s: %s" % ((res or {}).get("state"), cause))
    t.ok(c.alive(), "and the agent serves on")
finally:
    for ag in t.agents:
        ag.stop()
    for p in reversed(mounted):
        run("umount", p)
    unmount_all_under(top)
    shutil.rmtree(top, ignore_errors=True)
t.done()
