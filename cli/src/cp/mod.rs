//! `zcopy cp`: cp's operands (SRC DST, SRC... DIR, -t DIR, -T), its
//! options (see `opts`), one SOURCE after another (see `tree`), and the
//! --stats line.

mod attrs;
mod dir;
mod file;
mod opts;
mod reflink;
mod tree;

use crate::args::{CpArgs, Fail, Global};
use crate::io_errstr;
use crate::progress::Progress;
use crate::stats::mb_per_s;
use opts::Settings;
use std::io::IsTerminal;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tree::Copier;

/// The sources, the target, and whether each source goes into the target
/// (a directory) rather than onto it.
fn operands(a: &CpArgs) -> Result<(Vec<String>, String, bool), Fail> {
    let ops = &a.operands;
    if let Some(t) = &a.target_directory {
        if a.no_target_directory {
            return Err(Fail::Usage(
                "cannot combine --target-directory (-t) and --no-target-directory (-T)".into(),
            ));
        }
        if ops.is_empty() {
            return Err(Fail::Usage("missing file operand".into()));
        }
        if let Err(why) = is_dir(t) {
            eprintln!("zcopy cp: target directory '{t}': {why}");
            return Err(Fail::Error);
        }
        return Ok((ops.clone(), t.clone(), true));
    }
    let (target, sources) = match ops.split_last() {
        None => return Err(Fail::Usage("missing file operand".into())),
        Some((t, [])) => {
            return Err(Fail::Usage(format!(
                "missing destination file operand after '{t}'"
            )))
        }
        Some((t, s)) => (t, s),
    };
    if a.no_target_directory {
        if sources.len() > 1 {
            return Err(Fail::Usage(format!("extra operand '{target}'")));
        }
        return Ok((sources.to_vec(), target.clone(), false));
    }
    match is_dir(target) {
        Ok(()) => Ok((sources.to_vec(), target.clone(), true)),
        Err(_) if sources.len() == 1 => Ok((sources.to_vec(), target.clone(), false)),
        Err(why) => {
            // As cp: several sources need a directory to go into.
            eprintln!("zcopy cp: target '{target}': {why}");
            Err(Fail::Error)
        }
    }
}

/// Ok when `p` is a directory (links followed), else why not.
fn is_dir(p: &str) -> Result<(), String> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(crate::errstr(libc::ENOTDIR)),
        Err(e) => Err(io_errstr(&e)),
    }
}

/// `target/<last component of src>`; "." and ".." name the target itself.
fn destination(src: &str, target: &str) -> PathBuf {
    match Path::new(src).file_name() {
        Some(name) => Path::new(target).join(name),
        None => PathBuf::from(target),
    }
}

/// The bytes of regular files the copy will read, for the bar's ETA (only
/// walked when the bar is drawn). `seen`: the directories on the way down,
/// so that a followed link back up (-L) ends the walk as it ends the copy.
fn total_bytes(s: &Settings, p: &Path, operand: bool, seen: &mut Vec<(u64, u64)>) -> u64 {
    let m = if s.follow(operand) {
        std::fs::metadata(p)
    } else {
        std::fs::symlink_metadata(p)
    };
    match m {
        Ok(m) if m.is_file() => m.size(),
        Ok(m) if m.is_dir() && s.recursive && !seen.contains(&(m.dev(), m.ino())) => {
            seen.push((m.dev(), m.ino()));
            let mut sum = 0;
            if let Ok(rd) = std::fs::read_dir(p) {
                // Invariant: sum holds the entries read so far.
                for e in rd.filter_map(Result::ok) {
                    sum += total_bytes(s, &e.path(), false, seen);
                }
            }
            seen.pop();
            sum
        }
        _ => 0,
    }
}

pub fn run(g: &Global, a: &CpArgs) -> Result<(), Fail> {
    let s = Settings::new(g, a)?;
    let (sources, target, into_dir) = operands(a)?;
    let total = if s.progress && std::io::stderr().is_terminal() {
        let mut seen = Vec::new();
        let sizes = sources
            .iter()
            .map(|p| total_bytes(&s, Path::new(p), true, &mut seen));
        Some(sizes.sum())
    } else {
        None
    };
    let mut c = Copier::new(&s, Progress::new(s.progress, total.or(Some(0))));
    let start = Instant::now();
    // Invariant: every source before this one was copied or reported.
    for src in &sources {
        let dst = if into_dir {
            destination(src, &target)
        } else {
            PathBuf::from(&target)
        };
        c.entry(Path::new(src), &dst, true);
    }
    c.progress.finish();
    if s.stats {
        stats_line(&c, start.elapsed());
    }
    if c.failed {
        Err(Fail::Error)
    } else {
        Ok(())
    }
}

/// One line under 100 columns: files, bytes (holes apart: they cost no
/// copying, so the rate counts data only), time, rate, methods.
fn stats_line(c: &Copier, took: std::time::Duration) {
    let m = &c.moved;
    let holes = if m.holes > 0 {
        format!(" ({} in holes)", m.holes)
    } else {
        String::new()
    };
    let methods = match c.methods() {
        s if s.is_empty() => "none".to_string(),
        s => s,
    };
    let files = if c.files == 1 { "file" } else { "files" };
    eprintln!(
        "zcopy cp: {} {files}, {} bytes{holes}, {:.3} s, {:.1} MB/s, method {methods}",
        c.files,
        m.bytes,
        took.as_secs_f64(),
        mb_per_s(m.bytes - m.holes, took)
    );
}
