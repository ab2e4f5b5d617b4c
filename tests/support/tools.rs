//! Tools a test needs: found on PATH, or installed with apt-get when the
//! test runs as root (as on a fresh CI machine); otherwise the test fails,
//! never skips.

use std::process::{Command, Stdio};

/// Whether `tool` is on PATH.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null 2>&1"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Makes sure a tool the test needs is on PATH: when it is missing and the
/// hint is an `apt-get install -y PKG...` line, installs it (as root, as on
/// a fresh CI machine); otherwise, or if that fails, fails the test (never
/// skips it).
pub fn require(tool: &str, install_hint: &str) {
    if !have(tool) {
        if let Some(pkgs) = install_hint.strip_prefix("apt-get install -y ") {
            apt_install(pkgs);
        }
    }
    assert!(
        have(tool),
        "this test needs `{tool}` on PATH (install it: {install_hint})"
    );
}

/// `apt-get install -y PKGS` (after one `apt-get update`), serialised
/// across the test threads of this process. Errors show in the assert that
/// follows.
fn apt_install(pkgs: &str) {
    static APT: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut updated = APT.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !have("apt-get") {
        return;
    }
    let apt = |args: &[&str]| {
        let _ = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    };
    if !*updated {
        apt(&["update", "-qq"]);
        *updated = true;
    }
    let mut args = vec!["install", "-y", "-qq"];
    args.extend(pkgs.split_whitespace());
    apt(&args);
}
