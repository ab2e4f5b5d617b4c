//! cp's options resolved into what the copy needs: which links to follow,
//! what to preserve, what to do with an existing destination.

use crate::args::{CpArgs, Fail, Global, When};

/// Which symbolic links in SOURCE are followed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Deref {
    /// -L: every one.
    Always,
    /// -P, -d, -a, and -r/-R without -L: none (copied as links).
    Never,
    /// -H, or no -r: the operands' own (a plain cp copies what a link
    /// points to).
    Operands,
}

#[derive(Debug)]
pub struct Settings {
    pub recursive: bool,
    pub deref: Deref,
    pub mode: bool,
    pub ownership: bool,
    pub timestamps: bool,
    pub links: bool,
    pub xattr: bool,
    /// --preserve=LIST named them: a failure to preserve is an error. From
    /// -p or -a it is not, as with cp (a user cannot give a file away).
    pub required: bool,
    pub force: bool,
    pub interactive: bool,
    pub no_clobber: bool,
    pub verbose: bool,
    pub sparse: When,
    pub reflink: When,
    pub stats: bool,
    pub progress: bool,
    /// The process umask, for the modes of new directories.
    pub umask: u32,
}

impl Settings {
    pub fn new(g: &Global, a: &CpArgs) -> Result<Settings, Fail> {
        let mut s = Settings {
            recursive: a.recursive || a.archive,
            deref: Deref::Operands,
            mode: a.p,
            ownership: a.p,
            timestamps: a.p,
            links: a.d || a.archive,
            xattr: false,
            required: !a.preserve.is_empty(),
            force: a.force,
            interactive: a.interactive && !a.no_clobber,
            no_clobber: a.no_clobber,
            verbose: a.verbose,
            sparse: a.sparse,
            // coreutils 9 clones when it can unless told otherwise.
            reflink: a.reflink.unwrap_or(When::Auto),
            stats: g.stats,
            progress: g.progress,
            umask: current_umask(),
        };
        if s.recursive {
            s.deref = Deref::Never;
        }
        if a.archive || a.d || a.no_dereference {
            s.deref = Deref::Never;
        }
        if a.h {
            s.deref = Deref::Operands;
        }
        if a.dereference {
            s.deref = Deref::Always;
        }
        let all = a.archive.then_some("all");
        for item in a.preserve.iter().map(String::as_str).chain(all) {
            match item {
                "mode" => s.mode = true,
                "ownership" => s.ownership = true,
                "timestamps" => s.timestamps = true,
                "links" => s.links = true,
                "xattr" => s.xattr = true,
                // SELinux contexts are xattrs too; nothing more to do.
                "context" => {}
                "all" => {
                    (s.mode, s.ownership, s.timestamps, s.links) = (true, true, true, true);
                    s.xattr = true;
                }
                other => {
                    return Err(Fail::Usage(format!(
                        "invalid argument '{other}' for '--preserve' \
                         (mode, ownership, timestamps, links, xattr, all)"
                    )))
                }
            }
        }
        if a.reflink == Some(When::Always) && a.sparse != When::Auto {
            // As cp: a clone shares the source's extents, holes and all.
            return Err(Fail::Usage(
                "--reflink=always takes only --sparse=auto".into(),
            ));
        }
        Ok(s)
    }

    /// Whether the symlink at `src` is followed (`operand`: named on the
    /// command line).
    pub fn follow(&self, operand: bool) -> bool {
        match self.deref {
            Deref::Always => true,
            Deref::Never => false,
            Deref::Operands => operand,
        }
    }
}

fn current_umask() -> u32 {
    // SAFETY: umask cannot fail; the old mask is put back at once (no
    // other thread creates files yet).
    unsafe {
        let old = libc::umask(0o022);
        libc::umask(old);
        old as u32
    }
}
