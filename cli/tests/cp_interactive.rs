//! `zcopy cp -i`: the prompt on stderr (no newline: the answer goes on its
//! line), y or Y on stdin goes on, anything else keeps the file; -n wins.

mod support;

use support::*;

#[test]
fn interactive_asks_and_takes_y_only() {
    let tmp = TempDir::new("cli-cp-i");
    let src = tmp.path().join("src");
    std::fs::write(&src, b"new").unwrap();
    let dst = tmp.path().join("dst");
    for (answer, want) in [("n\n", &b"old"[..]), ("\n", b"old"), ("yes\n", b"new")] {
        std::fs::write(&dst, b"old").unwrap();
        let o = run_input(
            zcopy().args(["cp", "-i"]).arg(&src).arg(&dst),
            answer.as_bytes().to_vec(),
            T,
        );
        assert!(o.status.success(), "{answer:?}: {}", stderr_str(&o));
        let prompt = format!("zcopy cp: overwrite '{}'? ", dst.display());
        assert_eq!(stderr_str(&o), prompt, "{answer:?}: the prompt, no newline");
        assert_eq!(std::fs::read(&dst).unwrap(), want, "{answer:?}");
    }
    // -n wins over -i: nothing asked, nothing written.
    std::fs::write(&dst, b"old").unwrap();
    let o = run_input(
        zcopy().args(["cp", "-i", "-n"]).arg(&src).arg(&dst),
        b"y\n".to_vec(),
        T,
    );
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{}",
        stderr_str(&o)
    );
    assert_eq!(std::fs::read(&dst).unwrap(), b"old");
}
