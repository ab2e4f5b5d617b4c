//! `zcopy cat [FILE...]`: each FILE to stdout in order, "-" (or none) for
//! stdin.

use crate::args::{Fail, Opts};
use crate::progress::{mb_per_s, method, print_pool, pump, Progress};
use crate::{errstr, io_errstr};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::time::Instant;

pub const HELP: &str = "\
Usage: zcopy cat [--stats] [--progress] [FILE...]

Writes each FILE to stdout in order; - (or no FILE) means stdin. stdout
may be a pipe, a terminal, a file or a socket: the library picks sendfile,
splice or read/write for each. A file that cannot be read is reported on
stderr and skipped; the exit status is then 1.

  --stats      per file and total bytes, MB/s, method and pool counters
  --progress   a progress bar on stderr (only when stderr is a terminal)
  -h, --help   this help
";

pub fn run(o: &Opts) -> Result<(), Fail> {
    // No FILE: stdin, as cat.
    let stdin_only = ["-".to_string()];
    let names = if o.args.is_empty() {
        &stdin_only[..]
    } else {
        &o.args[..]
    };
    let stdout = std::io::stdout();
    let _lock = stdout.lock(); // nothing else writes to stdout meanwhile
    let out_fd = stdout.as_raw_fd();
    let mut failed = false;
    // Every file is opened first so that the bar knows the total size.
    let mut opened: Vec<(String, Option<File>)> = Vec::new();
    let mut total_size = Some(0u64);
    for name in names {
        if name == "-" {
            total_size = None;
            opened.push((name.clone(), None));
            continue;
        }
        match File::open(name) {
            Ok(f) => {
                match f.metadata() {
                    Ok(m) if m.is_file() => total_size = total_size.map(|t| t + m.len()),
                    _ => total_size = None,
                }
                opened.push((name.clone(), Some(f)));
            }
            Err(e) => {
                eprintln!("zcopy cat: cannot open '{name}': {}", io_errstr(&e));
                failed = true;
            }
        }
    }
    let mut progress = Progress::new(o.progress, total_size);
    let start = Instant::now();
    let mut total = 0u64;
    for (name, file) in &opened {
        let (fd, shown) = match file {
            Some(f) => (f.as_raw_fd(), name.as_str()),
            None => (0, "stdin"),
        };
        let t0 = Instant::now();
        let t = pump(out_fd, fd, &mut progress);
        total += t.written.max(0) as u64;
        if t.error == libc::EPIPE {
            // The reader went away (`zcopy cat f | head`): stop quietly.
            progress.finish();
            return Err(Fail::Error);
        }
        if t.error != 0 {
            eprintln!(
                "zcopy cat: '{shown}': {} (after {} bytes)",
                errstr(t.error),
                t.written
            );
            failed = true;
            continue;
        }
        if o.stats {
            eprintln!(
                "zcopy cat: '{shown}': {} bytes in {:.3} s, {:.1} MB/s, method {}",
                t.written,
                t0.elapsed().as_secs_f64(),
                mb_per_s(t.written as u64, t0.elapsed()),
                method(t.method)
            );
        }
    }
    progress.finish();
    if o.stats {
        let took = start.elapsed();
        eprintln!(
            "zcopy cat: total {total} bytes in {:.3} s, {:.1} MB/s",
            took.as_secs_f64(),
            mb_per_s(total, took)
        );
        print_pool("cat");
    }
    if failed {
        Err(Fail::Error)
    } else {
        Ok(())
    }
}
