"""shutil.copytree(src, dst, copy_function=zcopy.copy2): what shutil.copy2 gives, holes kept.

The tree holds a regular file, an empty file, a sparse file, a file
without read permission, a FIFO, a symlink to a file and a subdirectory.
Every case is compared with the same copytree run with shutil.copy2:
the same errors (the FIFO's SpecialFileError, the unreadable file's
PermissionError unless we are root, who reads it anyway), the same bytes,
modes and times; and the sparse file keeps its holes through zcopy.
"""

import os
import shutil
import stat
import tempfile
import unittest

import zcopy
from _util import data

MIB = 1 << 20
SPARSE_SIZE = 64 * MIB
CHUNK = 64 * 1024


def build_tree(root):
    os.makedirs(os.path.join(root, "sub"))
    with open(os.path.join(root, "plain.bin"), "wb") as f:
        f.write(data(300_000, 7))
    open(os.path.join(root, "empty"), "wb").close()
    with open(os.path.join(root, "sub", "sparse.img"), "wb") as f:
        f.write(data(CHUNK, 8))  # data, a 64 MiB hole, data
        f.seek(SPARSE_SIZE - CHUNK)
        f.write(data(CHUNK, 9))
    secret = os.path.join(root, "secret")
    with open(secret, "wb") as f:
        f.write(b"no read permission")
    os.chmod(secret, 0o200)
    os.chmod(os.path.join(root, "plain.bin"), 0o640)
    os.mkfifo(os.path.join(root, "fifo"))
    os.symlink("plain.bin", os.path.join(root, "link"))
    # distinct, old times: a copy that drops them is seen
    for i, name in enumerate(["plain.bin", "empty", "secret", os.path.join("sub", "sparse.img")]):
        t = 1_500_000_000_123_456_789 + i * 1_000_000_007
        os.utime(os.path.join(root, name), ns=(t, t + 5))


def copytree_errors(src, dst, copy_function, **kw):
    """copytree's result: (None, []) or the exception and its (src, dst, why) list, names relative."""
    try:
        shutil.copytree(src, dst, copy_function=copy_function, **kw)
        return []
    except shutil.Error as e:
        return sorted((os.path.relpath(s, src), os.path.relpath(d, dst), why.split(":")[0])
                      for s, d, why in e.args[0])


class CopytreeWithZcopyCopy2(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zcopy-copytree-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.src = os.path.join(self.tmp, "src")
        build_tree(self.src)

    def assert_same_file(self, a, b, times=True, follow_a=False):
        sa, sb = (os.stat(a) if follow_a else os.lstat(a)), os.lstat(b)
        self.assertEqual(stat.S_IFMT(sa.st_mode), stat.S_IFMT(sb.st_mode), b)
        if stat.S_ISLNK(sa.st_mode):
            self.assertEqual(os.readlink(a), os.readlink(b))
            return
        self.assertEqual(stat.S_IMODE(sa.st_mode), stat.S_IMODE(sb.st_mode), b)
        if times:
            self.assertEqual(sa.st_mtime_ns, sb.st_mtime_ns, b)
        self.assertEqual(sa.st_size, sb.st_size, b)
        if stat.S_ISREG(sa.st_mode) and os.access(a, os.R_OK):
            with open(a, "rb") as fa, open(b, "rb") as fb:
                self.assertTrue(fa.read() == fb.read(), f"{b}: bytes differ")

    def test_same_result_as_shutil_copy2(self):
        for symlinks in (False, True):
            with self.subTest(symlinks=symlinks):
                ours = os.path.join(self.tmp, f"zcopy-{symlinks}")
                theirs = os.path.join(self.tmp, f"shutil-{symlinks}")
                got = copytree_errors(self.src, ours, zcopy.copy2, symlinks=symlinks)
                want = copytree_errors(self.src, theirs, shutil.copy2, symlinks=symlinks)
                self.assertEqual(got, want)
                # the FIFO is refused, as shutil refuses it, and the rest is copied
                self.assertEqual([e[0] for e in got if e[0] == "fifo"], ["fifo"])
                if os.geteuid() != 0:
                    self.assertIn("secret", [e[0] for e in got])
                names = sorted(os.listdir(theirs))
                self.assertEqual(sorted(os.listdir(ours)), names)
                for name in names + [os.path.join("sub", "sparse.img")]:
                    if name == "sub":
                        continue
                    self.assert_same_file(os.path.join(theirs, name), os.path.join(ours, name),
                                          times=not (symlinks and name == "link"))
                    self.assert_same_file(os.path.join(self.src, name), os.path.join(ours, name),
                                          times=not (symlinks and name == "link"), follow_a=not symlinks)
                self.assertEqual(os.path.islink(os.path.join(ours, "link")), symlinks)

    def test_sparse_file_keeps_its_holes(self):
        dst = os.path.join(self.tmp, "copy")
        copytree_errors(self.src, dst, zcopy.copy2)
        src_file = os.path.join(self.src, "sub", "sparse.img")
        dst_file = os.path.join(dst, "sub", "sparse.img")
        allocated_src = os.stat(src_file).st_blocks * 512
        self.assertLess(allocated_src, 4 * MIB, "this filesystem cannot hold the sparse source")
        st = os.stat(dst_file)
        self.assertEqual(st.st_size, SPARSE_SIZE)
        self.assertLess(st.st_blocks * 512, 4 * MIB, "the copy filled its holes")
        with open(dst_file, "rb") as f:
            self.assertEqual(f.read(CHUNK), data(CHUNK, 8))
            f.seek(SPARSE_SIZE // 2)
            self.assertEqual(f.read(CHUNK), bytes(CHUNK))
            f.seek(SPARSE_SIZE - CHUNK)
            self.assertEqual(f.read(), data(CHUNK, 9))
        self.assertEqual(os.stat(src_file).st_mtime_ns, st.st_mtime_ns)

    def test_copy2_return_value_and_directory_dst(self):
        src = os.path.join(self.src, "plain.bin")
        d = os.path.join(self.tmp, "d")
        os.mkdir(d)
        self.assertEqual(zcopy.copy2(src, d), os.path.join(d, "plain.bin"))
        self.assert_same_file(src, os.path.join(d, "plain.bin"))
        self.assertEqual(zcopy.copy2(src, os.path.join(d, "x")), os.path.join(d, "x"))


if __name__ == "__main__":
    unittest.main()
