"""Volumes, with real agents, real loop devices and real ext4: create
(empty, from a template directory, from .tar.gz and .tar.zst archives,
owners and modes kept), bad input refused whole, mount read-write and
read-only (nosuid,nodev; the loop device read-only too), a subtree
mounted alone, one mount at a time across two agents in two mount
namespaces, delete and grow refused while mounted, grow (never shrink)
while not, unmount detaching the loop device, a forced detach with a file
open keeping the volume locked until it closes, re-adoption by a
restarted agent, and the failures: image missing, not ext4, damaged,
the store full. Run as root."""

import errno
import fcntl
import glob
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mounttest import blrpc, NsAgent, blctl, err, need_root, until, \
    unmount_all_under  # noqa: E402

MIB = 1024 * 1024

t = blrpc.Tap()
need_root()

top = tempfile.mkdtemp(prefix="blvol.", dir="/tmp")
os.chmod(top, 0o755)
store = os.path.join(top, "store")
blfs = os.path.join(blrpc.builddir(), "blfs", "blfs")


def drive(*a):
    return blctl("drive", "--store", store, *a)


def image(name):
    return os.path.join(store, "drives", name, "volume.img")


def loops_of(name):
    """Loop devices whose backing file is the volume's image."""
    want = os.path.realpath(image(name))
    found = []
    for f in glob.glob("/sys/block/loop*/loop/backing_file"):
        try:
            if open(f).read().strip() == want:
                found.append(f.split("/")[3])
        except OSError:
            pass
    return found


def holders(name):
    r = subprocess.run(["pgrep", "-f", "--", "--volume-fd=.*--drive=%s "
                        ".*--mount-path=%s/" % (name, top)],
                       stdout=subprocess.PIPE, universal_newlines=True)
    return r.stdout.split()


