//! One SOURCE, and every entry under it with -r: directories, symbolic
//! links, hard links, FIFOs and devices, each as cp makes it; regular
//! files go to `file`, attributes to `attrs`.

use super::attrs;
use super::file::{self, Done, Moved};
use super::opts::Settings;
use crate::io_errstr;
use crate::progress::Progress;
use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A copy's state across its sources.
pub struct Copier<'a> {
    pub s: &'a Settings,
    pub progress: Progress,
    /// -a / --preserve=links: the first copy of each multiply-linked source
    /// inode, for its other names to link to.
    links: HashMap<(u64, u64), PathBuf>,
    /// The directories being copied, outermost first (a directory met
    /// again below itself is a cycle through a followed link).
    pub(super) ancestors: Vec<(u64, u64)>,
    pub failed: bool,
    pub files: u64,
    pub moved: Moved,
    methods: Vec<&'static str>,
}

impl<'a> Copier<'a> {
    pub fn new(s: &'a Settings, progress: Progress) -> Copier<'a> {
        Copier {
            s,
            progress,
            links: HashMap::new(),
            ancestors: Vec::new(),
            failed: false,
            files: 0,
            moved: Moved::default(),
            methods: Vec::new(),
        }
    }

    /// The methods that moved bytes, "+"-joined, in order of first use.
    pub fn methods(&self) -> String {
        self.methods.join("+")
    }

    pub(super) fn report(&mut self, msg: &str) {
        self.progress.say(&format!("zcopy cp: {msg}"));
        self.failed = true;
    }

    /// Copies `src` to `dst`. `operand`: src was named on the command line
    /// (cp follows such links without -r).
    pub fn entry(&mut self, src: &Path, dst: &Path, operand: bool) {
        let meta = if self.s.follow(operand) {
            std::fs::metadata(src)
        } else {
            std::fs::symlink_metadata(src)
        };
        let meta = match meta {
            Ok(m) => m,
            Err(e) => {
                return self.report(&format!(
                    "cannot stat '{}': {}",
                    src.display(),
                    io_errstr(&e)
                ))
            }
        };
        if meta.is_dir() {
            return self.dir(src, dst, &meta, operand);
        }
        if dst.as_os_str().as_bytes().ends_with(b"/") {
            // "dst/" names a directory and there is none: cp's words, not
            // the EISDIR that open(O_CREAT) would give.
            let (d, what) = (dst.display(), "Not a directory");
            let exists =
                std::fs::symlink_metadata(dst.as_os_str().to_string_lossy().trim_end_matches('/'))
                    .is_ok();
            return self.report(&if exists {
                format!("failed to access '{d}': {what}")
            } else {
                format!("cannot create regular file '{d}': {what}")
            });
        }
        let key = (meta.dev(), meta.ino());
        if self.s.links && meta.nlink() > 1 {
            if let Some(first) = self.links.get(&key).cloned() {
                return self.hard_link(src, &first, dst);
            }
        }
        let ft = meta.file_type();
        let special = ft.is_fifo() || ft.is_char_device() || ft.is_block_device() || ft.is_socket();
        let made = if ft.is_symlink() {
            self.symlink(src, &meta, dst)
        } else if special && self.s.recursive {
            self.special(src, &meta, dst)
        } else {
            file::copy(self.s, &mut self.progress, src, &meta, dst).map(|d| match d {
                Done::Copied(m) => {
                    self.files += 1;
                    self.moved.bytes += m.bytes;
                    self.moved.holes += m.holes;
                    if m.bytes > m.holes && !self.methods.contains(&m.method) {
                        self.methods.push(m.method);
                    }
                    true
                }
                Done::Skipped => false,
            })
        };
        match made {
            Err(msg) => self.report(&msg),
            Ok(false) => {}
            Ok(true) => {
                if self.s.links && meta.nlink() > 1 {
                    self.links.insert(key, dst.to_path_buf());
                }
                for msg in attrs::apply(self.s, src, &meta, dst, false) {
                    self.report(&msg);
                }
                if self.s.verbose {
                    file::verbose(src, dst);
                }
            }
        }
    }

    /// A destination in the way of a link or special file: left alone (-n,
    /// or -i answered no), or removed. Ok(false): leave it.
    fn clear(&mut self, src: &Path, meta: &Meta, dst: &Path) -> Result<bool, String> {
        let Ok(dm) = std::fs::symlink_metadata(dst) else {
            return Ok(true);
        };
        let d = dst.display();
        if dm.is_dir() {
            return Err(format!(
                "cannot overwrite directory '{d}' with non-directory"
            ));
        }
        if dm.dev() == meta.dev() && dm.ino() == meta.ino() {
            return Err(format!("'{}' and '{d}' are the same file", src.display()));
        }
        if self.s.no_clobber {
            return Ok(false);
        }
        std::fs::remove_file(dst).map_err(|e| format!("cannot remove '{d}': {}", io_errstr(&e)))?;
        Ok(true)
    }

    fn hard_link(&mut self, src: &Path, first: &Path, dst: &Path) {
        let r = std::fs::symlink_metadata(first).map_err(|e| io_errstr(&e));
        if let (Ok(f), Ok(d)) = (&r, std::fs::symlink_metadata(dst)) {
            if f.dev() == d.dev() && f.ino() == d.ino() {
                return; // already that link (a copy made again over itself)
            }
        }
        let r = r.and_then(|m| self.clear(first, &m, dst)).and_then(|go| {
            if go {
                std::fs::hard_link(first, dst).map_err(|e| {
                    format!(
                        "cannot create hard link '{}' to '{}': {}",
                        dst.display(),
                        first.display(),
                        io_errstr(&e)
                    )
                })?;
            }
            Ok(go)
        });
        match r {
            Err(m) => self.report(&m),
            Ok(true) if self.s.verbose => file::verbose(src, dst),
            Ok(_) => {}
        }
    }

    fn symlink(&mut self, src: &Path, meta: &Metadata, dst: &Path) -> Result<bool, String> {
        let target = std::fs::read_link(src).map_err(|e| {
            format!(
                "cannot read symbolic link '{}': {}",
                src.display(),
                io_errstr(&e)
            )
        })?;
        if !self.clear(src, meta, dst)? {
            return Ok(false);
        }
        std::os::unix::fs::symlink(&target, dst).map_err(|e| {
            format!(
                "cannot create symbolic link '{}': {}",
                dst.display(),
                io_errstr(&e)
            )
        })?;
        Ok(true)
    }

    /// -r: a FIFO, device or socket is made anew (mknod), not read.
    fn special(&mut self, src: &Path, meta: &Metadata, dst: &Path) -> Result<bool, String> {
        if !self.clear(src, meta, dst)? {
            return Ok(false);
        }
        let c = std::ffi::CString::new(dst.as_os_str().as_bytes()).unwrap_or_default();
        let fifo = meta.file_type().is_fifo();
        // SAFETY: c is a NUL-terminated path.
        let r = unsafe { libc::mknod(c.as_ptr(), meta.mode() & !0o7000, meta.rdev()) };
        if r < 0 {
            let what = if fifo { "fifo" } else { "special file" };
            let e = std::io::Error::last_os_error();
            return Err(format!(
                "cannot create {what} '{}': {}",
                dst.display(),
                io_errstr(&e)
            ));
        }
        Ok(true)
    }
}

type Meta = Metadata;
