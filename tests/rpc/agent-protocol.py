#!/usr/bin/python3
"""The real blagent speaks msgpack-RPC as the specification says, to a
client written from the specification (not our C code): both sockets,
what each serves, SO_PEERCRED on the control socket, pipelining, msgid
matching, errors naming what was wrong, client notifications and
responses ignored, half-close."""

import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blrpc import (Agent, Client, Closed, err_code, err_msg, main,  # noqa: E402
                   pack, request_bytes, blctl_path)

MOUNT_OK_PARAMS = {"drive": "d1", "mount_path": "/mnt/blrpc-test"}


def ping_both_sockets(tap, agent):
    for path, which in ((agent.status, "status"), (agent.control, "control")):
        c = Client(path)
        error, result = c.call("Ping")
        c.close()
        tap.ok(error is None and isinstance(result, dict) and
               isinstance(result.get("version"), str) and
               isinstance(result.get("uptime_ms"), int),
               "Ping on the %s socket answers {version, uptime_ms}" % which,
               "error %r result %r" % (error, result))


def status_socket_serves_only_read_methods(tap, agent):
    c = Client(agent.status)
    for method, params in (("Mount", MOUNT_OK_PARAMS),
                           ("Mount", {"bogus": 1}),
                           ("Unmount", {"mount_path": "/mnt/x"})):
        error, result = c.call(method, params)
        tap.ok(err_code(error) == "EPERM" and result is None and
               "control socket" in err_msg(error),
               "the status socket refuses %s %r with EPERM pointing at the "
               "control socket" % (method, params), "error %r" % (error,))
    error, result = c.call("Ping")
    tap.ok(error is None, "the status socket serves Ping", repr(error))
    error, result = c.call("MountStatus")
    tap.ok(error is None and isinstance(result, list),
           "the status socket serves MountStatus (an array of MountInfo)",
           "error %r result %r" % (error, result))
    error, result = c.call("WaitMounts", {"timeout_ms": 100})
    tap.ok(err_code(error) != "EPERM",
           "the status socket serves WaitMounts (no EPERM)", repr(error))
    error, result = c.call("Subscribe")
    tap.ok(error is None and result == {},
           "the status socket serves Subscribe, answering {}",
           "error %r result %r" % (error, result))
    c.close()


# Run as uid 1000 by setpriv: self-contained, only the msgpack module.
UID_CHILD = r"""
import json, socket, sys, msgpack
out = {}
def attempt(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path)
    except OSError as e:
        return {"connect": e.errno}
    s.sendall(msgpack.packb([0, 41, "Ping", []]) +
              msgpack.packb([0, 42, "Ping", []]))
    u = msgpack.Unpacker(raw=False)
    msgs, closed = [], False
    try:
        while len(msgs) < 2:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            u.feed(d)
            msgs.extend(u)
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    return {"msgs": msgs, "closed": closed}
print(json.dumps({"control": attempt(sys.argv[1]),
                  "status": attempt(sys.argv[2])}))
"""


def run_as_uid(uid, agent):
    r = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
                        "--clear-groups", sys.executable, "-c", UID_CHILD,
                        agent.control, agent.status],
                       capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        raise RuntimeError("uid %d child failed: %s" % (uid, r.stderr))
    return json.loads(r.stdout)


def control_socket_checks_peer_uid(tap, agent):
    # The temporary directory must let uid 1000 reach the sockets at all.
    os.chmod(agent.dir, 0o711)
    st = os.stat(agent.control)
    tap.ok(st.st_mode & 0o777 == 0o600, "the control socket is mode 0600",
           oct(st.st_mode))
    tap.ok(os.stat(agent.status).st_mode & 0o777 == 0o666,
           "the status socket is mode 0666",
           oct(os.stat(agent.status).st_mode))
    res = run_as_uid(1000, agent)
    tap.ok(res["control"].get("connect") == 13,
           "uid 1000 cannot even connect to the 0600 control socket "
           "(EACCES)", repr(res["control"]))
    st_msgs = res["status"].get("msgs", [])
    tap.ok(len(st_msgs) == 2 and all(m[2] is None for m in st_msgs),
           "uid 1000 is served Ping on the status socket", repr(res["status"]))

    # Widen the socket file by hand: only SO_PEERCRED stands in the way.
    os.chmod(agent.control, 0o666)
    try:
        res = run_as_uid(1000, agent)
    finally:
        os.chmod(agent.control, 0o600)
    ctl = res["control"]
    msgs = ctl.get("msgs", [])
    tap.ok(len(msgs) >= 1 and msgs[0][0] == 1 and msgs[0][1] == 41 and
           isinstance(msgs[0][2], dict) and msgs[0][2].get("code") == "EPERM"
           and msgs[0][3] is None,
           "a uid 1000 peer on a world-writable control socket gets EPERM "
           "(SO_PEERCRED)", repr(ctl))
    tap.ok(len(msgs) == 1 and ctl.get("closed"),
           "then its connection is closed without serving the next request",
           repr(ctl))
    tap.serving(agent, "refusing a uid 1000 peer")


