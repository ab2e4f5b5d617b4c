//! `zcopy cat` against cat(1) where output goes wrong: stdout closed, the
//! output file among the inputs, a reader that goes away (SIGPIPE left at
//! its default, and ignored), a full device, inputs that cannot be read.
//! Each case runs as a bash script once with `cat` and once with `zcopy
//! cat`, in two copies of the same files: the status, stdout, messages
//! (less the program's name) and the files afterwards must agree.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::tree::sh;
use support::*;

fn script(dir: &Path, prog: &str, body: &str) -> Output {
    run(
        Command::new("bash")
            .arg("-c")
            .arg(body.replace("CAT", prog))
            .current_dir(dir),
        T,
    )
}

#[test]
fn cat_errors_match_coreutils() {
    let tmp = TempDir::new("cli-cat-errors");
    let z = format!("{} cat", zcopy_bin());
    let setup = "rm -rf w; mkdir -p w/dir; cd w; printf 'one\\n' > f; printf 'two\\n' > g
                 head -c 20000000 /dev/zero > big";
    for (what, body) in [
        ("stdout closed", "CAT f >&-"),
        ("stdout closed, stdin", "echo x | CAT >&-"),
        ("input is output (>>)", "CAT g f g >> f"),
        ("input is output (<>)", "CAT f 1<>f"),
        ("a full device", "CAT f > /dev/full"),
        ("a missing input", "CAT f missing g"),
        ("a directory", "CAT dir f"),
        (
            "reader gone, SIGPIPE default",
            "CAT big | head -c 10 >/dev/null; echo ${PIPESTATUS[0]}",
        ),
        (
            "reader gone, SIGPIPE ignored",
            "trap '' PIPE; CAT big | head -c 10 >/dev/null; echo ${PIPESTATUS[0]}",
        ),
    ] {
        let body = format!("cd w; {body}");
        sh(tmp.path(), setup);
        let c = script(tmp.path(), "cat", &body);
        let after_cat = std::fs::read(tmp.path().join("w/f")).unwrap();
        sh(tmp.path(), setup);
        let o = script(tmp.path(), &z, &body);
        let after_zcopy = std::fs::read(tmp.path().join("w/f")).unwrap();
        let msg = |o: &Output, p: &str| -> String {
            stderr_str(o)
                .lines()
                .map(|l| l.strip_prefix(p).unwrap_or(l).to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (cm, zm) = (msg(&c, "cat: "), msg(&o, "zcopy cat: "));
        assert_eq!(
            o.status.code(),
            c.status.code(),
            "{what}: status; cat: {cm}, zcopy: {zm}"
        );
        assert_eq!(zm, cm, "{what}: messages");
        assert_eq!(stdout_str(&o), stdout_str(&c), "{what}: stdout");
        assert_eq!(after_zcopy, after_cat, "{what}: the file f afterwards");
    }
}
