"""mypy --strict on the package (it ships py.typed), and on a user's strictly typed code using it.

mypy is installed from PyPI when missing (pinned: a new release's new
checks must not turn this red by themselves); a machine where it cannot be
installed fails this test, never skips it.
"""

import subprocess
import sys
import tempfile
import unittest

from _util import PKG_SRC, TESTS_DIR

MYPY = "mypy==2.4.1"
TIMEOUT = 600


def ensure_mypy():
    have = [sys.executable, "-c", "import mypy"]
    if subprocess.run(have, capture_output=True).returncode == 0:
        return
    for extra in ([], ["--break-system-packages"]):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", MYPY, *extra],
                       capture_output=True, timeout=TIMEOUT)
        if subprocess.run(have, capture_output=True).returncode == 0:
            return
    raise AssertionError(f"mypy is needed and `pip install {MYPY}` failed")


def mypy(*paths):
    with tempfile.TemporaryDirectory(prefix="zcopy-mypy-") as cache:
        return subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--cache-dir", cache, "--no-error-summary",
             "--hide-error-context", *map(str, paths)],
            capture_output=True, text=True, timeout=TIMEOUT,
            env={"MYPYPATH": str(PKG_SRC), "PATH": "/usr/bin:/bin"},
        )


class StrictTyping(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ensure_mypy()

    def test_package_and_user_code_are_strict_clean(self):
        p = mypy(PKG_SRC / "zcopy", TESTS_DIR / "typing" / "user_code.py")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_wrong_argument_order_is_a_type_error(self):
        p = mypy(TESTS_DIR / "typing" / "wrong_order.py")
        self.assertNotEqual(p.returncode, 0, "mypy accepted zcopy.copy(a, b)")
        self.assertIn("Too many positional arguments", p.stdout)


if __name__ == "__main__":
    unittest.main()