def pipelining_100_in_one_write(tap, agent):
    c = Client(agent.control)
    ids = [1000 + 7 * i for i in range(100)]
    data = b"".join(request_bytes(i, "Ping" if n % 2 == 0 else "MountStatus")
                    for n, i in enumerate(ids))
    c.send_raw(data)
    got = {}
    kinds_ok = True
    for _ in range(100):
        m = c.recv()
        if m[0] != 1 or m[2] is not None:
            kinds_ok = False
        got[m[1]] = m[3]
    for n, i in enumerate(ids):
        want = dict if n % 2 == 0 else list
        if not isinstance(got.get(i), want):
            kinds_ok = False
    tap.ok(sorted(got) == ids and kinds_ok,
           "100 requests in one write get 100 responses, matched by msgid "
           "to the right method", "got msgids %r" % sorted(got)[:10])
    tap.ok(c.quiet(), "and nothing more")
    c.close()


def msgid_round_trip(tap, agent):
    c = Client(agent.status)
    for msgid in (0, 127, 128, 65535, 65536, 2 ** 32 - 1):
        c.send_raw(request_bytes(msgid, "Ping"))
        m = c.recv()
        tap.ok(m[0] == 1 and m[1] == msgid and m[2] is None,
               "msgid %d comes back unchanged" % msgid, repr(m))
    c.close()


def errors_name_what_was_wrong(tap, agent):
    c = Client(agent.control)
    error, result = c.call("Frobnicate", {"x": 1})
    tap.ok(isinstance(error, dict) and "Frobnicate" in err_msg(error) and
           isinstance(error.get("code"), str) and result is None,
           "an unknown method is an error naming it",
           "error %r result %r" % (error, result))
    params = dict(MOUNT_OK_PARAMS, readonly=True)
    error, _ = c.call("Mount", params)
    tap.ok(err_code(error) == "EINVAL" and '"readonly"' in err_msg(error),
           "Mount with a misspelt \"readonly\" is EINVAL naming it",
           repr(error))
    error, _ = c.call("Mount", dict(MOUNT_OK_PARAMS,
                                    options={"cache_size": "big"}))
    tap.ok(err_code(error) == "EINVAL" and "options.cache_size" in
           err_msg(error), "Mount with options.cache_size as a string is "
           "EINVAL naming options.cache_size", repr(error))
    error, _ = c.call("Mount", {"mount_path": "/mnt/x"})
    tap.ok(err_code(error) == "EINVAL" and '"drive"' in err_msg(error),
           "Mount without drive is EINVAL naming drive", repr(error))
    error, _ = c.call("Mount", dict(MOUNT_OK_PARAMS, read_only="yes"))
    tap.ok(err_code(error) == "EINVAL" and "read_only" in err_msg(error) and
           "boolean" in err_msg(error) and "string" in err_msg(error),
           "Mount with read_only \"yes\" is EINVAL naming the field and "
           "both types", repr(error))
    error, _ = c.call("Unmount", {"mount_path": "/mnt/x", "force": 1})
    tap.ok(err_code(error) == "EINVAL" and "force" in err_msg(error),
           "Unmount with force 1 is EINVAL naming force", repr(error))
    error, _ = c.call("Ping", {"verbose": True})
    tap.ok(err_code(error) == "EINVAL" and '"verbose"' in err_msg(error),
           "Ping with an argument is EINVAL naming it", repr(error))
    error, _ = c.call("MountStatus", {"mount_path": 7})
    tap.ok(err_code(error) == "EINVAL" and "mount_path" in err_msg(error),
           "MountStatus with a numeric mount_path is EINVAL naming it",
           repr(error))
    error, _ = c.call("WaitMounts", {"timeout_ms": -5})
    tap.ok(err_code(error) == "EINVAL" and "timeout_ms" in err_msg(error),
           "WaitMounts with a negative timeout_ms is EINVAL naming it",
           repr(error))
    error, result = c.call("Ping")
    tap.ok(error is None, "the connection still serves after those errors",
           repr(error))
    c.close()


def bad_shapes_with_msgid_get_errors(tap, agent):
    c = Client(agent.control)
    cases = [
        ([0, 9, 42, []], "method must be a string"),
        ([0, 10, "Ping"], "[0, msgid, method, params]"),
        ([0, 11, "Ping", [], "extra"], "[0, msgid, method, params]"),
        ([0, 12, "Ping", {}], "params must be an array"),
        ([0, 13, "Ping", [1, 2]], "params must be an array holding one map"),
        ([0, 14, "Ping", ["x"]], "map of named arguments"),
        ([0, 15, b"Ping", []], "method must be a string"),
    ]
    for msg, words in cases:
        c.send_raw(pack(msg))
        m = c.recv()
        tap.ok(m[0] == 1 and m[1] == msg[1] and err_code(m[2]) == "EINVAL"
               and words in err_msg(m[2]) and m[3] is None,
               "%r is answered EINVAL saying \"%s\"" % (msg, words), repr(m))
    error, _ = c.call("Ping")
    tap.ok(error is None, "the connection stays usable after bad shapes "
           "with a readable msgid", repr(error))
    c.close()


