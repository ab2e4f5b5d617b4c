//! When a direction copies and when it splices: the small-message copy
//! mode.
//!
//! splice(2) moves page references, not bytes: a take hands the socket's
//! pages to a pipe buffer, the delivery hands them on to dst's socket
//! buffer. For a bulk stream that saves copying every byte twice. For a
//! 64-byte message it saves copying 64 bytes and pays the pipe and page
//! bookkeeping instead, in both calls, plus a pool borrow per step; a
//! read(2) + write(2) of the same bytes through the thread's copy buffer is
//! the same number of system calls and cheaper ones. Measured with a
//! ping-pong of 32 connections through the engine, one thread, relay CPU
//! per round trip, copying against splicing every message (bench/results/
//! engine.md, "Copy mode"): 64 B -8 %, 4 KiB -2 %, 8 KiB +3 %, 16 KiB
//! +5 %, 64 KiB +23 %. Hence the 8 KiB chunk: below it copying is cheaper.
//!
//! So a direction copies while its takes are small and splices once data
//! arrives faster than it leaves, as HAProxy's splice-auto does. The
//! decisions, with hysteresis so that a stream near the edge does not flip
//! on every take:
//!
//! | mode | take | next mode |
//! | --- | --- | --- |
//! | Copy | filled its COPY_CHUNK (more was waiting) | Splice |
//! | Copy | shorter | Copy |
//! | Splice | at least SMALL_SPLICE bytes | Splice (the run of small ones starts over) |
//! | Splice | shorter, SMALL_RUN-th in a row | Copy |
//! | Splice | shorter, fewer in a row | Splice |
//!
//! EAGAIN, EOF and the fallbacks leave the mode as it is. A direction
//! starts in Copy: a relay that only ever moves small messages never
//! borrows a pipe.
//!
//! How a take in Splice mode goes, by the pipe it would use:
//!
//! | pipe | take |
//! | --- | --- |
//! | the pool lends small ones lately (`pool::lends_small`) | copy, BULK_COPY_CHUNK, no pipe borrowed |
//! | borrowed, capacity below `pool::SMALL_PIPE` (64 KiB) | give it back empty, copy, BULK_COPY_CHUNK |
//! | borrowed, 64 KiB or more | splice, at most its capacity |
//!
//! Either copy take moves the mode as a splice take of that many bytes
//! would. Why: a pipe the kernel would not grow (past pipe-user-pages-soft
//! every new pipe is 8 KiB and F_SETPIPE_SZ is refused) makes a splice
//! take and its delivery two system calls per 8 KiB; a read(2) + write(2)
//! of 64 KiB is two per 64 KiB and copies each byte twice. Measured with
//! the engine (2 threads) as an unprivileged user past the limit, old
//! (splice through the 8 KiB pipes) against new (bench/results/
//! pipesoft.md, "Copying instead of 8 KiB pipes"), two runs: iperf3 -P 8
//! 14.5 -> 20.4 and 14.6 -> 22.7 Gbit/s at 0.60 -> 0.34 and 0.60 -> 0.30
//! CPU s/GB; engine_hold (10 000 relays, 64 KiB messages) 0.47 -> 0.33
//! and 0.47 -> 0.30 s/GB. With pipe pages free nothing changes (same
//! system calls; 1 MiB splices at 0.15-0.27 s/GB stay cheaper than 64 KiB
//! copies, so a large pipe is still spliced through). The rule keys on
//! the real capacity whatever made it small, so a pipe size below 64 KiB
//! set with zcopy_pool_configure also copies: such a size bounds what one
//! splice moves just the same.

/// Most bytes one copy-mode read(2) takes. A read that fills it means src
/// had at least this much waiting: time to splice. 8 KiB: where copying
/// stopped being cheaper than splicing (above); 16 KiB was compared too.
pub(super) const COPY_CHUNK: usize = 8 * 1024;

/// Most bytes one copy take reads in place of a splice through a small
/// pipe (the table above); bounded by the thread's copy buffer (256 KiB),
/// and what dst does not take at once is kept, so it also bounds a
/// direction's Held::Buffer, as the fallback's chunk does.
pub(super) const BULK_COPY_CHUNK: usize = 64 * 1024;

/// A splice take shorter than this counts as small.
pub(super) const SMALL_SPLICE: usize = COPY_CHUNK;

/// Small splice takes in a row that switch a direction back to copying: a
/// bulk stream has its short takes (the tail of a burst) between long
/// ones, an interactive one has only short ones.
pub(super) const SMALL_RUN: u8 = 4;

/// How a direction takes from src (see the table above).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// read(2) into the thread's copy buffer, at most COPY_CHUNK bytes.
    Copy,
    /// splice(2) into a pooled pipe; `small` takes in a row were small.
    Splice { small: u8 },
}

impl Mode {
    /// The mode after a copy take of `n` bytes (n > 0).
    pub(super) fn after_copy(self, n: usize) -> Mode {
        if n >= COPY_CHUNK {
            Mode::Splice { small: 0 }
        } else {
            Mode::Copy
        }
    }

    /// The mode after a splice take of `n` bytes (n > 0).
    pub(super) fn after_splice(self, n: usize) -> Mode {
        let small = match self {
            Mode::Splice { small } => small,
            Mode::Copy => 0,
        };
        match n >= SMALL_SPLICE {
            true => Mode::Splice { small: 0 },
            false if small + 1 >= SMALL_RUN => Mode::Copy,
            false => Mode::Splice { small: small + 1 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_switches_to_splice_only_on_a_full_chunk() {
        assert_eq!(Mode::Copy.after_copy(COPY_CHUNK - 1), Mode::Copy);
        assert_eq!(Mode::Copy.after_copy(COPY_CHUNK), Mode::Splice { small: 0 });
    }

    #[test]
    fn splice_switches_back_after_a_run_of_small_takes() {
        let mut m = Mode::Splice { small: 0 };
        for _ in 1..SMALL_RUN {
            m = m.after_splice(SMALL_SPLICE - 1);
            assert!(matches!(m, Mode::Splice { .. }));
        }
        // A large take in between starts the run over.
        assert_eq!(m.after_splice(SMALL_SPLICE), Mode::Splice { small: 0 });
        assert_eq!(m.after_splice(1), Mode::Copy);
    }
}
