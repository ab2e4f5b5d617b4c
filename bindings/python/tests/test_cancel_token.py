"""zcopy.CancelToken on its own: an fd that turns readable, from any thread or a signal handler."""

import gc
import os
import select
import signal
import threading
import unittest

import zcopy


def readable(fd):
    p = select.poll()
    p.register(fd, select.POLLIN)
    return bool(p.poll(0))


class CancelTokenBasics(unittest.TestCase):
    def test_cancel_makes_the_fd_readable_and_stays(self):
        with zcopy.CancelToken() as t:
            fd = t.fileno()
            self.assertFalse(t.cancelled)
            self.assertFalse(readable(fd))
            t.cancel()
            t.cancel()  # idempotent
            self.assertTrue(t.cancelled)
            self.assertTrue(readable(fd))
            self.assertTrue(readable(fd), "polling must not consume the cancellation")
            self.assertIn("cancelled", repr(t))
        self.assertRaises(ValueError, t.fileno)
        t.cancel()  # closed: nothing, no error
        self.assertFalse(t.cancelled)
        self.assertIn("closed", repr(t))

    def test_from_another_thread_and_a_signal_handler(self):
        t = zcopy.CancelToken()
        self.addCleanup(t.close)
        threading.Thread(target=t.cancel).start()
        p = select.poll()
        p.register(t.fileno(), select.POLLIN)
        self.assertTrue(p.poll(5000), "a cancel from another thread did not show")
        s = zcopy.CancelToken()
        self.addCleanup(s.close)
        old = signal.signal(signal.SIGALRM, lambda *a: s.cancel())
        self.addCleanup(signal.signal, signal.SIGALRM, old)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        p = select.poll()
        p.register(s.fileno(), select.POLLIN)
        self.assertTrue(p.poll(5000), "a cancel from a signal handler did not show")

    def test_fd_closed_when_collected(self):
        t = zcopy.CancelToken()
        fd = t.fileno()
        os.fstat(fd)
        del t
        gc.collect()
        with self.assertRaises(OSError):
            os.fstat(fd)


if __name__ == "__main__":
    unittest.main()
