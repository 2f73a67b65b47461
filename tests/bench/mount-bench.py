"""make bench: Mount RPC -> mounted latency of blagent, next to the floor
of a FUSE mount on this machine (tests/bench/mount-floor.c: open
/dev/fuse, mount, exec a minimal libfuse server, INIT, a first statvfs)
and to the time bindfs takes to mount the same directory, all measured
here in the same run. Prints figures and ratios;
asserts nothing about time. Needs root and /dev/fuse."""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "rpc"))
import blrpc  # noqa: E402

N = int(os.environ.get("MOUNT_BENCH_N", "100"))
build = os.environ["top_builddir"]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def ms(ns):
    return ns / 1e6


def main():
    tmp = tempfile.mkdtemp(prefix="blbench.")
    store = os.path.join(tmp, "store")
    subprocess.run([os.path.join(build, "blctl", "blctl"), "drive",
                    "--store", store, "create", "bench"], check=True,
                   stdout=subprocess.DEVNULL)
    run = os.path.join(tmp, "run")
    os.makedirs(run)
    agent = subprocess.Popen(
        [os.path.join(build, "agent", "blagent"), "--foreground",
         "--control-socket", os.path.join(run, "c.sock"),
         "--status-socket", os.path.join(run, "s.sock"),
         "--state-dir", os.path.join(run, "state"), "--store", store,
         "--blfs", os.path.join(build, "blfs", "blfs"),
         "--token", os.path.join(tmp, "token"), "--log-level", "warn"])
    try:
        for _ in range(200):
            if os.path.exists(os.path.join(run, "c.sock")):
                break
            time.sleep(0.02)
        cl = blrpc.Client(os.path.join(run, "c.sock"), timeout=60)

        # One at a time: Mount with wait=true, answered once mounted.
        seq = []
        for i in range(N):
            path = os.path.join(tmp, "mnt", "s%d" % i)
            t0 = time.monotonic_ns()
            err, res = cl.call("Mount", {"drive": "bench",
                                         "mount_path": path, "wait": True},
                               timeout=60)
            seq.append(time.monotonic_ns() - t0)
            assert err is None and res["state"] == "mounted", (err, res)
            err, _ = cl.call("Unmount", {"mount_path": path}, timeout=60)
            assert err is None, err

        # 100 at once: pipelined on one connection, each answered when
        # its own mount is up.
        t0 = time.monotonic_ns()
        ids = {}
        for i in range(N):
            path = os.path.join(tmp, "mnt", "p%d" % i)
            ids[cl.request("Mount", {"drive": "bench", "mount_path": path,
                                     "wait": True})] = path
        par = []
        while ids:
            msg = cl.recv(timeout=60)
            if msg[0] != blrpc.RESPONSE or msg[1] not in ids:
                continue
            par.append(time.monotonic_ns() - t0)
            assert msg[2] is None, msg[2]
            del ids[msg[1]]
        all_at_once = time.monotonic_ns() - t0
        for i in range(N):
            cl.call("Unmount", {"mount_path": os.path.join(tmp, "mnt",
                                                           "p%d" % i)},
                    timeout=60)

        # Baseline: bindfs from a standing start to a mounted directory.
        src = os.path.join(store, "drives", "bench", "data")
        base = []
        for i in range(min(N, 50)):
            dst = os.path.join(tmp, "bindfs", str(i))
            os.makedirs(dst)
            t0 = time.monotonic_ns()
            subprocess.run(["bindfs", src, dst], check=True)
            os.statvfs(dst)
            base.append(time.monotonic_ns() - t0)
            subprocess.run(["umount", dst], check=True)

        # The floor: /dev/fuse, mount(2), exec of a minimal libfuse
        # server, INIT and a first statvfs (tests/bench/mount-floor.c).
        fdir = os.path.join(tmp, "floor")
        os.makedirs(fdir)
        out = subprocess.run([os.path.join(build, "tests", "bench",
                                           "mount-floor"), fdir, str(N)],
                             stdout=subprocess.PIPE, check=True,
                             universal_newlines=True).stdout
        floor = [int(x) for x in out.split()]

        b50, b99 = pct(base, 50), pct(base, 99)
        f50, f99 = pct(floor, 50), pct(floor, 99)
        s50, s99 = pct(seq, 50), pct(seq, 99)
        print("mount latency, %d mounts (ms)       p50      p99   p50/floor"
              "  p50/bindfs" % N)
        print("  floor (open, mount, exec, INIT) %5.2f %8.2f" %
              (ms(f50), ms(f99)))
        print("  bindfs (baseline)            %8.2f %8.2f   %6.2fx" %
              (ms(b50), ms(b99), b50 / f50))
        print("  blagent Mount, one at a time %8.2f %8.2f   %6.2fx   %6.2fx" %
              (ms(s50), ms(s99), s50 / f50, s50 / b50))
        print("  blagent Mount, %d at once   %8.2f %8.2f   (all %d in %.1f ms)"
              % (N, ms(pct(par, 50)), ms(pct(par, 99)), N, ms(all_at_once)))
        print("  goal: one-at-a-time p50 <= 2x the floor: %.2fx %s" %
              (s50 / f50, "met" if s50 <= 2 * f50 else "NOT met"))
        print("  goal: one-at-a-time p99 <= 10 ms: %.2f ms %s" %
              (ms(s99), "met" if ms(s99) <= 10 else "NOT met"))
    finally:
        agent.terminate()
        agent.wait()
        subprocess.run("grep -o ' %s[^ ]* ' /proc/self/mounts | "
                       "xargs -r -n1 umount -l" % tmp, shell=True)
        shutil.rmtree(tmp, ignore_errors=True)


main()
