"""The Python API the issues specify, name by name and signature by signature."""

import errno
import inspect
import unittest

import zcopy
import zcopy.aio

P = inspect.Parameter


def params(fn):
    return inspect.signature(fn).parameters


class Api(unittest.TestCase):
    def assert_keyword_only(self, fn, **defaults):
        ps = params(fn)
        for name, default in defaults.items():
            with self.subTest(fn=fn.__qualname__, param=name):
                self.assertIn(name, ps)
                self.assertEqual(ps[name].kind, P.KEYWORD_ONLY)
                self.assertEqual(ps[name].default, default)

    def test_blocking_calls_take_timeout_and_cancel(self):
        for fn in (zcopy.splice, zcopy.sendfile, zcopy.copy_file_range, zcopy.copy, zcopy.relay):
            self.assert_keyword_only(fn, timeout=None, cancel=None)
        self.assert_keyword_only(zcopy.relay, close_both=False)
        self.assertEqual(list(params(zcopy.relay))[:2], ["a", "b"])

    def test_engine(self):
        self.assertIsNone(params(zcopy.Engine)["threads"].default)
        self.assert_keyword_only(zcopy.Engine.relay, timeout=None, close_both=False)
        self.assertEqual(list(params(zcopy.Engine.relay))[:3], ["self", "a", "b"])

    def test_aio(self):
        self.assertTrue(inspect.iscoroutinefunction(zcopy.aio.relay))
        self.assert_keyword_only(zcopy.aio.relay, timeout=None, close_both=False)
        self.assert_keyword_only(zcopy.aio.splice, timeout=None)

    def test_shutil_like(self):
        self.assertEqual(list(params(zcopy.copyfile))[:2], ["src", "dst"])
        self.assertEqual([(n, p.default) for n, p in params(zcopy.copyfileobj).items()],
                         [("fsrc", P.empty), ("fdst", P.empty), ("length", 0)])

    def test_errors_and_token(self):
        self.assertTrue(issubclass(zcopy.Cancelled, OSError))
        e = zcopy.Cancelled(errno.ECANCELED, "x")
        self.assertEqual((e.errno, e.written), (errno.ECANCELED, 0))
        with zcopy.CancelToken() as t:
            self.assertFalse(t.cancelled)
            t.cancel()
            self.assertTrue(t.cancelled)


if __name__ == "__main__":
    unittest.main()