def client_notifications_and_responses_ignored(tap, agent):
    c = Client(agent.control)
    c.notify("Ping")
    c.notify("Mount", MOUNT_OK_PARAMS)
    c.notify("NoSuchThing", {"a": 1})
    msgid = c.request("Ping")
    m = c.recv()
    tap.ok(m[0] == 1 and m[1] == msgid and m[2] is None,
           "notifications from a client get no answer; the next request "
           "is the first thing answered", repr(m))
    tap.ok(c.quiet(), "and nothing else arrives")
    c.send_raw(pack([1, 5, None, "x"]) +
               pack([1, 6, {"code": "EIO", "message": "m"}, None]) +
               pack([1, 2 ** 32 - 1, None, {"a": [1, 2]}]))
    msgid = c.request("Ping")
    m = c.recv()
    tap.ok(m[0] == 1 and m[1] == msgid and m[2] is None,
           "responses from a client are ignored; the next request is "
           "answered", repr(m))
    tap.ok(c.quiet(), "and nothing else arrives")
    c.close()


def half_close_answers_then_closes(tap, agent):
    c = Client(agent.status)
    c.send_raw(b"".join(request_bytes(i, "Ping") for i in (1, 2, 3)))
    c.sock.shutdown(socket.SHUT_WR)
    try:
        msgs = c.wait_closed(3.0)
        closed = True
    except TimeoutError:
        msgs, closed = [], False
    tap.ok([m[1] for m in msgs] == [1, 2, 3] and
           all(m[2] is None for m in msgs),
           "after shutdown(SHUT_WR) following 3 requests, all 3 are "
           "answered", repr(msgs))
    tap.ok(closed, "then the agent closes the connection (EOF)")
    c.close()

    # Half-close in the middle of a message: nothing to answer, closed.
    c = Client(agent.status)
    c.send_raw(request_bytes(1, "Ping") + request_bytes(2, "Ping")[:4])
    c.sock.shutdown(socket.SHUT_WR)
    try:
        msgs = c.wait_closed(3.0)
        closed = True
    except TimeoutError:
        msgs, closed = [], False
    tap.ok(closed and [m[1] for m in msgs] == [1],
           "half-close after one request and part of another: the whole "
           "one is answered, then EOF", repr(msgs))
    c.close()


def slow_trickle_is_reassembled(tap, agent):
    c = Client(agent.status)
    data = request_bytes(77, "MountStatus", {})
    for i in range(len(data)):
        c.send_raw(data[i:i + 1])
        time.sleep(0.005)
    m = c.recv()
    tap.ok(m[0] == 1 and m[1] == 77 and m[2] is None,
           "a request sent one byte at a time is answered once whole",
           repr(m))
    c.close()


def out_of_order_answers(tap, agent):
    """A Mount with wait answers after a Ping sent behind it."""
    c = Client(agent.control)
    error, _ = c.call("Mount", {"drive": "no-such-drive-xyz",
                                "mount_path": os.path.join(agent.dir, "mnt"),
                                "wait": True})
    c.close()
    name = "responses leave out of order: Ping sent after a waiting Mount " \
        "is answered first"
    if err_code(error) == "ENOSYS":
        tap.ok(False, name, "Mount answered ENOSYS")
        return
    store = os.path.join(agent.dir, "store")
    blfs = os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(agent.argv()[0]))), "blfs", "blfs")
    r = subprocess.run([blctl_path(), "drive", "--store", store, "create",
                        "d1"], capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(blfs):
        tap.ok(False, name, "cannot set up a drive store (%s) or blfs "
               "missing" % r.stderr.strip())
        return
    mnt = os.path.join(agent.dir, "mnt-ooo")
    a2 = Agent("--store", store, "--blfs", blfs)
    try:
        c = Client(a2.control, timeout=30)
        c.send_raw(request_bytes(1, "Mount", {"drive": "d1",
                                              "mount_path": mnt,
                                              "wait": True}) +
                   request_bytes(2, "Ping"))
        first = c.recv(30)
        second = c.recv(30)
        mount_resp = first if first[1] == 1 else second
        if mount_resp[2] is not None:
            tap.ok(False, name, "Mount failed: %r" % (mount_resp[2],))
        else:
            tap.ok(first[1] == 2 and second[1] == 1, name,
                   "order %r" % ([first[1], second[1]],))
            c.call("Unmount", {"mount_path": mnt, "force": True}, 30)
        c.close()
    finally:
        a2.stop()
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        a2.cleanup()


if __name__ == "__main__":
    main([ping_both_sockets, status_socket_serves_only_read_methods,
          control_socket_checks_peer_uid, pipelining_100_in_one_write,
          msgid_round_trip, errors_name_what_was_wrong,
          bad_shapes_with_msgid_get_errors,
          client_notifications_and_responses_ignored,
          half_close_answers_then_closes, slow_trickle_is_reassembled,
          out_of_order_answers])
