//! Tool discovery and installation (apt-get when root), the anchors, and
//! the environment the report records.

use crate::procs::run_capture;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Finds an executable on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    None
}

/// Makes sure `tool` is on PATH, installing Debian package `pkg` with
/// apt-get when it is missing and we are root. Waits and retries while
/// another process holds the dpkg lock. Returns a reason when it stays
/// missing.
pub fn ensure_tool(tool: &str, pkg: &str, log: &mut Vec<String>) -> Result<PathBuf, String> {
    if let Some(p) = which(tool) {
        return Ok(p);
    }
    // SAFETY: geteuid is always safe.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || which("apt-get").is_none() {
        return Err(format!(
            "{} not found and cannot install it (need root and apt-get): apt-get install -y {}",
            tool, pkg
        ));
    }
    eprintln!(
        "bench: {} is missing; installing Debian package {} with apt-get",
        tool, pkg
    );
    let mut updated = false;
    for attempt in 0..30 {
        let r = run_capture(
            Command::new("apt-get")
                .args(["install", "-y", "-q", pkg])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            Duration::from_secs(600),
        );
        match r {
            Ok((true, _, _)) => break,
            Ok((false, _, err)) if err.contains("lock") => {
                eprintln!(
                    "bench: apt-get is locked by another process; waiting 10 s (attempt {})",
                    attempt + 1
                );
                std::thread::sleep(Duration::from_secs(10));
            }
            Ok((false, _, err))
                if !updated && (err.contains("Unable to locate") || err.contains("404")) =>
            {
                updated = true;
                let _ = run_capture(
                    Command::new("apt-get").args(["update", "-q"]),
                    Duration::from_secs(600),
                );
            }
            Ok((false, _, err)) => {
                return Err(format!("apt-get install {} failed: {}", pkg, err.trim()))
            }
            Err(e) => return Err(e),
        }
    }
    match which(tool) {
        Some(p) => {
            log.push(format!("installed {} (Debian package {})", tool, pkg));
            Ok(p)
        }
        None => Err(format!(
            "{} still missing after apt-get install {}",
            tool, pkg
        )),
    }
}

/// The peer programs: bench/peers/ in this repository, or $ZCOPY_ANCHORS
/// when set (another set of peers with the same file names and arguments).
pub fn find_anchors(root: &Path) -> Option<PathBuf> {
    let dir = match std::env::var_os("ZCOPY_ANCHORS") {
        Some(p) => PathBuf::from(p),
        None => root.join("bench/peers"),
    };
    Some(dir).filter(|p| p.join("relay.go").is_file())
}

/// One line of a command's stdout, for the report's environment table.
pub fn first_line(cmd: &str, args: &[&str]) -> String {
    match run_capture(Command::new(cmd).args(args), Duration::from_secs(10)) {
        Ok((_, o, e)) => {
            let s = if o.trim().is_empty() { e } else { o };
            s.lines().next().unwrap_or("").trim().to_string()
        }
        Err(_) => "-".into(),
    }
}

/// The 1-minute load average.
pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(f64::NAN)
}
