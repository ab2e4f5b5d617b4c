"""The pipe pool: pool_stats, pool_drain, pool_configure.

The pool is global to the process, so exact counts are checked in a fresh
interpreter that does nothing else.
"""

import json
import unittest

import zcopy
from _util import run_python

SCRIPT = r"""
import json, socket, sys
sys.path.insert(0, %(tests)r)
import zcopy
from _util import tcp_pair, unix_pair, read_n

def snap():
    return zcopy.pool_stats()._asdict()

def one_splice():
    sw, sr = tcp_pair(); dw, dr = tcp_pair()
    sw.sendall(b"z" * 1000)
    n = zcopy.splice(src=sr, dst=dw, count=1000)
    got = read_n(dr, 1000)
    for s in (sw, sr, dw, dr): s.close()
    return n, len(got)

out = {"start": snap()}
out["first"] = one_splice(); out["after_first"] = snap()
out["second"] = one_splice(); out["after_second"] = snap()
out["drained"] = zcopy.pool_drain(); out["after_drain"] = snap()

# a pipe that still holds bytes when the call fails is closed, not pooled
sw, sr = tcp_pair(); dw, dr = unix_pair()
dr.close()
sw.sendall(b"y" * 100000)
try:
    zcopy.splice(src=sr, dst=dw)
    out["broken"] = "no error"
except BrokenPipeError as e:
    out["broken"] = e.written
for s in (sw, sr, dw): s.close()
out["after_broken"] = snap()

one_splice()
out["before_configure"] = snap()
zcopy.pool_configure(pipe_size=128 * 1024)   # closes idle pipes of the old size
out["after_configure"] = snap()
zcopy.pool_configure(max_idle=4)
bad = []
for kw in ({"max_idle": 0}, {"max_idle": -1}, {"pipe_size": 100}, {"pipe_size": 2 << 30},
           {"max_idle": 70000}, {"pipe_size": 1 << 64}):
    try:
        zcopy.pool_configure(**kw)
        bad.append([kw, "accepted"])
    except ValueError:
        bad.append([kw, "ValueError"])
out["bad"] = bad
print(json.dumps(out))
"""


class Pool(unittest.TestCase):
    def test_counters_in_a_fresh_process(self):
        from _util import TESTS_DIR
        p = run_python(SCRIPT % {"tests": str(TESTS_DIR)})
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout.strip().splitlines()[-1])
        zero = dict(idle=0, in_use=0, created=0, reused=0, discarded=0)
        self.assertEqual(out["start"], zero)
        self.assertEqual(out["first"], [1000, 1000])
        self.assertEqual(out["after_first"], dict(zero, idle=1, created=1))
        self.assertEqual(out["after_second"], dict(zero, idle=1, created=1, reused=1))
        self.assertEqual(out["drained"], 1)
        self.assertEqual(out["after_drain"], dict(zero, created=1, reused=1))
        self.assertEqual(out["broken"], 0)
        self.assertEqual(out["after_broken"], dict(zero, created=2, reused=1, discarded=1))
        self.assertEqual(out["before_configure"]["idle"], 1)
        self.assertEqual(out["after_configure"]["idle"], 0)
        self.assertEqual(out["after_configure"]["in_use"], 0)
        for kw, what in out["bad"]:
            self.assertEqual(what, "ValueError", kw)

    def test_stats_record_is_immutable(self):
        s = zcopy.pool_stats()
        self.assertIsInstance(s, zcopy.PoolStats)
        self.assertEqual(s._fields, ("idle", "in_use", "created", "reused", "discarded"))
        for v in s:
            self.assertIsInstance(v, int)
            self.assertGreaterEqual(v, 0)
        with self.assertRaises(AttributeError):
            s.idle = 5  # type: ignore[misc]

    def test_configure_type_errors(self):
        with self.assertRaises(TypeError):
            zcopy.pool_configure(max_idle="4")  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            zcopy.pool_configure(pipe_size=1.5)  # type: ignore[arg-type]
        zcopy.pool_configure()  # nothing to change: fine


if __name__ == "__main__":
    unittest.main()
