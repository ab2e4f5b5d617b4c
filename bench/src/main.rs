//! zcopy's side-by-side benchmark runner, a workspace crate of its own.
//!
//!     cargo run -p zcopy-bench --release -- [--quick] [--only NAME[,NAME]] [--rounds N] [--out DIR]
//!
//! NAME: relay, file-tcp, file-file, small, contention, scaling.
//! Installs what it lacks (Debian golang-go, iperf3, strace via apt-get when
//! root) or skips that part with a message, builds the Go peers from
//! bench/peers/ (or $ZCOPY_ANCHORS) into a temporary directory, runs every scenario A B A B ... against its peers and
//! writes report.md and scaling.svg to bench/results/ (--quick: to
//! target/bench-quick/ unless --out is given). Figures are reported, never
//! asserted.
//!
//! Files: main.rs (options, the run), setup.rs (tools, Go peers, the relays
//! to compare), report.rs; one file per scenario (relay_scenario.rs,
//! file_tcp.rs, file_file.rs, small_scenario.rs, contention.rs, curve.rs
//! with svg.rs) over their helpers (relay.rs, files.rs, small.rs,
//! strace.rs); stats.rs, procs.rs, tools.rs and fdio.rs are shared by all,
//! and abi.rs declares the C ABI the benchmark calls.

// Links the zcopy rlib, whose exported symbols abi.rs declares.
use zcopy as _;

mod abi;
mod contention;
mod curve;
mod fdio;
mod file_file;
mod file_tcp;
mod files;
mod peers;
mod procs;
mod relay;
mod relay_scenario;
mod report;
mod setup;
mod small;
mod small_scenario;
mod stats;
mod strace;
mod svg;
mod tools;

/// What every scenario uses: statistics and tables, processes with time
/// limits, tool discovery, raw fd I/O.
mod prelude {
    pub use crate::{fdio::*, procs::*, stats::*, tools::*};
}

use prelude::*;
use std::path::PathBuf;
use std::time::Instant;

const SCENARIOS: [&str; 6] = [
    "relay",
    "file-tcp",
    "file-file",
    "small",
    "contention",
    "scaling",
];

pub struct Opts {
    pub quick: bool,
    pub only: Vec<String>,
    pub rounds: Option<usize>,
    pub out: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: cargo run -p zcopy-bench --release -- [--quick] [--only NAME[,NAME...]] [--rounds N] [--out DIR]\n\
         NAME: {}",
        SCENARIOS.join(", ")
    );
    std::process::exit(2)
}

fn parse() -> Opts {
    let mut o = Opts {
        quick: false,
        only: Vec::new(),
        rounds: None,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--only" => {
                let v = it.next().unwrap_or_else(|| usage());
                for n in v.split(',') {
                    if !SCENARIOS.contains(&n) {
                        eprintln!("bench: unknown scenario {}", n);
                        usage();
                    }
                    o.only.push(n.to_string());
                }
            }
            "--rounds" => o.rounds = it.next().and_then(|v| v.parse().ok()).or_else(|| usage()),
            "--out" => o.out = Some(PathBuf::from(it.next().unwrap_or_else(|| usage()))),
            "-h" | "--help" => usage(),
            _ => {
                eprintln!("bench: unknown argument {}", a);
                usage()
            }
        }
    }
    o
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(|s| s.as_str()) == Some("--child") {
        let rest = &args[3..];
        let code = match args.get(2).map(|s| s.as_str()) {
            Some("sendfile") => files::child_sendfile(rest),
            Some("copy") => files::child_copy(rest),
            Some("small") => small::child(rest),
            _ => 2,
        };
        std::process::exit(code);
    }
    let o = parse();
    // The repository root: this crate lives in its bench/ folder.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_path_buf();
    let want = |n: &str| o.only.is_empty() || o.only.iter().any(|x| x == n);
    let rounds_default = if o.quick { 2 } else { 5 };
    let rounds = o.rounds.unwrap_or(rounds_default).max(1);
    let out_dir = o.out.clone().unwrap_or_else(|| {
        if o.quick {
            root.join("target/bench-quick")
        } else {
            root.join("bench/results")
        }
    });
    std::fs::create_dir_all(&out_dir).expect("create the output directory");
    let started = Instant::now();
    let load_before = loadavg();
    eprintln!(
        "bench: {} mode, {} rounds, results to {} (load average {:.2})",
        if o.quick { "quick" } else { "full" },
        rounds,
        out_dir.display(),
        load_before
    );

    // Scratch space on the repository's filesystem (the data files are
    // large); removed at the end.
    let work = root
        .join("target")
        .join(format!("bench-work-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("create the work directory");
    let exe = std::env::current_exe().expect("current_exe");
    let mut setup_log: Vec<String> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();

    let peers = setup::prepare(&root, &work, &want, &mut setup_log, &mut skipped);
    let anchors = peers.anchors.clone();

    let mut sections: Vec<Section> = Vec::new();
    let mut curve_data = None;

    if want("relay") && which("iperf3").is_some() {
        let rs = peers::relays(&root, &work, &peers, &mut setup_log);
        let strace_dir = which("strace").map(|_| work.clone());
        sections.push(relay_scenario::scenario_relay(
            o.quick, rounds, &rs, strace_dir,
        ));
    }
    let tools = files::Tools {
        exe: exe.clone(),
        go_sendfile: peers.go_bin.get("sendfile").cloned(),
        go_filecopy: peers.go_bin.get("filecopy").cloned(),
    };
    if want("file-tcp") {
        sections.push(file_tcp::scenario_file_tcp(o.quick, rounds, &work, &tools));
    }
    if want("file-file") {
        sections.push(file_file::scenario_file_file(
            o.quick, rounds, &work, &tools,
        ));
    }
    if want("small") {
        sections.push(small_scenario::scenario_small(o.quick, rounds, &exe));
    }
    if want("contention") {
        sections.push(contention::scenario_contention(o.quick, rounds));
    }
    if want("scaling") {
        let size = if o.quick { 64u64 << 20 } else { 1u64 << 30 };
        match files::data_file(&work, size) {
            Ok(data) => {
                let (sec, c) = curve::scenario_scaling(o.quick, rounds.min(3), &data, &work);
                sections.push(sec);
                curve_data = Some(c);
            }
            Err(e) => skipped.push(format!("scaling: no data file: {}", e)),
        }
    }
    let load_after = loadavg();
    let _ = std::fs::remove_dir_all(&work);

    // Report.
    let chart = "scaling.svg";
    if let Some(c) = &curve_data {
        let svg = svg::svg(c, "zcopy: throughput per call size (medians)");
        std::fs::write(out_dir.join(chart), svg).expect("write the chart");
    }
    let md = report::report(
        &o,
        rounds,
        &sections,
        &skipped,
        &setup_log,
        load_before,
        load_after,
        started.elapsed(),
        curve_data.is_some().then_some(chart),
        anchors.as_deref(),
    );
    let path = out_dir.join("report.md");
    std::fs::write(&path, &md).expect("write the report");
    println!("{}", md);
    eprintln!("bench: wrote {}", path.display());
}
