#!/usr/bin/python3
"""blctl against the real agent (our C client end to end): ping and
status in human and --json form, exit status 0 on success, 1 when the
agent answers an error (its message on stderr), 2 on usage errors."""

import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blrpc import Tap, blctl_path  # noqa: E402


def blctl(*args, timeout=10):
    return subprocess.run([blctl_path()] + list(args), capture_output=True,
                          text=True, timeout=timeout)


def ping_and_status(tap, agent):
    for sock, which in ((agent.control, "control"), (agent.status, "status")):
        r = blctl("--socket", sock, "ping")
        tap.ok(r.returncode == 0 and re.match(
            r"^blagent \S+, up \d+ ms, answered in \d+ ms\n$", r.stdout),
            "blctl ping on the %s socket exits 0 printing version and "
            "uptime" % which, "exit %d: %r %r" % (r.returncode, r.stdout,
                                                  r.stderr))
    r = blctl("--socket", agent.control, "--json", "ping")
    try:
        j = json.loads(r.stdout)
    except ValueError:
        j = None
    tap.ok(r.returncode == 0 and isinstance(j, dict) and
           isinstance(j.get("version"), str) and
           isinstance(j.get("uptime_ms"), int),
           "blctl --json ping prints {version, uptime_ms} as JSON",
           "exit %d: %r" % (r.returncode, r.stdout))
    r = blctl("--json", "--socket", agent.status, "status")
    try:
        j = json.loads(r.stdout)
    except ValueError:
        j = None
    tap.ok(r.returncode == 0 and isinstance(j, list),
           "blctl --json status prints the mounts as a JSON array",
           "exit %d: %r %r" % (r.returncode, r.stdout, r.stderr))
    r = blctl("--socket", agent.control, "status")
    tap.ok(r.returncode == 0 and r.stdout.split("\n")[0].split()[:3] ==
           ["ID", "DRIVE", "PATH"], "blctl status prints a table with a "
           "header", "exit %d: %r" % (r.returncode, r.stdout))


def agent_errors_exit_1(tap, agent):
    r = blctl("--socket", agent.status, "mount", "d1", "/mnt/blctl-x")
    tap.ok(r.returncode == 1 and "EPERM" in r.stderr and
           "control socket" in r.stderr and r.stdout == "",
           "blctl mount on the status socket exits 1 with the agent's "
           "EPERM message on stderr", "exit %d: %r" % (r.returncode,
                                                       r.stderr))
    r = blctl("--socket", agent.status, "unmount", "/mnt/blctl-x")
    tap.ok(r.returncode == 1 and "EPERM" in r.stderr,
           "blctl unmount on the status socket exits 1 with EPERM",
           "exit %d: %r" % (r.returncode, r.stderr))
    missing = os.path.join(agent.dir, "nowhere.sock")
    r = blctl("--socket", missing, "ping")
    tap.ok(r.returncode == 1 and missing in r.stderr,
           "blctl ping on a missing socket exits 1 naming it",
           "exit %d: %r" % (r.returncode, r.stderr))


def usage_errors_exit_2(tap, agent):
    s = ["--socket", agent.control]
    cases = [
        ([], "no command"),
        (s + ["frobnicate"], "frobnicate"),
        (s + ["ping", "extra"], "ping takes no arguments"),
        (["--socket"], "--socket"),
        (s + ["status", "a", "b"], "status"),
        (s + ["mount", "d1"], "DRIVE and PATH"),
        (s + ["mount", "d1", "/m", "--bogus"], "--bogus"),
        (s + ["mount", "--cache-size", "lots", "d1", "/m"], "lots"),
        (s + ["mount", "--timeout", "soon", "d1", "/m"], "soon"),
        (s + ["unmount"], "ID or a PATH"),
        (s + ["unmount", "a", "b"], "one ID or PATH"),
        (s + ["unmount", "/m", "--frob"], "--frob"),
        (s + ["wait", "--timeout", "soon"], "soon"),
        (s + ["watch", "x"], "watch takes no arguments"),
    ]
    for args, word in cases:
        r = blctl(*args)
        tap.ok(r.returncode == 2 and word in r.stderr and
               r.stderr.startswith("blctl: "),
               "blctl %s exits 2 saying %r" % (" ".join(args[2:] if
                                                       args[:1] == s[:1]
                                                       else args), word),
               "exit %d: %r" % (r.returncode, r.stderr))
    r = blctl("--help")
    tap.ok(r.returncode == 0 and r.stdout.startswith("usage: blctl"),
           "blctl --help exits 0 with usage on stdout", "exit %d" %
           r.returncode)
    r = blctl("--version")
    tap.ok(r.returncode == 0 and r.stdout.startswith("blctl "),
           "blctl --version exits 0", "exit %d" % r.returncode)


