//! One regular file's data: cp's rules for an existing destination (-f,
//! -n, -i, "are the same file"), a clone when --reflink allows, else every
//! byte through zcopy_copy's best path, then --sparse=always/never.

use super::opts::Settings;
use super::reflink;
use crate::args::When;
use crate::progress::{pump, pump_with, Progress};
use crate::stats::data_bytes;
use crate::{errstr, io_errstr};
use std::fs::{File, Metadata, OpenOptions};
use std::io::{BufRead, ErrorKind, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// What one copied file adds to --stats.
#[derive(Default)]
pub struct Moved {
    /// Bytes of the file covered, holes included.
    pub bytes: u64,
    /// Of those, the bytes in the source's holes (no copying, no rate).
    pub holes: u64,
    pub method: &'static str,
}

/// The outcome of one file: copied, left alone (-n, -i), or an error
/// message (cp's wording, without the "zcopy cp: ").
pub enum Done {
    Copied(Moved),
    Skipped,
}

/// Errors of a write to the destination rather than of reading the source
/// (zcopy_copy reports one errno for the pair).
fn is_write_error(e: i32) -> bool {
    [
        libc::ENOSPC,
        libc::EDQUOT,
        libc::EFBIG,
        libc::EROFS,
        libc::EPIPE,
    ]
    .contains(&e)
}

/// -i: asks on stderr, reads a line on stdin; y or Y goes on.
fn confirm(progress: &Progress, dst: &Path) -> bool {
    let mut line = String::new();
    progress.suspend(|| {
        // The answer goes on the prompt's line, as with cp.
        eprint!("zcopy cp: overwrite '{}'? ", dst.display());
        let _ = std::io::stdin().lock().read_line(&mut line);
    });
    matches!(line.trim_start().chars().next(), Some('y' | 'Y'))
}

/// Opens the destination: a new file gets the source's permission bits
/// (the kernel takes the umask off); an existing one is truncated and
/// keeps its mode; with -f one that cannot be opened is removed and made
/// anew.
fn open_destination(s: &Settings, dst: &Path, mode: u32, exists: bool) -> std::io::Result<File> {
    // --sparse=always reads the copy back to find its zero blocks.
    let reading = s.sparse == When::Always;
    let create = || {
        OpenOptions::new()
            .write(true)
            .read(reading)
            .create_new(true)
            .mode(mode)
            .open(dst)
    };
    if !exists {
        match create() {
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            r => return r,
        }
    }
    match OpenOptions::new()
        .write(true)
        .read(reading)
        .truncate(true)
        .open(dst)
    {
        Err(_) if s.force => {
            std::fs::remove_file(dst)?;
            create()
        }
        r => r,
    }
}

/// Copies the regular file (or, without -r, any file cp would read) `src`
/// to `dst`. `meta`: src's (followed) metadata.
pub fn copy(
    s: &Settings,
    progress: &mut Progress,
    src: &Path,
    meta: &Metadata,
    dst: &Path,
) -> Result<Done, String> {
    let (sp, dp) = (src.display(), dst.display());
    let existing = std::fs::metadata(dst).ok();
    if existing.is_none() && std::fs::symlink_metadata(dst).is_ok_and(|m| m.is_symlink()) {
        // cp will not make a file where a dangling link points.
        return Err(format!("not writing through dangling symlink '{dp}'"));
    }
    if let Some(dm) = &existing {
        if dm.dev() == meta.dev() && dm.ino() == meta.ino() {
            return Err(format!("'{sp}' and '{dp}' are the same file"));
        }
        if dm.is_dir() {
            return Err(format!(
                "cannot overwrite directory '{dp}' with non-directory"
            ));
        }
        if s.no_clobber || (s.interactive && !confirm(progress, dst)) {
            return Ok(Done::Skipped);
        }
    }
    let input = File::open(src)
        .map_err(|e| format!("cannot open '{sp}' for reading: {}", io_errstr(&e)))?;
    // cp: permission bits only (a copy is no setuid program of its owner).
    let output = open_destination(s, dst, meta.mode() & 0o777, existing.is_some())
        .map_err(|e| format!("cannot create regular file '{dp}': {}", io_errstr(&e)))?;
    let (out, inp) = (output.as_raw_fd(), input.as_raw_fd());
    // auto clones only when the holes are to stay as they are: a clone
    // shares the source's layout, which --sparse=always/never would change.
    let clone = match s.reflink {
        When::Always => true,
        When::Auto => s.sparse == When::Auto,
        When::Never => false,
    };
    if meta.is_file() && clone {
        match reflink::clone(out, inp) {
            Ok(()) => {
                progress.add(meta.len());
                return Ok(Done::Copied(Moved {
                    bytes: meta.len(),
                    holes: 0,
                    method: "reflink",
                }));
            }
            Err(e) if s.reflink == When::Always => {
                return Err(format!(
                    "failed to clone '{dp}' from '{sp}': {}",
                    io_errstr(&e)
                ))
            }
            Err(_) => {} // auto: copy the bytes
        }
    }
    progress.set_file(&sp.to_string());
    let t = match s.reflink {
        When::Never => pump_with(out, inp, progress, reflink::copy_no_clone),
        _ => pump(out, inp, progress),
    };
    if t.error != 0 {
        return Err(if is_write_error(t.error) {
            format!("error writing '{dp}': {}", errstr(t.error))
        } else {
            format!("error reading '{sp}': {}", errstr(t.error))
        });
    }
    let bytes = t.written.max(0) as u64;
    let holes =
        if meta.is_file() && zcopy::sparse::has_holes(meta.len() as i64, meta.blocks() as i64) {
            bytes.saturating_sub(data_bytes(inp, bytes))
        } else {
            0
        };
    let fixed = match s.sparse {
        When::Auto => Ok(()),
        When::Never => fill_holes(&output, bytes),
        When::Always => punch_zeros(&output, bytes, meta.blksize().max(512)),
    };
    fixed.map_err(|e| format!("error writing '{dp}': {}", io_errstr(&e)))?;
    Ok(Done::Copied(Moved {
        bytes,
        holes,
        method: crate::stats::method(t.method),
    }))
}

/// --sparse=never: allocates every hole of the copy (fallocate keeps the
/// data, so the file reads the same and holds no hole). A file system
/// without fallocate keeps what the copy made.
fn fill_holes(f: &File, len: u64) -> std::io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    // SAFETY: fallocate takes no pointers; mode 0 allocates, keeps data.
    let r = unsafe { libc::fallocate(f.as_raw_fd(), 0, 0, len as i64) };
    match std::io::Error::last_os_error() {
        e if r < 0 && e.raw_os_error() != Some(libc::EOPNOTSUPP) => Err(e),
        _ => Ok(()),
    }
}

