//! The kinds of export (the table at the top of mod.rs): for each, how
//! the Rust side's answer becomes the C return value and errno, and what C
//! gets after a panic. One type per row, so that an export names its
//! convention once, in its call to `boundary`.

use super::{set_errno, Kind, ZCOPY_EPANIC};
use crate::relay::RelayResult;
use crate::sys::transfer::Transfer;
use std::marker::PhantomData;

/// A transfer: a zcopy_result, errno == `error` on every return. Carries
/// the call's method, which a panic's result names.
pub(crate) struct Transfers(pub i32);

impl Kind for Transfers {
    type Body = Transfer;
    type Out = Transfer;
    fn out(self, t: Transfer) -> Transfer {
        set_errno(t.error);
        t
    }
    fn panicked(self) -> Transfer {
        let m = self.0;
        self.out(Transfer::done(m, 0, ZCOPY_EPANIC))
    }
}

/// A two-way relay: a zcopy_relay_result, errno == `error` on every return.
pub(crate) struct Relays;

impl Kind for Relays {
    type Body = RelayResult;
    type Out = RelayResult;
    fn out(self, r: RelayResult) -> RelayResult {
        set_errno(r.error);
        r
    }
    fn panicked(self) -> RelayResult {
        self.out(RelayResult::failed(ZCOPY_EPANIC, -1))
    }
}

/// A constructor: the new object boxed and handed to C as its handle
/// (released by the matching _free), or NULL with errno the reason.
pub(crate) struct Handle<T>(PhantomData<fn() -> T>);

impl<T> Handle<T> {
    /// The kind for a constructor of `T`.
    pub(crate) fn new() -> Handle<T> {
        Handle(PhantomData)
    }
}

impl<T> Kind for Handle<T> {
    type Body = Result<T, i32>;
    type Out = *mut T;
    fn out(self, r: Result<T, i32>) -> *mut T {
        match r {
            Ok(v) => Box::into_raw(Box::new(v)),
            Err(e) => {
                set_errno(e);
                std::ptr::null_mut()
            }
        }
    }
    fn panicked(self) -> *mut T {
        self.out(Err(ZCOPY_EPANIC))
    }
}

/// An int status: 0, or the errno value itself (errno set to it too).
pub(crate) struct Status;

impl Kind for Status {
    type Body = Result<(), i32>;
    type Out = i32;
    fn out(self, r: Result<(), i32>) -> i32 {
        match r {
            Ok(()) => 0,
            Err(e) => {
                set_errno(e);
                e
            }
        }
    }
    fn panicked(self) -> i32 {
        self.out(Err(ZCOPY_EPANIC))
    }
}

/// A count: the value (>= 0, errno left alone), or -1 with errno the
/// reason.
pub(crate) struct Count;

impl Kind for Count {
    type Body = Result<i64, i32>;
    type Out = i64;
    fn out(self, r: Result<i64, i32>) -> i64 {
        match r {
            Ok(v) => v,
            Err(e) => {
                set_errno(e);
                -1
            }
        }
    }
    fn panicked(self) -> i64 {
        self.out(Err(ZCOPY_EPANIC))
    }
}

/// The documented exception of the `_ex` engine adds: the id (>= 1), or 0
/// with the reason in `*error` (when not NULL) and in errno; `*error` is 0
/// on success.
pub(crate) struct IdOrError(*mut i32);

impl IdOrError {
    /// The kind for an export whose error goes to `error`.
    ///
    /// # Safety
    /// `error` is NULL or valid for writes of an int32_t until the export
    /// returns.
    pub(crate) unsafe fn new(error: *mut i32) -> IdOrError {
        IdOrError(error)
    }
}

impl Kind for IdOrError {
    type Body = Result<u64, i32>;
    type Out = u64;
    fn out(self, r: Result<u64, i32>) -> u64 {
        let (id, err) = match r {
            Ok(id) => (id, 0),
            Err(e) => {
                set_errno(e);
                (0, e)
            }
        };
        if !self.0.is_null() {
            // SAFETY: non-NULL, and writable as `new`'s caller promised.
            unsafe { self.0.write_unaligned(err) };
        }
        id
    }
    fn panicked(self) -> u64 {
        self.out(Err(ZCOPY_EPANIC))
    }
}

/// A value that cannot fail (errno left alone); after a panic the value
/// given here, with errno ZCOPY_EPANIC.
pub(crate) struct Value<T>(pub T);

impl<T> Kind for Value<T> {
    type Body = T;
    type Out = T;
    fn out(self, v: T) -> T {
        v
    }
    fn panicked(self) -> T {
        set_errno(ZCOPY_EPANIC);
        self.0
    }
}

/// Nothing returned (errno left alone); after a panic, errno ZCOPY_EPANIC.
pub(crate) struct Void;

impl Kind for Void {
    type Body = ();
    type Out = ();
    fn out(self, (): ()) {}
    fn panicked(self) {
        set_errno(ZCOPY_EPANIC);
    }
}