def held_locks(name):
    """Mount lock files of the drive that someone holds (F_OFD_GETLK)."""
    mdir = os.path.join(store, "drives", name, "mounts")
    held = []
    for f in os.listdir(mdir) if os.path.isdir(mdir) else []:
        try:
            fd = os.open(os.path.join(mdir, f), os.O_RDONLY)
        except OSError:
            continue
        try:
            got = fcntl.fcntl(fd, fcntl.F_OFD_GETLK,
                              struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
        finally:
            os.close(fd)
        if struct.unpack("hhqqi", got)[0] != fcntl.F_UNLCK:
            held.append(f)
    return held


def mount(c, name, path, **kw):
    p = {"drive": name, "mount_path": path, "wait": True}
    p.update(kw)
    return c.call("Mount", p, timeout=30)


def unmount(c, path, force=False):
    return c.call("Unmount", {"mount_path": path, "force": force},
                  timeout=15)


def write(path, data=b"x"):
    with open(path, "wb") as f:
        f.write(data)


def mountinfo(pid, path):
    for line in open("/proc/%d/mountinfo" % pid):
        f = line.split()
        if f[4] == path:
            dash = f.index("-")
            return {"opts": f[5].split(","), "fstype": f[dash + 1],
                    "source": f[dash + 2]}
    return None


try:
    # --- bad input: refused whole, nothing made ---------------------------
    for args, why in ((["--kind", "volume"], "needs --size"),
                      (["--kind", "volume", "--size", "8MiB"],
                       "16MiB at least"),
                      (["--size", "64MiB"], "add --kind volume"),
                      (["--template", "/tmp"], "add --kind volume"),
                      (["--kind", "disk"], "not drive or volume"),
                      (["--kind", "volume", "--size", "64MiB",
                        "--access-mode", "rwx"], "a volume is RWO"),
                      (["--kind", "volume", "--size", "64MiB",
                        "--capacity", "1GiB"], "takes no capacity")):
        r = drive("create", "bad", *args)
        t.ok(r.returncode == 2 and why in r.stderr,
             "create %s is refused (%s)" % (" ".join(args), why), r.stderr)
    r = drive("create", "bad", "--kind", "volume", "--size", "64MiB",
              "--template", os.path.join(top, "nothing-here"))
    t.ok(r.returncode == 1 and "nothing-here" in r.stderr,
         "a missing template is refused, naming it", r.stderr)
    t.ok(not os.path.exists(os.path.join(store, "drives", "bad")),
         "and nothing was made")

    # --- an empty volume ---------------------------------------------------
    r = drive("create", "empty", "--kind", "volume", "--size", "64MiB")
    t.ok(r.returncode == 0 and "volume" in r.stdout and
         "64 MiB (67108864 bytes)" in r.stdout,
         "an empty volume of 64 MiB", r.stderr + r.stdout)
    dj = json.load(open(os.path.join(store, "drives", "empty",
                                     "drive.json")))
    t.ok(dj.get("kind") == "volume" and dj.get("size_bytes") == 64 * MIB and
         dj.get("access_mode") == "RWO",
         "drive.json says kind volume, size_bytes and RWO: %s" % dj)
    st = os.stat(image("empty"))
    t.ok(st.st_size == 64 * MIB and st.st_blocks * 512 < 16 * MIB and
         st.st_mode & 0o777 == 0o600,
         "volume.img is sparse (%d of %d bytes taken) and 0600" %
         (st.st_blocks * 512, st.st_size))
    t.ok(not os.path.exists(os.path.join(store, "drives", "empty", "data")),
         "a volume has no data/ directory")

    # --- templates: a directory, .tar.gz, .tar.zst -------------------------
    tpl = os.path.join(top, "tpl")
    os.makedirs(os.path.join(tpl, "app", "private"))
    write(os.path.join(tpl, "app", "config"), b"answer=42\n")
    os.chown(os.path.join(tpl, "app", "config"), 1234, 55)
    os.chmod(os.path.join(tpl, "app", "config"), 0o640)
    os.chown(os.path.join(tpl, "app", "private"), 1000, 1000)
    os.chmod(os.path.join(tpl, "app", "private"), 0o700)
    os.symlink("config", os.path.join(tpl, "app", "link"))
    os.utime(os.path.join(tpl, "app", "config"), (1000000000, 1000000000))
    for ext, comp in (("tar.gz", "--gzip"), ("tar.zst", "--zstd")):
        subprocess.run(["tar", "--create", comp, "--numeric-owner",
                        "--file", os.path.join(top, "tpl." + ext),
                        "-C", tpl, "."], check=True)
    for name, src in (("fromdir", tpl),
                      ("fromgz", os.path.join(top, "tpl.tar.gz")),
                      ("fromzst", os.path.join(top, "tpl.tar.zst"))):
        r = drive("create", name, "--kind", "volume", "--size", "32MiB",
                  "--template", src)
        t.ok(r.returncode == 0, "volume %s from %s" %
             (name, os.path.basename(src)), r.stderr)
    t.ok(not os.path.exists(os.path.join(store, "drives", "fromgz",
                                         ".template")),
         "the unpacked archive is gone once the image is made")

    # --- mounted read-write by agent A -------------------------------------
    a = NsAgent("--store", store, "--blfs", blfs,
                tmpdir=tempfile.mkdtemp(prefix="a.", dir=top))
    t.agents.append(a)
    ca = blrpc.Client(a.control)
    ma = os.path.join(top, "ma")
    e, res = mount(ca, "fromzst", ma)
    t.ok(e is None and res["state"] == "mounted", "A mounts volume fromzst",
         str(e))
    A = "/proc/%d/root%s" % (a.pid, ma)
    mi = mountinfo(a.pid, ma)
    t.ok(mi is not None and mi["fstype"] == "ext4" and
         mi["source"].startswith("/dev/loop") and "nosuid" in mi["opts"] and
         "nodev" in mi["opts"] and "rw" in mi["opts"],
         "mountinfo: ext4 on a loop device, rw,nosuid,nodev: %s" % mi)
    t.ok(len(loops_of("fromzst")) == 1,
         "one loop device is attached to the image: %s" %
         loops_of("fromzst"))
    cs = os.lstat(os.path.join(A, "app", "config"))
    ps = os.lstat(os.path.join(A, "app", "private"))
    t.ok((cs.st_uid, cs.st_gid, cs.st_mode & 0o7777, int(cs.st_mtime)) ==
         (1234, 55, 0o640, 1000000000) and
         (ps.st_uid, ps.st_gid, ps.st_mode & 0o7777) == (1000, 1000, 0o700),
         "the archive's owners, modes and times are kept")
    t.ok(os.readlink(os.path.join(A, "app", "link")) == "config" and
         open(os.path.join(A, "app", "config")).read() == "answer=42\n",
         "and its symlink and contents")
    write(os.path.join(A, "written"), b"kept\n" * 1000)
    sv = os.statvfs(A)
    t.ok(24 * MIB <= sv.f_blocks * sv.f_frsize <= 32 * MIB,
         "statfs: a disk of about 32 MiB (%d bytes)" %
         (sv.f_blocks * sv.f_frsize))
    t.ok(len(holders("fromzst")) == 1, "one holder names the volume in its "
         "argv: %s" % holders("fromzst"))

    # --- one mount at a time -----------------------------------------------
    # B in this mount namespace, so that a restarted B finds its mounts.
    b = blrpc.Agent("--store", store, "--blfs", blfs,
                    tmpdir=tempfile.mkdtemp(prefix="b.", dir=top))
    t.agents.append(b)
    cb = blrpc.Client(b.control)
    mb = os.path.join(top, "mb")
    e, res = mount(cb, "fromzst", mb)
    t.ok(e is not None and e.get("code") == "EBUSY" and
         "mounted already" in e.get("message", ""),
         "B's mount of the same volume is EBUSY", str(e))
    e, res = mount(ca, "fromzst", os.path.join(top, "ma2"))
    t.ok(e is not None and e.get("code") == "EBUSY",
         "so is a second mount by A", str(e))
    t.ok(len(loops_of("fromzst")) == 1, "and the image is attached once")
    r = drive("delete", "fromzst")
    t.ok(r.returncode == 1 and "mounted" in r.stderr,
         "delete while mounted is refused", r.stderr)
    r = drive("update", "fromzst", "--size", "64MiB")
    t.ok(r.returncode == 1 and "mounted" in r.stderr and
         "EBUSY" in r.stderr or "unmount it" in r.stderr,
         "growing while mounted is refused", r.stderr)

    # --- unmount: the loop device goes -------------------------------------
    e, res = unmount(ca, ma)
    t.ok(e is None, "A unmounts it", str(e))
    t.ok(until(lambda: not loops_of("fromzst") and not holders("fromzst"),
               5) is not None,
         "the loop device is detached and the holder gone")

    # --- grow, never shrink ------------------------------------------------
    r = drive("update", "fromzst", "--size", "64MiB")
    t.ok(r.returncode == 0 and "64 MiB" in r.stdout,
         "grown to 64 MiB while not mounted", r.stderr)
    t.ok(os.path.getsize(image("fromzst")) == 64 * MIB,
         "the image is 64 MiB")
    r = drive("update", "fromzst", "--size", "48MiB")
    t.ok(r.returncode == 1 and "64 MiB" in r.stderr and
         "48 MiB" in r.stderr and "only grow" in r.stderr,
         "shrinking is refused, naming both sizes", r.stderr)
    r = drive("update", "fromdir", "--size", "16MiB")
    t.ok(r.returncode == 1 and "cannot shrink" in r.stderr,
         "so is any smaller size", r.stderr)
    r = drive("update", "fromzst", "--capacity", "1GiB")
    t.ok(r.returncode == 1 and "capacity" in r.stderr,
         "a volume takes no capacity", r.stderr)
    r = drive("create", "plain")
    r = drive("update", "plain", "--size", "64MiB")
    t.ok(r.returncode == 1 and "only a volume has a size" in r.stderr,
         "a drive takes no size", r.stderr)

    # --- read-only, by B ---------------------------------------------------
    e, res = mount(cb, "fromzst", mb, read_only=True)
    t.ok(e is None and res["state"] == "mounted", "B mounts it read-only",
         str(e))
    B = mb
    sv = os.statvfs(B)
    t.ok(56 * MIB <= sv.f_blocks * sv.f_frsize <= 64 * MIB,
         "the grown file system fills the image (%d bytes)" %
         (sv.f_blocks * sv.f_frsize))
    t.ok(open(os.path.join(B, "written"), "rb").read() == b"kept\n" * 1000,
         "what A wrote is there")
    mi = mountinfo(b.pid, mb)
    t.ok(mi is not None and "ro" in mi["opts"], "mountinfo says ro: %s" % mi)
    lo = loops_of("fromzst")
    t.ok(len(lo) == 1 and
         open("/sys/block/%s/ro" % lo[0]).read().strip() == "1",
         "and the loop device under it is read-only")
    t.ok(err(write, os.path.join(B, "written")) == "EROFS" and
         err(write, os.path.join(B, "new")) == "EROFS" and
         err(os.chmod, os.path.join(B, "written"), 0o777) == "EROFS",
         "writes are EROFS")
    if lo:
        try:
            fd = os.open("/dev/" + lo[0], os.O_RDWR)
            try:
                got = err(os.pwrite, fd, b"evil", 0)
            finally:
                os.close(fd)
        except OSError as x:
            got = errno.errorcode.get(x.errno, str(x.errno))
        t.ok(got in ("EROFS", "EACCES", "EPERM"),
             "even root cannot write its loop device: %s" % got)
    e, res = unmount(cb, mb)
    t.ok(e is None and until(lambda: not loops_of("fromzst"), 5) is not None,
         "B unmounts it; the loop device goes", str(e))

    # --- a subtree of it ---------------------------------------------------
    e, res = mount(ca, "fromdir", ma, drive_path="/app")
    t.ok(e is None and sorted(os.listdir(A)) == ["config", "link",
                                                 "private"],
         "drive_path /app mounts that subtree alone: %s" %
         (os.listdir(A) if e is None else e))
    unmount(ca, ma)
    until(lambda: not loops_of("fromdir"), 5)
    e, res = mount(ca, "fromdir", ma, drive_path="/nope")
    t.ok(e is not None and e.get("code") == "ENOENT",
         "a drive_path missing in the volume is ENOENT", str(e))
    e, res = mount(ca, "fromdir", ma, drive_path="/app/link")
    t.ok(e is not None and e.get("code") in ("ELOOP", "ENOTDIR"),
         "a symlink as drive_path is refused", str(e))
    t.ok(until(lambda: not loops_of("fromdir"), 5) is not None,
         "failed mounts leave no loop device")

    # --- a forced detach with a file open ----------------------------------
    e, res = mount(ca, "empty", ma)
    t.ok(e is None, "A mounts volume empty", str(e))
    held = open(os.path.join(A, "open-file"), "w")
    e, res = unmount(ca, ma)
    t.ok(e is not None and e.get("code") == "EBUSY",
         "unmount with a file open is EBUSY", str(e))
    e, res = unmount(ca, ma, force=True)
    t.ok(e is None, "a forced unmount detaches it", str(e))
    e, res = mount(cb, "empty", mb)
    t.ok(e is not None and e.get("code") == "EBUSY",
         "while the file stays open the volume stays locked", str(e))
    t.ok(len(loops_of("empty")) == 1 and len(holders("empty")) == 1,
         "its loop device and holder remain: %s %s" %
         (loops_of("empty"), holders("empty")))
    held.write("late\n")
    held.close()
    t.ok(until(lambda: not loops_of("empty") and not holders("empty"),
               10) is not None,
         "closing the file lets the volume go")
    e, res = mount(cb, "empty", mb)
    t.ok(e is None and open(os.path.join(mb, "open-file")).read() ==
         "late\n",
         "B mounts it then, and sees what was written through the open "
         "file", str(e))

    # --- the agent restarts ------------------------------------------------
    os.kill(b.pid, signal.SIGKILL)
    b.proc.wait()
    t.ok(len(loops_of("empty")) == 1 and len(holders("empty")) == 1,
         "B killed: the volume stays mounted and held: %s %s" %
         (loops_of("empty"), holders("empty")))
    b.notify.close()
    os.unlink(os.path.join(b.dir, "notify.%d" % id(b)))
    b.start()
    cb = blrpc.Client(b.control)
    e, res = cb.call("MountStatus", {"mount_path": mb})
    res = res[0] if e is None and res else {}
    t.ok(e is None and res.get("state") == "mounted" and
         res.get("drive") == "empty",
         "the restarted agent re-adopts it", str(e) + str(res))
    t.ok("re-adopted empty" in open(b.logpath).read(), "and says so")
    e, res = unmount(cb, mb)
    t.ok(e is None and until(lambda: not loops_of("empty") and
                             not holders("empty"), 5) is not None,
         "and unmounts it: loop device and holder gone", str(e))

    # --- failures ----------------------------------------------------------
    drive("create", "zeroed", "--kind", "volume", "--size", "16MiB")
    with open(image("zeroed"), "r+b") as f:
        f.write(b"\0" * 4096)
    e, res = mount(ca, "zeroed", ma)
    t.ok(e is not None and e.get("code") == "EIO" and
         "no ext4" in e.get("message", ""),
         "an image without ext4 fails the mount, saying so", str(e))
    drive("create", "damaged", "--kind", "volume", "--size", "16MiB")
    with open(image("damaged"), "r+b") as f:
        f.seek(1024 + 4)        # s_blocks_count: past the image
        f.write(b"\xff\xff\xff\x7f")
    before = open(image("damaged"), "rb").read()
    e, res = mount(ca, "damaged", ma)
    t.ok(e is not None and e.get("code") == "EIO" and
         "would not mount" in e.get("message", ""),
         "a damaged ext4 fails the mount with the kernel's word", str(e))
    t.ok(open(image("damaged"), "rb").read() == before,
         "and nothing repaired it behind our back")
    os.unlink(image("fromgz"))
    e, res = mount(ca, "fromgz", ma)
    t.ok(e is not None and e.get("code") == "EIO" and
         "missing" in e.get("message", ""),
         "a missing image fails the mount, saying so", str(e))
    t.ok(not any(loops_of(n) for n in ("zeroed", "damaged")),
         "no loop device is left by the failures")

    # No loop device to be had: an agent whose /dev holds loop-control
    # and no loop device node (as in a container without them).
    c_ = NsAgent("--store", store, "--blfs", blfs,
                 tmpdir=tempfile.mkdtemp(prefix="c.", dir=top))
    t.agents.append(c_)
    subprocess.run(["nsenter", "--target", str(c_.pid), "--mount", "--",
                    "sh", "-c", "mount -t tmpfs -o mode=0755 nodev /dev && "
                    "mknod -m 600 /dev/loop-control c 10 237"], check=True)
    cc = blrpc.Client(c_.control)
    e, res = mount(cc, "fromdir", os.path.join(top, "mc"))
    t.ok(e is not None and e.get("code") == "EBUSY" and
         "no free loop device" in e.get("message", ""),
         "no loop device to be had: EBUSY, saying so", str(e))
    # Answered only once the attempt let go of the volume: a mount asked
    # for next, here or by another agent, must not find it held.
    locked = held_locks("fromdir")
    t.ok(locked == [], "the failed mount holds no lock once it is "
         "answered: %s" % locked)
    e, res = cc.call("Ping", {})
    t.ok(e is None, "and that agent serves on", str(e))
    c_.stop()
    t.agents.remove(c_)
    e, res = mount(ca, "fromdir", ma)
    t.ok(e is None, "the agent serves on after them", str(e))
    unmount(ca, ma)

    # The store full: a 4 MiB store cannot hold a new file system.
    small = os.path.join(top, "small")
    os.makedirs(small)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                    small], check=True)
    big = os.path.join(top, "bigtpl")
    os.makedirs(big)
    write(os.path.join(big, "random"), os.urandom(6 * MIB))
    r = blctl("drive", "--store", small, "create", "big", "--kind",
              "volume", "--size", "1GiB", "--template", big)
    t.ok(r.returncode == 1 and ("space" in r.stderr or
                                "No space" in r.stderr),
         "a full store fails the create, saying so", r.stderr)
    t.ok(os.listdir(os.path.join(small, "drives")) == [],
         "and leaves nothing behind: %s" %
         os.listdir(os.path.join(small, "drives")))
    subprocess.run(["umount", small])

    # drive.json edited by hand: refused naming the field.
    p = os.path.join(store, "drives", "fromdir", "drive.json")
    orig = open(p).read()
    for old, new, field in (('"kind": "volume"', '"kind": "disk"', "kind"),
                            ('"size_bytes": %d' % (32 * MIB),
                             '"size_bytes": 1024', "size_bytes"),
                            ('"access_mode": "RWO"', '"access_mode": "RWX"',
                             "access_mode")):
        open(p, "w").write(orig.replace(old, new))
        r = drive("get", "fromdir")
        t.ok(r.returncode == 1 and field in r.stderr,
             "%s in drive.json is refused naming it" % new, r.stderr)
    open(p, "w").write(orig)
    r = drive("list")
    t.ok(r.returncode == 0 and "KIND" in r.stdout.splitlines()[0] and
         any(ln.split()[0] == "fromdir" and "volume" in ln.split()
             for ln in r.stdout.splitlines()[1:]),
         "drive list shows the kind", r.stdout)
    r = drive("adopt", "fromdir")
    t.ok(r.returncode == 1 and "nothing to adopt" in r.stderr,
         "adopt refuses a volume, saying why", r.stderr)
    r = drive("delete", "fromdir")
    t.ok(r.returncode == 0 and not os.path.exists(
        os.path.join(store, "drives", "fromdir")),
         "a volume that is not mounted is deleted, image and all", r.stderr)
finally:
    # Volumes still mounted: unmounted through their agents, so their
    # holders are told to go (a holder outlives its agent by design).
    for ag in t.agents:
        try:
            c = blrpc.Client(ag.control)
            e, ms = c.call("MountStatus", {})
            for m in ms or []:
                if m["state"] == "mounted":
                    c.call("Unmount", {"mount_path": m["mount_path"],
                                       "force": True}, timeout=15)
        except Exception:
            pass
    for ag in t.agents:
        ag.stop()
    unmount_all_under(top)
    shutil.rmtree(top, ignore_errors=True)
t.done()
