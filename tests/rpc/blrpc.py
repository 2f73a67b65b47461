"""Test helpers for the RPC suite: a msgpack-RPC client written from the
msgpack-RPC specification (github.com/msgpack-rpc/msgpack-rpc, spec.md) on
Debian's python3-msgpack -- deliberately none of our C code, so the tests
prove interoperability -- plus a way to run the real blagent on temporary
sockets, and a small TAP printer.

The specification, as used here:
  request       [type=0, msgid (uint32), method (str), params (array)]
  response      [type=1, msgid (uint32), error (nil or any), result (any)]
  notification  [type=2, method (str), params (array)]
Messages follow one another on the stream with no other framing; a client
matches responses to requests by msgid, since they may come out of order.
"""

import errno
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import msgpack

REQUEST, RESPONSE, NOTIFICATION = 0, 1, 2


class Closed(Exception):
    """The agent closed the connection (EOF or reset)."""


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def request_bytes(msgid, method, params=None):
    """One request; params is the map of named arguments, or None for []."""
    return pack([REQUEST, msgid, method, [] if params is None else [params]])


class Client:
    """A blocking msgpack-RPC client over a unix stream socket."""

    def __init__(self, path, timeout=5.0):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False,
                                         max_buffer_size=64 << 20)
        self.next_id = 1
        self.backlog = []

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def request(self, method, params=None, msgid=None):
        """Sends a request; returns its msgid."""
        if msgid is None:
            msgid = self.next_id
            self.next_id = (self.next_id + 1) & 0xffffffff
        self.send_raw(request_bytes(msgid, method, params))
        return msgid

    def notify(self, method, params=None):
        self.send_raw(pack([NOTIFICATION, method,
                            [] if params is None else [params]]))

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no message from the agent in time")
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            raise TimeoutError("no message from the agent in time")
        try:
            data = self.sock.recv(1 << 16)
        except ConnectionResetError as e:
            raise Closed("connection reset") from e
        if not data:
            raise Closed("end of stream")
        self.unpacker.feed(data)

    def recv(self, timeout=5.0):
        """The next message from the agent, as a list."""
        if self.backlog:
            return self.backlog.pop(0)
        deadline = time.monotonic() + timeout
        while True:
            try:
                return next(self.unpacker)
            except StopIteration:
                self._fill(deadline)

    def response(self, msgid, timeout=5.0):
        """Reads until the response to msgid, keeping others for recv."""
        deadline = time.monotonic() + timeout
        kept = []
        try:
            while True:
                m = self.recv(max(deadline - time.monotonic(), 0.001))
                if (isinstance(m, list) and len(m) == 4 and m[0] == RESPONSE
                        and m[1] == msgid):
                    return m
                kept.append(m)
        finally:
            self.backlog = kept + self.backlog

    def call(self, method, params=None, timeout=5.0):
        """Sends a request and returns (error, result) of its response."""
        m = self.response(self.request(method, params), timeout)
        return m[2], m[3]

    def quiet(self, timeout=0.3):
        """True when nothing arrives (and the connection stays open)."""
        try:
            m = self.recv(timeout)
        except TimeoutError:
            return True
        self.backlog.insert(0, m)
        return False

    def wait_closed(self, timeout=5.0):
        """Reads (and drops) until EOF; returns the messages seen, or
        raises TimeoutError when the connection stays open."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                seen.append(self.recv(max(deadline - time.monotonic(),
                                          0.001)))
            except Closed:
                return seen


def err_code(error):
    return error.get("code") if isinstance(error, dict) else None


def err_msg(error):
    return error.get("message", "") if isinstance(error, dict) else ""


def builddir():
    return os.environ.get("top_builddir", os.getcwd())


def blagent_path():
    return os.path.join(builddir(), "agent", "blagent")


def blctl_path():
    return os.path.join(builddir(), "blctl", "blctl")


def proc_status(pid, field):
    """A kB figure (VmRSS, VmHWM) from /proc/PID/status."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def peer_pid(path):
    """Who serves at path, by SO_PEERCRED of a fresh connection."""
    import struct
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        cred = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                            struct.calcsize("3i"))
        return struct.unpack("3i", cred)[0]
    finally:
        s.close()


def listening(path):
    """Whether a socket listens at path, from /proc/net/unix: unlike a
    probe connection, looking leaves nothing for the agent to count."""
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            fields = line.split()
            # Num RefCount Protocol Flags Type St Inode [Path]
            if (len(fields) >= 8 and fields[7] == path and
                    int(fields[3], 16) & 0x10000):  # __SO_ACCEPTCON
                return True
    return False