/// --sparse=always: every block of the copy that is all zeros becomes a
/// hole (as cp makes them), runs of such blocks punched at once.
fn punch_zeros(f: &File, len: u64, block: u64) -> std::io::Result<()> {
    let mut buf = vec![0u8; block as usize];
    let mut run: Option<u64> = None; // start of the zero run being grown
    let punch = |from: u64, to: u64| -> std::io::Result<()> {
        let mode = libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE;
        // SAFETY: fallocate takes no pointers.
        let r = unsafe { libc::fallocate(f.as_raw_fd(), mode, from as i64, (to - from) as i64) };
        match std::io::Error::last_os_error() {
            e if r < 0 && e.raw_os_error() != Some(libc::EOPNOTSUPP) => Err(e),
            _ => Ok(()),
        }
    };
    let mut pos = 0;
    // Invariant: every whole block before pos is data or in `run`, or was
    // punched; the last, partial block stays as it is.
    while pos + block <= len {
        f.read_exact_at(&mut buf, pos)?;
        let zero = buf.iter().all(|&b| b == 0);
        match (zero, run) {
            (true, None) => run = Some(pos),
            (false, Some(from)) => {
                punch(from, pos)?;
                run = None;
            }
            _ => {}
        }
        pos += block;
    }
    if let Some(from) = run {
        punch(from, pos)?;
    }
    Ok(())
}

/// -v: "'SRC' -> 'DST'" on stdout, as cp prints it. A stdout that cannot
/// take it does not stop the copy.
pub fn verbose(src: &Path, dst: &Path) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "'{}' -> '{}'", src.display(), dst.display());
}
