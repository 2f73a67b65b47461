#!/usr/bin/python3
"""blagent's life: one agent per socket pair, stale sockets replaced,
SIGTERM removes the sockets and exits 0, READY=1 to NOTIFY_SOCKET once
serving, daemon mode returns only once the sockets answer, --help and
--version, and every bad flag is a usage error (exit 2) naming it."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blrpc import (Agent, Tap, blagent_path, listening, peer_pid,  # noqa: E402
                   serves)


def second_agent_refuses(tap):
    first = tap.agent()
    second = Agent(tmpdir=first.dir, start=False)
    t0 = time.monotonic()
    r = subprocess.run(second.argv(), capture_output=True, text=True,
                       timeout=10)
    tap.ok(r.returncode != 0 and "already serving" in r.stderr and
           first.control in r.stderr,
           "a second agent on the same sockets exits non-zero saying an "
           "agent is already serving there", "exit %d: %s" %
           (r.returncode, r.stderr.strip()))
    tap.ok(time.monotonic() - t0 < 5, "and it does so at once")
    tap.ok(first.alive() and os.path.exists(first.control) and
           os.path.exists(first.status),
           "the first agent keeps running and keeps its socket files")
    tap.serving(first, "a second agent tried to start")
    # Only the status socket busy: still refused, and nothing removed.
    os.makedirs(os.path.join(first.dir, "other"))
    r = subprocess.run(second.argv()[:2] + [
        "--control-socket", os.path.join(first.dir, "other", "c.sock"),
        "--status-socket", first.status,
        "--state-dir", os.path.join(first.dir, "other", "state")],
        capture_output=True, text=True, timeout=10)
    tap.ok(r.returncode != 0 and "already serving" in r.stderr and
           not os.path.exists(os.path.join(first.dir, "other", "c.sock")),
           "an agent whose status socket is taken refuses to start and "
           "leaves no control socket behind", "exit %d: %s" %
           (r.returncode, r.stderr.strip()))
    tap.serving(first, "a second agent with one socket in common tried")
    first.stop()


def stale_socket_replaced(tap):
    a = tap.agent()
    a.stop(signal.SIGKILL)
    tap.ok(os.path.exists(a.control) and os.path.exists(a.status),
           "an agent killed with SIGKILL leaves its socket files behind")
    b = tap.agent(tmpdir=a.dir)
    ok, dt, detail = serves(b.control)
    ok2, dt2, detail2 = serves(b.status)
    tap.ok(ok and ok2, "a restarted agent replaces the stale sockets and "
           "serves on both", detail + " / " + detail2)
    b.stop()


def sigterm_removes_sockets(tap):
    a = tap.agent()
    rc = a.stop(signal.SIGTERM)
    tap.ok(rc == 0, "SIGTERM makes the agent exit 0", "exit %r" % rc)
    tap.ok(not os.path.exists(a.control) and not os.path.exists(a.status),
           "and removes both socket files")
    a = tap.agent(tmpdir=a.dir)
    rc = a.stop(signal.SIGINT)
    tap.ok(rc == 0 and not os.path.exists(a.control),
           "SIGINT does the same", "exit %r" % rc)


def notify_socket_ready(tap):
    d = tempfile.mkdtemp(prefix="blrpc.", dir="/tmp")
    path = os.path.join(d, "notify")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    ns.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    a = Agent(tmpdir=d, env=env, start=False)
    tap.agents.append(a)
    a.start(wait=False)
    try:
        msg = ns.recv(4096)
    except socket.timeout:
        msg = None
    tap.ok(msg == b"READY=1", "with NOTIFY_SOCKET set the agent sends "
           "READY=1 there", repr(msg))
    tap.ok(listening(a.control) and listening(a.status),
           "both sockets listen by the time READY=1 arrives")
    ok, dt, detail = serves(a.status)
    tap.ok(ok, "and the agent answers", detail)
    a.stop()
    ns.close()
    a.owns_dir = True


def daemon_mode_returns_when_serving(tap):
    a = Agent(start=False)
    tap.agents.append(a)
    argv = [x for x in a.argv() if x != "--foreground"]
    with open(a.logpath, "a") as log:
        t0 = time.monotonic()
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log,
                           stderr=log, timeout=10)
        dt = time.monotonic() - t0
    tap.ok(r.returncode == 0, "without --foreground blagent returns 0",
           "exit %d after %.3f s" % (r.returncode, dt))
    # No waiting: the sockets must answer the moment it returned.
    ok1, _, d1 = serves(a.control)
    ok2, _, d2 = serves(a.status)
    tap.ok(ok1 and ok2, "the moment it returns, both sockets answer",
           d1 + " / " + d2)
    try:
        pid = peer_pid(a.status)
    except OSError:
        pid = None
    tap.ok(pid is not None and pid != os.getpid(),
           "the daemon keeps running as its own process", repr(pid))
    if pid is None:
        return
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")" of comm: state ppid pgrp session ...
    tap.ok(int(fields[2]) == int(fields[3]) == pid,
           "the daemon leads its own session (setsid)",
           "pgrp %s sid %s pid %d" % (fields[2], fields[3], pid))
    # While it serves, a second daemon on its sockets fails visibly.
    with open(a.logpath, "a") as log:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log,
                           stderr=log, timeout=10)
    tap.ok(r.returncode != 0, "a second daemon on the same sockets "
           "returns non-zero instead of pretending to serve",
           "exit %d" % r.returncode)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    tap.ok(not os.path.exists(a.control) and not os.path.exists(a.status),
           "SIGTERM to the daemon removes its sockets")


def help_and_version(tap):
    r = subprocess.run([blagent_path(), "--help"], capture_output=True,
                       text=True)
    tap.ok(r.returncode == 0 and "usage: blagent" in r.stdout and
           "--control-socket" in r.stdout and r.stderr == "",
           "--help prints usage on stdout and exits 0",
           "exit %d" % r.returncode)
    r = subprocess.run([blagent_path(), "--version"], capture_output=True,
                       text=True)
    tap.ok(r.returncode == 0 and r.stdout.startswith("blagent "),
           "--version prints the version and exits 0",
           "exit %d: %r" % (r.returncode, r.stdout))


def bad_flags_exit_2(tap):
    d = tempfile.mkdtemp(prefix="blrpc.", dir="/tmp")
    base = ["--foreground", "--control-socket", d + "/c.sock",
            "--status-socket", d + "/s.sock", "--state-dir", d + "/st"]
    cases = [
        (["--log-level", "chatty"], "--log-level", "chatty"),
        (["--control-socket", "run/c.sock"], "--control-socket",
         "not an absolute path"),
        (["--status-socket", "s.sock"], "--status-socket",
         "not an absolute path"),
        (["--state-dir", "state"], "--state-dir", "not an absolute path"),
        (["--wait-mounts", "soon"], "--wait-mounts", "soon"),
        (["--idle-timeout", "0"], "--idle-timeout", "0"),
        (["--idle-timeout", "forever"], "--idle-timeout", "forever"),
        (["--max-connections", "0"], "--max-connections", "0"),
        (["--max-connections", "many"], "--max-connections", "many"),
        (["--bogus-option"], "--bogus-option", "unknown option"),
        (["-x"], "-x", ""),
        (["stray"], "stray", "unexpected argument"),
        (["--state-dir"], "--state-dir", ""),
        (["--control-socket", d + "/same.sock", "--status-socket",
          d + "/same.sock"], "must differ", ""),
    ]
    for extra, word, word2 in cases:
        r = subprocess.run([blagent_path()] + base + extra,
                           capture_output=True, text=True, timeout=10)
        tap.ok(r.returncode == 2 and word in r.stderr and word2 in r.stderr
               and "blagent" in r.stderr,
               "blagent %s exits 2 with a message naming %s" %
               (" ".join(extra), word),
               "exit %d: %s" % (r.returncode, r.stderr.strip()))
    tap.ok(not os.path.exists(d + "/c.sock"),
           "no usage error left a socket behind")
    subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    tap = Tap()
    for t in (second_agent_refuses, stale_socket_replaced,
              sigterm_removes_sockets, notify_socket_ready,
              daemon_mode_returns_when_serving, help_and_version,
              bad_flags_exit_2):
        tap.run(t)
    tap.done()
