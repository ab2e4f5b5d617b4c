//! report.md: how to reproduce the run, the environment, the targets and
//! every scenario's tables and notes.

use crate::prelude::*;
use crate::Opts;
use std::path::Path;
use std::time::Duration;

#[allow(clippy::too_many_arguments)]
pub fn report(
    o: &Opts,
    rounds: usize,
    sections: &[Section],
    skipped: &[String],
    setup_log: &[String],
    load_before: f64,
    load_after: f64,
    took: Duration,
    chart: Option<&str>,
    anchors: Option<&Path>,
) -> String {
    let mut s = String::new();
    s += "# zcopy benchmark report\n\n";
    let mut cmd = String::from("cargo run -p zcopy-bench --release --");
    if o.quick {
        cmd += " --quick";
    }
    if !o.only.is_empty() {
        cmd += &format!(" --only {}", o.only.join(","));
    }
    if let Some(r) = o.rounds {
        cmd += &format!(" --rounds {}", r);
    }
    s += &format!("Reproduce: `{}`\n\n", cmd.trim_end_matches(" --"));
    let mut env = Table::new(&["", ""]);
    env.row(vec![
        "date (UTC)".into(),
        first_line("date", &["-u", "+%Y-%m-%d %H:%M"]),
    ]);
    env.row(vec![
        "mode".into(),
        format!(
            "{}, {} interleaved rounds per scenario",
            if o.quick { "quick" } else { "full" },
            rounds
        ),
    ]);
    env.row(vec!["kernel".into(), first_line("uname", &["-r"])]);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    // SAFETY: sysconf is always safe.
    let ncpu = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    env.row(vec!["CPU".into(), format!("{} x {}", ncpu, cpu)]);
    env.row(vec![
        "load average (1 min) before / after".into(),
        format!("{:.2} / {:.2} (the run itself keeps 2-4 threads busy, so 'after' includes its own load)", load_before, load_after),
    ]);
    env.row(vec!["zcopy".into(), crate::abi::version()]);
    env.row(vec!["Go".into(), first_line("go", &["version"])]);
    env.row(vec!["iperf3".into(), first_line("iperf3", &["--version"])]);
    env.row(vec![
        "anchors".into(),
        anchors
            .map(|a| a.display().to_string())
            .unwrap_or("not found".into()),
    ]);
    env.row(vec![
        "run time".into(),
        format!("{:.0} s", took.as_secs_f64()),
    ]);
    s += &env.markdown();
    s += "\n";
    for l in setup_log {
        s += &format!("- setup: {}\n", l);
    }
    for l in skipped {
        s += &format!("- skipped: {}\n", l);
    }
    // Targets summary.
    s += "\n## Targets\n\n";
    let mut tt = Table::new(&["target", "result", "measured"]);
    for sec in sections {
        for t in &sec.targets {
            tt.row(vec![
                t.what.clone(),
                match t.met {
                    Some(true) => "met".into(),
                    Some(false) => "**missed**".into(),
                    None => "not measured".into(),
                },
                t.detail.clone(),
            ]);
        }
    }
    s += &tt.markdown();
    for sec in sections {
        s += &format!("\n## {}\n\n{}\n\n", sec.title, sec.intro);
        for (cap, t) in &sec.tables {
            if !cap.is_empty() {
                s += &format!("{}:\n\n", cap);
            }
            s += &t.markdown();
            s += "\n";
        }
        if sec.key == "scaling" {
            if let Some(c) = chart {
                s += &format!("![throughput per call size]({})\n\n", c);
            }
        }
        for n in &sec.notes {
            s += &format!("- {}\n", n);
        }
    }
    s
}
