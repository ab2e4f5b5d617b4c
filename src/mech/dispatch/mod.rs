//! zcopy_copy: io.Copy's best-path dispatch. Looks at both fds once per call
//! (fstat and F_GETFL; for a socket less, see `FdInfo::of_dst`) and picks a mechanism from the table below, falling
//! back down the row whenever a mechanism says it cannot serve the pair.
//!
//! | src                   | dst                        | tried in order                         |
//! |-----------------------|----------------------------|----------------------------------------|
//! | same file as dst      | (itself)                   | read/write, limited to the size at start |
//! | regular file          | regular file               | copy_file_range, sendfile, read/write (per data extent when src has holes: sparse.rs) |
//! | regular file, blockdev| socket, char device        | sendfile, read/write                   |
//! | regular file, blockdev| pipe                       | read/write (rust 108283: a pipe would hold the file's pages, so later writes to the file would show through) |
//! | pipe, or any non-file | pipe                       | direct splice, read/write              |
//! | pipe                  | anything                   | direct splice, read/write              |
//! | socket                | socket, regular file       | splice through the pool, read/write    |
//! | anything else         |                            | read/write                             |
//!
//! A mechanism that answers ENOSYS or EPERM is probed once with invalid fds
//! (rust 79274: one odd file must not switch a mechanism off for everyone);
//! if the probe agrees, it is not tried again in this process.

use crate::call::control::Control;
use crate::call::nonblock::NonBlocking;
use crate::call::options::Reflink;
use crate::call::outcome::Outcome;
use crate::call::runner::Call;
use crate::stream::Held;
use crate::sys::disable::{
    self, ZCOPY_DISABLE_COPY_FILE_RANGE, ZCOPY_DISABLE_SENDFILE, ZCOPY_DISABLE_SPLICE,
};
use crate::sys::probe::{self, Availability};
mod fdinfo;

pub use fdinfo::{FdInfo, Kind};

use crate::call::wait::Wait;
use crate::mech::{copy_file_range, read_write, sendfile, sparse, splice};
use crate::sys::transfer::*;

/// The mechanisms to try, in order, for a pair of fds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// src and dst are the same file: read/write, at most what the file
    /// held past src's position when the call began (no endless loop).
    SameFile,
    /// copy_file_range, then sendfile, then read/write.
    FileToFile,
    /// sendfile, then read/write.
    SendFile,
    /// splice directly (a pipe on one side), then read/write.
    DirectSplice,
    /// splice through a pooled pipe, then read/write.
    PooledSplice,
    /// read/write only.
    ReadWrite,
}

/// The decision table (see the module docs).
pub fn plan(dst: &FdInfo, src: &FdInfo) -> Plan {
    use Kind::*;
    if src.kind == File && dst.kind == File && src.dev == dst.dev && src.ino == dst.ino {
        return Plan::SameFile;
    }
    match (src.kind, dst.kind) {
        (File, File) if !dst.append() => Plan::FileToFile,
        (File, File) => Plan::ReadWrite, // O_APPEND: no sendfile, no copy_file_range
        (File | Block, Socket | Char) => Plan::SendFile,
        (File | Block, Pipe) => Plan::ReadWrite,
        (Pipe, File) if dst.append() => Plan::ReadWrite,
        (Pipe, _) | (_, Pipe) => Plan::DirectSplice,
        (Socket, Socket) => Plan::PooledSplice,
        (Socket, File) if !dst.append() => Plan::PooledSplice,
        _ => Plan::ReadWrite,
    }
}

/// zcopy_copy: moves up to `remain` bytes from `src` to `dst` by the best
/// mechanism for the pair, falling back as needed. Always handled unless
/// the arguments are invalid.
pub fn copy(dst: i32, src: i32, remain: i64) -> Transfer {
    copy_with(&mut Control::plain(), dst, src, remain)
}

