"""Stats and what blctl makes of it: per mount, the operations blfs
served by kind, bytes read and written, errors by errno and latency
percentiles, counted by blfs into a file the agent reads (no request to
blfs); for the agent, uptime, connections per socket, requests by method
and mounts by state. `blctl stats` prints them, `blctl metrics` in the
Prometheus text format, label values escaped. Counts survive an agent
restart; the file goes with the mount. Run as root."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mounttest import blrpc, blctl, need_root  # noqa: E402


t = blrpc.Tap()
need_root()

top = tempfile.mkdtemp(prefix="blstats.", dir="/tmp")
os.chmod(top, 0o755)
store = os.path.join(top, "store")
adir = os.path.join(top, "a")
os.mkdir(adir)
blfs = os.path.join(blrpc.builddir(), "blfs", "blfs")
# A mount path a Prometheus label must escape.
mp = os.path.join(top, 'm "q" \\b')
try:
    r = blctl("drive", "--store", store, "create", "d")
    t.ok(r.returncode == 0, "a drive", r.stderr)
    data = os.path.join(store, "drives", "d", "data")
    for i in range(3):
        with open(os.path.join(data, "seed%d" % i), "wb") as f:
            f.write(b"s" * 1500)
    a = t.agent("--store", store, "--blfs", blfs, tmpdir=adir)
    c = blrpc.Client(a.control)
    # With the writeback cache: passthrough (the default) would take the
    # reads and writes counted below away from blfs (passthrough.py).
    err, res = c.call("Mount", {"drive": "d", "mount_path": mp,
                                "options": {"writeback": True},
                                "wait": True}, timeout=10)
    t.ok(err is None and res["state"] == "mounted", "mounted", str(err))
    sid = res["mount_session_id"]
    statsfile = os.path.join(a.state, sid + ".stats")
    t.ok(os.path.isfile(statsfile), "the metrics file is in the state "
         "directory")

    for i in range(3):
        with open(os.path.join(mp, "w%d" % i), "wb") as f:
            f.write(b"w" * 1000)
    for i in range(3):
        with open(os.path.join(mp, "seed%d" % i), "rb") as f:
            f.read()
    for i in range(4):
        os.path.exists(os.path.join(mp, "missing%d" % i))
    os.mkdir(os.path.join(mp, "dir"))
    os.listdir(os.path.join(mp, "dir"))
    os.rename(os.path.join(mp, "w0"), os.path.join(mp, "w0b"))
    os.unlink(os.path.join(mp, "w0b"))

    err, res = c.call("Stats", {})
    t.ok(err is None, "Stats answers", str(err))
    ag, mounts = res["agent"], res["mounts"]
    t.ok(len(mounts) == 1 and mounts[0]["mount_session_id"] == sid,
         "one mount, ours")
    m = mounts[0]
    ops = m["operations"]
    t.ok(ops["create"] >= 4 and ops["write"] >= 3 and ops["read"] >= 3 and
         ops["lookup"] >= 4 and ops["readdir"] >= 1 and
         ops["rename"] == 1 and ops["unlink"] == 1,
         "operations by kind", str(ops))
    t.ok(m["bytes_written"] == 3000, "bytes written: %d" %
         m["bytes_written"])
    t.ok(m["bytes_read"] == 4500, "bytes read: %d" % m["bytes_read"])
    t.ok(m["errors"].get("ENOENT", 0) >= 4, "ENOENT counted: %s" %
         m["errors"])
    lat = m["latency_us"]
    t.ok(0 < lat["write"]["p50"] <= lat["write"]["p99"] and
         lat["unlink"]["p50"] > 0 and lat["fsync"]["p99"] == 0,
         "latency percentiles: %s" % lat["write"])
    t.ok(m["metrics"] is True and m["capacity_bytes"] is None,
         "metrics kept; no capacity set")
    t.ok(ag["requests"]["Mount"] == 1 and ag["requests"]["Stats"] == 1,
         "requests by method: %s" % ag["requests"])
    t.ok(ag["connections"]["control"] >= 1, "connections by socket: %s" %
         ag["connections"])
    t.ok(ag["mounts"]["mounted"] == 1, "mounts by state: %s" %
         ag["mounts"])
    t.ok(ag["uptime_ms"] > 0, "uptime")

    s = blrpc.Client(a.status)
    err, res = s.call("Stats", {"mount_path": mp})
    t.ok(err is None and len(res["mounts"]) == 1,
         "the status socket serves Stats, for one mount", str(err))
    err, res = c.call("Stats", {"mount_path": "/nowhere"})
    t.ok(err is not None and err["code"] == "ENOENT",
         "an unknown mount is ENOENT", str(err))
    err, res = c.call("Stats", {"mount_pth": mp})
    t.ok(err is not None and err["code"] == "EINVAL" and
         "mount_pth" in err["message"], "a misspelt key is EINVAL naming "
         "it", str(err))

    r = blctl("--socket", a.control, "--json", "stats", sid)
    j = json.loads(r.stdout) if r.returncode == 0 else {}
    t.ok(r.returncode == 0 and j["mounts"][0]["bytes_written"] == 3000,
         "blctl --json stats ID", r.stderr)
    r = blctl("--socket", a.control, "stats")
    t.ok(r.returncode == 0 and "bytes        read 4500, written 3000" in
         r.stdout and "ENOENT" in r.stdout, "blctl stats", r.stdout +
         r.stderr)
    r = blctl("--socket", a.status, "metrics")
    out = r.stdout
    t.ok(r.returncode == 0 and
         "# TYPE blagent_mount_operations_total counter" in out and
         "# HELP blagent_requests_total" in out, "blctl metrics: HELP and "
         "TYPE lines", r.stderr)
    esc = mp.replace("\\", "\\\\").replace('"', '\\"')
    want = ('blagent_mount_written_bytes_total{drive="d",mount_path="%s"} '
            '3000' % esc)
    t.ok(want in out, "a sample with escaped labels", want)
    bad = [ln for ln in out.splitlines() if ln and not ln.startswith("#")
           and not re.match(r'^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? '
                            r'[0-9.]+$', ln)]
    t.ok(not bad, "every sample line is well formed", str(bad[:3]))

    # The agent dies and comes back: it finds the counts again.
    before = m["operations"]["write"]
    os.kill(a.pid, signal.SIGKILL)
    a.proc.wait()
    a.notify.close()
    os.unlink(os.path.join(a.dir, "notify.%d" % id(a)))
    a.start()
    c = blrpc.Client(a.control)
    with open(os.path.join(mp, "after"), "wb") as f:
        f.write(b"x")
    err, res = c.call("Stats", {"mount_path": mp})
    t.ok(err is None and res["mounts"][0]["operations"]["write"] ==
         before + 1 and res["mounts"][0]["bytes_written"] == 3001,
         "after an agent restart the counts go on",
         str(err or res["mounts"][0]["operations"]))
    err, res = c.call("Unmount", {"mount_path": mp}, timeout=30)
    t.ok(err is None, "unmounted", str(err))
    time.sleep(0.1)
    t.ok(not os.path.exists(statsfile), "the metrics file went with it")
finally:
    for ag_ in t.agents:
        ag_.stop()
    subprocess.run(["umount", "-l", mp], stderr=subprocess.DEVNULL)
    shutil.rmtree(top, ignore_errors=True)
t.done()
