//! zcopy's side-by-side benchmark.
//!
//!     cargo run --release --example bench -- [--quick] [--only NAME[,NAME]] [--rounds N] [--out DIR]
//!
//! NAME: relay, file-tcp, file-file, small, contention, scaling.
//! Installs what it lacks (Debian golang-go, iperf3, strace via apt-get when
//! root) or skips that part with a message, builds the Go peers from the
//! anchors ($ZCOPY_ANCHORS, ../shared/anchors or /work/shared/anchors) into a
//! temporary directory, runs every scenario A B A B ... against its peers and
//! writes report.md and scaling.svg to bench/results/ (--quick: to
//! target/bench-quick/ unless --out is given). Figures are reported, never
//! asserted.

#[path = "bench/curve.rs"]
mod curve;
#[path = "bench/files.rs"]
mod files;
#[path = "bench/relay.rs"]
mod relay;
#[path = "bench/small.rs"]
mod small;
#[path = "bench/util.rs"]
mod util;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use util::*;

const SCENARIOS: [&str; 6] = [
    "relay",
    "file-tcp",
    "file-file",
    "small",
    "contention",
    "scaling",
];

struct Opts {
    quick: bool,
    only: Vec<String>,
    rounds: Option<usize>,
    out: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: cargo run --release --example bench -- [--quick] [--only NAME[,NAME...]] [--rounds N] [--out DIR]\n\
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
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
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

