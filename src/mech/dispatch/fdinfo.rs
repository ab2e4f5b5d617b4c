//! What zcopy_copy learns about each fd, once per call, in as few system
//! calls as its decision table needs.

use crate::call::wait::{socket_timeout, Wait};
use crate::sys::{fd_flags, fstat};

/// What kind of file an fd is, for the dispatch table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A block device (pages in like a file).
    Block,
    /// A pipe or FIFO.
    Pipe,
    /// A socket.
    Socket,
    /// A character device (tty, /dev/null, ...).
    Char,
    /// A directory or anything else.
    Other,
}

/// What the dispatch learns about an fd, once per call.
#[derive(Clone, Copy, Debug)]
pub struct FdInfo {
    /// The file's kind.
    pub kind: Kind,
    /// fcntl(F_GETFL) flags.
    pub flags: i32,
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) size: i64,
    pub(crate) blocks: i64,
    /// False when `flags` was not asked (a socket: see `of_dst`, `of_src`).
    pub(crate) flags_known: bool,
    /// dst's SO_SNDTIMEO (ms, -1 none) when `of_dst` learned it.
    pub(crate) timeout_ms: Option<i32>,
}

impl FdInfo {
    /// fstat + F_GETFL, or the errno (EBADF for a closed fd).
    pub fn of(fd: i32) -> Result<FdInfo, i32> {
        let mut info = FdInfo::kind_of(fd)?;
        info.flags = fd_flags(fd)?;
        info.flags_known = true;
        Ok(info)
    }

    /// fstat only; `flags` O_RDWR, not asked.
    fn kind_of(fd: i32) -> Result<FdInfo, i32> {
        let st = fstat(fd)?;
        let kind = match st.st_mode & libc::S_IFMT {
            libc::S_IFREG => Kind::File,
            libc::S_IFBLK => Kind::Block,
            libc::S_IFIFO => Kind::Pipe,
            libc::S_IFSOCK => Kind::Socket,
            libc::S_IFCHR => Kind::Char,
            _ => Kind::Other,
        };
        Ok(FdInfo {
            kind,
            flags: libc::O_RDWR,
            dev: st.st_dev,
            ino: st.st_ino,
            size: st.st_size,
            blocks: st.st_blocks,
            flags_known: false,
            timeout_ms: None,
        })
    }

    /// What the dispatch needs of dst, cheapest question first: one
    /// getsockopt(SO_SNDTIMEO), which for a socket (the common case) is
    /// all: a socket is always O_RDWR (its access mode cannot be changed),
    /// O_APPEND matters to the plan only for a file, its identity is only
    /// compared for files and pipes, and its timeout is the one thing the
    /// guard needs. Anything else (ENOTSOCK): fstat + F_GETFL.
    pub(crate) fn of_dst(fd: i32) -> Result<FdInfo, i32> {
        match socket_timeout(fd, Wait::Write) {
            Ok(t) => Ok(FdInfo {
                kind: Kind::Socket,
                flags: libc::O_RDWR,
                dev: 0,
                ino: 0,
                size: 0,
                blocks: 0,
                flags_known: false,
                timeout_ms: Some(t),
            }),
            Err(_) => FdInfo::of(fd),
        }
    }

    /// What the dispatch needs of src: fstat, and F_GETFL unless it is a
    /// socket (always O_RDWR; its O_NONBLOCK is asked by the guard only
    /// when its timeout matters).
    pub(crate) fn of_src(fd: i32) -> Result<FdInfo, i32> {
        let info = FdInfo::kind_of(fd)?;
        if info.kind == Kind::Socket {
            return Ok(info);
        }
        FdInfo::of(fd)
    }

    /// `flags` when they were asked.
    pub(crate) fn known_flags(&self) -> Option<i32> {
        self.flags_known.then_some(self.flags)
    }

    pub(crate) fn append(&self) -> bool {
        self.flags & libc::O_APPEND != 0
    }
}
