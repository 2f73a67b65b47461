#!/usr/bin/python3
"""blagent --vsock-port: the control protocol on AF_VSOCK for the host.
Every bad --vsock-port and --vsock-allow-cid is a usage error naming it;
the agent listens on the port (nobody else can bind it), a port in use
stops it at start with a message saying so, SIGTERM frees the port.
Where the kernel loops vsock back (vsock_loopback), a real connection
from CID 1 (VMADDR_CID_LOCAL): refused under the default list (the host
only), served with every method once CID 1 is allowed. Without that
transport those checks are reported as skipped: the CID check itself is
proved by test-vsock."""

import os
import random
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blrpc import Agent, Client, Closed, Tap, blagent_path, err_code, serves  # noqa: E402,E501

AF_VSOCK = getattr(socket, "AF_VSOCK", 40)
CID_ANY = 0xFFFFFFFF
CID_LOCAL = 1


def vsock_socket():
    try:
        return socket.socket(AF_VSOCK, socket.SOCK_STREAM)
    except OSError:
        return None


def port_taken(port):
    """True when binding port fails with EADDRINUSE: someone listens."""
    s = vsock_socket()
    try:
        s.bind((CID_ANY, port))
        return False
    except OSError as e:
        return e.errno == 98
    finally:
        s.close()


