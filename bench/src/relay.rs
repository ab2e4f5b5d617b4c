//! One relay measured: a relay process started on free ports, iperf3 (a real
//! client and server) through it, Gbit/s as iperf3 measured it at the
//! receiver and the relay process's own CPU seconds per GB moved (from
//! /proc/PID/stat).

use crate::prelude::*;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A relay to measure: argv with {lp} and {tp} (listen and target ports).
#[derive(Clone)]
pub struct Relay {
    pub name: String,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Relay {
    pub fn new(name: &str, argv: Vec<String>, env: &[(&str, &str)]) -> Relay {
        Relay {
            name: name.into(),
            argv,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A relay whose arguments are the two bare ports: `BIN LISTEN TARGET`.
    pub fn ports(name: &str, bin: &std::path::Path, env: &[(&str, &str)]) -> Relay {
        let argv = vec![
            bin.to_string_lossy().to_string(),
            "{lp}".into(),
            "{tp}".into(),
        ];
        Relay::new(name, argv, env)
    }
}

/// A relay argument with the listen and target ports filled in.
pub fn fill(s: &str, lp: u16, tp: u16) -> String {
    s.replace("{lp}", &lp.to_string())
        .replace("{tp}", &tp.to_string())
}

/// Pulls a number that follows `"key":` after position `from` in JSON text.
fn json_num(text: &str, from: usize, key: &str) -> Option<f64> {
    let pat = format!("\"{}\":", key);
    let i = text[from..].find(&pat)? + from + pat.len();
    let rest = text[i..].trim_start();
    let end = rest
        .find(|c: char| {
            !(c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+')
        })
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Runs one iperf3 client against port; returns (Gbit/s, GB received).
pub fn iperf(port: u16, secs: u32) -> Result<(f64, f64), String> {
    let (ok, out, err) = run_capture(
        Command::new("iperf3").args([
            "-c",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            &secs.to_string(),
            "-J",
        ]),
        Duration::from_secs(secs as u64 + 30),
    )?;
    let at = out.find("\"sum_received\"");
    match at {
        Some(at) if ok => {
            let bps = json_num(&out, at, "bits_per_second").ok_or("no bits_per_second")?;
            let bytes = json_num(&out, at, "bytes").ok_or("no bytes")?;
            Ok((bps / 1e9, bytes / 1e9))
        }
        _ => {
            let msg = json_error(&out).unwrap_or_else(|| err.trim().chars().take(300).collect());
            Err(format!("iperf3 failed: {}", msg))
        }
    }
}

fn json_error(out: &str) -> Option<String> {
    let i = out.find("\"error\":")?;
    Some(out[i..].chars().take(200).collect())
}

/// One measured run through a relay: (Gbit/s, relay CPU s/GB).
pub fn through(relay: &Relay, target: u16, secs: u32) -> Result<(f64, f64), String> {
    let lp = free_port();
    let argv: Vec<String> = relay.argv.iter().map(|a| fill(a, lp, target)).collect();
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in &relay.env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("spawn {}: {}", argv[0], e))?;
    let result = (|| {
        if !wait_port(lp, Duration::from_secs(10)) {
            return Err(format!("relay did not listen on {}", lp));
        }
        // The probe connection reached the iperf3 server too: let it settle.
        std::thread::sleep(Duration::from_millis(300));
        let c0 = proc_cpu(child.id()).ok_or("no /proc stat")?;
        let (gbit, gb) = iperf(lp, secs)?;
        if let Ok(Some(st)) = child.try_wait() {
            return Err(format!("relay exited during the run: {}", st));
        }
        let c1 = proc_cpu(child.id()).ok_or("no /proc stat")?;
        Ok((gbit, if gb > 0.0 { (c1 - c0) / gb } else { f64::NAN }))
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

pub struct RelaySetup {
    pub relays: Vec<Relay>,
    /// Relays that could not be set up, with the reason.
    pub skipped: Vec<String>,
    /// Which relay is zcopy's C relay, and which is Go's io.Copy.
    pub zcopy_c: Option<String>,
    pub go: Option<String>,
}
