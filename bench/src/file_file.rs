//! Scenario 3: a file copied to a new file on the same filesystem and to
//! tmpfs by zcopy_copy, cp, Go, Rust's std::fs::copy and a read/write loop.

use crate::files::*;
use crate::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Scenario 3: file -> file, on the same filesystem and to tmpfs.
pub fn scenario_file_file(quick: bool, rounds: usize, dir: &Path, tools: &Tools) -> Section {
    let size = if quick { 256u64 << 20 } else { 1u64 << 30 };
    let mut sec = Section {
        key: "file-file".into(),
        title: "3. File -> file".into(),
        intro: format!(
            "Copy a {} file from the page cache to a new file: on the same filesystem as the \
             source ({}), and to tmpfs (/dev/shm, another filesystem). Each copy is its own \
             process; CPU = user+sys from wait4, per GB; the copy is deleted after each run. \
             {} interleaved rounds, medians.",
            size_name(size),
            dir.display(),
            rounds
        ),
        ..Default::default()
    };
    let Some(file) = data_file_for(dir, size, &mut sec) else {
        return sec;
    };
    let shm = PathBuf::from("/dev/shm");
    let mut targets = vec![("same filesystem", dir.to_path_buf())];
    if shm.is_dir() {
        // Leave room: the copy lives in RAM while it exists.
        targets.push((
            "to tmpfs",
            shm.join(format!("zcopy-bench-{}", std::process::id())),
        ));
        let _ = std::fs::create_dir_all(&targets[1].1);
    } else {
        sec.notes
            .push("/dev/shm is missing: tmpfs case skipped".into());
    }
    let gb = size as f64 / 1e9;
    for (label, tdir) in &targets {
        let dst = tdir.join("copy-dst");
        let s = file.to_string_lossy().to_string();
        let d = dst.to_string_lossy().to_string();
        let mut variants: Vec<(String, Command)> = Vec::new();
        let mut c = Command::new(&tools.exe);
        c.args(["--child", "copy", "zcopy", &s, &d]);
        variants.push(("zcopy_copy".into(), c));
        if which("cp").is_some() {
            let mut c = Command::new("cp");
            c.args([&s, &d]);
            variants.push(("coreutils cp".into(), c));
        }
        if let Some(go) = &tools.go_filecopy {
            let mut c = Command::new(go);
            c.args([&s, &d]);
            variants.push(("Go io.Copy (copy_file_range)".into(), c));
            let mut c = Command::new(go);
            c.args(["-generic", &s, &d]);
            variants.push(("Go io.Copy -generic (32 KiB read/write)".into(), c));
        }
        let mut c = Command::new(&tools.exe);
        c.args(["--child", "copy", "std", &s, &d]);
        variants.push(("Rust std::fs::copy".into(), c));
        let mut c = Command::new(&tools.exe);
        c.args(["--child", "copy", "rw", &s, &d]);
        variants.push(("read/write 128 KiB (Rust)".into(), c));
        let dst2 = dst.clone();
        let res = interleave_with(
            &mut variants,
            rounds,
            &format!("file -> file {}", label),
            &mut sec,
            |_| {
                let _ = std::fs::remove_file(&dst2);
            },
        );
        let _ = std::fs::remove_file(&dst);
        let base = |n: &str| res.iter().position(|(x, _, _)| x.starts_with(n));
        let go = base("Go io.Copy (copy");
        let cp = base("coreutils cp");
        let mut t = Table::new(&[
            "variant",
            "wall s",
            "GB/s",
            "CPU s/GB",
            "CPU vs cp",
            "wall vs cp",
            "CPU vs Go",
            "wall vs Go",
        ]);
        let rel = |i: usize, b: Option<usize>, k: usize| -> f64 {
            match b {
                Some(b) => {
                    let (x, y) = if k == 1 {
                        (&res[i].1, &res[b].1)
                    } else {
                        (&res[i].2, &res[b].2)
                    };
                    median(x) / median(y)
                }
                None => f64::NAN,
            }
        };
        for (i, (name, walls, cpus)) in res.iter().enumerate() {
            let w = median(walls);
            t.row(vec![
                name.clone(),
                f(w, 3),
                f(gb / w, 2),
                f(median(cpus) / gb, 3),
                ratio(rel(i, cp, 2)),
                ratio(rel(i, cp, 1)),
                ratio(rel(i, go, 2)),
                ratio(rel(i, go, 1)),
            ]);
        }
        sec.tables
            .push((format!("{} ({})", label, tdir.display()), t));
        let dst3 = dst.clone();
        strace_table(
            &mut sec,
            &variants,
            size as f64 / (1u64 << 30) as f64,
            &["zcopy_copy", "coreutils cp", "Go io.Copy (copy"],
            |_| {
                let _ = std::fs::remove_file(&dst3);
            },
        );
        for (peer, b) in [("cp", cp), ("Go", go)] {
            if let Some(bi) = b {
                let c = rel(0, b, 2);
                let w = rel(0, b, 1);
                if c > 1.0 || w > 1.05 {
                    sec.notes.push(format!(
                        "Diagnosis ({} vs {}: CPU {}, wall {}): see the system call table: where both use the same call (copy_file_range on one filesystem) the kernel does the same work and the difference is run-to-run noise (wall per round: zcopy {}-{} s, {} {}-{} s).",
                        label,
                        peer,
                        ratio(c),
                        ratio(w),
                        f(range(&res[0].1).0, 3),
                        f(range(&res[0].1).1, 3),
                        peer,
                        f(range(&res[bi].1).0, 3),
                        f(range(&res[bi].1).1, 3)
                    ));
                }
                sec.targets.push(Target {
                    what: format!("file -> file {}: CPU s/GB no worse than {}", label, peer),
                    met: Some(c <= 1.0),
                    detail: format!("{} of {}'s CPU", ratio(c), peer),
                });
                sec.targets.push(Target {
                    what: format!("file -> file {}: wall within 5% of {}", label, peer),
                    met: Some(w <= 1.05),
                    detail: format!("{} of {}'s wall time", ratio(w), peer),
                });
            }
        }
    }
    if targets.len() > 1 {
        let _ = std::fs::remove_dir_all(&targets[1].1);
    }
    sec
}
