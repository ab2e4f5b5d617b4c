"""What relaybench.py and pingbench.py share: relay specs, free ports,
starting a relay and waiting for it, the CPU time of its process tree.

A spec is NAME=COMMAND; COMMAND gets {listen}, {listen_port}, {target} and
{target_port} filled in (127.0.0.1 addresses).
"""

import os
import shlex
import signal
import socket
import subprocess
import time

TICK = os.sysconf("SC_CLK_TCK")


def parse_specs(specs):
    out = []
    for s in specs:
        name, sep, cmd = s.partition("=")
        if not sep or not cmd:
            raise SystemExit(f"relay spec {s!r}: want NAME=COMMAND")
        out.append((name, cmd))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    """Until 127.0.0.1:port accepts; fails if proc exits or time runs out."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"not listening on {port} after {timeout} s")


def start(cmd, target_port):
    """Starts one relay (its own session, so its whole tree can be signalled)."""
    lp = free_port()
    filled = cmd.format(listen=f"127.0.0.1:{lp}", listen_port=lp,
                        target=f"127.0.0.1:{target_port}", target_port=target_port)
    proc = subprocess.Popen(shlex.split(filled), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(lp, proc)
    return proc, lp


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def tree_cpu(pid):
    """CPU seconds (user + system, all threads) of pid and its live descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append((int(d), fields))
            except (OSError, IndexError):
                pass
    total, todo = 0, [pid]
    own = None
    try:
        with open(f"/proc/{pid}/stat") as f:
            own = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    total += int(own[11]) + int(own[12])  # utime, stime
    # Invariant: every pid in todo has been counted; its children are next.
    while todo:
        p = todo.pop()
        for child, fields in children.get(p, []):
            total += int(fields[11]) + int(fields[12])
            todo.append(child)
    return total / TICK


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
