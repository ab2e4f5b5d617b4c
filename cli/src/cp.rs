//! `zcopy cp [-p] SRC DST` and `zcopy cp [-p] SRC... DIR`, with cp's rules
//! for modes, times and "Not a directory".

use crate::args::{Fail, Opts};
use crate::progress::{mb_per_s, method, print_pool, pump, Progress};
use crate::{errstr, io_errstr};
use std::fs::{File, FileTimes, Metadata, OpenOptions};
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub const HELP: &str = "\
Usage: zcopy cp [-p] [--stats] [--progress] SRC DST
       zcopy cp [-p] [--stats] [--progress] SRC... DIR

Copies the file SRC to DST, or each SRC into the directory DIR (as
DIR/<name of SRC>), with the library's best path (copy_file_range between
files, falling back to sendfile or read/write). Holes in a sparse SRC stay
holes. A new DST gets SRC's permission bits less the umask, without
setuid, setgid and sticky bits; an existing DST is truncated and keeps its
mode. A DST ending in / must be a directory.

  -p, --preserve  give DST SRC's mode bits (setuid/setgid too), access and
                  modification times
  --stats         bytes, time, MB/s, method used and pool counters on stderr
  --progress      a progress bar on stderr (only when stderr is a terminal)
  -h, --help      this help
";

pub fn run(o: &Opts) -> Result<(), Fail> {
    let (target, sources) = match o.args.split_last() {
        None => return Err(Fail::Usage("missing file operand".into())),
        Some((t, [])) => {
            return Err(Fail::Usage(format!(
                "missing destination file operand after '{t}'"
            )))
        }
        Some((t, s)) => (t, s),
    };
    let into_dir = Path::new(target).is_dir();
    if sources.len() > 1 && !into_dir {
        // As cp: several sources need a directory to go into.
        let why = match std::fs::metadata(target) {
            Err(e) => io_errstr(&e),
            Ok(_) => errstr(libc::ENOTDIR),
        };
        return Err(Fail::Usage(format!("target '{target}': {why}")));
    }
    let mut failed = false;
    // Invariant: every source before this one was copied or reported.
    for src in sources {
        if let Err(what) = copy_one(o, src, target, into_dir) {
            eprintln!("zcopy cp: {what}");
            failed = true;
        }
    }
    if failed {
        Err(Fail::Error)
    } else {
        Ok(())
    }
}

/// Where `src` goes: `target` itself, or `target/<name of src>`.
fn destination(src: &str, target: &str, into_dir: bool) -> Result<PathBuf, String> {
    if into_dir {
        return match Path::new(src).file_name() {
            Some(name) => Ok(Path::new(target).join(name)),
            None => Err(format!("cannot name a file in '{target}' after '{src}'")),
        };
    }
    if target.ends_with('/') {
        // "dst/" names a directory, and there is none: say so, as cp does,
        // rather than the EISDIR that open(O_CREAT) would give.
        let enotdir = errstr(libc::ENOTDIR);
        return Err(
            match std::fs::symlink_metadata(target.trim_end_matches('/')) {
                Ok(_) => format!("cannot stat '{target}': {enotdir}"),
                Err(_) => format!("cannot create regular file '{target}': {enotdir}"),
            },
        );
    }
    Ok(PathBuf::from(target))
}

/// Opens DST for writing: a new file gets `mode` (the kernel takes the
/// umask off), an existing one is truncated and keeps its own mode.
fn open_destination(path: &Path, mode: u32) -> std::io::Result<File> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
    {
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            OpenOptions::new().write(true).truncate(true).open(path)
        }
        r => r,
    }
}

/// -p: SRC's mode bits, then its times (last, after every write).
fn preserve(output: &File, meta: &Metadata) -> std::io::Result<()> {
    output.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    let times = FileTimes::new()
        .set_accessed(meta.accessed()?)
        .set_modified(meta.modified()?);
    output.set_times(times)
}

fn copy_one(o: &Opts, src: &str, target: &str, into_dir: bool) -> Result<(), String> {
    let input = File::open(src).map_err(|e| format!("cannot open '{src}': {}", io_errstr(&e)))?;
    let meta = input
        .metadata()
        .map_err(|e| format!("cannot stat '{src}': {}", io_errstr(&e)))?;
    if meta.is_dir() {
        return Err(format!("'{src}' is a directory"));
    }
    let dst_path = destination(src, target, into_dir)?;
    let shown = dst_path.display().to_string();
    if let Ok(dm) = std::fs::metadata(&dst_path) {
        if dm.dev() == meta.dev() && dm.ino() == meta.ino() {
            return Err(format!("'{src}' and '{shown}' are the same file"));
        }
    }
    // cp: permission bits only (a copy is no setuid program of its owner).
    let output = open_destination(&dst_path, meta.mode() & 0o777)
        .map_err(|e| format!("cannot create '{shown}': {}", io_errstr(&e)))?;
    let size = meta.is_file().then_some(meta.len());
    let mut progress = Progress::new(o.progress, size);
    let start = Instant::now();
    let t = pump(output.as_raw_fd(), input.as_raw_fd(), &mut progress);
    let took = start.elapsed();
    progress.finish();
    if t.error != 0 {
        return Err(format!(
            "copying '{src}' to '{shown}': {} (after {} bytes)",
            errstr(t.error),
            t.written
        ));
    }
    if o.preserve {
        preserve(&output, &meta).map_err(|e| {
            format!(
                "cannot preserve the mode and times of '{shown}': {}",
                io_errstr(&e)
            )
        })?;
    }
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