    // Tools.
    let go = if want("relay") || want("file-tcp") || want("file-file") {
        match ensure_tool("go", "golang-go", &mut setup_log) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("bench: {}; the Go peers are skipped", e);
                skipped.push(format!("Go peers: {}", e));
                None
            }
        }
    } else {
        None
    };
    if want("relay") {
        if let Err(e) = ensure_tool("iperf3", "iperf3", &mut setup_log) {
            eprintln!("bench: {}; the relay scenario is skipped", e);
            skipped.push(format!("relay scenario: {}", e));
        }
    }
    if want("relay") || want("small") {
        if let Err(e) = ensure_tool("strace", "strace", &mut setup_log) {
            eprintln!("bench: {}; no system call counts", e);
        }
    }
    let anchors = find_anchors(&root);
    if anchors.is_none() {
        let msg = "anchors not found (set ZCOPY_ANCHORS, or put them in ../shared/anchors): Go peers, rawrelay and pyrelay are skipped";
        eprintln!("bench: {}", msg);
        skipped.push(msg.into());
    }
    let mut go_bin: std::collections::HashMap<&str, PathBuf> = Default::default();
    if let (Some(go), Some(a)) = (&go, &anchors) {
        // Copy the sources: the anchors directory may be read-only.
        let src = work.join("anchors");
        let _ = std::fs::create_dir_all(&src);
        for fname in ["go.mod", "relay.go", "sendfile.go", "filecopy.go"] {
            let _ = std::fs::copy(a.join(fname), src.join(fname));
        }
        for (key, fname) in [
            ("relay", "relay.go"),
            ("sendfile", "sendfile.go"),
            ("filecopy", "filecopy.go"),
        ] {
            let bin = work.join(format!("go-{}", key));
            eprintln!("bench: go build {}", fname);
            let r = run_capture(
                Command::new(go)
                    .args(["build", "-o"])
                    .arg(&bin)
                    .arg(fname)
                    .current_dir(&src)
                    .env("GOFLAGS", "-mod=mod")
                    .env("GO111MODULE", "on"),
                Duration::from_secs(300),
            );
            match r {
                Ok((true, _, _)) => {
                    go_bin.insert(key, bin);
                }
                Ok((false, _, e)) => {
                    skipped.push(format!("Go {}: go build failed: {}", fname, e.trim()))
                }
                Err(e) => skipped.push(format!("Go {}: {}", fname, e)),
            }
        }
    }

    let mut sections: Vec<Section> = Vec::new();
    let mut curve_data = None;

    if want("relay") && which("iperf3").is_some() {
        let rs = relay_setup(&root, &work, anchors.as_deref(), &go_bin, &mut setup_log);
        let strace_dir = which("strace").map(|_| work.clone());
        sections.push(relay::scenario_relay(o.quick, rounds, &rs, strace_dir));
    }
    let tools = files::Tools {
        exe: exe.clone(),
        go_sendfile: go_bin.get("sendfile").cloned(),
        go_filecopy: go_bin.get("filecopy").cloned(),
    };
    if want("file-tcp") {
        sections.push(files::scenario_file_tcp(o.quick, rounds, &work, &tools));
    }
    if want("file-file") {
        sections.push(files::scenario_file_file(o.quick, rounds, &work, &tools));
    }
    if want("small") {
        sections.push(small::scenario_small(o.quick, rounds, &exe));
    }
    if want("contention") {
        sections.push(small::scenario_contention(o.quick, rounds));
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
        let svg = curve::svg(c, "zcopy: throughput per call size (medians)");
        std::fs::write(out_dir.join(chart), svg).expect("write the chart");
    }
    let md = report(
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

/// Builds the relays of scenario 1.
fn relay_setup(
    root: &Path,
    work: &Path,
    anchors: Option<&Path>,
    go_bin: &std::collections::HashMap<&str, PathBuf>,
    log: &mut Vec<String>,
) -> relay::RelaySetup {
    let mut rs = relay::RelaySetup {
        relays: Vec::new(),
        skipped: Vec::new(),
        zcopy_c: None,
        go: None,
    };
    // libzcopy.so for the C relay.
    let so = root.join("target/release/libzcopy.so");
    let have_so = ensure_so(root, &so, log);
    let gcc = which("gcc").or_else(|| which("cc"));
    // zcopy's C relay: examples/relay.c when the tree has it, else bench/zrelay.c.
    let relay_c = root.join("examples/relay.c");
    let (csrc, cname) = if relay_c.is_file() {
        (relay_c, "zcopy C relay (examples/relay.c)")
    } else {
        (
            root.join("bench/zrelay.c"),
            "zcopy C relay (bench/zrelay.c)",
        )
    };
    match (&gcc, have_so) {
        (Some(cc), Ok(())) => {
            let bin = work.join("zcopy-relay");
            let r = run_capture(
                Command::new(cc)
                    .args(["-O2", "-pthread", "-I"])
                    .arg(root.join("include"))
                    .arg(&csrc)
                    .arg("-o")
                    .arg(&bin)
                    .arg("-L")
                    .arg(root.join("target/release"))
                    .arg("-lzcopy")
                    .arg(format!(
                        "-Wl,-rpath,{}",
                        root.join("target/release").display()
                    )),
                Duration::from_secs(120),
            );
            match r {
                Ok((true, _, _)) => {
                    let argv = c_relay_argv(&csrc, &bin);
                    rs.relays.push(relay::Relay {
                        name: cname.into(),
                        argv,
                        env: vec![],
                    });
                    rs.zcopy_c = Some(cname.into());
                }
                Ok((false, _, e)) => {
                    rs.skipped
                        .push(format!("{}: compile failed: {}", cname, e.trim()))
                }
                Err(e) => rs.skipped.push(format!("{}: {}", cname, e)),
            }
        }
        (None, _) => rs
            .skipped
            .push(format!("{}: no C compiler (apt-get install -y gcc)", cname)),
        (_, Err(e)) => rs.skipped.push(format!("{}: {}", cname, e)),
    }
    // Pipe-size sweep on bench/zrelay.c (the same thread-per-direction
    // design as examples/relay.c): does a smaller pipe move more Gbit/s?
    if let (Some(cc), true) = (&gcc, so.is_file()) {
        let bin = work.join("zrelay");
        let r = run_capture(
            Command::new(cc)
                .args(["-O2", "-pthread", "-I"])
                .arg(root.join("include"))
                .arg(root.join("bench/zrelay.c"))
                .arg("-o")
                .arg(&bin)
                .arg("-L")
                .arg(root.join("target/release"))
                .arg("-lzcopy")
                .arg(format!(
                    "-Wl,-rpath,{}",
                    root.join("target/release").display()
                )),
            Duration::from_secs(120),
        );
        match r {
            Ok((true, _, _)) => {
                for (label, sz) in [("64 KiB", "65536"), ("256 KiB", "262144")] {
                    rs.relays.push(relay::Relay {
                        name: format!("zcopy bench/zrelay.c, pool pipe {}", label),
                        argv: vec![
                            bin.to_string_lossy().to_string(),
                            "{lp}".into(),
                            "{tp}".into(),
                        ],
                        env: vec![("ZRELAY_PIPE_SIZE".into(), sz.into())],
                    });
                }
            }
            Ok((false, _, e)) => rs
                .skipped
                .push(format!("bench/zrelay.c: compile failed: {}", e.trim())),
            Err(e) => rs.skipped.push(format!("bench/zrelay.c: {}", e)),
        }
    }
    // zcopy's Python relays (threads, and asyncio on zcopy.aio).
    for (file, name) in [
        (
            "relay.py",
            "zcopy Python relay, threads (bindings/python/examples/relay.py)",
        ),
        (
            "aiorelay.py",
            "zcopy Python asyncio relay (bindings/python/examples/aiorelay.py)",
        ),
    ] {
        let script = root.join("bindings/python/examples").join(file);
        if !script.is_file() {
            rs.skipped.push(format!("{}: not in this tree", name));
            continue;
        }
        if which("python3").is_none() {
            rs.skipped.push(format!("{}: python3 not installed", name));
            continue;
        }
        let mut argv = vec!["python3".to_string(), script.to_string_lossy().to_string()];
        argv.extend(addr_args(&script));
        rs.relays.push(relay::Relay {
            name: name.into(),
            argv,
            env: vec![
                (
                    "PYTHONPATH".into(),
                    root.join("bindings/python/src")
                        .to_string_lossy()
                        .to_string(),
                ),
                ("ZCOPY_LIBRARY".into(), so.to_string_lossy().to_string()),
            ],
        });
    }
    if let Some(g) = go_bin.get("relay") {
        let g = g.to_string_lossy().to_string();
        rs.relays.push(relay::Relay {
            name: "Go io.Copy (splice, Go's pipe pool)".into(),
            argv: vec![
                g.clone(),
                "-listen".into(),
                "127.0.0.1:{lp}".into(),
                "-to".into(),
                "127.0.0.1:{tp}".into(),
            ],
            env: vec![],
        });
        rs.go = Some("Go io.Copy (splice, Go's pipe pool)".into());
        rs.relays.push(relay::Relay {
            name: "Go io.Copy -generic (32 KiB read/write)".into(),
            argv: vec![
                g,
                "-generic".into(),
                "-listen".into(),
                "127.0.0.1:{lp}".into(),
                "-to".into(),
                "127.0.0.1:{tp}".into(),
            ],
            env: vec![],
        });
    } else {
        rs.skipped.push("Go relays: relay.go was not built".into());
    }
    if let Some(a) = anchors {
        if which("python3").is_some() {
            rs.relays.push(relay::Relay {
                name: "Python threads, 256 KiB read/write (pyrelay.py)".into(),
                argv: vec![
                    "python3".into(),
                    a.join("pyrelay.py").to_string_lossy().to_string(),
                    "{lp}".into(),
                    "{tp}".into(),
                ],
                env: vec![],
            });
        }
        if which("python3").is_some() {
            rs.relays.push(relay::Relay {
                name: "Python asyncio streams, 256 KiB reads (aiorelay.py)".into(),
                argv: vec![
                    "python3".into(),
                    a.join("aiorelay.py").to_string_lossy().to_string(),
                    "{lp}".into(),
                    "{tp}".into(),
                ],
                env: vec![],
            });
        }
        if let Some(cc) = &gcc {
            let bin = work.join("rawrelay");
            let r = run_capture(
                Command::new(cc)
                    .args(["-O2", "-pthread", "-DPSZ=1048576", "-DFLAGS=0"])
                    .arg(a.join("rawrelay.c"))
                    .arg("-o")
                    .arg(&bin),
                Duration::from_secs(120),
            );
            match r {
                Ok((true, _, _)) => rs.relays.push(relay::Relay {
                    name: "raw splice(2), 1 MiB pipe per direction (rawrelay.c, the ceiling)"
                        .into(),
                    argv: vec![
                        bin.to_string_lossy().to_string(),
                        "{lp}".into(),
                        "{tp}".into(),
                    ],
                    env: vec![],
                }),
                Ok((false, _, e)) => rs
                    .skipped
                    .push(format!("rawrelay.c: compile failed: {}", e.trim())),
                Err(e) => rs.skipped.push(format!("rawrelay.c: {}", e)),
            }
            let bin = work.join("rawrelay-64k");
            if let Ok((true, _, _)) = run_capture(
                Command::new(cc)
                    .args(["-O2", "-pthread", "-DPSZ=65536", "-DFLAGS=0"])
                    .arg(a.join("rawrelay.c"))
                    .arg("-o")
                    .arg(&bin),
                Duration::from_secs(120),
            ) {
                rs.relays.push(relay::Relay {
                    name: "raw splice(2), 64 KiB pipe per direction (rawrelay.c -DPSZ=65536)"
                        .into(),
                    argv: vec![
                        bin.to_string_lossy().to_string(),
                        "{lp}".into(),
                        "{tp}".into(),
                    ],
                    env: vec![],
                });
            }
        }
    }
    rs
}

/// The C relay's command line: the program followed by its address arguments.
fn c_relay_argv(src: &Path, bin: &Path) -> Vec<String> {
    let mut v = vec![bin.to_string_lossy().to_string()];
    v.extend(addr_args(src));
    v
}

/// A relay's listen and target arguments, read off its usage text:
/// `--listen A --to B`, `HOST:PORT HOST:PORT`, or two bare ports.
fn addr_args(src: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(src).unwrap_or_default();
    let v: &[&str] = if text.contains("--listen") {
        &["--listen", "127.0.0.1:{lp}", "--to", "127.0.0.1:{tp}"]
    } else if text.contains("ADDR:PORT")
        || text.contains("HOST:PORT")
        || text.contains("127.0.0.1:9000")
    {
        &["127.0.0.1:{lp}", "127.0.0.1:{tp}"]
    } else {
        &["{lp}", "{tp}"]
    };
    v.iter().map(|x| x.to_string()).collect()
}

/// Makes sure target/release/libzcopy.so exists and is newer than src/.
fn ensure_so(root: &Path, so: &Path, log: &mut Vec<String>) -> Result<(), String> {
    let newest_src = std::fs::read_dir(root.join("src"))
        .map(|d| {
            d.filter_map(|e| e.ok()?.metadata().ok()?.modified().ok())
                .max()
        })
        .ok()
        .flatten();
    let so_time = std::fs::metadata(so).and_then(|m| m.modified()).ok();
    let fresh = matches!((so_time, newest_src), (Some(a), Some(b)) if a >= b);
    if fresh {
        return Ok(());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("bench: building target/release/libzcopy.so (cargo build --release --lib)");
    let r = run_capture(
        Command::new(cargo)
            .args(["build", "--release", "--lib"])
            .current_dir(root),
        Duration::from_secs(600),
    )?;
    if !r.0 || !so.is_file() {
        return Err(format!(
            "cargo build --release --lib failed: {}",
            r.2.trim()
        ));
    }
    log.push("built target/release/libzcopy.so".into());
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn report(
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
    let mut cmd = String::from("cargo run --release --example bench --");
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
    env.row(vec!["zcopy".into(), zcopy::VERSION.to_string()]);
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
