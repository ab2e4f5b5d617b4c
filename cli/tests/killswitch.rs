//! `--no-splice`, `--no-sendfile`, `--no-copy-file-range` (issue 23): the
//! library's kill switch from the command line. Each turns its mechanism
//! off for the command; the copy takes the next path of the dispatch
//! (read/write last), `--stats` names the method truthfully, and the bytes
//! arrive intact. Options go before or after the command.

mod support;

use std::process::Command;
use support::*;

/// `zcopy cp --stats` with `opts`; returns the method --stats named.
fn cp_method(opts: &[&str], src: &std::path::Path, dst: &std::path::Path) -> String {
    let out = Command::new(zcopy_bin())
        .arg("cp")
        .arg("--stats")
        .args(opts)
        .arg(src)
        .arg(dst)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{opts:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    err.rsplit("method ")
        .next()
        .map(|m| m.trim().to_string())
        .unwrap_or_else(|| panic!("no method in {err:?}"))
}

#[test]
fn each_switch_moves_the_copy_to_the_next_mechanism() {
    let tmp = TempDir::new("cli-killswitch");
    let data = random_bytes(3 * 1024 * 1024 + 17, 9);
    let src = tmp.path().join("src.bin");
    std::fs::write(&src, &data).unwrap();
    let cases: [(&[&str], &[&str]); 3] = [
        (&["--no-copy-file-range"], &["sendfile"]),
        (
            &["--no-copy-file-range", "--no-sendfile"],
            &["splice", "read_write"],
        ),
        (
            &["--no-copy-file-range", "--no-sendfile", "--no-splice"],
            &["read_write"],
        ),
    ];
    for (i, (opts, allowed)) in cases.iter().enumerate() {
        let dst = tmp.path().join(format!("dst{i}.bin"));
        let method = cp_method(opts, &src, &dst);
        assert!(
            allowed.contains(&method.as_str()),
            "{opts:?}: method {method}"
        );
        assert!(
            std::fs::read(&dst).unwrap() == data,
            "{opts:?}: bytes differ"
        );
    }
}

#[test]
fn the_switches_are_global_options() {
    let tmp = TempDir::new("cli-killswitch-global");
    let src = tmp.path().join("a");
    std::fs::write(&src, b"hello").unwrap();
    let out = Command::new(zcopy_bin())
        .args(["--no-sendfile", "--stats", "cat"])
        .arg(&src)
        .args(["--no-splice"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"hello");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("method read_write"), "{err}");
}
