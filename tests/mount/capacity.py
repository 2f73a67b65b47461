"""A drive's capacity, with real agents and mounts: writes, truncates and
fallocate past it fail with ENOSPC and change nothing; statfs shows a
disk of the capacity; the usage is the drive's, shared by two mounts in
two mount namespaces (together they never store more than the capacity,
and nothing is refused while a whole chunk is free); freed space comes
back; blctl drive get shows it; update grows the capacity and shrinks it
only down to the usage (EINVAL naming both); a blfs killed mid-way
leaves the usage counted again from the files at the next mount; bad
sizes and hand-edited drive.json values are refused naming the field.
Run as root."""

import errno
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mounttest import blrpc, NsAgent, blctl, err, need_root, \
    unmount_all_under  # noqa: E402

KIB = 1024
MIB = 1024 * 1024


def write(path, n, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC):
    fd = os.open(path, flags, 0o644)
    try:
        os.write(fd, b"x" * n)
    finally:
        os.close(fd)


t = blrpc.Tap()
need_root()

top = tempfile.mkdtemp(prefix="blcap.", dir="/tmp")
os.chmod(top, 0o755)
store = os.path.join(top, "store")
blfs = os.path.join(blrpc.builddir(), "blfs", "blfs")


def files_bytes(d):
    return sum(os.lstat(os.path.join(dp, f)).st_size
               for dp, _, fs in os.walk(d) for f in fs)


def get_json(name):
    r = blctl("drive", "--store", store, "--json", "get", name)
    return json.loads(r.stdout) if r.returncode == 0 else {}