def free_port():
    for _ in range(50):
        port = random.randint(40000, 60000)
        s = vsock_socket()
        try:
            s.bind((CID_ANY, port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free vsock port")


class VsockClient(Client):
    """The test client of blrpc.py, over AF_VSOCK."""

    def __init__(self, cid, port, timeout=5.0):  # noqa: D107
        self.path = "vsock:%d:%d" % (cid, port)
        self.sock = socket.socket(AF_VSOCK, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect((cid, port))
        import msgpack
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        self.next_id = 1
        self.backlog = []


def loopback_reason(port):
    """None when a connection from CID 1 reaches port, else why not."""
    s = socket.socket(AF_VSOCK, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((CID_LOCAL, port))
        return None
    except OSError as e:
        return ("no vsock loopback transport in this kernel (%s); "
                "modprobe vsock_loopback to run it" % e)
    finally:
        s.close()


def usage_errors(tap):
    tmp = Agent(start=False)
    base = tmp.argv()
    cases = [
        (["--vsock-port", "0"], "--vsock-port: 0 is not a port"),
        (["--vsock-port", "x"], "--vsock-port: x is not a port"),
        (["--vsock-port", "-1"], "--vsock-port: -1 is not a port"),
        (["--vsock-port", "1023"], "--vsock-port: 1023 is not a port "
         "from 1024 to 4294967294 (lower ones need a capability blagent "
         "drops)"),
        (["--vsock-port", "4294967295"], "--vsock-port: 4294967295 is "
         "not a port from 1024"),
        (["--vsock-port", "18446744073709551616"], "is not a port"),
        (["--vsock-port"], "--vsock-port needs a value"),
        (["--vsock-port", "5000", "--vsock-allow-cid", "two"],
         '--vsock-allow-cid: "two" is not a CID'),
        (["--vsock-port", "5000", "--vsock-allow-cid", "2,"],
         '--vsock-allow-cid: "" is not a CID'),
        (["--vsock-port", "5000", "--vsock-allow-cid", ",2"],
         '--vsock-allow-cid: "" is not a CID'),
        (["--vsock-port", "5000", "--vsock-allow-cid", "4294967295"],
         '"4294967295" is not a CID (a number from 0 to 4294967294)'),
        (["--vsock-port", "5000", "--vsock-allow-cid",
          ",".join(str(i) for i in range(65))],
         "--vsock-allow-cid: more than 64 CIDs"),
        (["--vsock-allow-cid", "2"], "--vsock-allow-cid needs --vsock-port"),
    ]
    for extra, want in cases:
        r = subprocess.run(base + extra, capture_output=True, text=True,
                           timeout=10)
        tap.ok(r.returncode == 2 and want in r.stderr,
               "blagent %s: a usage error (exit 2) saying %r" %
               (" ".join(extra)[:60], want),
               "exit %d: %s" % (r.returncode, r.stderr.strip()))
    tap.ok(not os.path.exists(tmp.control),
           "no usage error left a socket behind")
    tmp.cleanup()
    r = subprocess.run([blagent_path(), "--help"], capture_output=True,
                       text=True, timeout=10)
    tap.ok("--vsock-port PORT" in r.stdout and
           "--vsock-allow-cid" in r.stdout, "--help names both options")


def listens(tap, port):
    a = tap.agent("--vsock-port", str(port))
    tap.ok("serving every method on vsock port %d to CID 2" %
           port in open(a.logpath).read(),
           "the agent says it serves vsock port %d to CID 2, the host" %
           port, a.log_tail())
    tap.ok(port_taken(port), "nobody else can bind the port: the agent "
           "listens there")
    for path, which in ((a.control, "control"), (a.status, "status")):
        ok, _, detail = serves(path)
        tap.ok(ok, "the %s socket serves as before" % which, detail)

    second = Agent("--vsock-port", str(port), start=False)
    r = subprocess.run(second.argv(), capture_output=True, text=True,
                       timeout=10)
    tap.ok(r.returncode == 1 and
           "vsock port %d: in use by another program" % port in r.stderr,
           "a second agent on the same vsock port stops at start, saying "
           "the port is in use", "exit %d: %s" %
           (r.returncode, r.stderr.strip()))
    tap.ok(not os.path.exists(second.control) and
           not os.path.exists(second.status),
           "and leaves none of its unix sockets behind")
    second.cleanup()

    tap.ok(a.stop() == 0, "SIGTERM stops the agent cleanly")
    tap.ok(not port_taken(port), "and frees the vsock port")


def end_to_end(tap, port, reason):
    names = ["a connection from CID 1 is closed unanswered under the "
             "default list (the host only)",
             "the refusal is logged with the CID",
             "with --vsock-allow-cid 1, Ping over vsock is answered",
             "and every method is served, as on the control socket "
             "(Unmount of an unknown path: ENOENT, not EPERM)"]
    if reason is not None:
        for n in names:
            tap.skip(n, reason)
        return
    a = tap.agent("--vsock-port", str(port))
    c = VsockClient(CID_LOCAL, port)
    try:
        c.request("Ping")
        seen = c.wait_closed()
        tap.ok(seen == [], names[0], "got %r" % (seen,))
    except (Closed, OSError):
        tap.ok(True, names[0])
    finally:
        c.close()
    time.sleep(0.1)
    tap.ok("refusing a connection from CID 1" in open(a.logpath).read(),
           names[1], a.log_tail())
    a.stop()

    a = tap.agent("--vsock-port", str(port), "--vsock-allow-cid", "2,1")
    c = VsockClient(CID_LOCAL, port)
    error, result = c.call("Ping")
    tap.ok(error is None and "version" in result, names[2],
           "%r %r" % (error, result))
    error, result = c.call("Unmount", {"mount_path": "/nowhere/at/all"})
    tap.ok(err_code(error) == "ENOENT", names[3], "%r %r" % (error, result))
    c.close()
    a.stop()


def main():
    tap = Tap()
    tap.run(usage_errors)
    if vsock_socket() is None:
        tap.skip("vsock listening", "this kernel has no AF_VSOCK")
        tap.done()
        return
    port = free_port()
    tap.diag("vsock port %d" % port)
    tap.run(listens, port)
    # A listener of our own to see whether CID 1 loops back here.
    probe = socket.socket(AF_VSOCK, socket.SOCK_STREAM)
    probe.bind((CID_ANY, port))
    probe.listen(1)
    reason = loopback_reason(port)
    probe.close()
    tap.run(end_to_end, port, reason)
    tap.done()


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
