//! `zcopy cp SRC DST`.

use crate::args::{Fail, Opts};
use crate::progress::{mb_per_s, method, print_pool, pump, Progress};
use crate::{errstr, io_errstr};
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub const HELP: &str = "\
Usage: zcopy cp [--stats] [--progress] SRC DST

Copies the file SRC to DST with the library's best path (copy_file_range
between files, falling back to sendfile or read/write) and gives DST the
mode bits of SRC. When DST is a directory, the copy is DST/<name of SRC>.
An existing DST is truncated first.

  --stats      bytes, time, MB/s, method used and pool counters on stderr
  --progress   a progress bar on stderr (only when stderr is a terminal)
  -h, --help   this help
";

pub fn run(o: &Opts) -> Result<(), Fail> {
    let [src, dst] = &o.args[..] else {
        return Err(Fail::Usage(format!(
            "expected SRC DST, got {} argument(s)",
            o.args.len()
        )));
    };
    let fail = |what: String| {
        eprintln!("zcopy cp: {what}");
        Fail::Error
    };
    let src_path = Path::new(src);
    let input = File::open(src_path)
        .map_err(|e| fail(format!("cannot open '{src}': {}", io_errstr(&e))))?;
    let meta = input
        .metadata()
        .map_err(|e| fail(format!("cannot stat '{src}': {}", io_errstr(&e))))?;
    if meta.is_dir() {
        return Err(fail(format!("'{src}' is a directory")));
    }
    let mut dst_path = PathBuf::from(dst);
    if dst_path.is_dir() {
        match src_path.file_name() {
            Some(name) => dst_path.push(name),
            None => return Err(fail(format!("cannot name a file in '{dst}' after '{src}'"))),
        }
    }
    let shown = dst_path.display().to_string();
    if let Ok(dm) = std::fs::metadata(&dst_path) {
        if dm.dev() == meta.dev() && dm.ino() == meta.ino() {
            return Err(fail(format!("'{src}' and '{shown}' are the same file")));
        }
    }
    let mode = meta.permissions().mode() & 0o7777;
    let output = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&dst_path)
        .map_err(|e| fail(format!("cannot create '{shown}': {}", io_errstr(&e))))?;
    let size = meta.is_file().then_some(meta.len());
    let mut progress = Progress::new(o.progress, size);
    let start = Instant::now();
    let t = pump(output.as_raw_fd(), input.as_raw_fd(), &mut progress);
    let took = start.elapsed();
    progress.finish();
    if t.error != 0 {
        return Err(fail(format!(
            "copying '{src}' to '{shown}': {} (after {} bytes)",
            errstr(t.error),
            t.written
        )));
    }
    // The mode bits exactly, whatever the umask or an existing file's mode.
    output
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| {
            fail(format!(
                "cannot set the mode of '{shown}': {}",
                io_errstr(&e)
            ))
        })?;
    if o.stats {
        eprintln!(
            "zcopy cp: '{src}' -> '{shown}': {} bytes in {:.3} s, {:.1} MB/s, method {}",
            t.written,
            took.as_secs_f64(),
            mb_per_s(t.written as u64, took),
            method(t.method)
        );
        print_pool("cp");
    }
    Ok(())
}
