//! What a run needs before it measures anything: the tools (installed when
//! missing and root), the anchors' Go peers built into the work directory,
//! a fresh target/release/libzcopy.so, and one C compiler invocation for
//! every C program the relay scenario compares.

use crate::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The tools and peers a run found or built.
pub struct Peers {
    /// The anchors directory (Go peers, rawrelay.c, the Python relays).
    pub anchors: Option<PathBuf>,
    /// Built Go peers by key: relay, sendfile, filecopy.
    pub go_bin: HashMap<&'static str, PathBuf>,
    /// gcc (or cc) when there is one.
    pub cc: Option<PathBuf>,
}

/// Installs the tools the chosen scenarios need and builds the Go peers.
/// Whatever cannot be had is explained in `skipped`.
pub fn prepare(
    root: &Path,
    work: &Path,
    want: &dyn Fn(&str) -> bool,
    log: &mut Vec<String>,
    skipped: &mut Vec<String>,
) -> Peers {
    let go = if want("relay") || want("file-tcp") || want("file-file") {
        match ensure_tool("go", "golang-go", log) {
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
        if let Err(e) = ensure_tool("iperf3", "iperf3", log) {
            eprintln!("bench: {}; the relay scenario is skipped", e);
            skipped.push(format!("relay scenario: {}", e));
        }
    }
    if want("relay") || want("small") {
        if let Err(e) = ensure_tool("strace", "strace", log) {
            eprintln!("bench: {}; no system call counts", e);
        }
    }
    let anchors = find_anchors(root);
    if anchors.is_none() {
        let msg = "peers not found (bench/peers/relay.go, or $ZCOPY_ANCHORS): Go peers, rawrelay and pyrelay are skipped";
        eprintln!("bench: {}", msg);
        skipped.push(msg.into());
    }
    let go_bin = match (&go, &anchors) {
        (Some(go), Some(a)) => build_go(go, a, work, skipped),
        _ => HashMap::new(),
    };
    Peers {
        anchors,
        go_bin,
        cc: which("gcc").or_else(|| which("cc")),
    }
}

/// Builds the anchors' Go programs into `work`; returns the binaries built.
fn build_go(
    go: &Path,
    anchors: &Path,
    work: &Path,
    skipped: &mut Vec<String>,
) -> HashMap<&'static str, PathBuf> {
    let mut bins = HashMap::new();
    // Copy the sources: the anchors directory may be read-only.
    let src = work.join("anchors");
    let _ = std::fs::create_dir_all(&src);
    for fname in ["go.mod", "relay.go", "sendfile.go", "filecopy.go"] {
        let _ = std::fs::copy(anchors.join(fname), src.join(fname));
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
                bins.insert(key, bin);
            }
            Ok((false, _, e)) => {
                skipped.push(format!("Go {}: go build failed: {}", fname, e.trim()))
            }
            Err(e) => skipped.push(format!("Go {}: {}", fname, e)),
        }
    }
    bins
}

/// How a C program of the relay scenario is linked.
pub enum Link {
    /// Plain libc (rawrelay.c).
    Libc,
    /// Against include/zcopy.h and target/release/libzcopy.so, with an
    /// rpath so the program runs from the work directory.
    Zcopy,
}

/// Compiles one C program: `cc -O2 -pthread DEFINES SRC -o OUT`, linked as
/// `link` says. The one place the benchmark runs the C compiler.
pub fn cc(
    peers: &Peers,
    root: &Path,
    src: &Path,
    out: &Path,
    defines: &[&str],
    link: Link,
) -> Result<(), String> {
    let Some(cc) = &peers.cc else {
        return Err("no C compiler (apt-get install -y gcc)".into());
    };
    let mut cmd = Command::new(cc);
    cmd.args(["-O2", "-pthread"]).args(defines);
    if let Link::Zcopy = link {
        cmd.arg("-I").arg(root.join("include"));
    }
    cmd.arg(src).arg("-o").arg(out);
    if let Link::Zcopy = link {
        let lib = root.join("target/release");
        cmd.arg("-L")
            .arg(&lib)
            .arg("-lzcopy")
            .arg(format!("-Wl,-rpath,{}", lib.display()));
    }
    match run_capture(&mut cmd, Duration::from_secs(120))? {
        (true, _, _) => Ok(()),
        (false, _, e) => Err(format!("compile failed: {}", e.trim())),
    }
}

/// Makes sure target/release/libzcopy.so exists and is newer than src/.
pub fn ensure_so(root: &Path, so: &Path, log: &mut Vec<String>) -> Result<(), String> {
    // src/ and its subfolders (src/ffi/ holds most of the C boundary).
    fn newest(dir: &Path) -> Option<std::time::SystemTime> {
        std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| {
                let e = e.ok()?;
                let m = e.metadata().ok()?;
                if m.is_dir() {
                    newest(&e.path())
                } else {
                    m.modified().ok()
                }
            })
            .max()
    }
    let so_time = std::fs::metadata(so).and_then(|m| m.modified()).ok();
    let fresh = matches!((so_time, newest(&root.join("src"))), (Some(a), Some(b)) if a >= b);
    if fresh {
        return Ok(());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!(
        "bench: building target/release/libzcopy.so (cargo build --release -p libzcopy --lib)"
    );
    let r = run_capture(
        Command::new(cargo)
            .args(["build", "--release", "-p", "libzcopy", "--lib"])
            .current_dir(root),
        Duration::from_secs(600),
    )?;
    if !r.0 || !so.is_file() {
        return Err(format!(
            "cargo build --release -p libzcopy --lib failed: {}",
            r.2.trim()
        ));
    }
    log.push("built target/release/libzcopy.so".into());
    Ok(())
}
