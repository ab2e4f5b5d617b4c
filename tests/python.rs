//! Runs the Python harness (bindings/python/tests, plain unittest) against
//! the libzcopy.so that `cargo test` just built (found from this test
//! binary's own path), with the package taken from
//! bindings/python/src.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(900);

/// The libzcopy.so built with this test (in target/<profile>/deps on a
/// plain `cargo test`, see common::built_library_dir).
fn library() -> PathBuf {
    common::built_library_dir().join("libzcopy.so")
}

/// The asyncio tests also run on uvloop; install it from PyPI when it is
/// missing (a fresh machine has pip), so they run rather than skip.
fn ensure_uvloop(python: &str) {
    let have = || {
        Command::new(python)
            .args(["-c", "import uvloop"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if have() {
        return;
    }
    for extra in [&[][..], &["--break-system-packages"][..]] {
        let _ = Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "uvloop",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if have() {
            return;
        }
    }
    eprintln!("python harness: uvloop could not be installed; its tests will report a skip");
}

#[test]
fn python_unittest_harness() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tests = repo.join("bindings/python/tests");
    let src = repo.join("bindings/python/src");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out_dir = std::env::temp_dir().join(format!("zcopy-python-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let out_path = out_dir.join("output.txt");
    ensure_uvloop(&python);
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = Command::new(&python)
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(&tests)
        .arg("-t")
        .arg(&tests)
        .current_dir(&tests)
        .env("ZCOPY_LIBRARY", library())
        .env("PYTHONPATH", &src)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {python}: {e} (set PYTHON to a Python 3 interpreter)")
        });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&out_dir);
    println!("{text}");
    let status =
        status.unwrap_or_else(|| panic!("python harness timed out after {TIMEOUT:?}\n{text}"));
    let ran: usize = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("Ran ")
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or_else(|| panic!("no 'Ran N tests' line in the harness output\n{text}"));
    assert!(ran > 0, "the Python harness ran no tests\n{text}");
    assert!(
        status.success(),
        "the Python harness failed ({status})\n{text}"
    );
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        last.starts_with("OK"),
        "unexpected end of the harness output: {last}\n{text}"
    );
    for l in text.lines().filter(|l| l.contains("skipped")) {
        eprintln!("python harness skip: {l}");
    }
}
