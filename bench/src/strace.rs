//! System call counts: a command run under `strace -c -f`, and its summary
//! read back as calls per unit of work (per GiB, per MiB, per transfer).

use crate::prelude::*;
use crate::relay::{fill, Relay};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs the bench binary in child mode under `strace -c -f` and returns the
/// syscalls per `per` unit, with the main ones listed.
pub fn strace_counts(
    exe: &std::path::Path,
    args: &[&str],
    per: f64,
) -> Result<(f64, String), String> {
    let mut argv: Vec<std::ffi::OsString> = vec![exe.as_os_str().to_owned(), "--child".into()];
    argv.extend(args.iter().map(std::ffi::OsString::from));
    strace_argv(&argv, per)
}

/// Runs a command under `strace -c -f`; syscalls per `per` units, and the
/// main ones.
pub fn strace_argv(argv: &[std::ffi::OsString], per: f64) -> Result<(f64, String), String> {
    let out = std::env::temp_dir().join(format!("zcopy-bench-strace-{}.txt", std::process::id()));
    let mut cmd = std::process::Command::new("strace");
    cmd.args(["-c", "-f", "-o"]).arg(&out).args(argv);
    let r = run_capture(&mut cmd, std::time::Duration::from_secs(120))?;
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    if !r.0 {
        return Err(r.2.trim().to_string());
    }
    parse_strace(
        &text,
        per,
        &[
            "execve", "mmap", "mprotect", "openat", "read", "write", "close",
        ],
    )
}

/// Parses strace -c output into (total per unit, "name N, ..." breakdown).
/// `startup` names are counted as they are (process startup noise is small
/// next to thousands of transfers).
pub fn parse_strace(text: &str, per: f64, _startup: &[&str]) -> Result<(f64, String), String> {
    let mut rows: Vec<(String, f64)> = Vec::new();
    let mut total = 0.0;
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 5 || cols[0].starts_with('-') || cols[0] == "%" {
            continue;
        }
        let name = cols[cols.len() - 1].to_string();
        // columns: % time, seconds, usecs/call, calls, [errors], syscall
        let calls: f64 = match cols[3].parse() {
            Ok(c) => c,
            Err(_) => continue,
        };
        if name == "total" {
            total = calls;
            continue;
        }
        rows.push((name, calls));
    }
    if total == 0.0 {
        return Err(format!(
            "no strace summary in: {}",
            text.chars().take(200).collect::<String>()
        ));
    }
    rows.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
    let parts: Vec<String> = rows
        .iter()
        .filter(|(_, c)| c / per >= 0.05)
        .take(6)
        .map(|(n, c)| format!("{} {:.2}", n, c / per))
        .collect();
    Ok((total / per, parts.join(", ")))
}

/// Runs a relay under strace -c -f while iperf3 moves `mib` MiB through it.
pub fn strace_relay(
    relay: &Relay,
    target: u16,
    mib: u64,
    dir: &std::path::Path,
) -> Result<(f64, String), String> {
    let lp = free_port();
    let out = dir.join(format!("strace-relay-{}.txt", lp));
    let argv: Vec<String> = relay.argv.iter().map(|a| fill(a, lp, target)).collect();
    let mut cmd = Command::new("strace");
    cmd.args(["-c", "-f", "-o"]).arg(&out).args(&argv);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in &relay.env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    let r = (|| {
        if !wait_port(lp, Duration::from_secs(10)) {
            return Err("relay did not listen".to_string());
        }
        std::thread::sleep(Duration::from_millis(300));
        let (ok, _, err) = run_capture(
            Command::new("iperf3").args([
                "-c",
                "127.0.0.1",
                "-p",
                &lp.to_string(),
                "-n",
                &format!("{}M", mib),
            ]),
            Duration::from_secs(120),
        )?;
        if !ok {
            return Err(format!("iperf3: {}", err.trim()));
        }
        Ok(())
    })();
    // strace blocks fatal signals when it runs a program with -o; end the
    // traced relay instead, and strace writes its summary and exits.
    let sp = child.id();
    let kids =
        std::fs::read_to_string(format!("/proc/{}/task/{}/children", sp, sp)).unwrap_or_default();
    for k in kids
        .split_whitespace()
        .filter_map(|k| k.parse::<i32>().ok())
    {
        // SAFETY: signalling the relay that strace started for us.
        unsafe { libc::kill(k, libc::SIGTERM) };
    }
    let wd = Watchdog::new(sp as i32, Duration::from_secs(10));
    let _ = child.wait();
    if wd.stop() {
        // strace was killed: make sure the relay it traced goes too.
        for k in kids
            .split_whitespace()
            .filter_map(|k| k.parse::<i32>().ok())
        {
            // SAFETY: the relay strace started for us (it is reparented,
            // not reaped, so its pid is still its own).
            unsafe { libc::kill(k, libc::SIGKILL) };
        }
    }
    r?;
    let text = std::fs::read_to_string(&out).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&out);
    parse_strace(&text, mib as f64, &[])
}
