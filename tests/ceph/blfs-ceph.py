"""blfs serving a CephFS directory through libcephfs, against a real
cluster this test starts (contrib/ceph-cluster.sh) and stops whatever
happens: two blfs on one directory stand for two machines, a third
serves it read-only. Files, directories, links, attributes, xattrs and
data go through; Ceph keeps real owners (a file made as uid 1000 is uid
1000's in Ceph, as another client sees it); each change made through one
mount is seen through the other well within a second (the times are
printed: the goal is 100 ms); fcntl locks are the cluster's; a read-only
mount refuses every write with EROFS; blfs runs confined (seccomp and
Landlock on, no file of this machine open). Run as root."""

import errno
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
top_srcdir = os.environ.get("top_srcdir", os.path.join(here, "..", ".."))
top_builddir = os.environ.get("top_builddir", top_srcdir)
sys.path.insert(0, os.path.join(top_srcdir, "tests", "mount"))
from mounttest import blrpc, err, until  # noqa: E402

CLUSTER = os.path.join(top_srcdir, "contrib", "ceph-cluster.sh")
DRIVER = os.path.join(top_builddir, "tests", "blfs", "blfs-mount")
BLFS = os.path.join(top_builddir, "blfs", "blfs")


def skip(why):
    print("1..0 # SKIP %s" % why)
    sys.exit(77)


if os.geteuid() != 0:
    skip("needs root")
for b in ("ceph-mon", "ceph-osd", "ceph-mds", "ceph-mgr", "ceph"):
    if shutil.which(b) is None:
        skip("%s not installed (contrib/install-deps.sh)" % b)
try:
    import cephfs  # noqa: E402
except ImportError:
    skip("python3-cephfs not installed")
out = subprocess.run([BLFS, "--fuse-fd", "0", "--ceph-fs", "x",
                      "--ceph-root", "/", "--ceph-id", "x",
                      "--ceph-conf-fd", "0", "--ceph-keyring-fd", "0",
                      "--drive", "d", "--session", "s", "--mount-path",
                      "/m"], stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT, universal_newlines=True)
if "built without libcephfs" in out.stdout:
    skip("blfs was built without libcephfs (libcephfs-dev)")

t = blrpc.Tap()
# A test runner's timeout sends SIGTERM: clean up as for any failure.
signal.signal(signal.SIGTERM, lambda s, f: sys.exit(1))
top = tempfile.mkdtemp(prefix="blceph.", dir="/tmp")
os.chmod(top, 0o755)
cdir = os.path.join(top, "cluster")
conf = os.path.join(cdir, "ceph.conf")
keyring = os.path.join(cdir, "admin.keyring")
mounts = []


def admin():
    fs = cephfs.LibCephFS(conffile=conf, auth_id="admin",
                          conf={"keyring": keyring})
    fs.mount(filesystem_name=b"cephfs")
    return fs


def blfs_mount(name, ro=False):
    mp = os.path.join(top, name)
    os.makedirs(mp, exist_ok=True)
    args = [DRIVER, "mount", "--log", os.path.join(top, name + ".log"),
            "--pidfile", os.path.join(top, name + ".pid"),
            "--ceph", conf, keyring, "admin"]
    if ro:
        args.append("--ro")
    # Output to a file: blfs inherits it and serves on, and a pipe would
    # never see its end.
    with open(os.path.join(top, name + ".out"), "w+") as out:
        r = subprocess.run(args + ["cephfs", "/drive", mp], stdout=out,
                           stderr=subprocess.STDOUT)
        out.seek(0)
        r.stdout = out.read()
    if r.returncode == 0:
        mounts.append(mp)
    return r, mp


def pid_of(name):
    return int(open(os.path.join(top, name + ".pid")).read())


