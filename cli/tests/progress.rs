//! --progress: a bar on stderr only when stderr is a terminal (script(1)
//! gives the program a pty), for cp and cat.

mod support;

use std::process::Command;
use support::*;

#[test]
fn progress_bar_only_on_a_terminal() {
    let tmp = TempDir::new("cli-progress");
    let data = random_bytes(40 * 1024 * 1024, 9);
    let src = tmp.path().join("big");
    std::fs::write(&src, &data).unwrap();
    // stderr a pipe: --progress draws nothing.
    let o = run_ok(
        zcopy()
            .args(["cp", "--progress"])
            .arg(&src)
            .arg(tmp.path().join("p1")),
        T,
    );
    assert!(
        o.stderr.is_empty(),
        "a bar on a non-terminal: {}",
        stderr_str(&o)
    );
    // stderr a terminal.
    require("script", "apt-get install -y bsdutils");
    let dst = tmp.path().join("p2");
    let line = format!(
        "{} cp --progress {} {}",
        zcopy_bin(),
        src.display(),
        dst.display()
    );
    let o = run_ok(Command::new("script").args(["-qec", &line, "/dev/null"]), T);
    let tty = stdout_str(&o);
    assert!(
        tty.contains('\r') && tty.contains("100%") && tty.contains("B/s"),
        "{tty:?}"
    );
    assert!(std::fs::read(&dst).unwrap() == data);
    // cat with --progress on a terminal, data to a file.
    let out = tmp.path().join("p3");
    let line = format!(
        "{} cat --progress {} > {}",
        zcopy_bin(),
        src.display(),
        out.display()
    );
    let o = run_ok(Command::new("script").args(["-qec", &line, "/dev/null"]), T);
    assert!(stdout_str(&o).contains("100%"), "{:?}", stdout_str(&o));
    assert!(std::fs::read(&out).unwrap() == data);
}