try:
    # Bad input, refused whole.
    for bad, why in (("99999999999999999999999", "not a size"),
                     ("18446744073709551616", "larger than"),
                     ("9999999PiB", "larger than"),
                     ("10XB", "unknown unit"), ("0", "holds nothing"),
                     ("-5", "not a size"), ("1.5GiB", "unknown unit")):
        r = blctl("drive", "--store", store, "create", "bad",
                  "--capacity", bad)
        t.ok(r.returncode == 2 and "--capacity" in r.stderr and
             why in r.stderr, "--capacity %s is refused (%s)" % (bad, why),
             r.stderr)
    t.ok(not os.path.exists(os.path.join(store, "drives", "bad")),
         "and nothing was made")

    r = blctl("drive", "--store", store, "create", "d", "--capacity",
              "1MiB")
    t.ok(r.returncode == 0 and "1 MiB (1048576 bytes)" in r.stdout,
         "a drive of 1 MiB", r.stderr + r.stdout)
    dj = json.load(open(os.path.join(store, "drives", "d", "drive.json")))
    t.ok(dj.get("capacity_bytes") == MIB, "drive.json keeps capacity_bytes")
    data = os.path.join(store, "drives", "d", "data")

    a = NsAgent("--store", store, "--blfs", blfs,
                tmpdir=tempfile.mkdtemp(prefix="a.", dir=top))
    t.agents.append(a)
    ca = blrpc.Client(a.control)
    e, res = ca.call("Mount", {"drive": "d", "mount_path":
                               os.path.join(top, "ma"), "wait": True},
                     timeout=15)
    t.ok(e is None and res["state"] == "mounted", "A mounts it", str(e))
    A = "/proc/%d/root%s" % (a.pid, os.path.join(top, "ma"))

    sv = os.statvfs(A)
    t.ok(sv.f_blocks * sv.f_frsize == MIB and
         sv.f_bavail * sv.f_frsize == MIB, "statfs: a 1 MiB disk, all free "
         "(%d of %d)" % (sv.f_bavail * sv.f_frsize, sv.f_blocks *
                         sv.f_frsize))
    write(os.path.join(A, "big"), 900 * KIB)
    sv = os.statvfs(A)
    free_b = sv.f_bavail * sv.f_frsize
    t.ok(120 * KIB <= free_b <= 124 * KIB, "900 KiB written: %d bytes "
         "free" % free_b)
    e, st = ca.call("Stats", {"mount_path": os.path.join(top, "ma")})
    m = st["mounts"][0] if e is None else {}
    t.ok(m.get("capacity_bytes") == MIB and
         700 * KIB <= (m.get("used_bytes") or 0) <= MIB,
         "Stats shows the drive's capacity and use: %s of %s" %
         (m.get("used_bytes"), m.get("capacity_bytes")))
    t.ok(err(write, os.path.join(A, "more"), 200 * KIB) == "ENOSPC",
         "a write past the capacity fails with ENOSPC")
    t.ok(err(os.truncate, os.path.join(A, "big"), 2 * MIB) == "ENOSPC" and
         os.path.getsize(os.path.join(A, "big")) == 900 * KIB,
         "a truncate past it too, and the file keeps its size")
    fd = os.open(os.path.join(A, "fa"), os.O_RDWR | os.O_CREAT, 0o644)
    r1 = err(os.posix_fallocate, fd, 0, 2 * MIB)
    os.close(fd)
    t.ok(r1 == "ENOSPC" and os.path.getsize(os.path.join(A, "fa")) == 0,
         "fallocate past it too (%s)" % r1)
    t.ok(files_bytes(data) <= MIB, "the files hold %d bytes, at most the "
         "capacity" % files_bytes(data))

    # Space freed comes back.
    os.unlink(os.path.join(A, "big"))
    t.ok(err(write, os.path.join(A, "again"), 800 * KIB) == "OK",
         "after an unlink the space is there again")
    write(os.path.join(A, "again"), 10 * KIB)	# O_TRUNC gives back
    t.ok(err(write, os.path.join(A, "third"), 900 * KIB) == "OK",
         "and after an O_TRUNC")
    os.unlink(os.path.join(A, "third"))
    os.unlink(os.path.join(A, "again"))
    os.unlink(os.path.join(A, "more"))
    os.unlink(os.path.join(A, "fa"))

    # Two mounts share the capacity.
    b = NsAgent("--store", store, "--blfs", blfs,
                tmpdir=tempfile.mkdtemp(prefix="b.", dir=top))
    t.agents.append(b)
    cb = blrpc.Client(b.control)
    e, res = cb.call("Mount", {"drive": "d", "mount_path":
                               os.path.join(top, "mb"), "wait": True},
                     timeout=15)
    t.ok(e is None and res["state"] == "mounted", "B mounts it too",
         str(e))
    B = "/proc/%d/root%s" % (b.pid, os.path.join(top, "mb"))
    pids = []
    for side, root in (("a", A), ("b", B)):
        pid = os.fork()
        if pid == 0:
            n = 0
            try:
                while n < 2000:
                    write(os.path.join(root, "%s%d" % (side, n)), 4 * KIB)
                    n += 1
            except OSError as ex:
                os._exit(0 if ex.errno == errno.ENOSPC else 1)
            os._exit(2)
        pids.append(pid)
    codes = [os.waitpid(p, 0)[1] >> 8 for p in pids]
    got = files_bytes(data)
    t.ok(codes == [0, 0], "both sides wrote until ENOSPC (%s)" % codes)
    t.ok(got <= MIB, "together they store %d bytes: never past the "
         "capacity" % got)
    t.ok(got >= MIB - 2 * 64 * KIB, "and nothing was refused while more "
         "than a chunk per mount was free (%d free)" % (MIB - got))
    gj = get_json("d")
    t.ok(gj.get("capacity_bytes") == MIB and "used_bytes" in gj,
         "blctl drive get shows capacity and use: %s" %
         {k: gj.get(k) for k in ("capacity_bytes", "used_bytes",
                                 "held_bytes")})

    # Capacity updates.
    r = blctl("drive", "--store", store, "update", "d", "--capacity",
              "64KiB")
    t.ok(r.returncode == 1 and "64 KiB (65536 bytes)" in r.stderr and
         "below what" in r.stderr and "uses now" in r.stderr,
         "shrinking below the usage is refused naming both", r.stderr)
    t.ok(json.load(open(os.path.join(store, "drives", "d",
                                     "drive.json")))["capacity_bytes"] ==
         MIB, "and drive.json is unchanged")
    r = blctl("drive", "--store", store, "update", "d", "--capacity",
              "4MiB")
    t.ok(r.returncode == 0 and "4 MiB" in r.stdout, "growing it is fine",
         r.stderr)

    # A blfs killed while holding space: the next mount counts again.
    for c_, mp in ((ca, "ma"), (cb, "mb")):
        c_.call("Unmount", {"mount_path": os.path.join(top, mp)},
                timeout=30)
    e, res = ca.call("Mount", {"drive": "d", "mount_path":
                               os.path.join(top, "ma"), "wait": True},
                     timeout=15)
    write(os.path.join(A, "before-kill"), 300 * KIB)
    usage = open(os.path.join(store, "drives", "d", "usage")).read()
    t.ok("held ms-" in usage, "a mount holds space: %s" %
         usage.replace("\n", "; "))
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            cmd = open("/proc/%s/cmdline" % pid, "rb").read()
        except OSError:
            continue
        if b"blfs" in cmd and res["mount_session_id"].encode() in cmd:
            os.kill(int(pid), signal.SIGKILL)
    time.sleep(0.5)
    ca.call("Unmount", {"mount_path": os.path.join(top, "ma")}, timeout=30)
    e, res = ca.call("Mount", {"drive": "d", "mount_path":
                               os.path.join(top, "ma"), "wait": True},
                     timeout=15)
    t.ok(e is None and res["state"] == "mounted", "mounted again after "
         "its blfs was killed", str(e))
    gj = get_json("d")
    t.ok(gj.get("used_bytes") == files_bytes(data),
         "the usage was counted again from the files: %s = %d" %
         (gj.get("used_bytes"), files_bytes(data)))
    log = open(a.logpath).read()
    t.ok("counted again from its files" in log, "and the agent said so")

    # drive.json edited by hand: refused naming the field.
    p = os.path.join(store, "drives", "d", "drive.json")
    orig = open(p).read()
    for v in ('"10"', '-1', '0', '1.5', 'null', '18446744073709551616'):
        j = orig.replace('"capacity_bytes": %d' % (4 * MIB),
                         '"capacity_bytes": %s' % v)
        open(p, "w").write(j)
        r = blctl("drive", "--store", store, "get", "d")
        # jansson itself refuses integers past 64 bits, naming the place.
        t.ok(r.returncode == 1 and ("capacity_bytes" in r.stderr or
                                    "too big integer" in r.stderr),
             "capacity_bytes %s in drive.json is refused naming it" % v,
             r.stderr)
    open(p, "w").write(orig)
finally:
    for ag in t.agents:
        ag.stop()
    unmount_all_under(top)
    shutil.rmtree(top, ignore_errors=True)
t.done()
