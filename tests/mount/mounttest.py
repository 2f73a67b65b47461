"""Helpers of the Python mount tests: real agents (in a mount namespace
of their own for another sandbox), blctl, and waiting for a condition."""

import errno
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "rpc"))
import blrpc  # noqa: E402,F401  (the tests use it through this module)


class NsAgent(blrpc.Agent):
    """An agent in a mount namespace of its own: another sandbox."""

    def __init__(self, *extra, tmpdir):
        os.makedirs(tmpdir, mode=0o755, exist_ok=True)
        super().__init__(*extra, tmpdir=tmpdir)

    def argv(self, foreground=True):
        return ["unshare", "--mount", "--propagation", "private", "--"] + \
            super().argv(foreground)


def blctl(*args):
    return subprocess.run([blrpc.blctl_path()] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def until(fn, limit, step=0.0005):
    """Seconds until fn() holds (an OSError counts as not yet), polling
    every step; None if not within limit."""
    start = time.monotonic()
    while True:
        try:
            if fn():
                return time.monotonic() - start
        except OSError:
            pass
        if time.monotonic() - start > limit:
            return None
        time.sleep(step)


def err(fn, *a):
    """Run fn; "OK" or the errno name it raised."""
    try:
        fn(*a)
        return "OK"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def need_root():
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        print("Bail out! needs root and /dev/fuse")
        sys.exit(1)


def unmount_all_under(top):
    """Whatever a test left mounted below top, detached, deepest first."""
    subprocess.run(["sh", "-c", "grep -o ' %s[^ ]* ' /proc/self/mounts | "
                    "sort -r | xargs -r -n1 umount -l" % top])
