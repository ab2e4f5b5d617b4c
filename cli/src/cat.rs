//! `zcopy cat [FILE...]`: each FILE to stdout in order, "-" (or none) for
//! stdin, with cat(1)'s rules for the output: a closed or failing stdout
//! is a write error that ends the command (exit 1), a reader that went
//! away ends it as it ends cat (SIGPIPE, or "Broken pipe" when the parent
//! ignores SIGPIPE), and an input that is the output file is refused.

use crate::args::{CatArgs, Fail, Global};
use crate::early;
use crate::progress::{fit, pump, Progress};
use crate::stats::{mb_per_s, method, print_pool};
use crate::{errstr, io_errstr};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::time::Instant;

/// Errors that come from writing stdout rather than reading the input: the
/// library's transfer reports one errno for the pair.
fn is_write_error(e: i32) -> bool {
    [
        libc::EPIPE,
        libc::ENOSPC,
        libc::EDQUOT,
        libc::EFBIG,
        libc::EBADF,
        libc::ECONNRESET,
        libc::ENOTCONN,
    ]
    .contains(&e)
}

/// cat's "input file is output file": the input is the regular file stdout
/// writes to, and the output would grow into what is still to be read
/// (stdout appends, or writes before the input's end).
fn is_output_file(input: &File, out: Option<&std::fs::Metadata>) -> bool {
    let (Some(out), Ok(inp)) = (out, input.metadata()) else {
        return false;
    };
    if !inp.is_file() || inp.dev() != out.dev() || inp.ino() != out.ino() {
        return false;
    }
    // SAFETY: fcntl and lseek on fd 1 take no pointers.
    let (flags, pos) = unsafe {
        (
            libc::fcntl(1, libc::F_GETFL),
            libc::lseek(1, 0, libc::SEEK_CUR),
        )
    };
    (flags >= 0 && flags & libc::O_APPEND != 0) || (pos >= 0 && (pos as u64) < inp.len())
}

/// stdout's metadata when it is a regular file (for the check above).
fn stdout_file() -> Option<std::fs::Metadata> {
    let f = std::mem::ManuallyDrop::new(unsafe {
        // SAFETY: fd 1 is open (checked by the caller) and never closed
        // here: ManuallyDrop keeps File's drop from closing it.
        <File as std::os::fd::FromRawFd>::from_raw_fd(1)
    });
    f.metadata().ok().filter(|m| m.is_file())
}

pub fn run(g: &Global, a: &CatArgs) -> Result<(), Fail> {
    if early::stdout_was_closed() {
        // Rust's start-up put /dev/null there: nothing may go to it.
        eprintln!("zcopy cat: standard output: {}", errstr(libc::EBADF));
        return Err(Fail::Error);
    }
    let stdin_only = ["-".to_string()];
    let names = if a.files.is_empty() {
        &stdin_only[..]
    } else {
        &a.files[..]
    };
    let stdout = std::io::stdout();
    let _lock = stdout.lock(); // nothing else writes to stdout meanwhile
    let out_fd = stdout.as_raw_fd();
    let out_meta = stdout_file();
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
                eprintln!("zcopy cat: {name}: {}", io_errstr(&e));
                failed = true;
            }
        }
    }
    let mut progress = Progress::new(g.progress, total_size);
    let start = Instant::now();
    let mut total = 0u64;
    // Invariant: every file before this one was written out or reported.
    for (name, file) in &opened {
        let (fd, shown) = match file {
            Some(f) => (f.as_raw_fd(), name.as_str()),
            None => (0, "-"),
        };
        if let Some(f) = file {
            if is_output_file(f, out_meta.as_ref()) {
                progress.say(&format!("zcopy cat: {name}: input file is output file"));
                failed = true;
                continue;
            }
        }
        progress.set_file(shown);
        let t0 = Instant::now();
        let t = pump(out_fd, fd, &mut progress);
        total += t.written.max(0) as u64;
        if t.error == libc::EPIPE {
            progress.finish();
            early::die_of_sigpipe_if_default();
            eprintln!("zcopy cat: write error: {}", errstr(libc::EPIPE));
            return Err(Fail::Error);
        }
        if t.error != 0 && is_write_error(t.error) {
            // cat stops at the first write error: the output is broken.
            progress.finish();
            eprintln!("zcopy cat: write error: {}", errstr(t.error));
            return Err(Fail::Error);
        }
        if t.error != 0 {
            progress.say(&format!("zcopy cat: {shown}: {}", errstr(t.error)));
            failed = true;
            continue;
        }
        if g.stats {
            let took = t0.elapsed();
            let rest = format!(
                ": {} bytes, {:.3} s, {:.1} MB/s, method {}",
                t.written,
                took.as_secs_f64(),
                mb_per_s(t.written as u64, took),
                method(t.method)
            );
            // Under 100 columns: a long path gives up its start.
            let room = 99usize.saturating_sub("zcopy cat: ''".len() + rest.chars().count());
            let name = fit(if file.is_some() { shown } else { "stdin" }, room);
            progress.say(&format!("zcopy cat: '{name}'{rest}"));
        }
    }
    progress.finish();
    if g.stats {
        let took = start.elapsed();
        eprintln!(
            "zcopy cat: total {total} bytes, {:.3} s, {:.1} MB/s",
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
