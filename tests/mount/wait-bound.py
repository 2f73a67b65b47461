"""WaitMounts, which the workload may call on the status socket, holds at
most 1024 waiting calls in all: the next is EBUSY at once, the waiting
ones are all answered when their mounts settle, and the control socket's
Mount and Unmount are never refused for it."""

import os
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "rpc"))
from blrpc import Client, Tap, blctl_path  # noqa: E402

tap = Tap()
tmp = tempfile.mkdtemp(prefix="blwait.", dir="/tmp")
store = os.path.join(tmp, "store")
subprocess.run([blctl_path(), "drive", "--store", store, "create", "d"],
               check=True, stdout=subprocess.DEVNULL)
hang = os.path.join(tmp, "blfs-hangs")
with open(hang, "w") as f:
    f.write("#!/bin/sh\nexec sleep 3002\n")
os.chmod(hang, 0o755)
agent = tap.agent("--store", store, "--blfs", hang)
try:
    ctl = Client(agent.control, timeout=30)
    err, mi = ctl.call("Mount", {"drive": "d",
                                 "mount_path": os.path.join(tmp, "m")})
    tap.ok(err is None and mi["state"] == "pending", "a mount that will "
           "hang in mounting", repr(err))
    # 1024 waiters over 8 connections (128 unanswered each at most).
    clients = [Client(agent.status, timeout=30) for _ in range(8)]
    sent = {}
    for i in range(1024):
        c = clients[i % 8]
        sent[(i % 8, c.request("WaitMounts", {"timeout_ms": 60000}))] = c
    extra = Client(agent.status, timeout=30)
    err, _ = extra.call("WaitMounts", {"timeout_ms": 60000})
    tap.ok(err is not None and err["code"] == "EBUSY",
           "the 1025th WaitMounts is EBUSY at once", repr(err))
    err, _ = ctl.call("Ping")
    tap.ok(err is None, "the control socket still answers")
    err, mi = ctl.call("Unmount", {"mount_path": os.path.join(tmp, "m")})
    tap.ok(err is None and mi["state"] == "gone",
           "Unmount is served with every WaitMounts slot taken", repr(err))
    answered = 0
    for (k, msgid), c in sent.items():
        m = c.response(msgid, timeout=30)
        e, res = m[2], m[3]
        if e is None and isinstance(res, list):
            answered += 1
    tap.ok(answered == 1024, "all 1024 waiting calls were answered",
           "%d answered" % answered)
    err, _ = extra.call("WaitMounts", {"timeout_ms": 1000})
    tap.ok(err is None, "once they are answered, WaitMounts is served again",
           repr(err))
except Exception:  # noqa: BLE001
    # A failure must still stop the agent (tap.done does) and say why.
    tap.ok(False, "the test ran to the end", traceback.format_exc())
finally:
    subprocess.run("grep -o ' %s[^ ]* ' /proc/self/mounts | "
                   "xargs -r -n1 umount -l" % tmp, shell=True)
    subprocess.run(["rm", "-rf", tmp])
tap.done()
