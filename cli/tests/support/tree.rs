//! A test tree with every kind of entry cp knows, and a snapshot of a tree
//! (types, modes, owners, sizes, blocks, times, link targets, link counts,
//! xattrs, contents) read with find -printf, getfattr and md5sum, so that
//! a copy made by `zcopy cp` and one made by coreutils' cp compare as text.

use super::{require, run, run_ok, stderr_str, stdout_str, T};
use std::path::Path;
use std::process::Command;

/// Runs a shell script in `dir`; panics with its stderr when it fails.
pub fn sh(dir: &Path, script: &str) {
    run_ok(
        Command::new("sh").arg("-ec").arg(script).current_dir(dir),
        T,
    );
}

/// Makes `dir/src`: files of several modes, sizes and times, a sparse file,
/// a file of real zeros, hard links, symlinks (relative, absolute, dangling,
/// to a directory), a FIFO, a character device, directories with odd modes
/// (setgid, read-only), user xattrs on a file and a directory. `as_root`:
/// also owners other than the caller's, a setuid file and a trusted xattr.
pub fn make(dir: &Path, as_root: bool) {
    require("setfattr", "apt-get install -y attr");
    let mut s = String::from(
        "mkdir -p src/sub/deep src/ro
         head -c 3000017 /dev/urandom > src/big
         echo hello > src/a; chmod 640 src/a
         printf '#!/bin/sh\\n' > src/exec; chmod 755 src/exec
         : > src/empty
         truncate -s 10M src/sparse
         printf data | dd of=src/sparse bs=1 seek=5000000 conv=notrunc 2>/dev/null
         printf end | dd of=src/sparse bs=1 seek=10485000 conv=notrunc 2>/dev/null
         head -c 1048576 /dev/zero > src/zeros
         ln src/a src/sub/hard; ln src/big src/sub/deep/hard2
         ln -s a src/link; ln -s /nonexistent/x src/dangling
         ln -s ../sub src/sub/deep/up; ln -s /etc src/abs
         mkfifo src/fifo; chmod 620 src/fifo
         mknod src/null c 1 3 2>/dev/null || true
         echo in-ro > src/ro/f
         setfattr -n user.k -v v1 src/a
         setfattr -n user.dir -v d src/sub
         chmod 2751 src/sub; chmod 700 src/sub/deep; chmod 555 src/ro
         touch -d '2001-02-03 04:05:06.123456789' src/a src/big src/sub/deep
         touch -h -d '2002-03-04 05:06:07.5' src/link
         touch -d '2003-01-01 00:00:00' src/ro src/sub src\n",
    );
    if as_root {
        s.push_str(
            "cp src/exec src/suid; chown 1234:5678 src/suid; chmod 4755 src/suid
             chown -h 4321:8765 src/link src/sub/deep
             setfattr -n trusted.t -v tv src/sub/deep
             touch -d '2004-01-01 00:00:00' src/suid src/sub/deep src\n",
        );
    }
    sh(dir, &s);
}

/// The snapshot of the tree at `root`. `times`: mtimes included (only a
/// copy that keeps them can match its source's copy).
pub fn snapshot(root: &Path, times: bool) -> String {
    require("getfattr", "apt-get install -y attr");
    let fmt = if times {
        "%p %y %m %U:%G %s %T@ %l %n\\n"
    } else {
        "%p %y %m %U:%G %s %l %n\\n"
    };
    let find = |args: &[&str]| {
        let o = run_ok(
            Command::new("find").arg(".").args(args).current_dir(root),
            T,
        );
        let mut v: Vec<String> = stdout_str(&o).lines().map(str::to_string).collect();
        v.sort();
        v
    };
    // The top directory is the test's own, made at another time.
    let entries = find(&["-mindepth", "1", "-printf", fmt]);
    // Blocks of regular files: holes kept, made or filled show here.
    let blocks = find(&["-type", "f", "-printf", "%p %b\\n"]);
    let paths = find(&["-printf", "%p\\n"]);
    let o = run(
        Command::new("getfattr")
            .args(["-d", "-m", "-", "-h", "--absolute-names", "--"])
            .args(&paths)
            .current_dir(root),
        T,
    );
    // A FIFO or device may have no xattr support: their lines say so alike.
    let xattrs = stdout_str(&o);
    let o = run_ok(
        Command::new("sh")
            .arg("-c")
            .arg("find . -type f -print0 | sort -z | xargs -0 -r md5sum")
            .current_dir(root),
        T,
    );
    format!(
        "{}\n--- blocks\n{}\n--- xattrs\n{xattrs}{}\n--- md5\n{}",
        entries.join("\n"),
        blocks.join("\n"),
        stderr_str(&o),
        stdout_str(&o)
    )
}
