"""The GIL is released during zcopy calls.

Run in a child interpreter with a timeout: if a call held the GIL while
blocked, the child would hang, and the timeout turns that into a failure.
"""

import json
import unittest

from _util import TESTS_DIR, run_python

SCRIPT = r"""
import json, os, platform, socket, sys, threading, time
sys.path.insert(0, %(tests)r)
import zcopy
from _util import tcp_pair, read_n

SPLICE_OR_POLL = {"x86_64": {275, 7, 271}, "aarch64": {76, 73}}.get(platform.machine())

def in_kernel_wait(t):
    with open(f"/proc/self/task/{t.native_id}/stat") as f:
        state = f.read().rsplit(")", 1)[1].split()[0]
    with open(f"/proc/self/task/{t.native_id}/syscall") as f:
        nr = f.read().split()[0]
    return state, nr

pairs = []
results = {}
def relay(name, dst, src):
    results[name] = zcopy.splice(src=src, dst=dst)

threads = []
for name in ("a", "b"):
    sw, sr = tcp_pair(); dw, dr = tcp_pair()
    pairs.append((sw, sr, dw, dr))
    t = threading.Thread(target=relay, args=(name, dw, sr), daemon=True)
    t.start()
    threads.append(t)

time.sleep(0.3)  # both threads are now inside zcopy_splice, waiting for data
states = [in_kernel_wait(t) for t in threads]
alive = [t.is_alive() for t in threads]

# the main thread keeps running Python while both wait in C
n = 0
end = time.monotonic() + 0.3
while time.monotonic() < end:
    n += 1

# feed b first, then a: each finishes on its own data
for (sw, sr, dw, dr), name in zip(reversed(pairs), ("b", "a")):
    sw.sendall(name.encode() * 1000)
    sw.shutdown(socket.SHUT_WR)
threads[1].join(10)
for t in threads:
    t.join(10)
got = [read_n(dr, 1000).decode()[:1] for (_, _, dw, dr) in pairs]
print(json.dumps({"states": states, "alive": alive, "loops": n, "results": results,
                  "got": got, "still_running": [t.is_alive() for t in threads],
                  "nrs": sorted(SPLICE_OR_POLL) if SPLICE_OR_POLL else None}))
"""

SCRIPT_SEQUENCE = r"""
import json, socket, sys, threading, time
sys.path.insert(0, %(tests)r)
import zcopy
from _util import tcp_pair, read_n

# a waits on its source; b runs to completion meanwhile; only then does a get data.
sa_w, sa_r = tcp_pair(); da_w, da_r = tcp_pair()
sb_w, sb_r = tcp_pair(); db_w, db_r = tcp_pair()
order = []
def a():
    order.append(("a", zcopy.splice(src=sa_r, dst=da_w)))
def b():
    order.append(("b", zcopy.splice(src=sb_r, dst=db_w, count=4 << 20)))
ta = threading.Thread(target=a, daemon=True); ta.start()
time.sleep(0.2)
tb = threading.Thread(target=b, daemon=True); tb.start()
payload = b"q" * (4 << 20)
w = threading.Thread(target=sb_w.sendall, args=(payload,), daemon=True); w.start()
got_b = read_n(db_r, len(payload))
tb.join(10); w.join(10)
sa_w.sendall(b"late"); sa_w.shutdown(socket.SHUT_WR)
ta.join(10)
print(json.dumps({"order": order, "b_ok": got_b == payload, "a_got": read_n(da_r, 4).decode()}))
"""


class GilReleased(unittest.TestCase):
    def test_two_threads_blocked_in_splice_main_keeps_running(self):
        p = run_python(SCRIPT % {"tests": str(TESTS_DIR)}, timeout=40)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(out["alive"], [True, True])
        for state, nr in out["states"]:
            self.assertEqual(state, "S", "a relay thread is not sleeping in the kernel")
            if out["nrs"] is not None:
                self.assertIn(int(nr), out["nrs"], "not waiting in splice/poll")
        self.assertGreater(out["loops"], 10000, "the main thread barely ran while threads waited in C")
        self.assertEqual(out["results"], {"a": 1000, "b": 1000})
        self.assertEqual(out["got"], ["a", "b"])
        self.assertEqual(out["still_running"], [False, False])

    def test_one_thread_waits_while_another_completes(self):
        p = run_python(SCRIPT_SEQUENCE % {"tests": str(TESTS_DIR)}, timeout=40)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(out["order"], [["b", 4 << 20], ["a", 4]])
        self.assertTrue(out["b_ok"])
        self.assertEqual(out["a_got"], "late")


if __name__ == "__main__":
    unittest.main()
