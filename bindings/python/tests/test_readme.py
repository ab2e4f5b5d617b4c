"""Every Python example in bindings/python/README.md (the PyPI page) runs as written."""

import re
import shutil
import tempfile
import unittest

from _util import PKG_SRC, other_pythons, run_python

README = PKG_SRC.parent / "README.md"


def python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), re.M | re.S)


class ReadmeExamples(unittest.TestCase):
    def run_blocks(self, python=None):
        blocks = python_blocks()
        self.assertGreaterEqual(len(blocks), 7, "the README lost its examples")
        for i, code in enumerate(blocks, 1):
            with self.subTest(block=i, python=python, first_line=code.splitlines()[0]):
                d = tempfile.mkdtemp(prefix="zcopy-readme-")
                self.addCleanup(shutil.rmtree, d, True)
                p = run_python(code, cwd=d, timeout=60, python=python)
                self.assertEqual(p.returncode, 0, f"block {i} failed:\n{code}\n{p.stderr}")
                # clean: asyncio's "Exception in callback ... CancelledError"
                # (a handler task outliving asyncio.run on 3.11-3.12) and
                # warnings land on stderr without failing the run
                self.assertEqual(p.stderr, "", f"block {i} wrote to stderr:\n{code}\n{p.stderr}")

    def test_every_python_block_runs(self):
        self.run_blocks()

    def test_every_python_block_runs_on_other_pythons(self):
        """The same on every other CPython 3.8-3.13 this machine has (none on a bare CI box: this interpreter only)."""
        for version, python in other_pythons().items():
            with self.subTest(version=version):
                self.run_blocks(python)

    def test_install_section_names_the_command_the_install_test_runs(self):
        text = README.read_text()
        self.assertIn("python3 -m pip install ./bindings/python", text)
        self.assertIn("py3-none-linux_", text)


if __name__ == "__main__":
    unittest.main()