try:
    t0 = time.monotonic()
    with open(os.path.join(top, "cluster.out"), "w+") as out:
        r = subprocess.run(["bash", CLUSTER, "start", cdir], stdout=out,
                           stderr=subprocess.STDOUT)
        out.seek(0)
        said = out.read()
    if r.returncode != 0:
        t.ok(False, "the cluster starts", said[-2000:])
        raise SystemExit
    t.diag("cluster serving in %.1f s" % (time.monotonic() - t0))

    fs = admin()
    fs.mkdir(b"/drive", 0o777)
    fs.chmod(b"/drive", 0o777)
    fd = fs.open(b"/drive/seeded", "w", 0o644)
    fs.write(fd, b"seeded by another client\n", 0)
    fs.close(fd)

    r, A = blfs_mount("a")
    t.ok(r.returncode == 0, "blfs A serves cephfs:/drive", r.stdout)
    r, B = blfs_mount("b")
    t.ok(r.returncode == 0, "blfs B serves it too (another machine)",
         r.stdout)
    r, C = blfs_mount("c", ro=True)
    t.ok(r.returncode == 0, "blfs C serves it read-only", r.stdout)
    if len(mounts) != 3:
        raise SystemExit

    # --- confined -----------------------------------------------------------
    status = open("/proc/%d/status" % pid_of("a")).read()
    t.ok("Seccomp:\t2" in status, "blfs runs under its seccomp filter")
    # Past stdin, stdout and stderr (the test's logs here).
    fds = [os.readlink("/proc/%d/fd/%s" % (pid_of("a"), f))
           for f in os.listdir("/proc/%d/fd" % pid_of("a")) if int(f) > 2]
    t.ok(not any(f.startswith("/") and not f.startswith("/dev/")
                 for f in fds),
         "it holds no file of this machine (conf and keyring closed): %s"
         % sorted(set(fds)))
    log = open(os.path.join(top, "a.log")).read()
    t.ok("landlock" not in log.lower() or "serving without" not in log,
         "Landlock is on", log[-500:])

    # --- files through one mount, seen by Ceph --------------------------------
    t.ok(open(os.path.join(A, "seeded")).read() ==
         "seeded by another client\n", "A reads what Ceph holds")
    data = os.urandom(3 * 1024 * 1024 + 123)
    with open(os.path.join(A, "blob"), "wb") as f:
        f.write(data)
    st = fs.stat(b"/drive/blob")
    fd = fs.open(b"/drive/blob", "r")
    got = fs.read(fd, 0, len(data) + 10)
    fs.close(fd)
    t.ok(st.st_size == len(data) and
         hashlib.sha256(got).digest() == hashlib.sha256(data).digest(),
         "3 MiB written through A are in Ceph, byte for byte")
    os.mkdir(os.path.join(A, "dir"), 0o750)
    os.rename(os.path.join(A, "blob"), os.path.join(A, "dir", "blob"))
    os.symlink("dir/blob", os.path.join(A, "link"))
    os.link(os.path.join(A, "dir", "blob"), os.path.join(A, "hard"))
    os.setxattr(os.path.join(A, "hard"), "user.tag", b"v1")
    t.ok(os.readlink(os.path.join(A, "link")) == "dir/blob" and
         os.stat(os.path.join(A, "hard")).st_nlink == 2 and
         os.getxattr(os.path.join(A, "dir", "blob"), "user.tag") == b"v1",
         "directories, renames, symlinks, hard links and xattrs")
    t.ok(fs.stat(b"/drive/dir/blob").st_nlink == 2 and
         fs.getxattr(b"/drive/dir/blob", "user.tag") == b"v1",
         "and Ceph holds them as made")

    # --- owners are Ceph's own ------------------------------------------------
    r = subprocess.run(["setpriv", "--reuid=1000", "--regid=1000",
                        "--clear-groups", "sh", "-c",
                        "echo mine > %s/owned && mkdir %s/owndir" % (A, A)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    st = fs.stat(b"/drive/owned")
    t.ok(r.returncode == 0 and st.st_uid == 1000 and st.st_gid == 1000,
         "a file made as uid 1000 is uid 1000's in Ceph (%d:%d)" %
         (st.st_uid, st.st_gid), r.stdout)
    os.chmod(os.path.join(A, "owndir"), 0o700)
    r = subprocess.run(["setpriv", "--reuid=2000", "--regid=2000",
                        "--clear-groups", "ls", os.path.join(A, "owndir")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    t.ok(r.returncode != 0, "and another user is kept out of its 0700 "
         "directory")
    os.chown(os.path.join(A, "owned"), 1234, 55)
    st = fs.stat(b"/drive/owned")
    t.ok((st.st_uid, st.st_gid) == (1234, 55), "chown as root lands in "
         "Ceph")

    # --- coherence: A's changes through B -------------------------------------
    open(os.path.join(B, "seeded")).read()      # B knows it, cached
    os.listdir(B)
    cases = [
        ("append", lambda: open(os.path.join(A, "seeded"), "a").write(
            "more\n"),
         lambda: open(os.path.join(B, "seeded")).read().endswith("more\n")),
        ("same-size overwrite", lambda: (lambda f: (f.seek(0),
                                                    f.write("SEEDED"),
                                                    f.close()))(
            open(os.path.join(A, "seeded"), "r+")),
         lambda: open(os.path.join(B, "seeded")).read().startswith(
             "SEEDED")),
        ("create", lambda: open(os.path.join(A, "new"), "w").write("n"),
         lambda: os.path.exists(os.path.join(B, "new"))),
        ("rename", lambda: os.rename(os.path.join(A, "new"),
                                     os.path.join(A, "renamed")),
         lambda: os.path.exists(os.path.join(B, "renamed")) and
         not os.path.exists(os.path.join(B, "new"))),
        ("chmod", lambda: os.chmod(os.path.join(A, "renamed"), 0o600),
         lambda: os.stat(os.path.join(B, "renamed")).st_mode & 0o777 ==
         0o600),
        ("chown", lambda: os.chown(os.path.join(A, "renamed"), 7, 8),
         lambda: os.stat(os.path.join(B, "renamed")).st_uid == 7),
        ("xattr", lambda: os.setxattr(os.path.join(A, "renamed"),
                                      "user.k", b"x"),
         lambda: os.getxattr(os.path.join(B, "renamed"), "user.k") ==
         b"x"),
        ("truncate", lambda: os.truncate(os.path.join(A, "seeded"), 3),
         lambda: open(os.path.join(B, "seeded")).read() == "SEE"),
        ("unlink", lambda: os.unlink(os.path.join(A, "renamed")),
         lambda: not os.path.exists(os.path.join(B, "renamed"))),
        ("a file in a new directory",
         lambda: (os.mkdir(os.path.join(A, "sub")),
                  open(os.path.join(A, "sub", "f"), "w").write("y")),
         lambda: open(os.path.join(B, "sub", "f")).read() == "y"),
        # Directories B has just walked: the kernel trusts their names and
        # modes for a few milliseconds, no longer.
        ("directory chmod", lambda: os.chmod(os.path.join(A, "sub"), 0o705),
         lambda: os.stat(os.path.join(B, "sub")).st_mode & 0o777 == 0o705),
        ("directory rename", lambda: os.rename(os.path.join(A, "sub"),
                                               os.path.join(A, "sub2")),
         lambda: os.path.exists(os.path.join(B, "sub2", "f")) and
         not os.path.exists(os.path.join(B, "sub", "f"))),
        ("directory removal",
         lambda: (os.unlink(os.path.join(A, "sub2", "f")),
                  os.rmdir(os.path.join(A, "sub2"))),
         lambda: not os.path.exists(os.path.join(B, "sub2"))),
    ]
    times = []
    for name, act, check in cases:
        act()
        dt = until(check, 5, step=0.001)
        t.ok(dt is not None and dt < 1.0, "B sees A's %s within a second "
             "(%s)" % (name, "%.1f ms" % (dt * 1000) if dt is not None
                       else "not in 5 s"))
        if dt is not None:
            times.append(dt * 1000)
    if times:
        t.diag("coherence: %s ms (goal 100 ms: %s)" % (
            " ".join("%.0f" % x for x in times),
            "met" if max(times) <= 100 else "NOT met"))

    # --- locks are the cluster's ----------------------------------------------
    fa = open(os.path.join(A, "lockfile"), "w")
    fcntl.lockf(fa, fcntl.LOCK_EX)
    fb = open(os.path.join(B, "lockfile"), "w")
    e = err(fcntl.lockf, fb, fcntl.LOCK_EX | fcntl.LOCK_NB)
    t.ok(e in ("EAGAIN", "EACCES"), "A's fcntl lock holds against B (%s)" %
         e)
    fcntl.lockf(fa, fcntl.LOCK_UN)
    e = err(fcntl.lockf, fb, fcntl.LOCK_EX | fcntl.LOCK_NB)
    t.ok(e == "OK", "and B takes it once A lets go (%s)" % e)
    fa.close()
    fb.close()

    # --- read-only ----------------------------------------------------------
    t.ok(open(os.path.join(C, "seeded")).read() == "SEE",
         "the read-only mount reads")
    ro = [("write", lambda: open(os.path.join(C, "seeded"), "a")),
          ("create", lambda: open(os.path.join(C, "x"), "w")),
          ("mkdir", lambda: os.mkdir(os.path.join(C, "d"))),
          ("unlink", lambda: os.unlink(os.path.join(C, "seeded"))),
          ("rename", lambda: os.rename(os.path.join(C, "seeded"),
                                       os.path.join(C, "s2"))),
          ("chmod", lambda: os.chmod(os.path.join(C, "seeded"), 0o777)),
          ("truncate", lambda: os.truncate(os.path.join(C, "seeded"), 0)),
          ("setxattr", lambda: os.setxattr(os.path.join(C, "seeded"),
                                           "user.z", b"1"))]
    for name, fn in ro:
        e = err(fn)
        t.ok(e == "EROFS", "read-only: %s is EROFS (%s)" % (name, e))
    t.ok(fs.stat(b"/drive/seeded").st_size == 3,
         "and Ceph's file is as it was")
    sv = os.statvfs(C)
    t.ok(sv.f_flag & os.ST_RDONLY, "statvfs says read-only")
    fs.unmount()
    fs.shutdown()

    for n in ("a", "b", "c"):
        t.ok(os.path.exists("/proc/%d" % pid_of(n)),
             "blfs %s is alive after all that (no SIGSYS)" % n.upper())
finally:
    for mp in mounts:
        subprocess.run([DRIVER, "umount", mp], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    for n in ("a", "b", "c"):
        try:
            p = pid_of(n)
            for _ in range(100):
                os.kill(p, 0)
                time.sleep(0.05)
        except (OSError, ValueError):
            pass
    if os.path.exists(cdir):
        subprocess.run(["bash", CLUSTER, "stop", cdir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(top, ignore_errors=True)
t.done()