def watch_ends_when_agent_goes(tap, agent):
    p = subprocess.Popen([blctl_path(), "--socket", agent.status, "watch"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    time.sleep(0.5)
    tap.ok(p.poll() is None, "blctl watch keeps running once subscribed")
    agent.stop(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    tap.ok(p.returncode == 1 and "closed" in err,
           "when the agent stops, blctl watch exits 1 saying the "
           "connection closed", "exit %r: %r" % (p.returncode, err))


def fake_agent(path, reply):
    """A one-connection server at path that answers with reply(request)."""
    import socket
    import threading
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        conn.settimeout(5)
        try:
            data = conn.recv(65536)
            out = reply(data)
            if out:
                conn.sendall(out)
            time.sleep(0.3)
        except OSError:
            pass
        finally:
            conn.close()
            srv.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


def client_bounds_against_a_hostile_agent(tap, agent):
    """Our client (rpc/client.c, in blctl) trusts a server no more than
    the server trusts clients."""
    import msgpack
    cases = [
        ("a 4 GB str32", lambda req: b"\xdb\xff\xff\xff\xff",
         "bad message"),
        ("an array32 of 2^32-1", lambda req: b"\xdd\xff\xff\xff\xff",
         "bad message"),
        ("1000 nested arrays", lambda req: b"\x91" * 1000 + b"\xc0",
         "bad message"),
        ("a close without answer", lambda req: b"", "closed"),
        ("garbage", lambda req: b"\xc1\xc1", "bad message"),
    ]
    for i, (name, reply, word) in enumerate(cases):
        path = os.path.join(agent.dir, "fake%d.sock" % i)
        t = fake_agent(path, reply)
        t0 = time.monotonic()
        r = blctl("--socket", path, "ping")
        dt = time.monotonic() - t0
        t.join(5)
        tap.ok(r.returncode == 1 and word in r.stderr and dt < 3,
               "blctl ping against an agent answering %s exits 1 saying "
               "%r, at once" % (name, word), "exit %d after %.2f s: %r" %
               (r.returncode, dt, r.stderr))

    # Messages that are not its answer are skipped: a notification, an
    # answer to another msgid, then its own.
    def mixed(req):
        msgid = msgpack.unpackb(req, raw=False)[1]
        return (msgpack.packb([2, "MountStateChanged", [{}]]) +
                msgpack.packb([1, msgid + 1000, None, {"version": "x"}]) +
                msgpack.packb([1, msgid, None, {"version": "9.9",
                                                "uptime_ms": 5}]))
    path = os.path.join(agent.dir, "fake-mixed.sock")
    t = fake_agent(path, mixed)
    r = blctl("--socket", path, "ping")
    t.join(5)
    tap.ok(r.returncode == 0 and "blagent 9.9, up 5 ms" in r.stdout,
           "blctl skips a notification and another msgid's answer and "
           "takes its own", "exit %d: %r %r" % (r.returncode, r.stdout,
                                                 r.stderr))


if __name__ == "__main__":
    tap = Tap()
    try:
        agent = tap.agent()
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "blagent starts", repr(e))
    else:
        for t in (ping_and_status, agent_errors_exit_1, usage_errors_exit_2,
                  client_bounds_against_a_hostile_agent,
                  watch_ends_when_agent_goes):
            tap.run(t, agent)
    tap.done()
