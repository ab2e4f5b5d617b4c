//! `zcopy cp` against coreutils' cp on the same generated trees: for each
//! set of options both copy `src`, and the two results must read the same
//! (see support/tree.rs for what is compared), with the same exit status
//! and the same messages (less the program's name). As root, and as the
//! unprivileged uid 65534 (nobody).

mod support;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};
use support::tree::{make, sh, snapshot};
use support::*;

const NOBODY: u32 = 65534;

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

/// The messages of a run, less "cp: " or "zcopy cp: ", sorted.
fn messages(o: &Output, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = stderr_str(o)
        .lines()
        .map(|l| l.strip_prefix(prefix).unwrap_or(l).to_string())
        .collect();
    v.sort();
    v
}

/// Runs `cp ARGS` and `zcopy cp ARGS` in `dir` (`{}` in an argument is
/// replaced by "ref" for cp and by "out" for zcopy), as `uid` when given;
/// asserts the same status and messages; returns zcopy's output.
fn both(dir: &Path, args: &[&str], uid: Option<u32>) -> Output {
    let go = |prog: &mut Command, name: &str| {
        let a: Vec<String> = args.iter().map(|a| a.replace("{}", name)).collect();
        prog.args(&a).current_dir(dir);
        if let Some(u) = uid {
            prog.uid(u).gid(u);
        }
        run(prog, T)
    };
    let c = go(&mut Command::new("cp"), "ref");
    let z = go(zcopy().arg("cp"), "out");
    let (cm, zm) = (messages(&c, "cp: "), messages(&z, "zcopy cp: "));
    assert_eq!(
        z.status.code(),
        c.status.code(),
        "cp {args:?}: status; cp said {cm:?}, zcopy said {zm:?}"
    );
    let (cm, zm) = (cm.join("\n"), zm.join("\n"));
    assert_eq!(zm.replace("out", "ref"), cm, "cp {args:?}: messages");
    // -v lines, in any order (cp lists a directory in readdir order).
    let lines = |o: &Output| {
        let mut v: Vec<String> = stdout_str(o).lines().map(str::to_string).collect();
        v.sort();
        v.join("\n")
    };
    assert_eq!(
        lines(&z).replace("out", "ref"),
        lines(&c),
        "cp {args:?}: stdout"
    );
    z
}

/// Both copies of `src` read the same.
fn same_trees(dir: &Path, times: bool, what: &str) {
    let (r, o) = (
        snapshot(&dir.join("ref"), times),
        snapshot(&dir.join("out"), times),
    );
    if r != o {
        let diff: Vec<String> = r
            .lines()
            .zip(o.lines())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("cp:    {a}\nzcopy: {b}"))
            .collect();
        panic!("{what}: the trees differ:\n{}", diff.join("\n"));
    }
}

fn fresh(dir: &Path) {
    sh(
        dir,
        "chmod -R u+w ref out 2>/dev/null || true; rm -rf ref out",
    );
}

#[test]
fn trees_as_root_match_coreutils() {
    assert_eq!(
        euid(),
        0,
        "run as root: this test compares owners kept as root"
    );
    let tmp = TempDir::new("cli-cp-root");
    let d = tmp.path();
    make(d, true);
    // Every kind of copy of a whole tree. -rL meets a dangling link and the
    // ../sub cycle: both refuse the same way and copy the rest alike.
    for (args, times) in [
        (&["-a", "src", "{}"][..], true),
        (&["-dR", "--preserve=all", "src", "{}"][..], true),
        (&["-r", "src", "{}"][..], false),
        (&["-R", "-p", "src", "{}"][..], true),
        (&["-rL", "src", "{}"][..], false),
        (&["-RH", "src", "{}"][..], false),
        (&["-a", "--sparse=always", "src", "{}"][..], true),
        (&["-a", "--sparse=never", "src", "{}"][..], true),
        (&["-a", "--reflink=never", "src", "{}"][..], true),
        (&["-av", "src", "{}"][..], true),
        (&["-r", "--preserve=mode,ownership", "src", "{}"][..], false),
    ] {
        fresh(d);
        both(d, args, None);
        same_trees(d, times, &format!("cp {args:?}"));
    }
    // A link to the tree named on the command line: -H follows it (and no
    // other), -r alone copies the link itself.
    sh(d, "ln -s src srclink");
    for args in [&["-RH", "srclink", "{}"][..], &["-r", "srclink", "{}"][..]] {
        fresh(d);
        both(d, args, None);
        same_trees(d, false, &format!("cp {args:?}"));
    }
    // Copying into an existing directory, and again over the copy.
    fresh(d);
    sh(d, "mkdir ref out");
    for _ in 0..2 {
        both(
            d,
            &["-a", "src/a", "src/big", "src/link", "src/sub", "{}"],
            None,
        );
        same_trees(d, true, "cp -a SRC... DIR, twice");
    }
    // Single files: -p keeps an owner, a plain cp gives the file to root.
    // -L --preserve=all: the xattrs and times of what the link points to.
    for args in [
        &["-p", "src/suid", "{}"][..],
        &["src/suid", "{}"][..],
        &["-L", "--preserve=all", "src/link", "{}"][..],
    ] {
        fresh(d);
        sh(d, "mkdir ref out");
        both(d, args, None);
        same_trees(d, args.len() > 2, &format!("cp {args:?}"));
    }
}

