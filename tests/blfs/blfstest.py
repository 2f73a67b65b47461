"""Shared helpers of the blfs tests: TAP output, a real blfs mount made the
way the agent makes it (tests/blfs/blfs-mount), errno capture, running
a function as another user in a forked child, and the store side of
blfs's owners: backing files are root's with a canonical mode, what the
workload sees is in the extended attribute user.blfs.attr."""

import errno
import os
import pickle
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import traceback

TOP_BUILDDIR = os.environ.get("top_builddir") or os.getcwd()
TOP_SRCDIR = os.environ.get("top_srcdir") or TOP_BUILDDIR
DRIVER = os.path.join(TOP_BUILDDIR, "tests/blfs/blfs-mount")
BLFS = os.path.join(TOP_BUILDDIR, "blfs/blfs")
USER = (1000, 1000)
ATTR = "user.blfs.attr"
# The backing form of what blfs creates: (uid, gid, type, permissions).
BACKING_FILE = (0, 0, stat.S_IFREG, 0o600)
BACKING_DIR = (0, 0, stat.S_IFDIR, 0o700)


def bail(why):
    """Missing facilities fail loudly: CI runs as root with FUSE."""
    print("Bail out! " + why)
    sys.exit(1)


def require_root_and_fuse():
    if os.geteuid() != 0:
        bail("the blfs tests mount FUSE and must run as root")
    if not os.path.exists("/dev/fuse"):
        bail("/dev/fuse is missing: load the fuse module")
    for p in (DRIVER, BLFS):
        if not os.access(p, os.X_OK):
            bail(p + " is not built")


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d - %s%s" % (self.n, name,
                                        ": " + detail if detail else ""))
        sys.stdout.flush()
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name,
                       "expected %r, got %r" % (want, got))

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def err(fn, *args, **kw):
    """Run fn; "OK" or the errno name it raised."""
    try:
        fn(*args, **kw)
        return "OK"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def open_close(path, flags, mode=0o644):
    """open(2) whose descriptor is closed again at once."""
    os.close(os.open(path, flags, mode))


def write_file(path, data=b"", flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
               mode=0o644):
    """open(2), write(2) of all of data, close(2)."""
    fd = os.open(path, flags, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def as_user(fn, uid=USER[0], gid=USER[1], groups=()):
    """fn() in a child with only these ids (no capabilities left); its
    return value, or the exception it raised, comes back pickled."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgroups(list(groups))
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            res = ("ok", fn())
        except BaseException as e:  # noqa: anything goes back to the parent
            res = ("exc", "%s: %s" % (type(e).__name__, e),
                   traceback.format_exc())
        try:
            data = pickle.dumps(res)
        except Exception as e:
            data = pickle.dumps(("exc", "unpicklable: %s" % e, ""))
        os.write(w, data)
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    res = pickle.loads(b"".join(chunks))
    if res[0] == "exc":
        raise RuntimeError("as_user: " + res[1] + "\n" + res[2])
    return res[1]


def err_as_user(fn, *args, **kw):
    return as_user(lambda: err(fn, *args, **kw))


def attr_get(path):
    """user.blfs.attr of a backing file as (uid, gid, mode), the mode with
    the backing file's type when the value names none; None when there is
    none; the raw bytes when they do not parse (a test then fails)."""
    try:
        v = os.getxattr(path, ATTR, follow_symlinks=False)
    except OSError as e:
        if e.errno == errno.ENODATA:
            return None
        raise
    try:
        uid, gid, mode = v.decode().split(" ")
        uid, gid, mode = int(uid, 10), int(gid, 10), int(mode, 8)
    except ValueError:
        return v
    if stat.S_IFMT(mode) == 0:
        mode |= stat.S_IFMT(os.lstat(path).st_mode)
    return (uid, gid, mode)


def attr_set(path, uid, gid, mode):
    """What an operator seeding a drive does (setfattr -n user.blfs.attr
    -v "UID GID MODE"): the file shows these through blfs."""
    os.setxattr(path, ATTR, ("%d %d %o" % (uid, gid, mode)).encode())


def shown(path):
    """(uid, gid, mode with type) of a path, not following a last symlink:
    through a mount, what the workload sees."""
    st = os.lstat(path)
    return (st.st_uid, st.st_gid, st.st_mode)


def backing(path):
    """(uid, gid, type, permissions) of a backing file itself."""
    st = os.lstat(path)
    return (st.st_uid, st.st_gid, stat.S_IFMT(st.st_mode),
            stat.S_IMODE(st.st_mode))


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


class Mount:
    """A blfs mount of <tmp>/store/<sub> at <tmp>/mnt, made like the agent
    makes it; unmounted, blfs waited for and <tmp> removed at exit."""

    def __init__(self, sub="drive", ro=False, blfs_ro=False, nofile=None,
                 args=(), tmp=None, prepare=None, buffer_size=None):
        self.own_tmp = tmp is None
        self.tmp = tmp or tempfile.mkdtemp(prefix="blfs-test-")
        os.chmod(self.tmp, 0o755)
        self.store = os.path.join(self.tmp, "store")
        self.root = os.path.join(self.store, sub)
        self.mnt = os.path.join(self.tmp, "mnt")
        self.log = os.path.join(self.tmp, "blfs.log")
        os.makedirs(self.root, exist_ok=True)
        os.makedirs(self.mnt, exist_ok=True)
        if prepare:
            prepare(self)
        cmd = [DRIVER, "mount", "--pidfile",
               os.path.join(self.tmp, "pid"), "--log", self.log]
        if ro:
            cmd.append("--ro")
        if blfs_ro:
            cmd.append("--blfs-ro")
        if nofile:
            cmd += ["--nofile", str(nofile)]
        if buffer_size:
            cmd += ["--buffer-size", str(buffer_size)]
        cmd += [self.store, sub, self.mnt, "--"] + list(args)
        p = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            self.cleanup()
            bail("mounting blfs failed: " + p.stderr.strip())
        with open(os.path.join(self.tmp, "pid")) as f:
            self.pid = int(f.read())

    def path(self, *parts):
        return os.path.join(self.mnt, *parts)

    def back(self, *parts):
        """The same file on the store side."""
        return os.path.join(self.root, *parts)

    def nfds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def unmount(self):
        """Detach and wait for blfs to exit; its exit status is unknown to
        us (not our child) so success is "gone within 10 s"."""
        if self.pid is None:
            return True
        subprocess.run([DRIVER, "umount", self.mnt],
                       stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while pid_alive(self.pid) and time.time() < deadline:
            time.sleep(0.02)
        gone = not pid_alive(self.pid)
        if not gone:
            os.kill(self.pid, 9)
        self.pid = None
        return gone

    def cleanup(self):
        if getattr(self, "pid", None):
            self.unmount()
        if self.own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False