def can_connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Agent:
    """The real blagent on sockets in a fresh temporary directory."""

    def __init__(self, *extra, env=None, tmpdir=None, start=True,
                 log_level="debug"):
        self.owns_dir = tmpdir is None
        self.dir = tmpdir or tempfile.mkdtemp(prefix="blrpc.", dir="/tmp")
        self.control = os.path.join(self.dir, "run", "control.sock")
        self.status = os.path.join(self.dir, "run", "status.sock")
        self.state = os.path.join(self.dir, "state")
        self.logpath = os.path.join(self.dir, "agent.%d.log" % id(self))
        self.extra = list(extra)
        self.env = env
        self.log_level = log_level
        self.proc = None
        self.notify = None
        if start:
            try:
                self.start()
            except BaseException:
                self.cleanup()
                raise

    def argv(self, foreground=True):
        a = [blagent_path()]
        if foreground:
            a.append("--foreground")
        return a + ["--control-socket", self.control,
                    "--status-socket", self.status,
                    "--state-dir", self.state,
                    "--log-level", self.log_level] + self.extra

    def start(self, wait=True):
        env = dict(os.environ if self.env is None else self.env)
        # In a sanitizer build, ASan keeps up to 256 MiB of freed memory
        # in quarantine, which would read as the agent's own growth in the
        # memory-bound tests; a small quarantine still catches reuse.
        asan = env.get("ASAN_OPTIONS", "")
        if "quarantine_size_mb" not in asan:
            env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + \
                "quarantine_size_mb=4"
        # Ready means READY=1 on NOTIFY_SOCKET, as for a service manager:
        # the sockets listen a little earlier, before SIGTERM is handled.
        self.notify = None
        if "NOTIFY_SOCKET" not in env:
            path = os.path.join(self.dir, "notify.%d" % id(self))
            self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.notify.bind(path)
            env["NOTIFY_SOCKET"] = path
        self.log = open(self.logpath, "a")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log,
                                     env=env)
        if wait:
            self.wait_serving()

    def wait_serving(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        ready = self.notify is None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("blagent exited with %d: %s" %
                                   (self.proc.returncode, self.log_tail()))
            if not ready:
                r, _, _ = select.select([self.notify], [], [], 0.05)
                ready = bool(r) and b"READY=1" in self.notify.recv(4096)
                continue
            if listening(self.control) and listening(self.status):
                return
            time.sleep(0.01)
        raise RuntimeError("blagent did not become ready")

    @property
    def pid(self):
        return self.proc.pid

    def rss_kb(self):
        return proc_status(self.pid, "VmRSS")

    def hwm_kb(self):
        return proc_status(self.pid, "VmHWM")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signals the agent and returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if self.notify is not None:
            self.notify.close()
            self.notify = None
        return self.proc.returncode

    def log_tail(self, lines=15):
        try:
            with open(self.logpath) as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def serves(path, timeout=2.0):
    """A fresh client pings at path; returns (ok, seconds, detail)."""
    t0 = time.monotonic()
    try:
        c = Client(path, timeout)
        try:
            error, result = c.call("Ping", timeout=timeout)
        finally:
            c.close()
    except Exception as e:  # noqa: BLE001 - any failure is "not serving"
        return False, time.monotonic() - t0, "%s: %s" % (type(e).__name__, e)
    dt = time.monotonic() - t0
    ok = error is None and isinstance(result, dict) and "version" in result
    return ok, dt, "error %r result %r" % (error, result)


def raise_nofile():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Tap:
    """TAP output; every check says what it proves and what came."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        self.agents = []
        # Like a shell trap: a killed test still stops its agents.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, sig, frame):
        for a in self.agents:
            a.cleanup()
        os._exit(128 + sig)

    def ok(self, cond, name, detail=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d - %s%s" % (self.n, name,
                                        ": " + detail if detail else ""))
        sys.stdout.flush()
        return bool(cond)

    def skip(self, name, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, reason))
        sys.stdout.flush()

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def serving(self, agent, after):
        """The agent still answers everyone else, on both sockets."""
        for path, which in ((agent.status, "status"),
                            (agent.control, "control")):
            ok, dt, detail = serves(path)
            self.ok(ok and dt < 1.0, "after %s, a new client on the %s "
                    "socket is answered within 1 s" % (after, which),
                    "%.3f s, %s" % (dt, detail))

    def run(self, fn, *args):
        """Runs one test function; an exception is a failure, not a crash."""
        try:
            fn(self, *args)
        except Exception:  # noqa: BLE001
            self.ok(False, "%s ran to the end" % fn.__name__,
                    "exception")
            self.diag(traceback.format_exc())
            for a in self.agents:
                self.diag("agent log:\n" + a.log_tail())

    def agent(self, *extra, **kw):
        a = Agent(*extra, **kw)
        self.agents.append(a)
        return a

    def done(self):
        # Called from a finally: an exception on its way out is a failure,
        # never a run that merely ended early with every check passed.
        e = sys.exc_info()[1]
        if isinstance(e, Exception):
            self.ok(False, "the test runs to its end",
                    "".join(traceback.format_exception(type(e), e,
                                                       e.__traceback__)))
        if self.failed:
            for a in self.agents:
                self.diag("agent log (%s):\n%s" % (a.logpath, a.log_tail()))
        for a in self.agents:
            a.cleanup()
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def main(tests, *agent_args):
    """Runs each test function against one shared agent."""
    tap = Tap()
    try:
        agent = tap.agent(*agent_args)
    except Exception:  # noqa: BLE001
        tap.ok(False, "blagent starts on temporary sockets", "exception")
        tap.diag(traceback.format_exc())
    else:
        for t in tests:
            tap.run(t, agent)
    tap.done()