#[test]
fn trees_as_an_unprivileged_user_match_coreutils() {
    assert_eq!(euid(), 0, "run as root: the test switches to uid 65534");
    let tmp = TempDir::new("cli-cp-user");
    let d = tmp.path();
    make(d, false);
    // nobody owns the tree, but for one file nobody cannot read; the
    // device (mknod) and ownership are what a user cannot have.
    sh(
        d,
        "chown -R 65534:65534 src; chmod 777 .
         echo secret > src/sub/secret; chmod 600 src/sub/secret",
    );
    for (args, times) in [
        (&["-a", "src", "{}"][..], true),
        (&["-r", "src", "{}"][..], false),
        (&["-rp", "src", "{}"][..], true),
        (
            &["-r", "--preserve=mode,timestamps,xattr", "src", "{}"][..],
            true,
        ),
    ] {
        fresh(d);
        let o = both(d, args, Some(NOBODY));
        assert_eq!(
            o.status.code(),
            Some(1),
            "{args:?}: the secret is unreadable"
        );
        same_trees(d, times, &format!("cp {args:?} as nobody"));
    }
    // An explicit --preserve=ownership that cannot be honoured is an error
    // (as cp says it), -p's is not.
    fresh(d);
    sh(d, "mkdir ref out; chmod 777 ref out; echo x > rootfile");
    both(
        d,
        &["--preserve=ownership", "rootfile", "{}/f"],
        Some(NOBODY),
    );
    both(d, &["-p", "rootfile", "{}/g"], Some(NOBODY));
    same_trees(d, false, "ownership as nobody");
}

#[test]
fn errors_match_coreutils() {
    assert_eq!(euid(), 0, "run as root: some cases switch to uid 65534");
    let tmp = TempDir::new("cli-cp-errors");
    let d = tmp.path();
    sh(
        d,
        "mkdir -p dir/sub loop/a ref out; echo data > file; echo x > ref/f; echo x > out/f
         ln -s .. loop/a/up; chmod 777 . ref out
         echo secret > secret; chmod 600 secret
         mkdir locked; chmod 555 locked; ln -s nowhere dangling
         for d in ref out; do echo old > $d/ro; chmod 444 $d/ro; done",
    );
    let nobody = Some(NOBODY);
    for (args, uid) in [
        (&["missing", "{}/x"][..], None),                  // missing source
        (&["dir", "{}/x"][..], None),                      // directory without -r
        (&["-r", "dir", "file"][..], None),                // dst a file
        (&["-r", "dir", "dir/sub"][..], None),             // into itself
        (&["-rL", "loop", "{}/loop"][..], None),           // a cycle
        (&["file", "file"][..], None),                     // same file
        (&["file", "file", "{}/f"][..], None),             // several into a file
        (&["-T", "file", "dir"][..], None),                // file onto a directory
        (&["-t", "file", "dir"][..], None),                // -t not a directory
        (&["file", "nosuchdir/x"][..], None),              // no such directory
        (&["file", "dangling"][..], None),                 // through a dangling link
        (&["file", "{}/ro"][..], nobody),                  // a read-only file: refused
        (&["-f", "file", "{}/ro"][..], nobody),            // -f: removed, made anew
        (&["secret", "{}/s"][..], nobody),                 // no permission to read
        (&["file", "locked/f"][..], nobody),               // no permission to write
        (&["-n", "file", "{}/f"][..], None),               // -n: kept, status 0
        (&["-iv", "file", "{}/f"][..], None),              // -i, no answer: kept
        (&["--reflink=always", "file", "{}/r"][..], None), // tmpfs/ext4 cannot clone
    ] {
        both(d, args, uid);
    }
    sh(
        d,
        "test \"$(cat out/f)\" = x; test \"$(cat out/ro)\" = data",
    );
    assert_eq!(std::fs::read(d.join("file")).unwrap(), b"data\n");
}
