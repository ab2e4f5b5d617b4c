"""Helpers shared by the zcopy Python tests (not a test module)."""

import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
PKG_SRC = TESTS_DIR.parent / "src"
REPO = TESTS_DIR.parent.parent.parent

# Every socket a test hands to zcopy gets kernel timeouts, so a blocking
# splice that would wait forever ends with EAGAIN instead.
KERNEL_TIMEOUT = 10.0
JOIN_TIMEOUT = 30.0


def data(n, seed=1):
    """n pseudo-random bytes (deterministic per seed)."""
    return random.Random(seed).randbytes(n)


def kernel_timeouts(sock, seconds=KERNEL_TIMEOUT):
    tv = struct.pack("ll", int(seconds), int((seconds % 1) * 1e6))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
    return sock


def tcp_pair():
    """(a, b): two connected TCP sockets on 127.0.0.1, blocking, with kernel timeouts."""
    ln = socket.create_server(("127.0.0.1", 0))
    try:
        ln.settimeout(KERNEL_TIMEOUT)
        a = socket.create_connection(ln.getsockname(), timeout=KERNEL_TIMEOUT)
        b, _ = ln.accept()
    finally:
        ln.close()
    for s in (a, b):
        s.settimeout(None)
        kernel_timeouts(s)
    return a, b


def unix_pair():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    for s in (a, b):
        kernel_timeouts(s)
    return a, b


class Bg:
    """Runs fn in a daemon thread; .result() joins with a timeout and re-raises."""

    def __init__(self, fn, *args):
        self.value = None
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self.thread.start()

    def _run(self, fn, args):
        try:
            self.value = fn(*args)
        except BaseException as e:  # reported by result()
            self.error = e

    def result(self, timeout=JOIN_TIMEOUT):
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError(f"background thread still running after {timeout}s")
        if self.error is not None:
            raise self.error
        return self.value


def read_all(sock):
    """Reads sock until EOF; returns the bytes."""
    out = bytearray()
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return bytes(out)
        out += chunk


def read_n(sock, n):
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def write_then_close(sock, payload, chunk=None, how=socket.SHUT_WR):
    """Writes payload (in chunks of `chunk` bytes if given), then shuts down writing."""
    if chunk:
        for i in range(0, len(payload), chunk):
            sock.sendall(payload[i:i + chunk])
    else:
        sock.sendall(payload)
    sock.shutdown(how)


def temp_file(testcase, content=b"", mode="wb+", **kw):
    """A temporary file object with content, rewound; closed and removed at cleanup."""
    fd, path = tempfile.mkstemp(prefix="zcopy-py-")
    os.close(fd)
    testcase.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
    with open(path, "wb") as f:
        f.write(content)
    f = open(path, mode, **kw)
    testcase.addCleanup(f.close)
    return f, path


def run_python(code, env_extra=None, env_remove=(), cwd=None, timeout=60, python=None):
    """Runs `python3 -c code` with this package on PYTHONPATH; returns CompletedProcess.

    ``python``: the interpreter (default: the one running the tests).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PKG_SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for k in env_remove:
        env.pop(k, None)
    if env_extra:
        env.update(env_extra)
    return subprocess.run([python or sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def close_all(testcase, *socks):
    for s in socks:
        testcase.addCleanup(s.close)


def other_pythons():
    """Other CPython 3.8-3.13 interpreters on this machine (PATH, pyenv), by version; may be empty."""
    import glob
    import shutil as _shutil
    found = {}
    for minor in range(8, 14):
        if (3, minor) == sys.version_info[:2]:
            continue
        cands = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/3.{minor}.*/bin/python3")))
        cands.append(_shutil.which(f"python3.{minor}"))
        for c in cands:
            # a pyenv shim on PATH exists for versions it will not run: ask each one
            if c and subprocess.run([c, "-c", f"import sys; assert sys.version_info[:2] == (3, {minor})"],
                                    capture_output=True, timeout=30).returncode == 0:
                found[f"3.{minor}"] = c
                break
    return found