/// zcopy_copy under a call's Control (zcopy_copy_opts): the same table and
/// fallbacks, every wait bounded by the caller's options.
pub(crate) fn copy_with(ctl: &mut Control, dst: i32, src: i32, remain: i64) -> Transfer {
    let call = match Call::new(ZCOPY_METHOD_NONE, dst, src, remain) {
        Ok(call) => call,
        Err(t) => return t,
    };
    let (d, s) = match (FdInfo::of_dst(dst), FdInfo::of_src(src)) {
        (Ok(d), Ok(s)) => (d, s),
        (Err(e), _) | (_, Err(e)) => return Transfer::done(ZCOPY_METHOD_NONE, 0, e),
    };
    // Refuse the wrong access mode before any mechanism takes bytes from
    // src that it could then not deliver (a pooled splice would drain src
    // and only then fail on dst).
    if d.flags & libc::O_ACCMODE == libc::O_RDONLY || s.flags & libc::O_ACCMODE == libc::O_WRONLY {
        return Transfer::done(ZCOPY_METHOD_NONE, 0, libc::EBADF);
    }
    if d.kind == Kind::Pipe && s.kind == Kind::Pipe && d.dev == s.dev && d.ino == s.ino {
        // A pipe into itself would go round for ever.
        return Transfer::done(ZCOPY_METHOD_NONE, 0, libc::EINVAL);
    }
    if ctl.settings().reflink == Reflink::Always && d.kind == Kind::File && s.kind == Kind::File {
        // ZCOPY_OPT_REFLINK_ALWAYS: a clone or nothing (clone.rs).
        return crate::mech::clone::clone_range(dst, src, remain);
    }
    let plan = plan(&d, &s);
    // Socket timeouts on blocking fds: bounded once (see nonblock.rs and
    // splice::pair_guard: the pooled row counts a src timeout the kernel
    // waited out, so a plain call guards only its dst).
    let always = !ctl.is_plain();
    let mut nb = NonBlocking::none();
    // Only a socket has a timeout, and of_dst / of_src already know which
    // fd is one: no getsockopt is asked twice, none of a file or pipe.
    match d.timeout_ms {
        Some(t) if t >= 0 || always => nb.set_for_call(dst, None),
        Some(_) => {}
        None if always => nb.add(dst, d.known_flags(), Wait::Write, true),
        None => {} // not a socket
    }
    if always || (plan != Plan::PooledSplice && s.kind == Kind::Socket) {
        nb.add(src, s.known_flags(), Wait::Read, always);
    }
    // Every row but file to file may stop holding bytes (a pooled pipe,
    // the read/write buffer).
    let files = d.kind == Kind::File && s.kind == Kind::File;
    call.run(
        ctl,
        || !files,
        |ctl, left, held| {
            if plan == Plan::FileToFile && sparse::has_holes(s.size, s.blocks) {
                // Holes stay holes; each data extent goes through the row as
                // usual.
                sparse::copy(dst, src, left, s.size, d.size, |n| {
                    run(ctl, plan, dst, src, n, &s, held)
                })
            } else {
                run(ctl, plan, dst, src, left, &s, held)
            }
        },
    )
}

/// One mechanism of a plan's row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mechanism {
    CopyFileRange,
    SendFile,
    DirectSplice,
    PooledSplice,
    ReadWrite,
}

impl Plan {
    /// The row of the decision table: mechanisms in the order tried.
    fn mechanisms(self) -> &'static [Mechanism] {
        use Mechanism::*;
        match self {
            Plan::SameFile | Plan::ReadWrite => &[ReadWrite],
            Plan::FileToFile => &[CopyFileRange, SendFile, ReadWrite],
            Plan::SendFile => &[SendFile, ReadWrite],
            Plan::DirectSplice => &[DirectSplice, ReadWrite],
            Plan::PooledSplice => &[PooledSplice, ReadWrite],
        }
    }
}

