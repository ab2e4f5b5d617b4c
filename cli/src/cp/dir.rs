//! A directory under -r: made (or reused), filled entry by entry in name
//! order, then given its attributes; cycles through followed links and
//! copies into itself refused, as cp refuses them.

use super::attrs;
use super::file;
use super::tree::Copier;
use crate::io_errstr;
use std::fs::Metadata;
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::Path;

impl Copier<'_> {
    pub(super) fn dir(&mut self, src: &Path, dst: &Path, meta: &Metadata, operand: bool) {
        let (sp, dp) = (src.display(), dst.display());
        if !self.s.recursive {
            return self.report(&format!("-r not specified; omitting directory '{sp}'"));
        }
        let key = (meta.dev(), meta.ino());
        if self.ancestors.contains(&key) {
            return self.report(&format!("cannot copy cyclic symbolic link '{sp}'"));
        }
        if operand && inside(src, dst) {
            return self.report(&format!(
                "cannot copy a directory, '{sp}', into itself, '{dp}'"
            ));
        }
        let new = match std::fs::metadata(dst) {
            Ok(m) if m.is_dir() => false,
            Ok(_) => {
                return self.report(&format!(
                    "cannot overwrite non-directory '{dp}' with directory '{sp}'"
                ))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                // u+rwx while it is filled; its own mode comes at the end.
                let made = std::fs::DirBuilder::new()
                    .mode(0o700 | (meta.mode() & 0o777))
                    .create(dst);
                if let Err(e) = made {
                    return self.report(&format!(
                        "cannot create directory '{dp}': {}",
                        io_errstr(&e)
                    ));
                }
                true
            }
            Err(e) => return self.report(&format!("cannot stat '{dp}': {}", io_errstr(&e))),
        };
        if new && self.s.verbose {
            file::verbose(src, dst);
        }
        let names = match std::fs::read_dir(src) {
            Ok(rd) => {
                let mut v: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
                v.sort();
                v
            }
            Err(e) => {
                self.report(&format!("cannot access '{sp}': {}", io_errstr(&e)));
                Vec::new()
            }
        };
        self.ancestors.push(key);
        // Invariant: every entry before `name` was copied or reported.
        for name in names {
            self.entry(&src.join(&name), &dst.join(&name), false);
        }
        self.ancestors.pop();
        for msg in attrs::apply(self.s, src, meta, dst, new) {
            self.report(&msg);
        }
    }
}

/// Whether `dst` is `src` or lies below it (cp refuses to copy a directory
/// into itself: it would never end).
fn inside(src: &Path, dst: &Path) -> bool {
    let Ok(s) = src.canonicalize() else {
        return false;
    };
    let d = match dst.canonicalize() {
        Ok(d) => d,
        Err(_) => match (dst.parent(), dst.file_name()) {
            (Some(p), Some(n)) => {
                let p = if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                };
                match p.canonicalize() {
                    Ok(p) => p.join(n),
                    Err(_) => return false,
                }
            }
            _ => return false,
        },
    };
    d.starts_with(&s)
}
