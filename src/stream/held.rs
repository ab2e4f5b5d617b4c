//! `Held`: bytes taken from src and not yet delivered to dst. The one
//! model of bytes in flight: a relay's direction keeps one between steps;
//! a blocking call's loop leaves one for its caller (the call runner,
//! `call::runner`), which alone decides whether the next call on the pair
//! gets them (`call::inflight`) or they are dropped with the error.

use crate::internal::pool::{self, Pipe};

/// What was taken from src and not yet delivered, in stream order.
#[derive(Debug, Default)]
pub enum Held {
    /// Nothing in flight.
    #[default]
    Nothing,
    /// Bytes in a pooled pipe (it counts them: `pipe.held()`).
    Pipe(Pipe),
    /// `bytes[at..]` still to write.
    Buffer {
        /// The bytes taken.
        bytes: Vec<u8>,
        /// How many of them were delivered already.
        at: usize,
    },
}

impl Held {
    /// A buffer holding a copy of `bytes`; Nothing when there are none.
    pub(crate) fn copy_of(bytes: &[u8]) -> Held {
        if bytes.is_empty() {
            return Held::Nothing;
        }
        Held::Buffer {
            bytes: bytes.to_vec(),
            at: 0,
        }
    }

    /// The pipe's bytes; Nothing (and the pipe back to the pool) when it
    /// holds none.
    pub(crate) fn pipe(p: Pipe) -> Held {
        if p.held() == 0 {
            pool::release(p);
            return Held::Nothing;
        }
        Held::Pipe(p)
    }

    /// Bytes not yet delivered.
    pub(crate) fn len(&self) -> usize {
        match self {
            Held::Nothing => 0,
            Held::Pipe(p) => p.held(),
            Held::Buffer { bytes, at } => bytes.len() - at,
        }
    }

    /// Nothing to deliver.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the value out, leaving Nothing.
    pub(crate) fn take(&mut self) -> Held {
        std::mem::take(self)
    }

    /// Whether this process may use it: a pipe inherited over fork() is
    /// shared with the parent (its bytes belong to the parent's stream).
    pub(crate) fn owned_by_this_process(&self) -> bool {
        match self {
            Held::Pipe(p) => pool::owned_by_this_process(p),
            _ => true,
        }
    }

    /// For a dst that refuses splice: the pipe's bytes read back into a
    /// buffer (our own non-blocking pipe: one read loop drains it), the
    /// empty pipe back to the pool. A buffer stays as it is. Err(errno)
    /// cannot happen for our own pipe; the bytes are then lost with it.
    pub(crate) fn into_buffer(self) -> Result<Held, i32> {
        let Held::Pipe(mut pipe) = self else {
            return Ok(self);
        };
        let mut bytes = vec![0u8; pipe.held()];
        let mut got = 0;
        // Invariant: bytes[..got] left the pipe, in order.
        while got < bytes.len() {
            match pipe.read_into(&mut bytes[got..]) {
                Ok(n) if n > 0 => got += n,
                r => {
                    pool::release(pipe);
                    return Err(r.err().unwrap_or(libc::EIO));
                }
            }
        }
        pool::release(pipe);
        Ok(Held::Buffer { bytes, at: 0 })
    }

    /// Drops the bytes: a pipe holding some is closed (never lent again,
    /// counted as discarded by the pool).
    pub(crate) fn discard(self) {
        if let Held::Pipe(p) = self {
            pool::release(p);
        }
    }
}
