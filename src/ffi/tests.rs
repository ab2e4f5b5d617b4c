//! What each kind of export answers after a panic (no export can be made
//! to panic from outside, so the kinds are driven through `boundary`
//! directly), and that the panic stops there.

use super::*;
use crate::relay::RelayResult;
use crate::sys::transfer::Transfer;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap()
}

/// Runs `f` at the boundary with a panic inside, errno 0 before.
fn panicking<K: Kind>(kind: K) -> K::Out {
    set_errno(0);
    boundary(kind, || panic!("a bug inside (expected by this test)"))
}

#[test]
fn a_panic_gives_each_kind_its_documented_answer() {
    let t: Transfer = panicking(Transfers(crate::ZCOPY_METHOD_SPLICE));
    assert_eq!(
        (t.written, t.error, t.method, t.handled),
        (0, ZCOPY_EPANIC, 1, true)
    );
    assert_eq!(errno(), ZCOPY_EPANIC);
    let r: RelayResult = panicking(Relays);
    assert_eq!(r, RelayResult::failed(ZCOPY_EPANIC, -1));
    assert_eq!(errno(), ZCOPY_EPANIC);
    assert!(panicking(Handle::<u8>::new()).is_null());
    assert_eq!(errno(), ZCOPY_EPANIC);
    assert_eq!(panicking(Status), ZCOPY_EPANIC);
    assert_eq!(errno(), ZCOPY_EPANIC);
    assert_eq!(panicking(Count), -1);
    assert_eq!(errno(), ZCOPY_EPANIC);
    let mut e = 0;
    // SAFETY: `e` outlives the call.
    assert_eq!(panicking(unsafe { IdOrError::new(&mut e) }), 0);
    assert_eq!((e, errno()), (ZCOPY_EPANIC, ZCOPY_EPANIC));
    assert_eq!(panicking(Value(7u32)), 7);
    assert_eq!(errno(), ZCOPY_EPANIC);
    panicking(Void);
    assert_eq!(errno(), ZCOPY_EPANIC);
}

#[test]
fn answers_without_a_panic_follow_the_table() {
    set_errno(99);
    let h = boundary(Handle::new(), || Ok::<u64, i32>(5));
    // SAFETY: a Box made by Handle's out, freed once.
    assert_eq!(*unsafe { Box::from_raw(h) }, 5);
    assert_eq!(errno(), 99, "a handle made leaves errno");
    assert!(boundary(Handle::<u64>::new(), || Err(libc::EMFILE)).is_null());
    assert_eq!(errno(), libc::EMFILE);
    set_errno(99);
    assert_eq!(boundary(Count, || Ok(3)), 3);
    assert_eq!(boundary(Status, || Ok(())), 0);
    assert_eq!(errno(), 99, "a count and a status that succeed leave errno");
    let mut e = -1;
    // SAFETY: `e` outlives the call.
    assert_eq!(boundary(unsafe { IdOrError::new(&mut e) }, || Ok(9)), 9);
    assert_eq!((e, errno()), (0, 99), "an id: *error 0, errno left");
    // SAFETY: NULL is allowed.
    assert_eq!(
        boundary(unsafe { IdOrError::new(std::ptr::null_mut()) }, || Err(
            libc::EEXIST
        )),
        0
    );
    assert_eq!(errno(), libc::EEXIST);
    let t = boundary(Transfers(2), || Transfer::done(2, 10, 0));
    assert_eq!(
        (t.written, errno()),
        (10, 0),
        "a transfer sets errno to its error, 0 too"
    );
}
