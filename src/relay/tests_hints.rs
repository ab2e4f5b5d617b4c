//! ReadHints (what the tokio driver tells a step): a trusted short read(2)
//! ends the step, and only the step it happened in.

use super::tests::{close, pair, read_now, write};
use super::*;

const TRUST: ReadHints = ReadHints {
    short_is_final: true,
    maybe_urgent: false,
};

/// Sends `data` on `fd` with one fd attached (SCM_RIGHTS): a unix stream
/// read(2) stops after such a message, short, with later bytes queued.
fn send_with_fd(fd: i32, data: &[u8], passed: i32) {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // u64s: aligned for the cmsghdr.
    let mut space = [0u64; 8];
    // SAFETY: msghdr is plain data; the pointers set below stay live for
    // the sendmsg call, and the control buffer has room for one fd.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = space.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(4) as usize;
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(4) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<i32>(), passed);
        assert_eq!(libc::sendmsg(fd, &msg, 0), data.len() as isize);
    }
}

#[test]
fn a_trusted_short_read_ends_the_step_without_reading_again() {
    let ((a, pa), (b, pb)) = (pair(), pair());
    let mut c = Control::plain();
    // "ab" then "cd" queued, the first read stops after "ab" (its fd).
    let queue = || {
        send_with_fd(pa, b"ab", pa);
        assert_eq!(write(pa, b"cd"), 2);
    };
    queue();
    let mut r = Relay::new(a, b, false);
    r.set_read_hints(TRUST, TRUST);
    assert!(matches!(r.step(&mut c), Progress::Wait(w) if w.a & libc::POLLIN != 0));
    assert_eq!(
        read_now(pb).0,
        b"ab",
        "the step read again after a short read"
    );
    // Unhinted (as everywhere else) the step reads until EAGAIN.
    r.set_read_hints(ReadHints::default(), ReadHints::default());
    assert!(matches!(r.step(&mut c), Progress::Wait(_)));
    assert_eq!(read_now(pb).0, b"cd");
    queue();
    assert!(matches!(r.step(&mut c), Progress::Wait(_)));
    assert_eq!(read_now(pb).0, b"abcd");
    close(&[a, pa, b, pb]);
}

#[test]
fn bytes_held_from_a_short_read_do_not_skip_a_later_steps_read() {
    let ((a, pa), (b, pb)) = (pair(), pair());
    let mut r = Relay::new(a, b, false);
    r.set_read_hints(TRUST, TRUST);
    let mut c = Control::plain();
    // b's peer does not read: fill b until it refuses.
    let filler = vec![7u8; 1 << 16];
    let mut stuffed = 0;
    while write(b, &filler) > 0 {
        stuffed += 1;
    }
    assert!(stuffed > 0);
    // A short read whose bytes dst cannot take: held, waiting for b.
    assert_eq!(write(pa, b"hello"), 5);
    let want = Interest {
        a: 0,
        b: libc::POLLIN | libc::POLLOUT,
    };
    assert_eq!(r.step(&mut c), Progress::Wait(want));
    assert_eq!(r.held(), 5);
    // Meanwhile more came (its readiness was seen after that read), and b
    // has room again: the step that delivers "hello" reads "world" too.
    assert_eq!(write(pa, b"world"), 5);
    let mut out = read_now(pb).0;
    let ready = Interest {
        a: libc::POLLIN,
        b: libc::POLLOUT,
    };
    assert!(matches!(r.step_ready(&mut c, ready), Progress::Wait(_)));
    out.extend(read_now(pb).0);
    assert!(
        out.ends_with(b"helloworld"),
        "the step stopped before world"
    );
    assert_eq!(r.counts().0, 10);
    close(&[a, pa, b, pb]);
}
