//! `zcopy` with no command, --help, --version, and usage errors: one line
//! saying what is wrong, then the hint (the command's own help when there
//! is a command), on stderr, exit status 2. Global options before or after
//! the command.

mod support;

use support::*;

#[test]
fn help_version_and_usage_errors() {
    let o = run_ok(zcopy().arg("--help"), T);
    let out = stdout_str(&o);
    for word in ["cp", "cat", "relay", "--stats", "--progress"] {
        assert!(out.contains(word), "--help lacks {word}: {out}");
    }
    for cmd in ["cp", "cat", "relay"] {
        for flag in ["--help", "-h"] {
            let o = run_ok(zcopy().args([cmd, flag]), T);
            assert!(
                stdout_str(&o).starts_with(&format!("Usage: zcopy {cmd} ")),
                "{cmd} {flag}: {}",
                stdout_str(&o)
            );
        }
    }
    let o = run_ok(zcopy().arg("--version"), T);
    assert!(
        stdout_str(&o).contains(&format!("library {}", zcopy::VERSION)),
        "{}",
        stdout_str(&o)
    );
    for args in [
        vec![],
        vec!["bogus"],
        vec!["cp"],
        vec!["cp", "a"],
        vec!["cp", "--bogus", "a", "b"],
        vec!["cat", "-p"],
        vec!["relay", "127.0.0.1:0"],
        vec!["relay", "not-an-address", "127.0.0.1:1"],
        vec!["relay", "127.0.0.1:0", "127.0.0.1:http"],
        vec!["relay", "127.0.0.1:0", "127.0.0.1:65536"],
        vec!["relay", "127.0.0.1:0", "127.0.0.1:0"],
        vec!["relay", "127.0.0.1:0", ":0"],
        vec!["cp", "--preserve=colour", "a", "b"],
        vec!["cp", "--sparse=sometimes", "a", "b"],
        vec!["cp", "-t", "/tmp", "-T", "a"],
        vec!["cp", "-T", "a", "b", "c"],
        vec!["relay", "127.0.0.1:0", "127.0.0.1:1", "--idle-timeout"],
        vec!["relay", "--idle-timeout", "0", "127.0.0.1:0", "127.0.0.1:1"],
        vec!["relay", "--idle-timeout=-1", "127.0.0.1:0", "127.0.0.1:1"],
        vec![
            "relay",
            "--idle-timeout",
            "soon",
            "127.0.0.1:0",
            "127.0.0.1:1",
        ],
        vec!["relay", "--threads", "many", "127.0.0.1:0", "127.0.0.1:1"],
        vec!["relay", "--threads=5000", "127.0.0.1:0", "127.0.0.1:1"],
        vec!["relay", "--close-both=yes", "127.0.0.1:0", "127.0.0.1:1"],
        vec!["cp", "--close-both", "a", "b"],
        vec!["cat", "--threads", "2"],
    ] {
        let o = run(zcopy().args(&args), T);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr_str(&o));
        assert!(!stderr_str(&o).is_empty(), "{args:?}: no message");
        assert!(o.stdout.is_empty(), "{args:?}: usage errors go to stderr");
        // One line, then the hint; never the whole help.
        let err = stderr_str(&o);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {err}");
        assert!(lines[0].starts_with("zcopy"), "{args:?}: {err}");
        let hint = match args.first() {
            Some(&c) if ["cp", "cat", "relay"].contains(&c) => format!("zcopy {c} --help"),
            _ => "zcopy --help".to_string(),
        };
        assert_eq!(lines[1], format!("Try '{hint}' for more information."));
        if hint != "zcopy --help" {
            assert!(
                lines[0].starts_with(&format!("zcopy {}: ", args[0])),
                "{err}"
            );
        }
    }
}

#[test]
fn global_options_before_or_after_the_command() {
    let tmp = TempDir::new("cli-usage-global");
    let src = tmp.path().join("a");
    std::fs::write(&src, b"abc").unwrap();
    for (i, args) in [
        ["--stats", "cp", "SRC"],
        ["cp", "--stats", "SRC"],
        ["cp", "SRC", "--stats"],
    ]
    .iter()
    .enumerate()
    {
        let dst = tmp.path().join(format!("b{i}"));
        let mut c = zcopy();
        for a in args {
            c.arg(if *a == "SRC" {
                src.as_os_str()
            } else {
                a.as_ref()
            });
        }
        let o = run_ok(c.arg(&dst), T);
        assert!(
            stderr_str(&o).contains("3 bytes"),
            "{args:?}: {}",
            stderr_str(&o)
        );
        assert_eq!(std::fs::read(&dst).unwrap(), b"abc");
    }
    let o = run_ok(zcopy().args(["--progress", "cat"]).arg(&src), T);
    assert_eq!(o.stdout, b"abc");
    // A command's help names its own options.
    let o = run_ok(zcopy().args(["cp", "--help"]), T);
    for opt in [
        "--archive",
        "--recursive",
        "--preserve",
        "--no-clobber",
        "--sparse",
        "--reflink",
        "--stats",
    ] {
        assert!(stdout_str(&o).contains(opt), "cp --help lacks {opt}");
    }
}