/// Runs one mechanism (None: switched off for this process).
/// What it took and could not deliver is left in `held`.
fn attempt(
    ctl: &mut Control,
    m: Mechanism,
    dst: i32,
    src: i32,
    left: i64,
    held: &mut Held,
) -> Option<(Outcome, i32)> {
    // The kill switch (disable.rs) and REFLINK_NEVER (copy_file_range may
    // share extents) skip a mechanism as if the process could not use it.
    let off = disable::disabled();
    let skip = match m {
        Mechanism::CopyFileRange => {
            off & ZCOPY_DISABLE_COPY_FILE_RANGE != 0 || ctl.settings().reflink == Reflink::Never
        }
        Mechanism::SendFile => off & ZCOPY_DISABLE_SENDFILE != 0,
        Mechanism::DirectSplice | Mechanism::PooledSplice => off & ZCOPY_DISABLE_SPLICE != 0,
        Mechanism::ReadWrite => false,
    };
    if skip {
        return None;
    }
    let (avail, probe, method): (&Availability, fn() -> i32, i32) = match m {
        Mechanism::CopyFileRange => {
            if !copy_file_range::kernel_supports() {
                return None;
            }
            (
                &probe::COPY_FILE_RANGE,
                probe::probe_copy_file_range,
                ZCOPY_METHOD_COPY_FILE_RANGE,
            )
        }
        Mechanism::SendFile => (
            &probe::SENDFILE,
            probe::probe_sendfile,
            ZCOPY_METHOD_SENDFILE,
        ),
        Mechanism::DirectSplice | Mechanism::PooledSplice => {
            (&probe::SPLICE, probe::probe_splice, ZCOPY_METHOD_SPLICE)
        }
        Mechanism::ReadWrite => {
            return Some((
                read_write::copy_loop(ctl, dst, src, left, held),
                ZCOPY_METHOD_READ_WRITE,
            ))
        }
    };
    if !avail.usable() {
        return None;
    }
    let o = match m {
        Mechanism::CopyFileRange => copy_file_range::round_loop(ctl, dst, None, src, None, left),
        Mechanism::SendFile => sendfile::send_loop(ctl, dst, src, None, left, held),
        Mechanism::DirectSplice => splice::direct(ctl, dst, src, left, held),
        _ => splice::through_pool(ctl, dst, src, left, held),
    };
    avail.learn(o.errno(), probe);
    Some((o, method))
}

/// Carries out a plan. The total adds up every mechanism's bytes; the
/// method is the one that moved the last bytes (none moved: the last one
/// tried).
fn run(
    ctl: &mut Control,
    plan: Plan,
    dst: i32,
    src: i32,
    mut remain: i64,
    s: &FdInfo,
    held: &mut Held,
) -> Transfer {
    if plan == Plan::SameFile {
        // Reading and writing one file: stop at the size it had when the
        // call began, or every byte written would be read again.
        // SAFETY: lseek with SEEK_CUR only reads the position.
        let pos = unsafe { libc::lseek(src, 0, libc::SEEK_CUR) };
        remain = remain.min(if pos < 0 { 0 } else { (s.size - pos).max(0) });
    }
    let mut total = Transfer::done(ZCOPY_METHOD_NONE, 0, 0);
    // Invariant: total.written bytes reached dst, and both positions
    // advanced by exactly that much, whichever mechanisms moved them.
    for &m in plan.mechanisms() {
        let Some((o, method)) = attempt(ctl, m, dst, src, remain - total.written, held) else {
            continue;
        };
        total.written += o.written();
        // The mechanism that moved the last bytes; while none moved any,
        // the last one tried.
        if o.written() > 0 || total.written == 0 {
            total.method = method;
        }
        match o {
            // The next mechanism takes over where this one stopped.
            Outcome::Fallback(..) if remain > total.written => continue,
            Outcome::Fallback(0, _) => total.error = 0,
            _ => total.error = o.errno(),
        }
        break;
    }
    total
}
